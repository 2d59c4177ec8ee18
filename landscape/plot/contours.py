"""Two-dimensional pictures: contours and 3-D surfaces of a plane, and what is drawn on them.

Trajectories and critical points drawn on a plane, and a colour bar that labels log
contours.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, cast

import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.ticker import LogFormatterSciNotation, LogLocator
from numpy.typing import ArrayLike

from landscape._checks import finite_array
from landscape.plot._style import (
    KIND_STYLE,
    axis_labels,
    check_dims,
    check_kinds,
    label_colors,
    log_height,
    new_axes,
)
from landscape.vocabulary import KINDS, Kind

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.collections import Collection, PathCollection
    from matplotlib.colorbar import Colorbar
    from matplotlib.contour import QuadContourSet
    from matplotlib.image import AxesImage
    from matplotlib.lines import Line2D
    from mpl_toolkits.mplot3d import Axes3D
    from mpl_toolkits.mplot3d.art3d import Poly3DCollection

    from landscape.surface import Projection, Surface


def _finite_range(values: np.ndarray) -> tuple[float, float]:
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        raise ValueError("the surface has no finite values to draw")
    return float(finite.min()), float(finite.max())


def _levels(values: np.ndarray, levels: int | ArrayLike, log: bool) -> np.ndarray:
    """Contour levels: as given, or ``levels`` of them spread evenly (geometrically for log)."""
    if np.ndim(levels) == 1:
        return np.asarray(levels, dtype=float)
    lo, hi = _finite_range(values)
    count = int(np.asarray(levels))
    if not log:
        return np.linspace(lo, hi, count)
    positive = values[np.isfinite(values) & (values > 0)]
    if positive.size == 0:
        raise ValueError("log=True needs positive values: shift the losses first")
    return np.geomspace(positive.min(), hi, count)


def plot_contour(surface: Surface, ax: Axes | None = None, levels: int | ArrayLike = 20,
                 log: bool = False, filled: bool = True, cmap: str = "viridis",
                 **kwargs: Any) -> QuadContourSet:
    """Draw the contours of a 2-D :class:`~landscape.surface.Surface`.

    NaN values (losses that were not finite) are left blank. Add a colour bar with
    :func:`add_colorbar` (``fig.colorbar`` labels few of a log scale's ticks).

    Parameters
    ----------
    surface : Surface with two axes.
    ax : matplotlib Axes, or None for a new figure.
    levels : int (that many levels, evenly spread over the finite values) or an increasing
        array of levels.
    log : bool, geometric levels and a logarithmic colour scale; values <= 0 are left blank.
    filled : bool, ``contourf`` (True) or contour lines.
    cmap : colour map name.
    **kwargs : passed to ``Axes.contourf`` / ``Axes.contour``.

    Returns
    -------
    matplotlib.contour.QuadContourSet
    """
    check_dims(surface, 2, "plot_contour")
    ax = new_axes(ax)
    values = surface.values
    if log:
        kwargs["norm"] = LogNorm()
        values = np.where(values > 0, values, np.nan)  # blank, not masked with a warning
    draw = ax.contourf if filled else ax.contour
    # values[i, j] belongs to (axes[0][i], axes[1][j]); contour wants Z[row=y, column=x].
    artist = draw(surface.axes[0], surface.axes[1], values.T, levels=_levels(values, levels, log),
                  cmap=cmap, **kwargs)
    x_label, y_label = axis_labels(surface)
    ax.set_xlabel(x_label)
    ax.set_ylabel(y_label)
    return artist


def add_colorbar(artist: Collection | AxesImage, ax: Axes | Sequence[Axes] | None = None,
                 label: str | None = None, log: bool | None = None, **kwargs: Any
                 ) -> Colorbar:
    """A colour bar for ``artist`` (a :func:`plot_contour` result or any mappable).

    On a log scale ``fig.colorbar`` ticks at the contour levels and labels only the powers
    of ten among them, so a bar often has one label or none; here a log bar is ticked and
    labelled at the powers of ten inside its range (at 1, 2 and 5 times them when fewer
    than two powers of ten fall inside).

    Parameters
    ----------
    artist : a matplotlib mappable (``QuadContourSet``, ``QuadMesh``, ...).
    ax : the Axes (or list of Axes) to take room from, or None for ``artist.axes``.
    label : str or None, the bar's label.
    log : bool, or None for True when ``artist`` has a ``LogNorm`` (``plot_contour(log=True)``).
    **kwargs : passed to ``Figure.colorbar`` (``orientation``, ``shrink``, ...).

    Returns
    -------
    matplotlib.colorbar.Colorbar
    """
    drawn_on = artist.axes
    if drawn_on is None:
        raise ValueError("artist must be drawn on an Axes (a plot_contour result, say)")
    bar = drawn_on.figure.colorbar(artist, ax=ax, label=label, **kwargs)  # None: drawn_on
    if log is None:
        log = isinstance(artist.norm, LogNorm)
    if log:
        low, high = sorted(bar.long_axis.get_view_interval())
        bar.set_ticks(_log_ticks(low, high))
        bar.formatter = LogFormatterSciNotation(minor_thresholds=(np.inf, np.inf))
    return bar


def _log_ticks(low: float, high: float) -> list[float]:
    """The powers of ten in ``[low, high]``; 1, 2 and 5 times them when fewer than two."""
    for subs in ((1.0,), (1.0, 2.0, 5.0)):
        ticks = [t for t in LogLocator(subs=subs).tick_values(low, high) if low <= t <= high]
        if len(ticks) >= 2:
            return ticks
    return ticks


class TrajectoryArtists(NamedTuple):
    """What :func:`plot_trajectories` drew: one path, start marker and end marker per run."""

    lines: list[Line2D]
    starts: list[Line2D]
    ends: list[Line2D]


def plot_trajectories(projections: Projection | Sequence[Projection], ax: Axes | None = None,
                      colors: Mapping[Hashable, str] | None = None, legend: bool = True,
                      **kwargs: Any) -> TrajectoryArtists:
    """Draw projected trajectories on a plane: start as a circle, end as a star.

    Runs with the same ``label`` (the optimizer's name) share a colour and one legend entry.

    Parameters
    ----------
    projections : a :class:`~landscape.surface.Projection` with 2-D ``coords``, or a sequence.
    ax : matplotlib Axes, or None.
    colors : dict label -> colour, or None for the default palette.
    legend : bool, add a legend when some runs have labels.
    **kwargs : passed to ``Axes.plot`` for the paths.

    Returns
    -------
    TrajectoryArtists
    """
    given: Any = projections  # one or many: told apart by duck typing
    projections = [given] if hasattr(given, "coords") else list(given)
    for p in projections:
        if np.ndim(p.coords) != 2 or np.shape(p.coords)[1] != 2:
            raise ValueError(f"trajectories must be projected on a plane: coords (k, 2), got "
                             f"{np.shape(p.coords)}")
    ax = new_axes(ax)
    colors = label_colors((p.label for p in projections), colors)
    artists, named = TrajectoryArtists([], [], []), set()
    for p in projections:
        color, label = colors[p.label], p.label
        if label in named:
            label = None
        named.add(p.label)
        x, y = p.coords[:, 0], p.coords[:, 1]
        artists.lines.extend(ax.plot(x, y, color=color, label=label, **kwargs))
        artists.starts.extend(ax.plot(x[:1], y[:1], "o", color=color, markeredgecolor="k"))
        artists.ends.extend(ax.plot(x[-1:], y[-1:], "*", color=color, markersize=12,
                                    markeredgecolor="k"))
    if legend and any(p.label is not None for p in projections):
        ax.legend()
    return artists


def plot_critical_points(coords: ArrayLike, kinds: Iterable[Kind], ax: Axes | None = None,
                         **kwargs: Any) -> dict[Kind, PathCollection]:
    """Mark critical points by kind.

    Minimum (circle), saddle (cross), maximum (triangle), degenerate (square).

    Parameters
    ----------
    coords : array_like, shape ``(m, 2)``: the points' coordinates on the plane (for a
        surface centred at ``c`` with directions ``D``, ``project(points, c, D).coords``).
    kinds : sequence of ``m`` kinds, each one of :data:`landscape.vocabulary.KINDS`
        ('minimum', 'saddle', 'maximum', 'degenerate').
    ax : matplotlib Axes, or None.
    **kwargs : passed to ``Axes.scatter``.

    Returns
    -------
    dict kind -> matplotlib.collections.PathCollection, for the kinds present.
    """
    coords = finite_array(coords, "coords", ndim=2)
    kinds = check_kinds(kinds)
    if coords.shape != (len(kinds), 2):
        raise ValueError(f"coords must have shape ({len(kinds)}, 2), one row per kind, got "
                         f"{coords.shape}")
    ax = new_axes(ax)
    drawn = {}
    for kind in KINDS:
        rows = coords[[k == kind for k in kinds]]
        if len(rows):
            marker, color = KIND_STYLE[kind]
            drawn[kind] = ax.scatter(rows[:, 0], rows[:, 1], marker=marker, c=color,
                                     edgecolors="k", s=70, label=kind, zorder=3, **kwargs)
    return drawn


def plot_surface3d(surface: Surface, ax: Axes3D | None = None, log: bool = False,
                   cmap: str = "viridis", **kwargs: Any) -> Poly3DCollection:
    """Draw a 2-D :class:`~landscape.surface.Surface` as a 3-D surface (height = loss).

    NaN values leave holes. With ``log`` the height is ``log10(loss)`` (values <= 0 are
    left out).

    Parameters
    ----------
    surface : Surface with two axes.
    ax : a 3-D matplotlib Axes (``fig.add_subplot(projection='3d')``), or None.
    log : bool.
    cmap : colour map name.
    **kwargs : passed to ``Axes3D.plot_surface``.

    Returns
    -------
    mpl_toolkits.mplot3d.art3d.Poly3DCollection
    """
    check_dims(surface, 2, "plot_surface3d")
    ax = cast("Axes3D", new_axes(ax, "3d"))  # new_axes checked that it is 3-D
    a, b = np.meshgrid(surface.axes[0], surface.axes[1], indexing="ij")
    z = log_height(surface.values) if log else surface.values
    artist = ax.plot_surface(a, b, z, cmap=cmap, **kwargs)
    x_label, y_label = axis_labels(surface)
    ax.set_xlabel(x_label)
    ax.set_ylabel(y_label)
    ax.set_zlabel("log10 loss" if log else "loss")
    return artist
