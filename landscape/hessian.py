"""The Hessian as a matrix-free operator, its extreme eigenpairs, and its inertia.

The Hessian of an objective at ``theta`` is a :class:`scipy.sparse.linalg.LinearOperator`
whose matvec is the objective's exact Hessian-vector product, so ``eigsh`` and the Krylov
solvers of scipy work on it unchanged. Every function here takes such an operator (or a
dense symmetric array) and counts the products it spends: ``n_hvp`` in the records is
the cost in HVPs, the currency of curvature work.

- :func:`eigenpairs`: the ``k`` largest (``'LA'``, the sharpness end) or smallest
  (``'SA'``, the negative-curvature end) eigenpairs, by a thick-restart Lanczos on the
  operator that stops at the first product where every wanted pair's residual meets the
  tolerance (:mod:`landscape.krylov`), or exactly (``eigh`` on the dense Hessian) when
  ``n`` is small;
- :func:`full_spectrum`: all ``n`` eigenpairs, for small ``n``;
- :func:`sharpness`, :func:`min_eigenvalue`: the two extremes as plain floats, usable as
  runner metric hooks ``fn(objective, theta) -> float``; :func:`curvature_along` evaluates
  both at many recorded points;
- :func:`inertia`: counts of negative, zero and positive eigenvalues with the tolerance
  explained in :func:`zero_tolerance` (both defined in :mod:`landscape.critical_point`,
  upstream of the objectives); :func:`condition_number`;
- :func:`lanczos`: the plain Lanczos tridiagonalization with full reorthogonalization, on
  which stochastic Lanczos quadrature (:mod:`landscape.spectral_density`) and the Krylov
  saddle-free Newton step build.
"""

from __future__ import annotations

from typing import Literal, NamedTuple, TypeAlias, get_args

import numpy as np
from numpy.typing import ArrayLike
from scipy.linalg import eigh_tridiagonal
from scipy.sparse.linalg import LinearOperator, aslinearoperator

from landscape._checks import (
    as_rng,
    choice,
    finite_array,
    integer,
    real_in,
    theta_matrix,
    theta_vector,
)
from landscape.critical_point import RTOL as RTOL
from landscape.critical_point import Inertia as Inertia
from landscape.critical_point import inertia as inertia
from landscape.critical_point import zero_tolerance as zero_tolerance
from landscape.krylov import SymmetricOperator as SymmetricOperator
from landscape.krylov import thick_restart_lanczos, tridiagonalize
from landscape.objective import Objective, check_objective
from landscape.records import record
from landscape.vocabulary import RngLike, Theta, Thetas

#: Which end of the spectrum: ``'LA'`` (largest algebraic) or ``'SA'`` (smallest algebraic).
Which: TypeAlias = Literal["LA", "SA"]
#: How :func:`eigenpairs` computes: ``'auto'``, ``'lanczos'`` (thick restart) or ``'dense'``.
EigenMethod: TypeAlias = Literal["auto", "lanczos", "dense"]
#: A symmetric matrix: a LinearOperator or a dense array, shape ``(n, n)``.
SymmetricMatrix: TypeAlias = LinearOperator | ArrayLike


@record
class Spectrum(NamedTuple):
    """Some eigenpairs of a symmetric operator.

    eigenvalues : ndarray, shape ``(k,)``, ascending (as ``eigh`` returns them) whatever
        ``which`` is: for ``'LA'`` the largest (the sharpness) is the last,
        ``eigenvalues[-1]``, and ``eigenvalues[::-1]`` is largest first; for ``'SA'`` the
        smallest (the most negative curvature) is the first, ``eigenvalues[0]``.
    eigenvectors : ndarray, shape ``(n, k)``, orthonormal columns; column ``i`` belongs to
        ``eigenvalues[i]`` (:func:`~landscape.directions.hessian_directions` orders them
        the most curved first).
    which : ``'LA'`` (the largest), ``'SA'`` (the smallest) or ``'all'``.
    n_hvp : operator products (Hessian-vector products) spent.
    converged : False when Lanczos stopped (at ``maxiter``) before every wanted pair
        reached its tolerance; only the wanted pairs that reached it are returned (fewer
        than ``k``, possibly none).
    """

    eigenvalues: np.ndarray
    eigenvectors: np.ndarray
    which: Which | Literal["all"]
    n_hvp: int
    converged: bool


