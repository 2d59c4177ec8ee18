"""Pictures of sublevel-set persistence: barcode, persistence diagram and merge tree.

The merge tree is drawn as a tree of losses or marked over a plane's contours. Each takes
a :class:`~landscape.topology.MergeTree` or, for the barcode and the diagram, the
``(m, 2)`` bars of :func:`~landscape.topology.persistence_diagram`. Bars that never die
(``death = inf``) are drawn up to a line marked ``+inf`` just above the highest finite
value. With ``threshold``, what is at most that persistent (the noise) is drawn in grey.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, NamedTuple

import numpy as np
from matplotlib.collections import LineCollection
from numpy.typing import ArrayLike

from landscape._checks import real_in
from landscape.plot._style import KIND_STYLE, new_axes
from landscape.topology import MergeTree
from landscape.vocabulary import MINIMUM, SADDLE

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.collections import PathCollection
    from matplotlib.text import Annotation

PERSISTENT, NOISE = "#1f77b4", "#b0b0b0"  # bars deeper than the threshold, and the others


class MergeTreeArtists(NamedTuple):
    """What :func:`plot_merge_tree` and :func:`plot_merge_tree_on_plane` drew.

    The tree's lines (None on a plane), the minima's markers, the saddles' markers and the
    saddles' labels (none in the tree).
    """

    lines: LineCollection | None
    minima: PathCollection
    saddles: PathCollection
    labels: list[Annotation]


def _bars(bars: MergeTree | ArrayLike) -> np.ndarray:
    """Births and deaths ``(m, 2)`` of a MergeTree's bars of positive persistence, or checked."""
    if isinstance(bars, MergeTree):
        keep = bars.persistence > 0
        return np.stack([bars.birth[keep], bars.death[keep]], axis=1)
    bars = np.asarray(bars, dtype=np.float64)
    if bars.ndim != 2 or bars.shape[1] != 2 or not np.all(np.isfinite(bars[:, 0])):
        raise ValueError("bars must be a MergeTree or an array of shape (m, 2) of finite "
                         f"births and deaths (inf for bars that never die), got {bars.shape}")
    return bars


def _threshold(threshold: float | None) -> float | None:
    return None if threshold is None else real_in(threshold, "threshold", 0.0)


def _top(bars: np.ndarray, threshold: float | None = None) -> float:
    """Where bars that never die are drawn: above the highest value, room for a threshold."""
    finite = bars[np.isfinite(bars)]
    low, high = float(finite.min()), float(finite.max())
    return high + max(0.08 * (high - low), 1.5 * (threshold or 0.0), 1e-12)


def _colors(persistence: np.ndarray, threshold: float | None) -> list[str]:
    if threshold is None:
        return [PERSISTENT] * persistence.size
    return [PERSISTENT if p > threshold else NOISE for p in persistence]


def _mark_infinity(ax: Axes, top: float) -> None:
    ax.axhline(top, color="0.3", linestyle=":", linewidth=1.0, label="+inf (never dies)")


def plot_barcode(bars: MergeTree | ArrayLike, ax: Axes | None = None,
                 threshold: float | None = None, **kwargs: Any) -> LineCollection:
    """Draw each bar as a horizontal segment from its birth to its death (the loss).

    The most persistent bar is at the top.

    Parameters
    ----------
    bars : MergeTree, or ndarray ``(m, 2)`` of ``(birth, death)``.
    ax : matplotlib Axes, or None.
    threshold : float >= 0 or None: bars of persistence ``<= threshold`` in grey.
    **kwargs : passed to ``LineCollection``.

    Returns
    -------
    matplotlib.collections.LineCollection, one segment per bar.
    """
    bars, threshold = _bars(bars), _threshold(threshold)
    ax = new_axes(ax)
    order = np.argsort(bars[:, 1] - bars[:, 0], kind="stable")
    bars = bars[order]
    top = _top(bars)
    ends = np.where(np.isfinite(bars[:, 1]), bars[:, 1], top)
    rows = np.arange(len(bars), dtype=np.float64)
    kwargs.setdefault("linewidths", 2.5)
    kwargs.setdefault("label", "bar: a basin from its minimum to where it joins")
    lines = LineCollection(list(np.stack([np.stack([bars[:, 0], rows], 1),
                                          np.stack([ends, rows], 1)], 1)),
                           colors=_colors(bars[:, 1] - bars[:, 0], threshold), **kwargs)
    ax.add_collection(lines)
    infinite = ~np.isfinite(bars[:, 1])
    ax.plot(ends[infinite], rows[infinite], ">", color="0.3", label="never dies")
    low = float(bars[:, 0].min())
    ax.set_xlim(low - 0.02 * (top - low), top + 0.04 * (top - low))
    ax.set_ylim(-1, len(bars))
    ax.set_xlabel("loss: a bar is born at a minimum and dies where its basin joins a deeper one")
    ax.set_ylabel("bar (by persistence)")
    return lines


