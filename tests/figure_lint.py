"""Figure lint: what a reviewer sends back, checked on a drawn matplotlib figure.

:func:`lint` returns one line per defect (an empty list: nothing to send back):

- a legend's box holds a plotted data point or a stretch of a drawn line (of any axes of
  the figure: a legend covers twin axes too);
- an axis that shows tick labels has no label (a colour bar's axis included);
- a reference line (``axhline``/``axvline``/``axline``, or any drawn line that is
  straight and level or upright) has neither a legend entry nor a text within
  ``NEAR_PX`` of it;
- a text (tick labels, titles, legends, annotations) is smaller than ``MIN_POINTS`` when
  the PNG is shown at the gallery's width;
- titles, axis labels and texts overlap one another or a legend, or legends overlap.

The sizes: a PNG saved at ``dpi`` shows a font of ``s`` points as ``s * dpi / 72`` image
pixels; the gallery shows the image at most ``GALLERY_WIDTH`` CSS pixels wide (scaled down
by ``shown / width``), and a CSS pixel is 3/4 of a CSS point.
"""

from __future__ import annotations

import numpy as np
from matplotlib.collections import LineCollection, PathCollection
from matplotlib.container import BarContainer
from matplotlib.lines import Line2D
from matplotlib.text import Text

from landscape.gallery import COLUMN_PX

#: Widest the gallery shows a figure, in CSS pixels: its column (wider PNGs are scaled down).
GALLERY_WIDTH = COLUMN_PX
MIN_POINTS = 7.0
NEAR_PX = 20.0  # a text this close to a reference line labels it (display pixels)


def lint(fig, width_px: int, dpi: float) -> list[str]:
    """Every defect of ``fig`` (drawn, e.g. just saved) as one line each.

    Parameters
    ----------
    fig : matplotlib Figure, drawn (``fig.canvas.draw()`` or a ``savefig``).
    width_px : the saved PNG's width in pixels.
    dpi : the resolution it was saved at.
    """
    renderer = fig.canvas.get_renderer()
    fig.draw_without_rendering()
    scale = min(1.0, GALLERY_WIDTH / width_px) * dpi / 96.0  # points -> shown CSS points
    return (covered_by_legends(fig, renderer) + unlabelled_axes(fig)
            + unlabelled_reference_lines(fig, renderer) + small_text(fig, renderer, scale)
            + overlapping_text(fig, renderer))


def _name(ax) -> str:
    """``axes k`` (its place in the figure) and its title or y label, for a message."""
    what = ax.get_title() or ax.get_ylabel() or ax.get_label()
    k = ax.figure.axes.index(ax) + 1 if ax in ax.figure.axes else "?"
    return f"axes {k}" + (f" ({what.splitlines()[0][:30]!r})" if what else "")


def _legends(fig) -> list:
    legends = list(fig.legends) + [ax.get_legend() for ax in fig.axes]
    return [leg for leg in legends if leg is not None and leg.get_visible()]


def _inside(points: np.ndarray, box) -> np.ndarray:
    """Which display points ``(k, 2)`` lie inside ``box`` (a Bbox)."""
    x, y = points[:, 0], points[:, 1]
    return (x > box.x0) & (x < box.x1) & (y > box.y0) & (y < box.y1)


def _segments_cross(points: np.ndarray, box) -> bool:
    """Whether the polyline ``points`` ``(k, 2)`` (display) passes through ``box``.

    Liang-Barsky clipping of every segment at once: a segment meets the box where the
    parameter ranges inside it in x and in y overlap within [0, 1].
    """
    points = points[np.all(np.isfinite(points), axis=1)]
    if len(points) < 2:
        return False
    p0, d = points[:-1], np.diff(points, axis=0)
    lo, hi = np.zeros(len(d)), np.ones(len(d))
    for k, (a, b) in enumerate(((box.x0, box.x1), (box.y0, box.y1))):
        with np.errstate(divide="ignore", invalid="ignore"):
            t0, t1 = (a - p0[:, k]) / d[:, k], (b - p0[:, k]) / d[:, k]
        flat = d[:, k] == 0
        inside = (p0[:, k] > a) & (p0[:, k] < b)
        t_lo = np.where(flat, np.where(inside, 0.0, np.inf), np.minimum(t0, t1))
        t_hi = np.where(flat, np.where(inside, 1.0, -np.inf), np.maximum(t0, t1))
        lo, hi = np.maximum(lo, t_lo), np.minimum(hi, t_hi)
    return bool(np.any(lo < hi))


