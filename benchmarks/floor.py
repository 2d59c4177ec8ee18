"""The machine's own limit: just the matrix products a computation needs, and BLAS peak.

For each computation of the engine (loss, gradient, HVP, a plane) :func:`products` lists
the matrix products it cannot avoid, with the engine's shapes and memory layouts
(``z = a @ W.T`` reads ``W`` transposed without a copy), on preallocated operands and
outputs. Timing them alone gives the physical floor of that workload on this machine's
BLAS: whatever the engine spends above it goes to elementwise work, temporaries and Python.
"""

from __future__ import annotations

import numpy as np


class Products:
    """A fixed list of matrix products ``out = a @ b`` on preallocated arrays.

    ``scale`` multiplies the time and flops of one call (a plane's chunk stands for the
    whole grid).
    """

    def __init__(self, operands, scale: float = 1.0):
        self.operands = operands
        self.scale = scale

    def __call__(self):
        for a, b, out in self.operands:
            np.matmul(a, b, out=out)

    @property
    def flops(self) -> float:
        """Floating-point operations of one call times ``scale`` (``2 m k n`` per product)."""
        return self.scale * sum(2.0 * out.size * a.shape[-1] for a, _, out in self.operands)


class _Arrays:
    """Operands of one dtype, seeded; weights scaled by ``1/sqrt(fan_in)`` so chained
    products stay of order one (no overflow, no subnormal numbers)."""

    def __init__(self, dtype):
        self.dtype, self.rng = np.dtype(dtype), np.random.default_rng(0)

    def data(self, *shape) -> np.ndarray:
        return self.rng.standard_normal(shape).astype(self.dtype)

    def weight(self, *shape) -> np.ndarray:
        return (self.rng.standard_normal(shape) / np.sqrt(shape[-1])).astype(self.dtype)

    def buffer(self, *shape) -> np.ndarray:
        """An output, filled with data so that a product reading it before it is written
        (the cached passes of 'hvp at a point') reads ordinary numbers."""
        return self.data(*shape)


def products(sizes, n_samples: int, kind: str, dtype) -> Products:
    """The products of one ``kind`` of call: 'loss', 'gradient', 'hvp' (from scratch) or
    'hvp at a point' (the forward and backward passes cached, as for Lanczos).

    They are chained as the engine's data flow (a layer's output is the next one's input),
    with every elementwise step left out, so the working set is no larger than the
    engine's: forward ``Z_i = A_i @ W_i.T``; backward ``delta_i.T @ A_i`` (the weight
    gradient) and ``delta_i @ W_i`` (the next delta); the R-operator has two products per
    forward step and four per backward step below the first layer. An HVP needs the
    deltas of the backward pass but not the weight gradients.
    """
    new, N = _Arrays(dtype), n_samples
    layers = list(zip(sizes[:-1], sizes[1:]))
    W = [new.weight(fan_out, fan_in) for fan_in, fan_out in layers]
    V = [new.weight(fan_out, fan_in) for fan_in, fan_out in layers]
    acts = [new.data(N, sizes[0])] + [new.buffer(N, fan_out) for _, fan_out in layers]
    ops = [(acts[i], W[i].T, acts[i + 1]) for i in range(len(layers))]
    if kind == "loss":
        return Products(ops)
    deltas = [new.buffer(N, fan_out) for _, fan_out in layers]
    deltas[-1] = acts[-1]  # the head's gradient, in place of the logits

    def backward(delta, weights, extra, weight_grads=True):
        """Weight gradients and deltas down the layers; ``extra`` adds the R-terms."""
        out = []
        for i in reversed(range(len(layers))):
            if weight_grads:
                out.append((delta[i].T, acts[i], new.buffer(*W[i].shape)))
            if i > 0:
                out += [(deltas[i].T, delta[i - 1], new.buffer(*W[i].shape))] * extra
                out.append((delta[i], weights[i], delta[i - 1]))
                out += [(deltas[i], V[i], new.buffer(N, layers[i][0]))] * extra
        return out

    if kind == "gradient":
        return Products(ops + backward(deltas, W, extra=0))
    ops = ops + backward(deltas, W, extra=0, weight_grads=False) if kind == "hvp" else []
    r_acts = [new.buffer(N, fan_out) for _, fan_out in layers]
    for i in range(len(layers)):
        ops.append((acts[i], V[i].T, r_acts[i]))
        if i > 0:
            ops.append((r_acts[i - 1], W[i].T, new.buffer(N, layers[i][1])))
    return Products(ops + backward(r_acts, W, extra=1))


def plane_products(sizes, n_samples: int, n_points: int, dtype, max_bytes=32e6) -> Products:
    """The products of a plane of ``n_points`` points when layer 1 is linear in the
    coordinates: per point, ``(a, b) @ (X D_1^T, X D_2^T)`` for the first pre-activations
    and ``W_i @ A`` for every later layer, batched over a chunk of points (at most
    ``max_bytes`` per activation array), chained, and scaled to the grid."""
    new, N, width = _Arrays(dtype), n_samples, max(sizes[1:])
    chunk = int(max(1, min(n_points, max_bytes // (width * N * np.dtype(dtype).itemsize))))
    a = new.buffer(chunk, sizes[1] * N)
    ops = [(new.data(chunk, 2), new.data(2, sizes[1] * N), a)]
    a = a.reshape(chunk, sizes[1], N)
    for fan_in, fan_out in zip(sizes[1:-1], sizes[2:]):
        out = new.buffer(chunk, fan_out, N)
        ops.append((new.weight(chunk, fan_out, fan_in), a, out))
        a = out
    return Products(ops, scale=n_points / chunk)


def peak(dtype, size: int = 2048) -> Products:
    """A ``size x size`` matrix product: the machine's practical BLAS peak."""
    new = _Arrays(dtype)
    return Products([(new.data(size, size), new.data(size, size), new.buffer(size, size))])
