"""
Your own function as an objective
=================================

Any ``f(theta) -> float`` becomes an :class:`~landscape.Objective` with
:func:`~landscape.from_function`. Missing derivatives come from central finite
differences; give the gradient when you have it, and check it with
:func:`~landscape.check_derivatives`. Then every tool of the package applies: here gradient
descent runs on a tilted double well and its path is drawn on the exact loss surface.
"""

import matplotlib.pyplot as plt
import numpy as np

import landscape as ls
from landscape import plot


def double_well(theta):
    x, y = theta
    return (x**2 - 1) ** 2 + 0.5 * y**2 + 0.3 * x


def double_well_grad(theta):
    x, y = theta
    return np.array([4 * x * (x**2 - 1) + 0.3, y])


objective = ls.from_function(double_well, dim=2, grad=double_well_grad)
check = ls.check_derivatives(objective, np.array([0.3, -0.7]), rng=0)
print(f"gradient error {check.grad_error:.1e}, HVP error {check.hvp_error:.1e}")

# %%
# Two starts on either side of the barrier end in different wells.
starts = np.array([[0.2, 1.5], [-0.2, -1.5]])
runs = [ls.run(objective, theta0, ls.gd(0.05), steps=200) for theta0 in starts]

# A plane through the origin along the coordinate axes shows the function itself.
surface = ls.plane(objective, np.zeros(2), np.eye(2), span=((-1.8, 1.8), (-2, 2)),
                   resolution=(61, 51))
fig, ax = plt.subplots(figsize=(5.5, 4.5))
contours = plot.plot_contour(surface, ax=ax, levels=30)
plot.add_colorbar(contours, ax=ax, label="f")
plot.plot_trajectories([ls.project(t, np.zeros(2), np.eye(2)) for t in runs], ax=ax)
ax.set(xlabel="x", ylabel="y", title="gradient descent in a tilted double well")
plt.show()