def _data_points(ax, renderer) -> list[tuple[str, np.ndarray, str]]:
    """``(what, display points, how)`` for each line, scatter and bar of ``ax``: ``how`` is
    'line' (a polyline ``(k, 2)``), 'points' (markers ``(k, 2)``) or 'box' (a bar's
    corners ``(2, 2)``)."""
    found = []
    for line in ax.lines:
        if not line.get_visible() or len(line.get_xydata()) == 0:
            continue
        points = line.get_transform().transform(line.get_xydata())
        joined = line.get_linestyle() not in ("None", "none", " ", "")
        found.append((f"line {line.get_label()!r}", points, "line" if joined else "points"))
    for coll in ax.collections:
        if isinstance(coll, PathCollection) and coll.get_visible() and len(coll.get_offsets()):
            points = coll.get_offset_transform().transform(coll.get_offsets())
            found.append((f"points {coll.get_label()!r}", points, "points"))
    for container in ax.containers:
        if isinstance(container, BarContainer):
            for bar in container.patches:
                if bar.get_visible() and bar.get_width() and bar.get_height():
                    found.append((f"bar {container.get_label()!r}",
                                  bar.get_window_extent(renderer).get_points(), "box"))
    return found


def _covers(box, points: np.ndarray, how: str) -> bool:
    """Whether ``box`` holds a point, crosses the polyline or overlaps the bar ``points``."""
    if how == "box":
        (x0, y0), (x1, y1) = np.sort(points, axis=0)
        return x0 < box.x1 and box.x0 < x1 and y0 < box.y1 and box.y0 < y1
    return bool(_inside(points, box).any()) or (how == "line" and _segments_cross(points, box))


def covered_by_legends(fig, renderer) -> list[str]:
    """A defect for each legend whose box holds data of an axes it sits over."""
    problems = []
    for legend in _legends(fig):
        box = legend.get_window_extent(renderer)
        for ax in fig.axes:
            window = ax.get_window_extent(renderer)
            if not box.overlaps(window):
                continue
            clip = type(box).intersection(box, window)
            for what, points, how in _data_points(ax, renderer):
                if _covers(clip, points, how):
                    problems.append(f"legend of {_name(legend.axes or ax)} covers {what} of "
                                    f"{_name(ax)}")
    return problems


def _shows_ticklabels(axis) -> bool:
    return any(t.get_visible() and t.get_text().strip() for t in axis.get_ticklabels())


def unlabelled_axes(fig) -> list[str]:
    """A defect for each axis that shows tick labels but has no label."""
    problems = []
    for ax in fig.axes:
        if not ax.get_visible() or not ax.axison:
            continue
        axes = [("x", ax.xaxis), ("y", ax.yaxis)]
        if hasattr(ax, "zaxis"):
            axes.append(("z", ax.zaxis))
        for name, axis in axes:
            if axis.get_visible() and _shows_ticklabels(axis) and not axis.label.get_text():
                problems.append(f"{name} axis of {_name(ax)} has no label")
    return problems


def _reference_lines(ax):
    """The straight level or upright lines of ``ax`` as ``(artist, label, display points)``."""
    refs = []
    for line in ax.lines:
        xy = line.get_xydata()
        drawn = line.get_linestyle() not in ("None", "none", " ", "")
        if not line.get_visible() or not drawn or len(xy) < 2:
            continue
        level = np.ptp(xy[:, 1]) == 0 or np.ptp(xy[:, 0]) == 0
        spanning = line.get_transform() != ax.transData  # axhline, axvline, axline
        if level or spanning:
            refs.append((line, line.get_label(), line.get_transform().transform(xy)))
    for coll in ax.collections:
        if isinstance(coll, LineCollection) and coll.get_visible():
            for seg in coll.get_segments():
                if len(seg) >= 2 and (np.ptp(seg[:, 1]) == 0 or np.ptp(seg[:, 0]) == 0):
                    refs.append((coll, coll.get_label(), coll.get_transform().transform(seg)))
    return refs


