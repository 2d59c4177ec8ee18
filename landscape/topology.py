"""How many minima a sampled loss has, how deep each is, and at what loss their basins join.

Sublevel-set persistence (Edelsbrunner, Letscher and Zomorodian 2002) of a loss sampled on a
grid (a :class:`~landscape.surface.Surface`: a line, a plane or a grid in ``d`` directions):
sweep a level ``t`` upwards and watch the set of grid points with loss ``<= t``. A basin is
born at a local minimum; when two basins meet, at a saddle, the younger one (the higher
minimum) dies and the elder lives on (the elder rule). A basin's *persistence*, death minus
birth, is its depth: how far the loss must rise before it spills into a deeper one.

- :func:`merge_tree` (NumPy and SciPy only): every local minimum with its birth, its death,
  the grid point where it joins and *which* basin it joins: the merge tree, in the elder
  rule's branches. :meth:`MergeTree.count` counts the basins deeper than a threshold.
- :func:`persistence_diagram` (extra ``topology``): gudhi's cubical persistence
  (``gudhi.CubicalComplex``, the library of the field) in any homology dimension; in
  dimension 0 its bars are the merge tree's, which the tests check.
- :func:`basins`: each grid point's basin (discrete steepest descent to a minimum), with the
  basins shallower than a threshold merged into those they join, as a
  :class:`~landscape.sweep.Basins` record comparable with ``Runs.basins``.

The grid: a point's neighbours are the ``2 d`` points one step along an axis (the vertices
and edges of gudhi's cubical complex built from vertex values), so a local minimum is a
grid point below its ``2 d`` neighbours. Ties are broken by the point's position in the
grid (ij order), so a flat stretch holds one minimum; such ties can add minima of
persistence 0. NaN (a loss that was not finite) counts as ``+inf``: a NaN point is never a
minimum, and basins separated only by NaN never join (their bars never die).

gudhi returns the birth and death cells of each bar but not which component a dying one
joins, so the merge tree is a union-find over the grid's minimum spanning tree (edge weight:
the rank of the higher end, so Kruskal's order is the sublevel sweep), computed by SciPy.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import minimum_spanning_tree

from landscape._checks import _as_array, integer, real_in
from landscape.records import record
from landscape.surface.records import Surface
from landscape.sweep import Basins
from landscape.vocabulary import MINIMUM


@record
@dataclass(frozen=True, eq=False)
class MergeTree:
    """The merge tree of a sampled loss: its ``k`` local minima and where their basins join.

    Row ``i`` is one minimum (a branch of the tree); rows are ordered by birth (the deepest
    first; ties by grid order), so row 0 is the lowest grid point.

    Attributes
    ----------
    minima : ndarray, shape ``(k, d)``, the coordinates of the minima on the surface's axes.
    index : ndarray of int, shape ``(k, d)``, their grid indices (``values[tuple(index[i])]``).
    birth : ndarray, shape ``(k,)``, the loss at each minimum.
    death : ndarray, shape ``(k,)``, the loss at which its basin joins an older one (the
        lowest saddle over which it spills); ``inf`` for row 0 and for basins cut off from
        every deeper one by NaN.
    saddles : ndarray, shape ``(k, d)``, the coordinates of the grid point where it joins;
        NaN rows where ``death`` is ``inf``.
    saddle_index : ndarray of int, shape ``(k, d)``, their grid indices; ``-1`` rows where
        ``death`` is ``inf``.
    joins : ndarray of int, shape ``(k,)``, the row of the minimum whose basin it joins: the
        deepest minimum on the other side of the saddle (the elder rule), born before it;
        ``-1`` where ``death`` is ``inf``.
    shape : tuple of ``d`` ints, the grid's shape (``values.shape``).
    """

    minima: np.ndarray
    index: np.ndarray
    birth: np.ndarray
    death: np.ndarray
    saddles: np.ndarray
    saddle_index: np.ndarray
    joins: np.ndarray
    shape: tuple

    @property
    def persistence(self) -> np.ndarray:
        """Each basin's depth ``death - birth``, shape ``(k,)``; ``inf`` where it never dies."""
        return self.death - self.birth

    @property
    def on_edge(self) -> np.ndarray:
        """Whether each minimum lies on the grid's boundary, shape ``(k,)``.

        On the boundary: the first or last point along some axis. Such a minimum of the
        sampled loss may be a slope that goes on down outside the grid, not a minimum of the
        loss.
        """
        return np.any((self.index == 0) | (self.index == np.asarray(self.shape) - 1), axis=1)

    def count(self, threshold: float = 0.0) -> int:
        """The number of basins deeper than ``threshold``: persistence ``> threshold >= 0``."""
        threshold = real_in(threshold, "threshold", 0.0)
        return int(np.sum(self.persistence > threshold))

    def survivors(self, threshold: float = 0.0) -> np.ndarray:
        """Row of the basin that each basin belongs to after merging, shape ``(k,)``.

        Basins of persistence ``<= threshold`` are merged into the ones they join; ``i``
        itself where basin ``i`` is deeper than ``threshold``.
        """
        threshold = real_in(threshold, "threshold", 0.0)
        owner = np.arange(len(self.birth))
        for i in np.flatnonzero(self.persistence <= threshold):  # joins[i] < i: born earlier
            owner[i] = owner[self.joins[i]]
        return owner


