"""Interactive plotly pictures: a loss surface in 3-D with trajectories drawn on it.

Functions return a figure and never show it. :func:`surface_figure` builds the plotly page
(save it with :func:`landscape.io.save_figure`: plotly.js embedded, or written once beside
many pages; either way it works offline); :func:`preview_figure` draws the same scene
with matplotlib, a still picture to show where the page cannot be (a gallery thumbnail).
"""

from __future__ import annotations

from collections.abc import Hashable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, cast

import numpy as np
import plotly.graph_objects as go

from landscape.plot._style import axis_labels, check_dims, label_colors, log_height

if TYPE_CHECKING:
    from matplotlib.colors import Colormap
    from matplotlib.figure import Figure
    from mpl_toolkits.mplot3d import Axes3D

    from landscape.surface import Projection, Surface

#: The scene's box: x and y as long as each other, the height half of that, so a steep
#: surface neither towers out of the picture nor hides the floor.
ASPECT = {"x": 1.0, "y": 1.0, "z": 0.5}
#: Where the viewer stands (in units of the box, looking at its centre, a little below it):
#: far enough that the box, its tick labels and axis titles stay in view when turned.
CAMERA = {"eye": {"x": -1.2, "y": -1.2, "z": 1.15}, "center": {"x": 0.0, "y": 0.0, "z": -0.1}}
#: Trajectories are drawn this fraction of the surface's height range above their losses,
#: so the surface (which runs straight between grid points) does not cover them.
LIFT = 0.015


def _hover(p: Projection) -> list[str]:
    """Hover text of each point of a projection: step, loss and projection residual."""
    steps = p.steps if p.steps is not None else np.arange(len(p.coords))
    loss = cast(np.ndarray, p.loss)  # surface_figure checked that it is there
    return [f"{p.label or 'run'}<br>step {s:g}<br>loss {v:.6g}<br>residual {r:.2g}"
            for s, v, r in zip(steps, loss, p.residual)]


def _trajectory_trace(p: Projection, z: np.ndarray, color: str, show_legend: bool
                      ) -> go.Scatter3d:
    k = len(p.coords)
    sizes = np.full(k, 3.0)
    sizes[[0, -1]] = 9.0
    symbols = ["circle"] * k
    symbols[-1] = "diamond"
    return go.Scatter3d(
        x=p.coords[:, 0], y=p.coords[:, 1], z=z,
        mode="lines+markers",
        line={"color": color, "width": 6},
        marker={"size": sizes, "color": color, "symbol": symbols,
                "line": {"color": "white", "width": 1}},
        name=p.label or "run", legendgroup=str(p.label), showlegend=show_legend,
        hovertext=_hover(p), hoverinfo="text",
    )


def _surface_trace(surface: Surface, z: np.ndarray, colorscale: str, contours: bool,
                   log: bool) -> go.Surface:
    """The loss (or its log10) over the plane; the hover text gives the loss either way."""
    x_label, y_label = axis_labels(surface)
    values = surface.values.T  # plotly's z[i][j] sits at (x[j], y[i])
    loss = "customdata" if log else "z"
    return go.Surface(
        x=surface.axes[0], y=surface.axes[1], z=z.T.astype(np.float32),
        customdata=values.astype(np.float32) if log else None,
        colorscale=colorscale, name="loss", showscale=True,
        colorbar={"title": {"text": "log10 loss" if log else "loss"}, "len": 0.75},
        contours_z={"show": contours, "project_z": contours, "usecolormap": True},
        hovertemplate=f"{x_label}: %{{x:.3g}}<br>{y_label}: %{{y:.3g}}<br>loss: %{{{loss}:.4g}}"
                      "<extra></extra>",
    )