@record
class Lanczos(NamedTuple):
    """``m`` steps of Lanczos: ``basis.T @ H @ basis = tridiag(beta, alpha, beta)``.

    alpha : ndarray, shape ``(m,)``, the diagonal; beta : ndarray, shape ``(m - 1,)``, the
    off-diagonal; basis : ndarray, shape ``(n, m)``, orthonormal columns, the first being the
    normalized start vector. ``m`` is smaller than asked when the Krylov space is exhausted.
    """

    alpha: np.ndarray
    beta: np.ndarray
    basis: np.ndarray


@record
class CurvatureAlong(NamedTuple):
    """The extreme Hessian eigenvalues at ``k`` points.

    ``sharpness`` and ``min_eigenvalue``, each shape ``(k,)`` (NaN where Lanczos did not
    converge), and ``n_hvp`` spent in all.
    """

    sharpness: np.ndarray
    min_eigenvalue: np.ndarray
    n_hvp: int


# ---------------------------------------------------------------------------------
# Operators
# ---------------------------------------------------------------------------------


class HessianOperator(SymmetricOperator):
    """The Hessian of ``objective`` at ``theta``, shape ``(dim, dim)``, as HVPs.

    ``objective`` and ``theta`` (a private copy) are attributes. Products with a fixed
    ``theta`` reuse the objective's cached forward and backward passes where it has them
    (the MLP does).
    """

    def __init__(self, objective: Objective, theta: Theta):
        objective = check_objective(objective)
        theta = theta_vector(theta, objective.dim).copy()
        super().__init__(objective.dim)
        self.objective, self.theta = objective, theta

    def _matvec(self, v: np.ndarray) -> np.ndarray:
        return np.asarray(self.objective.hvp(self.theta, np.ravel(v)), dtype=np.float64)

    def _matmat(self, V: np.ndarray) -> np.ndarray:
        """``H V`` (``V`` ``(dim, k)``): the objective's ``hvps`` if it has one, else by columns.

        A torch objective's ``hvps`` runs the columns side by side on PyTorch's threads.
        """
        hvps = getattr(self.objective, "hvps", None)
        if hvps is None:
            return _columns(self, V)
        return np.asarray(hvps(self.theta, np.ascontiguousarray(V.T)), dtype=np.float64).T


def hessian_operator(objective: Objective, theta: Theta) -> HessianOperator:
    """The Hessian of ``objective`` at ``theta`` (``(dim,)``) as a LinearOperator ``(dim, dim)``.

    Raises ValueError when ``theta`` has the wrong shape or holds NaN or inf.
    """
    return HessianOperator(objective, theta)


class CountingOperator(SymmetricOperator):
    """A checked symmetric operator that counts its products.

    ``count``: products so far; a product that is not finite raises ValueError. The
    functions here report ``count`` as ``n_hvp``.
    """

    def __init__(self, op: LinearOperator):
        super().__init__(op.shape[0])
        self.op, self.count = op, 0

    def _matvec(self, v: np.ndarray) -> np.ndarray:
        self.count += 1
        return _finite(np.asarray(self.op.matvec(v), dtype=np.float64).ravel())

    def _matmat(self, V: np.ndarray) -> np.ndarray:
        if not isinstance(self.op, SymmetricOperator):  # a dense matrix: column by column
            return _columns(self, V)
        self.count += V.shape[1]
        return _finite(np.asarray(self.op.matmat(V), dtype=np.float64))


def _columns(op: LinearOperator, V: np.ndarray) -> np.ndarray:
    """``op @ V`` column by column (LinearOperator's own ``matmat``)."""
    return np.hstack([op.matvec(col.reshape(-1, 1)) for col in V.T])


