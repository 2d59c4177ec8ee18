"""
GD, momentum and Adam from many starts: their basins
====================================================

Where a run ends depends on where it starts and on the optimizer. :func:`~landscape.run_many`
runs every optimizer from every start of a grid over Himmelblau's function, and
:meth:`Runs.basins <landscape.Runs.basins>` matches each end point to the known critical
points. Each panel colours a start by the minimum its run reached: gradient descent's basins
are bounded by the saddles' stable curves; momentum and Adam carry runs across them.
"""

import matplotlib.pyplot as plt
import numpy as np

import landscape as ls
from landscape import functions

himmelblau = functions.himmelblau()
starts = ls.grid_starts(himmelblau.bounds, 19)  # (361, 2), over [-5, 5]^2
optimizers = {"GD": ls.gd(0.01), "momentum": ls.momentum(0.01, 0.9), "Adam": ls.adam(0.1)}
runs = ls.run_many(himmelblau, starts, optimizers, steps=150, record_every=150)

# %%
# One basin map per optimizer: a start's colour is the minimum its run reached (grey:
# none within the tolerance, e.g. a run still moving or stuck at a saddle).
runs_on = {name: runs.filter(label=name) for name in runs.names}
palette = iter(["tab:blue", "tab:orange", "tab:green", "tab:red"])
colors = [next(palette) if p.kind == "minimum" else "lightgrey"
          for p in himmelblau.critical_points] + ["lightgrey"]  # the last: label -1
fig, axes = plt.subplots(1, 3, figsize=(11, 3.9), sharey=True)
for ax, (name, subset) in zip(axes, runs_on.items()):
    basins = subset.basins(himmelblau.critical_points, tol=1e-2)
    ax.scatter(*subset.starts.T, c=[colors[label] for label in basins.labels], s=14, marker="s")
    reached = np.mean([colors[label] != "lightgrey" for label in basins.labels])
    ax.set(title=f"{name}: {reached:.0%} reached a minimum", xlabel="x", aspect="equal")
axes[0].set_ylabel("y")
fig.tight_layout()
plt.show()
