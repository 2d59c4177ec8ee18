"""The batches a torch objective averages over: held in memory, or streamed from a DataLoader.

**Held** (the default): the batches are read once, at construction, converted to the
objective's dtype and device, and kept. Every evaluation reuses them.

**Streamed** (``stream=True``): only the sizes of the batches and a fingerprint of each are
kept; every evaluation (a loss, a gradient, an HVP, one point of a plane) reads the
DataLoader afresh, one batch at a time, and adds ``n_b / N`` times the batch's result to
a running sum. Memory is then one batch (and the model's activations on it) whatever the
number of batches; time is one pass over the loader per evaluation, data loading included.
The loss must be a deterministic function of ``theta``, so the stream must give the same
batches in the same order on every pass:

- a DataLoader whose sampler draws at random (``shuffle=True``, a ``RandomSampler`` or
  any sampler other than a ``SequentialSampler``) is refused at construction;
- random augmentation (a transform drawing random numbers) is detected by reading the first
  batch twice at construction, and refused;
- on every later pass each batch is checked against the first pass's size and fingerprint
  (the float64 sums of its inputs and targets), so a loader that changes under the
  objective is an error, not a silently different loss.

**A fixed subset of batches** (``batches=``, in either mode): an int ``k`` keeps ``k``
batches spread evenly over the loader (the first, the last and evenly between; batch
``round(i (B - 1) / (k - 1))`` for ``i = 0..k-1``), a sequence keeps the batches of those
indices. The objective is then the exact mean over the samples of the kept batches: an
estimate of the full loss at ``k / B`` of the cost, the same at every point (a fixed
subset, not a fresh draw), so planes and spectra stay smooth. For a map-style dataset
behind a DataLoader, the kept batches are the only ones loaded.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TypeAlias

import numpy as np
import torch

__all__ = ["Stream", "gather", "read_data"]

#: An ``(inputs, targets)`` pair of tensors.
Batch: TypeAlias = tuple[torch.Tensor, torch.Tensor]


def _tensor(x: Any, name: str, dtype: torch.dtype, device: torch.device) -> torch.Tensor:
    """``x`` as a tensor on ``device``.

    Floating point data are converted to ``dtype`` and checked to be finite (as the MLP
    checks its data); complex data are refused.
    """
    try:
        t = torch.as_tensor(x, device=device)
    except (TypeError, ValueError, RuntimeError) as err:
        raise ValueError(f"{name} must be a tensor or an array: {err}") from None
    if t.ndim == 0 or t.shape[0] == 0:
        raise ValueError(f"{name} must have a non-empty first (sample) dimension, "
                         f"got shape {tuple(t.shape)}")
    if t.is_complex():
        raise ValueError(f"{name} must be real, got {t.dtype}")
    if not t.is_floating_point():
        return t
    t = t.to(dtype)
    if not bool(torch.isfinite(t).all()):
        raise ValueError(f"{name} contains NaN or inf (in {dtype})")
    return t


def _pair(batch: Any, i: int, dtype: torch.dtype, device: torch.device) -> Batch:
    """Batch ``i`` of the data as checked ``(inputs, targets)`` tensors."""
    if not isinstance(batch, (tuple, list)) or len(batch) != 2:
        raise ValueError(f"batch {i} must be an (inputs, targets) pair, got "
                         f"{type(batch).__name__}")
    x = _tensor(batch[0], f"inputs of batch {i}", dtype, device)
    y = _tensor(batch[1], f"targets of batch {i}", dtype, device)
    if x.shape[0] != y.shape[0]:
        raise ValueError(f"batch {i}: inputs and targets have different lengths: "
                         f"{x.shape[0]} and {y.shape[0]}")
    return x, y


def _is_pair_of_arrays(data: object) -> bool:
    return (isinstance(data, (tuple, list)) and len(data) == 2
            and all(isinstance(d, (torch.Tensor, np.ndarray)) for d in data))


def _fingerprint(batch: Batch) -> tuple[int, float, float]:
    """A batch's size and the float64 sums of its inputs and targets."""
    x, y = batch
    return (int(x.shape[0]), float(x.detach().to(torch.float64).sum()),
            float(y.detach().to(torch.float64).sum()))


def _picked(n_batches: int, batches: int | Sequence[int] | None) -> tuple[int, ...] | None:
    """The indices of the kept batches (sorted, distinct), None for all of them."""
    if batches is None:
        return None
    if isinstance(batches, (int, np.integer)) and not isinstance(batches, bool):
        k = int(batches)
        if not 1 <= k <= n_batches:
            raise ValueError(f"batches must be between 1 and the number of batches "
                             f"({n_batches}), got {k}")
        return tuple(int(i) for i in np.unique(np.round(np.linspace(0, n_batches - 1, k))))
    try:
        idx = np.asarray(batches)
    except (TypeError, ValueError):
        idx = np.array([], dtype=float)
    if idx.ndim != 1 or idx.size == 0 or idx.dtype.kind not in "iu":
        raise ValueError("batches must be None, an int or a non-empty sequence of batch "
                         f"indices, got {batches!r}")
    if idx.min() < 0 or idx.max() >= n_batches or len(np.unique(idx)) != idx.size:
        raise ValueError(f"batches must be distinct indices in [0, {n_batches}), got "
                         f"{idx.tolist()}")
    return tuple(int(i) for i in np.sort(idx))


