"""The explorer's view as a file: a self-contained HTML page, or a PNG.

:func:`export_view` writes :func:`~landscape.explore.figures.landscape_figure` as an HTML
page with plotly.js inside (it works offline, animation included), or as a PNG: drawn by
kaleido where it is installed (with Debian's Chromium; MathJax off, so nothing is fetched),
else (or without a Chrome for it) by :func:`still_figure`, the same picture drawn with
matplotlib.
"""

from __future__ import annotations

import dataclasses
import os
from pathlib import Path
from typing import TYPE_CHECKING, cast

import numpy as np

from landscape.explore.compute import BasinMap, View, shown_values
from landscape.explore.figures import (
    ANIMATE_JS,
    basin_categories,
    heights,
    landscape_figure,
    optimizer_colors,
    shown_length,
)
from landscape.io import atomic_path, save_figure
from landscape.plot import (
    add_colorbar,
    plot_contour,
    plot_critical_points,
    plot_surface3d,
    plot_trajectories,
)
from landscape.surface import project

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from mpl_toolkits.mplot3d import Axes3D

#: The PNG's size in CSS pixels (kaleido) and inches at :data:`DPI` (matplotlib).
WIDTH, HEIGHT, DPI = 1100, 620, 100


def _draw_basins(ax: Axes, basins: BasinMap) -> None:
    """The basins map over the contours, with a legend of the basins reached."""
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    names, colors = basin_categories(basins)
    categories = basins.labels + 2
    ax.pcolormesh(basins.axes[0], basins.axes[1], categories.T, shading="nearest",
                  cmap=ListedColormap(colors), vmin=-0.5, vmax=len(colors) - 0.5, alpha=0.5)
    ax.legend(handles=[Patch(color=colors[i], alpha=0.6, label=names[i])
                       for i in np.unique(categories)], fontsize=8, loc="upper left",
              bbox_to_anchor=(0.0, -0.12), ncols=2, title=f"basins of {basins.optimizer}")


def _draw_landscape(fig: Figure, view: View) -> Axes:
    """The contours (or surface) with the basins, critical points and runs: the left panel."""
    s = view.surface
    colors = optimizer_colors(view.runs)
    if view.log:  # log colours of the loss above the box's lowest value
        low = float(np.nanmin(s.values))
        s = dataclasses.replace(s, values=s.values - low + shown_values(s.values, True)[1])
    if view.mode == "surface":
        ax3 = cast("Axes3D", fig.add_subplot(1, 2, 1, projection="3d"))
        plot_surface3d(s, ax=ax3, log=view.log, alpha=0.8)
        for r in view.runs:
            k = shown_length(r, view)
            ax3.plot(*r.trajectory.thetas[:k].T, heights(r.trajectory.loss[:k], view),
                     color=colors[r.optimizer], zorder=5)
        ax3.set(xlabel=view.landscape.labels[0], ylabel=view.landscape.labels[1])
        return ax3
    ax = fig.add_subplot(1, 2, 1)
    # over a basins map the loss is drawn as lines, as on the page
    drawn = plot_contour(s, ax=ax, levels=30, log=view.log, filled=view.basins is None)
    add_colorbar(drawn, label="loss above its lowest" if view.log else "loss")
    if view.basins is not None:
        _draw_basins(ax, view.basins)
    points = view.landscape.critical_points
    if points:
        plot_critical_points([p.theta for p in points], [p.kind for p in points], ax=ax)
    paths = [project(r.trajectory.thetas[:max(shown_length(r, view), 1)], np.zeros(2),
                     np.eye(2), label=r.optimizer) for r in view.runs]
    if paths:
        plot_trajectories(paths, ax=ax, colors=colors, legend=False)
    (x0, x1), (y0, y1) = view.landscape.bounds
    ax.set(xlim=(x0, x1), ylim=(y0, y1), xlabel=view.landscape.labels[0],
           ylabel=view.landscape.labels[1])
    return ax


def still_figure(view: View) -> Figure:
    """The view drawn with matplotlib: the landscape and runs beside their loss curves.

    Parameters
    ----------
    view : :class:`~landscape.explore.compute.View`.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(WIDTH / DPI, HEIGHT / DPI), dpi=DPI)
    _draw_landscape(fig, view).set_title(view.landscape.title)
    ax = fig.add_subplot(1, 2, 2)
    colors, named = optimizer_colors(view.runs), set()
    for r in view.runs:
        k = shown_length(r, view)
        ax.plot(r.trajectory.steps[:k], r.trajectory.loss[:k], color=colors[r.optimizer],
                label=None if r.optimizer in named else r.label.split(",")[0])
        named.add(r.optimizer)
    if view.log and all(np.all(r.trajectory.loss[:shown_length(r, view)] > 0)
                        for r in view.runs):
        ax.set_yscale("log")
    ax.set(xlabel="step", ylabel="loss", title="loss along each run")
    if named:
        ax.legend(loc="upper right")
    fig.subplots_adjust(left=0.07, right=0.97, top=0.93, bottom=0.3 if view.basins else 0.1,
                        wspace=0.35)
    return fig


def _kaleido_png(view: View, path: Path) -> bool:
    """Write the plotly figure as a PNG with kaleido; False without kaleido or a Chrome."""
    try:
        import kaleido
        from kaleido.errors import ChromeNotFoundError
    except ImportError:
        return False
    fig = landscape_figure(view).update_layout(updatemenus=[], annotations=[])  # a still
    try:
        png = kaleido.calc_fig_sync(fig.to_dict(), kopts={"mathjax": False},  # no network
                                    opts={"format": "png", "width": WIDTH, "height": HEIGHT})
    except ChromeNotFoundError:
        return False
    with atomic_path(path) as tmp:
        tmp.write_bytes(png)
    return True


def export_view(view: View, path: str | os.PathLike) -> Path:
    """Write ``view`` to ``path``: an ``.html`` page or a ``.png`` picture (atomically).

    Raises
    ------
    ValueError
        When ``path`` ends neither in ``.html`` nor in ``.png``.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".html":  # the play button works there too
        attach = "landscapeExplore.attach(document.getElementById('{plot_id}'));"
        return save_figure(landscape_figure(view), path, post_script=ANIMATE_JS + attach)
    if suffix != ".png":
        raise ValueError(f"path must end in .html or .png, got {path.name!r}")
    if not _kaleido_png(view, path):
        import matplotlib.pyplot as plt

        fig = still_figure(view)
        save_figure(fig, path, dpi=DPI)
        plt.close(fig)
    return path
