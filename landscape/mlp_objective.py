"""An MLP bound to its samples: the loss, gradient, HVP and batched losses of many points.

:meth:`landscape.MLP.objective` makes an :class:`MLPObjective`; the network itself (the
layout of ``theta``, initialization, the forward pass) is :class:`landscape.MLP`.

One point: the gradient is backpropagation; the Hessian-vector product is the R-operator
(Pearlmutter 1994): a forward pass of directional derivatives ``R{z}`` followed by a
backward pass of ``R{delta}``, exact to rounding, at about the cost of two gradients.
The forward and backward passes at the last ``theta`` are cached, so many HVPs at one
point (Lanczos) pay for them once.

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
(:class:`~landscape.settings.Execution`); a span reuses the first layer's pre-activations,
which are linear in the coordinates.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from landscape._checks import finite_array, index_array
from landscape.objective import ObjectiveBase
from landscape.settings import current_execution
from landscape.vocabulary import Theta

if TYPE_CHECKING:
    from landscape.mlp import MLP

CHUNK_BYTES = 4e6  # working set of one batched chunk in losses(): about the L2/L3 cache


class _Pass:
    """Forward (and, once asked for, backward) quantities at one ``theta``."""

    def __init__(self, theta: np.ndarray, layers: list[tuple[np.ndarray, np.ndarray | None]],
                 zs: list[np.ndarray], acts: list[np.ndarray], loss: float, out: np.ndarray):
        self.theta, self.layers, self.zs, self.acts, self.loss = theta, layers, zs, acts, loss
        self.out = out  # the head's outputs (probabilities), reused by grad and hvp
        # Lists filled in by MLPObjective._backward (deltas, backs, d1s) and
        # _second_derivatives (d2s); None until then.
        self.deltas: Any = None
        self.backs: Any = None
        self.d1s: Any = None
        self.d2s: Any = None


class MLPObjective(ObjectiveBase):
    """An MLP's mean loss over fixed samples, as an Objective of ``theta`` (``(n_params,)``).

    Attributes: ``model``, ``X`` ``(N, d_in)``, ``Y`` ``(N, d_out)`` targets, ``n_samples``,
    ``dim``, ``blocks`` (layer structure for filter normalization).

    Working arrays of the single-point passes are allocated once per objective and reused
    (fresh large temporaries on every call cost page faults that can double a gradient's
    time); only the returned gradients and HVPs are new arrays. An objective is therefore
    not safe to share between threads; processes each get their own copy.
    """

    def __init__(self, model: MLP, X: np.ndarray, Y: np.ndarray):
        self.model, self.X, self.Y = model, X, Y
        self.dim, self.dtype, self.blocks = model.n_params, model.dtype, model.blocks
        self.n_samples = X.shape[0]
        self._cache: _Pass | None = None
        self._buffers: dict[str, np.ndarray] = {}
        self._ones = np.ones(self.n_samples, dtype=self.dtype)

    def _describe(self) -> dict[str, Any]:
        model = self.model
        return {"sizes": model.sizes, "activation": ",".join(a.name for a in model.activations),
                "output": model.output, "loss": model.loss}

    def __getstate__(self) -> dict[str, Any]:  # pickle the data, not the caches
        return {**self.__dict__, "_cache": None, "_buffers": {}}

    def subset(self, indices: ArrayLike) -> MLPObjective:
        """The mean loss over the samples ``indices`` (a minibatch)."""
        idx = index_array(indices, self.n_samples)
        return MLPObjective(self.model, self.X[idx], self.Y[idx])

    def accuracy(self, theta: Theta) -> float:
        """Training accuracy of ``theta`` on this objective's samples."""
        return self.model.accuracy(theta, self.X, self.Y)

    def _buffer(self, name: str, shape: tuple[int, ...]) -> np.ndarray:
        buf = self._buffers.get(name)
        if buf is None or buf.shape != shape:
            buf = self._buffers[name] = np.empty(shape, self.dtype)
        return buf

    # -- one point: loss, gradient, HVP -----------------------------------------------------
    def _decay(self, W_list: Iterable[np.ndarray]) -> float:
        wd = self.model.weight_decay
        return 0.5 * wd * sum(float(np.vdot(W, W)) for W in W_list) if wd else 0.0

    def _pass(self, theta: np.ndarray) -> _Pass:
        c = self._cache
        if c is not None and np.array_equal(c.theta, theta):
            return c
        self._cache = None  # the buffers are about to be overwritten
        theta = theta.copy()
        layers = self.model.unflatten(theta)
        zs, acts = self.model.forward(layers, self.X, self._buffer)
        value, out = self.model.head.value_and_output(zs[-1], self.Y)
        loss = float(value) + self._decay(W for W, _ in layers)
        self._cache = _Pass(theta, layers, zs, acts, loss, out)
        return self._cache

    def _loss(self, theta: np.ndarray) -> float:
        return self._pass(theta).loss

    def _backward(self, p: _Pass) -> None:
        """Backpropagate: ``deltas[i]`` = d loss / d zs[i]; cached for HVPs at this theta."""
        if p.deltas is not None:
            return
        model, L = self.model, self.model.n_layers
        delta = model.head.grad(p.zs[-1], self.Y, p.out)
        delta *= 1.0 / self.n_samples
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

    def _weight_gradient(self, p: _Pass, deltas: Sequence[np.ndarray],
                         r_acts: Sequence[np.ndarray | None] | None = None,
                         V: Sequence[tuple[np.ndarray, np.ndarray | None]] | None = None,
                         decay: bool = True) -> np.ndarray:
        """Assemble a flat gradient (or, with R-quantities, an HVP) from per-layer deltas.

        Layer ``i`` gets ``deltas[i].T @ acts[i]`` (plus ``p.deltas[i].T @ r_acts[i]`` and
        weight decay on ``V`` for an HVP) and bias ``sum(deltas[i])``; ``decay=False``
        leaves the weight decay out (a product with the network's Jacobian alone).
        """
        model = self.model
        out = np.empty(self.dim, dtype=self.dtype)
        for i, (gW, gb) in enumerate(model.unflatten(out)):
            np.matmul(deltas[i].T, p.acts[i], out=gW)
            if r_acts is not None and r_acts[i] is not None:
                gW += p.deltas[i].T @ r_acts[i]
            if model.weight_decay and decay:
                gW += model.weight_decay * (p.layers[i][0] if V is None else V[i][0])
            if gb is not None:
                np.matmul(self._ones, deltas[i], out=gb)  # column sums, as a GEMV
        return out

    def _loss_and_grad(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        p = self._pass(theta)
        self._backward(p)
        return p.loss, self._weight_gradient(p, p.deltas)

    def _second_derivatives(self, p: _Pass) -> list[np.ndarray | None]:
        if p.d2s is None:
            p.d2s = [None if act.second is None else
                     act.second(z, a, d1, self._buffer(f"d2_{i}", z.shape))
                     for i, (act, z, a, d1) in enumerate(
                         zip(self.model.activations, p.zs, p.acts[1:], p.d1s))]
        return p.d2s

    def _tangents(self, p: _Pass, V: Sequence[tuple[np.ndarray, np.ndarray | None]]
                  ) -> tuple[list[np.ndarray], list[np.ndarray | None]]:
        """The forward pass of directional derivatives along ``V`` (the layers of ``v``).

        ``R{z}`` of every layer and ``R{a}`` of every layer input (``None`` for ``X``).
        Needs ``p.d1s`` (:meth:`_backward`); the arrays are reused buffers.
        """
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

    def _hvp(self, theta: np.ndarray, v: np.ndarray) -> np.ndarray:
        """The R-operator: forward ``R{z}``, backward ``R{delta}`` (Pearlmutter 1994)."""
        model, L = self.model, self.model.n_layers
        p = self._pass(theta)
        self._backward(p)
        d2s = self._second_derivatives(p)
        V = model.unflatten(v)
        r_zs, r_acts = self._tangents(p, V)
        r_deltas: list[Any] = [None] * L
        r_delta = model.head.hvp(p.zs[-1], self.Y, r_zs[-1], p.out)
        r_delta *= 1.0 / self.n_samples
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
        return self._weight_gradient(p, r_deltas, r_acts, V)

    # -- the network's outputs: Jacobian products, per-sample gradients -------------------
    def _backpropagate(self, p: _Pass, delta: np.ndarray) -> list[np.ndarray]:
        """Per-layer deltas of an output cotangent ``delta`` ``(N, m)``.

        The backward pass through the activation derivatives ``p.d1s``, into reused
        buffers (fresh ones of this size cost page faults on every product).
        """
        deltas = [delta]
        for i in range(self.model.n_layers - 1, 0, -1):
            back = np.matmul(deltas[0], p.layers[i][0],
                             out=self._buffer(f"vjp{i - 1}", p.acts[i].shape))
            deltas.insert(0, np.multiply(back, p.d1s[i - 1], out=back))
        return deltas

    def _at(self, theta: ArrayLike) -> _Pass:
        p = self._pass(self._theta(theta))
        self._backward(p)
        return p

    def _cotangent(self, U: ArrayLike) -> np.ndarray:
        shape = (self.n_samples, self.model.sizes[-1])
        U = finite_array(U, "U", self.dtype, ndim=2)
        if U.shape != shape:
            raise ValueError(f"U must have shape {shape} (samples, outputs), got {U.shape}")
        return U

    def logits(self, theta: Theta) -> np.ndarray:
        """The last layer's pre-activations ``z`` (the head's input), shape ``(N, m)``."""
        return self._at(theta).zs[-1].copy()

    def output_jvp(self, theta: Theta, v: Theta) -> np.ndarray:
        """``J v``: the logits' derivative along ``v`` (``(dim,)``), shape ``(N, m)``.

        ``J`` ``(N m, dim)`` is the Jacobian of :meth:`logits` (a forward pass of
        directional derivatives, no finite differences).
        """
        p = self._at(theta)
        return self._tangents(p, self.model.unflatten(self._theta(v, "v")))[0][-1].copy()

    def output_vjp(self, theta: Theta, U: ArrayLike) -> np.ndarray:
        """``J^T U = sum_i J_i^T U_i`` for an output cotangent ``U`` ``(N, m)``, ``(dim,)``.

        A backward pass; no weight decay, no ``1/N``.
        """
        p = self._at(theta)
        return self._weight_gradient(p, self._backpropagate(p, self._cotangent(U)),
                                     decay=False)

    def _per_sample(self, p: _Pass, U: np.ndarray, square: bool) -> np.ndarray:
        """Rows ``J_i^T U_i`` ``(N, dim)``, or (``square``) ``sum_i (J_i^T U_i)^2``."""
        deltas = self._backpropagate(p, U)
        out = np.empty(self.dim if square else (self.n_samples, self.dim), self.dtype)
        for (gW, gb), delta, a in zip(self.model.unflatten(out), deltas, p.acts):
            if square:
                np.matmul((delta * delta).T, a * a, out=gW)
                if gb is not None:
                    np.einsum("no,no->o", delta, delta, out=gb)
            else:
                np.multiply(delta[:, :, None], a[:, None, :], out=gW)
                if gb is not None:
                    gb[...] = delta
        return out

    def per_sample_vjp_squares(self, theta: Theta, U: ArrayLike) -> np.ndarray:
        """``sum_i (J_i^T U_i)^2`` entrywise, shape ``(dim,)``.

        The exact diagonal of ``sum_i J_i^T U_i U_i^T J_i`` at the cost of one backward pass.
        """
        return self._per_sample(self._at(theta), self._cotangent(U), square=True)

    def per_sample_grads(self, theta: Theta) -> np.ndarray:
        """The gradient of each sample's loss, shape ``(N, dim)``.

        Batched: one backward pass of all samples, no loop. Weight decay is left out, so the
        rows average to :meth:`grad` when ``weight_decay = 0`` (add ``weight_decay * W``
        otherwise). Holds ``N dim`` numbers: use :meth:`subset` for a part of the samples.
        """
        p = self._at(theta)
        return self._per_sample(p, self.model.head.grad(p.zs[-1], self.Y, p.out), square=False)

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
        out = np.empty(thetas.shape[0])
        step, (block, fan_in) = self._chunk(), (self.blocks[0], self.model.sizes[0])
        for s in range(0, thetas.shape[0], step):
            t = thetas[s:s + step]
            W1 = t[:, block.weight].reshape(-1, fan_in)
            Z = (W1 @ self.X.T).reshape(t.shape[0], block.n_filters, self.n_samples)
            if block.bias:
                Z += t[:, block.bias, None]
            out[s:s + step] = self._losses_from_first(Z, t)
        return out

    def _losses_in_span(self, center: np.ndarray, directions: np.ndarray, coords: np.ndarray
                        ) -> np.ndarray:
        """Losses at ``center + coords @ directions``, using that layer 1 is linear in coords.

        ``X (W + sum_j c_j D_j)^T = X W^T + sum_j c_j X D_j^T``: the first layer's
        pre-activations of every point are combinations of ``d + 1`` precomputed
        matrices, so a grid costs one small matmul instead of a first layer per point.
        """
        block, h, N = self.blocks[0], self.blocks[0].n_filters, self.n_samples
        stacked = np.concatenate([center[None], directions])  # (d + 1, n)
        W = stacked[:, block.weight].reshape(-1, self.model.sizes[0])
        Z0 = (W @ self.X.T).reshape(len(stacked), h, N)
        if block.bias:
            Z0 += stacked[:, block.bias, None]
        out = np.empty(coords.shape[0])
        step = self._chunk(reserved=Z0.nbytes)
        for s in range(0, coords.shape[0], step):
            c = coords[s:s + step]
            Z = (c @ Z0[1:].reshape(len(directions), h * N)).reshape(len(c), h, N)
            Z += Z0[0]
            out[s:s + len(c)] = self._losses_from_first(Z, center + c @ directions)
        return out
