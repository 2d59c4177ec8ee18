"""One-dimensional pictures: the loss (and recorded metrics) along a line or a path."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from landscape.plot._style import axis_labels, check_dims, new_axes

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.lines import Line2D

    from landscape.surface import Curve, Surface


def plot_line(line: Surface | Curve, ax: Axes | None = None, log: bool = False,
              label: str | None = None, **kwargs: Any) -> Line2D:
    """Draw the loss along a 1-D :class:`~landscape.surface.Surface` or a Curve.

    NaN losses (where the loss was not finite) leave gaps.

    Parameters
    ----------
    line : Surface with one axis, or Curve.
    ax : matplotlib Axes, or None for a new figure.
    log : bool, logarithmic loss axis.
    label : legend label.
    **kwargs : passed to ``Axes.plot``.

    Returns
    -------
    matplotlib.lines.Line2D
    """
    check_dims(line, 1, "plot_line")
    ax = new_axes(ax)
    (artist,) = ax.plot(line.axes[0], line.values, label=label, **kwargs)
    ax.set_xlabel(axis_labels(line)[0])
    ax.set_ylabel("loss")
    if log:
        ax.set_yscale("log")
    return artist


def plot_line_metric(line: Surface | Curve, name: str, ax: Axes | None = None,
                     label: str | None = None, **kwargs: Any) -> Line2D:
    """Draw a metric recorded along a 1-D Surface or Curve (e.g. on ``ax.twinx()``).

    Parameters
    ----------
    line : Surface with one axis, or Curve, evaluated with ``metrics={name: fn, ...}``.
    name : str, the metric, also the y-axis label.
    ax : matplotlib Axes, or None for a new figure.
    label : legend label.
    **kwargs : passed to ``Axes.plot``.

    Returns
    -------
    matplotlib.lines.Line2D
    """
    check_dims(line, 1, "plot_line_metric")
    if name not in line.metrics:
        raise ValueError(f"this line has no metric {name!r} (it has {sorted(line.metrics)}): "
                         f"evaluate it with metrics={{{name!r}: fn}}")
    ax = new_axes(ax)
    (artist,) = ax.plot(line.axes[0], line.metrics[name], label=label, **kwargs)
    ax.set_xlabel(axis_labels(line)[0])
    ax.set_ylabel(name)
    return artist
