"""The output-curvature backend of a PyTorch objective (:mod:`landscape.torch`).

Per batch, one forward pass with dual numbers (:func:`torch.func.jvp`) gives the module's
outputs, still on the autograd graph, and ``J v``; the output curvature ``C`` is applied to
``J v``; one backward pass of the outputs with that cotangent gives ``J^T C J v``. Batches
are weighted by ``batch size / n_samples``, as the objective weights its HVPs.

- ``'ggn'``: ``C`` is the exact Hessian of ``loss_fn`` in the outputs (reverse over reverse,
  ``torch.func.vjp`` of ``torch.func.grad``: forward mode fails inside some losses'
  backward, MSE's among them), for any loss;
- ``'fisher'``: ``C`` is the Fisher of the predictive distribution the loss is the negative
  log-likelihood of, known for ``CrossEntropyLoss`` (categorical over the last dimension of
  ``(B, C)`` logits), ``BCEWithLogitsLoss`` (independent Bernoullis), ``MSELoss``
  (Gaussian) and ``L1Loss`` (Laplace), the last two with a stated ``noise_std``, each
  without weights or label smoothing;
- ``'empirical_fisher'``: ``C_i = r_i r_i^T`` with ``r_i`` sample ``i``'s loss gradient in
  its outputs (``batch size`` times the mean loss's gradient, as ``loss_fn`` averages).

This module reads the objective's batches and its functional forward pass (its private
attributes): it is the objective's own curvature, kept beside the other curvature
operators.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeAlias

import numpy as np
import torch
from torch.func import grad, jvp, vjp

from landscape.curvature._outputs import OutputKind, noise_model
from landscape.heads import (
    AbsoluteError,
    SigmoidCrossEntropy,
    SoftmaxCrossEntropy,
    SquaredError,
)
from landscape.torch import TorchObjective

F = torch.nn.functional
Head: TypeAlias = SoftmaxCrossEntropy | SigmoidCrossEntropy | SquaredError | AbsoluteError
_LIKELIHOODS = ("CrossEntropyLoss, BCEWithLogitsLoss, MSELoss or L1Loss (or their functional "
                "forms)")


def _likelihood(loss_fn: Callable, n_outputs: int) -> tuple[Head, bool]:
    """The head whose ``fisher`` is the predictive distribution's Fisher, and its noise need.

    The second value says whether it needs ``noise_std`` (a Gaussian, a Laplace); a
    ValueError for a loss that is not a likelihood.
    """
    name = getattr(loss_fn, "__qualname__", type(loss_fn).__name__)
    weighted = any(getattr(loss_fn, attr, None) is not None for attr in ("weight", "pos_weight"))
    if weighted or float(getattr(loss_fn, "label_smoothing", None) or 0.0):
        raise ValueError(f"the Fisher needs a likelihood: {name} with class weights or label "
                         "smoothing is not the negative log-likelihood of a distribution")
    if isinstance(loss_fn, torch.nn.CrossEntropyLoss) or loss_fn is F.cross_entropy:
        return SoftmaxCrossEntropy(), False
    if isinstance(loss_fn, torch.nn.BCEWithLogitsLoss) or (
            loss_fn is F.binary_cross_entropy_with_logits):
        return SigmoidCrossEntropy(), False
    if isinstance(loss_fn, torch.nn.MSELoss) or loss_fn is F.mse_loss:
        return SquaredError("linear", n_outputs, False), True
    if isinstance(loss_fn, torch.nn.L1Loss) or loss_fn is F.l1_loss:
        return AbsoluteError("linear", n_outputs), True
    raise ValueError(f"the Fisher needs a likelihood, and {name} is not one the package knows: "
                     f"use {_LIKELIHOODS}, or the GGN (ggn_operator) for another loss")


class TorchOutputs:
    """A torch objective at ``theta``: ``product(v) = sum_b w_b J_b^T C_b J_b v``."""

    def __init__(self, objective: TorchObjective, theta: np.ndarray, kind: OutputKind,
                 noise_std: float | None):
        self.objective, self.kind = objective, kind
        self.flat = objective._to_torch(theta)
        self.n = objective.n_samples
        with torch.no_grad():
            outputs = [objective._outputs(self.flat, x) for x, _ in objective._batches]
        if kind == "fisher":
            self._check_fisher(outputs, noise_std)
        elif kind == "empirical_fisher":
            self.residuals = [self._residuals(out, y)
                              for out, (_, y) in zip(outputs, objective._batches)]

    def _check_fisher(self, outputs: list, noise_std: float | None) -> None:
        if any(out.ndim != 2 for out in outputs):
            raise ValueError("the Fisher needs outputs of shape (batch, classes or outputs), "
                             f"got {tuple(outputs[0].shape)}")
        loss_fn = self.objective._loss_fn
        self.head, gaussian = _likelihood(loss_fn, int(outputs[0].shape[1]))
        name = getattr(loss_fn, "__qualname__", type(loss_fn).__name__)
        self.noise_std = noise_model(gaussian, noise_std, name)
        self.probabilities = [self.head.output(out.to(torch.float64).cpu().numpy())
                              for out in outputs]

    def _output_grad(self, y: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor]:
        """``o -> d loss_fn(o, y) / do``: the batch mean's gradient in the outputs."""
        loss_fn = self.objective._loss_fn

        def loss(o: torch.Tensor) -> torch.Tensor:
            return loss_fn(o, y)

        return grad(loss)

    def _residuals(self, out: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """``r_i``: each sample's loss gradient in its outputs, ``(B, outputs...)``."""
        return self._output_grad(y)(out) * out.shape[0]

    def _outer(self, b: int, out: torch.Tensor, y: torch.Tensor, u: torch.Tensor,
               weight: float) -> torch.Tensor:
        """``C u`` for batch ``b`` (outputs ``out``, targets ``y``), times ``weight``."""
        if self.kind == "ggn":
            hvp = vjp(self._output_grad(y), out)[1]  # H is symmetric: H u = (u^T H)^T
            return hvp(u)[0] * weight
        if self.kind == "fisher":
            cu = self.head.fisher(u.to(torch.float64).cpu().numpy(), self.probabilities[b],
                                  self.noise_std)
            return self.objective._to_torch(cu / self.n)
        r = self.residuals[b]
        dims = tuple(range(1, r.ndim))
        return r * (r * u).sum(dim=dims, keepdim=True) / self.n

    def product(self, v: np.ndarray) -> np.ndarray:
        objective = self.objective
        tangent = objective._to_torch(v)
        total = torch.zeros_like(self.flat, dtype=torch.float64)
        for b, (weight, (x, y)) in enumerate(zip(objective._weights, objective._batches)):
            flat = self.flat.detach().requires_grad_(True)
            out, ju = jvp(lambda p, x=x: objective._outputs(p, x), (flat,), (tangent,))[:2]
            cotangent = self._outer(b, out.detach(), y, ju.detach(), weight)
            (g,) = torch.autograd.grad(out, flat, cotangent, allow_unused=True,
                                       materialize_grads=True)
            total += g.detach().to(torch.float64)
        return total.cpu().numpy()
