"""landscape: see and measure the loss landscapes that neural-network optimizers walk on.

The flow: ``data`` -> ``MLP(...).objective(X, y)`` (or ``functions.*``) -> an
:class:`Objective` on a flat float64 ``theta`` -> optimizers, curvature, surfaces -> plots.

The subpackages ``ls.data``, ``ls.functions``, ``ls.plot`` and ``ls.torch`` load on first
use (the scientific-Python convention, SPEC 1): ``import landscape`` imports neither
PyTorch nor the plotting code.
"""

import importlib as _importlib
from importlib import metadata as _metadata
from types import ModuleType as _ModuleType

from landscape.critical import (
    LossIndex,
    SearchResult,
    classify,
    critical_points_in_box,
    find_critical_point,
    find_critical_points,
    loss_and_index,
)
from landscape.critical_point import CriticalPoint
from landscape.curvature import (
    BlockOperator,
    DiagonalEstimate,
    EmpiricalFisherOperator,
    FisherOperator,
    GGNOperator,
    LayerCurvature,
    block_operator,
    empirical_fisher_operator,
    fisher_operator,
    ggn_operator,
    hutchinson_diagonal,
    hutchpp_trace,
    layer_curvature,
    parameter_groups,
)
from landscape.directions import (
    Directions,
    filter_normalize,
    filter_normalized_directions,
    hessian_directions,
    interpolation,
    pca_directions,
    random_directions,
    through_points,
)
from landscape.escape import Eigenspace, SaddleEpisode, escape_direction, saddle_episodes
from landscape.hessian import (
    CurvatureAlong,
    Inertia,
    Lanczos,
    Spectrum,
    condition_number,
    curvature_along,
    eigenpairs,
    full_spectrum,
    hessian_operator,
    inertia,
    lanczos,
    min_eigenvalue,
    sharpness,
)
from landscape.layers import (
    filter_norms,
    kinks,
    layer_grad_metrics,
    layer_grad_norms,
    linear_pieces,
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
    GradientTransformation,
    Optimizer,
    adagrad,
    adam,
    add_decayed_weights,
    add_perturbation,
    chain,
    clip,
    clip_by_global_norm,
    gd,
    momentum,
    nesterov,
    optimizer,
    perturbed,
    perturbed_gd,
    rmsprop,
    saddle_free_newton,
    scale_by_adagrad,
    scale_by_adam,
    scale_by_learning_rate,
    scale_by_momentum,
    scale_by_nesterov,
    scale_by_rms,
    scale_by_saddle_free_newton,
)
from landscape.records import load, save
from landscape.runner import Diverged, Trajectory, run
from landscape.settings import Execution, current_execution, execution
from landscape.spectral_density import (
    SpectralDensity,
    TraceEstimate,
    hutchinson_trace,
    spectral_density,
)
from landscape.surface import (
    BezierFit,
    Curve,
    Projection,
    Surface,
    bezier,
    curve,
    fit_bezier,
    grid,
    line,
    plane,
    project,
)
from landscape.sweep import Basins, Runs, RunSummary, box_starts, grid_starts, run_many
from landscape.topology import MergeTree, basins, merge_tree, persistence_diagram

__all__ = [
    "CurvatureAlong",
    "BlockOperator",
    "DiagonalEstimate",
    "EmpiricalFisherOperator",
    "FisherOperator",
    "GGNOperator",
    "LayerCurvature",
    "block_operator",
    "empirical_fisher_operator",
    "fisher_operator",
    "ggn_operator",
    "hutchinson_diagonal",
    "hutchpp_trace",
    "layer_curvature",
    "parameter_groups",
    "Inertia",
    "Lanczos",
    "lanczos",
    "TraceEstimate",
    "MLP",
    "MLPObjective",
    "filter_norms",
    "kinks",
    "layer_grad_metrics",
    "layer_grad_norms",
    "linear_pieces",
    "DerivativeCheck",
    "Objective",
    "ObjectiveBase",
    "ParameterBlock",
    "SampleObjective",
    "check_derivatives",
    "from_function",
    "GradientTransformation",
    "Optimizer",
    "adagrad",
    "adam",
    "add_decayed_weights",
    "add_perturbation",
    "chain",
    "clip",
    "clip_by_global_norm",
    "gd",
    "momentum",
    "nesterov",
    "optimizer",
    "perturbed",
    "perturbed_gd",
    "rmsprop",
    "saddle_free_newton",
    "scale_by_adagrad",
    "scale_by_adam",
    "scale_by_learning_rate",
    "scale_by_momentum",
    "scale_by_nesterov",
    "scale_by_rms",
    "scale_by_saddle_free_newton",
    "Diverged",
    "Trajectory",
    "run",
    "save",
    "load",
    "Basins",
    "Runs",
    "RunSummary",
    "box_starts",
    "grid_starts",
    "run_many",
    "MergeTree",
    "basins",
    "merge_tree",
    "persistence_diagram",
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
    "Execution",
    "current_execution",
    "execution",
    "Curve",
    "Projection",
    "Surface",
    "curve",
    "grid",
    "line",
    "plane",
    "project",
    "Spectrum",
    "condition_number",
    "curvature_along",
    "eigenpairs",
    "full_spectrum",
    "hessian_operator",
    "inertia",
    "min_eigenvalue",
    "sharpness",
    "SpectralDensity",
    "hutchinson_trace",
    "spectral_density",
    "CriticalPoint",
    "LossIndex",
    "SearchResult",
    "classify",
    "critical_points_in_box",
    "find_critical_point",
    "find_critical_points",
    "loss_and_index",
    "Eigenspace",
    "SaddleEpisode",
    "escape_direction",
    "saddle_episodes",
]

try:
    __version__ = _metadata.version("landscape-nn")
except _metadata.PackageNotFoundError:  # pragma: no cover - run from a source tree never installed
    __version__ = "0+unknown"

#: Subpackages imported on first attribute access, not by ``import landscape``.
_LAZY_SUBMODULES = ("data", "functions", "plot", "torch")


def __getattr__(name: str) -> _ModuleType:
    """``ls.data``, ``ls.functions``, ``ls.plot`` and ``ls.torch``, imported on first use."""
    if name in _LAZY_SUBMODULES:
        return _importlib.import_module(f"landscape.{name}")
    raise AttributeError(f"module 'landscape' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *_LAZY_SUBMODULES})
