"""The loss along lines, over planes, on grids in ``d`` directions and along curved paths.

:func:`line`, :func:`plane` and :func:`grid` (``d`` directions, ``resolution ** d`` points)
evaluate an objective at ``center + sum_j c_j d_j`` on a grid of coordinates and return a
:class:`Surface`; :func:`curve` evaluates it along a straight or quadratic Bezier path
between two points and returns a :class:`Curve`, and
:func:`fit_bezier` trains the bend of such a path to connect two minima; :func:`project`
places trajectories on a surface's plane by least squares and says how far off they are.
Each may also record metrics at every point (``metrics={name: fn(objective, theta)}``,
as :func:`landscape.runner.run` does).

Grids go through ``objective.losses_in_span`` in chunks: objectives that can exploit the
affine structure do (the MLP's first layer is linear in the coordinates, so a grid costs far
less than one forward pass per point); every other objective falls back to its batched
``losses``. Chunks are mapped with :func:`landscape.parallel.map_chunks` as the
``execution=`` settings (or those of the enclosing ``ls.execution(...)`` block) say:
serially, on a process pool or on Dask, with a progress bar on a terminal, and with a cache
folder that keeps finished chunks, so that an interrupted grid resumes
(:class:`~landscape.settings.Execution`). A loss that overflows at a far point comes back as
NaN, a gap in the picture, not an exception.

Modules: :mod:`~landscape.surface.records` (the records), :mod:`~landscape.surface.grid`
(lines, planes, grids in ``d`` directions and the chunked evaluation),
:mod:`~landscape.surface.paths` (curves and Bezier paths), :mod:`~landscape.surface.projection`
(trajectories on a plane).
"""

from landscape.surface.grid import grid, line, plane
from landscape.surface.paths import BezierFit, bezier, bezier_coords, curve, fit_bezier
from landscape.surface.projection import project
from landscape.surface.records import Curve, Projection, Surface, grid_coords

__all__ = [
    "BezierFit",
    "Curve",
    "Projection",
    "Surface",
    "bezier",
    "bezier_coords",
    "curve",
    "fit_bezier",
    "grid",
    "grid_coords",
    "line",
    "plane",
    "project",
]
