"""Saddles along a trajectory: where a run lingers near a saddle and which way it escapes.

- :func:`escape_direction`: the eigenspace of the most negative Hessian eigenvalue at a
  point, with its multiplicity (:class:`Eigenspace`);
- :func:`saddle_episodes`: spans of a recorded run where the gradient is small while a
  negative eigenvalue exists, that eigenspace there, and the direction the run escaped
  along (:class:`SaddleEpisode`).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike
from scipy.sparse.linalg import LinearOperator

from landscape._checks import finite_array, real_in, theta_matrix, theta_vector
from landscape.hessian import CountingOperator, eigenpairs, hessian_operator
from landscape.objective import Objective
from landscape.records import record
from landscape.vocabulary import RngLike, Theta, Thetas

#: Default of saddle_episodes' rtol: a negative eigenvalue counts below -1% of the largest.
EPISODE_RTOL = 1e-2
#: Default relative spread of eigenvalues counted as one repeated smallest eigenvalue.
CLUSTER_RTOL = 1e-2


@record
class Eigenspace(NamedTuple):
    """The eigenspace of a Hessian's smallest eigenvalue, with its multiplicity.

    min_eigenvalue : float, the smallest eigenvalue ``λ_min``.
    eigenvectors : ndarray, shape ``(n, m)``, orthonormal columns, the eigenvectors of the
        ``m`` eigenvalues within ``cluster_rtol * |λ_min|`` of ``λ_min``: one repeated
        eigenvalue, split by rounding or by the distance from an exact critical point.
    eigenvalues : ndarray, shape ``(m,)``, ascending, ``eigenvalues[0] == min_eigenvalue``.
    n_hvp : int, products spent.
    """

    min_eigenvalue: float
    eigenvectors: np.ndarray
    eigenvalues: np.ndarray
    n_hvp: int

    @property
    def multiplicity(self) -> int:
        """``m``, the dimension of the eigenspace."""
        return self.eigenvectors.shape[1]


@record
class SaddleEpisode(NamedTuple):
    """A span of recorded steps with a small gradient and a negative eigenvalue.

    start, end : the span's first and last recorded steps (inclusive).
    min_eigenvalue : the most negative eigenvalue seen in the span.
    at_step : the step of the span's smallest gradient norm, where the eigenspace is taken.
    escape_direction : ndarray, shape ``(n,)``, unit vector: the run's move from ``at_step``
        to the first record after the span, projected onto the span of ``eigenvectors`` and
        normalized; ``eigenvectors[:, 0]`` when the run ended inside the span.
    eigenvectors : ndarray, shape ``(n, m)``, orthonormal columns spanning the eigenspace of
        the most negative eigenvalue at ``at_step`` (see :class:`Eigenspace`). Where that
        eigenvalue is repeated, every unit vector in it descends equally fast, and which one
        the run takes depends on where it sat, so no single eigenvector predicts the escape.
    in_eigenspace : float in [0, 1], the fraction of that move's length inside the
        eigenspace (near 1: the run escaped along negative curvature); NaN when the run
        ended inside the span.
    """

    start: int
    end: int
    min_eigenvalue: float
    at_step: int
    escape_direction: np.ndarray
    eigenvectors: np.ndarray
    in_eigenspace: float

    @property
    def multiplicity(self) -> int:
        """The multiplicity ``m`` of the most negative eigenvalue at ``at_step``."""
        return self.eigenvectors.shape[1]


def _bottom_eigenspace(H: LinearOperator, cluster_rtol: float, rng: RngLike) -> Eigenspace:
    """The eigenspace of ``H``'s smallest eigenvalue.

    The bottom 4 pairs, doubled while every one of them lies within
    ``cluster_rtol * |λ_min|`` of ``λ_min``.
    """
    op, n = CountingOperator(H), H.shape[0]
    k = min(n, 4)
    while True:
        bottom = eigenpairs(op, k, "SA", rng=rng)
        w = bottom.eigenvalues
        inside = w - w[0] <= cluster_rtol * abs(w[0])
        if not inside.all() or k == n:
            return Eigenspace(float(w[0]), bottom.eigenvectors[:, inside], w[inside], op.count)
        k = min(n, 2 * k)


def escape_direction(objective: Objective, theta: Theta, rng: RngLike = 0,
                     cluster_rtol: float = CLUSTER_RTOL) -> Eigenspace:
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


def saddle_episodes(objective: Objective, thetas: Thetas, steps: ArrayLike,
                    grad_norms: ArrayLike, gtol: float, rtol: float = EPISODE_RTOL,
                    rng: RngLike = 0, cluster_rtol: float = CLUSTER_RTOL
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
        direction, inside = _escape(space.eigenvectors, move)
        episodes.append(SaddleEpisode(int(steps[first]), int(steps[last]),
                                      float(lowest[first:last + 1].min()), int(steps[at]),
                                      direction, space.eigenvectors, inside))
    return tuple(episodes)


def _escape(basis: np.ndarray, move: np.ndarray | None) -> tuple[np.ndarray, float]:
    """The unit projection of ``move`` (``(n,)``) onto the span of ``basis`` (``(n, m)``).

    Also the fraction of its length there; ``(basis[:, 0], nan)`` without a move.
    """
    if move is None or not np.any(move):
        return basis[:, 0], float("nan")
    projected = basis @ (basis.T @ move)
    length = np.linalg.norm(projected)
    return projected / length, float(length / np.linalg.norm(move))
