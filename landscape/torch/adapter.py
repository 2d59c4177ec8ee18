"""Bring your own model: a PyTorch ``nn.Module``, a loss and data as an Objective.

:func:`from_module` makes a :class:`TorchObjective`, so every tool of the package works on
a PyTorch model through the one currency, a flat float64 NumPy ``theta``.

How the model is treated (the choices other tools got wrong are explicit here):

- **Never mutated.** The objective evaluates a private copy of the module taken at construction
  (``copy.deepcopy``, converted to ``dtype``) through :func:`torch.func.functional_call`, with
  ``theta`` as its parameters. The user's module (parameters, buffers, train/eval flag) is
  never touched; later changes to it do not reach the objective (make a new one).
- **theta** is the module's trainable parameters in ``named_parameters()`` order, each
  flattened row-major: for ``nn.Linear`` the weight ``(out, in)`` then the bias, the layout of
  :class:`landscape.MLP`, so one ``theta`` means the same network in both. Frozen parameters
  (``requires_grad=False``) and tied duplicates are not in ``theta``: frozen ones are held
  fixed like buffers, tied ones follow their first name.
- **Mode.** ``mode='eval'`` (the default) evaluates the copy in eval mode: dropout is off and
  batch normalization uses its running statistics, so the loss is a deterministic function of
  ``theta`` alone and independent of how the data are batched. ``mode='train'`` is for modules
  whose training behaviour is deterministic and per sample; it is refused for dropout (random)
  and for batch normalization (batch statistics make the loss depend on the batching and the
  gradient couple the samples), as is batch normalization without running statistics in any
  mode. Randomness inside ``forward`` (``F.dropout(x, training=True)``) cannot be detected: do
  not use it.
- **Buffers** (running statistics, counters): fresh copies of their values at construction.
- **Means over batches.** ``loss_fn`` must be the mean over a batch (torch's default
  ``reduction='mean'``). Batch results (loss, gradient, HVP) are weighted by ``batch size /
  n_samples`` and summed, so a DataLoader's unequal batches give exactly the full-batch mean:
  HVPs are averaged, not summed over batches. Losses whose "mean" divides by something else
  (``CrossEntropyLoss`` with class ``weight`` or ignored labels) are exact on one batch only.
- **Data** are read once at construction and held (on the module's device): a DataLoader with
  random augmentation would otherwise make the loss random. Data that do not fit at once are
  streamed instead (``stream=True``: one batch at a time, re-read at every evaluation from a
  DataLoader in a fixed order), and ``batches=`` keeps a fixed subset of the batches in either
  mode (:mod:`landscape.torch.streaming`).
- **Where it runs.** The copy and the held data stay on the module's device (CPU or a GPU), in
  ``dtype`` (float64 by default, float32, or the module's own with ``dtype=None``); streamed
  batches are moved there one at a time. Only flat vectors cross: ``theta`` (and ``v``) go
  there as ``dtype`` tensors, each batch's result is weighted and summed there in float64, and
  the sum comes back as float64 NumPy on the CPU.
- **Filters** (:attr:`TorchObjective.blocks`, for filter-normalized directions): every
  trainable parameter with two or more dimensions is a block whose first dimension indexes the
  filters (``nn.Linear``: neurons; ``nn.Conv*d``: output channels; ``nn.ConvTranspose*d``
  stores input channels first), with its module's ``bias`` when that has one entry per filter.
  Other 1-D parameters (norm scales and shifts) are in no block.

Derivatives: gradients by backpropagation, HVPs by double backward (``torch.autograd.grad``
with ``create_graph=True``), exact to rounding in float64. Held batches keep their gradient's
graph at the last HVP point, so the products that follow at that point (Lanczos, traces,
densities) cost one backward pass each; :meth:`TorchObjective.hvps` takes several vectors, and
with PyTorch on ``n > 1`` threads products run side by side on ``n`` threads
(:mod:`landscape.torch.hvp`). Many points (:meth:`TorchObjective.losses`) go through
:func:`torch.func.vmap`, ``points_per_call`` at a time. Calls of the module are serialized by a
lock, so threads may share an objective.
"""

from __future__ import annotations

import copy
import functools
import math
import operator
import threading
from collections.abc import Callable, Sequence
from typing import Any, Literal, TypeAlias, cast, get_args

