"""Hessian-vector products at a fixed point: the gradient's graph built once, then reused.

Lanczos, Hutchinson's trace and SLQ spend tens to hundreds of products at one ``theta``.
Double backward from scratch (``torch.autograd.grad`` of a gradient built with
``create_graph=True``) redoes the forward pass and the graph-building backward pass for
every product. :class:`KeptGradients` keeps, per part of the data, the gradient with its
graph at the last ``theta`` (as PyHessian does for its batch) and differentiates it again
for each new vector (``retain_graph=True``): one backward pass per product instead of a
forward and two backwards. The products run the same operations on the same graph, so
they equal the products from scratch bit for bit.

Parts and threads. On a CPU each held batch is cut into parts (runs of rows) by its shapes
alone (:func:`part_bounds`: at most ``PART_WORK`` samples x parameters a part, at most 8
parts, and at least ``PART_ROWS`` rows where the work allows; the digits network's 1797
samples in 2, the tiny network's whole), each part's product is taken on one PyTorch
thread and a vector's parts are summed in their order, so a product has the same bits at
every thread count. With PyTorch allowed ``n > 1`` threads (``torch.get_num_threads()`` of
the calling thread) the parts of a vector, or several vectors, run side by side on ``n``
threads, ``n - 1`` kept for the process and the caller (:mod:`landscape.torch.threads`); at
one thread they run in a loop, which is the price of those bits: against the uncut batch,
a digits product took 6.5% longer in float64 and 10.5% in float32, an MNIST-sized one 7-8%
(CPU time, interleaved, load 0.9). PyTorch's own threads split every operation and
meet after each one; when another process holds a core, each meeting waits for a thread
the system has put aside. On the 2-core benchmark machine with other work on it (load
1.0-1.9), a digits product cut in two took 0.53-0.90 of its time on PyTorch's 2 threads
(medians of 370-900 rounds; two whole products side by side 0.81-1.03), whose slowest
calls took up to 73 times their median; at load 2.5-4.8, the former adapter, PyHessian and
hessian-eigenthings took up to 65-120 times as long at 2 threads as at 1 on some runs,
these products at most 1.4 times. PyTorch's 2 threads would also change the rounding (4e-7
relative in float32). What the pool pays instead: its thread sleeps between products, and
on the benchmark machine the first products after 0.1 s idle took up to 1.5 times as long
(a 2-thread digits top-1 55 against 41 ms in float64, 37 against 21 in float32), where
PyTorch's OpenMP threads spin between operations and PyHessian's did not slow down.

Measured on the digits-sized and MNIST-sized networks of ``benchmarks/``
(``benchmarks/TORCH_HVP.md``): the kept graph's product takes 0.47-0.59 of the time a
product from scratch took. Of the other ways to a product at a fixed point,
forward-over-reverse (``torch.func.jvp`` of ``torch.func.grad``) took 1.2-2.0 times a
product from scratch; ``torch.func.linearize`` 3-16% less than the kept graph's backward,
but its tracing costs about 40 products per point; products batched over vectors with
``torch.func.vmap`` (``is_grads_batched``, or the graph of a stack of copies of
``theta``) took 1.1-1.6 times the products one by one on the digits network (their
batched temporaries are copied and, past glibc's ``mmap`` threshold, faulted in afresh
each time).

Memory. A kept graph holds the tensors autograd saved for it (the activations and their
derivatives: a few times a forward pass's), counted here by saved-tensor hooks. The graphs
of one point are kept while their total stays within the ``memory_budget`` of the execution
settings in force (:func:`landscape.settings.current_execution`); the parts past it are
recomputed at every product, as before, and the graphs of the last point stay alive until
the next product at another point (or the objective is pickled, which drops them). The
temporaries of a product are freed at its end and allocated again by the next: the first
objective has glibc keep them in the heap
(:func:`~landscape.torch.threads.keep_freed_memory`), which took a digits product in float64
from 7.5 to 5.6 ms (from about 1,000 page faults to none).
"""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterable, Sequence
from typing import Any, NamedTuple

import numpy as np
import torch

from landscape.mlp_block import block_bounds
from landscape.torch.threads import keep_freed_memory, run, torch_threads

#: A part's loss: ``flat -> scalar tensor``, the mean over the part's samples.
Loss = Callable[[torch.Tensor], torch.Tensor]


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

    def products(self, vectors: torch.Tensor) -> torch.Tensor:
        """``H v`` for each row ``v`` of ``vectors`` (``(k, leaf size)``), stacked."""
        return torch.stack([self.product(v) for v in vectors])


def gradient(loss: Loss, flat: torch.Tensor) -> tuple[Gradient, int]:
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


# ---------------------------------------------------------------------------------
# The kept graphs of one point
# ---------------------------------------------------------------------------------


