"""The Hessian's eigenvalue density and trace for large ``n``, from HVPs alone.

Stochastic Lanczos quadrature (Ubaru, Chen and Saad 2017; Ghorbani, Krishnan and Xiao
2019): for a unit random probe ``v``, ``m`` Lanczos steps from ``v`` give a tridiagonal
matrix ``T`` with eigenpairs ``(θ_j, u_j)``; the nodes ``θ_j`` with weights
``τ_j = (u_j[0])²`` (summing to 1) are the Gauss quadrature rule of the measure
``Σ_i (v·q_i)² δ(λ - λ_i)``, whose expectation over ``v`` is the spectral density
``(1/n) Σ_i δ(λ - λ_i)``. Averaging over probes and replacing each node by a Gaussian of
width ``σ`` gives a smooth density ``φ(t) = mean_l Σ_j τ_lj N(t; θ_lj, σ²)``, which
integrates to 1 and has the same mean as the quadrature, ``mean_l v_lᵀ H v_l``.

Deflation. A network's Hessian has a few large outliers above a bulk near zero (Sagun et
al. 2017; Ghorbani et al. 2019), and they dominate the sampling error: the mean of one
probe's rule, ``vᵀ H v``, has standard deviation about ``sqrt(2 / n_eff)`` times the mean,
``n_eff = (Σλ)² / Σλ²`` being a handful. With ``deflate=k`` the ``k`` largest eigenpairs
are computed exactly (:func:`~landscape.hessian.eigenpairs`) and given mass ``1/n`` each,
and the probes sample only their orthogonal complement (the operator ``P H P``,
``P = I - V Vᵀ``), which takes the error of the mean from tens of percent to a fraction of
a percent.

Hutchinson's estimator: ``tr(H) = E[zᵀ H z]`` for Rademacher ``z`` (entries ±1), with
variance ``2 Σ_{i≠j} H_ij²`` per probe.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike
from scipy.sparse.linalg import LinearOperator
from scipy.special import ndtr

from landscape._checks import as_rng, finite_array, integer
from landscape.hessian import (
    CountingOperator,
    SymmetricMatrix,
    as_symmetric_operator,
    eigenpairs,
    lanczos,
    ritz,
)
from landscape.krylov import Deflated
from landscape.records import record
from landscape.vocabulary import RngLike


@record
class SpectralDensity(NamedTuple):
    """An estimated eigenvalue density of a symmetric ``n x n`` operator.

    grid : ndarray, shape ``(g,)``, ascending eigenvalue axis.
    density : ndarray, shape ``(g,)``, the Gaussian-broadened density on ``grid``; it
        integrates to 1 when ``grid`` covers the nodes by a few ``sigma`` (the default).
    nodes, weights : ndarray, shape ``(n_probes, m)``: each probe's quadrature rule for the
        spectrum left after deflation (rows of weights sum to 1; a probe whose Krylov space
        was exhausted in fewer than ``m`` steps is padded with zero-weight copies of its
        last node).
    outliers : ndarray, shape ``(k,)``: the deflated largest eigenvalues, exact, mass
        ``1/n`` each; empty without deflation.
    n : the operator's dimension.
    sigma : the Gaussian broadening width.
    n_hvp : products spent, deflation included.
    """

    grid: np.ndarray
    density: np.ndarray
    nodes: np.ndarray
    weights: np.ndarray
    outliers: np.ndarray
    n: int
    sigma: float
    n_hvp: int

    def mean(self) -> float:
        """The density's mean, an estimate of ``trace(H) / n``."""
        rest = np.mean(np.sum(self.weights * self.nodes, axis=1))
        return float((self.outliers.sum() + (self.n - self.outliers.size) * rest) / self.n)

    def cdf(self, x: ArrayLike) -> np.ndarray:
        """The broadened density's mass below ``x`` (scalar or array), exactly (no grid)."""
        x = np.asarray(x, dtype=np.float64)
        rest = np.sum(self.weights * ndtr((x[..., None, None] - self.nodes) / self.sigma), -1)
        outliers = np.sum(ndtr((x[..., None] - self.outliers) / self.sigma), -1)
        return (outliers + (self.n - self.outliers.size) * np.mean(rest, -1)) / self.n


@record
class TraceEstimate(NamedTuple):
    """Hutchinson's estimate of a trace.

    ``trace``, its standard error ``stderr`` (sample standard deviation over probes /
    sqrt(n_probes)), ``n_hvp`` products spent.
    """

    trace: float
    stderr: float
    n_hvp: int