def _distance(box, points: np.ndarray) -> float:
    """Display distance from a text's box to the nearest point of a straight line."""
    p0, p1 = points[0], points[-1]
    t = np.linspace(0, 1, 200)[:, None]
    line = p0 + t * (p1 - p0)
    dx = np.maximum(np.maximum(box.x0 - line[:, 0], line[:, 0] - box.x1), 0)
    dy = np.maximum(np.maximum(box.y0 - line[:, 1], line[:, 1] - box.y1), 0)
    return float(np.hypot(dx, dy).min())


def _where(artist, points: np.ndarray) -> str:
    """``at y = v `` (level) or ``at x = v `` (upright) for a Line2D, else nothing."""
    if not isinstance(artist, Line2D):
        return ""
    x, y = artist.get_xdata(), artist.get_ydata()
    level = np.ptp(points[:, 1]) <= np.ptp(points[:, 0])
    return f"at y = {y[0]:.3g} " if level else f"at x = {x[0]:.3g} "


def unlabelled_reference_lines(fig, renderer) -> list[str]:
    """A defect for each reference line with no legend entry and no text beside it."""
    entries = set()
    for legend in _legends(fig):
        entries.update(id(h) for h in legend.legend_handles)
        entries.update(t.get_text() for t in legend.get_texts())
    problems = []
    for ax in fig.axes:
        texts = [t for t in ax.texts if t.get_visible() and t.get_text().strip()]
        boxes = [t.get_window_extent(renderer) for t in texts]
        for artist, label, points in _reference_lines(ax):
            if id(artist) in entries or label in entries:
                continue
            if any(_distance(box, points) <= NEAR_PX for box in boxes):
                continue
            problems.append(f"reference line {_where(artist, points)}of {_name(ax)} has "
                            "no legend entry and no text beside it")
    return problems


def small_text(fig, renderer, scale: float) -> list[str]:
    """A defect for each visible text shown smaller than ``MIN_POINTS``."""
    problems = []
    for text in fig.findobj(Text):
        if not text.get_visible() or not text.get_text().strip():
            continue
        if not text.get_window_extent(renderer).overlaps(fig.bbox):
            continue  # off the figure (unused tick labels)
        shown = text.get_fontsize() * scale
        if shown < MIN_POINTS:
            problems.append(f"text {text.get_text()[:40]!r} shows at {shown:.1f} pt "
                            f"(font {text.get_fontsize():g} pt)")
    return problems


def _labels(fig) -> list:
    """The figure's titles, axis labels and free texts (not tick labels or legend texts)."""
    texts = list(fig.texts) + ([fig._suptitle] if fig._suptitle is not None else [])
    for ax in fig.axes:
        texts += [ax.title, ax._left_title, ax._right_title, ax.xaxis.label, ax.yaxis.label]
        texts += list(ax.texts)
    unique = {id(t): t for t in texts}  # the suptitle may be among fig.texts
    return [t for t in unique.values() if t.get_visible() and t.get_text().strip()]


def overlapping_text(fig, renderer) -> list[str]:
    """A defect for each pair of labels, label and legend, or legends whose boxes overlap."""
    boxes = [(f"text {t.get_text().splitlines()[0][:30]!r}", t.get_window_extent(renderer))
             for t in _labels(fig)]
    boxes += [(f"a legend of {_name(leg.axes) if leg.axes else 'the figure'}",
               leg.get_window_extent(renderer)) for leg in _legends(fig)]
    problems = []
    for i, (what, box) in enumerate(boxes):
        for other, other_box in boxes[i + 1:]:
            if box.width and other_box.width and box.overlaps(other_box) and \
                    type(box).intersection(box, other_box).width > 1:
                problems.append(f"{what} overlaps {other}")
    return problems
