"""One block of an MLP objective's samples: the single-point passes over its rows.

:class:`~landscape.MLPObjective` splits its samples into blocks of consecutive rows
(:func:`block_bounds`) and sums what each :class:`SampleBlock` gives: the loss's share,
the gradient's, the Hessian-vector product's (the R-operator, Pearlmutter 1994: a forward
pass of directional derivatives ``R{z}`` and a backward pass of ``R{delta}``), products with
the network's Jacobian. Blocks are why a gradient can use two cores without a threaded BLAS
(each block's products and elementwise work run on one thread, the blocks side by side),
and why the result has the same bits whatever the number of threads: the blocks depend on
the sample count and the widths only, and their sums are taken in one order.

A block holds views of the objective's samples and its own reusable working arrays (fresh
large temporaries on every call cost page faults that can double a gradient's time), and
the passes at the last point, so many HVPs at one point (Lanczos) pay for them once.
Every derivative is of the objective's mean loss (``1/N`` with ``N`` all samples); weight
decay is the objective's, not a block's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from landscape.mlp import MLP

Layers = list[tuple[np.ndarray, np.ndarray | None]]
BLOCK_NUMBERS = 65536  # about one activation array per block in L2 cache (512 kB of float64)
MAX_BLOCKS = 8  # the most threads one objective's pass can use


def block_bounds(n_samples: int, width: int, numbers: int | None = None
                 ) -> list[tuple[int, int]]:
    """Row ranges ``[(start, stop), ...]`` of the blocks of ``n_samples`` rows.

    As many blocks as it takes to hold ``n_samples * width`` numbers (the widest layer's
    activations; for the PyTorch adapter, samples x parameters) in blocks of at most
    ``numbers`` (default ``BLOCK_NUMBERS``), but no more than ``MAX_BLOCKS``, of near-equal
    sizes: the shapes alone decide, never the thread count, so every thread count gives the
    same bits.
    """
    numbers = BLOCK_NUMBERS if numbers is None else numbers
    n = int(np.clip(-(-n_samples * width // numbers), 1, min(MAX_BLOCKS, n_samples)))
    edges = [n_samples * k // n for k in range(n + 1)]
    return list(zip(edges[:-1], edges[1:]))


class _Pass:
    """Forward (and, once asked for, backward) quantities of a block at one point."""

    def __init__(self, layers: Layers, zs: list[np.ndarray], acts: list[np.ndarray],
                 value: float, out: np.ndarray):
        self.layers, self.zs, self.acts, self.value, self.out = layers, zs, acts, value, out
        # Filled in by SampleBlock.backward (deltas, backs, d1s) and
        # _second_derivatives (d2s); None until then.
        self.deltas: Any = None
        self.backs: Any = None
        self.d1s: Any = None
        self.d2s: Any = None


class SampleBlock:
    """The rows ``rows`` (a slice) of an objective's samples ``X`` ``(N, d_in)``, ``Y``."""

    def __init__(self, model: MLP, X: np.ndarray, Y: np.ndarray, rows: slice):
        self.model, self.X, self.Y, self.rows = model, X[rows], Y[rows], rows
        self.dtype, self.n = model.dtype, self.X.shape[0]
        self.scale = 1.0 / X.shape[0]
        self.share = self.n / X.shape[0]  # of the mean loss
        self.ones = np.ones(self.n, dtype=self.dtype)
        self.current: _Pass | None = None
        self._buffers: dict[str, np.ndarray] = {}

    def _buffer(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        buf = self._buffers.get(name)
        if buf is None or buf.shape != shape:
            buf = self._buffers[name] = np.empty(shape, self.dtype)
        return buf

    def forward(self, layers: Layers) -> _Pass:
        """The forward pass at ``layers`` (views of the point), kept as :attr:`current`."""
        self.current = None  # the buffers are about to be overwritten
        zs, acts = self.model.forward(layers, self.X, self._buffer)
        value, out = self.model.head.value_and_output(zs[-1], self.Y)
        self.current = _Pass(layers, zs, acts, float(value) * self.share, out)
        return self.current

    def backward(self) -> _Pass:
        """Backpropagate: ``deltas[i]`` = d loss / d zs[i]; kept for HVPs at this point."""
        p = self.current
        assert p is not None, "forward() first"
        if p.deltas is not None:
            return p
        model, L = self.model, self.model.n_layers
        delta = model.head.grad(p.zs[-1], self.Y, p.out)
        delta *= self.scale
        p.deltas, p.backs, p.d1s = [None] * L, [None] * L, [None] * (L - 1)
        for i in reversed(range(L)):
            p.deltas[i] = delta
            if i > 0:
                back = np.matmul(delta, p.layers[i][0],
                                 out=self._buffer(f"back{i}", p.acts[i].shape))
                d1 = model.activations[i - 1].first(p.zs[i - 1], p.acts[i],
                                                    self._buffer(f"d1_{i}", back.shape))
                delta = np.multiply(back, d1, out=self._buffer(f"delta{i - 1}", back.shape))
                p.backs[i], p.d1s[i - 1] = back, d1
        return p

    def weight_gradient(self, deltas: Sequence[np.ndarray],
                        r_acts: Sequence[np.ndarray | None] | None = None) -> np.ndarray:
        """A flat gradient (or, with R-quantities, an HVP) from per-layer deltas, ``(dim,)``.

        Layer ``i`` gets ``deltas[i].T @ acts[i]`` (plus ``p.deltas[i].T @ r_acts[i]`` for
        an HVP) and bias ``sum(deltas[i])``.
        """
        p = self.current
        assert p is not None
        out = np.empty(self.model.n_params, dtype=self.dtype)
        for i, (gW, gb) in enumerate(self.model.unflatten(out)):
            np.matmul(deltas[i].T, p.acts[i], out=gW)
            if r_acts is not None and r_acts[i] is not None:
                gW += p.deltas[i].T @ r_acts[i]
            if gb is not None:
                np.matmul(self.ones, deltas[i], out=gb)  # column sums, as a GEMV
        return out

    def gradient(self) -> np.ndarray:
        """The block's share of the gradient at the current point, ``(dim,)``."""
        return self.weight_gradient(self.backward().deltas)

    def _second_derivatives(self, p: _Pass) -> list[np.ndarray | None]:
        if p.d2s is None:
            p.d2s = [None if act.second is None else
                     act.second(z, a, d1, self._buffer(f"d2_{i}", z.shape))
                     for i, (act, z, a, d1) in enumerate(
                         zip(self.model.activations, p.zs, p.acts[1:], p.d1s))]
        return p.d2s

    def tangents(self, V: Layers) -> tuple[list[np.ndarray], list[np.ndarray | None]]:
        """The forward pass of directional derivatives along ``V`` (the layers of ``v``).

        ``R{z}`` of every layer and ``R{a}`` of every layer input (``None`` for ``X``),
        into reused buffers.
        """
        p = self.backward()
        L = self.model.n_layers
        r_zs: list[Any] = [None] * L
        r_acts: list[np.ndarray | None] = [None] * L
        for i, ((W, _), (Vw, vb)) in enumerate(zip(p.layers, V)):
            r_z = np.matmul(p.acts[i], Vw.T, out=self._buffer(f"rz{i}", p.zs[i].shape))
            if r_acts[i] is not None:
                r_z += r_acts[i] @ W.T
            if vb is not None:
                r_z += vb
            r_zs[i] = r_z
            if i < L - 1:
                r_acts[i + 1] = np.multiply(p.d1s[i], r_z,
                                            out=self._buffer(f"ra{i + 1}", r_z.shape))
        return r_zs, r_acts

    def hvp(self, V: Layers) -> np.ndarray:
        """The block's share of the Hessian's product with ``v`` (its layers ``V``)."""
        model, L = self.model, self.model.n_layers
        r_zs, r_acts = self.tangents(V)
        p = self.backward()
        d2s = self._second_derivatives(p)
        r_deltas: list[Any] = [None] * L
        r_delta = model.head.hvp(p.zs[-1], self.Y, r_zs[-1], p.out)
        r_delta *= self.scale
        for i in reversed(range(L)):
            r_deltas[i] = r_delta
            if i > 0:
                W, Vw = p.layers[i][0], V[i][0]
                r_back = np.matmul(r_delta, W, out=self._buffer(f"rback{i}", p.acts[i].shape))
                r_back += p.deltas[i] @ Vw
                r_delta = np.multiply(r_back, p.d1s[i - 1],
                                      out=self._buffer(f"rdelta{i - 1}", r_back.shape))
                d2 = d2s[i - 1]
                if d2 is not None:
                    np.multiply(p.backs[i], d2, out=r_back)  # reused as scratch
                    r_back *= r_zs[i - 1]
                    r_delta += r_back
        return self.weight_gradient(r_deltas, r_acts)

    def backpropagate(self, delta: np.ndarray) -> list[np.ndarray]:
        """Per-layer deltas of an output cotangent ``delta`` ``(n, m)`` of this block.

        The backward pass through the activation derivatives, into reused buffers.
        """
        p = self.backward()
        deltas = [delta]
        for i in range(self.model.n_layers - 1, 0, -1):
            back = np.matmul(deltas[0], p.layers[i][0],
                             out=self._buffer(f"vjp{i - 1}", p.acts[i].shape))
            deltas.insert(0, np.multiply(back, p.d1s[i - 1], out=back))
        return deltas

    def per_sample(self, U: np.ndarray, out: np.ndarray) -> np.ndarray:
        """Rows ``J_i^T U_i`` into ``out`` ``(n, dim)``, or their squares summed.

        For ``out`` of shape ``(dim,)``: ``sum_i (J_i^T U_i)^2`` over the block's samples.
        """
        p = self.backward()
        square = out.ndim == 1
        for (gW, gb), delta, a in zip(self.model.unflatten(out), self.backpropagate(U),
                                      p.acts):
            if square:
                np.matmul((delta * delta).T, a * a, out=gW)
                if gb is not None:
                    np.einsum("no,no->o", delta, delta, out=gb)
            else:
                np.multiply(delta[:, :, None], a[:, None, :], out=gW)
                if gb is not None:
                    gb[...] = delta
        return out