def plot_persistence_diagram(bars: MergeTree | ArrayLike, ax: Axes | None = None,
                             threshold: float | None = None,
                             **kwargs: Any) -> PathCollection:
    """Draw each bar as a point ``(birth, death)`` above the diagonal.

    The farther a point lies from the diagonal, the deeper its basin.

    Parameters
    ----------
    bars : MergeTree, or ndarray ``(m, 2)`` of ``(birth, death)``.
    ax : matplotlib Axes, or None.
    threshold : float >= 0 or None: points of persistence ``<= threshold`` in grey, and the
        line ``death = birth + threshold`` drawn.
    **kwargs : passed to ``Axes.scatter``.

    Returns
    -------
    matplotlib.collections.PathCollection
    """
    bars, threshold = _bars(bars), _threshold(threshold)
    ax = new_axes(ax)
    top = _top(bars, threshold)
    deaths = np.where(np.isfinite(bars[:, 1]), bars[:, 1], top)
    low = float(bars[:, 0].min())
    kwargs.setdefault("s", 25)
    points = ax.scatter(bars[:, 0], deaths, c=_colors(bars[:, 1] - bars[:, 0], threshold),
                        edgecolors="k", linewidths=0.4, zorder=3, **kwargs)
    ax.plot([low, top], [low, top], color="0.5", linewidth=1.0, label="death = birth")
    if threshold is not None:
        ax.plot([low, top - threshold], [low + threshold, top], color="0.5", linestyle="--",
                linewidth=1.0, label=f"persistence = {threshold:.3g}")
    if np.any(~np.isfinite(bars[:, 1])):
        _mark_infinity(ax, top)
    ax.set_xlabel("birth (loss at the minimum)")
    ax.set_ylabel("death (loss where the basin joins)")
    return points


def _leaf_order(tree: MergeTree) -> np.ndarray:
    """An x position for each branch, so that no joining line crosses a branch.

    Every branch's joiners go to its right, the lowest-joining nearest.
    """
    children: list[list[int]] = [[] for _ in tree.birth]
    for i in np.argsort(tree.death, kind="stable"):
        if tree.joins[i] >= 0:
            children[tree.joins[i]].append(int(i))
    x, place = np.zeros(len(tree.birth)), 0
    stack = [int(i) for i in np.flatnonzero(tree.joins < 0)][::-1]
    while stack:
        i = stack.pop()
        x[i], place = place, place + 1
        stack.extend(children[i][::-1])
    return x