def _finite(out: np.ndarray) -> np.ndarray:
    if not np.all(np.isfinite(out)):
        raise ValueError("the operator returned NaN or inf: is the Hessian finite at theta?")
    return out


def _symmetry_gap(op: LinearOperator) -> bool:
    """True when ``x·(Ay)`` and ``y·(Ax)`` differ beyond rounding for random ``x, y``.

    ``x, y`` are drawn from a fixed seed, so the check is deterministic and consumes no
    user randomness.
    """
    x, y = np.random.default_rng(0).standard_normal((2, op.shape[0]))
    ax, ay = op.matvec(x), op.matvec(y)
    scale = max(np.linalg.norm(ax) * np.linalg.norm(y), np.linalg.norm(ay) * np.linalg.norm(x))
    return abs(x @ ay - y @ ax) > 1e-8 * scale


def as_symmetric_operator(H: SymmetricMatrix) -> LinearOperator:
    """``H`` as a square, symmetric LinearOperator, checked.

    ``H`` is a :class:`SymmetricOperator` (trusted), another LinearOperator (its symmetry is
    probed with two random vectors: 2 products, not counted in ``n_hvp``) or a dense 2-D
    array (checked entrywise).
    Raises ValueError for a non-square shape, NaN / inf entries or an asymmetric ``H``.
    """
    if isinstance(H, SymmetricOperator):
        return H
    if isinstance(H, LinearOperator):
        _check_square(H.shape)
        if _symmetry_gap(H):
            raise ValueError("H is not symmetric: x·(H y) != y·(H x) for random x, y")
        return H
    if isinstance(H, Objective):
        raise ValueError("H is an objective, not a matrix: pass its Hessian at a point, "
                         "hessian_operator(objective, theta) (or use sharpness(objective, theta))")
    dense = finite_array(H, "H", ndim=2)
    _check_square(dense.shape)
    if np.max(np.abs(dense - dense.T)) > 1e-10 * max(np.max(np.abs(dense)),
                                                     np.finfo(float).tiny):
        raise ValueError("H is not symmetric: a Hessian must satisfy H == H.T")
    return aslinearoperator(dense)


def _check_square(shape: tuple[int, ...]) -> None:
    if len(shape) != 2 or shape[0] != shape[1] or shape[0] == 0:
        raise ValueError(f"H must be a non-empty square operator, got shape {shape}")


def _dense(op: CountingOperator) -> np.ndarray:
    """The dense matrix of a counted operator from ``n`` products, symmetrized."""
    h = op.matmat(np.eye(op.shape[0]))
    return 0.5 * (h + h.T)


# ---------------------------------------------------------------------------------
# Eigenpairs
# ---------------------------------------------------------------------------------


def _check_k(k: int, n: int) -> int:
    k = integer(k, "k", 1)
    if k > n:
        raise ValueError(f"k must be at most n = {n}, got k={k}")
    return k


def _dense_pairs(op: CountingOperator, k: int, which: Which) -> Spectrum:
    w, v = np.linalg.eigh(_dense(op))
    end = slice(None, k) if which == "SA" else slice(len(w) - k, None)
    return Spectrum(w[end], v[:, end], which, op.count, True)


def _lanczos_pairs(op: CountingOperator, k: int, which: Which, rng: RngLike, tol: float,
                   ncv: int | None, maxiter: int | None) -> Spectrum:
    n = op.shape[0]
    ncv = min(n, max(2 * k + 1, 50)) if ncv is None else integer(ncv, "ncv", 1)
    if not k < ncv <= n:
        raise ValueError(f"ncv must satisfy k < ncv <= n (k={k}, n={n}), got ncv={ncv}")
    maxiter = 10 * n if maxiter is None else integer(maxiter, "maxiter", 1)
    tol = real_in(tol, "tol", 0.0)
    generator = as_rng(rng)
    found = thick_restart_lanczos(op, k, which == "LA", generator.standard_normal(n), tol, ncv,
                                  maxiter, generator)
    return Spectrum(*found[:2], which, op.count, found.converged)


