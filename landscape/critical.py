"""Critical points: tell them apart by the Hessian, find them, and watch optimizers pass them.

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
- :func:`escape_direction`: the eigenspace of the most negative eigenvalue, with its
  multiplicity; :func:`saddle_episodes`: spans of a run where the gradient is small while a
  negative eigenvalue exists, that eigenspace there, and the direction the run escaped along.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np
from scipy.sparse.linalg import lsqr

from landscape._checks import (
    choice,
    finite_array,
    integer,
    positive,
    real_in,
    theta_matrix,
    theta_vector,
)
from landscape.hessian import (
    RTOL,
    CountingOperator,
    eigenpairs,
    full_spectrum,
    hessian_operator,
    inertia,
)
from landscape.parallel import map_chunks

KINDS = ("minimum", "saddle", "maximum", "degenerate")

#: Default of saddle_episodes' rtol: a negative eigenvalue counts below -1% of the largest.
EPISODE_RTOL = 1e-2
#: Default relative spread of eigenvalues counted as one repeated smallest eigenvalue.
CLUSTER_RTOL = 1e-2


class CriticalPoint(NamedTuple):
    """A point classified by its Hessian's spectrum.

    theta : ndarray, shape ``(n,)``.
    loss, grad_norm : the loss and gradient norm at ``theta`` (the evidence that it is
        critical: the classification describes the Hessian wherever ``theta`` is).
    eigenvalues : ndarray, shape ``(n,)``, ascending.
    index : number of negative eigenvalues (``λ < -tol``); ``fraction = index / n``.
    n_zero : number of eigenvalues with ``|λ| <= tol`` (degenerate directions).
    kind : 'saddle' when there are negative and positive eigenvalues (a strict saddle,
        whatever the zeros), else 'degenerate' when some are zero (the second-order test
        cannot tell), else 'minimum' (all positive) or 'maximum' (all negative).
    tol : the zero tolerance used (:func:`landscape.hessian.zero_tolerance`).

    Networks with continuous symmetries are 'degenerate' at their minima, never 'minimum':
    a deep linear network's rescaling ``(W2, W1) -> (W2 A⁻¹, A W1)``, ReLU's positive
    rescaling between layers and dead units move along curves of equal loss, each direction
    of them a zero eigenvalue (``p²`` at every critical point of a linear network with ``p``
    hidden units). Use :meth:`is_local_min_candidate` (``index == 0`` at a small gradient)
    to pick the points that pass the second-order necessary test.
    """

    theta: np.ndarray
    loss: float
    grad_norm: float
    eigenvalues: np.ndarray
    index: int
    fraction: float
    n_zero: int
    kind: str
    tol: float

    def is_local_min_candidate(self, gtol: float = 1e-8) -> bool:
        """True when ``grad_norm <= gtol`` and no eigenvalue is negative (``index == 0``).

        The second-order necessary condition for a local minimum: every 'minimum' passes,
        and so does a 'degenerate' point with only zero and positive eigenvalues, such as a
        network's minimum on a manifold of symmetries. It is not sufficient: higher-order
        terms decide along the zero directions (the monkey saddle passes and is no minimum).
        ``gtol`` defaults to :func:`find_critical_point`'s.
        """
        return self.index == 0 and self.grad_norm <= gtol


class SearchResult(NamedTuple):
    """The end of one critical-point search: ``theta`` ``(n,)``, its ``grad_norm``, whether
    it ``converged`` (``grad_norm <= gtol``), iterations ``n_iter``, products ``n_hvp``."""

    theta: np.ndarray
    grad_norm: float
    converged: bool
    n_iter: int
    n_hvp: int


class LossIndex(NamedTuple):
    """Critical points' ``loss``, ``index`` and ``fraction`` of negative eigenvalues, each
    ``(k,)``, sorted by loss (Dauphin et al. 2014, Fig. 1)."""

    loss: np.ndarray
    index: np.ndarray
    fraction: np.ndarray


class Eigenspace(NamedTuple):
    """The eigenspace of a Hessian's smallest eigenvalue, with its multiplicity.

    value : float, the smallest eigenvalue ``λ_min``.
    basis : ndarray, shape ``(n, m)``, orthonormal eigenvectors of the ``m`` eigenvalues
        within ``cluster_rtol * |λ_min|`` of ``λ_min``: one repeated eigenvalue, split by
        rounding or by the distance from an exact critical point.
    eigenvalues : ndarray, shape ``(m,)``, ascending, ``eigenvalues[0] == value``.
    n_hvp : int, products spent.
    """

    value: float
    basis: np.ndarray
    eigenvalues: np.ndarray
    n_hvp: int

    @property
    def multiplicity(self) -> int:
        """``m``, the dimension of the eigenspace."""
        return self.basis.shape[1]


class SaddleEpisode(NamedTuple):
    """A span of recorded steps ``start..end`` (inclusive) with a small gradient and a
    negative eigenvalue.

    min_eigenvalue : the most negative eigenvalue seen in the span.
    at_step : the step of the span's smallest gradient norm, where the eigenspace is taken.
    escape_direction : ndarray, shape ``(n,)``, unit vector: the projection onto
        ``eigenspace`` of the run's move from ``at_step`` to the first record after the
        span, normalized; ``eigenspace[:, 0]`` when the run ended inside the span.
    eigenspace : ndarray, shape ``(n, m)``, orthonormal basis of the eigenspace of the most
        negative eigenvalue at ``at_step`` (see :class:`Eigenspace`). Where that eigenvalue
        is repeated, every unit vector in it descends equally fast, and which one the run
        takes depends on where it sat, so no single eigenvector predicts the escape.
    in_eigenspace : float in [0, 1], the fraction of that move's length inside the
        eigenspace (near 1: the run escaped along negative curvature); NaN when the run
        ended inside the span.
    """

    start: int
    end: int
    min_eigenvalue: float
    at_step: int
    escape_direction: np.ndarray
    eigenspace: np.ndarray
    in_eigenspace: float

    @property
    def multiplicity(self) -> int:
        """The multiplicity ``m`` of the most negative eigenvalue at ``at_step``."""
        return self.eigenspace.shape[1]


# ---------------------------------------------------------------------------------
# Classification
# ---------------------------------------------------------------------------------


def _kind(n_negative: int, n_zero: int, n_positive: int) -> str:
    if n_negative and n_positive:
        return "saddle"
    if n_zero:
        return "degenerate"
    return "minimum" if n_positive else "maximum"


def classify(objective, theta, rtol: float = RTOL, atol: float = 0.0,
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
    counts = inertia(w, rtol, atol)
    return CriticalPoint(theta, float(loss), float(np.linalg.norm(g)), w, counts.n_negative,
                         counts.n_negative / w.size, counts.n_zero, _kind(*counts[:3]),
                         counts.tol)


# ---------------------------------------------------------------------------------
# Finding critical points
# ---------------------------------------------------------------------------------


def _damped_solver(objective, theta, g, dense: bool, max_krylov: int):
    """``(solve, scale, counter)``: ``solve(damp)`` minimizes ``||H s + g||² + damp²||s||²``;
    ``scale = ||H g|| / ||g||``; ``counter()`` the products spent so far.

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