def _quadrature(op: LinearOperator, v: np.ndarray, m: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights (each ``(m,)``) of one probe's Gauss quadrature rule."""
    theta, u = ritz(lanczos(op, v, m))
    nodes, weights = np.full(m, theta[-1]), np.zeros(m)
    nodes[: theta.size], weights[: theta.size] = theta, u[0] ** 2
    return nodes, weights


def _gaussians(grid: np.ndarray, centers: np.ndarray, weights: np.ndarray,
               sigma: float) -> np.ndarray:
    """``Σ_j weights_j N(grid; centers_j, σ²)``, shape ``grid.shape``.

    Computed in chunks of the grid so that the kernel matrix stays below about 2**22
    entries.
    """
    out = np.empty_like(grid)
    step = max(1, 2**22 // max(1, centers.size))
    for s in range(0, grid.size, step):
        z = (grid[s:s + step, None] - centers[None, :]) / sigma
        out[s:s + step] = np.exp(-0.5 * z * z) @ weights
    return out / (sigma * np.sqrt(2 * np.pi))


def _grid(grid: ArrayLike | None, lo: float, hi: float, sigma: float,
          n_grid: int | None) -> np.ndarray:
    if grid is None:
        lo, hi = lo - 5 * sigma, hi + 5 * sigma
        n_grid = int(np.ceil(4 * (hi - lo) / sigma)) + 1 if n_grid is None else n_grid
        return np.linspace(lo, hi, integer(n_grid, "n_grid", 2))
    grid = finite_array(grid, "grid", ndim=1)
    if grid.size < 2 or np.any(np.diff(grid) <= 0):
        raise ValueError("grid must be strictly ascending with at least 2 points")
    return grid


def spectral_density(H: SymmetricMatrix, n_probes: int = 10, m: int = 80, *,
                     deflate: int = 0, rng: RngLike = None, sigma: float | None = None,
                     grid: ArrayLike | None = None, n_grid: int | None = None
                     ) -> SpectralDensity:
    """Stochastic Lanczos quadrature estimate of the eigenvalue density of a symmetric ``H``.

    Parameters
    ----------
    H : LinearOperator or ndarray, shape ``(n, n)``, symmetric (e.g.
        :func:`landscape.hessian.hessian_operator`).
    n_probes : number of random unit probes (Gaussian, normalized).
    m : Lanczos steps per probe (at most ``n - deflate``); cost ``n_probes * m`` products.
    deflate : number of largest eigenvalues to compute exactly and remove from the
        sampled part (see the module notes); ``0 <= deflate < n``.
    rng : int seed or Generator for the probes and the deflation's start vector.
    sigma : Gaussian broadening width; default 1% of the span of nodes and outliers (or
        1 when they all coincide).
    grid : ndarray ``(g,)``, ascending, where to evaluate the density; default ``n_grid``
        points from the smallest node ``- 5 sigma`` to the largest ``+ 5 sigma``, by
        default spaced ``sigma / 4`` (fine enough for the trapezoid rule to integrate the
        Gaussians to 1 within rounding).

    Returns
    -------
    SpectralDensity
    """
    op = CountingOperator(as_symmetric_operator(H))
    n = op.shape[0]
    n_probes, m = integer(n_probes, "n_probes", 1), integer(m, "m", 1)
    deflate = integer(deflate, "deflate", 0)
    if deflate >= n:
        raise ValueError(f"deflate must be < n = {n}, got {deflate}")
    rng = as_rng(rng)
    outliers, V = np.zeros(0), np.zeros((n, 0))
    if deflate:
        top = eigenpairs(op, deflate, "LA", rng=rng)
        outliers, V = top.eigenvalues, top.eigenvectors
    rest = Deflated(op, V)
    probes = rng.standard_normal((n_probes, n))
    probes -= (probes @ V) @ V.T
    rules = [_quadrature(rest, v, min(m, n - deflate)) for v in probes]
    nodes, weights = np.array([r[0] for r in rules]), np.array([r[1] for r in rules])
    every = np.concatenate([nodes.ravel(), outliers])
    lo, hi = float(every.min()), float(every.max())
    if sigma is None:
        sigma = 0.01 * (hi - lo) if hi > lo else 1.0
    elif not (np.isfinite(sigma) and sigma > 0):
        raise ValueError(f"sigma must be a positive number, got {sigma!r}")
    grid = _grid(grid, lo, hi, sigma, n_grid)
    density = (_gaussians(grid, outliers, np.ones(deflate), sigma)
               + (n - deflate) / n_probes * _gaussians(grid, nodes.ravel(), weights.ravel(),
                                                       sigma)) / n
    return SpectralDensity(grid, density, nodes, weights, outliers, n, float(sigma), op.count)


def hutchinson_trace(H: SymmetricMatrix, n_probes: int = 100, *, rng: RngLike = None
                     ) -> TraceEstimate:
    """Hutchinson's estimate of ``trace(H)`` from ``n_probes`` Rademacher probes.

    ``H``: LinearOperator or ndarray ``(n, n)``, symmetric. The estimate is unbiased with
    variance ``2 Σ_{i≠j} H_ij² / n_probes``: exact for a diagonal ``H``.
    """
    op = CountingOperator(as_symmetric_operator(H))
    n_probes = integer(n_probes, "n_probes", 1)
    z = as_rng(rng).choice([-1.0, 1.0], size=(n_probes, op.shape[0]))
    step = max(1, 2**22 // op.shape[0])  # probes per matmat (a torch objective's threads)
    samples = np.array([v @ hv for s in range(0, n_probes, step)
                        for v, hv in zip(z[s:s + step], op.matmat(z[s:s + step].T).T)])
    stderr = float(samples.std(ddof=1) / np.sqrt(n_probes)) if n_probes > 1 else float("inf")
    return TraceEstimate(float(samples.mean()), stderr, op.count)
