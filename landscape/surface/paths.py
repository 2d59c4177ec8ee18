"""Paths between two points of parameter space, and the loss along them.

:func:`curve` gives the loss along a path; :func:`fit_bezier` trains the bend of a
quadratic Bezier path to connect two minima (mode connectivity, Garipov et al. 2018).

A quadratic Bezier path ``phi(t) = (1-t)^2 start + 2t(1-t) bend + t^2 end`` lies in the
plane through ``start`` spanned by ``bend - start`` and ``end - start``, at the coordinates
:func:`bezier_coords`, so a curve is evaluated through ``objective.losses_in_span`` like a
grid; with the midpoint as bend it is the straight line ``start + t (end - start)``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from landscape._checks import (
    as_rng,
    finite_array,
    integer,
    positive,
    probed_metrics,
    seed_of,
    theta_vector,
)
from landscape.objective import Objective, ObjectiveBase, check_objective
from landscape.optim import adam
from landscape.records import record
from landscape.runner import run
from landscape.settings import Execution
from landscape.surface.grid import evaluate, span_of
from landscape.surface.records import Curve
from landscape.vocabulary import Metric, RngLike, Theta, Thetas

# ---------------------------------------------------------------------------------
# Bezier paths
# ---------------------------------------------------------------------------------


def bezier_coords(t: ArrayLike) -> np.ndarray:
    """Coordinates ``(2 t (1 - t), t^2)`` of the quadratic Bezier path, shape ``(k, 2)``.

    ``phi(t) = (1-t)^2 start + 2t(1-t) bend + t^2 end = start + 2t(1-t) (bend - start)
    + t^2 (end - start)``: the path lies in the plane through ``start`` spanned by
    ``bend - start`` and ``end - start``, at these coordinates. ``t``: shape ``(k,)``, in
    [0, 1].
    """
    t = finite_array(t, "t", ndim=1)
    if np.any((t < 0) | (t > 1)):
        raise ValueError("t must lie in [0, 1]")
    return np.stack([2 * t * (1 - t), t**2], axis=1)


def _points(start: Theta, bend: Theta, end: Theta, t: ArrayLike) -> Thetas:
    return start + bezier_coords(t) @ np.stack([bend - start, end - start])


def bezier(start: ArrayLike, bend: ArrayLike, end: ArrayLike, t: ArrayLike) -> Thetas:
    """Points ``(1-t)^2 start + 2t(1-t) bend + t^2 end`` of a quadratic Bezier path, ``(k, n)``.

    ``start``, ``bend``, ``end``: shape ``(n,)``; ``t``: shape ``(k,)``, in [0, 1]. With
    ``bend = (start + end) / 2`` it is the straight line ``start + t (end - start)``.
    """
    start = finite_array(start, "start", ndim=1)
    bend, end = (theta_vector(x, start.size, name) for x, name in ((bend, "bend"), (end, "end")))
    return _points(start, bend, end, t)


# ---------------------------------------------------------------------------------
# The loss along a path
# ---------------------------------------------------------------------------------


def _t_span(span: ArrayLike, kind: str) -> tuple[float, float]:
    """The curve's ``(t_low, t_high)``; a Bezier path only on ``(0, 1)``."""
    if np.shape(span) != (2,):
        raise ValueError(f"span must be a pair (t_low, t_high), got {span!r}")
    lo, hi = span_of(span, "span")
    if kind == "bezier" and (lo, hi) != (0.0, 1.0):
        raise ValueError(f"span: a Bezier path is defined on t in [0, 1] only, got {span!r}; "
                         "extend only a straight line (bend=None)")
    return lo, hi


def curve(objective: Objective, start: ArrayLike, end: ArrayLike, bend: ArrayLike | None = None,
          resolution: int = 101, span: ArrayLike = (0.0, 1.0), *,
          metrics: Mapping[str, Metric] | None = None,
          execution: Execution | None = None) -> Curve:
    """The loss along the quadratic Bezier path from ``start`` through ``bend`` to ``end``.

    Without ``bend`` the path is the straight line ``(1 - t) start + t end`` (Goodfellow,
    Vinyals and Saxe 2015), a line through ``start`` along ``end - start``. A bent path lies
    in the plane through ``start`` spanned by ``bend - start`` and ``end - start``
    (:func:`bezier_coords`). Either is evaluated through ``objective.losses_in_span`` like
    a grid.

    Parameters
    ----------
    objective : an Objective.
    start, end : array_like, shape ``(n,)``.
    bend : array_like, shape ``(n,)``, or None (the midpoint: a straight line).
    resolution : int, points in ``t``, evenly spaced over ``span``.
    span : pair ``(t_low, t_high)``. The straight line extends past its end points (say
        ``(-0.5, 1.5)``, as in Goodfellow et al.'s plots); a Bezier path is defined on
        ``(0, 1)`` only, and any other span for it raises ValueError.
    metrics, execution : as in :func:`landscape.surface.line`.

    Returns
    -------
    Curve
    """
    start = theta_vector(start, check_objective(objective).dim, "start")
    end = theta_vector(end, objective.dim, "end")
    if np.array_equal(start, end):
        raise ValueError("start and end are the same point: a curve needs two different points")
    kind = "linear" if bend is None else "bezier"
    lo, hi = _t_span(span, kind)
    t = np.linspace(lo, hi, integer(resolution, "resolution", 2))
    if bend is None:
        middle, rows, coords = 0.5 * (start + end), (end - start)[None], t[:, None]
    else:
        middle = theta_vector(bend, objective.dim, "bend")
        rows, coords = np.stack([middle - start, end - start]), bezier_coords(t)
    values, measured = evaluate(objective, start, rows, coords,
                                probed_metrics(metrics, objective, start), execution, kind)
    return Curve(start, middle, end, (t,), values, measured,
                 {"kind": kind, "span": [lo, hi], "resolution": t.size})


