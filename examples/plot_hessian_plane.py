"""
Hessian directions against random ones
======================================

Random directions see the *average* curvature of the loss; the top eigenvectors of the
Hessian see the largest. On a trained digits classifier the two pictures differ by orders
of magnitude: along random directions the minimum looks wide and flat, along the top
eigenvectors it is a narrow valley. Both planes here have the same span, in the same
units (unit-norm directions).
"""

import matplotlib.pyplot as plt
import numpy as np

import landscape as ls
from landscape import data, plot

X, y = data.digits()
model = ls.MLP([64, 16, 10], activation="tanh", output="softmax", loss="cross_entropy")
objective = model.objective(X[:500], y[:500])
traj = ls.run(objective, model.init(rng=0), ls.adam(0.01), steps=300, record_every=300)
center = traj.thetas[-1]

top = ls.eigenpairs(ls.hessian_operator(objective, center), k=2, which="LA", rng=0)
planes = {"random directions": ls.random_directions(objective, center, rng=0),
          "top-2 Hessian eigenvectors": ls.hessian_directions(top)}
fig, axes = plt.subplots(1, 2, figsize=(10, 4))
for ax, (name, directions) in zip(axes, planes.items()):
    surface = ls.plane(objective, center, directions, span=2.0, resolution=31)
    contours = plot.plot_contour(surface, ax=ax, levels=np.geomspace(1e-3, 10, 25), log=True)
    ax.set(title=name, xlabel="direction 1", ylabel="direction 2")
plot.add_colorbar(contours, ax=axes[1], label="loss")
print("top eigenvalues:", np.round(np.sort(top.eigenvalues)[::-1], 3))
plt.show()
