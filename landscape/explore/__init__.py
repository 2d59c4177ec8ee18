"""An interactive explorer for teaching: click a start, pick an optimizer, watch it roll.

``landscape explore`` (extra ``explore``: Dash) serves a local web page on 127.0.0.1 where
one chooses a landscape (Himmelblau, Rosenbrock, the six-hump camel, the monkey saddle,
Lee et al.'s saddle, a quadratic valley of adjustable condition number, a small MLP on XOR
or spirals seen on a plane through its trained solution), clicks starts, runs optimizers
with sliders for their settings, watches the runs animate beside their loss curves, reads
the gradient and Hessian under the mouse, computes the basins map and exports the view.

The modules below the page compute everything and need no Dash:

- :mod:`~landscape.explore.landscapes`: the landscapes (:func:`make_landscape`);
- :mod:`~landscape.explore.fields`: the optimizers and settings offered, read and checked;
- :mod:`~landscape.explore.compute`: runs, where they end, the local picture at a point,
  the basins map, all of one page state as a :class:`View` (:func:`compute_view`);
- :mod:`~landscape.explore.figures`: the plotly figure of a view, animated;
- :mod:`~landscape.explore.still`: the view as a matplotlib figure, and its export to
  HTML or PNG (:func:`export_view`);
- :mod:`~landscape.explore.jobs`: long work in a thread, with progress and cancellation.

The page itself is :mod:`~landscape.explore.layout`, :mod:`~landscape.explore.callbacks`
and :mod:`~landscape.explore.app` (``create_app``, ``make_server``, ``serve``).
"""

from landscape.explore.compute import (
    BasinMap,
    Ending,
    PointInfo,
    RunView,
    View,
    basins_map,
    compute_view,
    ending,
    point_info,
    trajectory,
)
from landscape.explore.fields import FIELDS, OPTIMIZERS, make_optimizer, parse_field
from landscape.explore.figures import landscape_figure
from landscape.explore.landscapes import LANDSCAPES, Landscape, PlaneObjective, make_landscape
from landscape.explore.still import export_view, still_figure

__all__ = [
    "FIELDS",
    "LANDSCAPES",
    "OPTIMIZERS",
    "BasinMap",
    "Ending",
    "Landscape",
    "PlaneObjective",
    "PointInfo",
    "RunView",
    "View",
    "basins_map",
    "compute_view",
    "ending",
    "export_view",
    "landscape_figure",
    "make_landscape",
    "make_optimizer",
    "parse_field",
    "point_info",
    "still_figure",
    "trajectory",
]
