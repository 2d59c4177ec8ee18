"""
Which plane shows the path? Random against PCA directions
=========================================================

A training path in thousands of dimensions lies almost entirely off a random plane: two
random directions are nearly orthogonal to everything, so the projected path is a shadow
(Li et al. 2018, Sec. 7). :func:`~landscape.project` reports the *residual* of each point,
the part of its distance from the center that the plane does not hold: near 1 on a random
plane. The plane of the path's two principal components (:func:`~landscape.pca_directions`)
holds most of it, and its explained variance says how much.
"""

import matplotlib.pyplot as plt

import landscape as ls
from landscape import data, plot

X, y = data.blobs(n=300, centers=3, rng=0)
model = ls.MLP([2, 32, 32, 3], activation="tanh", output="softmax", loss="cross_entropy")
objective = model.objective(X, y)
traj = ls.run(objective, model.init(rng=0), ls.gd(0.2), steps=600, batch_size=30, rng=0,
              record_every=10)
center = traj.thetas[-1]

planes = {
    "random (filter-normalized)": ls.filter_normalized_directions(objective, center, rng=0),
    "PCA of the path": ls.pca_directions(traj),
}
fig, axes = plt.subplots(1, 2, figsize=(10, 4))
for ax, (name, directions) in zip(axes, planes.items()):
    path = ls.project(traj, center, directions)
    span = 1.2 * abs(path.coords).max()
    surface = ls.plane(objective, center, directions, span=span, resolution=31)
    plot.plot_contour(surface, ax=ax, log=True, levels=25)
    plot.plot_trajectories(path, ax=ax, legend=False)
    ax.set(title=f"{name}\nlargest residual {path.residual.max():.2f}")

explained = planes["PCA of the path"].explained_variance
print(f"the two components explain {explained.sum():.1%} of the path's variance")
fig.tight_layout()
plt.show()
