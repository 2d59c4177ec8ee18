"""Synthetic objectives with analytic gradients and Hessians, and their critical points.

Each factory returns a :class:`SyntheticObjective`: an :class:`~landscape.objective.Objective`
that also carries a ``name``, a suggested plotting box ``bounds``, shape ``(dim, 2)``, and
the known ``critical_points``, a tuple of :class:`~landscape.CriticalPoint` records (the
record :func:`landscape.critical.find_critical_points` returns), computed when first read.

- :mod:`~landscape.functions.analytic`: the base classes;
- :mod:`~landscape.functions.planar`: :func:`saddle`, :func:`monkey_saddle`,
  :func:`lee_saddle`, :func:`himmelblau`, :func:`six_hump_camel`, :func:`beale`, with all
  their critical points;
- :mod:`~landscape.functions.ndim`: :func:`quadratic`, :func:`rosenbrock`, :func:`rastrigin`;
- :mod:`~landscape.functions.linear`: :func:`deep_linear`.

``ALL`` maps names to zero-argument factories of the two-dimensional functions.
"""

from __future__ import annotations

from collections.abc import Callable

from landscape.functions.analytic import AnalyticObjective, SyntheticObjective
from landscape.functions.linear import DeepLinear, deep_linear
from landscape.functions.ndim import Quadratic, quadratic, rastrigin, rosenbrock
from landscape.functions.planar import (
    beale,
    himmelblau,
    lee_saddle,
    monkey_saddle,
    saddle,
    six_hump_camel,
)

__all__ = [
    "ALL",
    "AnalyticObjective",
    "DeepLinear",
    "Quadratic",
    "SyntheticObjective",
    "beale",
    "deep_linear",
    "himmelblau",
    "lee_saddle",
    "monkey_saddle",
    "quadratic",
    "rastrigin",
    "rosenbrock",
    "saddle",
    "six_hump_camel",
]

ALL: dict[str, Callable[[], SyntheticObjective]] = {
    "saddle": saddle,
    "monkey_saddle": monkey_saddle,
    "lee_saddle": lee_saddle,
    "himmelblau": himmelblau,
    "six_hump_camel": six_hump_camel,
    "beale": beale,
    "rosenbrock": rosenbrock,
    "rastrigin": rastrigin,
    "deep_linear": deep_linear,
}
"""Zero-argument factories of the two-dimensional functions, by name."""
