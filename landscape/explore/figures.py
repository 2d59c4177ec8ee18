"""The explorer's picture: the landscape with its runs, and their loss curves, as one plotly figure.

:func:`landscape_figure` draws a :class:`~landscape.explore.compute.View`: on the left the
loss as contours (with the basins map over them when one was computed) or as a 3-D
surface, the critical points marked by kind, and each run's path; on the right each run's
loss against the step. The figure shows every run whole; its play button animates them
step by step. Plotly's own frames clear every heatmap and contour of a subplot while they
play (whether they redraw or not, measured with plotly.js 3), so the animation is
:data:`ANIMATE_JS` instead: it restyles the runs' traces only, from the points the figure
carries in ``layout.meta['animation']``.

Traces on the landscape carry ``meta='landscape'`` (clicks and hovers on them are points of
the landscape); the first trace covers the whole grid (a transparent heatmap, or the
surface), so a click anywhere on the box gives a point.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Hashable, Sequence
from typing import Any

import numpy as np
import plotly.graph_objects as go

from landscape.explore.compute import BasinMap, RunView, View, shown_values
from landscape.plot._style import KIND_STYLE, PALETTE
from landscape.plot.interactive import LIFT
from landscape.vocabulary import DEGENERATE, DIVERGED, KINDS, MAXIMUM, MINIMUM, SADDLE, Kind

#: Plotly's marker for each kind (matplotlib's markers in :data:`KIND_STYLE`).
SYMBOLS: dict[Kind, str] = {MINIMUM: "circle", SADDLE: "x", MAXIMUM: "triangle-up",
                            DEGENERATE: "square"}
#: The same in 3-D, where plotly has fewer markers (no triangles).
SYMBOLS_3D: dict[Kind, str] = {**SYMBOLS, SADDLE: "cross", MAXIMUM: "diamond"}
#: The most frames of an animation (steps are thinned evenly beyond it), and their duration.
MAX_FRAMES, FRAME_MS = 60, 80
#: Landscape on the left, loss curves on the right: the panels' horizontal extents.
LEFT, RIGHT = (0.0, 0.55), (0.72, 1.0)
_LANDSCAPE = "landscape"

#: The animation, in the page: ``landscapeExplore.attach(gd)`` makes the figure's play button
#: restyle the runs' traces frame by frame (``layout.meta.animation``, see :func:`_animation`;
#: each frame at least ``duration`` ms after the last one is drawn) and the pause button stop;
#: a new figure stops the old one's animation.
ANIMATE_JS = """
window.landscapeExplore = window.landscapeExplore || (function () {
  function frame(gd, a, f) {
    const cut = function (v) {
      return v === null ? null : v.slice(0, Math.min(a.upto[f], v.length));
    };
    const x = a.x.map(cut);
    const update = {x: x, y: a.y.map(cut), 'marker.size': x.map(function (v, i) {
      return a.head[i] ? v.map(function (_, j) { return j === v.length - 1 ? 12 : 4; }) : null;
    })};
    if (a.z) { update.z = a.z.map(cut); }
    return Plotly.restyle(gd, update, a.traces).then(function () {
      return Plotly.relayout(gd, {'annotations[0].text': 'step ' + a.steps[f]});
    });
  }
  function current(gd) { return gd.layout.meta && gd.layout.meta.animation; }
  function stop(gd) { gd.landscapePlaying = null; }
  function play(gd) {
    const a = current(gd);
    if (!a) { return; }
    const playing = {};
    gd.landscapePlaying = playing;
    let f = 0;
    const tick = function () {  // the next frame waits for this one: the page stays responsive
      const now = current(gd);  // Dash copies the layout: compare the figure's token
      if (gd.landscapePlaying !== playing || !now || now.token !== a.token
          || f >= a.upto.length) { return; }
      frame(gd, a, f).then(function () { f += 1; setTimeout(tick, a.duration); });
    };
    tick();
  }
  return {attach: function (gd) {
    if (gd.landscapeAttached) { return; }
    gd.landscapeAttached = true;
    gd.on('plotly_buttonclicked', function (event) {
      if (event.button.label.indexOf('play') >= 0) { play(gd); } else { stop(gd); }
    });
  }};
})();
"""


def optimizer_colors(runs: Sequence[RunView]) -> dict[Hashable, str]:
    """A colour per optimizer name, in order of first appearance (matplotlib's tab10)."""
    names = list(dict.fromkeys(r.optimizer for r in runs))
    return {name: PALETTE[i % len(PALETTE)] for i, name in enumerate(names)}


def shown_length(run: RunView, view: View) -> int:
    """How many of a run's recorded points are drawn.

    The points up to the first that is not finite or lies outside the box widened by its
    own size on every side (a diverging run is drawn until it leaves the picture).
    """
    bounds = view.landscape.bounds
    width = bounds[:, 1] - bounds[:, 0]
    thetas, loss = run.trajectory.thetas, run.trajectory.loss
    with np.errstate(invalid="ignore"):
        inside = (np.all(np.isfinite(thetas), axis=1) & np.isfinite(loss)
                  & np.all(thetas >= bounds[:, 0] - width, axis=1)
                  & np.all(thetas <= bounds[:, 1] + width, axis=1))
    return int(np.argmin(inside)) if not inside.all() else len(inside)


def heights(loss: np.ndarray, view: View) -> np.ndarray:
    """Losses as heights over the 3-D surface.

    On its scale (the log one floored at the surface's lowest value) and lifted by
    :data:`~landscape.plot.interactive.LIFT` of its height range, so that the surface,
    which runs straight between grid points, does not cover them.
    """
    z, offset = shown_values(view.surface.values, view.log)
    lift = LIFT * float(np.nanmax(z) - np.nanmin(z))
    if not view.log:
        return loss + lift
    low = float(np.nanmin(view.surface.values))
    return np.log10(np.maximum(loss - low, 0.0) + offset) + lift


def _loss_ticks(view: View) -> dict[str, Any]:
    """Log colour-bar ticks at the losses ``lowest + 10^k``, labelled with those losses."""
    z, offset = shown_values(view.surface.values, True)
    low = float(np.nanmin(view.surface.values))
    powers = np.arange(np.ceil(np.log10(offset)), np.floor(np.nanmax(z)) + 1)
    return {"tickvals": np.log10(10.0 ** powers + offset).tolist(),
            "ticktext": [f"{low + 10.0 ** k:.3g}" for k in powers]}


def _colorbar(view: View) -> dict[str, Any]:
    bar: dict[str, Any] = {"title": {"text": "loss (log)" if view.log else "loss"},
                           "x": LEFT[1] + 0.01, "len": 0.8, "thickness": 14}
    return {**bar, **_loss_ticks(view)} if view.log else bar


def _landscape_traces(view: View) -> list[Any]:
    """The grid: the click-catching first trace, then the contours (or the surface only).

    Over a basins map the contours are lines only: plotly draws every contour trace above
    every heatmap, so filled contours would hide the map.
    """
    s = view.surface
    # plotly's z[i][j] sits at (x[j], y[i]); float32 halves the page and shows the same
    loss = s.values.T.astype(np.float32)
    x, y, z = s.axes[0], s.axes[1], shown_values(s.values, view.log)[0].T.astype(np.float32)
    labels = view.landscape.labels
    hover = (f"{labels[0]}: %{{x:.4g}}<br>{labels[1]}: %{{y:.4g}}<br>loss: %{{customdata:.5g}}"
             "<extra></extra>")
    if view.mode == "surface":
        return [go.Surface(x=x, y=y, z=z, customdata=loss, colorscale="Viridis",
                           colorbar=_colorbar(view), hovertemplate=hover, meta=_LANDSCAPE,
                           name="loss", contours_z={"show": True, "usecolormap": True,
                                                    "project_z": True})]
    catcher = go.Heatmap(x=x, y=y, z=loss, opacity=0, showscale=False, meta=_LANDSCAPE,
                         hovertemplate=hover.replace("customdata", "z"), name="loss")
    contours = go.Contour(x=x, y=y, z=z, colorscale="Viridis", ncontours=30,
                          colorbar=_colorbar(view), hoverinfo="skip", meta=_LANDSCAPE,
                          line={"width": 1.0 if view.basins else 0.5}, name="contours",
                          contours_coloring="lines" if view.basins else "fill")
    return [catcher, contours]


def basin_categories(basins: BasinMap) -> tuple[list[str], list[str]]:
    """Names and colours of a basins map's labels ``-2, -1, 0, 1, ...`` (in that order)."""
    centers = [f"{kind} ({c[0]:.3g}, {c[1]:.3g})"
               for kind, c in zip(basins.kinds, basins.centers)]
    colors = [PALETTE[i % len(PALETTE)] for i in range(len(centers))]
    return (["diverged", "no critical point reached"] + centers,
            ["#000000", "#d9d9d9"] + colors)


def _basin_traces(basins: BasinMap) -> list[Any]:
    """The basins map over the contours, and a legend entry per basin reached."""
    names, colors = basin_categories(basins)
    categories = basins.labels + 2  # -2, -1, 0, 1, ... -> 0, 1, 2, ...
    n = len(names)
    scale = [[edge, color] for i, color in enumerate(colors) for edge in (i / n, (i + 1) / n)]
    traces: list[Any] = [go.Heatmap(
        x=basins.axes[0], y=basins.axes[1], z=categories.T.astype(np.int8), zmin=-0.5,
        zmax=n - 0.5,
        colorscale=scale, opacity=0.5, showscale=False, hoverinfo="skip", meta=_LANDSCAPE,
        name="basins")]
    total = categories.size
    for i in np.unique(categories):
        share = np.sum(categories == i) / total
        traces.append(go.Scatter(x=[None], y=[None], mode="markers", meta=_LANDSCAPE,
                                 marker={"symbol": "square", "size": 10, "color": colors[i]},
                                 name=f"{names[i]}: {share:.0%} of starts",
                                 legendgroup="basins", legendgrouptitle_text=(
                                     f"basins of {basins.optimizer}, {basins.steps} steps")))
    return traces


def _critical_traces(view: View) -> list[Any]:
    points = view.landscape.critical_points
    traces: list[Any] = []
    for kind in KINDS:
        chosen = [p for p in points if p.kind == kind]
        if not chosen:
            continue
        xy = np.array([p.theta for p in chosen])
        loss = np.array([p.loss for p in chosen])
        marker: dict[str, Any] = {"symbol": SYMBOLS[kind], "color": KIND_STYLE[kind].color,
                                  "size": 11, "line": {"color": "black", "width": 1}}
        if view.mode == "surface":  # plotly's 3-D markers: fewer symbols, no outline
            marker = {"symbol": SYMBOLS_3D[kind], "color": marker["color"], "size": 5}
        common = {"mode": "markers", "marker": marker, "name": kind, "meta": _LANDSCAPE,
                  "customdata": loss, "legendgroup": "critical points",
                  "legendgrouptitle_text": "critical points",
                  "hovertemplate": f"{kind}<br>(%{{x:.4g}}, %{{y:.4g}})<br>loss: "
                                   "%{customdata:.5g}<extra></extra>"}
        if view.mode == "surface":
            traces.append(go.Scatter3d(x=xy[:, 0], y=xy[:, 1], z=heights(loss, view), **common))
        else:
            traces.append(go.Scatter(x=xy[:, 0], y=xy[:, 1], **common))
    return traces


def _run_traces(run: RunView, view: View, color: str, first: bool) -> list[Any]:
    """A run's path with its end marker on the landscape, and its loss curve."""
    k = shown_length(run, view)
    tr, end = run.trajectory, run.ending
    xy, loss, steps = tr.thetas[:k], tr.loss[:k], tr.steps[:k]
    hover = [f"{run.label}<br>step {s}<br>loss {v:.5g}" for s, v in zip(steps, loss)]
    symbol = "x" if end.status == DIVERGED else "diamond"
    line = {"mode": "lines+markers", "line": {"color": color, "width": 3},
            "marker": {"size": np.where(np.arange(k) == k - 1, 12, 4), "color": color,
                       "symbol": symbol,
                       "line": {"color": "white", "width": 1}},
            "name": run.label.split(",")[0], "showlegend": first, "hovertext": hover,
            "hoverinfo": "text", "legendgroup": run.optimizer, "meta": _LANDSCAPE}
    if view.mode == "surface":
        path = go.Scatter3d(x=xy[:, 0], y=xy[:, 1], z=heights(loss, view), **line)
    else:
        path = go.Scatter(x=xy[:, 0], y=xy[:, 1], **line)
    curve = go.Scatter(x=steps, y=loss, mode="lines", line={"color": color, "width": 2},
                       xaxis="x2", yaxis="y2", showlegend=False, hovertext=hover,
                       hoverinfo="text", legendgroup=run.optimizer,
                       customdata=["curve"] * k)  # not a point of the landscape
    return [path, curve]


def _frame_points(view: View) -> list[int]:
    """How many recorded points each frame shows (at most :data:`MAX_FRAMES` frames)."""
    longest = max((len(r.trajectory.steps) for r in view.runs), default=1)
    return (np.unique(np.round(np.linspace(0, longest - 1, min(longest, MAX_FRAMES)))) + 1
            ).astype(int).tolist()


def _listed(values: np.ndarray) -> list[float]:
    """Values as a JSON list, rounded to 7 significant digits (a frame is a picture)."""
    return [float(f"{v:.7g}") for v in np.asarray(values, dtype=np.float64)]


def _animation(view: View, first_index: int) -> dict[str, Any]:
    """What :data:`ANIMATE_JS` plays: each run's two traces, whole, and the frames' lengths.

    ``traces`` the indices of the paths and loss curves, ``x``, ``y`` (and ``z`` in 3-D,
    None for the curves) their points, ``head`` which are paths (their last point drawn
    large), ``upto`` the points shown per frame, ``steps`` the step each frame reaches and
    ``duration`` the milliseconds per frame, and ``token`` a hash of them all (a new
    figure stops an animation of the old one). Plain lists: this rides in ``layout.meta``.
    """
    xs, ys, zs = [], [], []
    for r in view.runs:
        k = shown_length(r, view)
        tr = r.trajectory
        xs += [_listed(tr.thetas[:k, 0]), tr.steps[:k].tolist()]
        ys += [_listed(tr.thetas[:k, 1]), _listed(tr.loss[:k])]
        zs += [_listed(heights(tr.loss[:k], view)), None]
    upto = _frame_points(view)
    longest = max(view.runs, key=lambda r: len(r.trajectory.steps)).trajectory.steps
    animation: dict[str, Any] = {
        "traces": list(range(first_index, first_index + 2 * len(view.runs))), "x": xs,
        "y": ys, "head": [True, False] * len(view.runs), "upto": upto,
        "steps": [int(longest[u - 1]) for u in upto], "duration": FRAME_MS}
    if view.mode == "surface":
        animation["z"] = zs
    text = json.dumps(animation, sort_keys=True).encode()
    return {**animation, "token": hashlib.sha256(text).hexdigest()[:16]}


def _controls(view: View) -> dict[str, Any]:
    """The play and pause buttons and the step shown: layout settings."""
    buttons = {"type": "buttons", "direction": "left", "x": LEFT[0], "y": -0.1,
               "xanchor": "left", "yanchor": "top", "showactive": False,
               "buttons": [{"label": "▶ play", "method": "skip", "args": [None]},
                           {"label": "❚❚ pause", "method": "skip", "args": [None]}]}
    last = max(int(r.trajectory.steps[-1]) for r in view.runs)
    step = {"text": f"step {last}", "x": LEFT[0] + 0.2, "y": -0.1, "xref": "paper",
            "yref": "paper", "xanchor": "left", "yanchor": "top", "showarrow": False,
            "font": {"size": 14}}
    return {"updatemenus": [buttons], "annotations": [step]}


def _loss_axis(view: View) -> dict[str, Any]:
    """The loss panel's scale and range, fixed to the whole runs (an animation grows in it).

    Logarithmic with the colours when every loss drawn is positive.
    """
    losses = np.concatenate([r.trajectory.loss[:shown_length(r, view)] for r in view.runs]
                            or [np.ones(1)])
    if view.log and np.all(losses > 0):
        low, high = np.log10(losses.min()), np.log10(losses.max())
        pad = 0.05 * max(high - low, 1.0)
        return {"type": "log", "range": [low - pad, high + pad]}
    low, high = float(losses.min()), float(losses.max())
    pad = 0.05 * max(high - low, 1e-12)
    return {"type": "linear", "range": [low - pad, high + pad]}


def landscape_figure(view: View) -> go.Figure:
    """The explorer's figure of ``view``: landscape and runs, loss curves, their animation.

    The figure shows every run whole; its play button animates them step by step where
    :data:`ANIMATE_JS` runs (the explorer's page, and pages written by
    :func:`~landscape.explore.export_view`).

    Parameters
    ----------
    view : :class:`~landscape.explore.compute.View`.

    Returns
    -------
    plotly.graph_objects.Figure
    """
    traces = _landscape_traces(view)
    if view.basins is not None and view.mode == "contour":
        traces += _basin_traces(view.basins)
    traces += _critical_traces(view)
    first_run = len(traces)
    colors, seen = optimizer_colors(view.runs), set()
    for r in view.runs:
        traces += _run_traces(r, view, colors[r.optimizer], r.optimizer not in seen)
        seen.add(r.optimizer)
    fig = go.Figure(traces)
    (low_x, high_x), (low_y, high_y) = view.landscape.bounds
    labels = view.landscape.labels
    fig.update_layout(
        title={"text": view.landscape.title, "x": 0.01},
        xaxis2={"domain": RIGHT, "title": "step", "anchor": "y2"},
        yaxis2={"anchor": "x2", "domain": [0.45, 1.0], "title": "loss",
                "exponentformat": "power", **_loss_axis(view)},
        legend={"x": RIGHT[0], "y": 0.32, "yanchor": "top", "groupclick": "toggleitem"},
        margin={"l": 60, "r": 20, "t": 40, "b": 100}, height=640, hovermode="closest",
        uirevision=str(view.landscape.key),
    )
    if view.mode == "surface":
        fig.update_layout(scene={"domain": {"x": LEFT, "y": [0.0, 1.0]},
                                 "xaxis_title": labels[0], "yaxis_title": labels[1],
                                 "zaxis_title": "log loss" if view.log else "loss",
                                 "aspectmode": "manual",
                                 "aspectratio": {"x": 1.0, "y": 1.0, "z": 0.6}})
    else:
        fig.update_layout(xaxis={"domain": LEFT, "range": [low_x, high_x], "title": labels[0]},
                          yaxis={"range": [low_y, high_y], "title": labels[1]})
    if view.runs:
        last = max(int(r.trajectory.steps[-1]) for r in view.runs)
        fig.update_layout(meta={"animation": _animation(view, first_run)},
                          xaxis2_range=[0, max(last, 1)], **_controls(view))
    return fig
