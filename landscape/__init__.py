"""landscape: see and measure the loss landscapes that neural-network optimizers walk on.

The flow: ``data`` -> ``MLP(...).objective(X, y)`` (or ``functions.*``) -> an
:class:`Objective` on a flat float64 ``theta`` -> optimizers, curvature, surfaces -> plots.
"""

from landscape.directions import (
    BezierFit,
    Directions,
    bezier,
    filter_normalize,
    filter_normalized_directions,
    fit_bezier,
    hessian_directions,
    interpolation,
    pca_directions,
    random_directions,
    through_points,
)
from landscape.mlp import MLP, MLPObjective
from landscape.objective import (
    DerivativeCheck,
    Objective,
    ObjectiveBase,
    ParameterBlock,
    SampleObjective,
    check_derivatives,
    from_function,
)
from landscape.optim import (
    Optimizer,
    adagrad,
    adam,
    gd,
    momentum,
    nesterov,
    perturbed,
    perturbed_gd,
    rmsprop,
)
from landscape.runner import Diverged, Trajectory, run
from landscape.surface import Curve, Projection, Surface, curve, line, plane, project
from landscape.sweep import Runs, box_starts, grid_starts, run_many

__all__ = [
    "MLP",
    "MLPObjective",
    "DerivativeCheck",
    "Objective",
    "ObjectiveBase",
    "ParameterBlock",
    "SampleObjective",
    "check_derivatives",
    "from_function",
    "Optimizer",
    "adagrad",
    "adam",
    "gd",
    "momentum",
    "nesterov",
    "perturbed",
    "perturbed_gd",
    "rmsprop",
    "Diverged",
    "Trajectory",
    "run",
    "Runs",
    "box_starts",
    "grid_starts",
    "run_many",
    "BezierFit",
    "Directions",
    "bezier",
    "filter_normalize",
    "filter_normalized_directions",
    "fit_bezier",
    "hessian_directions",
    "interpolation",
    "pca_directions",
    "random_directions",
    "through_points",
    "Curve",
    "Projection",
    "Surface",
    "curve",
    "line",
    "plane",
    "project",
]
