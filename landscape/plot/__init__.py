"""Pictures of loss landscapes.

matplotlib (every function takes ``ax=None`` and returns what it drew; none calls ``show``):
:func:`plot_line`, :func:`plot_line_metric` (1-D), :func:`plot_contour`,
:func:`plot_surface3d`, :func:`plot_trajectories`, :func:`plot_critical_points` (2-D),
:func:`add_colorbar` (a colour bar labelled at the powers of ten for log contours),
:func:`plot_spectrum`, :func:`plot_eigenvalue_histogram`, :func:`plot_density` (Hessian),
:func:`plot_layer_curvature` (per-layer curvature, :mod:`landscape.curvature`),
:func:`plot_barcode`, :func:`plot_persistence_diagram`, :func:`plot_merge_tree`,
:func:`plot_merge_tree_on_plane` (sublevel-set persistence, :mod:`landscape.topology`).

plotly (returns a ``go.Figure``): :func:`surface_figure`; :func:`preview_figure` draws one
as a still matplotlib picture.

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
from landscape.plot.curvature import plot_layer_curvature
from landscape.plot.curves import plot_line, plot_line_metric
from landscape.plot.interactive import preview_figure, surface_figure
from landscape.plot.spectrum import plot_density, plot_eigenvalue_histogram, plot_spectrum
from landscape.plot.topology import (
    MergeTreeArtists,
    plot_barcode,
    plot_merge_tree,
    plot_merge_tree_on_plane,
    plot_persistence_diagram,
)

__all__ = [
    "MergeTreeArtists",
    "TrajectoryArtists",
    "add_colorbar",
    "plot_barcode",
    "plot_contour",
    "plot_critical_points",
    "plot_density",
    "plot_eigenvalue_histogram",
    "plot_layer_curvature",
    "plot_line",
    "plot_line_metric",
    "plot_merge_tree",
    "plot_merge_tree_on_plane",
    "plot_persistence_diagram",
    "plot_spectrum",
    "plot_surface3d",
    "plot_trajectories",
    "preview_figure",
    "surface_figure",
]