# ---------------------------------------------------------------------------------
# The sampled function
# ---------------------------------------------------------------------------------


def _as_surface(surface: Surface | ArrayLike) -> Surface:
    """``surface``, or an array of values as a Surface on the grid indices.

    Coordinates ``0 .. n_j - 1`` along axis ``j``, parameters = coordinates.
    """
    if isinstance(surface, Surface):
        return surface
    values = _as_array(surface, "surface", np.float64)
    if values.ndim == 0 or values.size == 0:
        raise ValueError("surface must be a Surface or a non-empty array of values, got "
                         f"shape {values.shape}")
    d = values.ndim
    return Surface(np.zeros(d), np.eye(d), tuple(np.arange(float(n)) for n in values.shape),
                   values, {}, {"kind": "values"})


def _levels(surface: Surface) -> np.ndarray:
    """The surface's values with NaN as ``+inf``.

    A ValueError when none is finite or when one is ``-inf``.
    """
    values = np.asarray(surface.values, dtype=np.float64)
    if not np.any(np.isfinite(values)):
        raise ValueError("the surface has no finite value: nothing to compute persistence of")
    if np.any(values == -np.inf):
        raise ValueError("the surface has -inf values: a loss must be finite or NaN (a gap)")
    return np.where(np.isnan(values), np.inf, values)


def _ranks(levels: np.ndarray) -> np.ndarray:
    """Each point's place in the sweep (flat, ij order): by level, ties by grid order."""
    order = np.argsort(levels, axis=None, kind="stable")
    ranks = np.empty(order.size, dtype=np.int64)
    ranks[order] = np.arange(order.size)
    return ranks


def _axis_edges(shape: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray]:
    """Both ends (flat indices) of every edge between neighbours along an axis."""
    index = np.arange(int(np.prod(shape))).reshape(shape)
    ends = [(index.take(range(n - 1), axis=j).ravel(), index.take(range(1, n), axis=j).ravel())
            for j, n in enumerate(shape) if n > 1]
    if not ends:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    return np.concatenate([a for a, _ in ends]), np.concatenate([b for _, b in ends])