def _check_order(loader: Any) -> None:
    """Refuse a DataLoader whose sampler is not sequential (shuffling, weighted draws).

    A custom batch sampler is left to the check of the first batch read twice.
    """
    if not isinstance(loader, torch.utils.data.DataLoader) or isinstance(
            loader.dataset, torch.utils.data.IterableDataset):
        return
    batcher = loader.batch_sampler
    if batcher is not None and not isinstance(batcher, torch.utils.data.BatchSampler):
        return
    sampler = loader.sampler if batcher is None else batcher.sampler
    if not isinstance(sampler, torch.utils.data.SequentialSampler):
        raise ValueError(f"data is a DataLoader with a {type(sampler).__name__}: streaming "
                         "reads the data again at every evaluation, so the order must be "
                         "fixed; make the DataLoader with shuffle=False (a SequentialSampler)")


def _restricted(loader: Any, pick: tuple[int, ...] | None) -> tuple[Any, tuple[int, ...] | None]:
    """A loader of only the kept batches where one can be made, and which of its batches to keep.

    For a map-style dataset behind a DataLoader with a batch sampler, a new DataLoader over
    the kept batches' indices loads nothing else; otherwise the loader is read whole and
    the others are skipped.
    """
    if pick is None or not isinstance(loader, torch.utils.data.DataLoader) or (
            loader.batch_sampler is None or isinstance(loader.dataset,
                                                       torch.utils.data.IterableDataset)):
        return loader, pick
    index_lists = list(loader.batch_sampler)
    kept = [list(index_lists[i]) for i in pick]
    return torch.utils.data.DataLoader(
        loader.dataset, batch_sampler=kept, collate_fn=loader.collate_fn,
        num_workers=loader.num_workers, pin_memory=loader.pin_memory,
        worker_init_fn=loader.worker_init_fn), None


def _count(data: Any) -> int:
    """The number of batches of a re-iterable ``data``."""
    try:
        return len(data)
    except TypeError:  # an iterable dataset without a length
        return sum(1 for _ in data)


class Stream:
    """The batches of a re-iterable source, read afresh and checked on every pass.

    Attributes
    ----------
    sizes : tuple of int, the number of samples of each (kept) batch.
    """

    def __init__(self, source: Iterable, keep: tuple[int, ...] | None, dtype: torch.dtype,
                 device: torch.device):
        self._source, self._keep, self._dtype, self._device = source, keep, dtype, device
        prints = [_fingerprint(b) for b in self._read()]
        if not prints:
            raise ValueError("data has no batches")
        again = next(self._read())
        if _fingerprint(again) != prints[0]:
            raise ValueError("data gave another first batch when read a second time: random "
                             "augmentation (or shuffling) makes the loss random; streaming "
                             "needs the same batches on every pass")
        self._prints = tuple(prints)
        self.sizes = tuple(p[0] for p in prints)

    def _read(self) -> Iterator[Batch]:
        keep = None if self._keep is None else set(self._keep)
        for i, raw in enumerate(self._source):
            if keep is None or i in keep:
                yield _pair(raw, i, self._dtype, self._device)

    def __len__(self) -> int:
        return len(self.sizes)

    def __iter__(self) -> Iterator[Batch]:
        count = 0
        for i, batch in enumerate(self._read()):
            if i >= len(self._prints) or _fingerprint(batch) != self._prints[i]:
                raise RuntimeError(f"the DataLoader gave another batch {i} than on its first "
                                   "pass: the data changed, or its order is not fixed")
            count += 1
            yield batch
        if count != len(self._prints):
            raise RuntimeError(f"the DataLoader gave {count} batches, {len(self._prints)} on "
                               "its first pass")


def read_data(data: Any, dtype: torch.dtype, device: torch.device, stream: bool,
              batches: int | Sequence[int] | None) -> list[Batch] | Stream:
    """The batches of ``data`` (see :func:`landscape.torch.from_module`), held or streamed.

    Held: a list of checked ``(inputs, targets)`` tensors on ``device``. Streamed: a
    :class:`Stream` over ``data``, a DataLoader or another re-iterable of batches.
    """
    single = _is_pair_of_arrays(data)
    if not single:
        try:
            iter(data)
        except TypeError:
            raise ValueError("data must be (inputs, targets) tensors or a DataLoader of "
                             f"(inputs, targets) batches, got {type(data).__name__}") from None
    if stream:
        if single or iter(data) is data:
            raise ValueError("stream=True needs data that can be read again (a DataLoader); "
                             f"got {'one batch' if single else 'an iterator'}")
        _check_order(data)
        pick = None if batches is None else _picked(_count(data), batches)
        return Stream(*_restricted(data, pick), dtype, device)
    raw = [data] if single else list(data)
    if not raw:
        raise ValueError("data has no batches")
    pick = _picked(len(raw), batches)
    return [_pair(raw[i], i, dtype, device) for i in (range(len(raw)) if pick is None else pick)]


def gather(batches: list[Batch] | Stream, sizes: Sequence[int], idx: np.ndarray
           ) -> tuple[torch.Tensor, torch.Tensor]:
    """Rows ``idx`` ``(m,)`` of the batches' concatenated inputs and targets, in that order.

    One pass over the batches (of ``sizes`` samples each); only the picked rows are kept.
    """
    xs: torch.Tensor | None = None
    ys: torch.Tensor | None = None
    start = 0
    for (x, y), size in zip(batches, sizes):
        if xs is None or ys is None:
            xs = x.new_empty((len(idx), *x.shape[1:]))
            ys = y.new_empty((len(idx), *y.shape[1:]))
        inside = np.flatnonzero((idx >= start) & (idx < start + size))
        rows = torch.as_tensor(idx[inside] - start, device=x.device)
        where = torch.as_tensor(inside, device=x.device)
        xs[where], ys[where] = x[rows], y[rows]
        start += size
    assert xs is not None and ys is not None  # an objective has at least one batch
    return xs, ys
