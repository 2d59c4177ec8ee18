"""An MLP bound to its samples: the loss, gradient, HVP and batched losses of many points.

:meth:`landscape.MLP.objective` makes an :class:`MLPObjective`; the network itself (the
layout of ``theta``, initialization, the forward pass) is :class:`landscape.MLP`.

One point: the gradient is backpropagation; the Hessian-vector product is the R-operator
(Pearlmutter 1994): a forward pass of directional derivatives ``R{z}`` followed by a
backward pass of ``R{delta}``, exact to rounding, at about the cost of two gradients.
The forward and backward passes at the last ``theta`` are cached, so many HVPs at one
point (Lanczos) pay for them once. The samples are split into blocks of rows
(:mod:`landscape.mlp_block`) whose shares are summed: two or more BLAS threads run the
blocks side by side, each with BLAS on one thread, with the bits of one thread.

The network's outputs (the logits ``z``, ``(N, m)``, the head's input): the Jacobian
``J = dz/dtheta`` is applied, never formed, forward (:meth:`MLPObjective.output_jvp`,
``J v``: the R-operator's forward pass) and backward (:meth:`MLPObjective.output_vjp`,
``J^T U``: backpropagation of ``U``); :meth:`MLPObjective.per_sample_grads` gives every
sample's gradient at once, ``(N, dim)``, and :meth:`MLPObjective.per_sample_vjp_squares`
the exact diagonal of ``sum_i J_i^T U_i U_i^T J_i``. The Gauss-Newton and Fisher
operators of :mod:`landscape.curvature` are built from these.

Many points (:meth:`MLPObjective.losses`, :meth:`MLPObjective.losses_in_span`): the
points go through the network as one batched matmul per layer, in chunks sized to the
cache and to the ``memory_budget`` of the execution settings in force
(:class:`~landscape.settings.Execution`). A span's first layer is linear in the
coordinates: its pre-activations at the center and along each direction are computed once
per (center, directions), kept for the grid's next chunks, and combined per point; the
span's samples go in blocks whose working arrays stay in cache and are reused from chunk to
chunk, and its chunks run side by side on BLAS's threads (the same bits as on one).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from landscape._checks import finite_array, index_array
from landscape.heads import SoftmaxCrossEntropy
from landscape.mlp_block import Layers, SampleBlock, block_bounds
from landscape.objective import ObjectiveBase
from landscape.parallel import map_on_blas_threads, work_threads
from landscape.settings import current_execution
from landscape.vocabulary import Theta

if TYPE_CHECKING:
    from landscape.mlp import MLP

CHUNK_BYTES = 4e6  # working set of one batched chunk in losses(): about the L2/L3 cache
SPAN_BLOCK = 2048  # the fewest rows in a block of samples of losses_in_span

# The first layer's products for a span and its blocks' targets: per block of samples,
# (center and directions' pre-activations (d + 1, h * rows), targets (m, rows), row sums).
SpanFirsts = list[tuple[np.ndarray, np.ndarray, np.ndarray]]


class MLPObjective(ObjectiveBase):
    """An MLP's mean loss over fixed samples, as an Objective of ``theta`` (``(n_params,)``).

    Attributes: ``model``, ``X`` ``(N, d_in)``, ``Y`` ``(N, d_out)`` targets, ``n_samples``,
    ``dim``, ``blocks`` (layer structure for filter normalization).

    The samples are split into blocks of rows (:mod:`landscape.mlp_block`, by the shapes
    alone) whose shares are summed in one order: with BLAS allowed ``n`` threads the
    blocks run side by side on ``n`` threads (:func:`~landscape.parallel.map_on_blas_threads`),
    with the same bits as on one. Working arrays are allocated once per objective and
    reused; only the returned gradients and HVPs are new arrays. An objective is therefore
    not safe to share between threads; processes each get their own copy.
    """

    def __init__(self, model: MLP, X: np.ndarray, Y: np.ndarray):
        self.model, self.X, self.Y = model, X, Y
        self.dim, self.dtype, self.blocks = model.n_params, model.dtype, model.blocks
        self.n_samples = X.shape[0]
        self._split()

    def _split(self) -> None:
        """The blocks of samples, with nothing computed yet."""
        bounds = block_bounds(self.n_samples, max(self.model.sizes[1:]))
        self._samples = [SampleBlock(self.model, self.X, self.Y, slice(a, b))
                         for a, b in bounds]
        self._point: tuple[np.ndarray, Layers] | None = None  # where the blocks' passes are
        self._span: tuple[np.ndarray, SpanFirsts] | None = None  # see _span_firsts
        self._span_threads = threading.local()  # each thread's working arrays of a span

    def _describe(self) -> dict[str, Any]:
        model = self.model
        return {"sizes": model.sizes, "activation": ",".join(a.name for a in model.activations),
                "output": model.output, "loss": model.loss}

    def __getstate__(self) -> dict[str, Any]:  # the data once, not the blocks' views
        return {k: v for k, v in self.__dict__.items()
                if k not in ("_samples", "_point", "_span", "_span_threads")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._split()

    def subset(self, indices: ArrayLike) -> MLPObjective:
        """The mean loss over the samples ``indices`` (a minibatch)."""
        idx = index_array(indices, self.n_samples)
        return MLPObjective(self.model, self.X[idx], self.Y[idx])

    def accuracy(self, theta: Theta) -> float:
        """Training accuracy of ``theta`` on this objective's samples."""
        return self.model.accuracy(theta, self.X, self.Y)

    # -- one point: loss, gradient, HVP -----------------------------------------------------
    def _each(self, fn: Callable[[SampleBlock], Any]) -> list[Any]:
        return map_on_blas_threads(fn, self._samples)

    def _sum(self, fn: Callable[[SampleBlock], np.ndarray]) -> np.ndarray:
        """The blocks' shares ``fn(block)`` summed in the blocks' order."""
        parts = self._each(fn)
        total = parts[0]
        for part in parts[1:]:
            total += part
        return total

    def _layers_at(self, theta: np.ndarray) -> Layers:
        """The point's layers, with every block's forward pass there (kept for reuse)."""
        if self._point is not None and np.array_equal(self._point[0], theta):
            return self._point[1]
        self._point = None
        theta = theta.copy()
        layers = self.model.unflatten(theta)
        self._each(lambda block: block.forward(layers))
        self._point = (theta, layers)
        return layers

    def _decay(self, W_list: Iterable[np.ndarray]) -> float:
        wd = self.model.weight_decay
        return 0.5 * wd * sum(float(np.vdot(W, W)) for W in W_list) if wd else 0.0

    def _with_decay(self, out: np.ndarray, layers: Layers) -> np.ndarray:
        """``out + weight_decay * W`` on every weight block (``layers``: of theta or v)."""
        if self.model.weight_decay:
            for (gW, _), (W, _) in zip(self.model.unflatten(out), layers):
                gW += self.model.weight_decay * W
        return out

    def _value(self, layers: Layers) -> float:
        """The loss at the point of the blocks' passes, whose ``layers`` are given."""
        value = 0.0
        for block in self._samples:
            assert block.current is not None
            value += block.current.value
        return value + self._decay(W for W, _ in layers)

    def _loss(self, theta: np.ndarray) -> float:
        return self._value(self._layers_at(theta))

    def _loss_and_grad(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        layers = self._layers_at(theta)
        return self._value(layers), self._with_decay(self._sum(SampleBlock.gradient), layers)

    def _hvp(self, theta: np.ndarray, v: np.ndarray) -> np.ndarray:
        """The R-operator: forward ``R{z}``, backward ``R{delta}`` (Pearlmutter 1994)."""
        self._layers_at(theta)
        V = self.model.unflatten(v)
        return self._with_decay(self._sum(lambda block: block.hvp(V)), V)

    # -- the network's outputs: Jacobian products, per-sample gradients -------------------
    def _rows(self, theta: ArrayLike, fn: Callable[[SampleBlock], np.ndarray]) -> np.ndarray:
        """``fn(block)`` of every block at ``theta``, stacked by rows (samples)."""
        self._layers_at(self._theta(theta))
        return np.concatenate(self._each(fn))

    def _cotangent(self, U: ArrayLike) -> np.ndarray:
        shape = (self.n_samples, self.model.sizes[-1])
        U = finite_array(U, "U", self.dtype, ndim=2)
        if U.shape != shape:
            raise ValueError(f"U must have shape {shape} (samples, outputs), got {U.shape}")
        return U

    def logits(self, theta: Theta) -> np.ndarray:
        """The last layer's pre-activations ``z`` (the head's input), shape ``(N, m)``."""
        return self._rows(theta, lambda block: block.backward().zs[-1])

    def output_jvp(self, theta: Theta, v: Theta) -> np.ndarray:
        """``J v``: the logits' derivative along ``v`` (``(dim,)``), shape ``(N, m)``.

        ``J`` ``(N m, dim)`` is the Jacobian of :meth:`logits` (a forward pass of
        directional derivatives, no finite differences).
        """
        V = self.model.unflatten(self._theta(v, "v"))
        return self._rows(theta, lambda block: block.tangents(V)[0][-1])

    def output_vjp(self, theta: Theta, U: ArrayLike) -> np.ndarray:
        """``J^T U = sum_i J_i^T U_i`` for an output cotangent ``U`` ``(N, m)``, ``(dim,)``.

        A backward pass; no weight decay, no ``1/N``.
        """
        self._layers_at(self._theta(theta))
        U = self._cotangent(U)
        return self._sum(lambda block: block.weight_gradient(block.backpropagate(U[block.rows])))

    def per_sample_vjp_squares(self, theta: Theta, U: ArrayLike) -> np.ndarray:
        """``sum_i (J_i^T U_i)^2`` entrywise, shape ``(dim,)``.

        The exact diagonal of ``sum_i J_i^T U_i U_i^T J_i`` at the cost of one backward pass.
        """
        self._layers_at(self._theta(theta))
        U = self._cotangent(U)
        return self._sum(lambda block: block.per_sample(U[block.rows],
                                                        np.empty(self.dim, self.dtype)))

    def per_sample_grads(self, theta: Theta) -> np.ndarray:
        """The gradient of each sample's loss, shape ``(N, dim)``.

        Batched: one backward pass of all samples, no loop. Weight decay is left out, so the
        rows average to :meth:`grad` when ``weight_decay = 0`` (add ``weight_decay * W``
        otherwise). Holds ``N dim`` numbers: use :meth:`subset` for a part of the samples.
        """
        def grads(block: SampleBlock) -> np.ndarray:
            p = block.backward()
            U = self.model.head.grad(p.zs[-1], block.Y, p.out)
            return block.per_sample(U, np.empty((block.n, self.dim), self.dtype))

        return self._rows(theta, grads)

    # -- many points --------------------------------------------------------------------------
    def _chunk(self, reserved: float = 0.0) -> int:
        """Points per chunk, so that the batched activations fit in memory and in cache.

        In the memory budget in force (:func:`~landscape.settings.current_execution`) and
        in cache.

        ``reserved`` bytes (arrays held for the whole call) come off the budget. Chunks
        whose working set stays within ``CHUNK_BYTES`` (about the L2/L3 cache) ran fastest:
        on 2-16-16-1 with 200 samples a 4 MB chunk took 21 us a point against 39 us for one
        256 MB chunk; larger chunks only stream memory.
        """
        per_point = 3 * self.n_samples * max(self.model.sizes[1:]) * self.dtype.itemsize
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

    def _losses(self, thetas: np.ndarray) -> np.ndarray:
        """Chunks of points side by side on the caller's threads (one BLAS thread each)."""
        step, (block, fan_in) = self._chunk(), (self.blocks[0], self.model.sizes[0])

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

    def _losses_in_span(self, center: np.ndarray, directions: np.ndarray, coords: np.ndarray
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
        per_point = 3 * rows * max(self.model.sizes[1:]) * self.dtype.itemsize
        held = sum(Z0.nbytes for Z0, _, _ in firsts)
        step = max(1, int(min(current_execution().memory_budget - held, CHUNK_BYTES)
                          // per_point))
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
