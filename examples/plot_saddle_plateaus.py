"""
Saddle points: the plateaus of a linear network
===============================================

A two-layer linear network ``x -> W2 W1 x`` learning a map with singular values 3, 1 and
0.3 from a small initialization learns one mode at a time (Saxe et al. 2014). Between
modes gradient descent sits near a saddle point: the loss is flat and the Hessian has a
negative eigenvalue, recorded here along the run with the :func:`~landscape.min_eigenvalue`
metric. It escapes along that negative curvature, and the last plateau ends in a minimum.
"""

import matplotlib.pyplot as plt
import numpy as np

import landscape as ls
from landscape import functions

rng = np.random.default_rng(0)
A = np.linalg.qr(rng.normal(size=(3, 3)))[0] @ np.diag([3.0, 1.0, 0.3])
X = np.eye(3) * np.sqrt(3)  # whitened inputs
net = functions.deep_linear((3, 3, 3), X=X, Y=X @ A.T)
theta0 = 1e-3 * rng.normal(size=net.dim)
traj = ls.run(net, theta0, ls.gd(0.05), steps=700, record_every=5,
              metrics={"lambda_min": ls.min_eigenvalue})
print(f"final loss {traj.loss[-1]:.2e}, smallest eigenvalue there "
      f"{traj.metrics['lambda_min'][-1]:.2e}")

# %%
# Plateaus of the loss (left) line up with negative curvature (right).
fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.8), sharex=True)
ax1.semilogy(traj.steps, traj.loss)
ax1.set(xlabel="step", ylabel="loss", title="loss: one plateau per mode")
ax2.plot(traj.steps, traj.metrics["lambda_min"])
ax2.axhline(0, color="grey", linewidth=0.8)
ax2.set(xlabel="step", ylabel="smallest Hessian eigenvalue", title="negative curvature")
fig.tight_layout()
plt.show()
