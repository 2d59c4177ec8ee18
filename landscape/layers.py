"""Measurements of a network layer by layer: gradient norms, filter norms, linear pieces.

The layers are the ``blocks`` (:class:`~landscape.ParameterBlock`) that an :class:`MLP`, its
objective and a PyTorch objective (``landscape.torch``) expose: where each layer's weights
(one row per filter: a neuron's incoming weights, a convolution's output channel) and
biases sit in the flat ``theta``.

- :func:`layer_grad_norms`: the norm of the gradient restricted to each layer, the
  measurement behind vanishing and exploding gradients; :func:`layer_grad_metrics` records
  it along a run (``runner.run(..., metrics=...)``).
- :func:`filter_norms`: the norm of every filter of a vector, the quantity filter
  normalization (Li et al. 2018) equalizes between a direction and the trained weights.
- :func:`linear_pieces`: how many linear pieces a one-input, one-output ReLU network
  makes on an interval (Montufar et al. 2014; Telgarsky 2016); :func:`kinks`: where.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from landscape._checks import finite_array, integer, real_in, theta_vector
from landscape.mlp import MLP
from landscape.vocabulary import Metric, Theta

#: Hidden activations under which the network is piecewise linear in its input.
PIECEWISE_LINEAR = ("relu", "linear")


def _blocks(layered: Any, name: str) -> tuple:
    """``layered.blocks``, or a ValueError naming the argument when it has none."""
    blocks = getattr(layered, "blocks", None)
    if not blocks:
        raise ValueError(f"{name} must have layers ('blocks', as an MLP, its objective or a "
                         f"torch objective have), got {type(layered).__name__}")
    return tuple(blocks)


def layer_grad_norms(objective: Any, theta: Theta) -> np.ndarray:
    """The norm of the gradient restricted to each layer's parameters (weights and bias).

    Parameters
    ----------
    objective : an objective with ``blocks`` and ``grad`` (``MLP(...).objective(X, y)``, a
        torch objective).
    theta : array, shape ``(dim,)``.

    Returns
    -------
    ndarray, shape ``(n_layers,)``: ``sqrt(|g_W|^2 + |g_b|^2)`` of each block, the first
    entry the input layer's. Entries of ``theta`` outside every block (e.g. batch-norm
    parameters) are not counted.

    Examples
    --------
    >>> from landscape import MLP
    >>> model = MLP([1, 8, 8, 1], activation="sigmoid")
    >>> X = np.linspace(-1, 1, 20)[:, None]
    >>> layer_grad_norms(model.objective(X, X ** 2), model.init(rng=0)).shape
    (3,)
    """
    blocks = _blocks(objective, "objective")
    g = objective.grad(theta)
    return np.array([np.sqrt(np.sum(g[b.weight] ** 2)
                             + (np.sum(g[b.bias] ** 2) if b.bias is not None else 0.0))
                     for b in blocks])


def _grad_norm_of_layer(i: int) -> Metric:
    return lambda objective, theta: float(layer_grad_norms(objective, theta)[i])


def layer_grad_metrics(objective: Any) -> dict[str, Metric]:
    """Run metrics recording each layer's gradient norm: ``{"grad_<block name>": fn}``.

    Parameters
    ----------
    objective : an objective with ``blocks`` (its block names make the metric names:
        ``grad_layer1``, ``grad_layer2``, ... for an MLP).

    Returns
    -------
    dict of name -> ``fn(objective, theta) -> float``, the entry of
    :func:`layer_grad_norms` for that layer; pass it as ``runner.run(..., metrics=...)``.
    """
    return {f"grad_{block.name}": _grad_norm_of_layer(i)
            for i, block in enumerate(_blocks(objective, "objective"))}


def filter_norms(layered: Any, vector: Theta) -> list[np.ndarray]:
    """The norm of every filter of ``vector``, layer by layer.

    Parameters
    ----------
    layered : anything with ``blocks``: an :class:`MLP`, its objective, a torch objective.
    vector : array, shape ``(dim,)``: parameters or a direction in parameter space.

    Returns
    -------
    list with one array per block, shape ``(n_filters,)``: entry ``i`` is the Euclidean norm
    of filter ``i``'s weights ``vector[block.weight].reshape(n_filters, -1)[i]`` (biases
    are not part of a filter).
    """
    blocks = _blocks(layered, "layered")
    vector = finite_array(vector, "vector", ndim=1)
    end = max(b.weight.stop for b in blocks)
    if vector.size < end:
        raise ValueError(f"vector must hold the layers' weights (length >= {end}), "
                         f"got length {vector.size}")
    return [np.linalg.norm(vector[b.weight].reshape(b.n_filters, -1), axis=1) for b in blocks]


def linear_pieces(model: MLP, theta: Theta, interval: tuple[float, float] = (-1.0, 1.0),
                  resolution: int = 20001, rtol: float = 1e-6) -> int:
    """The number of linear pieces of a one-input, one-output ReLU network on an interval.

    Its :func:`kinks` there plus one.

    Parameters
    ----------
    model, theta, interval, resolution, rtol : as for :func:`kinks`.

    Returns
    -------
    int, at least 1.

    Examples
    --------
    >>> from landscape import MLP
    >>> model = MLP([1, 2, 1], activation="relu")  # relu(x) + relu(x - 1/2)
    >>> linear_pieces(model, np.array([1.0, 1.0, 0.0, -0.5, 1.0, 1.0, 0.0]), (0.0, 1.0))
    2
    """
    return kinks(model, theta, interval, resolution, rtol).size + 1


def kinks(model: MLP, theta: Theta, interval: tuple[float, float] = (-1.0, 1.0),
          resolution: int = 20001, rtol: float = 1e-6) -> np.ndarray:
    """Where a one-input, one-output ReLU network's slope changes on an interval.

    The network is evaluated on ``resolution`` evenly spaced points of ``interval``; a
    kink is a change between neighbouring slopes larger than ``rtol`` times the largest
    slope (at least 1). A kink strictly inside a grid cell changes two neighbouring
    differences, so consecutive flagged differences count as one kink, placed at the grid
    point after the first slope that changed (within two grid cells of the true kink).

    Two kinks closer than about two grid cells count as one, and a bend smaller than the
    tolerance is not counted (trained networks have many slight ones): refine
    ``resolution`` or lower ``rtol`` to resolve them.

    Parameters
    ----------
    model : an :class:`MLP` of sizes ``[1, ..., 1]`` with 'relu' or 'linear' hidden layers
        and a linear output (piecewise linear in its input).
    theta : array, shape ``(model.n_params,)``.
    interval : ``(low, high)``, ``low < high``.
    resolution : number of grid points, at least 3.
    rtol : relative size of the smallest slope change counted, ``>= 0``.

    Returns
    -------
    ndarray, shape ``(k,)``: the kinks' inputs ``x``, ascending.

    Examples
    --------
    >>> from landscape import MLP
    >>> model = MLP([1, 2, 1], activation="relu")  # relu(x) + relu(x - 1/2)
    >>> kinks(model, np.array([1.0, 1.0, 0.0, -0.5, 1.0, 1.0, 0.0]), (0.0, 1.0), 101)
    array([0.5])
    """
    if not isinstance(model, MLP) or model.sizes[0] != 1 or model.sizes[-1] != 1:
        raise ValueError(f"model must be an MLP with one input and one output, got {model!r}")
    if model.output != "linear" or any(a.name not in PIECEWISE_LINEAR
                                       for a in model.activations):
        raise ValueError(f"model must be piecewise linear (hidden activations in "
                         f"{PIECEWISE_LINEAR}, linear output), got {model!r}")
    theta = theta_vector(theta, model.n_params)
    if len(interval) != 2:
        raise ValueError(f"interval must be (low, high), got {interval!r}")
    low, high = (real_in(x, "interval") for x in interval)
    if not low < high:
        raise ValueError(f"interval must have low < high, got {interval!r}")
    resolution = integer(resolution, "resolution", minimum=3)
    rtol = real_in(rtol, "rtol", 0.0)
    grid = np.linspace(low, high, resolution)
    f = model.predict(theta, grid[:, None])[:, 0]
    slope = np.diff(f) / np.diff(grid)
    kink = np.abs(np.diff(slope)) > rtol * max(1.0, np.abs(slope).max())
    first = kink & ~np.concatenate([[False], kink[:-1]])  # a run of flagged cells is one kink
    return grid[1:-1][first]
