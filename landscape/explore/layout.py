"""The explorer's page: controls on the left, the picture and what it says on the right.

Every setting of :data:`~landscape.explore.compute.FIELDS` is a slider with a text box
beside it (component ids ``{'type': 'slider' | 'text' | 'msg', 'field': key}``); the text
box holds the value, the slider moves it (in powers of ten for the log fields) and typing
in the box moves the slider. The message under a box says what is wrong with a typed value.
"""

from __future__ import annotations

import math
from typing import Any

from dash import dcc, html

from landscape.explore.fields import FIELDS, OPTIMIZERS, Field
from landscape.explore.landscapes import (
    DATA_SETS,
    LANDSCAPES,
    PLANES,
    TITLES,
    LandscapeName,
    make_landscape,
)

DEFAULT_LANDSCAPE: LandscapeName = "himmelblau"
BASIN_RESOLUTIONS = (15, 25, 41)
_MSG = {"color": "#b00020", "fontSize": "0.85em", "minHeight": "1em"}
_SECTION = {"borderTop": "1px solid #ddd", "paddingTop": "6px", "marginTop": "8px"}
_ROW = {"display": "flex", "alignItems": "center", "gap": "6px"}


def to_slider(field: Field, value: float) -> float:
    """The slider position of ``value`` (its log10 for a log field), kept inside the range."""
    low, high = (math.log10(field.low), math.log10(field.high)) if field.log else (
        field.low, field.high)
    position = math.log10(value) if field.log and value > 0 else value
    return min(max(position, low), high)


def from_slider(field: Field, position: float) -> float:
    """The value at a slider position (rounded to 3 significant digits; an int field's int)."""
    value = 10.0 ** position if field.log else position
    value = float(f"{value:.3g}")
    return int(round(value)) if field.integer else value


def show(value: float) -> str:
    """A number as the text boxes and tables show it: 6 significant digits."""
    return f"{value:.6g}"


def _marks(field: Field) -> dict[float, str]:
    if not field.log:
        return {field.low: show(field.low), field.high: show(field.high)}
    return {float(k): show(10.0 ** k) if abs(k) < 4 else f"1e{k}"
            for k in range(math.ceil(math.log10(field.low)),
                           math.floor(math.log10(field.high)) + 1)}


def field_row(key: str) -> html.Div:
    """A field's label, slider, text box and message."""
    field = FIELDS[key]
    low, high = (math.log10(field.low), math.log10(field.high)) if field.log else (
        field.low, field.high)
    slider = dcc.Slider(id={"type": "slider", "field": key}, min=low, max=high,
                        step=(high - low) / 200, value=to_slider(field, field.default),
                        marks=_marks(field), updatemode="mouseup", included=False,
                        allow_direct_input=False)  # the text box beside it takes values
    text = dcc.Input(id={"type": "text", "field": key}, value=show(field.default), type="text",
                     debounce=True, size="8", name=key)
    return html.Div([
        html.Div([html.Label(field.label, style={"width": "9em"}), text], style=_ROW),
        html.Div(slider, style={"padding": "0 12px"}),  # room for the end marks' labels
        html.Div(id={"type": "msg", "field": key}, style=_MSG)])


def _section(title: str, children: list[Any], **kwargs: Any) -> html.Div:
    return html.Div([html.H4(title, style={"margin": "2px 0"}), *children],
                    style=_SECTION, **kwargs)


def _landscape_controls() -> html.Div:
    return _section("Landscape", [
        dcc.Dropdown(id="landscape", options=[{"label": TITLES[n], "value": n}
                                              for n in LANDSCAPES],
                     value=DEFAULT_LANDSCAPE, clearable=False),
        html.Div(field_row("valley.condition"), id="valley-box"),
        html.Div([dcc.RadioItems(id="mlp-data", options=list(DATA_SETS), value=DATA_SETS[0],
                                 inline=True),
                  dcc.RadioItems(id="mlp-plane", options=[
                      {"label": "PCA plane", "value": "pca"},
                      {"label": "filter-normalized plane", "value": "filter"}],
                      value=PLANES[0], inline=True)], id="mlp-box"),
        html.P(id="landscape-note", style={"fontSize": "0.85em", "color": "#555"}),
        dcc.RadioItems(id="mode", options=[{"label": "contours", "value": "contour"},
                                           {"label": "3-D surface", "value": "surface"}],
                       value="contour", inline=True),
        dcc.RadioItems(id="scale", options=[{"label": f"{s} colours", "value": s}
                                            for s in ("auto", "linear", "log")],
                       value="auto", inline=True),
    ])