import numpy as np
import torch
from numpy.typing import ArrayLike
from torch.func import functional_call, vmap

from landscape._checks import choice, index_array, integer, theta_matrix
from landscape.objective import ObjectiveBase, ParameterBlock
from landscape.settings import current_execution
from landscape.torch.hvp import KeptGradients, gradient
from landscape.torch.streaming import Batch, Stream, gather, read_data
from landscape.vocabulary import Theta

#: Held around each call of the module: functional_call swaps its tensors while it runs.
_MODULE_CALL = threading.Lock()

#: The module's mode during evaluation: ``'eval'`` or ``'train'``.
TorchMode: TypeAlias = Literal["eval", "train"]
#: ``loss_fn(outputs, targets) -> scalar tensor``, the mean over the batch.
LossFn: TypeAlias = Callable[[torch.Tensor, torch.Tensor], torch.Tensor]

MODES: tuple[TorchMode, ...] = get_args(TorchMode)
DTYPES = (torch.float64, torch.float32)
_POINT_BUDGET = 2**20  # (parameters x batch samples) per vmapped call, roughly


# ---------------------------------------------------------------------------------
# Checking the module, the loss and the data
# ---------------------------------------------------------------------------------


def _check_mode(module: torch.nn.Module, mode: TorchMode) -> None:
    """Refuse layers that would make the loss random or depend on the batching."""
    choice(mode, MODES, "mode")
    for name, m in module.named_modules():
        label = f"{name or 'the module'} ({type(m).__name__})"
        if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
            if m.running_mean is None:
                raise ValueError(f"{label} has no running statistics (track_running_stats="
                                 "False), so it normalizes with batch statistics and the loss "
                                 "depends on the batching; use a model with running statistics")
            if mode == "train":
                raise ValueError(f"mode='train' with batch normalization {label}: batch "
                                 "statistics make the loss depend on the batching; use "
                                 "mode='eval' (running statistics)")
        if mode == "train" and isinstance(m, torch.nn.modules.dropout._DropoutNd) and m.p > 0:
            raise ValueError(f"mode='train' with dropout {label} makes the loss random; "
                             "use mode='eval'")


def _check_loss_fn(loss_fn: object) -> None:
    if not callable(loss_fn):
        raise ValueError("loss_fn must be callable: loss_fn(outputs, targets) -> scalar tensor")
    reduction = getattr(loss_fn, "reduction", "mean")
    if reduction != "mean":
        raise ValueError(f"loss_fn must average over the batch (reduction='mean'), got "
                         f"reduction={reduction!r}")


def _device_of(module: torch.nn.Module) -> torch.device:
    """The device of the module's first parameter."""
    return next(module.parameters()).device


# ---------------------------------------------------------------------------------
# Layout of theta and the layer structure
# ---------------------------------------------------------------------------------


def _blocks(shapes: dict[str, torch.Size], slices: dict[str, slice]
            ) -> tuple[ParameterBlock, ...]:
    """A :class:`ParameterBlock` per parameter with ``ndim >= 2`` (see **Filters** above)."""
    blocks = []
    for name, shape in shapes.items():
        if len(shape) < 2:
            continue
        prefix, _, leaf = name.rpartition(".")
        bias_name = f"{prefix}.bias" if prefix else "bias"
        bias = None
        if leaf == "weight" and shapes.get(bias_name) == torch.Size([shape[0]]):
            bias = slices[bias_name]
        blocks.append(ParameterBlock(prefix if leaf == "weight" else name, slices[name],
                                     int(shape[0]), bias))
    return tuple(blocks)