def _coords(surface: Surface, flat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Grid indices ``(m, d)`` and coordinates of flat indices.

    ``-1`` rows of indices for ``-1``, and NaN rows of coordinates there.
    """
    shape = surface.values.shape
    index = np.stack(np.unravel_index(np.maximum(flat, 0), shape), axis=1).reshape(-1, len(shape))
    coords = np.stack([np.asarray(a, dtype=np.float64)[index[:, j]]
                       for j, a in enumerate(surface.axes)], axis=1).reshape(index.shape)
    missing = flat < 0
    index[missing] = -1
    coords[missing] = np.nan
    return index, coords


# ---------------------------------------------------------------------------------
# The merge tree
# ---------------------------------------------------------------------------------


def _elder_merges(levels: np.ndarray, ranks: np.ndarray) -> list[tuple[int, int, int]]:
    """``(minimum, saddle, elder minimum)`` of every basin that joins an older one.

    Flat indices, in the order of the sweep; ``saddle`` and ``elder`` are ``-1`` for basins
    that join only at ``+inf`` (across NaN).
    """
    a, b = _axis_edges(levels.shape)
    n = ranks.size
    weight = np.maximum(ranks[a], ranks[b]) + 1.0  # > 0: SciPy drops zero-weight edges
    tree = minimum_spanning_tree(coo_matrix((weight, (a, b)), shape=(n, n))).tocoo()
    order = np.argsort(tree.data, kind="stable")
    flat_levels, rank = levels.ravel().tolist(), ranks.tolist()
    parent, low = list(range(n)), list(range(n))  # low[root]: the component's minimum

    def find(i: int) -> int:
        root = i
        while parent[root] != root:
            root = parent[root]
        while parent[i] != root:
            parent[i], i = root, parent[i]
        return root

    merges = []
    for u, v in zip(tree.row[order].tolist(), tree.col[order].tolist()):
        saddle = u if rank[u] > rank[v] else v
        ru, rv = find(u), find(v)
        elder, young = (ru, rv) if rank[low[ru]] < rank[low[rv]] else (rv, ru)
        born = low[young]
        if born != saddle and flat_levels[born] < np.inf:  # not a point joining as it appears
            never = flat_levels[saddle] == np.inf
            merges.append((born, -1 if never else saddle, -1 if never else low[elder]))
        parent[young] = elder
    return merges


def merge_tree(surface: Surface | ArrayLike) -> MergeTree:
    """The local minima of a sampled loss, the depth of each basin and which basins join.

    Parameters
    ----------
    surface : :class:`~landscape.surface.Surface` (a line, a plane or a grid in ``d``
        directions), or an array of values of any shape (the coordinates are then the grid
        indices). NaN values count as ``+inf`` (gaps: never a minimum).

    Returns
    -------
    MergeTree
        ``k`` minima, the deepest first; ``count(threshold)`` counts those deeper than a
        threshold.

    Raises
    ------
    ValueError
        When ``surface`` is neither a Surface nor a non-empty array, or has no finite value
        or a ``-inf`` one.
    """
    surface = _as_surface(surface)
    levels = _levels(surface)
    ranks = _ranks(levels)
    merges = _elder_merges(levels, ranks)
    born = np.array([int(np.argmin(ranks))] + [m[0] for m in merges], dtype=np.int64)
    saddle = np.array([-1] + [m[1] for m in merges], dtype=np.int64)
    elder = np.array([-1] + [m[2] for m in merges], dtype=np.int64)
    order = np.argsort(ranks[born], kind="stable")
    born, saddle, elder = born[order], saddle[order], elder[order]
    row = {int(v): i for i, v in enumerate(born)}
    joins = np.array([row[int(e)] if e >= 0 else -1 for e in elder], dtype=np.int64)
    index, minima = _coords(surface, born)
    saddle_index, saddles = _coords(surface, saddle)
    flat = levels.ravel()
    death = np.where(saddle >= 0, flat[np.maximum(saddle, 0)], np.inf)
    return MergeTree(minima, index, flat[born], death, saddles, saddle_index, joins,
                     tuple(levels.shape))


# ---------------------------------------------------------------------------------
# gudhi's persistence diagram
# ---------------------------------------------------------------------------------


def persistence_diagram(surface: Surface | ArrayLike, dimension: int = 0) -> np.ndarray:
    """The sublevel-set persistence diagram of a sampled loss, from gudhi's cubical complex.

    The loss values are the vertices of a cubical complex (``gudhi.CubicalComplex(vertices=
    ...)``); a cell enters at the highest value of its vertices. Dimension 0 counts basins
    (its bars are :func:`merge_tree`'s of positive persistence), dimension 1 loops (on a
    plane: a ring of low loss around a maximum), up to ``d - 1``.

    Parameters
    ----------
    surface : Surface or array of values, as in :func:`merge_tree` (NaN as ``+inf``).
    dimension : int, the homology dimension, ``0 <= dimension < d``.

    Returns
    -------
    ndarray, shape ``(m, 2)``: ``(birth, death)`` of each bar of positive persistence,
    sorted by birth then death; ``death`` is ``inf`` for bars that never die.

    Raises
    ------
    ImportError
        Without gudhi (``pip install landscape-nn[topology]``).
    ValueError
        As in :func:`merge_tree`, and for a dimension outside ``[0, d)``.
    """
    try:
        import gudhi
    except ImportError as err:  # gudhi is optional (extra 'topology')
        raise ImportError("persistence_diagram needs gudhi: pip install "
                          "'landscape-nn[topology]' (or pip install gudhi)") from err
    surface = _as_surface(surface)
    dimension = integer(dimension, "dimension", 0, surface.values.ndim - 1)
    complex_ = gudhi.CubicalComplex(vertices=_levels(surface))  # gudhi aborts on NaN
    complex_.compute_persistence()
    bars = np.asarray(complex_.persistence_intervals_in_dimension(dimension),
                      dtype=np.float64).reshape(-1, 2)
    bars = bars[np.isfinite(bars[:, 0])]  # a cell born at +inf (NaN) is no feature
    return bars[np.lexsort((bars[:, 1], bars[:, 0]))]


# ---------------------------------------------------------------------------------
# Basins of the grid points
# ---------------------------------------------------------------------------------


def _steepest_lower(surface: Surface, levels: np.ndarray, ranks: np.ndarray,
                    minima: np.ndarray) -> np.ndarray:
    """Each point's neighbour of steepest descent in the slice's metric (flat index).

    Among the ``3^d - 1`` neighbours around it, among those earlier in the sweep; itself at
    the ``minima`` (flat indices) and where there is none.
    """
    shape, d = levels.shape, levels.ndim
    steps = np.array([np.ptp(a) / max(len(a) - 1, 1) for a in surface.axes], dtype=np.float64)
    gram = np.atleast_2d(surface.directions) @ np.atleast_2d(surface.directions).T
    pad = [(1, 1)] * d
    padded_levels = np.pad(levels, pad, constant_values=np.inf)
    padded_ranks = np.pad(ranks.reshape(shape), pad, constant_values=ranks.size)
    padded_index = np.pad(np.arange(ranks.size).reshape(shape), pad, constant_values=-1)
    best = np.arange(ranks.size).reshape(shape)
    steepest = np.zeros(shape)
    here = ranks.reshape(shape)
    for offset in itertools.product((-1, 0, 1), repeat=d):
        if not any(offset):
            continue
        move = np.array(offset) * steps
        window = tuple(slice(1 + o, 1 + o + n) for o, n in zip(offset, shape))
        with np.errstate(all="ignore"):  # NaN points and axes of one point
            slope = (levels - padded_levels[window]) / np.sqrt(move @ gram @ move)
        better = (padded_ranks[window] < here) & ((slope > steepest) | (best == np.arange(
            ranks.size).reshape(shape)))
        steepest = np.where(better, slope, steepest)
        best = np.where(better, padded_index[window], best)
    flat = best.ravel()
    flat[minima] = minima
    return flat


def basins(surface: Surface | ArrayLike, threshold: float = 0.0,
           tree: MergeTree | None = None) -> Basins:
    """The basin of every grid point: where discrete steepest descent takes it.

    The basins of persistence ``<= threshold`` are merged into the ones they join.

    Steepest descent moves each point to the neighbour (of the ``3^d - 1`` around it) down
    which the loss falls fastest per unit of distance in parameter space, until it reaches
    one of the tree's minima: the grid's picture of gradient flow, so the shares of the grid
    (:attr:`Basins.counts` over the number of points) estimate the shares of a region that
    gradient descent with small steps sends to each minimum (``Runs.basins``).

    Parameters
    ----------
    surface : Surface or array of values, as in :func:`merge_tree`.
    threshold : float >= 0, the persistence a basin must exceed to stand alone.
    tree : the surface's :func:`merge_tree`, or None to compute it.

    Returns
    -------
    :class:`~landscape.sweep.Basins`
        ``labels`` ``(values.size,)`` (ij order, as ``Surface.coords()``): each grid
        point's basin, ``-1`` for NaN points; ``centers`` ``(c, n)``: the parameters of the
        ``c`` surviving minima (``center + minima @ directions``), deepest first; ``kinds``:
        'minimum' each; ``counts``: grid points per basin.
    """
    surface = _as_surface(surface)
    threshold = real_in(threshold, "threshold", 0.0)
    levels = _levels(surface)
    ranks = _ranks(levels)
    tree = merge_tree(surface) if tree is None else tree
    minima = np.ravel_multi_index(tuple(tree.index.T), levels.shape)
    target = _steepest_lower(surface, levels, ranks, minima)
    while True:  # pointer jumping to the end of each descent
        further = target[target]
        if np.array_equal(further, target):
            break
        target = further
    row = np.full(ranks.size, -1)
    row[minima] = np.arange(len(tree.birth))
    owner = tree.survivors(threshold)
    kept = np.flatnonzero(owner == np.arange(len(owner)))
    number = np.full(len(owner), -1)
    number[kept] = np.arange(kept.size)
    labels = np.where(np.isinf(levels.ravel()), -1, number[owner[row[target]]])
    centers = surface.center + tree.minima[kept] @ np.atleast_2d(surface.directions)
    return Basins(labels, centers, (MINIMUM,) * kept.size,
                  np.bincount(labels[labels >= 0], minlength=kept.size))
