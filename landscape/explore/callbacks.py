"""What the explorer's page does when the user acts: each callback reads the page and answers.

- a field's slider and text box follow each other, and a typed value that cannot be used
  gets its message under the box;
- a click on the landscape adds a start (typed starts are checked against the box);
  changing the landscape puts back its first start;
- every change redraws the view (:func:`~landscape.explore.compute.compute_view` and
  :func:`~landscape.explore.figures.landscape_figure`) and the table of where each run
  ended; an optimizer with a bad setting is left out, with a message;
- hovering over or clicking the landscape reads out the local picture there;
- the basins map runs in the background (:class:`~landscape.explore.jobs.Job`) with its
  progress shown and a cancel button;
- the export buttons download the view as HTML or PNG.
"""

from __future__ import annotations

import itertools
import tempfile
from pathlib import Path
from typing import Any, cast

from dash import ALL, MATCH, Dash, Input, Output, State, ctx, dcc, html, no_update

from landscape.explore.compute import (
    BasinMap,
    View,
    basins_map,
    check_start,
    compute_view,
    point_info,
)
from landscape.explore.fields import FIELDS, OPTIMIZERS, make_optimizer, parse_field
from landscape.explore.figures import ANIMATE_JS, landscape_figure, optimizer_colors
from landscape.explore.jobs import Job
from landscape.explore.landscapes import (
    DataName,
    Landscape,
    LandscapeName,
    PlaneName,
    make_landscape,
)
from landscape.explore.layout import from_slider, show, to_slider
from landscape.explore.still import export_view

#: The page's inputs that make a view, in the order :func:`_view` takes them.
VIEW_INPUTS: list[tuple[Any, str]] = [
    ("landscape", "value"), ("mlp-data", "value"), ("mlp-plane", "value"), ("starts", "data"),
    ({"type": "text", "field": ALL}, "value"), ("optimizers", "value"), ("mode", "value"),
    ("scale", "value"), ("basins", "data")]
_TEXT_IDS = State({"type": "text", "field": ALL}, "id")
_LANDSCAPE_STATE = [State("landscape", "value"), State("mlp-data", "value"),
                    State("mlp-plane", "value"), State({"type": "text", "field": ALL}, "value"),
                    _TEXT_IDS]
_HIDDEN, _SHOWN = {"display": "none"}, {"display": "block"}


class Session:
    """What the server keeps between requests: the basins job and the last finished map."""

    def __init__(self) -> None:
        self.job: Job | None = None
        self.pending: tuple[str, tuple, int] | None = None  # (token, landscape key, runs)
        self.finished: tuple[str, tuple, BasinMap] | None = None
        self._tokens = itertools.count(1)

    def new_token(self) -> str:
        """A fresh name for a basins map."""
        return f"basins-{next(self._tokens)}"

    def basins(self, token: Any, key: tuple) -> BasinMap | None:
        """The finished map named ``token`` if it belongs to the landscape ``key``."""
        if self.finished is None or token is None:
            return None
        name, owner, found = self.finished
        return found if name == token and owner == key else None


def _values(texts: list[str], ids: list[dict]) -> dict[str, str]:
    """The text boxes' contents by field key."""
    return {i["field"]: t for t, i in zip(texts, ids)}


def _landscape(name: str, data_name: str, plane: str, values: dict[str, str]) -> Landscape:
    """The landscape the page's controls name (``make_landscape`` checks the names)."""
    condition = parse_field("valley.condition", values["valley.condition"]) if (
        name == "valley") else 1.0
    return make_landscape(cast(LandscapeName, name), condition, cast(DataName, data_name),
                          cast(PlaneName, plane))


def _settings(name: str, values: dict[str, str]) -> dict[str, float]:
    """The typed settings of optimizer ``name``; a ValueError for the first bad one."""
    return {key: parse_field(f"{name}.{key}", values[f"{name}.{key}"])
            for key in OPTIMIZERS[name].params}


def _view(session: Session, name: str, data_name: str, plane: str, starts: list,
          texts: list[str], checked: list[str], mode: str, scale: str, token: Any,
          ids: list[dict]) -> tuple[View | None, list[str]]:
    """The view the page asks for, or None; and the messages on what was left out."""
    values = _values(texts, ids)
    try:
        landscape = _landscape(name, data_name, plane, values)
        steps = int(parse_field("run.steps", values["run.steps"]))
    except ValueError as err:
        return None, [str(err)]
    messages, optimizers = [], {}
    for opt in (o for o in OPTIMIZERS if o in checked):
        try:
            optimizers[opt] = _settings(opt, values)
        except ValueError as err:
            messages.append(f"{OPTIMIZERS[opt].label} not run: {err}")
    view = compute_view(landscape, starts, optimizers, steps, mode, scale,  # type: ignore[arg-type]
                        session.basins(token, landscape.key))
    return view, messages + list(view.messages)


