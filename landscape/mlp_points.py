"""Losses of many points of an MLP objective: batched passes, in chunks, on BLAS's threads.

:meth:`landscape.MLPObjective.losses` and :meth:`~landscape.MLPObjective.losses_in_span`
(lines, planes, grids, sweeps) run here. The points go through the network as one batched
matmul per layer, in chunks sized to the cache and to the ``memory_budget`` of the
execution settings in force (:class:`~landscape.settings.Execution`). A span's first layer
is linear in the coordinates: its pre-activations at the center and along each direction
are computed once per (center, directions), kept for the grid's next chunks, and combined
per point; the span's samples go in blocks whose working arrays stay in cache and are
reused from chunk to chunk, and its chunks run side by side on BLAS's threads (the same
bits as on one).
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

import numpy as np

from landscape.heads import SoftmaxCrossEntropy
from landscape.parallel import map_on_blas_threads, work_threads
from landscape.settings import current_execution

if TYPE_CHECKING:
    from landscape.mlp import MLP

CHUNK_BYTES = 4e6  # working set of one batched chunk in losses(): about the L2/L3 cache
SPAN_BLOCK = 2048  # the fewest rows in a block of samples of in_span

# The first layer's products for a span and its blocks' targets: per block of samples,
# (center and directions' pre-activations (d + 1, h * rows), targets (m, rows), row sums).
SpanFirsts = list[tuple[np.ndarray, np.ndarray, np.ndarray]]


class BatchedLosses:
    """Losses of many points ``thetas`` ``(c, n_params)`` of ``model`` on ``X``, ``Y``.

    Keeps the last span's first-layer products and each thread's working arrays, so it
    is not pickled: an objective makes a new one where it is unpickled.
    """

    def __init__(self, model: MLP, X: np.ndarray, Y: np.ndarray):
        self.model, self.X, self.Y = model, X, Y
        self.dim, self.dtype, self.blocks = model.n_params, model.dtype, model.blocks
        self.n_samples = X.shape[0]
        self._span: tuple[np.ndarray, SpanFirsts] | None = None  # see _span_firsts
        self._span_threads = threading.local()  # each thread's working arrays of a span

    def _chunk(self, rows: int, reserved: float = 0.0) -> int:
        """Points per chunk of ``rows`` samples: their activations fit in memory and cache.

        In the memory budget in force (:func:`~landscape.settings.current_execution`) less
        ``reserved`` bytes (arrays held for the whole call).

        Chunks whose working set stays within ``CHUNK_BYTES`` (about the L2/L3 cache) ran
        fastest: on 2-16-16-1 with 200 samples a 4 MB chunk took 21 us a point against 39 us
        for one 256 MB chunk; larger chunks only stream memory.
        """
        per_point = 3 * rows * max(self.model.sizes[1:]) * self.dtype.itemsize
        room = min(current_execution().memory_budget - reserved, CHUNK_BYTES)
        return max(1, int(room // per_point))

    def _losses_from_first(self, Z: np.ndarray, thetas: np.ndarray) -> np.ndarray:
        """Losses of ``c`` points given their first pre-activations transposed, ``(c, h, N)``.

        Activations are kept transposed (``(c, width, N)``) so every layer is one
        contiguous batched matmul ``W @ A``; each activation is applied in place.
        """
        model = self.model
        layers = model.unflatten(thetas)
        for i in range(1, model.n_layers):
            W, b = layers[i]
            Z = W @ model.activations[i - 1].value(Z, Z)
            if b is not None:
                Z += b[:, :, None]
        values = model.head.value(Z.swapaxes(-1, -2), self.Y)
        if model.weight_decay:
            values = values + 0.5 * model.weight_decay * sum(
                np.einsum("kij,kij->k", W, W) for W, _ in layers)
        return values

    def losses(self, thetas: np.ndarray) -> np.ndarray:
        """Chunks of points side by side on the caller's threads (one BLAS thread each)."""
        step, block, fan_in = self._chunk(self.n_samples), self.blocks[0], self.model.sizes[0]

        def chunk(s: int) -> np.ndarray:
            t = thetas[s:s + step]
            W1 = t[:, block.weight].reshape(-1, fan_in)
            Z = (W1 @ self.X.T).reshape(t.shape[0], block.n_filters, self.n_samples)
            if block.bias:
                Z += t[:, block.bias, None]
            return self._losses_from_first(Z, t)

        parts = map_on_blas_threads(chunk, range(0, thetas.shape[0], step))
        return np.concatenate(parts) if parts else np.empty(0)

    def _span_bounds(self) -> list[tuple[int, int]]:
        """Row ranges of a span's blocks of samples, of near-equal sizes.

        ``3 rows width`` numbers each within ``CHUNK_BYTES`` (in cache), but at least
        ``SPAN_BLOCK`` rows (at width 1024 smaller blocks' products were slower).
        """
        width, size = max(self.model.sizes[1:]), self.dtype.itemsize
        rows = max(SPAN_BLOCK, int(CHUNK_BYTES // (3 * width * size)))
        k = -(-self.n_samples // rows)
        edges = [self.n_samples * i // k for i in range(k + 1)]
        return list(zip(edges[:-1], edges[1:]))

    def _span_firsts(self, stacked: np.ndarray) -> SpanFirsts:
        """Per block of samples: the first layer's products of the rows of ``stacked``.

        With the block's targets as columns and their row sums (:data:`SpanFirsts`). Kept
        for the last ``stacked`` when they take at most a quarter of the memory budget: a
        grid's chunks share its center and directions, and computing these per chunk (16
        per plane) took 4-25% of a plane's time (the most on small grids of wide networks
        or many samples).
        """
        span = self._span  # read once: other threads may replace it
        if span is not None and span[0].shape == stacked.shape and \
                np.array_equal(span[0], stacked):
            return span[1]
        block = self.blocks[0]
        W = stacked[:, block.weight].reshape(len(stacked), block.n_filters, -1)
        firsts = []
        for a, b in self._span_bounds():
            Z0 = W @ self.X[a:b].T  # (d + 1, h, rows)
            if block.bias:
                Z0 += stacked[:, block.bias, None]
            Y = self.Y[a:b]
            firsts.append((Z0.reshape(len(stacked), -1), np.ascontiguousarray(Y.T),
                           Y.sum(axis=1)))
        if sum(Z0.nbytes for Z0, _, _ in firsts) <= current_execution().memory_budget / 4:
            self._span = (stacked, firsts)
        return firsts

    def _span_losses(self, lead: np.ndarray, stacked: np.ndarray, firsts: SpanFirsts
                     ) -> np.ndarray:
        """Losses at ``lead @ stacked`` (``lead`` ``(c, d + 1)``: 1 and the coordinates).

        Activations are kept transposed (``(c, width, rows)``) so every layer is one
        contiguous batched matmul ``W @ A``, written into the thread's own working arrays
        (kept from chunk to chunk: fresh ones cost page faults that doubled a tiny model's
        plane; per thread, as a user's thread pool may run chunks side by side); the
        softmax cross-entropy is taken from the logits as they come, ``(c, m, rows)``.
        """
        c, model, h = len(lead), self.model, self.blocks[0].n_filters
        buffers = self._span_threads.__dict__.setdefault("buffers", {})

        def buffer(name: str, shape: tuple[int, ...]) -> np.ndarray:
            buf = buffers.get(name)
            if buf is None or buf.shape[1:] != shape[1:] or len(buf) < c:
                buf = buffers[name] = np.empty(shape, self.dtype)
            return buf[:c]

        layers = model.unflatten(np.matmul(lead, stacked, out=buffer("theta", (c, self.dim))))
        total = np.zeros(c)
        for Z0, YT, s in firsts:
            rows = YT.shape[1]
            Z = np.matmul(lead, Z0, out=buffer(f"z0 {rows}", (c, h * rows))).reshape(c, h, rows)
            for i in range(1, model.n_layers):
                W, b = layers[i]
                A = model.activations[i - 1].value(Z, Z)
                Z = np.matmul(W, A, out=buffer(f"z{i} {rows}", (c, W.shape[-2], rows)))
                if b is not None:
                    Z += b[:, :, None]
            if isinstance(model.head, SoftmaxCrossEntropy):
                total += _softmax_ce_sums(Z, YT, s)
            else:
                total += model.head.value(Z.swapaxes(-1, -2), YT.T) * rows
        values = total / self.n_samples
        if model.weight_decay:
            values = values + 0.5 * model.weight_decay * sum(
                np.einsum("kij,kij->k", W, W) for W, _ in layers)
        return values

    def in_span(self, center: np.ndarray, directions: np.ndarray, coords: np.ndarray
                ) -> np.ndarray:
        """Losses at ``center + coords @ directions``, using that layer 1 is linear in coords.

        ``X (W + sum_j c_j D_j)^T = X W^T + sum_j c_j X D_j^T``: the first layer's
        pre-activations of every point are combinations of ``d + 1`` matrices computed once
        (:meth:`_span_firsts`), so a grid costs one small matmul instead of a first layer
        per point. The chunks of points (sized by the shapes and the memory budget, never by
        the threads) are dealt to as many threads as BLAS may use.
        """
        stacked = np.concatenate([center[None], directions])  # (d + 1, n)
        firsts = self._span_firsts(stacked)
        lead = np.empty((len(coords), len(stacked)), self.dtype)
        lead[:, 0], lead[:, 1:] = 1, coords
        rows = max(b - a for a, b in self._span_bounds())
        step = self._chunk(rows, reserved=sum(Z0.nbytes for Z0, _, _ in firsts))
        starts = list(range(0, len(lead), step))
        n = min(work_threads(), len(starts))

        def run(i: int) -> list[np.ndarray]:
            return [self._span_losses(lead[s:s + step], stacked, firsts) for s in starts[i::n]]

        out = np.empty(len(coords))
        for i, parts in enumerate(map_on_blas_threads(run, range(n))):
            for s, values in zip(starts[i::n], parts):
                out[s:s + len(values)] = values
        return out


def _softmax_ce_sums(Z: np.ndarray, YT: np.ndarray, s: np.ndarray) -> np.ndarray:
    """Per point the sum over samples of softmax cross-entropy, ``(c,)``.

    From logits as columns ``Z`` ``(c, m, rows)`` (overwritten), targets ``YT``
    ``(m, rows)`` and their sums ``s`` ``(rows,)``: ``sum_i s_i lse(z_i) - Y_i . z_i``, each
    ``z_i`` less its maximum (which cancels).
    """
    Z -= Z.max(axis=1, keepdims=True)
    dot = Z.reshape(len(Z), -1) @ YT.reshape(-1)
    np.exp(Z, out=Z)
    return np.log(Z.sum(axis=1)) @ s - dot
