"""Curvature per layer: grouped bars of a :class:`~landscape.curvature.LayerCurvature`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from landscape._checks import choice
from landscape.plot._style import label_colors, new_axes

FIELDS = ("top_eigenvalue", "trace")
_LABELS = {"top_eigenvalue": "top eigenvalue", "trace": "trace"}


def plot_layer_curvature(layers: Any, ax: Any = None, field: str = "top_eigenvalue",
                         log: bool = False, **kwargs: Any) -> list:
    """Bars of each layer's top eigenvalue (or trace), one group per layer.

    Parameters
    ----------
    layers : a :class:`~landscape.curvature.LayerCurvature`, or a dict label -> record
        (e.g. ``{"Hessian": ..., "GGN": ...}``) over the same blocks: one bar per record in
        each group.
    ax : matplotlib Axes, or None.
    field : ``'top_eigenvalue'`` or ``'trace'``; the traces' standard errors, where they
        have any, are drawn as error bars (one legend entry, ``'± 1 standard error'``).
    log : a logarithmic value axis.
    **kwargs : passed to ``Axes.bar``.

    Returns
    -------
    list of matplotlib.container.BarContainer
        One per record, with one bar per block.
    """
    choice(field, FIELDS, "field")
    tables = dict(layers) if isinstance(layers, Mapping) else {None: layers}
    if not tables:
        raise ValueError("layers must hold at least one LayerCurvature")
    names = next(iter(tables.values())).names
    if any(t.names != names for t in tables.values()):
        raise ValueError("every LayerCurvature in layers must cover the same blocks")
    ax = new_axes(ax)
    colors = label_colors(tables)
    x, width = np.arange(len(names)), 0.8 / len(tables)
    bars, where = [], []
    for i, (label, table) in enumerate(tables.items()):
        where.append(x + (i - (len(tables) - 1) / 2) * width)
        bars.append(ax.bar(where[-1], getattr(table, field), width, label=label,
                           color=colors[label], **kwargs))
    if field == "trace" and any(t.trace_stderr.any() for t in tables.values()):
        _error_bars(ax, np.concatenate(where), tables)
    ax.set_xticks(x, names)
    ax.set_xlabel("block")
    ax.set_ylabel(_LABELS[field])
    if log:
        ax.set_yscale("log")
    return bars


def _error_bars(ax: Any, x: np.ndarray, tables: dict) -> None:
    """One black error bar per trace bar, as one collection with one legend label."""
    traces = np.concatenate([t.trace for t in tables.values()])
    errors = np.concatenate([t.trace_stderr for t in tables.values()])
    container = ax.errorbar(x, traces, yerr=errors, fmt="none", ecolor="k", capsize=2)
    container.lines[2][0].set_label("± 1 standard error")
