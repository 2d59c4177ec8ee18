"""Shared presentation choices.

A colour per label, a marker per critical-point kind, axis names, log heights.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from typing import TYPE_CHECKING, NamedTuple

import numpy as np
from numpy.typing import ArrayLike

from landscape.vocabulary import DEGENERATE, KINDS, MAXIMUM, MINIMUM, SADDLE, Kind

if TYPE_CHECKING:
    from matplotlib.axes import Axes

    from landscape.surface import Curve, Surface

# Matplotlib's 'tab10' as hex, so matplotlib and plotly pictures colour runs alike.
PALETTE = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd",
           "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")


class KindStyle(NamedTuple):
    """How a critical point of one kind is drawn: a matplotlib marker and a colour."""

    marker: str
    color: str


#: One style for each of :data:`landscape.vocabulary.KINDS`, in that order.
KIND_STYLE: dict[Kind, KindStyle] = {
    MINIMUM: KindStyle("o", "#2ca02c"),
    SADDLE: KindStyle("X", "#ff7f0e"),
    MAXIMUM: KindStyle("^", "#d62728"),
    DEGENERATE: KindStyle("s", "#7f7f7f"),
}


def label_colors(labels: Iterable[Hashable], given: Mapping[Hashable, str] | None = None
                 ) -> dict[Hashable, str]:
    """A colour for each distinct label (None included).

    From ``given`` (label -> colour) where it has one, else the palette's, in order of first
    appearance.
    """
    colors: dict[Hashable, str] = {}
    for label in labels:
        if label not in colors:
            colors[label] = PALETTE[len(colors) % len(PALETTE)]
    return {**colors, **(given or {})}


def log_height(values: ArrayLike) -> np.ndarray:
    """``log10(values)`` for drawing, NaN (a hole) where a value is <= 0 or NaN."""
    values = np.asarray(values, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(values > 0, np.log10(values), np.nan)


def check_kinds(kinds: Iterable[Kind]) -> list[Kind]:
    """``kinds`` as a list, each one of :data:`landscape.vocabulary.KINDS`, or a ValueError."""
    kinds = list(kinds)
    unknown = sorted(set(kinds) - set(KINDS), key=str)
    if unknown:
        raise ValueError(f"unknown critical-point kind(s) {unknown}; use {list(KINDS)}")
    return kinds


def axis_labels(record: Surface | Curve) -> list[str]:
    """Names for the coordinate axes of a Surface or Curve, from its ``meta``."""
    meta = record.meta
    if meta.get("kind") in ("linear", "bezier"):
        return ["t"]
    if meta.get("explained_variance"):
        return [f"PC{i + 1} ({v:.1%} of variance)"
                for i, v in enumerate(meta["explained_variance"])]
    if meta.get("eigenvalues"):
        return [f"eigenvector {i + 1} (eigenvalue {v:.3g})"
                for i, v in enumerate(meta["eigenvalues"][:len(record.axes)])]
    kind = meta.get("directions", "given")
    suffix = "" if kind == "given" else f" ({kind})"
    return [f"direction {i + 1}{suffix}" for i in range(len(record.axes))]


def check_dims(record: Surface | Curve, d: int, what: str) -> None:
    """A ValueError unless ``record`` has ``d`` coordinate axes."""
    if len(record.axes) != d:
        raise ValueError(f"{what} needs a {d}-D surface, got {len(record.axes)}-D")


def new_axes(ax: Axes | None, projection: str | None = None) -> Axes:
    """``ax``, or the axes of a new figure (3-D with ``projection='3d'``)."""
    if ax is not None:
        if projection == "3d" and getattr(ax, "name", None) != "3d":
            raise ValueError("ax must be a 3-D Axes (fig.add_subplot(projection='3d'))")
        return ax
    import matplotlib.pyplot as plt

    return plt.figure().add_subplot(projection=projection)
