"""Pictures of loss landscapes.

matplotlib (every function takes ``ax=None`` and returns what it drew; none calls ``show``):
:func:`plot_line`, :func:`plot_line_metric` (1-D), :func:`plot_contour`,
:func:`plot_surface3d`, :func:`plot_trajectories`, :func:`plot_critical_points` (2-D),
:func:`add_colorbar` (a colour bar labelled at the powers of ten for log contours),
:func:`plot_spectrum`, :func:`plot_eigenvalue_histogram`, :func:`plot_density` (Hessian).

plotly (returns a ``go.Figure``): :func:`surface_figure`.

Plotting computes nothing and writes no files: evaluate with :mod:`landscape.surface`,
save with :func:`landscape.io.save_figure`.
"""

from landscape.plot.contours import (
    TrajectoryArtists,
    add_colorbar,
    plot_contour,
    plot_critical_points,
    plot_surface3d,
    plot_trajectories,
)
from landscape.plot.curves import plot_line, plot_line_metric
from landscape.plot.interactive import surface_figure
from landscape.plot.spectrum import plot_density, plot_eigenvalue_histogram, plot_spectrum

__all__ = [
    "TrajectoryArtists",
    "add_colorbar",
    "plot_contour",
    "plot_critical_points",
    "plot_density",
    "plot_eigenvalue_histogram",
    "plot_line",
    "plot_line_metric",
    "plot_spectrum",
    "plot_surface3d",
    "plot_trajectories",
    "surface_figure",
]