def _ends_table(view: View) -> list[html.Tr]:
    """One row per run: its start, end point, loss, gradient norm and how it ended."""
    colors = optimizer_colors(view.runs)
    rows = [html.Tr([html.Th(h, style={"textAlign": "left", "padding": "0 8px"})
                     for h in ("run", "start", "end point", "loss", "|∇f|", "ended")])]
    for i, r in enumerate(view.runs):
        start, end = r.trajectory.theta0, r.ending
        swatch = html.Span("■ ", style={"color": colors[r.optimizer]})
        cells: list[Any] = [html.Span([swatch, r.label]), f"({show(start[0])}, {show(start[1])})",
                 f"({show(end.theta[0])}, {show(end.theta[1])})", show(end.loss),
                 f"{end.grad_norm:.2g}", end.text]
        rows.append(html.Tr([html.Td(c, className=k, style={"padding": "0 8px"})
                             for c, k in zip(cells, ("run", "start", "end", "loss", "grad",
                                                      "outcome"))],
                            className="run", id=f"run-{i}"))
    return rows


def _readout(landscape: Landscape, x: float, y: float) -> list[Any]:
    info = point_info(landscape.objective, [x, y])
    lam = ", ".join(show(v) for v in info.eigenvalues)
    where = ("a critical point: " + info.kind if info.grad_norm <= 1e-8
             else f"curvature of a {info.kind}")
    return [html.B(f"at ({show(x)}, {show(y)})"), f": loss {show(info.loss)}; gradient "
            f"({show(info.grad[0])}, {show(info.grad[1])}), |∇f| = {info.grad_norm:.3g}; "
            f"Hessian eigenvalues {lam} ({where})"]


def _landscape_point(event: dict | None) -> tuple[float, float] | None:
    """The ``(x, y)`` of a hover or click event on the landscape, or None (a loss curve)."""
    if not event or not event.get("points"):
        return None
    point = event["points"][0]
    if point.get("customdata") == "curve" or "x" not in point or "y" not in point:
        return None
    return float(f"{point['x']:.6g}"), float(f"{point['y']:.6g}")


#: Runs in the browser with each new figure: the figure's play button animates its runs.
_ATTACH = ("function (figure) {" + ANIMATE_JS + """
  const attach = function () {
    const gd = document.querySelector('#graph .js-plotly-plot');
    if (gd && gd.on) { window.landscapeExplore.attach(gd); } else { setTimeout(attach, 100); }
  };
  attach();
  return '';
}""")


