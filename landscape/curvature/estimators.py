"""Trace and diagonal of a symmetric operator from its products, with standard errors.

- :func:`hutchpp_trace`: Hutch++ (Meyer, Musco, Musco and Woodruff 2021). A third of the
  products sketch the range, ``Q = orth(A S)``; a third give the trace there exactly,
  ``tr(Q^T A Q)``; the last third run Hutchinson's estimator on what is left,
  ``(I - QQ^T) A (I - QQ^T)``. When the spectrum decays (a network's Hessian, GGN or
  Fisher: a few outliers over a bulk near zero) the sketch captures the large
  eigenvalues and the random part only sees the small ones: for ``m`` products the error
  falls like ``1/m`` instead of Hutchinson's ``1/sqrt(m)``. Unbiased (the sketch and the
  probes are independent).
- :func:`hutchinson_diagonal`: Bekas, Kokiopoulou and Saad (2007): ``diag(A) = E[z * A z]``
  for Rademacher ``z``, entry ``j`` with variance ``sum_{k != j} A_jk^2`` per probe.
- The exact diagonal of the Gauss-Newton and Fisher operators of an MLP:
  :meth:`~landscape.curvature.GGNOperator.diagonal`.

Hutchinson's trace estimator itself is :func:`landscape.hutchinson_trace`; all three take a
LinearOperator or a dense symmetric array and count their products (``n_hvp``).
"""

from __future__ import annotations

import numpy as np

from landscape._checks import as_rng, integer
from landscape.curvature._outputs import DiagonalEstimate
from landscape.hessian import CountingOperator, SymmetricMatrix, as_symmetric_operator
from landscape.spectral_density import TraceEstimate
from landscape.vocabulary import RngLike


def _rademacher(rng: np.random.Generator, shape: tuple[int, int]) -> np.ndarray:
    return rng.choice([-1.0, 1.0], size=shape)


def _stderr(samples: np.ndarray) -> np.ndarray:
    """Standard error of the mean over axis 0 (inf for a single sample)."""
    if len(samples) < 2:
        return np.full(samples.shape[1:], np.inf)
    return samples.std(axis=0, ddof=1) / np.sqrt(len(samples))


def hutchpp_trace(H: SymmetricMatrix, n_matvecs: int = 99, *,
                  rng: RngLike = None) -> TraceEstimate:
    """Hutch++'s estimate of ``trace(H)`` from ``n_matvecs`` products.

    Parameters
    ----------
    H : LinearOperator or ndarray, shape ``(n, n)``, symmetric.
    n_matvecs : int, at least 3: ``n_matvecs // 3`` products sketch the range (at most
        ``n``), as many give its trace, and the rest probe the remainder.
    rng : int seed or Generator for the sketch and the probes (Rademacher).

    Returns
    -------
    TraceEstimate
        ``trace``; ``stderr``, the standard error of the Hutchinson part given the sketch
        (the sketched part is exact); ``n_hvp``, the products spent (``n_matvecs``, fewer
        when ``n`` is small).
    """
    op = CountingOperator(as_symmetric_operator(H))
    n = op.shape[0]
    m = integer(n_matvecs, "n_matvecs", 3)
    rng = as_rng(rng)
    k = min(m // 3, n)
    Q = np.linalg.qr(op.matmat(_rademacher(rng, (n, k))))[0]
    exact = float(np.sum(Q * op.matmat(Q)))
    probes = _rademacher(rng, (m - 2 * k, n))
    probes -= (probes @ Q) @ Q.T
    samples = np.array([g @ op.matvec(g) for g in probes])
    stderr = float(_stderr(samples[:, None])[0])
    return TraceEstimate(exact + float(samples.mean()), stderr, op.count)


def hutchinson_diagonal(H: SymmetricMatrix, n_probes: int = 100, *,
                        rng: RngLike = None) -> DiagonalEstimate:
    """Hutchinson's estimate of ``diag(H)`` from ``n_probes`` Rademacher probes.

    Parameters
    ----------
    H : LinearOperator or ndarray, shape ``(n, n)``, symmetric.
    n_probes : int, at least 1 (the standard error needs 2).
    rng : int seed or Generator for the probes.

    Returns
    -------
    DiagonalEstimate
        ``diagonal`` ``(n,)``, entrywise ``stderr`` ``(n,)`` (the sample standard deviation
        over probes over ``sqrt(n_probes)``; exact, zero error, for a diagonal ``H``),
        ``n_hvp``.
    """
    op = CountingOperator(as_symmetric_operator(H))
    n_probes = integer(n_probes, "n_probes", 1)
    z = _rademacher(as_rng(rng), (n_probes, op.shape[0]))
    samples = z * op.matmat(z.T).T
    return DiagonalEstimate(samples.mean(axis=0), _stderr(samples), op.count)
