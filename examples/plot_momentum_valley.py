"""
Momentum in an ill-conditioned valley
=====================================

A quadratic valley with curvatures 1 and 100 (condition number ``kappa = 100``): gradient
descent at its best step ``2 / (L + mu)`` crawls along the valley floor, while heavy-ball
momentum at Polyak's setting converges about ``sqrt(kappa)`` times faster per step, and
Nesterov's method damps the zig-zag across the valley.
"""

import matplotlib.pyplot as plt
import numpy as np

import landscape as ls
from landscape import functions, plot

mu, L = 1.0, 100.0
valley = functions.quadratic([mu, L], rotate=False)  # 1/2 (mu x^2 + L y^2)
theta0 = np.array([-3.0, 0.3])  # far along the floor, a little up the steep side
beta = ((np.sqrt(L) - np.sqrt(mu)) / (np.sqrt(L) + np.sqrt(mu))) ** 2
optimizers = {
    "GD": ls.gd(2 / (L + mu)),
    "heavy ball": ls.momentum(4 / (np.sqrt(L) + np.sqrt(mu)) ** 2, beta),
    "Nesterov": ls.nesterov(1 / L, (np.sqrt(L) - np.sqrt(mu)) / (np.sqrt(L) + np.sqrt(mu))),
}
runs = {name: ls.run(valley, theta0, opt, steps=300, loss_tol=1e-10)
        for name, opt in optimizers.items()}
for name, traj in runs.items():
    print(f"{name:10s} {traj.status} after {traj.steps[-1]} steps")

# %%
# The paths on the valley (left) and the loss per step (right).
surface = ls.plane(valley, np.zeros(2), np.eye(2), span=((-3.5, 1), (-1.2, 1.2)),
                   resolution=(61, 41))
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 4))
plot.plot_contour(surface, ax=ax1, log=True, levels=25)
plot.plot_trajectories([ls.project(t, np.zeros(2), np.eye(2), label=name)
                        for name, t in runs.items()], ax=ax1)
ax1.set(xlabel="x (curvature 1)", ylabel="y (curvature 100)", title="paths from one start")
for name, traj in runs.items():
    ax2.semilogy(traj.steps, traj.loss, label=name)
ax2.set(xlabel="step", ylabel="loss", title="loss per step")
ax2.legend()
fig.tight_layout()
plt.show()
