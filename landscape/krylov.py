"""Lanczos: the step, the plain tridiagonalization, and the thick-restart eigensolver.

The solvers behind :func:`landscape.hessian.lanczos` (stochastic Lanczos quadrature) and
:func:`landscape.hessian.eigenpairs`, on operators already checked there, and the operators
they need: :class:`SymmetricOperator` (the base of the Hessian and of every curvature
operator) and :class:`Deflated` (an operator without some of its eigenvectors).

Lanczos builds an orthonormal basis ``V`` (``(n, m)``) of the Krylov space of a start
vector, one operator product per step, with ``H V = V T + f e_mᵀ`` and ``T = Vᵀ H V``
symmetric (tridiagonal; after a restart an arrow borders it). An eigenpair ``(θ, s)`` of the
small ``T`` gives the Ritz pair ``(θ, V s)``, whose residual is
``‖H V s - θ V s‖ = ‖f‖ |s_m|``, known without another product.

Stopping rule. :func:`thick_restart_lanczos` computes these residuals after every product
and stops as soon as each of the ``k`` wanted Ritz pairs (the largest or the smallest Ritz
values) has ``‖H y - θ y‖ <= tol |θ|``. This is ARPACK's rule (``scipy.sparse.linalg.eigsh``),
with the same meaning of ``tol``; ARPACK checks it only when its ``ncv`` vectors are full,
so it spends at least ``ncv`` products, where this stops at the first product that meets
it. A converged eigenvalue's error is at most its residual, and about ``residual² / gap``
when the gap to the rest of the spectrum is larger than the residual (Saad, *Numerical
Methods for Large Eigenvalue Problems*, 2011, Theorem 3.8 and Proposition 4.5): ``tol = 1e-6``
typically gives eigenvalues correct to 1e-10 or better.

Full reorthogonalization: after the three-term recurrence each new vector is orthogonalized
against the whole basis (classical Gram-Schmidt, a second pass when the first removed much:
:func:`orthogonalize`), ``O(n m)`` per step, so the basis stays orthonormal to rounding and
converged eigenvalues do not come back as spurious copies.

Thick restart (Wu and Simon 2000; Stathopoulos, Saad and Wu 1998): when the basis holds
``ncv`` vectors it is compressed to the ``p = k + (ncv - k) // 2`` Ritz vectors nearest the
wanted end, the residual ``f`` becomes the next basis vector, ``T`` becomes
``diag(θ_kept)`` bordered by the couplings ``‖f‖ s_m`` of the kept vectors to ``f``, and
Lanczos goes on from there. Memory stays ``n (ncv + 1)`` numbers, and the kept vectors
carry the Krylov information, so a restart costs few products (unlike restarting from one
vector).

Small linear algebra on one BLAS thread: between products the solver does matrix-vector
products with the ``(n, m)`` basis and eigendecompositions of ``m x m`` matrices
(``m <= ncv``, tens), sizes at which a BLAS thread pool spends its time synchronizing (on a
2-core machine two threads made a top-1 call 2.4 times slower than one, and on a loaded one
a top-5 call of the tiny benchmark network 30 times slower). The solver holds BLAS at one
thread (:func:`landscape.parallel.one_blas_thread`) for that work, whatever the basis's size:
holding it only from 9,216 basis entries (where OpenBLAS starts threading a matrix-vector
product) left the tiny network's top-5 (353 parameters) at 30-44 ms against 6.0 at one
thread on a loaded machine, and 6.4 ms held throughout. Entering and leaving cost about
5 us a step. The products themselves run at the caller's thread count.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from scipy.sparse.linalg import LinearOperator

from landscape.parallel import one_blas_thread

#: Relative size of ``‖f‖`` below which the Krylov space counts as exhausted.
BREAKDOWN = 1e-12
#: A Gram-Schmidt pass that leaves less than this fraction of ``w`` is repeated.
DGKS = 0.717


class SymmetricOperator(LinearOperator):
    """A float64 LinearOperator that is symmetric by construction.

    Its adjoint is itself, and :func:`landscape.hessian.as_symmetric_operator` trusts it
    without probing.
    """

    _matvec: Callable[[np.ndarray], np.ndarray]  # each subclass defines its product

    def __init__(self, n: int):
        # scipy-stubs type LinearOperator's construction by __new__ alone (no __init__).
        super().__init__(np.dtype(np.float64), (n, n))  # type: ignore[call-arg]

    def _rmatvec(self, v: np.ndarray) -> np.ndarray:
        return self._matvec(v)

    def _adjoint(self) -> SymmetricOperator:
        return self


class Deflated(SymmetricOperator):
    """``P H P`` with ``P = I - Y Yᵀ`` (``Y`` ``(n, r)``, orthonormal columns): ``H`` without them.

    Lanczos from a start in the range of ``P`` stays there: the rest of the spectrum.
    """

    def __init__(self, op: LinearOperator, Y: np.ndarray):
        super().__init__(op.shape[0])
        self.op, self.Y = op, Y

    def project(self, v: np.ndarray) -> np.ndarray:
        """``P v``, ``(n,)``."""
        return v - self.Y @ (self.Y.T @ v)

    def _matvec(self, v: np.ndarray) -> np.ndarray:
        return self.project(self.op.matvec(self.project(np.ravel(v))))


class Ritz(NamedTuple):
    """Ritz pairs of :func:`thick_restart_lanczos`.

    eigenvalues : ``(r,)`` ascending; eigenvectors : ``(n, r)`` orthonormal columns;
    converged : whether all ``k`` wanted pairs met the tolerance (when not, ``r < k`` and
    only the wanted pairs that met it are returned).
    """

    eigenvalues: np.ndarray
    eigenvectors: np.ndarray
    converged: bool


def orthogonalize(basis: np.ndarray, j: int, w: np.ndarray, beta: float) -> tuple[float, float]:
    """Finish a Lanczos step: ``w = H v_j`` (``(n,)``) against ``basis[:, :j + 1]``, in place.

    ``basis`` ``(n, >= j + 1)`` has orthonormal columns, ``v_j = basis[:, j]``, and ``beta``
    is ``v_{j-1}ᵀ H v_j`` (0 for a first vector or one that follows a restart). The
    three-term recurrence (``α v_j`` and ``β v_{j-1}`` subtracted) is followed by a full
    Gram-Schmidt pass against the basis, repeated once when it removed more than 30% of what
    was left (the criterion of Daniel, Gragg, Kaufman and Stewart 1976, ARPACK's 0.717):
    after the recurrence one pass is nearly always enough, and two passes are enough.

    Returns ``(alpha, size)``: ``alpha = v_jᵀ H v_j`` and ``size = ‖H v_j‖`` (the scale of
    the breakdown test).
    """
    size = float(np.linalg.norm(w))
    alpha = float(basis[:, j] @ w)
    w -= alpha * basis[:, j]
    if beta:
        w -= beta * basis[:, j - 1]
    before = np.linalg.norm(w)
    for _ in range(2):
        w -= basis[:, : j + 1] @ (basis[:, : j + 1].T @ w)
        after = np.linalg.norm(w)
        if after > DGKS * before:
            break
        before = after
    return alpha, size


def tridiagonalize(op: LinearOperator, v0: np.ndarray, m: int
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``m`` Lanczos steps from the unit vector ``v0`` (``(n,)``), ``1 <= m <= n``.

    Returns ``(alpha (m',), beta (m' - 1,), basis (n, m'))`` with ``m' = m``, or fewer when
    the Krylov space is exhausted (``beta`` at rounding level): the fields of
    :class:`landscape.hessian.Lanczos`. The small linear algebra runs with BLAS on one
    thread, the products at the caller's count.
    """
    basis = np.zeros((v0.size, m), order="F")  # columns contiguous
    alpha, beta = np.zeros(m), np.zeros(m - 1)
    basis[:, 0] = v0
    scale = float(np.finfo(float).tiny)
    for j in range(m):
        w = op.matvec(basis[:, j])
        with one_blas_thread():
            alpha[j], size = orthogonalize(basis, j, w, beta[j - 1] if j else 0.0)
            b = float(np.linalg.norm(w))
        scale = max(scale, size)
        if j == m - 1:
            break
        if b <= BREAKDOWN * scale:
            return alpha[: j + 1], beta[:j], basis[:, : j + 1]
        beta[j] = b
        basis[:, j + 1] = w / b
    return alpha, beta, basis


def _wanted(m: int, count: int, largest: bool) -> np.ndarray:
    """The positions of the ``count`` wanted values among ``m`` ascending Ritz values."""
    count = min(count, m)
    return np.arange(m - count, m) if largest else np.arange(count)


def _orthogonal_start(basis: np.ndarray, m: int, rng: np.random.Generator) -> np.ndarray:
    """A random unit vector orthogonal to ``basis[:, :m]`` (after a breakdown)."""
    v = rng.standard_normal(size=(basis.shape[0],))
    for _ in range(2):
        v -= basis[:, :m] @ (basis[:, :m].T @ v)
    return v / np.linalg.norm(v)


def thick_restart_lanczos(op: LinearOperator, k: int, largest: bool, v0: np.ndarray,
                          tol: float, ncv: int, maxiter: int,
                          rng: np.random.Generator) -> Ritz:
    """The ``k`` largest (or smallest) eigenpairs of a symmetric ``op`` by restarted Lanczos.

    Repeated eigenvalues: one start vector's Krylov space holds one copy of each
    eigenvalue, and further copies come in only as rounding seeds them, so Lanczos may
    converge with a copy missing and the next eigenvalue in its place. When two of the
    pairs found agree to 1e-8 (a repeated eigenvalue), the solver therefore locks them and
    finds the extreme eigenpair of the rest of the space (Lanczos on ``P H P``,
    ``P = I - Y Yᵀ``, from a random start): a copy there replaces the least wanted pair
    found, and the check repeats; otherwise the pairs stand. This costs products only
    when a repeated eigenvalue was found.

    Parameters
    ----------
    op : symmetric LinearOperator ``(n, n)`` (not checked here; products are its cost).
    k : wanted pairs, ``1 <= k < ncv``.
    largest : True for the largest algebraic eigenvalues, False for the smallest.
    v0 : ndarray ``(n,)``, nonzero start vector.
    tol : residual tolerance, ``‖H y - θ y‖ <= tol |θ|`` (``0``: machine epsilon); ``|θ|``
        is floored at ``eps^(2/3)`` times the largest ``|θ|``, so a zero eigenvalue can
        converge.
    ncv : basis vectors held before a restart, ``k < ncv <= n``.
    maxiter : the most fillings of the basis (the first one and each after a restart).
    rng : draws a new direction when the Krylov space is exhausted. One start vector's
        Krylov space holds one copy of each eigenvalue, and an exhausted one (an
        invariant subspace) may leave copies of the wanted eigenvalues outside: so the
        solver then goes on from a random direction orthogonal to it, and stops after an
        exhaustion only with a full basis (ARPACK's rule), where the pairs are exact.

    Returns
    -------
    Ritz
        At most ``k`` pairs, ascending.
    """
    found = _restarted(op, k, largest, v0, tol, ncv, maxiter, rng)
    while found.converged and _repeated(found.eigenvalues):
        rest = Deflated(op, found.eigenvectors)
        start = rest.project(rng.standard_normal(size=(op.shape[0],)))
        extra = _restarted(rest, 1, largest, start, tol, ncv, maxiter, rng)
        value = extra.eigenvalues[:1]
        if not (extra.converged and (value > found.eigenvalues[0] if largest
                                     else value < found.eigenvalues[-1]).all()):
            break
        values = np.concatenate([found.eigenvalues, value])
        vectors = np.hstack([found.eigenvectors, extra.eigenvectors])
        order = np.argsort(values)[-k:] if largest else np.argsort(values)[:k]
        order = order[np.argsort(values[order])]
        found = Ritz(values[order], vectors[:, order], True)
    return found


def _repeated(values: np.ndarray) -> bool:
    """Whether two of the ascending ``values`` agree to 1e-8 of the largest ``|value|``."""
    return values.size > 1 and bool(np.any(np.diff(values) <= 1e-8 * np.max(np.abs(values))))


def _restarted(op: LinearOperator, k: int, largest: bool, v0: np.ndarray, tol: float,
               ncv: int, maxiter: int, rng: np.random.Generator) -> Ritz:
    """:func:`thick_restart_lanczos` without the check for missing copies."""
    tol = tol if tol > 0 else float(np.finfo(float).eps)
    keep = k + (ncv - k) // 2
    basis, T = np.zeros((op.shape[0], ncv), order="F"), np.zeros((ncv, ncv))
    basis[:, 0] = v0 / np.linalg.norm(v0)
    start, scale = 0, float(np.finfo(float).tiny)
    for cycle in range(1, maxiter + 1):
        for j in range(start, ncv):
            w = op.matvec(basis[:, j])
            with one_blas_thread():
                T[j, j], size = orthogonalize(basis, j, w, T[j, j - 1] if j > start else 0.0)
                scale, beta = max(scale, size), float(np.linalg.norm(w))
                exhausted = beta <= BREAKDOWN * scale
                theta, S = np.linalg.eigh(T[: j + 1, : j + 1])
                bounds = np.zeros(j + 1) if exhausted else beta * np.abs(S[j])
                floor = np.finfo(float).eps ** (2 / 3) * np.max(np.abs(theta))
                met = bounds <= tol * np.maximum(np.abs(theta), floor)
                want = _wanted(j + 1, k, largest)
                if j + 1 >= k and np.all(met[want]) and (not exhausted or j + 1 == ncv):
                    return Ritz(theta[want], basis[:, : j + 1] @ S[:, want], True)
                if j + 1 < ncv:
                    basis[:, j + 1] = (_orthogonal_start(basis, j + 1, rng) if exhausted
                                       else w / beta)
                    T[j, j + 1] = T[j + 1, j] = 0.0 if exhausted else beta
        if cycle == maxiter:
            break
        kept = _wanted(ncv, keep, largest)
        with one_blas_thread():
            basis[:, :keep] = basis @ S[:, kept]
        basis[:, keep] = w / beta
        T[:] = 0.0
        T[np.arange(keep), np.arange(keep)] = theta[kept]
        T[keep, :keep] = T[:keep, keep] = beta * S[-1, kept]
        start = keep
    done = want[met[want]]
    with one_blas_thread():
        return Ritz(theta[done], basis @ S[:, done], False)