def _start_controls() -> html.Div:
    return _section("Starts", [
        html.P("Click the landscape to add a start, or type one:",
               style={"margin": "2px 0", "fontSize": "0.9em"}),
        html.Div([dcc.Input(id="start-text", placeholder="x, y", type="text", size="12"),
                  html.Button("add", id="start-add"), html.Button("clear", id="start-clear")],
                 style=_ROW),
        html.Div(id="start-msg", style=_MSG),
    ])


def _optimizer_controls() -> html.Div:
    boxes = [html.Div([html.B(spec.label), *[field_row(f"{name}.{key}") for key in spec.params]],
                      id={"type": "opt-box", "name": name})
             for name, spec in OPTIMIZERS.items()]
    return _section("Optimizers", [
        dcc.Checklist(id="optimizers", options=[{"label": spec.label, "value": name}
                                                for name, spec in OPTIMIZERS.items()],
                      value=["gd"], inline=True),
        field_row("run.steps"), *boxes])


def _basin_controls() -> html.Div:
    return _section("Basins map", [
        html.Div([dcc.Dropdown(id="basins-optimizer", clearable=False,
                               style={"width": "12em"}),
                  dcc.Dropdown(id="basins-resolution", options=[
                      {"label": f"{r} x {r} starts", "value": r} for r in BASIN_RESOLUTIONS],
                      value=BASIN_RESOLUTIONS[0], clearable=False, style={"width": "10em"})],
                 style=_ROW),
        html.Div([html.Button("compute", id="basins-go"), html.Button("cancel", id="basins-cancel"),
                  html.Button("hide", id="basins-hide"),
                  html.Progress(id="basins-progress", value="0", max="1")], style=_ROW),
        html.Div(id="basins-msg", style={"fontSize": "0.85em"}),
        dcc.Interval(id="basins-poll", interval=400, disabled=True),
    ])


def _export_controls() -> html.Div:
    return _section("Export the view", [
        html.Div([html.Button("HTML", id="export-html"), html.Button("PNG", id="export-png")],
                 style=_ROW),
        dcc.Download(id="download"),
    ])


def page() -> html.Div:
    """The whole page."""
    first = make_landscape(DEFAULT_LANDSCAPE).first_start.tolist()
    controls = html.Div([
        html.H3("landscape explore", style={"margin": "0"}),
        _landscape_controls(), _start_controls(), _optimizer_controls(), _basin_controls(),
        _export_controls(),
    ], style={"width": "330px", "flex": "none", "fontFamily": "sans-serif",
              "fontSize": "14px", "overflowY": "auto", "overflowX": "hidden", "maxHeight": "96vh"})
    main = html.Div([
        dcc.Graph(id="graph", config={"displaylogo": False}, style={"height": "650px"}),
        html.Div(id="run-msg", style=_MSG),
        html.Table(id="ends", style={"fontSize": "13px", "borderCollapse": "collapse"}),
        html.Div(id="readout", style={"fontSize": "13px", "marginTop": "6px",
                                      "fontFamily": "monospace"}),
        html.Div(id="animate-hook", hidden=True),
    ], style={"flex": "1", "minWidth": "0", "fontFamily": "sans-serif"})
    return html.Div([controls, main, dcc.Store(id="starts", data=[first]),
                     dcc.Store(id="basins", data=None)],
                    style={"display": "flex", "gap": "16px", "padding": "8px"})
