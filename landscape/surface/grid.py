"""The loss on a grid of coordinates in a line, a plane or ``d`` directions.

:func:`line`, :func:`plane` and :func:`grid`, and the chunked evaluation at
``center + coords @ directions`` that they and :func:`curve` share.

Points go through ``objective.losses_in_span`` in chunks, mapped by
:func:`landscape.parallel.map_chunks` as the :class:`~landscape.settings.Execution` says.
A grid's chunks are ranges of its points in ij order, whose coordinates each chunk makes
for itself, so no call holds the coordinates of a whole grid.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Mapping, Sequence
from functools import partial
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike

from landscape._checks import (
    finite_array,
    integer,
    metric_functions,
    metric_values,
    probed_metrics,
    theta_matrix,
    theta_vector,
)
from landscape.directions import Directions, TrajectoryLike, trajectory_points
from landscape.objective import Objective, check_objective
from landscape.parallel import N_CHUNKS, map_chunks
from landscape.settings import Execution, resolve
from landscape.surface.projection import coordinates
from landscape.surface.records import Surface, grid_coords
from landscape.vocabulary import Metric, Theta, Thetas

# ---------------------------------------------------------------------------------
# Evaluation in chunks
# ---------------------------------------------------------------------------------


def _evaluate_chunk(objective: Objective, center: Theta, directions: Thetas,
                    metrics: dict[str, Metric], coords: np.ndarray
                    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Losses ``(c,)`` at ``center + coords @ directions`` and each metric's values there.

    Non-finite losses are NaN; the metrics' values ``(c,)`` are computed one point at a time.
    """
    with np.errstate(all="ignore"):
        values = objective.losses_in_span(center, directions, coords)
        measured = {name: np.empty(len(coords)) for name in metrics}
        for i, c in enumerate(coords):
            theta = center + c @ directions
            for name, value in zip(metrics, metric_values(metrics, objective, theta)):
                measured[name][i] = value
    return np.where(np.isfinite(values), values, np.nan), measured


