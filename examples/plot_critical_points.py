"""
All critical points of a 2-D function, classified
=================================================

:func:`~landscape.find_critical_points` runs Newton's method on the gradient norm from
many starts, keeps the points where the gradient vanishes, removes duplicates and
classifies each by the signs of its Hessian eigenvalues: a minimum, a saddle (the index
counts the negative eigenvalues), a maximum, or degenerate. Himmelblau's function has four
minima, four saddles and one maximum; every one is found from a grid of starts.
"""

import matplotlib.pyplot as plt
import numpy as np

import landscape as ls
from landscape import functions, plot

himmelblau = functions.himmelblau()
grid = np.linspace(-4.5, 4.5, 10)
starts = np.array([(a, b) for a in grid for b in grid])
points = ls.find_critical_points(himmelblau, starts)
for p in points:
    print(f"{p.kind:8s} at ({p.theta[0]:+.3f}, {p.theta[1]:+.3f})  loss {p.loss:8.3f}")

# %%
# The points on the function's contours, marked by kind.
surface = ls.plane(himmelblau, np.zeros(2), np.eye(2), span=5.0, resolution=81)
fig, ax = plt.subplots(figsize=(5.5, 4.5))
contours = plot.plot_contour(surface, ax=ax, log=True, levels=30)
plot.add_colorbar(contours, ax=ax, label="loss")
plot.plot_critical_points(np.array([p.theta for p in points]), [p.kind for p in points],
                          ax=ax)
ax.legend(loc="lower left")
ax.set(xlabel="x", ylabel="y", title="Himmelblau: 4 minima, 4 saddles, 1 maximum")
plt.show()
