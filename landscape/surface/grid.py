"""The loss on a grid of coordinates in a line or a plane: :func:`line` and :func:`plane`, and
the chunked evaluation at ``center + coords @ directions`` that they and :func:`curve` share.

Points go through ``objective.losses_in_span`` in chunks, mapped by
:func:`landscape.parallel.map_chunks` as the :class:`~landscape.settings.Execution` says.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from landscape._checks import finite_array, integer, metric_functions, theta_matrix, theta_vector
from landscape.directions import Directions
from landscape.objective import Objective
from landscape.parallel import N_CHUNKS, map_chunks
from landscape.settings import Execution, resolve
from landscape.surface.records import Surface, grid_coords
from landscape.vocabulary import Metric, Theta, Thetas

# ---------------------------------------------------------------------------------
# Evaluation in chunks
# ---------------------------------------------------------------------------------


def _evaluate_chunk(objective: Objective, center: Theta, directions: Thetas,
                    metrics: dict[str, Metric], coords: np.ndarray
                    ) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Losses ``(c,)`` at ``center + coords @ directions`` (non-finite ones as NaN) and each
    metric's values ``(c,)`` there, one point at a time."""
    with np.errstate(all="ignore"):
        values = objective.losses_in_span(center, directions, coords)
        measured = {name: np.empty(len(coords)) for name in metrics}
        for i, c in enumerate(coords):
            theta = center + c @ directions
            for name, fn in metrics.items():
                measured[name][i] = float(fn(objective, theta))
    return np.where(np.isfinite(values), values, np.nan), measured


def evaluate(objective: Objective, center: Theta, directions: Thetas, coords: np.ndarray,
             metrics: dict[str, Metric], execution: Execution | None,
             desc: str) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Losses ``(k,)`` and metrics (name -> ``(k,)``) at the ``k`` points
    ``center + coords @ directions``, in chunks.

    A chunk takes at most ``memory_budget // (8 n)`` points (their parameter vectors) and
    at most ``ceil(k / N_CHUNKS)``, at least one.
    """
    settings = resolve(execution)
    k, n = len(coords), center.size
    size = max(1, min(-(-k // N_CHUNKS), int(settings.memory_budget // (8 * n))))
    chunks = [coords[s:s + size] for s in range(0, k, size)]
    work = partial(_evaluate_chunk, objective, center, directions, metrics)
    results = map_chunks(work, chunks, settings, desc)
    values = np.concatenate([r[0] for r in results])
    return values, {name: np.concatenate([r[1][name] for r in results]) for name in metrics}


# ---------------------------------------------------------------------------------
# Checking the grid's settings
# ---------------------------------------------------------------------------------


def _direction_rows(d: ArrayLike | Directions, dim: int, count: int
                    ) -> tuple[np.ndarray, dict[str, Any]]:
    """``count`` direction rows ``(count, dim)`` and the settings to record."""
    info: dict[str, Any] = {"directions": "given"}
    if isinstance(d, Directions):
        info = {"directions": d.kind, **dict(d.meta)}
        if d.explained_variance is not None:
            info["explained_variance"] = d.explained_variance.tolist()
        d = d.vectors
    rows = theta_matrix(np.atleast_2d(d), dim, "directions")
    if rows.shape[0] != count:
        raise ValueError(f"need {count} direction(s) of length {dim}, got shape {rows.shape}")
    if np.any(np.linalg.norm(rows, axis=1) == 0):
        raise ValueError("a direction is zero")
    return rows, info


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


def _two(value: Any, name: str, ndim: int) -> list[Any]:
    """One setting per axis of a plane: ``value`` (of ``ndim`` dimensions) for both, or a pair."""
    a = finite_array(value, name)
    if a.ndim <= ndim:
        return [value, value]
    if a.ndim != ndim + 1 or len(a) != 2:
        raise ValueError(f"{name} must be one setting for both axes or one per axis, got {value!r}")
    return list(value)


# ---------------------------------------------------------------------------------
# Lines and planes
# ---------------------------------------------------------------------------------


def _grid(objective: Objective, center: Theta, rows: Thetas, axes: tuple[np.ndarray, ...],
          metrics: Mapping[str, Metric] | None, execution: Execution | None,
          meta: dict[str, Any]) -> Surface:
    values, measured = evaluate(objective, center, rows, grid_coords(axes),
                                metric_functions(metrics), execution,
                                f"{meta['kind']} {len(axes[0])}")
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
    center = theta_vector(center, objective.dim, "center")
    rows, info = _direction_rows(direction, objective.dim, 1)
    lo, hi = span_of(span, "span")
    resolution = integer(resolution, "resolution", 2)
    meta = {"kind": "line", **info, "span": [lo, hi], "resolution": resolution}
    return _grid(objective, center, rows, (np.linspace(lo, hi, resolution),), metrics,
                 execution, meta)


def plane(objective: Objective, center: ArrayLike, d1: ArrayLike | Directions,
          d2: ArrayLike | None = None, span: ArrayLike = 1.0, resolution: ArrayLike = 51, *,
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
        per axis: ``((a_low, a_high), (b_low, b_high))``.
    resolution : int, or ``(n_a, n_b)``: grid points per axis.
    metrics, execution : as in :func:`line`.

    Returns
    -------
    Surface with ``d = 2``; ``values[i, j]`` is the loss at ``(axes[0][i], axes[1][j])``.
    """
    center = theta_vector(center, objective.dim, "center")
    if d2 is None:
        rows, info = _direction_rows(d1, objective.dim, 2)
    else:
        pair = [theta_vector(d, objective.dim, name) for d, name in ((d1, "d1"), (d2, "d2"))]
        rows, info = _direction_rows(np.stack(pair), objective.dim, 2)
    spans = [span_of(s, f"span[{i}]") for i, s in enumerate(_two(span, "span", 1))]
    res = [integer(r, f"resolution[{i}]", 2)
           for i, r in enumerate(_two(resolution, "resolution", 0))]
    axes = tuple(np.linspace(lo, hi, r) for (lo, hi), r in zip(spans, res))
    meta = {"kind": "plane", **info, "span": [list(s) for s in spans], "resolution": res}
    return _grid(objective, center, rows, axes, metrics, execution, meta)
