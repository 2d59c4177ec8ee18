"""landscape: see and measure the loss landscapes that neural-network optimizers walk on.

The flow: ``data`` -> ``MLP(...).objective(X, y)`` (or ``functions.*``) -> an
:class:`Objective` on a flat float64 ``theta`` -> optimizers, curvature, surfaces -> plots.
"""

from landscape.objective import (
    DerivativeCheck,
    Objective,
    SampleObjective,
    check_derivatives,
    from_function,
)

__all__ = [
    "DerivativeCheck",
    "Objective",
    "SampleObjective",
    "check_derivatives",
    "from_function",
]