def _grid_chunk(objective: Objective, center: Theta, directions: Thetas,
                metrics: dict[str, Metric], axes: tuple[np.ndarray, ...],
                bounds: tuple[int, int]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """:func:`_evaluate_chunk` at the grid points ``start:stop`` (ij order) of ``axes``."""
    return _evaluate_chunk(objective, center, directions, metrics, grid_coords(axes, *bounds))


def _chunk_bounds(k: int, n: int, memory_budget: float) -> list[tuple[int, int]]:
    """``(start, stop)`` of each chunk of ``k`` points in ``n`` parameters.

    At most ``memory_budget // (8 n)`` points (their parameter vectors) and at most
    ``ceil(k / N_CHUNKS)``, at least one.
    """
    size = max(1, min(-(-k // N_CHUNKS), int(memory_budget // (8 * n))))
    return [(s, min(s + size, k)) for s in range(0, k, size)]


def _gathered(results: list, metrics: dict[str, Metric]
              ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    values = np.concatenate([r[0] for r in results])
    return values, {name: np.concatenate([r[1][name] for r in results]) for name in metrics}


def evaluate(objective: Objective, center: Theta, directions: Thetas, coords: np.ndarray,
             metrics: dict[str, Metric], execution: Execution | None,
             desc: str) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Losses ``(k,)`` and metrics (name -> ``(k,)``) at ``center + coords @ directions``.

    The ``k`` points are evaluated in chunks (:func:`_chunk_bounds`).
    """
    settings = resolve(execution)
    chunks = [coords[s:e] for s, e in _chunk_bounds(len(coords), center.size,
                                                     settings.memory_budget)]
    work = partial(_evaluate_chunk, objective, center, directions, metrics)
    return _gathered(map_chunks(work, chunks, settings, desc), metrics)


def _evaluate_grid(objective: Objective, center: Theta, directions: Thetas,
                   axes: tuple[np.ndarray, ...], metrics: dict[str, Metric],
                   settings: Execution, desc: str) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """:func:`evaluate` at the points of the grid ``axes`` (ij order), chunks made of ranges."""
    chunks = _chunk_bounds(math.prod(len(a) for a in axes), center.size, settings.memory_budget)
    work = partial(_grid_chunk, objective, center, directions, metrics, axes)
    return _gathered(map_chunks(work, chunks, settings, desc), metrics)


#: ``plane(..., span='auto', cover=path)`` reaches this fraction beyond the path's farthest
#: projected point on each axis.
COVER_MARGIN = 0.1

# ---------------------------------------------------------------------------------
# Checking the grid's settings
# ---------------------------------------------------------------------------------


def _direction_rows(d: ArrayLike | Directions, dim: int, count: int | None
                    ) -> tuple[np.ndarray, dict[str, Any]]:
    """The direction rows ``(count, dim)`` and the settings to record.

    ``count`` None: any number of rows.
    """
    info: dict[str, Any] = {"directions": "given"}
    if isinstance(d, Directions):
        info = {"directions": d.kind, **dict(d.meta)}
        if d.explained_variance is not None:
            info["explained_variance"] = d.explained_variance.tolist()
        d = d.vectors
    rows = theta_matrix(np.atleast_2d(d), dim, "directions")
    if count is not None and rows.shape[0] != count:
        raise ValueError(f"need {count} direction(s) of length {dim}, got shape {rows.shape}")
    if np.any(np.linalg.norm(rows, axis=1) == 0):
        raise ValueError("a direction is zero")
    _check_independent(rows)
    return rows, info


def _check_independent(rows: np.ndarray) -> None:
    """A ValueError when two direction rows are parallel: the grid would be a line.

    Parallel: ``|cos|`` equal to 1 within rounding.
    """
    unit = rows / np.linalg.norm(rows, axis=1, keepdims=True)
    cos = np.abs(unit @ unit.T)
    np.fill_diagonal(cos, 0.0)
    if np.any(cos >= 1.0 - 1e-12):
        i, j = np.unravel_index(np.argmax(cos), cos.shape)
        raise ValueError(f"directions {min(i, j)} and {max(i, j)} are parallel (a plane's d1 "
                         "and d2, say): the grid would be a line; pass independent directions")


def span_of(span: ArrayLike, name: str) -> tuple[float, float]:
    """``(low, high)`` from a positive number ``s`` (``[-s, s]``) or a pair ``low < high``."""
    s = finite_array(span, name)
    if s.ndim == 0:
        if s <= 0:
            raise ValueError(f"{name} as one number must be positive (the grid is [-s, s])")
        return -float(s), float(s)
    if s.shape != (2,) or not s[0] < s[1]:
        raise ValueError(f"{name} must be a positive number s or a pair (low, high) with "
                         f"low < high, got {span!r}")
    return float(s[0]), float(s[1])


def _per_axis(value: Any, name: str, ndim: int, count: int) -> list[Any]:
    """One setting per axis of a ``count``-axis grid.

    ``value`` (of ``ndim`` dimensions) for every axis, or a sequence of ``count`` of them.
    """
    a = finite_array(value, name)
    if a.ndim <= ndim:
        return [value] * count
    if a.ndim != ndim + 1 or len(a) != count:
        raise ValueError(f"{name} must be one setting for all {count} axes or one per axis, "
                         f"got {value!r}")
    return list(value)


def _spans_and_resolutions(span: ArrayLike, resolution: ArrayLike, count: int
                           ) -> tuple[list[tuple[float, float]], list[int]]:
    spans = [span_of(s, f"span[{i}]") for i, s in enumerate(_per_axis(span, "span", 1, count))]
    res = [integer(r, f"resolution[{i}]", 2)
           for i, r in enumerate(_per_axis(resolution, "resolution", 0, count))]
    return spans, res


# ---------------------------------------------------------------------------------
# Lines and planes
# ---------------------------------------------------------------------------------


def _grid(objective: Objective, center: Theta, rows: Thetas, axes: tuple[np.ndarray, ...],
          metrics: Mapping[str, Metric] | None, execution: Execution | None,
          meta: dict[str, Any]) -> Surface:
    metrics = probed_metrics(metrics, objective, center)
    values, measured = _evaluate_grid(objective, center, rows, axes, metrics,
                                      resolve(execution), f"{meta['kind']} {len(axes[0])}")
    shape = tuple(len(a) for a in axes)
    return Surface(center, rows, axes, values.reshape(shape),
                   {name: m.reshape(shape) for name, m in measured.items()}, meta)


def line(objective: Objective, center: ArrayLike, direction: ArrayLike | Directions,
         span: ArrayLike = 1.0, resolution: int = 51, *,
         metrics: Mapping[str, Metric] | None = None,
         execution: Execution | None = None) -> Surface:
    """The loss at ``center + alpha * direction`` for ``alpha`` on a regular grid.

    Parameters
    ----------
    objective : an Objective.
    center : array_like, shape ``(n,)``.
    direction : array_like, shape ``(n,)``, or a one-row :class:`Directions`.
    span : a positive number ``s`` (``alpha`` in ``[-s, s]``) or a pair ``(low, high)``.
    resolution : int, the number of grid points.
    metrics : dict or None, name -> ``fn(objective, theta) -> float``, as in
        :func:`landscape.runner.run`: also recorded at every grid point (one call per
        point; module-level functions for process or Dask executors and for a cache).
    execution : :class:`~landscape.settings.Execution` or None (the settings in force):
        the executor, progress bar, chunk cache and memory budget. With a cache, a re-run
        of the same grid (same objective, center, directions, coordinates and metrics)
        computes only the missing chunks.

    Returns
    -------
    Surface with ``d = 1``.
    """
    center = theta_vector(center, check_objective(objective).dim, "center")
    rows, info = _direction_rows(direction, objective.dim, 1)
    lo, hi = span_of(span, "span")
    resolution = integer(resolution, "resolution", 2)
    meta = {"kind": "line", **info, "span": [lo, hi], "resolution": resolution}
    return _grid(objective, center, rows, (np.linspace(lo, hi, resolution),), metrics,
                 execution, meta)


def plane(objective: Objective, center: ArrayLike, d1: ArrayLike | Directions,
          d2: ArrayLike | None = None, span: ArrayLike | Literal["auto"] = 1.0,
          resolution: ArrayLike = 51, *,
          cover: TrajectoryLike | Sequence[TrajectoryLike] | None = None,
          metrics: Mapping[str, Metric] | None = None,
          execution: Execution | None = None) -> Surface:
    """The loss at ``center + a d1 + b d2`` on a regular ``(a, b)`` grid.

    Parameters
    ----------
    objective : an Objective.
    center : array_like, shape ``(n,)``.
    d1, d2 : array_like, shape ``(n,)`` each; or ``d1`` a two-row :class:`Directions` (or
        ``(2, n)`` array) and ``d2`` None. A Directions record's kind and settings go into
        ``meta``.
    span : a positive number ``s`` (``[-s, s]``), a pair ``(low, high)``, or one of those
        per axis: ``((a_low, a_high), (b_low, b_high))``; or ``'auto'``: per axis
        ``[-s, s]`` with ``s`` 10% beyond the farthest point of ``cover`` projected on the
        plane (:data:`COVER_MARGIN`), so the drawn path lies inside the picture and the
        center stays in its middle.
    resolution : int, or ``(n_a, n_b)``: grid points per axis.
    cover : the path(s) the ``'auto'`` span covers (only with it): a ``(k, n)`` array of
        points or a trajectory record (with ``thetas``), or a sequence of them, as
        :func:`~landscape.directions.pca_directions` takes them.
    metrics, execution : as in :func:`line`.

    Returns
    -------
    Surface with ``d = 2``; ``values[i, j]`` is the loss at ``(axes[0][i], axes[1][j])``.

    Raises
    ------
    ValueError
        ``span='auto'`` without ``cover``, ``cover`` without ``span='auto'``, or a ``cover``
        whose points all project on the center along an axis.
    """
    center = theta_vector(center, check_objective(objective).dim, "center")
    if d2 is None:
        rows, info = _direction_rows(d1, objective.dim, 2)
    elif isinstance(d1, Directions):
        raise ValueError("d1 is a Directions record, which holds both directions: pass it "
                         "with d2=None")
    else:
        pair = [theta_vector(d, objective.dim, name) for d, name in ((d1, "d1"), (d2, "d2"))]
        rows, info = _direction_rows(np.stack(pair), objective.dim, 2)
    if isinstance(span, str) and span == "auto":
        span = _covering_span(cover, center, rows)
    elif cover is not None:
        raise ValueError("cover is used only with span='auto' (the span covering it); "
                         f"got span={span!r}")
    spans, res = _spans_and_resolutions(span, resolution, 2)
    axes = tuple(np.linspace(lo, hi, r) for (lo, hi), r in zip(spans, res))
    meta = {"kind": "plane", **info, "span": [list(s) for s in spans], "resolution": res}
    return _grid(objective, center, rows, axes, metrics, execution, meta)


def _covering_span(cover: TrajectoryLike | Sequence[TrajectoryLike] | None, center: Theta,
                   rows: Thetas) -> list[tuple[float, float]]:
    """Per axis the span ``(-s, s)`` that covers the path(s) ``cover``.

    ``s`` is the farthest projected coordinate of ``cover`` times ``1 + COVER_MARGIN``.
    """
    if cover is None:
        raise ValueError("span='auto' needs cover=: the trajectory (or trajectories) whose "
                         "projection the span should cover")
    points = np.concatenate(trajectory_points(cover))
    if points.shape[1] != center.size:
        raise ValueError(f"cover must have points of length {center.size}, got "
                         f"{points.shape[1]}")
    coords, _ = coordinates(points, center, rows)
    reach = np.max(np.abs(coords), axis=0)
    if np.any(reach == 0):
        raise ValueError("cover's points all project on the center along an axis: span='auto' "
                         "has nothing to cover there; give the span")
    return [(-float(s), float(s)) for s in reach * (1 + COVER_MARGIN)]


def grid(objective: Objective, center: ArrayLike, directions: ArrayLike | Directions,
         span: ArrayLike = 1.0, resolution: ArrayLike = 11, *, d: int | None = None,
         metrics: Mapping[str, Metric] | None = None,
         execution: Execution | None = None) -> Surface:
    """The loss at ``center + sum_j c_j d_j`` on a regular grid in ``d`` directions.

    A plane has ``d = 2``; three to five directions (the top Hessian eigenvectors, principal
    components, random or filter-normalized directions) show what a plane hides, at a cost
    that grows as ``resolution ** d``: 11 points per axis are 1,331 points in three
    directions and 161,051 in five. The grid goes through the same chunks, executors,
    caches and memory budget as a plane.

    The memory: the call holds the values of every point (and of every metric), 8 bytes
    each, for its whole length, and each chunk works within what the budget leaves:
    ``memory_budget`` minus those bytes. A grid whose values alone need the whole
    ``memory_budget`` is refused before anything is computed, the error stating the points
    and bytes: raise the budget (``ls.execution(memory_budget=...)``) or lower the
    resolution.

    Parameters
    ----------
    objective : an Objective.
    center : array_like, shape ``(n,)``.
    directions : a :class:`Directions` record or array_like, shape ``(k, n)``: the first
        ``d`` rows are the grid's axes. A Directions record's kind and settings go into
        ``meta``.
    span : a positive number ``s`` (``[-s, s]``), a pair ``(low, high)``, or one of those
        per axis (``d`` of them).
    resolution : int, or ``d`` ints: grid points per axis.
    d : int or None, the number of directions to use (``1 <= d <= k``); None: all ``k``.
    metrics, execution : as in :func:`line`.

    Returns
    -------
    Surface with ``d`` axes; ``values[i, j, ...]`` is the loss at
    ``(axes[0][i], axes[1][j], ...)``; ``meta['points']`` is the number of points.

    Raises
    ------
    ValueError
        Naming the argument: ``d`` larger than the number of directions, a span or
        resolution of the wrong length, a grid whose values exceed ``memory_budget``.
    """
    center = theta_vector(center, check_objective(objective).dim, "center")
    rows, info = _direction_rows(directions, objective.dim, None)
    d = len(rows) if d is None else integer(d, "d", 1)
    if d > len(rows):
        raise ValueError(f"d = {d} is larger than the number of directions ({len(rows)})")
    rows = rows[:d]
    if "explained_variance" in info:
        info["explained_variance"] = info["explained_variance"][:d]
    spans, res = _spans_and_resolutions(span, resolution, d)
    measured = metric_functions(metrics)
    points = math.prod(res)
    held = 8.0 * points * (1 + len(measured))
    settings = resolve(execution)
    if held >= settings.memory_budget:
        raise ValueError(
            f"resolution {' x '.join(map(str, res))} is {points:,} points in {d} directions: "
            f"their values take {held:,.0f} bytes, more than memory_budget "
            f"({settings.memory_budget:,.0f} bytes); lower the resolution or raise the budget")
    axes = tuple(np.linspace(lo, hi, r) for (lo, hi), r in zip(spans, res))
    meta = {"kind": "grid", **info, "span": [list(s) for s in spans], "resolution": res,
            "points": points}
    within = dataclasses.replace(settings, memory_budget=settings.memory_budget - held)
    return _grid(objective, center, rows, axes, measured, within, meta)