# ---------------------------------------------------------------------------------
# Training the bend
# ---------------------------------------------------------------------------------


@record
class BezierFit(NamedTuple):
    """A quadratic Bezier path trained between two fixed end points.

    start, bend, end : ndarray, shape ``(n,)``.
    history : ndarray, shape ``(steps,)``: the mean loss of the sampled points at each step
        (a noisy estimate of the training objective ``E_t L(phi(t))``).
    t_per_step, learning_rate : the settings of the training loop; seed : the int seed or None.
    """

    start: np.ndarray
    bend: np.ndarray
    end: np.ndarray
    history: np.ndarray
    t_per_step: int
    learning_rate: float
    seed: int | None


class _PathLoss(ObjectiveBase):
    """``l(bend) = E_{t ~ U[0, 1]} L(phi_bend(t))`` as an objective of the bend ``(n,)``.

    Each ``loss_and_grad`` is a fresh stratified estimate: one uniform draw of ``t`` in each
    of ``t_per_step`` equal sub-intervals of [0, 1] (unbiased, with less variance than
    independent draws), the mean loss there and the mean of ``2 t (1 - t) grad L(phi(t))``.
    ``loss`` alone draws nothing: it takes the sub-intervals' midpoints.
    """

    def __init__(self, objective: Objective, start: Theta, end: Theta, t_per_step: int,
                 rng: np.random.Generator) -> None:
        self.objective, self.start, self.end = objective, start, end
        self.dim, self.t_per_step, self.rng = objective.dim, t_per_step, rng

    def _mean(self, bend: Theta, t: np.ndarray) -> tuple[float, Theta]:
        g = np.zeros_like(bend)
        total = 0.0
        for weight, point in zip(2 * t * (1 - t), _points(self.start, bend, self.end, t)):
            value, grad = self.objective.loss_and_grad(point)
            total += value
            g += weight * grad
        return total / self.t_per_step, g / self.t_per_step

    def _strata(self, offsets: float | np.ndarray) -> np.ndarray:
        return (np.arange(self.t_per_step) + offsets) / self.t_per_step

    def _loss_and_grad(self, bend: Theta) -> tuple[float, Theta]:
        return self._mean(bend, self._strata(self.rng.uniform(size=self.t_per_step)))

    def _loss(self, bend: Theta) -> float:
        return self._mean(bend, self._strata(0.5))[0]


def fit_bezier(objective: Objective, start: ArrayLike, end: ArrayLike,
               bend: ArrayLike | None = None, steps: int = 500, learning_rate: float = 0.01,
               t_per_step: int = 4, rng: RngLike = None) -> BezierFit:
    """Train the bend of a quadratic Bezier path between two minima (Garipov et al. 2018).

    Minimizes ``l(bend) = E_{t ~ U[0, 1]} L(phi_bend(t))`` with
    ``phi_bend(t) = (1-t)^2 start + 2t(1-t) bend + t^2 end``. Its gradient is
    ``E_t[2 t (1 - t) grad L(phi_bend(t))]``; each step estimates it with ``t_per_step``
    stratified samples of ``t`` (one uniform draw in each of ``t_per_step`` equal
    sub-intervals of [0, 1]: unbiased, with less variance than independent draws) and takes
    an :func:`~landscape.optim.adam` step on the bend, through :func:`~landscape.runner.run`.
    The end points stay fixed. A non-finite loss or gradient ends the training early.

    Parameters
    ----------
    objective : an Objective (``loss_and_grad`` is used).
    start, end : array_like, shape ``(n,)``: the two minima.
    bend : array_like, shape ``(n,)``, or None for the midpoint (the straight line).
    steps : int, the number of Adam steps.
    learning_rate : float, Adam's step size.
    t_per_step : int, samples of ``t`` per step.
    rng : int seed or ``numpy.random.Generator``.

    Returns
    -------
    BezierFit
    """
    start, end = (theta_vector(x, objective.dim, name) for x, name in ((start, "start"),
                                                                      (end, "end")))
    bend = 0.5 * (start + end) if bend is None else theta_vector(bend, objective.dim, "bend")
    steps, t_per_step = integer(steps, "steps", 1), integer(t_per_step, "t_per_step", 1)
    learning_rate = positive(learning_rate, "learning_rate")
    path_loss = _PathLoss(objective, start, end, t_per_step, as_rng(rng))
    trained = run(path_loss, bend, adam(learning_rate), steps, record_every=steps,
                  diverge_factor=None)
    return BezierFit(start, trained.final_theta, end, trained.batch_loss[:steps], t_per_step,
                     learning_rate, seed_of(rng))
