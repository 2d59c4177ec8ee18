"""
The first picture: a trained network and the plane around it
=============================================================

Train a small MLP on two moons with heavy-ball momentum, draw its loss on a plane of two
filter-normalized directions through the solution (Li et al. 2018), and put the training
path on the plane. The path is projected by least squares; its *residual* (how much of each
point lies off the plane) says how faithful the picture is.
"""

import matplotlib.pyplot as plt

import landscape as ls
from landscape import data, plot

X, y = data.moons(n=200, noise=0.1, rng=0)
model = ls.MLP([2, 16, 16, 2], activation="tanh", output="softmax", loss="cross_entropy")
objective = model.objective(X, y)  # an Objective of a flat theta, shape (n_params,)
traj = ls.run(objective, model.init(rng=0), ls.momentum(0.1, 0.9), steps=1500,
              batch_size=32, rng=0, record_every=25)
print(f"{objective.dim} parameters, loss {traj.loss[0]:.3f} -> {traj.loss[-1]:.4f}")

# %%
# The plane through the final point, along two filter-normalized directions.
center = traj.thetas[-1]
directions = ls.filter_normalized_directions(objective, center, rng=0)
surface = ls.plane(objective, center, directions, span=1.0, resolution=31)
path = ls.project(traj, center, surface.directions)
print(f"largest projection residual: {path.residual.max():.2f}")

fig, ax = plt.subplots(figsize=(5.5, 4.5))
contours = plot.plot_contour(surface, ax=ax, log=True, levels=30)
plot.add_colorbar(contours, ax=ax, label="loss")
plot.plot_trajectories(path, ax=ax)
ax.set(xlabel="direction 1", ylabel="direction 2", title="moons MLP: loss around the solution")
plt.show()

# %%
# The residual is close to 1 at the start: a random plane holds almost none of the path,
# so the drawn path is a shadow. :ref:`sphx_glr_auto_examples_plot_pca_plane.py` shows the
# plane that does hold it.
