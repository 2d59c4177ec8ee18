"""
Top Hessian eigenvalues and the spectral density of a digits MLP
================================================================

The Hessian of a network is never formed: :func:`~landscape.hessian_operator` is a SciPy
``LinearOperator`` whose products are exact Hessian-vector products. Lanczos
(:func:`~landscape.eigenpairs`) finds the largest eigenvalues in a few dozen products, and
stochastic Lanczos quadrature (:func:`~landscape.spectral_density`) estimates the density
of all of them. A trained classifier shows the usual picture: a bulk near zero and a few
outliers, about one per class (Sagun et al. 2017; Ghorbani et al. 2019).
"""

import matplotlib.pyplot as plt
import numpy as np

import landscape as ls
from landscape import data, plot

X, y = data.digits()
X, y = X[:600], y[:600]
model = ls.MLP([64, 24, 10], activation="tanh", output="softmax", loss="cross_entropy")
objective = model.objective(X, y)
traj = ls.run(objective, model.init(rng=0), ls.adam(0.01), steps=300, record_every=300)
theta = traj.thetas[-1]
print(f"{objective.dim} parameters, final loss {traj.loss[-1]:.4f}")

H = ls.hessian_operator(objective, theta)
top = ls.eigenpairs(H, k=12, which="LA", rng=0)
print("top eigenvalues:", np.round(np.sort(top.eigenvalues)[::-1], 3))
print(f"Hessian-vector products: {top.n_hvp}")

# %%
# The density of the whole spectrum, with the top eigenvalues for comparison.
density = ls.spectral_density(H, n_probes=4, m=60, rng=0)
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(9, 3.8))
plot.plot_spectrum(top, ax=ax1)
ax1.set(title="top 12 eigenvalues (Lanczos)")
plot.plot_density(density, ax=ax2)
ax2.set(xlabel="eigenvalue", title="spectral density (SLQ)")
fig.tight_layout()
plt.show()
