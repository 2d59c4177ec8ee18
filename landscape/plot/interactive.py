"""Interactive plotly pictures: a loss surface in 3-D with trajectories drawn on it.

Functions return a ``plotly.graph_objects.Figure`` and never show it; save it with
:func:`landscape.io.save_figure` (one self-contained HTML file with plotly.js embedded,
which works offline).
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go

from landscape.plot._style import axis_labels, check_dims, label_colors, log_height


def _hover(p) -> list[str]:
    """Hover text of each point of a projection: step, loss and projection residual."""
    steps = p.steps if p.steps is not None else np.arange(len(p.coords))
    return [f"{p.label or 'run'}<br>step {s:g}<br>loss {v:.6g}<br>residual {r:.2g}"
            for s, v, r in zip(steps, p.loss, p.residual)]


def _trajectory_trace(p, color: str, show_legend: bool, log: bool) -> go.Scatter3d:
    k = len(p.coords)
    sizes = np.full(k, 3.0)
    sizes[[0, -1]] = 8.0
    symbols = ["circle"] * k
    symbols[-1] = "diamond"
    return go.Scatter3d(
        x=p.coords[:, 0], y=p.coords[:, 1], z=log_height(p.loss) if log else p.loss,
        mode="lines+markers",
        line={"color": color, "width": 5},
        marker={"size": sizes, "color": color, "symbol": symbols},
        name=p.label or "run", legendgroup=str(p.label), showlegend=show_legend,
        hovertext=_hover(p), hoverinfo="text",
    )


def _surface_trace(surface, colorscale: str, contours: bool, log: bool) -> go.Surface:
    """The loss (or its log10) over the plane; the hover text gives the loss either way."""
    x_label, y_label = axis_labels(surface)
    values = surface.values.T  # plotly's z[i][j] sits at (x[j], y[i])
    z, loss = (log_height(values), "customdata") if log else (values, "z")
    return go.Surface(
        x=surface.axes[0], y=surface.axes[1], z=z.astype(np.float32),
        customdata=values.astype(np.float32) if log else None,
        colorscale=colorscale, name="loss", showscale=True,
        colorbar={"title": {"text": "log10 loss" if log else "loss"}},
        contours_z={"show": contours, "project_z": contours, "usecolormap": True},
        hovertemplate=f"{x_label}: %{{x:.3g}}<br>{y_label}: %{{y:.3g}}<br>loss: %{{{loss}:.4g}}"
                      "<extra></extra>",
    )


def surface_figure(surface, projections=(), colorscale: str = "Viridis",
                   contours: bool = True, title: str | None = None,
                   colors: dict | None = None, log: bool = False) -> go.Figure:
    """An interactive 3-D picture of a 2-D surface, with trajectories drawn on it.

    Each trajectory is drawn at its true losses (``z = projection.loss``), not at the
    surface's height under its projected coordinates: where the projection residual is
    large the two differ, and the hover text (step, loss, residual) says so. Start and end
    are larger markers (the end a diamond); runs with the same label share a colour, the
    same as :func:`~landscape.plot.plot_trajectories` gives them.

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
    log : bool, heights ``log10(loss)`` for the surface and the trajectories (values <= 0
        leave holes); the hover text still gives the loss.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    check_dims(surface, 2, "surface_figure")
    projections = [projections] if hasattr(projections, "coords") else list(projections)
    for p in projections:
        if p.loss is None or np.shape(p.coords)[1:] != (2,):
            raise ValueError("each projection needs coords of shape (k, 2) and the losses of "
                             "its points (project(..., loss=...))")
    x_label, y_label = axis_labels(surface)
    fig = go.Figure(_surface_trace(surface, colorscale, contours, log))
    colors, shown = label_colors((p.label for p in projections), colors), set()
    for p in projections:
        fig.add_trace(_trajectory_trace(p, colors[p.label], p.label not in shown, log))
        shown.add(p.label)
    fig.update_layout(
        title=title,
        scene={"xaxis_title": x_label, "yaxis_title": y_label,
               "zaxis_title": "log10 loss" if log else "loss"},
        legend={"x": 0.0, "y": 1.0},
        margin={"l": 0, "r": 0, "t": 40 if title else 10, "b": 0},
    )
    return fig
