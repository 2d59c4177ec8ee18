"""Hessian-vector products at a fixed point: the gradient's graph built once, then reused.

Lanczos, Hutchinson's trace and SLQ spend tens to hundreds of products at one ``theta``.
Double backward from scratch (``torch.autograd.grad`` of a gradient built with
``create_graph=True``) redoes the forward pass and the graph-building backward pass for
every product. :class:`KeptGradients` keeps, per batch, the gradient with its graph at the
last ``theta`` (as PyHessian does for its batch) and differentiates it again for each new
vector (``retain_graph=True``): one backward pass per product instead of a forward and two
backwards. The products run the same operations on the same graph, so they equal the
products from scratch bit for bit.

Measured on the digits-sized and MNIST-sized networks of ``benchmarks/``
(``benchmarks/TORCH_HVP.md``: float64 and float32, 1 and 2 threads): the adapter's product
takes 0.47-0.59 of the time it took from scratch. Of the other ways to a product at a
fixed point, forward-over-reverse (``torch.func.jvp`` of ``torch.func.grad``, nothing kept)
took 1.2-2.0 times a product from scratch, and ``torch.func.linearize`` (the gradient's
linearization traced once per point) about as long as the kept graph's backward (8-16%
less on the digits network, within 5% on the MNIST-sized one); the kept graph needs no
tracing, which not every module allows, and gives the same bits as before.

Memory. A kept graph holds the tensors autograd saved for it (the activations and their
derivatives: a few times a forward pass's), counted here by saved-tensor hooks. The graphs of
one point are kept while their total stays within the ``memory_budget`` of the execution
settings in force (:func:`landscape.settings.current_execution`); the batches past it are
recomputed at every product, as before, and the graphs of the last point stay alive until
the next product at another point (or the objective is pickled, which drops them).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import NamedTuple

import numpy as np
import torch


class Gradient(NamedTuple):
    """A gradient with its graph: ``value = ∇ loss(leaf)``, differentiable again."""

    leaf: torch.Tensor
    value: torch.Tensor

    def product(self, v: torch.Tensor) -> torch.Tensor:
        """``H v``: the derivative of ``value`` along ``v`` (``leaf``'s shape); the graph stays."""
        if not self.value.requires_grad:  # the loss is at most linear in theta
            return torch.zeros_like(self.leaf)
        (hv,) = torch.autograd.grad(self.value, self.leaf, v, retain_graph=True,
                                    allow_unused=True, materialize_grads=True)
        return hv


def gradient(loss: Callable[[torch.Tensor], torch.Tensor], flat: torch.Tensor
             ) -> tuple[Gradient, int]:
    """The gradient of ``loss`` at ``flat`` with its graph, and the bytes its graph saved."""
    leaf = flat.detach().requires_grad_(True)
    saved: list[int] = []

    def pack(t: torch.Tensor) -> torch.Tensor:
        # Autograd reattaches a saved tensor's history when unpacking, so the storage alone
        # is enough; holding ``t`` itself would tie a saved output to its own grad_fn, a
        # reference cycle that keeps the graph (and the batch) alive until a garbage
        # collection.
        saved.append(t.numel() * t.element_size())
        return t.detach()

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t):
        (value,) = torch.autograd.grad(loss(leaf), leaf, create_graph=True)
    return Gradient(leaf, value), sum(saved)


class _Point:
    """One point's kept graphs: ``kept[b]`` for batch ``b`` (None: not kept), ``used`` bytes."""

    def __init__(self, theta: np.ndarray, n_batches: int) -> None:
        self.theta = theta.copy()
        self.kept: list[Gradient | None] = [None] * n_batches
        self.used = 0


class KeptGradients:
    """Per batch, the gradient graph at the last point, within a memory budget.

    Safe to share between threads: a thread that finds a batch's graph missing builds its
    own, and a new point replaces the old one whole.
    """

    def __init__(self) -> None:
        self._point: _Point | None = None

    def products(self, theta: np.ndarray, flat: torch.Tensor, v: torch.Tensor,
                 losses: Sequence[Callable[[torch.Tensor], torch.Tensor]], budget: float
                 ) -> Iterator[torch.Tensor]:
        """Each batch's ``H_b v``, in order, for the batch losses ``losses`` at ``theta``.

        ``flat`` is ``theta`` as the objective's tensor. A batch's graph is built at its
        first product at a new ``theta`` and kept if the point's saved bytes stay within
        ``budget``.
        """
        point = self._point
        if point is None or not np.array_equal(point.theta, theta):
            self._point = None  # the old graphs go before new ones are built
            point = self._point = _Point(theta, len(losses))
        for b, loss in enumerate(losses):
            kept = point.kept[b]
            if kept is None:
                kept, size = gradient(loss, flat)
                if point.used + size <= budget:
                    point.kept[b], point.used = kept, point.used + size
            yield kept.product(v)

    def clear(self) -> None:
        """Drop the kept graphs."""
        self._point = None
