"""Batch normalization along lines, planes and curves: statistics recomputed at every point.

A batch-norm network evaluated in eval mode normalizes with its running statistics, the
mean and variance of each channel's input seen in training. A torch objective freezes
them at construction, which is right near the point they belong to and wrong far from
it: at ``center + 1.0 * d``, or half-way between two trained networks, the channels'
inputs have other means and variances, and frozen statistics make a network that no one
trained (the loss rises for that reason alone, and a "barrier" between two minima may be
an artefact of it). Garipov et al. (2018, dnn-mode-connectivity's ``update_bn``) recompute
the statistics at every point of a curve before evaluating it; :func:`recompute_batch_norm`
does so for every point of any line, plane, grid or curve of the package.

At each point ``theta``, for each batch ``b`` of the statistics data: a forward pass with
the batch-norm layers in train mode (every other layer in eval mode: dropout stays off)
gives each layer's batch mean ``m_b`` and unbiased batch variance ``v_b`` (each layer sees
the previous ones normalized by their batch statistics, as in training); the running
statistics are their size-weighted means ``sum_b n_b m_b / N`` and ``sum_b n_b v_b / N``
(dnn-mode-connectivity's cumulative momentum ``n_b / (n_seen + n_b)``, the same numbers;
PyTorch's ``torch.optim.swa_utils.update_bn`` weighs batches alike, the same numbers
when they are of one size). The loss is then the eval-mode loss with these statistics.
Like training's, the statistics depend on how the data are batched (unbiased variances per
batch; deeper layers see inputs normalized by batch statistics): the same data in other
batches give slightly other numbers.
This costs one more pass over the statistics data at every point. The numbers are the
same on every executor where PyTorch runs with the same number of threads: its batch-norm
kernel sums in an order that depends on that number, so between different counts the
statistics agree to rounding only (``torch.set_num_threads``; worker processes start with
PyTorch's default).

When it matters: whenever a point is far from where the statistics were measured, in
units of the network's own scale: planes of span 1 in filter-normalized directions,
interpolations and Bezier curves between independently trained networks. Near a trained
point (a line of span 0.1 in a filter-normalized direction) the two agree closely.

Derivatives: the recomputed statistics depend on ``theta``, so the loss's gradient and
Hessian have terms through them that the frozen-statistics derivatives lack; this
objective gives losses only (lines, planes, grids, curves, projections) and refuses
gradients and HVPs (use the frozen objective for those, at the points where its
statistics belong).
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np
import torch
from torch.func import functional_call

from landscape.torch.adapter import TorchObjective
from landscape.torch.streaming import Batch, Stream, read_data

__all__ = ["recompute_batch_norm"]

_BatchNorm = torch.nn.modules.batchnorm._BatchNorm


def _norm_layers(module: torch.nn.Module) -> dict[str, torch.nn.Module]:
    """The batch-norm layers with running statistics, by name."""
    return {name: m for name, m in module.named_modules()
            if isinstance(m, _BatchNorm) and m.running_mean is not None}


class BatchNormRecomputed(TorchObjective):
    """A torch objective whose batch-norm statistics are recomputed at every point.

    Made by :func:`recompute_batch_norm`; losses only (gradients and HVPs refused).
    """

    def __init__(self, objective: TorchObjective, data: list[Batch] | Stream):
        super().__init__(objective._module, objective._loss_fn, objective._batches,
                         objective._fixed, objective.theta0, objective.torch_dtype,
                         objective.mode, 1)
        self._statistics_data = data
        self._statistics_weights = [n / sum(_sizes(data)) for n in _sizes(data)]
        # A copy whose batch-norm layers alone are in train mode, with momentum None: after
        # one batch from fresh buffers, the running statistics are that batch's own.
        self._counter = copy.deepcopy(objective._module).eval()
        layers = _norm_layers(self._counter)
        for layer in layers.values():
            layer.train()
            layer.momentum = None  # type: ignore[assignment]  # torch's own cumulative mode
        self._statistics = tuple(f"{name}.{stat}" for name in layers
                                 for stat in ("running_mean", "running_var"))
        self._counts = tuple(f"{name}.num_batches_tracked" for name in layers)
        self._cached: tuple[torch.Tensor, dict[str, torch.Tensor]] | None = None

    def __getstate__(self) -> dict[str, Any]:  # pickle the definition, not the caches
        return {**super().__getstate__(), "_cached": None}

    def _describe(self) -> dict[str, Any]:
        return {**super()._describe(), "batch_norm": "recomputed"}

    def _fresh(self) -> dict[str, torch.Tensor]:
        """The buffers with running statistics at their reset values (mean 0, variance 1)."""
        state = {n: t.clone() for n, t in self._fixed.items()}
        for name in self._statistics:
            state[name].fill_(0.0 if name.endswith("mean") else 1.0)
        for name in self._counts:
            state[name].zero_()
        return state

    def _buffers(self, flat: torch.Tensor) -> dict[str, torch.Tensor]:
        """The buffers at ``flat``: running statistics recomputed from the data (cached)."""
        if self._cached is not None and self._cached[0] is flat:
            return self._cached[1]
        params = self._split(flat.detach())
        totals = {name: torch.zeros_like(self._fixed[name], dtype=torch.float64)
                  for name in self._statistics}
        with torch.no_grad():
            for weight, (x, _) in zip(self._statistics_weights, self._statistics_data):
                state = {**self._fresh(), **params}
                functional_call(self._counter, state, (x,))
                for name in self._statistics:
                    totals[name] += weight * state[name].to(torch.float64)
        buffers = dict(self._fixed)
        buffers.update({n: t.to(self._fixed[n].dtype) for n, t in totals.items()})
        self._cached = (flat, buffers)
        return buffers

    def _refuse(self) -> ValueError:
        return ValueError("an objective with batch-norm statistics recomputed at every point "
                          "gives losses only: its gradient would need the statistics' own "
                          "derivatives; take gradients and HVPs from the objective it was made "
                          "from")

    def _loss_and_grad(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        raise self._refuse()

    def _hvps(self, theta: np.ndarray, vectors: np.ndarray) -> np.ndarray:  # hvp's too
        raise self._refuse()

    def subset(self, indices: Any) -> BatchNormRecomputed:
        """The loss over the samples ``indices``, statistics still from all the data."""
        return BatchNormRecomputed(super().subset(indices), self._statistics_data)


def _sizes(data: list[Batch] | Stream) -> tuple[int, ...]:
    return data.sizes if isinstance(data, Stream) else tuple(int(x.shape[0]) for x, _ in data)


def recompute_batch_norm(objective: TorchObjective, data: Any = None, *,
                         stream: bool = False) -> TorchObjective:
    """``objective`` with its batch-norm statistics recomputed from ``data`` at every point.

    Pass the result to :func:`~landscape.line`, :func:`~landscape.plane`,
    :func:`~landscape.grid` or :func:`~landscape.curve` (and to any executor: it pickles)
    to evaluate every point with the statistics that belong to it (the module docstring
    says how and when it matters).

    Parameters
    ----------
    objective : a torch objective (:func:`~landscape.torch.from_module`) whose module has
        batch normalization with running statistics.
    data : None (the objective's own data) or data as :func:`~landscape.torch.from_module`
        takes them: the samples the statistics are measured on (the training set, say,
        while the objective's loss is on a test set).
    stream : bool, read ``data`` afresh at every point instead of holding it.

    Returns
    -------
    TorchObjective
        Of the same module, loss, data and layout; its losses use recomputed statistics,
        its gradients and HVPs are refused (ValueError).

    Raises
    ------
    ValueError
        If ``objective`` is not a torch objective or its module has no batch normalization
        with running statistics.
    """
    if not isinstance(objective, TorchObjective):
        raise ValueError("objective must be a torch objective (landscape.torch.from_module), "
                         f"got {type(objective).__name__}")
    if not _norm_layers(objective._module):
        raise ValueError(f"objective's module ({type(objective._module).__name__}) has no batch "
                         "normalization with running statistics: there are no statistics to "
                         "recompute")
    source = objective._batches if data is None else read_data(
        data, objective.torch_dtype, objective._device, bool(stream), None)
    return BatchNormRecomputed(objective, source)
