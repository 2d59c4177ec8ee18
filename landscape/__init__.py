"""landscape: see and measure the loss landscapes that neural-network optimizers walk on.

The flow: ``data`` -> ``MLP(...).objective(X, y)`` (or ``functions.*``) -> an
:class:`Objective` on a flat float64 ``theta`` -> optimizers, curvature, surfaces -> plots.
"""

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
]