def register(app: Dash, session: Session) -> None:
    """Connect the page's callbacks to ``app``, keeping server state in ``session``."""
    app.clientside_callback(_ATTACH, Output("animate-hook", "children"),
                            Input("graph", "figure"))

    @app.callback(Output({"type": "text", "field": MATCH}, "value"),
                  Output({"type": "slider", "field": MATCH}, "value"),
                  Output({"type": "msg", "field": MATCH}, "children"),
                  Input({"type": "text", "field": MATCH}, "value"),
                  Input({"type": "slider", "field": MATCH}, "value"),
                  prevent_initial_call=True)
    def follow(text: str, position: float) -> tuple:
        key = ctx.triggered_id["field"]
        field = FIELDS[key]
        if ctx.triggered_id["type"] == "slider":
            return show(from_slider(field, position)), no_update, ""
        try:
            value = parse_field(key, text)
        except ValueError as err:
            return no_update, no_update, str(err)
        return no_update, to_slider(field, value), ""

    @app.callback(Output("valley-box", "style"), Output("mlp-box", "style"),
                  Output({"type": "opt-box", "name": ALL}, "style"),
                  Output("basins-optimizer", "options"), Output("basins-optimizer", "value"),
                  Input("landscape", "value"), Input("optimizers", "value"),
                  State({"type": "opt-box", "name": ALL}, "id"),
                  State("basins-optimizer", "value"))
    def toggle(name: str, checked: list[str], boxes: list[dict], chosen: str | None) -> tuple:
        options = [{"label": OPTIMIZERS[o].label, "value": o} for o in OPTIMIZERS if o in checked]
        values = [o["value"] for o in options]
        return (_SHOWN if name == "valley" else _HIDDEN, _SHOWN if name == "mlp" else _HIDDEN,
                [_SHOWN if b["name"] in checked else _HIDDEN for b in boxes], options,
                chosen if chosen in values else (values[0] if values else None))

    @app.callback(Output("starts", "data"), Output("start-msg", "children"),
                  Input("graph", "clickData"), Input("start-add", "n_clicks"),
                  Input("start-clear", "n_clicks"), Input("landscape", "value"),
                  Input("mlp-data", "value"), Input("mlp-plane", "value"),
                  State("start-text", "value"), State("starts", "data"), *_LANDSCAPE_STATE[3:],
                  prevent_initial_call=True)
    def starts(click, _add, _clear, name, data_name, plane, typed, current, texts, ids):
        try:
            landscape = _landscape(name, data_name, plane, _values(texts, ids))
        except ValueError as err:
            return no_update, str(err)
        trigger = ctx.triggered_id
        if trigger == "graph":
            point = _landscape_point(click)
            return (current + [list(point)], "") if point else (no_update, "")
        if trigger == "start-clear":
            return [], ""
        if trigger == "start-add":
            try:
                parts = [float(v) for v in str(typed or "").replace(",", " ").split()]
                start = check_start(landscape, parts)
            except ValueError as err:
                return no_update, f"start {typed!r} not added: {err}"
            return current + [start.tolist()], ""
        return [landscape.first_start.tolist()], ""

    @app.callback(Output("graph", "figure"), Output("ends", "children"),
                  Output("run-msg", "children"), Output("landscape-note", "children"),
                  *[Input(c, p) for c, p in VIEW_INPUTS], _TEXT_IDS)
    def redraw(*args):
        view, messages = _view(session, *args)
        if view is None:
            return no_update, no_update, " ".join(messages), no_update
        if view.basins is not None and view.mode == "surface":
            messages.append("The basins map shows on the contour view.")
        return (landscape_figure(view), _ends_table(view), " ".join(messages),
                view.landscape.note)

    @app.callback(Output("readout", "children"),
                  Input("graph", "hoverData"), Input("graph", "clickData"), *_LANDSCAPE_STATE)
    def readout(hover, click, name, data_name, plane, texts, ids):
        point = _landscape_point(click if "graph.clickData" in ctx.triggered_prop_ids
                                 else hover)
        if point is None:
            return "Hover over the landscape to read the gradient and the Hessian there."
        try:
            return _readout(_landscape(name, data_name, plane, _values(texts, ids)), *point)
        except ValueError as err:
            return str(err)

    @app.callback(Output("basins-poll", "disabled"), Output("basins-msg", "children"),
                  Output("basins-progress", "value"), Output("basins-progress", "max"),
                  Output("basins", "data"),
                  Input("basins-go", "n_clicks"), Input("basins-cancel", "n_clicks"),
                  Input("basins-hide", "n_clicks"), Input("basins-poll", "n_intervals"),
                  State("basins-optimizer", "value"), State("basins-resolution", "value"),
                  *_LANDSCAPE_STATE, prevent_initial_call=True)
    def basins(_go, _cancel, _hide, _tick, opt, resolution, name, data_name, plane, texts, ids):
        trigger = ctx.triggered_id
        if trigger == "basins-hide":
            return True, "", "0", "1", None
        if trigger == "basins-cancel":
            if session.job is not None:
                session.job.cancel()
            return no_update, "cancelling...", no_update, no_update, no_update
        if trigger == "basins-go":
            return _start_basins(session, opt, resolution, name, data_name, plane,
                                 _values(texts, ids))
        return _poll_basins(session)

    @app.callback(Output("download", "data"),
                  Input("export-html", "n_clicks"), Input("export-png", "n_clicks"),
                  *[State(c, p) for c, p in VIEW_INPUTS], _TEXT_IDS, prevent_initial_call=True)
    def export(_html, _png, *args):
        view, _ = _view(session, *args)
        if view is None:
            return no_update
        suffix = "html" if ctx.triggered_id == "export-html" else "png"
        with tempfile.TemporaryDirectory() as folder:
            path = export_view(view, Path(folder) / f"landscape_explore.{suffix}")
            return dcc.send_file(str(path))


def _start_basins(session: Session, opt: str | None, resolution: int, name: str,
                  data_name: str, plane: str, values: dict[str, str]) -> tuple:
    """Start the basins job of optimizer ``opt``; the basins callback's outputs."""
    if opt is None:
        return True, "choose an optimizer first", "0", "1", no_update
    try:
        landscape = _landscape(name, data_name, plane, values)
        optimizer = make_optimizer(opt, _settings(opt, values))
        steps = int(parse_field("run.steps", values["run.steps"]))
    except ValueError as err:
        return True, f"basins map not computed: {err}", "0", "1", no_update
    if session.job is not None:
        session.job.cancel()
    session.job = Job(lambda progress, cancelled: basins_map(
        landscape, optimizer, steps, resolution, progress, cancelled))
    session.pending = (session.new_token(), landscape.key, resolution**2)
    return False, f"computing {resolution * resolution} runs...", "0", str(resolution**2), \
        no_update


def _poll_basins(session: Session) -> tuple:
    """The basins job's progress; when it has ended, its map (named in the store) or why not."""
    job = session.job
    if job is None or session.pending is None:
        return True, no_update, no_update, no_update, no_update
    token, key, total = session.pending
    if job.running:
        return False, f"{job.done} of {total} runs done", str(job.done), str(total), no_update
    if job.error is not None:
        return True, f"basins map failed: {job.error}", "0", "1", no_update
    if job.result is None:
        return True, "basins map cancelled", "0", "1", no_update
    session.finished = (token, key, job.result)
    return True, f"basins map of {total} runs", str(total), str(total), token
