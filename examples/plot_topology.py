"""
Which minima are basins: persistence and the merge tree
=======================================================

A contour plot shows bumps; sublevel-set persistence says which are basins and how deep.
:func:`~landscape.merge_tree` finds every local minimum of a sampled loss, the loss at
which its basin spills into a deeper one (its *death*; the depth is death minus birth) and
which basin it joins. Here Himmelblau's function is sampled with a little noise: the noise
adds shallow minima, and a threshold on the depth leaves the function's four, joining at
its saddle values 13.3, 67.7 and 104.0.
"""

import matplotlib.pyplot as plt
import numpy as np

import landscape as ls
from landscape import functions, plot

f = functions.himmelblau()
surface = ls.plane(f, np.zeros(2), np.eye(2), span=5.0, resolution=81)
noise = np.random.default_rng(0).normal(0.0, 0.5, surface.values.shape)
noisy = ls.Surface(surface.center, surface.directions, surface.axes, surface.values + noise,
                   {}, surface.meta)
tree = ls.merge_tree(noisy)
print(f"{tree.count()} minima; {tree.count(threshold=3.0)} deeper than 3")
print("deaths of the deep ones:", np.round(np.sort(tree.death[tree.persistence > 3.0]), 1))
print("bars agree with gudhi's:", len(ls.persistence_diagram(noisy)) == tree.count())

# %%
# The deep minima and the saddles where their basins join, on the contours; the merge
# tree (grey: shallower than the threshold); the persistence diagram.
fig, (left, middle, right) = plt.subplots(1, 3, figsize=(14, 4.3))
plot.add_colorbar(plot.plot_contour(surface, ax=left, levels=30), ax=left, label="f")
plot.plot_merge_tree_on_plane(tree, ax=left, threshold=3.0)
left.legend(loc="lower left", fontsize=8)
left.set(xlabel="x", ylabel="y", title="minima deeper than 3 and their saddles")
plot.plot_merge_tree(tree, ax=middle, threshold=3.0)
middle.set_title("merge tree")
plot.plot_persistence_diagram(tree, ax=right, threshold=3.0)
right.legend(loc="lower right", fontsize=8)
right.set_title("persistence diagram")
fig.tight_layout()
plt.show()
