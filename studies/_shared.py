"""Helpers used by more than one study (a file starting with ``_`` is not a study)."""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from landscape.io import save_figure

DPI = 110


def save_png(fig, path: Path) -> Path:
    """Save a matplotlib figure as a PNG (atomically, via ``landscape.io``) and close it."""
    save_figure(fig, path, dpi=DPI, bbox_inches="tight")
    plt.close(fig)
    return path


def layer_grad_norms(objective, theta) -> np.ndarray:
    """The norm of the gradient restricted to each layer's parameters (weights and bias).

    ``objective`` has ``blocks`` (an MLP objective); returns shape ``(n_layers,)``, the
    first entry the first (input) layer's.
    """
    g = objective.grad(theta)
    return np.array([np.sqrt(np.sum(g[b.weight] ** 2) + (np.sum(g[b.bias] ** 2) if b.bias else 0.0))
                     for b in objective.blocks])


def layer_grad_metrics(n_layers: int) -> dict:
    """Runner metrics ``{"grad_layer1": fn, ...}``: each layer's gradient norm at recorded steps."""
    return {f"grad_layer{i + 1}": (lambda objective, theta, i=i:
                                   layer_grad_norms(objective, theta)[i])
            for i in range(n_layers)}
