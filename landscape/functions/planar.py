"""Functions of two variables with all their critical points.

Saddles, Himmelblau, the six-hump camel, Beale.

Each is written in ``x = θ[..., 0]``, ``y = θ[..., 1]`` (the value vectorized over leading
axes) and returns an :class:`~landscape.functions.analytic.AnalyticObjective`. Critical
points published to a few digits are listed to those digits and polished to float64
precision when ``critical_points`` is first read.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from landscape.functions.analytic import AnalyticObjective


def _xy(t):
    return t[..., 0], t[..., 1]


def _vec2(gx: ArrayLike, gy: ArrayLike) -> np.ndarray:
    return np.stack(np.broadcast_arrays(gx, gy), axis=-1)


def _sym2(hxx: ArrayLike, hxy: ArrayLike, hyy: ArrayLike) -> np.ndarray:
    hxx, hxy, hyy = np.broadcast_arrays(hxx, hxy, hyy)
    return np.stack([np.stack([hxx, hxy], axis=-1), np.stack([hxy, hyy], axis=-1)], axis=-2)


def _planar(name: str, value: Callable, grad: Callable, hess: Callable, known_points: ArrayLike,
            bounds: ArrayLike) -> AnalyticObjective:
    return AnalyticObjective(name, 2, value, grad, hess, known_points, bounds)


def _saddle_value(t):
    x, y = _xy(t)
    return x * x - y * y


def _saddle_grad(t):
    return 2 * t * np.array([1.0, -1.0])


def _saddle_hess(t):
    return np.diag([2.0, -2.0])


def saddle() -> AnalyticObjective:
    """``x² − y²``: a nondegenerate saddle at the origin (Hessian ``diag(2, −2)``)."""
    return _planar("saddle", _saddle_value, _saddle_grad, _saddle_hess, [(0, 0)],
                   [[-2, 2], [-2, 2]])


def _monkey_value(t):
    x, y = _xy(t)
    return x**3 - 3 * x * y * y


def _monkey_grad(t):
    x, y = _xy(t)
    return _vec2(3 * x * x - 3 * y * y, -6 * x * y)


def _monkey_hess(t):
    x, y = _xy(t)
    return _sym2(6 * x, -6 * y, -6 * x)


def monkey_saddle() -> AnalyticObjective:
    """``x³ − 3xy²``: the monkey saddle, a degenerate critical point (zero Hessian) at 0."""
    return _planar("monkey_saddle", _monkey_value, _monkey_grad, _monkey_hess, [(0, 0)],
                   [[-1.5, 1.5], [-1.5, 1.5]])


def _lee_value(t):
    x, y = _xy(t)
    return 0.5 * x * x + 0.25 * y**4 - 0.5 * y * y


def _lee_grad(t):
    x, y = _xy(t)
    return _vec2(x, y**3 - y)


def _lee_hess(t):
    y = t[..., 1]
    return _sym2(1.0, 0.0, 3 * y * y - 1)


def lee_saddle() -> AnalyticObjective:
    """``½x² + ¼y⁴ − ½y²`` (Lee et al. 2016, "Gradient descent only converges to minimizers").

    A strict saddle at the origin and minima at ``(0, ±1)`` with value ``−¼``.
    """
    return _planar("lee_saddle", _lee_value, _lee_grad, _lee_hess, [(0, 0), (0, -1), (0, 1)],
                   [[-2.0, 2.0], [-1.5, 1.5]])


def _himmelblau_value(t):
    x, y = _xy(t)
    return (x * x + y - 11) ** 2 + (x + y * y - 7) ** 2


def _himmelblau_grad(t):
    x, y = _xy(t)
    a, b = x * x + y - 11, x + y * y - 7
    return _vec2(4 * x * a + 2 * b, 2 * a + 4 * y * b)


def _himmelblau_hess(t):
    x, y = _xy(t)
    a, b = x * x + y - 11, x + y * y - 7
    return _sym2(4 * a + 8 * x * x + 2, 4 * (x + y), 4 * b + 8 * y * y + 2)


# Minima and maximum as published (Himmelblau 1972; Wikipedia); the saddles from a Newton
# multistart over [-5, 5]^2. Bezout's bound (two cubics) allows at most 9 critical points.
_HIMMELBLAU_POINTS = [
    (3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186), (3.584428, -1.848127),  # minima
    (-0.270845, -0.923039),  # the maximum
    (0.086677, 2.884255), (3.385154, 0.073852), (-3.073026, -0.081353),  # saddles
    (-0.127961, -1.953715),
]


def himmelblau() -> AnalyticObjective:
    """``(x² + y − 11)² + (x + y² − 7)²``: all 9 critical points.

    Four minima with value 0 (one at ``(3, 2)``), a maximum near ``(−0.270845, −0.923039)``
    (value ≈ 181.617) and four saddles, polished to float64 precision.
    """
    return _planar("himmelblau", _himmelblau_value, _himmelblau_grad, _himmelblau_hess,
                   _HIMMELBLAU_POINTS, [[-5, 5], [-5, 5]])


def _camel_value(t):
    x, y = _xy(t)
    return (4 - 2.1 * x * x + x**4 / 3) * x * x + x * y + (-4 + 4 * y * y) * y * y


def _camel_grad(t):
    x, y = _xy(t)
    return _vec2(8 * x - 8.4 * x**3 + 2 * x**5 + y, x - 8 * y + 16 * y**3)


def _camel_hess(t):
    x, y = _xy(t)
    return _sym2(8 - 25.2 * x * x + 10 * x**4, 1.0, -8 + 48 * y * y)


# One of each pair ±p (the function is even: f(-x, -y) = f(x, y)), from a Newton multistart
# over [-3, 3] x [-2, 2]; with the origin, 15 points: all real roots of the degree-15
# polynomial left after eliminating x = 8y - 16y^3.
_CAMEL_HALF = np.array([
    (0.089842, -0.712656), (1.703607, -0.796084), (1.607105, 0.568651),  # minima
    (1.230230, 0.162335),  # a maximum
    (1.109205, -0.768268), (1.296070, 0.605084), (1.638068, 0.228674),  # saddles
])
_CAMEL_POINTS = np.vstack([[0.0, 0.0], np.stack([_CAMEL_HALF, -_CAMEL_HALF], 1).reshape(-1, 2)])


def six_hump_camel() -> AnalyticObjective:
    """``(4 − 2.1x² + x⁴/3)x² + xy + (−4 + 4y²)y²``: all 15 critical points.

    Six minima (global ones at ``±(0.0898, −0.7126)``, value ≈ −1.0316), two maxima and
    seven saddles (one at the origin).
    """
    return _planar("six_hump_camel", _camel_value, _camel_grad, _camel_hess,
                   _CAMEL_POINTS, [[-2, 2], [-1, 1]])


_BEALE_C = np.array([1.5, 2.25, 2.625])
_BEALE_K = np.array([1.0, 2.0, 3.0])


def _beale_terms(t):
    """``x``, ``y`` with a trailing axis, ``y^k`` and the residuals ``c_k − x + x y^k``."""
    x, y = t[..., :1], t[..., 1:]
    yk = y**_BEALE_K
    return x, y, yk, _BEALE_C - x + x * yk


def _beale_value(t):
    return np.sum(_beale_terms(t)[3] ** 2, axis=-1)


def _beale_grad(t):
    x, y, yk, r = _beale_terms(t)
    dy = _BEALE_K * x * y ** (_BEALE_K - 1)
    return 2 * np.stack([np.sum(r * (yk - 1), -1), np.sum(r * dy, -1)], axis=-1)


def _beale_hess(t):
    x, y, yk, r = _beale_terms(t)
    k = _BEALE_K
    dx, dy = yk - 1, k * x * y ** (k - 1)
    dxy = k * y ** (k - 1)
    dyy = k * (k - 1) * x * y ** np.maximum(k - 2, 0)
    return 2 * _sym2(np.sum(dx * dx, -1), np.sum(dx * dy + r * dxy, -1),
                     np.sum(dy * dy + r * dyy, -1))


# The x != 0 critical points solve two equations linear in x; eliminating x leaves a
# polynomial in y whose real roots (other than the spurious y = 1) are 0.5 and -2.6445;
# on x = 0 the only critical point is (0, 1). So these three are all of them.
_BEALE_POINTS = [(3.0, 0.5), (0.0, 1.0), (0.100538, -2.644514)]  # a minimum, two saddles


def beale() -> AnalyticObjective:
    """Beale's function ``Σ_k (c_k − x + x yᵏ)²``, ``c = (1.5, 2.25, 2.625)``, ``k = 1, 2, 3``.

    All three critical points: the global minimum ``(3, 0.5)`` (value 0) and saddles at
    ``(0, 1)`` and near ``(0.100538, −2.644514)``.
    """
    return _planar("beale", _beale_value, _beale_grad, _beale_hess,
                   _BEALE_POINTS, [[-4.5, 4.5], [-4.5, 4.5]])