def find_critical_point(objective, theta0, gtol: float = 1e-8, max_iter: int = 200, *,
                        method: str = "auto", dense_max: int = 200, max_krylov: int = 100
                        ) -> SearchResult:
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
    dense = choice(method, ("auto", "dense", "lsqr"), "method") == "dense" or (
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
    """Indices of points kept: of each cluster within ``xtol * max(1, |θ|)``, the one with
    the smallest gradient norm."""
    kept: list[int] = []
    for i in np.argsort(grad_norms):
        radius = xtol * max(1.0, float(np.linalg.norm(thetas[i])))
        if all(np.linalg.norm(thetas[i] - thetas[j]) > radius for j in kept):
            kept.append(int(i))
    return kept


def find_critical_points(objective, starts, gtol: float = 1e-8, xtol: float = 1e-6,
                         max_iter: int = 200, rtol: float = RTOL, atol: float = 0.0, *,
                         executor=None, progress: bool = False) -> tuple[CriticalPoint, ...]:
    """Critical points found from each row of ``starts`` (``(k, n)``), deduplicated, classified.

    Searches that do not reach ``gtol`` are dropped; points closer than
    ``xtol * max(1, |θ|)`` count as one. Sorted by loss. For an MLP, ``starts`` drawn from
    random initializations and from points along training runs give the spread of losses
    and indices of Dauphin et al. (2014); see :func:`loss_and_index`.

    The searches (one per start) run on ``executor`` (None: serially; an int: that many
    local processes; any ``concurrent.futures.Executor`` or a dask Client, see
    :func:`landscape.parallel.map_chunks`); the result does not depend on it.
    """
    starts = theta_matrix(starts, objective.dim, "starts")
    xtol, gtol = positive(xtol, "xtol"), positive(gtol, "gtol")
    search = functools.partial(find_critical_point, objective, gtol=gtol, max_iter=max_iter)
    found = map_chunks(search, starts, executor, progress, desc="critical points")
    found = [f for f in found if f.converged]
    if not found:
        return ()
    thetas = np.array([f.theta for f in found])
    kept = _deduplicate(thetas, np.array([f.grad_norm for f in found]), xtol)
    points = [classify(objective, thetas[i], rtol, atol) for i in kept]
    return tuple(sorted(points, key=lambda p: p.loss))


def critical_points_in_box(objective, bounds=None, n_per_dim: int = 12, gtol: float = 1e-8,
                           xtol: float = 1e-6, max_iter: int = 200, rtol: float = RTOL,
                           atol: float = 0.0, *, executor=None, progress: bool = False
                           ) -> tuple[CriticalPoint, ...]:
    """All critical points of a low-dimensional objective inside a box, by multi-start.

    Starts form a grid of ``n_per_dim`` points per coordinate (cell centres) over
    ``bounds`` (``(n, 2)`` rows ``[low, high]``; default ``objective.bounds``); the searches
    run as in :func:`find_critical_points` (on ``executor``) and points outside the box are
    dropped. The grid has ``n_per_dim ** n`` starts, at most 100,000.
    """
    if bounds is None and not hasattr(objective, "bounds"):
        raise ValueError("bounds is required: the objective has no .bounds")
    bounds = finite_array(objective.bounds if bounds is None else bounds, "bounds", ndim=2)
    if bounds.shape != (objective.dim, 2) or np.any(bounds[:, 0] >= bounds[:, 1]):
        raise ValueError(f"bounds must have shape ({objective.dim}, 2) with low < high per row")
    n_per_dim = integer(n_per_dim, "n_per_dim", 1)
    if n_per_dim ** objective.dim > 100_000:
        raise ValueError(f"{n_per_dim}^{objective.dim} starts is too many: lower n_per_dim "
                         "or pass starts to find_critical_points")
    axes = [lo + (hi - lo) * (np.arange(n_per_dim) + 0.5) / n_per_dim for lo, hi in bounds]
    starts = np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, objective.dim)
    points = find_critical_points(objective, starts, gtol, xtol, max_iter, rtol, atol,
                                  executor=executor, progress=progress)
    return tuple(p for p in points
                 if np.all(p.theta >= bounds[:, 0]) and np.all(p.theta <= bounds[:, 1]))


