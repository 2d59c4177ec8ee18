"""One-dimensional pictures: the loss (and accuracy) along a line or a path."""

from __future__ import annotations

from landscape.plot._style import axis_labels, check_dims, new_axes


def plot_line(line, ax=None, log: bool = False, label: str | None = None, **kwargs):
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


def plot_line_accuracy(line, ax=None, label: str | None = None, **kwargs):
    """Draw the accuracy recorded along a 1-D Surface or Curve (e.g. on ``ax.twinx()``).

    Returns
    -------
    matplotlib.lines.Line2D
    """
    check_dims(line, 1, "plot_line_accuracy")
    if line.accuracy is None:
        raise ValueError("this line has no accuracy: evaluate it with accuracy=True")
    ax = new_axes(ax)
    (artist,) = ax.plot(line.axes[0], line.accuracy, label=label, **kwargs)
    ax.set_xlabel(axis_labels(line)[0])
    ax.set_ylabel("accuracy")
    return artist