def eigenpairs(H: SymmetricMatrix, k: int = 1, which: Which = "LA", *, rng: RngLike = None,
               method: EigenMethod = "auto",
               tol: float = 0.0, ncv: int | None = None, maxiter: int | None = None,
               dense_max: int = 100) -> Spectrum:
    """The ``k`` largest (``'LA'``) or smallest (``'SA'``) eigenpairs of a symmetric ``H``.

    Parameters
    ----------
    H : LinearOperator or ndarray, shape ``(n, n)``, symmetric (see
        :func:`as_symmetric_operator`); typically :func:`hessian_operator`.
    k : int, ``1 <= k <= n``.
    which : ``'LA'`` (largest algebraic: the sharpness end) or ``'SA'`` (smallest
        algebraic: the most negative curvature).
    rng : int seed or Generator for Lanczos' start vector (its first draw, as before
        the solver changed) and for a new direction if the Krylov space is exhausted.
    method : ``'lanczos'`` (:func:`landscape.krylov.thick_restart_lanczos` on the
        operator), ``'dense'`` (``eigh`` on the dense matrix built from ``n`` products) or
        ``'auto'``: dense when ``n <= dense_max`` or ``k = n``, Lanczos otherwise.
    tol, ncv, maxiter : Lanczos stops at the first product after which every wanted Ritz
        pair ``(θ, y)`` has ``‖H y - θ y‖ <= tol |θ|`` (``tol >= 0``, ``0``: machine
        epsilon; ``eigsh``'s meaning), holding ``k < ncv <= n`` basis vectors (default
        ``min(n, max(2k + 1, 50))``, ``8 n`` bytes each once used) between restarts, for at
        most ``maxiter`` fillings of the basis (default ``10 n``): see :mod:`landscape.krylov`.

    Returns
    -------
    Spectrum
        eigenvalues ``(k,)`` in ascending order for both ends, so the extreme one is at the
        end asked for: ``'LA'``'s largest is ``eigenvalues[-1]`` (the top ``k`` largest
        first: ``eigenvalues[::-1]``), ``'SA'``'s smallest is ``eigenvalues[0]``;
        eigenvectors ``(n, k)``, column ``i`` that of ``eigenvalues[i]``; products spent.
    """
    choice(which, get_args(Which), "which")
    choice(method, get_args(EigenMethod), "method")
    op = CountingOperator(as_symmetric_operator(H))
    n = op.shape[0]
    k = _check_k(k, n)
    lanczos_ok = k < n
    if method == "lanczos" and not lanczos_ok:
        raise ValueError(f"Lanczos needs k < n = {n}, got k={k}: use method='dense'")
    if method == "dense" or (method == "auto" and (n <= dense_max or not lanczos_ok)):
        return _dense_pairs(op, k, which)
    return _lanczos_pairs(op, k, which, rng, tol, ncv, maxiter)


def full_spectrum(H: SymmetricMatrix) -> Spectrum:
    """All ``n`` eigenpairs of a symmetric ``H`` (``(n, n)`` array or operator) by ``eigh``.

    Costs ``n`` products and ``O(n^3)`` time: for small ``n``.
    """
    op = CountingOperator(as_symmetric_operator(H))
    w, v = np.linalg.eigh(_dense(op))
    return Spectrum(w, v, "all", op.count, True)


def _only(spectrum: Spectrum) -> float:
    """The eigenvalue of a ``k = 1`` spectrum; NaN when Lanczos found none."""
    return float(spectrum.eigenvalues[0]) if spectrum.eigenvalues.size else float("nan")


def _extreme(objective: Objective, theta: Theta, which: Which, rng: RngLike) -> float:
    """The largest ('LA') or smallest ('SA') Hessian eigenvalue at ``theta``."""
    return _only(eigenpairs(hessian_operator(objective, theta), 1, which, rng=rng))


