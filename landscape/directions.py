"""Directions in parameter space along which to look at a loss: the axes of lines and planes.

Every function returns a :class:`Directions` record whose ``vectors`` (shape ``(d, n)``)
are the rows ``d_1, ..., d_d``; a surface then evaluates the loss at
``center + sum_j c_j d_j``. The makers that draw directions at a point are called alike,
``maker(objective, center, k=2, rng=None, ...)``, so one replaces the other; the others
take what they are made from (trajectories, eigenvectors, points). The methods:

- :func:`random_directions`: isotropic Gaussian, unit norm, orthogonal by default.
- :func:`filter_normalized_directions` / :func:`filter_normalize`: Li et al. (2018),
  "Visualizing the Loss Landscape of Neural Nets": each filter (a neuron's incoming
  weights) of a Gaussian direction is rescaled to the norm of the same filter at the center,
  so that pictures do not depend on the scale invariance of ReLU networks.
- :func:`pca_directions`: the principal components of one or several optimizer
  trajectories (Li et al. 2018, Sec. 7), with the variance each explains.
- :func:`hessian_directions`: eigenvectors of the Hessian.
- :func:`interpolation`: the straight line between two parameter vectors (Goodfellow,
  Vinyals and Saxe 2015); :func:`through_points`: an orthonormal basis of the plane through
  three (Garipov et al. 2018, footnote 1).

Curved paths between two points (quadratic Bezier paths, trained to connect two minima) sit
beside the loss along them, in :mod:`landscape.surface.paths`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, Literal, NamedTuple, TypeAlias, get_args

import numpy as np
from numpy.typing import ArrayLike

from landscape._checks import as_rng, choice, finite_array, integer, seed_of, theta_vector
from landscape.objective import Objective, ParameterBlock
from landscape.records import record
from landscape.vocabulary import RngLike, Theta, Thetas

if TYPE_CHECKING:
    from landscape.hessian import Spectrum
    from landscape.runner import Trajectory

#: What :func:`filter_normalize` does with the entries outside filters (biases).
BiasMode: TypeAlias = Literal["zero", "copy"]
BIAS_MODES: tuple[BiasMode, ...] = get_args(BiasMode)
#: How a :class:`Directions` was made.
DirectionKind: TypeAlias = Literal["random", "filter", "pca", "hessian", "interpolation",
                                   "points"]
#: One trajectory's points: a ``(k, n)`` array or a record with ``thetas``.
TrajectoryLike: TypeAlias = "Thetas | Trajectory"


@record
class Directions(NamedTuple):
    """Directions in parameter space and how they were made.

    vectors : ndarray, shape ``(d, n)``; row ``j`` is direction ``j``.
    kind : 'random', 'filter', 'pca', 'hessian', 'interpolation' or 'points'.
    center : ndarray, shape ``(n,)``, or None: the natural origin of the picture where the
        method has one (the final point of a PCA'd trajectory, the start of an
        interpolation, the first of three points).
    explained_variance : ndarray, shape ``(d,)``, or None: for PCA, the fraction of the
        trajectory's variance each component explains.
    meta : dict of JSON-able settings (seed, bias mode, eigenvalues, ...).
    """

    vectors: np.ndarray
    kind: DirectionKind
    center: np.ndarray | None = None
    explained_variance: np.ndarray | None = None
    meta: Mapping[str, Any] = MappingProxyType({})


def _orthonormal_columns(a: np.ndarray) -> np.ndarray:
    """Gram-Schmidt on the columns of ``a`` (``(..., m, k)``, ``m >= k``) via QR.

    Column ``j`` of the result is the unit part of column ``j`` orthogonal to the columns
    before it (signs fixed so that it points the way the input column does).
    """
    q, r = np.linalg.qr(a)
    signs = np.sign(np.diagonal(r, axis1=-2, axis2=-1))
    return q * np.where(signs == 0, 1.0, signs)[..., None, :]


# ---------------------------------------------------------------------------------
# Random and filter-normalized directions
# ---------------------------------------------------------------------------------


def random_directions(objective: Objective | int, center: Theta | None = None, k: int = 2,
                      rng: RngLike = None, orthogonal: bool = True) -> Directions:
    """``k`` random unit directions in ``R^n``, drawn from the isotropic Gaussian.

    Called as :func:`filter_normalized_directions` is, ``(objective, center, k=..., rng=...)``,
    so that one replaces the other; the directions do not depend on the center.

    Parameters
    ----------
    objective : an Objective (only its ``dim`` is used), or the number of parameters ``n``.
    center : array_like, shape ``(n,)``, or None: only its length is checked.
    k : int, the number of directions.
    rng : int seed or ``numpy.random.Generator``.
    orthogonal : bool, make the directions orthonormal (Gram-Schmidt in the order drawn).

    Returns
    -------
    Directions with ``vectors`` of shape ``(k, n)`` and unit-norm rows. The raw Gaussian
    draw is the same as :func:`filter_normalized_directions`'s for the same ``rng``.

    Raises
    ------
    ValueError
        A number as ``center``: the old call ``random_directions(dim, k)``; pass ``k=`` by
        name.
    """
    given: Any = objective
    dim = integer(given.dim if hasattr(given, "dim") else given, "dim", 1)
    if center is not None:
        if np.ndim(center) == 0:
            raise ValueError(f"center must be a vector of length {dim}, got {center!r}: the "
                             "direction makers are called as (objective, center, k=...); "
                             f"pass k by name, random_directions(..., k={center!r})")
        theta_vector(center, dim, "center")
    k = integer(k, "k", 1, dim if orthogonal else None)
    raw = as_rng(rng).standard_normal((k, dim))
    if orthogonal:
        vectors = _orthonormal_columns(raw.T).T
    else:
        vectors = raw / np.linalg.norm(raw, axis=1, keepdims=True)
    return Directions(vectors, "random", meta={"seed": seed_of(rng), "orthogonal": orthogonal})


def _filter_rows(blocks: Sequence[ParameterBlock] | None, dim: int) -> list[np.ndarray]:
    """Index matrices ``(n_filters, filter_size)``: row ``i`` lists filter ``i``'s entries.

    Without blocks the whole vector is one filter.
    """
    if not blocks:
        return [np.arange(dim)[None, :]]
    rows = []
    for block in blocks:
        idx = np.arange(dim)[block.weight]
        if idx.size == 0 or idx.size % block.n_filters:
            raise ValueError(f"block {block.name!r}: {idx.size} weights do not split into "
                             f"{block.n_filters} filters")
        rows.append(idx.reshape(block.n_filters, -1))
    return rows


def filter_normalize(directions: ArrayLike, center: ArrayLike,
                     blocks: Sequence[ParameterBlock] | None = None, bias: BiasMode = "zero"
                     ) -> np.ndarray:
    """Rescale every filter of each direction to the norm of the same filter at ``center``.

    Li et al. (2018): ``d_{i,j} <- d_{i,j} / ||d_{i,j}|| * ||theta_{i,j}||`` for filter
    ``i`` of layer ``j``; a dense layer's filter is one neuron's incoming weights, the row
    ``theta[block.weight].reshape(n_filters, -1)[i]`` of a :class:`~landscape.ParameterBlock`.
    A filter that is zero at the center (or in the direction) becomes zero.

    Biases (and every entry outside the blocks' weights, such as batch-norm parameters) are
    not filters. ``bias='zero'`` (the default, Li et al.'s ``ignore='biasbn'``) sets them to
    zero in the direction, so biases do not move; ``bias='copy'`` sets them to the center's
    values (the other option of Li et al.'s code: biases scale by ``1 + alpha``). Both keep
    the point of the method: rescaling a ReLU layer's weights and bias by ``c`` and the next
    layer's weights by ``1 / c`` leaves the pictures unchanged.

    Without ``blocks`` (synthetic functions, user objectives) the whole vector is treated
    as one filter: each direction is rescaled to ``||center||``.

    Parameters
    ----------
    directions : array_like, shape ``(d, n)`` or ``(n,)``.
    center : array_like, shape ``(n,)``.
    blocks : sequence of :class:`~landscape.ParameterBlock`, or None.
    bias : 'zero' or 'copy'.

    Returns
    -------
    ndarray of the shape of ``directions``.
    """
    choice(bias, BIAS_MODES, "bias mode")
    center = finite_array(center, "center", ndim=1)
    d = finite_array(directions, "directions")
    if d.ndim not in (1, 2) or d.shape[-1] != center.size:
        raise ValueError(f"directions must have shape (d, {center.size}) or ({center.size},), "
                         f"got {d.shape}")
    rows = np.atleast_2d(d)
    if not np.all(np.any(rows, axis=1)):
        raise ValueError("directions has a zero row: it has no filters to rescale")
    out = np.zeros_like(rows) if bias == "zero" else np.tile(center, (len(rows), 1))
    for idx in _filter_rows(blocks, center.size):
        filters = rows[:, idx]  # (d, n_filters, size)
        norms = np.linalg.norm(filters, axis=-1, keepdims=True)
        target = np.linalg.norm(center[idx], axis=-1, keepdims=True)
        scale = np.divide(target, norms, out=np.zeros_like(norms), where=norms > 0)
        out[:, idx] = filters * scale
    if not np.all(np.any(out, axis=1)):
        raise ValueError("center is zero in every filter (and bias), so filter normalization "
                         "would give a zero direction; normalize at a nonzero center (such as "
                         "model.init()) or use random_directions")
    return out.reshape(d.shape)


def _orthogonal_filters(raw: np.ndarray, rows_list: list[np.ndarray], names: list[str]
                        ) -> np.ndarray:
    """``raw`` (``(k, n)``) with each filter's ``k`` pieces made orthogonal to each other."""
    out = raw.copy()
    k = raw.shape[0]
    for idx, name in zip(rows_list, names):
        if idx.shape[1] < k:
            raise ValueError(f"{name} has filters of {idx.shape[1]} entries: {k} directions "
                             "cannot be orthogonal within each filter; pass orthogonal=False")
        pieces = np.moveaxis(raw[:, idx], 0, -1)  # (n_filters, size, k)
        out[:, idx] = np.moveaxis(_orthonormal_columns(pieces), -1, 0)
    return out


def filter_normalized_directions(objective: Objective, center: Theta, k: int = 2,
                                 rng: RngLike = None, bias: BiasMode = "zero",
                                 orthogonal: bool = True) -> Directions:
    """``k`` Gaussian directions, filter-normalized at ``center`` (Li et al. 2018).

    Uses ``objective.blocks`` (layer structure) when the objective has it; otherwise the
    whole vector is one filter and each direction gets the norm of ``center`` (see
    :func:`filter_normalize`, which also says what happens to biases).

    Parameters
    ----------
    objective : an Objective; only ``dim`` and (optionally) ``blocks`` are used.
    center : array_like, shape ``(n,)``.
    k : int, the number of directions.
    rng : int seed or ``numpy.random.Generator``.
    bias : 'zero' (Li et al.'s default) or 'copy'.
    orthogonal : bool. Within every filter the ``k`` Gaussian pieces are made orthogonal
        before normalization (rescaling a filter keeps that), so the weight parts of the
        directions are exactly orthogonal, and the whole directions are when
        ``bias='zero'``. Needs filters of at least ``k`` entries.

    Returns
    -------
    Directions with ``vectors`` of shape ``(k, n)`` and ``kind='filter'``.
    """
    center = theta_vector(center, objective.dim, "center")
    k = integer(k, "k", 1)
    blocks = getattr(objective, "blocks", None)
    raw = as_rng(rng).standard_normal((k, center.size))
    if orthogonal:
        names = [f"block {b.name!r}" for b in blocks] if blocks else ["the parameter vector"]
        raw = _orthogonal_filters(raw, _filter_rows(blocks, center.size), names)
    vectors = filter_normalize(raw, center, blocks, bias)
    meta = {"seed": seed_of(rng), "bias": bias, "orthogonal": orthogonal,
            "per_filter": bool(blocks)}
    return Directions(vectors, "filter", meta=meta)


# ---------------------------------------------------------------------------------
# Directions from trajectories and curvature
# ---------------------------------------------------------------------------------


def trajectory_points(trajectories: TrajectoryLike | Sequence[TrajectoryLike]
                       ) -> list[np.ndarray]:
    """The ``(k_i, n)`` point arrays of one trajectory or a sequence of them.

    A trajectory is a ``(k, n)`` array or a record with a ``thetas`` attribute.
    """
    given: Any = trajectories  # one or many: told apart by duck typing
    single = (hasattr(given, "thetas") or isinstance(given, np.ndarray)
              or (len(given) > 0 and np.ndim(given[0]) == 1))
    if single:
        given = [given]
    arrays = [finite_array(getattr(t, "thetas", t), "trajectory", ndim=2) for t in given]
    if not arrays or len({a.shape[1] for a in arrays}) != 1:
        raise ValueError("trajectories must be one or more (k, n) arrays with the same n")
    return arrays


def pca_directions(trajectories: TrajectoryLike | Sequence[TrajectoryLike], k: int = 2,
                   center: Theta | None = None) -> Directions:
    """Principal components of the points of one or several trajectories (Li et al. 2018, Sec. 7).

    Li et al. stack ``theta_i - theta_final`` over the recorded points of a run and take the
    two leading principal components (after removing the mean, as ``sklearn.decomposition.PCA``
    does) as the axes of a plane centred at the final point; the run then lies close to that
    plane when the components explain most of its variance. With several trajectories, all
    their points are pooled.

    Parameters
    ----------
    trajectories : a ``(k_i, n)`` array of points (or a record with ``thetas``), or a
        sequence of them.
    k : int, the number of components.
    center : array_like, shape ``(n,)``, or None for the final point of the first trajectory.

    Returns
    -------
    Directions with orthonormal ``vectors`` ``(k, n)`` (each signed so that its largest
    entry in absolute value is positive), ``center``, and ``explained_variance`` ``(k,)``:
    the fraction of the total variance of the points along each component.
    """
    arrays = trajectory_points(trajectories)
    points = np.concatenate(arrays)
    n = points.shape[1]
    center = arrays[0][-1].copy() if center is None else theta_vector(center, n, "center")
    if points.shape[0] < 2:
        raise ValueError("the trajectory has one point: principal components need at least two")
    k = integer(k, "k", 1, min(points.shape[0] - 1, n))
    deviations = points - points.mean(axis=0)
    _, s, vt = np.linalg.svd(deviations, full_matrices=False)
    total = float(np.sum(s**2))
    if total == 0.0:
        raise ValueError("the trajectory points are all equal: they have no principal components")
    components = vt[:k]
    largest = components[np.arange(k), np.argmax(np.abs(components), axis=1)]
    components = components * np.sign(largest)[:, None]
    return Directions(components, "pca", center, s[:k] ** 2 / total,
                      {"n_points": int(points.shape[0]), "n_trajectories": len(arrays)})


def hessian_directions(eigenvectors: ArrayLike | Spectrum, eigenvalues: ArrayLike | None = None,
                       k: int | None = None) -> Directions:
    """Hessian eigenvectors as directions, the most curved first when eigenvalues are known.

    With eigenvalues the directions are ordered by decreasing ``|eigenvalue|`` (the top of
    a spectrum from ``which='LA'``, the most negative curvature first from ``which='SA'``).

    Parameters
    ----------
    eigenvectors : array_like, shape ``(n, m)`` with eigenvectors as columns (scipy's
        convention), or a spectrum record with ``eigenvectors`` and ``eigenvalues``.
    eigenvalues : array_like, shape ``(m,)``, or None (then the columns' order is kept).
        Taken from the record when ``eigenvectors`` is one.
    k : int or None, how many to keep (all by default).

    Returns
    -------
    Directions with unit ``vectors`` ``(k, n)``, ``kind='hessian'`` and
    ``meta['eigenvalues']``.
    """
    given: Any = eigenvectors
    if hasattr(given, "eigenvectors"):  # a Spectrum, or another record with both fields
        eigenvalues = given.eigenvalues if eigenvalues is None else eigenvalues
        given = given.eigenvectors
    vecs = finite_array(given, "eigenvectors", ndim=2).T
    order = np.arange(len(vecs))
    values = None
    if eigenvalues is not None:
        values = finite_array(eigenvalues, "eigenvalues", ndim=1)
        if values.size != len(vecs):
            raise ValueError(f"eigenvalues must have {len(vecs)} entries (one per column of "
                             f"eigenvectors), got {values.size}")
        order = np.argsort(-np.abs(values), kind="stable")
    order = order[:integer(k, "k", 1, len(vecs))] if k is not None else order
    norms = np.linalg.norm(vecs[order], axis=1, keepdims=True)
    if np.any(norms == 0):
        raise ValueError("eigenvectors contain a zero column")
    meta = {"eigenvalues": None if values is None else values[order].tolist()}
    return Directions(vecs[order] / norms, "hessian", meta=meta)


# ---------------------------------------------------------------------------------
# Lines, planes and paths between parameter vectors
# ---------------------------------------------------------------------------------


def _points(*thetas: ArrayLike, names: tuple[str, ...]) -> list[np.ndarray]:
    first = finite_array(thetas[0], names[0], ndim=1)
    return [first] + [theta_vector(t, first.size, name) for t, name in zip(thetas[1:], names[1:])]


def interpolation(start: Theta, end: Theta) -> Directions:
    """The straight line from ``start`` to ``end`` (Goodfellow, Vinyals and Saxe 2015).

    Returns Directions with ``center=start`` and the one vector ``end - start``, so that
    coordinate ``alpha`` is the point ``(1 - alpha) start + alpha end``: 0 at ``start``,
    1 at ``end``.
    """
    start, end = _points(start, end, names=("start", "end"))
    if np.array_equal(start, end):
        raise ValueError("start and end are the same point")
    return Directions((end - start)[None], "interpolation", start)


def through_points(a: Theta, b: Theta, c: Theta) -> Directions:
    """An orthonormal basis of the plane through three points, centred at ``a``.

    Garipov et al. (2018, footnote 1): ``u = b - a``, ``v = (c - a)`` minus its component
    along ``u``, both normalized. Every affine combination of ``a, b, c`` (a quadratic
    Bezier path through a bend, for one) lies in this plane and projects with zero residual.
    """
    a, b, c = _points(a, b, c, names=("a", "b", "c"))
    spans = np.stack([b - a, c - a], axis=1)
    if np.linalg.matrix_rank(spans) < 2:
        raise ValueError("the three points are collinear: they do not define a plane")
    return Directions(_orthonormal_columns(spans).T, "points", a)
