"""
The explorer's view, computed without the browser
=================================================

``landscape explore`` (extra ``explore``) serves a page where one clicks starts on a
landscape, picks optimizers and watches them roll. Everything it shows comes from
:mod:`landscape.explore`, which needs no browser: here the same view is computed and drawn
with matplotlib (the still the page exports as PNG when kaleido is absent).

A quadratic valley of condition number 30, 60 steps at learning rate 0.5 from the same
start: gradient descent crosses the steep direction at once and then creeps along the flat
floor; the heavy ball (momentum 0.7) swings across the walls but rolls down the floor,
ending about 300 times lower, as the lecture notes describe momentum: a ball rolling, fast on
flat ground.
"""

import matplotlib.pyplot as plt

from landscape import explore

valley = explore.make_landscape("valley", condition=30.0)
optimizers = {"gd": {"lr": 0.5}, "momentum": {"lr": 0.5, "beta": 0.7}}
view = explore.compute_view(valley, [(-1.8, 1.2)], optimizers, steps=60)
for run in view.runs:
    print(f"{run.label}: ends at ({run.ending.theta[0]:.4f}, {run.ending.theta[1]:.4f}), "
          f"{run.ending.text}")
explore.still_figure(view)
plt.show()

# %%
# Where each start ends: the basins map
# -------------------------------------
# On the six-hump camel, gradient descent from every start of a 21 x 21 grid: each start is
# coloured by the minimum its run reaches (the page's "basins map" button does the same, in
# the background, with a progress bar and a cancel button).
camel = explore.make_landscape("six_hump_camel")
gd = explore.make_optimizer("gd", {"lr": 0.02})
basins = explore.basins_map(camel, gd, steps=300, resolution=21)
view = explore.compute_view(camel, [(-1.5, 0.8)], {"gd": {"lr": 0.02}}, steps=300,
                            basins=basins)
explore.still_figure(view)
plt.show()
