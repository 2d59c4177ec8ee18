"""The records of the loss over a slice of parameter space.

:class:`Surface` (a grid on a line or a plane), :class:`Curve` (a path between two points)
and :class:`Projection` (points placed on a plane).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from landscape.records import record


def grid_coords(axes: Sequence[np.ndarray], start: int = 0, stop: int | None = None
                ) -> np.ndarray:
    """The points ``start:stop`` (all by default) of the grid ``axes[0] x axes[1] x ...``.

    In ij order (the last axis fastest), shape ``(stop - start, d)``.
    """
    shape = tuple(len(a) for a in axes)
    index = np.unravel_index(np.arange(start, math.prod(shape) if stop is None else stop), shape)
    return np.stack([np.asarray(a)[i] for a, i in zip(axes, index)], axis=1)


@record
@dataclass(frozen=True, eq=False)
class Surface:
    """The loss on a grid of coordinates in a ``d``-dimensional affine slice.

    The slice is a line, a plane or a grid in ``d`` directions.

    Attributes
    ----------
    center : ndarray, shape ``(n,)``.
    directions : ndarray, shape ``(d, n)``.
    axes : tuple of ``d`` 1-D arrays, the coordinates along each direction.
    values : ndarray, shape ``(len(axes[0]), ..., len(axes[d-1]))``, ``indexing="ij"``:
        ``values[i, j]`` is the loss at ``center + axes[0][i] d_0 + axes[1][j] d_1``.
        NaN where the loss was not finite.
    metrics : dict, name -> ndarray of the shape of ``values``: the metrics asked for
        (``metrics={name: fn}``), at the same points; empty when none were.
    meta : dict, how it was made: 'kind' ('line', 'plane' or 'grid'), 'directions' (their kind),
        'span', 'resolution', and the directions' settings (seed, bias mode, ...).
    """

    center: np.ndarray
    directions: np.ndarray
    axes: tuple
    values: np.ndarray
    metrics: dict
    meta: dict

    @property
    def ndim(self) -> int:
        """The number of directions ``d``."""
        return len(self.axes)

    def coords(self) -> np.ndarray:
        """Every grid point's coordinates, shape ``(values.size, d)``, in ``values``' order."""
        return grid_coords(self.axes)


@record
@dataclass(frozen=True, eq=False)
class Curve:
    """The loss along a path ``phi(t) = (1-t)^2 start + 2t(1-t) bend + t^2 end``.

    Attributes
    ----------
    start, bend, end : ndarray, shape ``(n,)``. A straight line has the midpoint as bend.
    axes : ``(t,)``, ``t`` of shape ``(k,)``, evenly spaced over ``meta['span']``: [0, 1]
        for a Bezier path, any interval for a straight line (past the end points).
    values : ndarray, shape ``(k,)``, NaN where the loss was not finite.
    metrics : dict, name -> ndarray of shape ``(k,)``; empty when none were asked for.
    meta : dict: 'kind' ('linear' or 'bezier'), 'span' ``[t_low, t_high]`` and 'resolution'.
    """

    start: np.ndarray
    bend: np.ndarray
    end: np.ndarray
    axes: tuple
    values: np.ndarray
    metrics: dict
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


@record
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
