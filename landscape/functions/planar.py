"""Synthetic objectives with analytic gradients and Hessians, and their critical points.

Each factory returns an :class:`AnalyticObjective` (or, for :func:`deep_linear`, a
:class:`DeepLinear`): an :class:`~landscape.objective.Objective` that also carries a
``name``, the known ``critical_points`` (a tuple of :class:`CriticalPointSpec`) and a
suggested plotting box ``bounds``, shape ``(dim, 2)``.

Critical points that are only published to a few digits (Himmelblau's, the six-hump
camel's, Beale's saddle) are polished to full float64 precision by Newton's method on
the gradient when this module is imported. ``ALL`` maps names to zero-argument factories
of the two-dimensional functions.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial
from typing import NamedTuple

import numpy as np

from landscape._checks import as_rng, finite_array, integer
from landscape.objective import ObjectiveBase

KINDS = ("minimum", "saddle", "maximum", "degenerate")


class CriticalPointSpec(NamedTuple):
    """A known critical point of a synthetic function.

    ``point``: ndarray, shape ``(n,)``, read-only; ``kind``: one of ``KINDS`` (from the
    signs of the Hessian's eigenvalues, "degenerate" when one is zero); ``value``: the
    function value there.
    """

    point: np.ndarray
    kind: str
    value: float


def _frozen(a) -> np.ndarray:
    """A read-only float64 copy of ``a``."""
    a = np.array(a, dtype=np.float64)
    a.setflags(write=False)
    return a


def _polish(grad, hess, x0, max_steps: int = 50) -> np.ndarray:
    """Newton's method on ``grad(x) = 0`` from ``x0`` until the step is at rounding level.

    Near a nondegenerate critical point Newton converges quadratically, so the iterate
    after a step of relative size 1e-12 is exact to float64 precision.
    """
    x = np.array(x0, dtype=np.float64)
    for _ in range(max_steps):
        step = np.linalg.solve(hess(x), grad(x))
        x = x - step
        if np.linalg.norm(step) <= 1e-12 * max(1.0, float(np.linalg.norm(x))):
            return x
    raise RuntimeError(f"Newton's method did not converge from {x0}")


def _polished(value, grad, hess, seeds) -> tuple[CriticalPointSpec, ...]:
    """Critical points polished from ``seeds``, a sequence of ``(approximate point, kind)``."""
    points = [(_polish(grad, hess, x0), kind) for x0, kind in seeds]
    return tuple(CriticalPointSpec(_frozen(p), kind, float(value(p))) for p, kind in points)


def _exact(value, seeds) -> tuple[CriticalPointSpec, ...]:
    """Critical points known exactly, from ``(point, kind)`` pairs."""
    return tuple(CriticalPointSpec(_frozen(p), kind, float(value(np.asarray(p, float))))
                 for p, kind in seeds)


class AnalyticObjective(ObjectiveBase):
    """An objective given by analytic value, gradient and Hessian functions.

    Parameters
    ----------
    name : str
    dim : int, the number of parameters ``n``.
    value : callable, ``thetas (..., n) -> (...)``, vectorized over leading axes.
    grad : callable, ``theta (n,) -> (n,)``.
    hess : callable, ``theta (n,) -> (n, n)``, symmetric.
    critical_points : sequence of :class:`CriticalPointSpec`.
    bounds : array_like, shape ``(n, 2)``: a suggested box ``[low, high]`` per coordinate.
    hvp : optional callable ``(theta (n,), v (n,)) -> (n,)``; ``hess(theta) @ v`` otherwise.
    """

    def __init__(self, name: str, dim: int, value: Callable, grad: Callable, hess: Callable,
                 critical_points, bounds, hvp: Callable | None = None):
        self.name, self.dim = name, dim
        self._value, self._gradient, self._hess, self._hvp_fn = value, grad, hess, hvp
        self.critical_points = tuple(critical_points)
        self.bounds = _frozen(bounds)

    def _loss(self, theta):
        return float(self._value(theta))

    def _loss_and_grad(self, theta):
        return float(self._value(theta)), self._gradient(theta)

    def _hvp(self, theta, v):
        if self._hvp_fn is not None:
            return self._hvp_fn(theta, v)
        return self._hess(theta) @ v

    def _losses(self, thetas):
        return self._value(thetas)

    def hessian(self, theta) -> np.ndarray:
        """The analytic Hessian, shape ``(dim, dim)``."""
        return self._hess(self._theta(theta))

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r}, dim={self.dim})"


def _real(value, name: str) -> float:
    """``value`` as a finite float."""
    return float(finite_array(value, name, ndim=0))


# ---------------------------------------------------------------------------------
# Quadratic forms
# ---------------------------------------------------------------------------------


def _quadratic_kind(eigenvalues: np.ndarray) -> str:
    if np.any(eigenvalues == 0):
        return "degenerate"
    if np.all(eigenvalues > 0):
        return "minimum"
    return "maximum" if np.all(eigenvalues < 0) else "saddle"


def _random_orthogonal(n: int, rng: np.random.Generator) -> np.ndarray:
    """A Haar-distributed orthogonal matrix: QR of a Gaussian matrix with R's signs fixed."""
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.where(np.diag(r) < 0, -1.0, 1.0)


class Quadratic(AnalyticObjective):
    """``f(θ) = ½ θᵀ A θ`` with ``A = Q diag(eigenvalues) Qᵀ``; see :func:`quadratic`.

    Attributes ``A`` (n, n), ``eigenvalues`` (n,) and ``eigenvectors`` (n, n), columns
    paired with ``eigenvalues``, are read-only arrays.
    """

    def __init__(self, eigenvalues: np.ndarray, q: np.ndarray):
        a = (q * eigenvalues) @ q.T
        self.A = _frozen(0.5 * (a + a.T))
        self.eigenvalues = _frozen(eigenvalues)
        self.eigenvectors = _frozen(q)
        n = eigenvalues.size
        super().__init__(
            "quadratic", n, value=self._value, grad=self._grad, hess=self._hess,
            critical_points=_exact(self._value, [(np.zeros(n), _quadratic_kind(eigenvalues))]),
            bounds=np.tile([-2.0, 2.0], (n, 1)), hvp=self._hvp_product,
        )

    # bound methods rather than lambdas, so the objective pickles to worker processes
    def _value(self, t):
        return 0.5 * np.einsum("...i,ij,...j->...", t, self.A, t)

    def _grad(self, t):
        return self.A @ t

    def _hess(self, t):
        return self.A.copy()

    def _hvp_product(self, t, v):
        return self.A @ v


def quadratic(eigenvalues, rng=None, rotate: bool = True) -> Quadratic:
    """The quadratic form ``½ θᵀ A θ``, ``A = Q diag(eigenvalues) Qᵀ``, centred at 0.

    Parameters
    ----------
    eigenvalues : array_like, shape ``(n,)``, finite.
    rng : int seed or Generator for ``Q`` (Haar-random orthogonal) when ``rotate``.
    rotate : bool; ``Q`` is the identity when False.

    The one critical point, the origin, is a minimum (all eigenvalues > 0), a maximum
    (all < 0), a saddle (mixed signs) or degenerate (some eigenvalue is 0).
    """
    eigenvalues = finite_array(eigenvalues, "eigenvalues", ndim=1)
    if eigenvalues.size == 0:
        raise ValueError("eigenvalues must not be empty")
    n = eigenvalues.size
    q = _random_orthogonal(n, as_rng(rng)) if rotate else np.eye(n)
    return Quadratic(eigenvalues, q)


# ---------------------------------------------------------------------------------
# Functions of two variables, written in x = θ[..., 0], y = θ[..., 1]
# ---------------------------------------------------------------------------------


def _xy(t):
    return t[..., 0], t[..., 1]


def _vec2(gx, gy) -> np.ndarray:
    return np.stack(np.broadcast_arrays(gx, gy), axis=-1)


def _sym2(hxx, hxy, hyy) -> np.ndarray:
    hxx, hxy, hyy = np.broadcast_arrays(hxx, hxy, hyy)
    return np.stack([np.stack([hxx, hxy], axis=-1), np.stack([hxy, hyy], axis=-1)], axis=-2)


def _planar(name, value, grad, hess, critical_points, bounds) -> AnalyticObjective:
    return AnalyticObjective(name, 2, value, grad, hess, critical_points, bounds)


def _saddle_value(t):
    x, y = _xy(t)
    return x * x - y * y


def _saddle_grad(t):
    return 2 * t * np.array([1.0, -1.0])


def _saddle_hess(t):
    return np.diag([2.0, -2.0])


def saddle() -> AnalyticObjective:
    """``x² − y²``: a nondegenerate saddle at the origin (Hessian ``diag(2, −2)``)."""
    return _planar(
        "saddle", _saddle_value, _saddle_grad, _saddle_hess,
        _exact(_saddle_value, [((0, 0), "saddle")]),
        [[-2, 2], [-2, 2]],
    )


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
    return _planar("monkey_saddle", _monkey_value, _monkey_grad, _monkey_hess,
                   _exact(_monkey_value, [((0, 0), "degenerate")]), [[-1.5, 1.5], [-1.5, 1.5]])


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
    points = [((0, 0), "saddle"), ((0, -1), "minimum"), ((0, 1), "minimum")]
    return _planar("lee_saddle", _lee_value, _lee_grad, _lee_hess,
                   _exact(_lee_value, points), [[-2, 2], [-1.5, 1.5]])


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
_HIMMELBLAU_SEEDS = [
    ((3.0, 2.0), "minimum"),
    ((-2.805118, 3.131312), "minimum"),
    ((-3.779310, -3.283186), "minimum"),
    ((3.584428, -1.848127), "minimum"),
    ((-0.270845, -0.923039), "maximum"),
    ((0.086677, 2.884255), "saddle"),
    ((3.385154, 0.073852), "saddle"),
    ((-3.073026, -0.081353), "saddle"),
    ((-0.127961, -1.953715), "saddle"),
]
_HIMMELBLAU_POINTS = _polished(_himmelblau_value, _himmelblau_grad, _himmelblau_hess,
                               _HIMMELBLAU_SEEDS)


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
_CAMEL_HALF_SEEDS = [
    ((0.089842, -0.712656), "minimum"),
    ((1.703607, -0.796084), "minimum"),
    ((1.607105, 0.568651), "minimum"),
    ((1.230230, 0.162335), "maximum"),
    ((1.109205, -0.768268), "saddle"),
    ((1.296070, 0.605084), "saddle"),
    ((1.638068, 0.228674), "saddle"),
]
_CAMEL_POINTS = _polished(
    _camel_value, _camel_grad, _camel_hess,
    [((0.0, 0.0), "saddle")]
    + [(s * np.asarray(p), kind) for p, kind in _CAMEL_HALF_SEEDS for s in (1, -1)],
)


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
_BEALE_POINTS = _polished(_beale_value, _beale_grad, _beale_hess, [
    ((3.0, 0.5), "minimum"),
    ((0.0, 1.0), "saddle"),
    ((0.100538, -2.644514), "saddle"),
])


def beale() -> AnalyticObjective:
    """Beale's function ``Σ_k (c_k − x + x yᵏ)²``, ``c = (1.5, 2.25, 2.625)``, ``k = 1, 2, 3``.

    All three critical points: the global minimum ``(3, 0.5)`` (value 0) and saddles at
    ``(0, 1)`` and near ``(0.100538, −2.644514)``.
    """
    return _planar("beale", _beale_value, _beale_grad, _beale_hess,
                   _BEALE_POINTS, [[-4.5, 4.5], [-4.5, 4.5]])


# ---------------------------------------------------------------------------------
# Functions of n variables
# ---------------------------------------------------------------------------------


def rosenbrock(n: int = 2, a: float = 1.0, b: float = 100.0) -> AnalyticObjective:
    """The chained Rosenbrock function ``Σ_{i<n} b (x_{i+1} − x_i²)² + (a − x_i)²``.

    With ``a = 1, b = 100`` it is :func:`scipy.optimize.rosen`; ``b`` must be positive.
    The global minimum, value 0, is listed where it has a closed form: ``(a, a²)`` for
    ``n = 2`` and ``(a, ..., a)`` for ``a`` in {0, 1} (for other ``a`` and ``n >= 3`` the
    minimum is positive and nothing is listed). For ``a = 1, b = 100`` and
    ``4 <= n <= 7`` there is exactly one more minimum, a local one "near (−1, 1, ..., 1)"
    (Kok & Sandrock 2009); it is listed, polished by Newton's method from that point.
    """
    n = integer(n, "n", 2)
    a, b = _real(a, "a"), _real(b, "b")
    if b <= 0:
        raise ValueError(f"b must be > 0, got {b}")

    value, grad, hess = (partial(f, a, b) for f in (_rosen_value, _rosen_grad, _rosen_hess))
    points = ()
    if n == 2 or a in (0.0, 1.0):
        points = _exact(value, [(np.r_[a, a * a] if n == 2 else np.full(n, a), "minimum")])
    if a == 1.0 and b == 100.0 and 4 <= n <= 7:
        points += _polished(value, grad, hess, [(np.r_[-1.0, np.ones(n - 1)], "minimum")])
    bounds = np.vstack([[-2.0, 2.0], np.tile([-1.0, 3.0], (n - 1, 1))])
    return AnalyticObjective("rosenbrock", n, value, grad, hess, points, bounds,
                             partial(_rosen_hvp, a, b))


def _rosen_value(a, b, t):
    x, y = t[..., :-1], t[..., 1:]
    return np.sum(b * (y - x * x) ** 2 + (a - x) ** 2, axis=-1)


def _rosen_grad(a, b, t):
    x, d = t[:-1], t[1:] - t[:-1] ** 2
    g = np.zeros_like(t)
    g[:-1] = -4 * b * x * d - 2 * (a - x)
    g[1:] += 2 * b * d
    return g


def _rosen_diagonals(a, b, t):
    x, y = t[:-1], t[1:]
    diag = np.zeros_like(t)
    diag[:-1] = 12 * b * x * x - 4 * b * y + 2
    diag[1:] += 2 * b
    return diag, -4 * b * x


def _rosen_hess(a, b, t):
    diag, off = _rosen_diagonals(a, b, t)
    return np.diag(diag) + np.diag(off, 1) + np.diag(off, -1)


def _rosen_hvp(a, b, t, v):
    diag, off = _rosen_diagonals(a, b, t)
    hv = diag * v
    hv[:-1] += off * v[1:]
    hv[1:] += off * v[:-1]
    return hv


def rastrigin(n: int = 2, A: float = 10.0) -> AnalyticObjective:
    """Rastrigin's function ``A n + Σ (x_i² − A cos 2πx_i)``.

    ``A >= 0``. Only the global minimum, the origin (value 0), is listed: there are very many local
    minima (near every integer lattice point for the usual ``A = 10``) and saddles.
    """
    n = integer(n, "n", 1)
    A = _real(A, "A")
    if A < 0:
        raise ValueError(f"A must be >= 0, got {A}")
    value = partial(_rastrigin_value, A)
    return AnalyticObjective(
        "rastrigin", n, value,
        grad=partial(_rastrigin_grad, A),
        hess=partial(_rastrigin_hess, A),
        critical_points=_exact(value, [(np.zeros(n), "minimum")]),
        bounds=np.tile([-5.12, 5.12], (n, 1)),
        hvp=partial(_rastrigin_hvp, A),
    )


# module-level pieces (not closures) so the objective pickles to worker processes
_TWO_PI = 2 * np.pi


def _rastrigin_value(A, t):
    return A * t.shape[-1] + np.sum(t * t - A * np.cos(_TWO_PI * t), axis=-1)


def _rastrigin_grad(A, t):
    return 2 * t + A * _TWO_PI * np.sin(_TWO_PI * t)


def _rastrigin_curvature(A, t):
    return 2 + A * _TWO_PI**2 * np.cos(_TWO_PI * t)


def _rastrigin_hess(A, t):
    return np.diag(_rastrigin_curvature(A, t))


def _rastrigin_hvp(A, t, v):
    return _rastrigin_curvature(A, t) * v


# ---------------------------------------------------------------------------------
# Deep linear networks
# ---------------------------------------------------------------------------------


class DeepLinear(ObjectiveBase):
    """``L = ½ mean_i ||y_i − W_L ⋯ W_1 x_i||²`` over flat ``θ = (vec W_1, ..., vec W_L)``.

    ``W_l`` has shape ``(widths[l], widths[l-1])`` and is stored row-major. The gradient
    is back-propagation through the chain and the HVP its R-operator (Pearlmutter 1994);
    the dense ``hessian`` is built from HVPs. See :func:`deep_linear`.

    Attributes: ``name``, ``widths``, ``X`` (N, widths[0]), ``Y`` (N, widths[-1]),
    ``critical_points`` (the origin), ``bounds`` (dim, 2).
    """

    def __init__(self, widths: tuple[int, ...], X: np.ndarray, Y: np.ndarray):
        self.name, self.widths = "deep_linear", widths
        self.X, self.Y = _frozen(X), _frozen(Y)
        self._shapes = list(zip(widths[1:], widths[:-1]))
        self._ends = np.cumsum([0] + [r * c for r, c in self._shapes])
        self.dim = int(self._ends[-1])
        origin = _frozen(np.zeros(self.dim))
        value = float(self._losses(origin))
        self.critical_points = (CriticalPointSpec(origin, self._origin_kind(), value),)
        self.bounds = _frozen(np.tile([-2.0, 2.0], (self.dim, 1)))

    def _origin_kind(self) -> str:
        """At 0 the Hessian is 0 for depth >= 3; for depth 2 its nonzero eigenvalues are
        ``±σ_i(Yᵀ X / N)``, each ``widths[1]`` times, so it is a saddle exactly when
        ``Yᵀ X`` is square and of full rank."""
        d0, d2 = self.widths[0], self.widths[-1]
        if len(self.widths) == 3 and d0 == d2 and np.linalg.matrix_rank(self.Y.T @ self.X) == d0:
            return "saddle"
        return "degenerate"

    def unflatten(self, theta: np.ndarray) -> list[np.ndarray]:
        """The weight matrices ``[W_1, ..., W_L]`` as views of ``theta``, shape ``(..., dim)``.

        Leading axes are kept: ``W_l`` comes out ``(..., widths[l], widths[l-1])``.
        """
        theta = np.asarray(theta)
        if theta.ndim == 0 or theta.shape[-1] != self.dim:
            raise ValueError(f"theta must have shape (..., {self.dim}), got {theta.shape}")
        lead = theta.shape[:-1]
        return [theta[..., s:e].reshape(lead + shape)
                for s, e, shape in zip(self._ends[:-1], self._ends[1:], self._shapes)]

    def _forward(self, ws):
        """Layer outputs ``H_0 = X, H_l = H_{l-1} W_lᵀ``, each ``(..., N, widths[l])``."""
        hs = [self.X]
        for w in ws:
            hs.append(hs[-1] @ np.swapaxes(w, -1, -2))
        return hs

    def _mean_square(self, err) -> np.ndarray:
        return 0.5 * np.sum(err**2, axis=(-2, -1)) / len(self.X)

    def _losses(self, thetas):
        return self._mean_square(self._forward(self.unflatten(thetas))[-1] - self.Y)

    def _loss_and_grad(self, theta):
        ws = self.unflatten(theta)
        hs = self._forward(ws)
        err = hs[-1] - self.Y
        g, grads = err / len(self.X), []
        for w, h in zip(ws[::-1], hs[-2::-1]):
            grads.append(g.T @ h)
            g = g @ w
        return float(self._mean_square(err)), np.concatenate([d.ravel() for d in grads[::-1]])

    def _hvp(self, theta, v):
        ws, vs = self.unflatten(theta), self.unflatten(v)
        hs = self._forward(ws)
        rhs = [np.zeros_like(self.X)]
        for w, dw, h in zip(ws, vs, hs):
            rhs.append(rhs[-1] @ w.T + h @ dw.T)
        g, rg = (hs[-1] - self.Y) / len(self.X), rhs[-1] / len(self.X)
        out = []
        for w, dw, h, rh in zip(ws[::-1], vs[::-1], hs[-2::-1], rhs[-2::-1]):
            out.append(rg.T @ h + g.T @ rh)
            g, rg = g @ w, rg @ w + g @ dw
        return np.concatenate([d.ravel() for d in out[::-1]])

    def __repr__(self) -> str:
        return f"DeepLinear(widths={self.widths}, n_samples={len(self.X)})"


def deep_linear(widths=(1, 1, 1), X=None, Y=None) -> DeepLinear:
    """A deep linear network's loss ``½ mean_i ||y_i − W_L ⋯ W_1 x_i||²``.

    Parameters
    ----------
    widths : sequence of ``L + 1 >= 3`` positive ints ``(d_0, ..., d_L)``; ``W_l`` is
        ``(d_l, d_{l-1})`` and ``θ`` concatenates them row-major, ``W_1`` first.
    X : array_like, shape ``(N, d_0)``; default the identity ``I_{d_0}`` (N = d_0).
    Y : array_like, shape ``(N, d_L)``; default ``X`` times the rectangular identity
        (the target map is ``I_{d_L × d_0}``).

    With the defaults, ``widths=(1, 1, 1, 1)`` gives exactly ``½(1 − w_1 w_2 w_3)²`` and the
    default ``(1, 1, 1)`` gives ``½(1 − w_1 w_2)²``. The origin is listed as a critical
    point: "degenerate" for depth ``L >= 3`` (the Hessian vanishes there), and for ``L = 2``
    a "saddle" when ``Yᵀ X`` is square of full rank, else "degenerate".
    """
    try:
        widths = tuple(integer(w, "widths", 1) for w in widths)
    except TypeError:
        raise ValueError(f"widths must be a sequence of positive ints, got {widths!r}") from None
    if len(widths) < 3:
        raise ValueError(f"widths needs at least 3 entries (2 layers), got {widths}")
    X = np.eye(widths[0]) if X is None else finite_array(X, "X", ndim=2)
    if X.shape[1] != widths[0] or X.shape[0] == 0:
        raise ValueError(f"X must have shape (N >= 1, {widths[0]}), got {X.shape}")
    Y = X @ np.eye(widths[0], widths[-1]) if Y is None else finite_array(Y, "Y", ndim=2)
    if Y.shape != (X.shape[0], widths[-1]):
        raise ValueError(f"Y must have shape ({X.shape[0]}, {widths[-1]}), got {Y.shape}")
    return DeepLinear(widths, X, Y)


ALL: dict[str, Callable[[], ObjectiveBase]] = {
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
