"""
Hessian, Gauss-Newton, Fisher and empirical Fisher of a digits MLP
==================================================================

Four curvature matrices of one network at one point, each a SciPy ``LinearOperator`` of
exact products (:mod:`landscape.curvature`): the Hessian, the generalized Gauss-Newton
matrix ``J^T H_out J``, the Fisher of the model's predictive distribution (for softmax
cross-entropy the same matrix as the GGN) and the empirical Fisher, the mean outer product
of the per-sample gradients. Lanczos gives each one's top eigenvalues, and the block
restriction gives each layer's: the first layer is the sharpest, and the empirical Fisher,
built from the gradients of a nearly fitted model, is far flatter than the Fisher.
"""

import matplotlib.pyplot as plt
import numpy as np

import landscape as ls
from landscape import data, plot

X, y = data.digits()
model = ls.MLP([64, 24, 10], activation="tanh", output="softmax", loss="cross_entropy")
objective = model.objective(X[:600], y[:600])
traj = ls.run(objective, model.init(rng=0), ls.adam(0.01), steps=300, record_every=300)
theta = traj.thetas[-1]

operators = {"Hessian": ls.hessian_operator(objective, theta),
             "GGN": ls.ggn_operator(objective, theta),
             "Fisher": ls.fisher_operator(objective, theta),
             "empirical Fisher": ls.empirical_fisher_operator(objective, theta)}
tops = {name: np.sort(ls.eigenpairs(op, k=8, rng=0).eigenvalues)[::-1]
        for name, op in operators.items()}
for name, values in tops.items():
    print(f"{name:>16}: {np.round(values[:4], 4)}")

# %%
# The top eigenvalues by rank, and each layer's top eigenvalue and trace
# (:func:`~landscape.layer_curvature`, Hutch++ traces with their standard errors).
layers = {name: ls.layer_curvature(op, objective, rng=0)
          for name, op in operators.items() if name != "Fisher"}
print(layers["Hessian"].table())

fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4.6), layout="constrained")
styles = {"Hessian": "o", "GGN": "s", "Fisher": "x", "empirical Fisher": "^"}
for name, values in tops.items():
    ax1.plot(np.arange(1, values.size + 1), values, styles[name], label=name, mfc="none")
ax1.set(yscale="log", xlabel="rank", ylabel="eigenvalue", title="Top 8 eigenvalues")
ax1.legend(loc="upper center", bbox_to_anchor=(0.5, -0.18), ncols=2)
plot.plot_layer_curvature(layers, ax=ax2, log=True)
ax2.set(title="Each layer's top eigenvalue")
ax2.legend()
plt.show()