def loss_and_index(points) -> LossIndex:
    """The ``(loss, index, fraction)`` of critical points, as arrays sorted by loss."""
    points = sorted(points, key=lambda p: p.loss)
    return LossIndex(np.array([p.loss for p in points], dtype=np.float64),
                     np.array([p.index for p in points], dtype=np.int64),
                     np.array([p.fraction for p in points], dtype=np.float64))


# ---------------------------------------------------------------------------------
# Saddles along a trajectory
# ---------------------------------------------------------------------------------


def _bottom_eigenspace(H, cluster_rtol: float, rng) -> Eigenspace:
    """The eigenspace of ``H``'s smallest eigenvalue: the bottom 4 pairs, doubled while
    every one of them lies within ``cluster_rtol * |λ_min|`` of ``λ_min``."""
    op, n = CountingOperator(H), H.shape[0]
    k = min(n, 4)
    while True:
        bottom = eigenpairs(op, k, "SA", rng=rng)
        w = bottom.eigenvalues
        inside = w - w[0] <= cluster_rtol * abs(w[0])
        if not inside.all() or k == n:
            return Eigenspace(float(w[0]), bottom.eigenvectors[:, inside], w[inside], op.count)
        k = min(n, 2 * k)


def escape_direction(objective, theta, rng=0, cluster_rtol: float = CLUSTER_RTOL) -> Eigenspace:
    """The most negative eigenvalue at ``theta`` (``(n,)``) and its eigenspace ``(n, m)``.

    Every unit vector of the eigenspace is a direction of fastest descent in curvature out
    of a saddle. Eigenvalues within ``cluster_rtol * |λ_min|`` of ``λ_min`` count as one
    repeated eigenvalue: at a point near, not at, a saddle with a repeated ``λ_min`` (a deep
    linear network's plateaus) its copies split by about the distance from the saddle
    times the third derivative; raise ``cluster_rtol`` if they split further, lower it when
    distinct eigenvalues lie within 1% of each other. Costs one Lanczos run for ``m <= 3``
    (the bottom 4 pairs, exact ``eigh`` for small ``n``), more for larger ``m``.
    """
    theta = theta_vector(theta, objective.dim)
    cluster_rtol = real_in(cluster_rtol, "cluster_rtol", 0.0)
    return _bottom_eigenspace(hessian_operator(objective, theta), cluster_rtol, rng)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``(first, last)`` index pairs of the maximal runs of True in ``mask``."""
    edges = np.diff(np.concatenate([[0], mask.astype(np.int8), [0]]))
    return list(zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1) - 1))


def saddle_episodes(objective, thetas, steps, grad_norms, gtol: float,
                    rtol: float = EPISODE_RTOL, rng=0, cluster_rtol: float = CLUSTER_RTOL
                    ) -> tuple[SaddleEpisode, ...]:
    """Spans of recorded points where ``grad_norm <= gtol`` and a negative eigenvalue exists.

    Parameters
    ----------
    objective : the objective the run optimized.
    thetas : ndarray, shape ``(k, n)``, the recorded points; ``steps`` ``(k,)`` their step
        numbers (ascending); ``grad_norms`` ``(k,)`` the gradient norms there.
    gtol : the gradient norm below which the run is "at" a critical point.
    rtol : a negative eigenvalue counts when ``λ_min < -rtol * max(|λ_min|, λ_max)``. The
        test is relative, so it does not change when the loss is rescaled. The default
        ``1e-2`` suits trained networks: the recorded points are only near critical, and
        near a minimum with flat directions (rescalings, overparameterization) the residual
        term of the Hessian has small negative eigenvalues that shrink with the gradient (a
        3-3-3 linear network: ``λ_min ≈ -0.3 ||g||``, -0.01 at ``||g|| = 0.03`` against
        ``λ_max = 6``), which a rounding-level ``rtol`` such as
        :data:`landscape.hessian.RTOL` (1e-6) reports as a saddle, merging the final
        approach to the minimum into the last episode. A real saddle's ``λ_min`` stays put
        as the gradient falls; lower ``rtol`` (1e-3) only for saddles that weak.
    rng : seeds the Lanczos start vectors.
    cluster_rtol : eigenvalues within ``cluster_rtol * |λ_min|`` of ``λ_min`` at ``at_step``
        form its eigenspace (see :func:`escape_direction`).

    Curvature (two Lanczos runs) is computed only at the points with a small gradient.
    Consecutive such points form one episode: ``start`` and ``end`` are the steps of its first
    and last point. At each episode's ``at_step`` the eigenspace of the most negative
    eigenvalue is computed (one more Lanczos run), and the run's next move is measured
    against it (:class:`SaddleEpisode`).
    """
    thetas = theta_matrix(thetas, objective.dim)
    steps = finite_array(steps, "steps", ndim=1)
    grad_norms = finite_array(grad_norms, "grad_norms", ndim=1)
    if not len(thetas) == len(steps) == len(grad_norms):
        raise ValueError(f"thetas, steps and grad_norms must have equal lengths, got "
                         f"{len(thetas)}, {len(steps)}, {len(grad_norms)}")
    gtol = real_in(gtol, "gtol", 0.0)
    cluster_rtol = real_in(cluster_rtol, "cluster_rtol", 0.0)
    lowest = np.full(len(thetas), np.inf)
    for i in np.flatnonzero(grad_norms <= gtol):
        H = hessian_operator(objective, thetas[i])
        lo = eigenpairs(H, 1, "SA", rng=rng).eigenvalues[0]
        hi = eigenpairs(H, 1, "LA", rng=rng).eigenvalues[-1]
        lowest[i] = lo if lo < -rtol * max(-lo, hi) else np.inf
    episodes = []
    for first, last in _runs(np.isfinite(lowest)):
        at = first + int(np.argmin(grad_norms[first:last + 1]))
        space = _bottom_eigenspace(hessian_operator(objective, thetas[at]), cluster_rtol, rng)
        move = thetas[last + 1] - thetas[at] if last + 1 < len(thetas) else None
        direction, inside = _escape(space.basis, move)
        episodes.append(SaddleEpisode(int(steps[first]), int(steps[last]),
                                      float(lowest[first:last + 1].min()), int(steps[at]),
                                      direction, space.basis, inside))
    return tuple(episodes)


def _escape(basis: np.ndarray, move: np.ndarray | None) -> tuple[np.ndarray, float]:
    """The unit projection of ``move`` (``(n,)``) onto the span of ``basis`` (``(n, m)``)
    and the fraction of its length there; ``(basis[:, 0], nan)`` without a move."""
    if move is None or not np.any(move):
        return basis[:, 0], float("nan")
    projected = basis @ (basis.T @ move)
    length = np.linalg.norm(projected)
    return projected / length, float(length / np.linalg.norm(move))