class _Point:
    """One point's kept graphs: ``kept[j]`` for part ``j`` (None: not kept), ``used`` bytes."""

    def __init__(self, theta: np.ndarray, flat: torch.Tensor, n_parts: int) -> None:
        self.theta, self.flat = theta.copy(), flat.detach().clone()  # theta as a tensor
        self.kept: list[Gradient | None] = [None] * n_parts
        self.used = 0
        self.lock = threading.Lock()
        self.building = [threading.Lock() for _ in range(n_parts)]  # one builder per part
        self.spilled = [False] * n_parts  # built once and not kept: each product builds

    def graph(self, j: int, loss: Loss, budget: float) -> Gradient:
        """Part ``j``'s graph: the kept one, or built now (and kept within ``budget``).

        A thread that wants a part another is building waits for it (once the part proved
        too large to keep, every thread builds its own).
        """
        kept = self.kept[j]
        if kept is not None:
            return kept
        if self.spilled[j]:
            return gradient(loss, self.flat)[0]
        with self.building[j]:
            kept = self.kept[j]
            if kept is None:
                kept, size = gradient(loss, self.flat)
                with self.lock:
                    if self.used + size <= budget:
                        self.kept[j], self.used = kept, self.used + size
                    else:
                        self.spilled[j] = True
        return kept


class KeptGradients:
    """Per part of the data, the gradient graph at the last point, within a memory budget.

    Safe to share between threads: a thread that finds a part's graph missing builds its
    own, and a new point replaces the old one whole. The parts are fixed at the first
    product (the same batches at every call).
    """

    def __init__(self) -> None:
        keep_freed_memory()
        self._point: _Point | None = None
        self._parts: tuple[list[Loss], list[float]] | None = None  # losses, weights

    def __setstate__(self, state: dict[str, Any]) -> None:  # in a worker process too
        keep_freed_memory()
        self.__dict__.update(state)

    def products(self, theta: np.ndarray, vectors: np.ndarray,
                 tensor: Callable[[np.ndarray], torch.Tensor],
                 batch_loss: Callable[..., torch.Tensor],
                 batches: Sequence[tuple[torch.Tensor, torch.Tensor]], budget: float
                 ) -> np.ndarray:
        """``H v`` for each row ``v`` of ``vectors`` (``(k, dim)``), float64 NumPy ``(k, dim)``.

        ``H`` is the Hessian at ``theta`` of the mean of ``batch_loss(flat, x, y)`` over the
        samples of ``batches``, each weighted by its samples, ``flat`` being
        ``tensor(theta)`` (``tensor`` makes the objective's tensors). A part's graph is
        built at its first product at a new ``theta`` and kept if the point's saved bytes
        stay within ``budget``.

        On a CPU each batch is cut into parts (runs of rows, :func:`part_bounds`: by the
        shapes alone) when its loss is the mean of its parts' (checked once: not for
        ``CrossEntropyLoss`` with class weights or ignored labels, nor for a module that
        couples the samples). Each part's product is taken on one PyTorch thread and a
        vector's parts are summed in float64 in their order, so the products have the same
        bits whatever the thread count. With PyTorch allowed ``n > 1`` threads they run
        side by side on ``n`` threads (:mod:`landscape.torch.threads`): the vectors, each
        on one thread, when there are ``n`` or more, else the parts of each; a single
        part's single product (small data, or a loss that couples the samples) runs here.
        The work between (conversions, sums) runs here on one PyTorch thread: an operation
        on PyTorch's threads here would leave OpenMP's threads spinning beside the pool's
        for a while.
        """
        cpu = batches[0][0].device.type == "cpu"
        n = torch.get_num_threads() if cpu else 1
        if n == 1:
            return self._products(theta, vectors, tensor, batch_loss, batches, budget, 1)
        with torch_threads(1):
            return self._products(theta, vectors, tensor, batch_loss, batches, budget, n)

    def _products(self, theta: np.ndarray, vectors: np.ndarray,
                  tensor: Callable[[np.ndarray], torch.Tensor],
                  batch_loss: Callable[..., torch.Tensor],
                  batches: Sequence[tuple[torch.Tensor, torch.Tensor]], budget: float, n: int
                  ) -> np.ndarray:
        if self._parts is None:
            self._parts = _parts(batch_loss, tensor(theta), batches, n)
        losses, weights = self._parts
        point = self._point
        if point is None or not np.array_equal(point.theta, theta):
            self._point = None  # the old graphs go before new ones are built
            point = self._point = _Point(theta, tensor(theta), len(losses))

        def share(j: int, v: torch.Tensor) -> torch.Tensor:
            return point.graph(j, losses[j], budget).product(v)

        def whole(v: torch.Tensor) -> torch.Tensor:
            return _total((share(j, v) for j in range(len(losses))), weights, point.flat)

        rows = [tensor(v) for v in vectors]  # each in its own allocation
        if len(rows) >= n:  # the vectors side by side (a loop on one thread)
            return _numpy(run([functools.partial(whole, v) for v in rows], n))
        tasks = [functools.partial(share, j, v) for v in rows for j in range(len(losses))]
        shares = run(tasks, n if len(tasks) > 1 else 1)  # never on PyTorch's n threads
        return _numpy([_total(shares[i:i + len(losses)], weights, point.flat)
                       for i in range(0, len(shares), len(losses))])

    def clear(self) -> None:
        """Drop the kept graphs."""
        self._point = None