def surface_figure(surface: Surface, projections: Projection | Sequence[Projection] = (),
                   colorscale: str = "Viridis", contours: bool = True,
                   title: str | None = None, colors: Mapping[Hashable, str] | None = None,
                   log: bool = False) -> go.Figure:
    """An interactive 3-D picture of a 2-D surface, with trajectories drawn on it.

    The scene has a fixed box (:data:`ASPECT`) and viewpoint (:data:`CAMERA`), so the whole
    surface and its axis labels are in view however tall the loss is. Each trajectory is
    drawn at its true losses (``projection.loss``), not at the surface's height under its
    projected coordinates, lifted by :data:`LIFT` of the surface's height range so that the
    surface does not bury it: where the projection residual is large the two differ, and
    the hover text (step, true loss, residual) says so. Start and end are larger markers
    (the end a diamond); runs with the same label share a colour, the same as
    :func:`~landscape.plot.plot_trajectories` gives them.

    Parameters
    ----------
    surface : :class:`~landscape.surface.Surface` with two axes (NaN values leave holes).
    projections : a :class:`~landscape.surface.Projection` or a sequence of them, each with
        2-D ``coords`` and ``loss`` (project a trajectory record, or pass ``loss=``).
    colorscale : plotly colour scale name.
    contours : bool, project the loss contours onto the floor of the box.
    title : str or None.
    colors : dict label -> colour (any CSS colour), or None for the default palette
        (matplotlib's 'tab10', in order of first appearance, as in ``plot_trajectories``).
    log : bool, heights ``log10(loss)``: use it where the loss spans decades. Surface
        values <= 0 leave holes; trajectory losses below the surface's lowest positive
        value are drawn at that value (a run converging to a zero loss would otherwise
        fall out of the box). The hover text still gives the loss.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    check_dims(surface, 2, "surface_figure")
    given: Any = projections  # one or many: told apart by duck typing
    projections = [given] if hasattr(given, "coords") else list(given)
    for p in projections:
        if p.loss is None or np.shape(p.coords)[1:] != (2,):
            raise ValueError("each projection needs coords of shape (k, 2) and the losses of "
                             "its points (project(..., loss=...))")
    heights = log_height(surface.values) if log else np.asarray(surface.values, dtype=float)
    low, high = np.nanmin(heights), np.nanmax(heights)
    lift = LIFT * (high - low)
    x_label, y_label = axis_labels(surface)
    fig = go.Figure(_surface_trace(surface, heights, colorscale, contours, log))
    colors, shown = label_colors((p.label for p in projections), colors), set()
    for p in projections:
        loss = cast(np.ndarray, p.loss)  # checked above
        z = log_height(np.maximum(loss, 10.0 ** low)) if log else np.asarray(loss)
        fig.add_trace(_trajectory_trace(p, z + lift, colors[p.label], p.label not in shown))
        shown.add(p.label)
    fig.update_layout(
        title=title,
        scene={"xaxis_title": x_label, "yaxis_title": y_label,
               "zaxis_title": "log10 loss" if log else "loss",
               "aspectmode": "manual", "aspectratio": ASPECT, "camera": CAMERA},
        legend={"x": 0.0, "y": 1.0, "bgcolor": "rgba(255,255,255,0.7)"},
        margin={"l": 0, "r": 0, "t": 40 if title else 10, "b": 0},
    )
    return fig


def preview_figure(fig: go.Figure, size: tuple[float, float] = (4.0, 3.0)) -> Figure:
    """A still matplotlib picture of a :func:`surface_figure` page, from the same viewpoint.

    Draws the figure's surface (its heights and colour scale) and its trajectories (lines,
    start and end markers) in a box of the scene's aspect, seen from the scene's camera.
    Meant for thumbnails: the axes carry no tick labels.

    Parameters
    ----------
    fig : plotly Figure as :func:`surface_figure` returns it.
    size : (width, height) in inches.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib.pyplot as plt

    scene = fig.layout.scene
    eye = scene.camera.eye
    figure = plt.figure(figsize=size)
    ax = cast("Axes3D", figure.add_subplot(projection="3d", computed_zorder=False))
    ax.view_init(elev=np.degrees(np.arctan2(eye.z, np.hypot(eye.x, eye.y))),
                 azim=np.degrees(np.arctan2(eye.y, eye.x)))
    aspect = scene.aspectratio
    ax.set_box_aspect((aspect.x, aspect.y, aspect.z), zoom=1.1)
    for trace in fig.data:
        if isinstance(trace, go.Surface):
            x, y = np.meshgrid(np.asarray(trace.x), np.asarray(trace.y))
            ax.plot_surface(x, y, np.asarray(trace.z, dtype=float),
                            cmap=_colormap(trace.colorscale), rstride=1, cstride=1, linewidth=0,
                            antialiased=False)
        elif isinstance(trace, go.Scatter3d):
            ax.plot(trace.x, trace.y, trace.z, color=trace.line.color, linewidth=1.2)
            ax.scatter(trace.x[0], trace.y[0], trace.z[0], color=trace.line.color, s=12)
            ax.scatter(trace.x[-1], trace.y[-1], trace.z[-1], color=trace.line.color, s=18,
                       marker="D")
    ax.set(xticklabels=[], yticklabels=[], zticklabels=[])
    figure.subplots_adjust(0, 0, 1, 1)
    return figure


def _colormap(colorscale: Sequence[tuple[float, str]]) -> Colormap:
    """A matplotlib colour map of a plotly colour scale (``((position, colour), ...)``)."""
    from matplotlib.colors import LinearSegmentedColormap
    from plotly.colors import convert_colors_to_same_type

    positions, colors = zip(*colorscale)
    rgb = convert_colors_to_same_type(list(colors), colortype="tuple")[0]
    return LinearSegmentedColormap.from_list("plotly", list(zip(positions, rgb)))
