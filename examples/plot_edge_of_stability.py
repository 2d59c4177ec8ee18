"""
Sharpness during training: the edge of stability
================================================

On a quadratic, gradient descent with step ``eta`` is stable only where the curvature is
below ``2 / eta``. Cohen et al. (2021) found that full-batch gradient descent on a network
drives the sharpness (the largest Hessian eigenvalue) up to ``2 / eta`` and then hovers
there while the loss keeps falling, no longer monotonically. A runner metric records the
sharpness (by Lanczos on exact Hessian-vector products) at every recorded step.
"""

import matplotlib.pyplot as plt
import numpy as np

import landscape as ls

# Cohen et al.'s small task: 20 points of a Chebyshev polynomial, a 100-unit tanh layer.
x = np.linspace(-1, 1, 20)[:, None]
model = ls.MLP([1, 100, 1], activation="tanh", output="linear", loss="mse",
               bias=[True, False], half_mse=True)
objective = model.objective(x, 4 * x**3 - 3 * x)
theta0 = model.init(rng=0, gain=[1.9, 1.0])
runs = {lr: ls.run(objective, theta0, ls.gd(lr), steps=round(400 / lr),
                   record_every=round(2 / lr), metrics={"sharpness": ls.sharpness},
                   diverge_factor=None) for lr in (0.2, 0.3, 0.5)}

# %%
# Loss (left) and sharpness (right) against ``eta x step`` (gradient-flow time); the
# dashed lines are ``2 / eta``.
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8))
for lr, traj in runs.items():
    line, = ax1.semilogy(lr * traj.steps, traj.loss, label=f"eta = {lr}")
    ax2.plot(lr * traj.steps, traj.metrics["sharpness"], color=line.get_color())
    ax2.axhline(2 / lr, color=line.get_color(), linestyle="--")
ax1.set(xlabel="eta x step", ylabel="loss", title="full-batch GD")
ax1.legend()
ax2.set(xlabel="eta x step", ylabel="largest Hessian eigenvalue", title="sharpness and 2 / eta")
fig.tight_layout()
plt.show()
