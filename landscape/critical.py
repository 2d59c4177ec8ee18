"""Critical points: tell them apart by the Hessian, and find them.

- :func:`classify`: minimum, maximum, saddle (with its index, the number and fraction of
  negative eigenvalues) or degenerate, from the full Hessian spectrum, with the evidence.
- :func:`find_critical_point`: Levenberg-Marquardt (a damped Gauss-Newton method) on the
  squared gradient norm ``½||∇f||²`` using Hessian-vector products only: each step solves
  ``min_s ||H s + g||² + μ²||s||²`` by LSQR on the Hessian operator. The squared gradient
  norm vanishes at every critical point, so this converges to saddles and maxima as well
  as minima, the device Dauphin et al. (2014) used to map a network's critical points.
- :func:`find_critical_points`: many starts, deduplicated and classified;
  :func:`critical_points_in_box`: all critical points of a low-dimensional function over a
  box from a grid of starts; :func:`loss_and_index`: the ``(loss, index)`` relation of
  Dauphin et al. (2014, Fig. 1).

Every point is a :class:`~landscape.critical_point.CriticalPoint`, the record the synthetic
functions list their known points in. Saddles along a run: :mod:`landscape.escape`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Literal, NamedTuple, TypeAlias, get_args

import numpy as np
from numpy.typing import ArrayLike
from scipy.sparse.linalg import lsqr

from landscape._checks import (
    choice,
    finite_array,
    integer,
    positive,
    theta_matrix,
    theta_vector,
)
from landscape.critical_point import RTOL, CriticalPoint
from landscape.hessian import CountingOperator, full_spectrum, hessian_operator
from landscape.objective import Objective
from landscape.parallel import map_chunks
from landscape.records import record
from landscape.settings import Execution
from landscape.vocabulary import Theta, Thetas

#: How :func:`find_critical_point` solves its damped step: ``'auto'``, ``'dense'`` or ``'lsqr'``.
SolveMethod: TypeAlias = Literal["auto", "dense", "lsqr"]


@record
class SearchResult(NamedTuple):
    """The end of one critical-point search.

    ``theta`` ``(n,)``, its ``grad_norm``, whether it ``converged`` (``grad_norm <= gtol``),
    iterations ``n_iter``, products ``n_hvp``.
    """

    theta: np.ndarray
    grad_norm: float
    converged: bool
    n_iter: int
    n_hvp: int


@record
class LossIndex(NamedTuple):
    """Critical points' loss against index (Dauphin et al. 2014, Fig. 1).

    ``loss``, ``index`` and ``fraction`` of negative eigenvalues, each ``(k,)``, sorted by
    loss.
    """

    loss: np.ndarray
    index: np.ndarray  # type: ignore[assignment]  # shadows tuple.index, as CriticalPoint's
    fraction: np.ndarray


# ---------------------------------------------------------------------------------
# Classification
# ---------------------------------------------------------------------------------


def classify(objective: Objective, theta: Theta, rtol: float = RTOL, atol: float = 0.0,
             max_dim: int = 4000) -> CriticalPoint:
    """Classify ``theta`` (``(n,)``) by the full spectrum of the Hessian there.

    Costs ``n`` HVPs and an ``O(n^3)`` ``eigh``; ``n`` above ``max_dim`` raises ValueError
    (use :func:`landscape.hessian.eigenpairs` for the extremes of large models).
    ``rtol``, ``atol``: the zero tolerance, see :func:`landscape.hessian.zero_tolerance`.

    A network with continuous symmetries (rescalings, dead units) has zero eigenvalues at
    its global minimum, so it comes out 'degenerate', never 'minimum'; test
    :meth:`CriticalPoint.is_local_min_candidate` instead.
    """
    theta = theta_vector(theta, objective.dim)
    if objective.dim > max_dim:
        raise ValueError(f"classify needs the full spectrum: dim {objective.dim} > max_dim "
                         f"{max_dim}; raise max_dim or use eigenpairs() for the extremes")
    loss, g = objective.loss_and_grad(theta)
    w = full_spectrum(hessian_operator(objective, theta)).eigenvalues
    return CriticalPoint.from_eigenvalues(theta, loss, float(np.linalg.norm(g)), w, rtol, atol)


# ---------------------------------------------------------------------------------
# Finding critical points
# ---------------------------------------------------------------------------------


def _damped_solver(objective: Objective, theta: Theta, g: np.ndarray, dense: bool,
                   max_krylov: int) -> tuple[Callable[[float], np.ndarray], float,
                                             Callable[[], int]]:
    """``(solve, scale, counter)`` for the damped steps at ``theta``.

    ``solve(damp)`` minimizes ``||H s + g||² + damp²||s||²``; ``scale = ||H g|| / ||g||``;
    ``counter()`` the products spent so far.

    Dense: one eigendecomposition (``n`` HVPs), then every damping is free. Otherwise LSQR
    on the Hessian operator, two HVPs per iteration, at most ``max_krylov`` iterations.
    """
    op = CountingOperator(hessian_operator(objective, theta))
    norm = np.linalg.norm(g)
    if dense:
        spectrum = full_spectrum(op)
        w, q = spectrum.eigenvalues, spectrum.eigenvectors
        c = q.T @ g
        return (lambda damp: -q @ (w * c / (w * w + damp * damp)),
                float(np.linalg.norm(w * c) / norm), lambda: op.count)
    scale = float(np.linalg.norm(op.matvec(g)) / norm)
    return (lambda damp: lsqr(op, -g, damp=damp, atol=1e-10, btol=1e-10,
                              iter_lim=max_krylov)[0], scale, lambda: op.count)


def find_critical_point(objective: Objective, theta0: Theta, gtol: float = 1e-8,
                        max_iter: int = 200, *, method: SolveMethod = "auto", dense_max: int = 200,
                        max_krylov: int = 100) -> SearchResult:
    """Find a critical point near ``theta0`` (``(n,)``) by minimizing ``½||∇f||²``.

    Levenberg-Marquardt with HVPs: the step ``s`` minimizes ``||H s + g||² + μ²||s||²``;
    ``μ = λ ||H g|| / ||g||`` scales with the curvature along the gradient, and ``λ`` shrinks
    by 3 after a step that lowers ``||g||`` and grows by 10 until one does. With ``λ -> 0``
    this is Newton's method on ``∇f = 0``, quadratically convergent at nondegenerate
    critical points of any index. Stops when ``||g|| <= gtol`` (converged), after
    ``max_iter`` steps, or when no damping lowers ``||g||`` (a local minimum of ``||∇f||²``
    that is not critical: Frye et al. 2019 find such "gradient-flat" points common in
    networks, so expect some searches to fail).

    ``method``: ``'dense'`` solves the damped problem through the eigendecomposition of the
    Hessian (``n`` HVPs per step, retries free), ``'lsqr'`` by LSQR on the Hessian operator
    (at most ``max_krylov`` iterations of 2 HVPs per solve), ``'auto'`` dense when
    ``n <= dense_max``.
    """
    theta = theta_vector(theta0, objective.dim).copy()
    gtol = positive(gtol, "gtol")
    max_iter, max_krylov = integer(max_iter, "max_iter", 1), integer(max_krylov, "max_krylov", 1)
    dense = choice(method, get_args(SolveMethod), "method") == "dense" or (
        method == "auto" and objective.dim <= dense_max)
    g, lam, n_hvp = objective.grad(theta), 1.0, 0
    for it in range(max_iter):
        norm = float(np.linalg.norm(g))
        if norm <= gtol:
            return SearchResult(theta, norm, True, it, n_hvp)
        solve, scale, counter = _damped_solver(objective, theta, g, dense, max_krylov)
        while lam < 1e12:
            trial = theta + solve(lam * scale)
            g_trial = objective.grad(trial)
            if np.linalg.norm(g_trial) < norm:
                theta, g, lam = trial, g_trial, max(lam / 3, 1e-12)
                break
            lam *= 10
        n_hvp += counter()
        if lam >= 1e12:
            break
    norm = float(np.linalg.norm(g))
    return SearchResult(theta, norm, norm <= gtol, it + 1, n_hvp)


def _deduplicate(thetas: np.ndarray, grad_norms: np.ndarray, xtol: float) -> list[int]:
    """Indices of the points kept, one per cluster.

    Of each cluster within ``xtol * max(1, |θ|)``, the one with the smallest gradient norm.
    """
    kept: list[int] = []
    for i in np.argsort(grad_norms):
        radius = xtol * max(1.0, float(np.linalg.norm(thetas[i])))
        if all(np.linalg.norm(thetas[i] - thetas[j]) > radius for j in kept):
            kept.append(int(i))
    return kept


def find_critical_points(objective: Objective, starts: Thetas, gtol: float = 1e-8,
                         xtol: float = 1e-6, max_iter: int = 200, rtol: float = RTOL,
                         atol: float = 0.0, *,
                         execution: Execution | None = None) -> tuple[CriticalPoint, ...]:
    """Critical points found from each row of ``starts`` (``(k, n)``), deduplicated, classified.

    Searches that do not reach ``gtol`` are dropped; points closer than
    ``xtol * max(1, |θ|)`` count as one. Sorted by loss. For an MLP, ``starts`` drawn from
    random initializations and from points along training runs give the spread of losses
    and indices of Dauphin et al. (2014); see :func:`loss_and_index`.

    The searches (one per start) run as ``execution`` says (a
    :class:`~landscape.settings.Execution`, or None for the settings in force: serially
    by default, on processes or Dask, with a cache of finished searches); the result does
    not depend on it.
    """
    starts = theta_matrix(starts, objective.dim, "starts")
    xtol, gtol = positive(xtol, "xtol"), positive(gtol, "gtol")
    search = functools.partial(find_critical_point, objective, gtol=gtol, max_iter=max_iter)
    found = map_chunks(search, starts, execution, desc="critical points")
    found = [f for f in found if f.converged]
    if not found:
        return ()
    thetas = np.array([f.theta for f in found])
    kept = _deduplicate(thetas, np.array([f.grad_norm for f in found]), xtol)
    points = [classify(objective, thetas[i], rtol, atol) for i in kept]
    return tuple(sorted(points, key=lambda p: p.loss))


def critical_points_in_box(objective: Objective, bounds: ArrayLike | None = None,
                           n_per_dim: int = 12, gtol: float = 1e-8,
                           xtol: float = 1e-6, max_iter: int = 200, rtol: float = RTOL,
                           atol: float = 0.0, *, execution: Execution | None = None
                           ) -> tuple[CriticalPoint, ...]:
    """All critical points of a low-dimensional objective inside a box, by multi-start.

    Starts form a grid of ``n_per_dim`` points per coordinate (cell centres) over
    ``bounds`` (``(n, 2)`` rows ``[low, high]``; default ``objective.bounds``); the searches
    run as in :func:`find_critical_points` (as ``execution`` says) and points outside the box are
    dropped. The grid has ``n_per_dim ** n`` starts, at most 100,000.
    """
    bounds = getattr(objective, "bounds", None) if bounds is None else bounds
    if bounds is None:
        raise ValueError("bounds is required: the objective has no .bounds")
    bounds = finite_array(bounds, "bounds", ndim=2)
    if bounds.shape != (objective.dim, 2) or np.any(bounds[:, 0] >= bounds[:, 1]):
        raise ValueError(f"bounds must have shape ({objective.dim}, 2) with low < high per row")
    n_per_dim = integer(n_per_dim, "n_per_dim", 1)
    if n_per_dim ** objective.dim > 100_000:
        raise ValueError(f"{n_per_dim}^{objective.dim} starts is too many: lower n_per_dim "
                         "or pass starts to find_critical_points")
    axes = [lo + (hi - lo) * (np.arange(n_per_dim) + 0.5) / n_per_dim for lo, hi in bounds]
    starts = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, objective.dim)
    points = find_critical_points(objective, starts, gtol, xtol, max_iter, rtol, atol,
                                  execution=execution)
    return tuple(p for p in points
                 if np.all(p.theta >= bounds[:, 0]) and np.all(p.theta <= bounds[:, 1]))


def loss_and_index(points: Iterable[CriticalPoint]) -> LossIndex:
    """The ``(loss, index, fraction)`` of critical points, as arrays sorted by loss."""
    points = sorted(points, key=lambda p: p.loss)
    return LossIndex(np.array([p.loss for p in points], dtype=np.float64),
                     np.array([p.index for p in points], dtype=np.int64),
                     np.array([p.fraction for p in points], dtype=np.float64))