def plot_merge_tree(tree: MergeTree, ax: Axes | None = None, threshold: float | None = None,
                    **kwargs: Any) -> MergeTreeArtists:
    """Draw the merge tree, the loss upwards.

    Each minimum is a vertical branch from its loss up to where its basin joins an older
    one, with a horizontal line there to the branch it joins.

    Parameters
    ----------
    tree : MergeTree.
    ax : matplotlib Axes, or None.
    threshold : float >= 0 or None: branches of persistence ``<= threshold`` in grey.
    **kwargs : passed to ``LineCollection``.

    Returns
    -------
    MergeTreeArtists: the branches and joining lines, the minima (at the branches' feet)
    and the saddles (where they join).
    """
    threshold = _threshold(threshold)
    ax = new_axes(ax)
    x = _leaf_order(tree)
    top = _top(np.concatenate([tree.birth, tree.death]))
    ends = np.where(np.isfinite(tree.death), tree.death, top)
    colors = _colors(tree.persistence, threshold)
    segments = [[(x[i], tree.birth[i]), (x[i], ends[i])] for i in range(len(x))]
    joined = np.flatnonzero(tree.joins >= 0)
    segments += [[(x[i], ends[i]), (x[tree.joins[i]], ends[i])] for i in joined]
    kwargs.setdefault("linewidths", 1.5)
    kwargs.setdefault("label", "branch: a basin from its minimum to where it joins")
    lines = LineCollection(segments, colors=colors + [colors[i] for i in joined], **kwargs)
    ax.add_collection(lines)
    minima = ax.scatter(x, tree.birth, marker=KIND_STYLE[MINIMUM].marker,
                        c=KIND_STYLE[MINIMUM].color, edgecolors="k", s=30, zorder=3,
                        label="minimum")
    saddles = ax.scatter(x[joined], ends[joined], marker=KIND_STYLE[SADDLE].marker,
                         c=KIND_STYLE[SADDLE].color, edgecolors="k", s=30, zorder=3,
                         label="where it joins (saddle)")
    if np.any(~np.isfinite(tree.death)):
        _mark_infinity(ax, top)
    ax.set_xlim(-1, len(x))
    ax.set_ylim(float(tree.birth.min()) - 0.04 * (top - tree.birth.min()),
                top + 0.04 * (top - tree.birth.min()))
    ax.set_xticks([])
    ax.set_xlabel("minima (each branch joins the one to its left)")
    ax.set_ylabel("loss")
    return MergeTreeArtists(lines, minima, saddles, [])


def plot_merge_tree_on_plane(tree: MergeTree, ax: Axes | None = None, threshold: float = 0.0,
                             labels: bool = True, **kwargs: Any) -> MergeTreeArtists:
    """Mark a plane's merge tree over its contours (:func:`~landscape.plot.plot_contour`).

    The minima deeper than ``threshold`` are marked, and the saddles where their basins
    join deeper ones, each labelled with its loss.

    Which basins a saddle joins is the tree's (:func:`plot_merge_tree`): by the elder rule a
    basin that has already swallowed others spills as a whole, so the minimum that dies at
    a saddle may lie far from it, and no line is drawn between them.

    Parameters
    ----------
    tree : MergeTree of a 2-D surface.
    ax : matplotlib Axes (typically holding the contours), or None.
    threshold : float >= 0: minima of persistence ``<= threshold`` (and their saddles) are
        left out.
    labels : bool, write each saddle's loss beside it.
    **kwargs : passed to both ``Axes.scatter`` calls.

    Returns
    -------
    MergeTreeArtists: no lines, the minima, the saddles and the labels.
    """
    if tree.minima.shape[1:] != (2,):
        raise ValueError(f"plot_merge_tree_on_plane needs the tree of a 2-D surface, got "
                         f"{tree.minima.shape[1] if tree.minima.ndim == 2 else '?'}-D minima")
    threshold = real_in(threshold, "threshold", 0.0)
    ax = new_axes(ax)
    keep = tree.persistence > threshold
    joined = np.flatnonzero(keep & (tree.joins >= 0))
    kwargs = {"edgecolors": "k", "s": 60, "zorder": 3, **kwargs}
    marker, color = KIND_STYLE[MINIMUM]
    minima = ax.scatter(tree.minima[keep, 0], tree.minima[keep, 1], marker=marker, c=color,
                        label="minimum", **kwargs)
    marker, color = KIND_STYLE[SADDLE]
    saddles = ax.scatter(tree.saddles[joined, 0], tree.saddles[joined, 1], marker=marker,
                         c=color, label="saddle where a basin joins", **kwargs)
    texts = [ax.annotate(f"{tree.death[i]:.3g}", tree.saddles[i], xytext=(6, 6),
                         textcoords="offset points", fontsize=8, color="k",
                         bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none",
                               "alpha": 0.7})
             for i in joined] if labels else []
    return MergeTreeArtists(None, minima, saddles, texts)
