"""Trajectories placed on a surface's plane by least squares: :func:`project`."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from landscape._checks import finite_array, theta_matrix, theta_vector
from landscape.directions import Directions
from landscape.surface.records import Projection
from landscape.vocabulary import Thetas

#: :func:`project` warns when the median relative residual of the points exceeds this:
#: then most of the path lies off the slice and the drawn path is a shadow of it.
RESIDUAL_WARNING = 0.5


def project(trajectory: Any, center: ArrayLike, directions: ArrayLike | Directions,
            steps: ArrayLike | None = None, loss: ArrayLike | None = None,
            label: str | None = None) -> Projection:
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

    Warns
    -----
    UserWarning
        When the median ``residual`` exceeds :data:`RESIDUAL_WARNING` (0.5): most of the
        path lies off the slice (as a training path does on a random or filter-normalized
        plane), so the drawn path is a shadow of it. The warning says to draw it on the plane
        of its principal components, :func:`~landscape.directions.pca_directions`.
    """
    thetas = finite_array(getattr(trajectory, "thetas", trajectory), "trajectory", ndim=2)
    coords, residual = coordinates(thetas, center, directions)
    median = float(np.median(residual))
    if median > RESIDUAL_WARNING:
        warnings.warn(
            f"the path lies mostly off the plane (median projection residual {median:.2f} > "
            f"{RESIDUAL_WARNING}), so its drawing is a shadow of it; to draw the path itself "
            "use the plane of its principal components: d = ls.pca_directions(trajectory), "
            "then ls.plane(objective, d.center, d, span='auto', cover=trajectory)",
            UserWarning, stacklevel=2)
    steps = getattr(trajectory, "steps", None) if steps is None else steps
    loss = getattr(trajectory, "loss", None) if loss is None else loss
    label = _label(trajectory) if label is None else label
    return Projection(coords, residual, _per_point(steps, len(thetas), "steps"),
                      _per_point(loss, len(thetas), "loss"), label)


def coordinates(thetas: Thetas, center: ArrayLike, directions: ArrayLike | Directions
                ) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares coordinates ``(k, d)`` of points ``(k, n)`` and their residuals ``(k,)``.

    As :func:`project` computes them (``residual`` as in :class:`Projection`), without the
    record or the warning.
    """
    center = theta_vector(center, thetas.shape[1], "center")
    rows = directions.vectors if isinstance(directions, Directions) else directions
    rows = theta_matrix(np.atleast_2d(rows), thetas.shape[1], "directions")
    if np.linalg.matrix_rank(rows) < rows.shape[0]:
        raise ValueError("directions are linearly dependent: the slice is not well defined")
    offsets = thetas - center
    coords = np.linalg.lstsq(rows.T, offsets.T, rcond=None)[0].T
    off = np.linalg.norm(offsets, axis=1)
    miss = np.linalg.norm(offsets - coords @ rows, axis=1)
    return coords, np.divide(miss, off, out=np.zeros_like(off), where=off > 0)


def _label(trajectory: Any) -> str | None:
    name = getattr(trajectory, "optimizer", None)
    return getattr(name, "name", name)


def _per_point(values: ArrayLike | None, k: int, name: str) -> np.ndarray | None:
    if values is None:
        return None
    a = np.asarray(values, dtype=np.float64)
    if a.shape != (k,):
        raise ValueError(f"{name} must have shape ({k},), one per point, got {a.shape}")
    return a