def sharpness(objective: Objective, theta: Theta, rng: RngLike = 0) -> float:
    """The largest Hessian eigenvalue at ``theta`` (Lanczos; exact for small ``dim``).

    Usable as a runner metric ``fn(objective, theta) -> float``; ``rng`` seeds the start
    vector, so equal inputs give equal numbers. NaN if Lanczos did not converge.
    """
    return _extreme(objective, theta, "LA", rng)


def min_eigenvalue(objective: Objective, theta: Theta, rng: RngLike = 0) -> float:
    """The smallest (most negative) Hessian eigenvalue at ``theta``; see :func:`sharpness`."""
    return _extreme(objective, theta, "SA", rng)


def curvature_along(objective: Objective, thetas: Thetas, rng: RngLike = 0) -> CurvatureAlong:
    """Sharpness and smallest eigenvalue at each row of ``thetas`` (``(k, dim)``).

    ``thetas`` are, typically, a trajectory's recorded points; pair the result with its
    ``steps``. Each point's two Lanczos runs use the same ``rng`` seed.
    """
    thetas = theta_matrix(thetas, objective.dim)
    top, bottom, count = np.empty(len(thetas)), np.empty(len(thetas)), 0
    for i, theta in enumerate(thetas):
        H = hessian_operator(objective, theta)
        hi, lo = eigenpairs(H, 1, "LA", rng=rng), eigenpairs(H, 1, "SA", rng=rng)
        top[i], bottom[i], count = _only(hi), _only(lo), count + hi.n_hvp + lo.n_hvp
    return CurvatureAlong(top, bottom, count)


# ---------------------------------------------------------------------------------
# Conditioning (the counting, inertia, is in landscape.critical_point)
# ---------------------------------------------------------------------------------


def condition_number(eigenvalues: ArrayLike) -> float:
    """``max|λ| / min|λ|`` over ``eigenvalues`` (``(k,)``, pass the full spectrum).

    ``inf`` when an eigenvalue is exactly zero. For an indefinite Hessian the smallest
    ``|λ|`` is an interior eigenvalue, which extreme-end Lanczos does not find.
    """
    w = np.abs(finite_array(eigenvalues, "eigenvalues", ndim=1))
    if w.size == 0:
        raise ValueError("eigenvalues must not be empty")
    return float(np.inf) if w.min() == 0 else float(w.max() / w.min())


# ---------------------------------------------------------------------------------
# Lanczos tridiagonalization
# ---------------------------------------------------------------------------------


def lanczos(H: SymmetricMatrix, v0: ArrayLike, m: int) -> Lanczos:
    """``m`` steps of Lanczos on a symmetric ``H`` from ``v0`` (``(n,)``, nonzero).

    Full reorthogonalization (after the three-term recurrence, Gram-Schmidt against all
    previous vectors, twice when needed: :func:`landscape.krylov.orthogonalize`; cost
    ``O(n m^2)``) keeps the basis orthonormal to rounding, so the tridiagonal matrix's
    eigenvalues are faithful Ritz values and no spurious copies appear. Stops early when the
    Krylov space is exhausted (an invariant subspace, ``beta`` at rounding level). The
    small linear algebra runs with BLAS on one thread, the products at the caller's count.
    """
    op = as_symmetric_operator(H)
    n = op.shape[0]
    v = theta_vector(v0, n, "v0")
    m = integer(m, "m", 1)
    norm = np.linalg.norm(v)
    if norm == 0:
        raise ValueError("v0 must be nonzero")
    return Lanczos(*tridiagonalize(op, v / norm, min(m, n)))


def ritz(result: Lanczos) -> tuple[np.ndarray, np.ndarray]:
    """Eigenvalues ``(m,)`` and eigenvectors ``(m, m)`` of the Lanczos tridiagonal matrix."""
    return eigh_tridiagonal(result.alpha, result.beta)
