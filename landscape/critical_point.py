"""The critical-point record, and how a point is classified from its Hessian's eigenvalues.

One record, :class:`CriticalPoint`, serves the points a search finds
(:func:`landscape.critical.find_critical_points`) and the points a synthetic function knows
(``landscape.functions.himmelblau().critical_points``): same fields, same kinds, built by
the same :meth:`CriticalPoint.from_eigenvalues`. The kinds are those of
:mod:`landscape.vocabulary`.

- :func:`zero_tolerance`: the magnitude below which an eigenvalue counts as zero;
- :func:`inertia`: counts of negative, zero and positive eigenvalues with that tolerance.

This module sits upstream of the objectives (``functions`` lists its known points in this
record); :mod:`landscape.hessian` re-exports ``RTOL``, :class:`Inertia`, :func:`inertia` and
:func:`zero_tolerance`.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from landscape._checks import finite_array
from landscape.records import record
from landscape.vocabulary import DEGENERATE, MAXIMUM, MINIMUM, SADDLE, Kind, Theta

#: Default relative tolerance below which an eigenvalue counts as zero (see zero_tolerance).
RTOL = 1e-6


@record
class Inertia(NamedTuple):
    """How many eigenvalues are negative, zero (``|λ| <= tol``) and positive."""

    n_negative: int
    n_zero: int
    n_positive: int
    tol: float


def zero_tolerance(eigenvalues: ArrayLike, rtol: float = RTOL, atol: float = 0.0) -> float:
    """The magnitude below which an eigenvalue counts as zero: ``max(rtol * max|λ|, atol)``.

    Why relative: eigenvalues computed from float64 HVPs carry absolute errors of a few
    ``eps * ||H||`` (``eigh`` and Lanczos are backward stable; the HVP is exact to
    rounding), and a critical point located to a gradient norm ``g`` moves the eigenvalues
    by about ``g * |f'''| / |λ|``, which for the gradient tolerances used here is a tiny
    fraction of ``||H||``. The default ``rtol = 1e-6`` sits well above both and far below
    the curvature that separates a minimum from a saddle. ``atol`` sets an absolute floor:
    when every eigenvalue vanishes (the monkey saddle, a deep linear network at the origin)
    the relative tolerance is 0 and only exact zeros count as zero; pass ``atol`` in the
    objective's own units to count rounding noise as zero too.
    """
    eigenvalues = finite_array(eigenvalues, "eigenvalues", ndim=1)
    if not (rtol >= 0 and atol >= 0):
        raise ValueError(f"rtol and atol must be >= 0, got {rtol}, {atol}")
    scale = float(np.max(np.abs(eigenvalues))) if eigenvalues.size else 0.0
    return max(rtol * scale, atol)


def inertia(eigenvalues: ArrayLike, rtol: float = RTOL, atol: float = 0.0) -> Inertia:
    """Counts of negative, zero and positive ``eigenvalues`` (``(k,)``).

    With :func:`zero_tolerance` ``tol``: ``λ < -tol``, ``|λ| <= tol``, ``λ > tol``.
    """
    tol = zero_tolerance(eigenvalues, rtol, atol)
    w = np.asarray(eigenvalues, dtype=np.float64)
    return Inertia(int(np.sum(w < -tol)), int(np.sum(np.abs(w) <= tol)), int(np.sum(w > tol)),
                   tol)


def _kind(counts: Inertia) -> Kind:
    """Saddle when both signs occur (whatever the zeros), else degenerate when a zero does."""
    if counts.n_negative and counts.n_positive:
        return SADDLE
    if counts.n_zero:
        return DEGENERATE
    return MINIMUM if counts.n_positive else MAXIMUM


@record
class CriticalPoint(NamedTuple):
    """A point classified by its Hessian's spectrum.

    theta : ndarray, shape ``(n,)``.
    loss, grad_norm : the loss and gradient norm at ``theta`` (the evidence that it is
        critical: the classification describes the Hessian wherever ``theta`` is).
    eigenvalues : ndarray, shape ``(n,)``, ascending.
    index : number of negative eigenvalues (``λ < -tol``); ``fraction = index / n``.
    n_zero : number of eigenvalues with ``|λ| <= tol`` (degenerate directions).
    kind : a :data:`~landscape.vocabulary.Kind`: 'saddle' when there are negative and
        positive eigenvalues (a strict saddle, whatever the zeros), else 'degenerate' when
        some are zero (the second-order test cannot tell), else 'minimum' (all positive) or
        'maximum' (all negative).
    tol : the zero tolerance used (:func:`zero_tolerance`).

    Networks with continuous symmetries are 'degenerate' at their minima, never 'minimum':
    a deep linear network's rescaling ``(W2, W1) -> (W2 A⁻¹, A W1)``, ReLU's positive
    rescaling between layers and dead units move along curves of equal loss, each direction
    of them a zero eigenvalue (``p²`` at every critical point of a linear network with ``p``
    hidden units). Use :meth:`is_local_min_candidate` (``index == 0`` at a small gradient)
    to pick the points that pass the second-order necessary test.
    """

    theta: Theta
    loss: float
    grad_norm: float
    eigenvalues: np.ndarray
    index: int  # type: ignore[assignment]  # shadows tuple.index: the index of a saddle
    fraction: float
    n_zero: int
    kind: Kind
    tol: float

    @classmethod
    def from_eigenvalues(cls, theta: Theta, loss: float, grad_norm: float,
                         eigenvalues: ArrayLike, rtol: float = RTOL, atol: float = 0.0
                         ) -> CriticalPoint:
        """The record of ``theta`` (``(n,)``) from its Hessian's ``eigenvalues``.

        ``eigenvalues``: ``(n,)``, ascending, counted with :func:`zero_tolerance`
        ``(rtol, atol)``.
        """
        w = np.asarray(eigenvalues, dtype=np.float64)
        counts = inertia(w, rtol, atol)
        return cls(theta, float(loss), float(grad_norm), w, counts.n_negative,
                   counts.n_negative / w.size, counts.n_zero, _kind(counts), counts.tol)

    def is_local_min_candidate(self, gtol: float = 1e-8) -> bool:
        """True when ``grad_norm <= gtol`` and no eigenvalue is negative (``index == 0``).

        The second-order necessary condition for a local minimum: every 'minimum' passes,
        and so does a 'degenerate' point with only zero and positive eigenvalues, such as a
        network's minimum on a manifold of symmetries. It is not sufficient: higher-order
        terms decide along the zero directions (the monkey saddle passes and is no minimum).
        ``gtol`` defaults to :func:`landscape.critical.find_critical_point`'s.
        """
        return self.index == 0 and self.grad_norm <= gtol