class TorchObjective(ObjectiveBase):
    """A PyTorch module's mean loss over fixed data, as an Objective of a flat ``theta``.

    Made by :func:`from_module`; the module docstring says how the module and data are treated.

    Attributes
    ----------
    dim : int, the number of trainable parameters.
    n_samples : int, the number of samples over all batches.
    blocks : tuple of :class:`~landscape.ParameterBlock`, the filters of each layer.
    names, shapes : the trainable parameters' names and shapes, in ``theta`` order.
    theta0 : ndarray, shape ``(dim,)``, float64: the module's parameters at construction.
    torch_dtype : the dtype of the evaluation (float64 or float32).
    mode : 'eval' or 'train'.
    points_per_call : int, points per vmapped call in :meth:`losses` (1: no vmap).
    streamed : bool, whether the batches are read afresh at every evaluation.
    batch_sizes : tuple of int, the number of samples of each batch.
    """

    def __init__(self, module: torch.nn.Module, loss_fn: LossFn, batches: list[Batch] | Stream,
                 fixed: dict[str, torch.Tensor], theta0: np.ndarray, torch_dtype: torch.dtype,
                 mode: TorchMode, points_per_call: int | None):
        self._module, self._loss_fn, self._batches = module, loss_fn, batches
        self._fixed = fixed  # buffers and frozen parameters, never updated
        self.theta0, self.torch_dtype, self.mode = theta0, torch_dtype, mode
        self._device = _device_of(module)
        trainable = {n: p for n, p in module.named_parameters() if p.requires_grad}
        self.names = tuple(trainable)
        self.shapes = tuple(p.shape for p in trainable.values())
        sizes = [math.prod(s) for s in self.shapes]
        stops = np.cumsum(sizes)
        self._sizes = sizes
        self.dim = int(stops[-1])
        slices = {n: slice(int(b - s), int(b)) for n, s, b in zip(self.names, sizes, stops)}
        self.blocks = _blocks(dict(zip(self.names, self.shapes)), slices)
        self.streamed = isinstance(batches, Stream)
        self.batch_sizes = (batches.sizes if isinstance(batches, Stream)
                            else tuple(int(x.shape[0]) for x, _ in batches))
        self.n_samples = sum(self.batch_sizes)
        self._weights = [size / self.n_samples for size in self.batch_sizes]
        largest = max(self.batch_sizes)
        self.points_per_call = (max(1, min(64, _POINT_BUDGET // (self.dim * largest)))
                                if points_per_call is None else points_per_call)
        self._gradients = KeptGradients()  # the graphs of the last HVP point

    def __getstate__(self) -> dict[str, Any]:  # pickle the definition, not the graphs
        return {**self.__dict__, "_gradients": KeptGradients()}

    def _describe(self) -> dict[str, Any]:
        loss = getattr(self._loss_fn, "__qualname__", type(self._loss_fn).__name__)
        streamed = {"data": f"streamed, {len(self.batch_sizes)} batches"} if self.streamed else {}
        return {"module": type(self._module).__name__, "loss": loss, "mode": self.mode,
                "torch_dtype": str(self.torch_dtype).removeprefix("torch."),
                "device": str(self._device), **streamed}

    # -- theta <-> tensors ----------------------------------------------------------
    def _to_torch(self, a: np.ndarray) -> torch.Tensor:
        return torch.as_tensor(a, dtype=self.torch_dtype, device=self._device)

    def _split(self, flat: torch.Tensor) -> dict[str, torch.Tensor]:
        """``flat`` ``(..., dim)`` as named parameter tensors (views)."""
        lead = flat.shape[:-1]
        pieces = torch.split(flat, self._sizes, dim=-1)
        return {n: p.reshape(lead + s) for n, p, s in zip(self.names, pieces, self.shapes)}

    def state_dict(self, theta: Theta) -> dict[str, torch.Tensor]:
        """The module's state with ``theta`` as its parameters (buffers as at construction).

        Load it with ``module.load_state_dict(objective.state_dict(theta))`` to get the
        network that the objective evaluates at ``theta`` (this mutates ``module``,
        explicitly).
        """
        params = self._split(self._to_torch(self._theta(theta)))
        return {**{n: t.clone() for n, t in self._fixed.items()}, **params}

    # -- one batch --------------------------------------------------------------------
    def _buffers(self, flat: torch.Tensor) -> dict[str, torch.Tensor]:
        """The buffers and frozen parameters the module is called with at ``flat``."""
        return self._fixed

    def _outputs(self, flat: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        state = {n: t.clone() for n, t in self._buffers(flat).items()}
        state.update(self._split(flat))
        with _MODULE_CALL:  # threads sharing the objective would see each other's theta
            return functional_call(self._module, state, (x,))

    def _batch_loss(self, flat: torch.Tensor, x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        return self._loss_fn(self._outputs(flat, x), y)

    def _batch_loss_and_grad(self, flat: torch.Tensor, x: torch.Tensor, y: torch.Tensor
                             ) -> tuple[torch.Tensor, torch.Tensor]:
        flat = flat.detach().requires_grad_(True)
        value = self._batch_loss(flat, x, y)
        (g,) = torch.autograd.grad(value, flat)
        return value.detach(), g

    def _mean(self, per_batch: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
              ) -> np.ndarray:
        """``sum_b (n_b / N) * per_batch(x_b, y_b)`` as float64 NumPy."""
        parts = (per_batch(x, y).detach().to(torch.float64) * w
                 for w, (x, y) in zip(self._weights, self._batches))
        return functools.reduce(operator.add, parts).cpu().numpy()

    # -- the Objective ----------------------------------------------------------------
    def _loss(self, theta: np.ndarray) -> float:
        flat = self._to_torch(theta)
        with torch.no_grad():
            return float(self._mean(lambda x, y: self._batch_loss(flat, x, y)))

    def _loss_and_grad(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        flat = self._to_torch(theta)
        out = self._mean(lambda x, y: torch.cat(
            [r.reshape(-1) for r in self._batch_loss_and_grad(flat, x, y)]))
        return float(out[0]), out[1:]

    def _hvp(self, theta: np.ndarray, v: np.ndarray) -> np.ndarray:
        return self._hvps(theta, v[None])[0]

    def hvps(self, theta: Theta, vectors: Theta) -> np.ndarray:
        """Rows ``hvp(theta, v)`` (same bits) for rows ``v`` of ``vectors``, ``(k, dim)``.

        They run side by side on PyTorch's threads (:mod:`landscape.torch.hvp`).
        """
        return self._hvps(self._theta(theta), theta_matrix(vectors, self.dim, "vectors"))

    def _hvps(self, theta: np.ndarray, vectors: np.ndarray) -> np.ndarray:
        if not self.streamed:
            return self._gradients.products(theta, vectors, self._to_torch, self._batch_loss,
                                            cast(list[Batch], self._batches),
                                            current_execution().memory_budget)
        flat, tangents = self._to_torch(theta), self._to_torch(vectors)
        return self._mean(lambda x, y: gradient(  # one batch's graph at a time, none kept
            lambda t: self._batch_loss(t, x, y), flat)[0].products(tangents))

    def _losses(self, thetas: np.ndarray) -> np.ndarray:
        flats = self._to_torch(thetas)
        with torch.no_grad():
            if self.points_per_call == 1:
                return np.array([self._loss(t) for t in thetas])
            batched = vmap(self._batch_loss, in_dims=(0, None, None),
                           chunk_size=self.points_per_call)
            return self._mean(lambda x, y: batched(flats, x, y))

    def accuracy(self, theta: Theta) -> float:
        """Fraction of samples whose largest output is their integer class target."""
        if any(y.is_floating_point() or y.ndim != 1 for _, y in self._batches):
            raise ValueError("accuracy needs integer class targets, shape (N,)")
        flat = self._to_torch(self._theta(theta))
        with torch.no_grad():
            hits = sum(int((self._outputs(flat, x).argmax(dim=-1) == y).sum())
                       for x, y in self._batches)
        return hits / self.n_samples

    def subset(self, indices: ArrayLike) -> TorchObjective:
        """The mean loss over the samples ``indices`` (a minibatch), batched as before.

        The samples are held (read in one pass of a streamed objective's data).
        """
        idx = index_array(indices, self.n_samples) % self.n_samples
        xs, ys = gather(self._batches, self.batch_sizes, idx)
        step = max(self.batch_sizes)
        batches = list(zip(torch.split(xs, step), torch.split(ys, step)))
        return TorchObjective(self._module, self._loss_fn, batches, self._fixed, self.theta0,
                              self.torch_dtype, self.mode, self.points_per_call)


def from_module(module: torch.nn.Module, loss_fn: LossFn, data: Any, *,
                dtype: torch.dtype | None = torch.float64, mode: TorchMode = "eval",
                points_per_call: int | None = None, stream: bool = False,
                batches: int | Sequence[int] | None = None) -> TorchObjective:
    """The mean of ``loss_fn(module(inputs), targets)`` over ``data`` as an Objective.

    Parameters
    ----------
    module : torch.nn.Module with trainable parameters; never mutated (see the module
        docstring for how mode, buffers and batches are handled).
    loss_fn : callable ``loss_fn(outputs, targets) -> scalar tensor``, the mean over the
        batch, e.g. ``torch.nn.CrossEntropyLoss()`` or ``torch.nn.MSELoss()``.
    data : ``(inputs, targets)`` tensors or arrays (one batch; first dimension = samples),
        or a DataLoader / iterable of ``(inputs, targets)`` batches (read once, or at every
        evaluation with ``stream=True``). Floating point data are converted to ``dtype``;
        integer labels are kept.
    dtype : torch.float64 (default; needed for tight eigenvalues and finite-difference
        checks), torch.float32, or None for the module's own (float64 or float32).
        ``theta`` and results are float64 NumPy either way.
    mode : 'eval' (default: deterministic, batch-independent) or 'train' (refused with
        dropout or batch normalization).
    points_per_call : int or None, points per vmapped call in ``losses``; None picks from
        the model and batch size; 1 evaluates one point at a time (no vmap: for modules
        that vmap cannot handle).
    stream : bool, read ``data`` (a DataLoader in a fixed order) afresh at every
        evaluation, one batch at a time, instead of holding it: memory independent of the
        number of batches (:mod:`landscape.torch.streaming`). Refused for a shuffling
        DataLoader or one whose batches change between passes.
    batches : None (all), an int ``k`` (``k`` batches spread evenly over the data) or a
        sequence of batch indices: the objective is the mean over the samples of these
        batches only, a fixed subset (:mod:`landscape.torch.streaming`).

    Returns
    -------
    TorchObjective, with ``theta0`` (the module's parameters, shape ``(dim,)``).

    Examples
    --------
    >>> objective = from_module(net, torch.nn.CrossEntropyLoss(), loader)  # doctest: +SKIP
    >>> objective.hvp(objective.theta0, v)  # doctest: +SKIP
    """
    if not isinstance(module, torch.nn.Module):
        raise ValueError(f"module must be a torch.nn.Module, got {type(module).__name__}")
    dtype = _module_dtype(module) if dtype is None else dtype
    if dtype not in DTYPES:
        raise ValueError(f"dtype must be torch.float64, torch.float32 or None (the module's, "
                         f"if one of those), got {dtype}")
    if points_per_call is not None:
        points_per_call = integer(points_per_call, "points_per_call", 1)
    _check_mode(module, mode)
    _check_loss_fn(loss_fn)
    params = [p for p in module.parameters() if p.requires_grad]
    if not params:
        raise ValueError("module has no trainable parameters")
    if any(isinstance(p, torch.nn.parameter.UninitializedParameter) for p in params):
        raise ValueError("module has uninitialized (lazy) parameters: run one forward pass "
                         "first")
    theta0 = torch.cat([p.detach().reshape(-1) for p in params]).to(torch.float64)
    twin = copy.deepcopy(module).to(dtype).train(mode == "train")
    fixed = {n: t.detach() for n, t in twin.named_buffers()}
    fixed.update({n: p.detach() for n, p in twin.named_parameters() if not p.requires_grad})
    source = read_data(data, dtype, _device_of(twin), bool(stream), batches)
    objective = TorchObjective(twin, loss_fn, source, fixed, theta0.cpu().numpy(), dtype, mode,
                               points_per_call)
    _check_scalar_loss(objective)
    return objective


def _module_dtype(module: torch.nn.Module) -> torch.dtype:
    """The dtype of the module's first floating-point parameter (float64 if none)."""
    kinds = [p.dtype for p in module.parameters() if p.is_floating_point()]
    return kinds[0] if kinds else torch.float64


def _check_scalar_loss(objective: TorchObjective) -> None:
    """The loss of the first batch must be a scalar (a mean, not per-sample values)."""
    x, y = next(iter(objective._batches))
    with torch.no_grad():
        value = objective._batch_loss(objective._to_torch(objective.theta0), x, y)
    if not isinstance(value, torch.Tensor) or value.ndim != 0:
        shape = tuple(value.shape) if isinstance(value, torch.Tensor) else type(value).__name__
        raise ValueError(f"loss_fn must return a scalar tensor (the batch mean), got {shape}")
