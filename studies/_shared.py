"""Helpers used by more than one study (a module starting with ``_`` is not a study)."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable, Sequence
from pathlib import Path

import matplotlib.pyplot as plt

from landscape.gallery import preview_path
from landscape.io import save_figure
from landscape.plot import preview_figure

DPI = 110


def progress(message: str) -> None:
    """Say what the study is doing now: ``landscape run`` prints it as ``  NAME: message``
    (logger ``landscape.studies``, level INFO), as does a study run alone."""
    logging.getLogger("landscape.studies").info(message)


def save_png(fig, path: Path) -> Path:
    """Save a matplotlib figure as a PNG (atomically, via ``landscape.io``) and close it."""
    save_figure(fig, path, dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return path


def save_page(figure, path: Path) -> Path:
    """Save a plotly page (plotly.js written once beside it) and its still preview, the
    gallery's thumbnail (``landscape.gallery.preview_path``)."""
    save_figure(figure, path, plotlyjs="directory")
    save_png(preview_figure(figure), preview_path(path))
    return path


def accuracy_metric(objective, theta) -> float:
    """The training accuracy, as a metric ``fn(objective, theta)`` of runs and surfaces."""
    return objective.accuracy(theta)


def main(run: Callable[..., dict], name: str, argv: Sequence[str] | None = None) -> None:
    """A study run as a script: ``python -m landscape.studies.NAME [OUT] [--quick] [--seed S]``.

    Calls ``run(OUT, quick, seed)`` (``OUT`` defaults to ``figures/NAME``), printing its
    progress (what it logs) and then the conclusion. ``landscape run NAME`` runs the same
    study and also writes its ``summary.json`` and the gallery page.
    """
    parser = argparse.ArgumentParser(prog=f"python -m landscape.studies.{name}")
    parser.add_argument("out", nargs="?", type=Path, default=Path("figures") / name,
                        help="folder for the figures")
    parser.add_argument("--quick", action="store_true", help="tiny settings: seconds")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=logging.INFO, format="  %(message)s")
    print(run(args.out, quick=args.quick, seed=args.seed)["conclusion"])
