"""Functions of ``n`` variables: quadratic forms, Rosenbrock's and Rastrigin's functions.

Each returns an :class:`~landscape.functions.analytic.AnalyticObjective` (a
:class:`Quadratic` for :func:`quadratic`) listing the critical points known in closed form.
The value, gradient, Hessian and HVP are module-level functions or bound methods (no
closures), so the objectives pickle to worker processes.
"""

from __future__ import annotations

from functools import partial

import numpy as np
from numpy.typing import ArrayLike

from landscape._checks import as_rng, finite_array, integer
from landscape.functions.analytic import AnalyticObjective, _frozen, _real
from landscape.vocabulary import RngLike


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
            known_points=np.zeros((1, n)),
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


def quadratic(eigenvalues: ArrayLike, rng: RngLike = None, rotate: bool = True) -> Quadratic:
    """The quadratic form ``½ θᵀ A θ``, ``A = Q diag(eigenvalues) Qᵀ``, centred at 0.

    Parameters
    ----------
    eigenvalues : array_like, shape ``(n,)``, finite.
    rng : int seed or Generator for ``Q`` (Haar-random orthogonal) when ``rotate``.
    rotate : bool; ``Q`` is the identity when False.

    The one critical point, the origin, is a minimum (all eigenvalues > 0), a maximum
    (all < 0), a saddle (both signs, whatever the zeros) or degenerate (some eigenvalue is 0,
    the others of one sign).
    """
    eigenvalues = finite_array(eigenvalues, "eigenvalues", ndim=1)
    if eigenvalues.size == 0:
        raise ValueError("eigenvalues must not be empty")
    n = eigenvalues.size
    q = _random_orthogonal(n, as_rng(rng)) if rotate else np.eye(n)
    return Quadratic(eigenvalues, q)


def rosenbrock(n: int = 2, a: float = 1.0, b: float = 100.0) -> AnalyticObjective:
    """The chained Rosenbrock function ``Σ_{i<n} b (x_{i+1} − x_i²)² + (a − x_i)²``.

    With ``a = 1, b = 100`` it is :func:`scipy.optimize.rosen`; ``b`` must be positive.
    The global minimum, value 0, is listed where it has a closed form: ``(a, a²)`` for
    ``n = 2`` and ``(a, ..., a)`` for ``a`` in {0, 1} (for other ``a`` and ``n >= 3`` the
    minimum is positive and nothing is listed). For ``a = 1, b = 100`` and
    ``4 <= n <= 7`` there is exactly one more minimum, a local one "near (−1, 1, ..., 1)"
    (Kok & Sandrock 2009); it is listed, polished by Newton's method from that point when
    ``critical_points`` is first read.
    """
    n = integer(n, "n", 2)
    a, b = _real(a, "a"), _real(b, "b")
    if b <= 0:
        raise ValueError(f"b must be > 0, got {b}")

    value, grad, hess = (partial(f, a, b) for f in (_rosen_value, _rosen_grad, _rosen_hess))
    points = []
    if n == 2 or a in (0.0, 1.0):
        points.append(np.r_[a, a * a] if n == 2 else np.full(n, a))
    if a == 1.0 and b == 100.0 and 4 <= n <= 7:
        points.append(np.r_[-1.0, np.ones(n - 1)])
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
        known_points=np.zeros((1, n)),
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