#: Samples x parameters of a part, at most, unless that leaves fewer than ``PART_ROWS`` rows.
PART_WORK = 2**23
#: Rows a part may hold whatever its work: a part's product also costs autograd's
#: per-operation overhead and passes over the ``dim`` parameters (at one thread, a second
#: part took a digits product 6-11% longer, an MNIST-sized one of 512 rows 7-8%).
PART_ROWS = 256


def part_bounds(n_samples: int, dim: int) -> list[tuple[int, int]]:
    """A batch's parts, row ranges ``[(start, stop), ...]``: :func:`block_bounds` by work.

    As many as it takes to keep ``n_samples * dim`` (samples x parameters) within
    ``PART_WORK``, or ``PART_ROWS`` rows where that is more, per part, at most
    ``MAX_BLOCKS`` (8), whatever the thread count: the digits network's 1797 samples
    (8,970 parameters) and the MNIST-sized one's 512 (269,322) in 2, 60,000 MNIST-sized
    samples in 8. Data whose product is mostly Python and dispatch (the tiny benchmark
    network's: 0.3 ms a product) stay whole.
    """
    return block_bounds(n_samples, dim, max(PART_WORK, PART_ROWS * dim))


def _parts(batch_loss: Callable[..., torch.Tensor], flat: torch.Tensor,
           batches: Sequence[tuple[torch.Tensor, torch.Tensor]], n: int
           ) -> tuple[list[Loss], list[float]]:
    """The parts' losses and weights (their shares of the samples), in their order.

    On a CPU each batch's :func:`part_bounds` where every cut batch's loss is its parts'
    mean (:func:`_divisible`, on ``n`` threads), else the whole batches.
    """
    cpu = flat.device.type == "cpu"
    runs = [[(x[a:b], y[a:b]) for a, b in part_bounds(len(x), flat.numel())] if cpu
            else [(x, y)] for x, y in batches]
    if not all(len(r) == 1 or _divisible(batch_loss, flat, b, r, n)
               for b, r in zip(batches, runs)):
        runs = [[b] for b in batches]
    n_samples = sum(len(x) for x, _ in batches)
    return ([functools.partial(batch_loss, x=x, y=y) for r in runs for x, y in r],
            [len(x) / n_samples for r in runs for x, _ in r])


def _divisible(batch_loss: Callable[..., torch.Tensor], flat: torch.Tensor,
               batch: tuple[torch.Tensor, torch.Tensor],
               runs: Sequence[tuple[torch.Tensor, torch.Tensor]], n: int) -> bool:
    """Whether ``batch``'s loss is the mean of its ``runs``' losses, weighted by samples.

    At ``flat``, to 100 epsilons of the dtype (one forward pass per run and one for the
    batch, side by side on ``n`` threads, each on one PyTorch thread).
    """
    tolerance = 100 * torch.finfo(flat.dtype).eps

    def loss(x: torch.Tensor, y: torch.Tensor) -> float:
        with torch.no_grad():
            return float(batch_loss(flat, x, y))

    whole, *cut = run([functools.partial(loss, *b) for b in [batch, *runs]], n)
    mean = sum(c * len(x) / len(batch[0]) for c, (x, _) in zip(cut, runs))
    return abs(mean - whole) <= tolerance * abs(whole)


def _total(shares: Iterable[torch.Tensor], weights: Sequence[float], flat: torch.Tensor
           ) -> torch.Tensor:
    """``Σ_j weights[j] shares[j]`` in float64 and ``flat``'s shape, in order (a fused pass each).

    The same function for a vector's parts side by side and in a loop: the same bits.
    """
    total = torch.zeros_like(flat, dtype=torch.float64)
    for s, w in zip(shares, weights):
        total.add_(s, alpha=w)
    return total


def _numpy(rows: list[torch.Tensor]) -> np.ndarray:
    """The rows stacked as float64 NumPy on the CPU (NumPy's copy: no PyTorch threads)."""
    return np.stack([r.cpu().numpy() for r in rows])
