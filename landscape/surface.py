"""The loss along lines, over planes and along curved paths in parameter space.

:func:`line` and :func:`plane` evaluate an objective at ``center + sum_j c_j d_j`` on a grid
of coordinates and return a :class:`Surface`; :func:`curve` evaluates it along a straight or
quadratic Bezier path between two points and returns a :class:`Curve`; :func:`project`
places trajectories on a surface's plane by least squares and says how far off they are.

Grids go through ``objective.losses_in_span`` in chunks: objectives that can exploit the
affine structure do (the MLP's first layer is linear in the coordinates, so a grid costs far
less than one forward pass per point); every other objective falls back to its batched
``losses``. Chunks are mapped with :func:`landscape.parallel.map_chunks`, serially, on a
process pool or on Dask (the ``executor`` argument), with a progress bar; with
``cache=folder`` finished chunks are kept, and an interrupted grid resumes. A loss that
overflows at a far point comes back as NaN, a gap in the picture, not an exception.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import NamedTuple

import numpy as np

from landscape._checks import finite_array, theta_matrix, theta_vector
from landscape.directions import Directions, bezier_coords
from landscape.io import write_npz
from landscape.parallel import N_CHUNKS, map_chunks


@dataclass(frozen=True, eq=False)
class Surface:
    """The loss on a grid of coordinates in a ``d``-dimensional affine slice (``d`` = 1 or 2).

    Attributes
    ----------
    center : ndarray, shape ``(n,)``.
    directions : ndarray, shape ``(d, n)``.
    axes : tuple of ``d`` 1-D arrays, the coordinates along each direction.
    values : ndarray, shape ``(len(axes[0]), ..., len(axes[d-1]))``, ``indexing="ij"``:
        ``values[i, j]`` is the loss at ``center + axes[0][i] d_0 + axes[1][j] d_1``.
        NaN where the loss was not finite.
    accuracy : ndarray of the shape of ``values``, or None.
    meta : dict, how it was made: 'kind' ('line' or 'plane'), 'directions' (their kind),
        'span', 'resolution', and the directions' settings (seed, bias mode, ...).
    """

    center: np.ndarray
    directions: np.ndarray
    axes: tuple
    values: np.ndarray
    accuracy: np.ndarray | None
    meta: dict

    @property
    def ndim(self) -> int:
        """The number of directions ``d``."""
        return len(self.axes)

    def coords(self) -> np.ndarray:
        """Every grid point's coordinates, shape ``(values.size, d)``, in ``values``' order."""
        return grid_coords(self.axes)

    def save(self, path) -> Path:
        """Write to one compressed ``.npz`` (arrays, and ``meta`` as JSON) atomically."""
        arrays = {"center": self.center, "directions": self.directions, "values": self.values,
                  "meta": np.array(json.dumps(self.meta, default=_builtin))}
        arrays.update({f"axis{i}": a for i, a in enumerate(self.axes)})
        if self.accuracy is not None:
            arrays["accuracy"] = self.accuracy
        return write_npz(path, **arrays)

    @classmethod
    def load(cls, path) -> Surface:
        """Read a surface written by :meth:`save`."""
        with np.load(path, allow_pickle=False) as f:
            axes = tuple(f[f"axis{i}"] for i in range(f["directions"].shape[0]))
            accuracy = f["accuracy"] if "accuracy" in f.files else None
            return cls(f["center"], f["directions"], axes, f["values"], accuracy,
                       json.loads(str(f["meta"])))


def _builtin(obj):
    if hasattr(obj, "tolist"):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"cannot write {type(obj).__name__} as JSON")


@dataclass(frozen=True, eq=False)
class Curve:
    """The loss along a path ``phi(t) = (1-t)^2 start + 2t(1-t) bend + t^2 end``.

    Attributes
    ----------
    start, bend, end : ndarray, shape ``(n,)``. A straight line has the midpoint as bend.
    axes : ``(t,)``, ``t`` of shape ``(k,)``, evenly spaced over ``meta['span']``: [0, 1]
        for a Bezier path, any interval for a straight line (past the end points).
    values : ndarray, shape ``(k,)``, NaN where the loss was not finite.
    accuracy : ndarray, shape ``(k,)``, or None.
    meta : dict: 'kind' ('linear' or 'bezier'), 'span' ``[t_low, t_high]`` and 'resolution'.
    """

    start: np.ndarray
    bend: np.ndarray
    end: np.ndarray
    axes: tuple
    values: np.ndarray
    accuracy: np.ndarray | None
    meta: dict

    @property
    def barrier(self) -> float:
        """The loss barrier ``max_t [L(phi(t)) - ((1-t) L(start) + t L(end))]``.

        The height of the path above the straight interpolation of its end losses (the
        definition of Frankle et al. 2020), over the grid points with ``0 <= t <= 1``; zero or
        negative when the path never rises above it. Raises ValueError when ``t = 0`` or
        ``t = 1`` is not a grid point (a ``span`` and ``resolution`` that step past them).
        """
        t = self.axes[0]
        first, last = (np.flatnonzero(np.abs(t - e) <= 1e-9) for e in (0.0, 1.0))
        if not (first.size and last.size):
            raise ValueError("barrier needs t = 0 and t = 1 among the grid points: choose a "
                             "resolution whose step divides the span's distance to them")
        inside = slice(first[0], last[0] + 1)
        chord = (1 - t[inside]) * self.values[first[0]] + t[inside] * self.values[last[0]]
        return float(np.max(self.values[inside] - chord))


class Projection(NamedTuple):
    """Points placed on a ``d``-dimensional slice ``center + span(directions)`` by least squares.

    coords : ndarray, shape ``(k, d)``, the least-squares coordinates of each point.
    residual : ndarray, shape ``(k,)``: ``||theta - (center + coords @ directions)||`` relative
        to ``||theta - center||`` (0 for a point at the center): 0 when a point lies in the
        slice, near 1 when it is almost orthogonal to it, so a picture's faithfulness is known.
    steps, loss : ndarray, shape ``(k,)``, or None: the recorded steps and the true losses
        at the points (not the surface's values at ``coords``), carried from a trajectory.
    label : str or None, e.g. the optimizer's name.
    """

    coords: np.ndarray
    residual: np.ndarray
    steps: np.ndarray | None = None
    loss: np.ndarray | None = None
    label: str | None = None


# ---------------------------------------------------------------------------------
# Evaluation
# ---------------------------------------------------------------------------------


def grid_coords(axes) -> np.ndarray:
    """The points of the grid ``axes[0] x axes[1] x ...``, shape ``(prod len, d)``, ij order."""
    mesh = np.meshgrid(*axes, indexing="ij")
    return np.stack([m.ravel() for m in mesh], axis=1)


def _evaluate_chunk(objective, center, directions, with_accuracy, coords):
    """Losses (and accuracies) at ``center + coords @ directions``; non-finite losses as NaN."""
    with np.errstate(all="ignore"):
        values = objective.losses_in_span(center, directions, coords)
        accuracy = None
        if with_accuracy:
            accuracy = np.array([objective.accuracy(center + c @ directions) for c in coords])
    return np.where(np.isfinite(values), values, np.nan), accuracy


def _evaluate(objective, center, directions, coords, accuracy, executor, progress,
              memory_budget, cache, desc):
    """Losses ``(k,)`` and accuracies ``(k,)`` or None at the points, in chunks."""
    if accuracy and not hasattr(objective, "accuracy"):
        raise ValueError("accuracy=True needs an objective with an accuracy(theta) method")
    if not memory_budget > 0:
        raise ValueError(f"memory_budget must be positive bytes, got {memory_budget!r}")
    k, n = len(coords), center.size
    size = max(1, min(-(-k // N_CHUNKS), int(memory_budget // (8 * n))))
    chunks = [coords[s:s + size] for s in range(0, k, size)]
    work = partial(_evaluate_chunk, objective, center, directions, bool(accuracy))
    results = map_chunks(work, chunks, executor, progress, desc, cache)
    values = np.concatenate([r[0] for r in results])
    return values, (np.concatenate([r[1] for r in results]) if accuracy else None)


# ---------------------------------------------------------------------------------
# Lines and planes
# ---------------------------------------------------------------------------------


def _direction_rows(d, dim: int, count: int) -> tuple[np.ndarray, dict]:
    """``count`` direction rows ``(count, dim)`` and the settings to record."""
    info = {"directions": "given"}
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


def _span(span, name: str) -> tuple[float, float]:
    s = finite_array(span, name)
    if s.ndim == 0:
        if s <= 0:
            raise ValueError(f"{name} as one number must be positive (the grid is [-s, s])")
        return -float(s), float(s)
    if s.shape != (2,) or not s[0] < s[1]:
        raise ValueError(f"{name} must be a positive number s or a pair (low, high) with "
                         f"low < high, got {span!r}")
    return float(s[0]), float(s[1])


def _resolution(resolution, name: str) -> int:
    try:
        ok = not isinstance(resolution, bool) and int(resolution) == float(resolution) >= 2
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok:
        raise ValueError(f"{name} must be an integer >= 2, got {resolution!r}")
    return int(resolution)


def _two(value, name: str, ndim: int) -> list:
    """One setting per axis of a plane: ``value`` (of ``ndim`` dimensions) for both, or a pair."""
    a = finite_array(value, name)
    if a.ndim <= ndim:
        return [value, value]
    if a.ndim != ndim + 1 or len(a) != 2:
        raise ValueError(f"{name} must be one setting for both axes or one per axis, got {value!r}")
    return list(a)


def _grid(objective, center, rows, axes, accuracy, executor, progress, memory_budget, cache,
          meta):
    values, acc = _evaluate(objective, center, rows, grid_coords(axes), accuracy, executor,
                            progress, memory_budget, cache, f"{meta['kind']} {len(axes[0])}")
    shape = tuple(len(a) for a in axes)
    return Surface(center, rows, axes, values.reshape(shape),
                   None if acc is None else acc.reshape(shape), meta)


def line(objective, center, direction, span=1.0, resolution: int = 51, accuracy: bool = False,
         executor=None, progress: bool = True, memory_budget: float = 256e6,
         cache=None) -> Surface:
    """The loss at ``center + alpha * direction`` for ``alpha`` on a regular grid.

    Parameters
    ----------
    objective : an Objective.
    center : array_like, shape ``(n,)``.
    direction : array_like, shape ``(n,)``, or a one-row :class:`Directions`.
    span : a positive number ``s`` (``alpha`` in ``[-s, s]``) or a pair ``(low, high)``.
    resolution : int, the number of grid points.
    accuracy : bool, also record ``objective.accuracy`` (one forward pass per point).
    executor : None (serial), an int (processes), a ``concurrent.futures.Executor`` or a
        dask Client; see :func:`landscape.parallel.map_chunks`.
    progress : bool, show a progress bar (silent when output is not a terminal).
    memory_budget : float, bytes for the parameter vectors of one chunk.
    cache : None, or a folder keeping finished chunks, so that a re-run of the same grid
        (same objective, center, directions and coordinates) computes only the missing
        ones; see :mod:`landscape.cache`.

    Returns
    -------
    Surface with ``d = 1``.
    """
    center = theta_vector(center, objective.dim, "center")
    rows, info = _direction_rows(direction, objective.dim, 1)
    lo, hi = _span(span, "span")
    resolution = _resolution(resolution, "resolution")
    meta = {"kind": "line", **info, "span": [lo, hi], "resolution": resolution}
    return _grid(objective, center, rows, (np.linspace(lo, hi, resolution),), accuracy,
                 executor, progress, memory_budget, cache, meta)


def plane(objective, center, d1, d2=None, span=1.0, resolution=51, accuracy: bool = False,
          executor=None, progress: bool = True, memory_budget: float = 256e6,
          cache=None) -> Surface:
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
    accuracy, executor, progress, memory_budget, cache : as in :func:`line`.

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
    spans = [_span(s, f"span[{i}]") for i, s in enumerate(_two(span, "span", 1))]
    res = [_resolution(r, f"resolution[{i}]")
           for i, r in enumerate(_two(resolution, "resolution", 0))]
    axes = tuple(np.linspace(lo, hi, r) for (lo, hi), r in zip(spans, res))
    meta = {"kind": "plane", **info, "span": [list(s) for s in spans], "resolution": res}
    return _grid(objective, center, rows, axes, accuracy, executor, progress, memory_budget,
                 cache, meta)


def curve(objective, start, end, bend=None, resolution: int = 101, accuracy: bool = False,
          executor=None, progress: bool = True, memory_budget: float = 256e6,
          cache=None, span=(0.0, 1.0)) -> Curve:
    """The loss along the quadratic Bezier path from ``start`` through ``bend`` to ``end``.

    Without ``bend`` the path is the straight line ``(1 - t) start + t end`` (Goodfellow,
    Vinyals and Saxe 2015), a line through ``start`` along ``end - start``. A bent path lies
    in the plane through ``start`` spanned by ``bend - start`` and ``end - start``
    (:func:`landscape.directions.bezier_coords`). Either is evaluated through
    ``objective.losses_in_span`` like a grid.

    Parameters
    ----------
    objective : an Objective.
    start, end : array_like, shape ``(n,)``.
    bend : array_like, shape ``(n,)``, or None (the midpoint: a straight line).
    resolution : int, points in ``t``, evenly spaced over ``span``.
    accuracy, executor, progress, memory_budget, cache : as in :func:`line`.
    span : pair ``(t_low, t_high)``. The straight line extends past its end points (say
        ``(-0.5, 1.5)``, as in Goodfellow et al.'s plots); a Bezier path is defined on
        ``(0, 1)`` only, and any other span for it raises ValueError.

    Returns
    -------
    Curve
    """
    start = theta_vector(start, objective.dim, "start")
    end = theta_vector(end, objective.dim, "end")
    kind = "linear" if bend is None else "bezier"
    lo, hi = _t_span(span, kind)
    t = np.linspace(lo, hi, _resolution(resolution, "resolution"))
    if bend is None:
        bend, rows, coords = 0.5 * (start + end), (end - start)[None], t[:, None]
    else:
        bend = theta_vector(bend, objective.dim, "bend")
        rows, coords = np.stack([bend - start, end - start]), bezier_coords(t)
    values, acc = _evaluate(objective, start, rows, coords, accuracy, executor, progress,
                            memory_budget, cache, kind)
    return Curve(start, bend, end, (t,), values, acc,
                 {"kind": kind, "span": [lo, hi], "resolution": t.size})


def _t_span(span, kind: str) -> tuple[float, float]:
    """The curve's ``(t_low, t_high)``; a Bezier path only on ``(0, 1)``."""
    if np.shape(span) != (2,):
        raise ValueError(f"span must be a pair (t_low, t_high), got {span!r}")
    lo, hi = _span(span, "span")
    if kind == "bezier" and (lo, hi) != (0.0, 1.0):
        raise ValueError(f"span: a Bezier path is defined on t in [0, 1] only, got {span!r}; "
                         "extend only a straight line (bend=None)")
    return lo, hi


# ---------------------------------------------------------------------------------
# Trajectories on a plane
# ---------------------------------------------------------------------------------


def project(trajectory, center, directions, steps=None, loss=None, label=None) -> Projection:
    """Least-squares coordinates of points on the slice ``center + span(directions)``.

    Parameters
    ----------
    trajectory : array_like, shape ``(k, n)``, or a trajectory record with ``thetas``
        (its ``steps``, ``loss`` and ``optimizer`` name are carried over unless given).
    center : array_like, shape ``(n,)``.
    directions : array_like, shape ``(d, n)`` (linearly independent rows), or
        :class:`Directions`; a :class:`Surface`'s ``directions`` for drawing on it.
    steps, loss : array_like, shape ``(k,)``, or None.
    label : str or None.

    Returns
    -------
    Projection
    """
    thetas = finite_array(getattr(trajectory, "thetas", trajectory), "trajectory", ndim=2)
    center = theta_vector(center, thetas.shape[1], "center")
    rows = directions.vectors if isinstance(directions, Directions) else directions
    rows = theta_matrix(np.atleast_2d(rows), thetas.shape[1], "directions")
    if np.linalg.matrix_rank(rows) < rows.shape[0]:
        raise ValueError("directions are linearly dependent: the slice is not well defined")
    offsets = thetas - center
    coords = np.linalg.lstsq(rows.T, offsets.T, rcond=None)[0].T
    off = np.linalg.norm(offsets, axis=1)
    miss = np.linalg.norm(offsets - coords @ rows, axis=1)
    residual = np.divide(miss, off, out=np.zeros_like(off), where=off > 0)
    steps = getattr(trajectory, "steps", None) if steps is None else steps
    loss = getattr(trajectory, "loss", None) if loss is None else loss
    label = _label(trajectory) if label is None else label
    return Projection(coords, residual, _per_point(steps, len(thetas), "steps"),
                      _per_point(loss, len(thetas), "loss"), label)


def _label(trajectory) -> str | None:
    name = getattr(trajectory, "optimizer", None)
    return getattr(name, "name", name)


def _per_point(values, k: int, name: str) -> np.ndarray | None:
    if values is None:
        return None
    a = np.asarray(values, dtype=np.float64)
    if a.shape != (k,):
        raise ValueError(f"{name} must have shape ({k},), one per point, got {a.shape}")
    return a
