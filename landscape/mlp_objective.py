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

Many points (:meth:`MLPObjective.losses`, :meth:`MLPObjective.losses_in_span`): batched
passes, in :mod:`landscape.mlp_points`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

import numpy as np
from numpy.typing import ArrayLike

from landscape._checks import finite_array, index_array
from landscape.mlp_block import Layers, SampleBlock, block_bounds
from landscape.mlp_points import BatchedLosses
from landscape.objective import ObjectiveBase
from landscape.parallel import map_on_blas_threads
from landscape.vocabulary import Theta

if TYPE_CHECKING:
    from landscape.mlp import MLP

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
        self._batched = BatchedLosses(self.model, self.X, self.Y)

    def _describe(self) -> dict[str, Any]:
        model = self.model
        return {"sizes": model.sizes, "activation": ",".join(a.name for a in model.activations),
                "output": model.output, "loss": model.loss}

    def __getstate__(self) -> dict[str, Any]:  # the data once, not the blocks' views
        return {k: v for k, v in self.__dict__.items()
                if k not in ("_samples", "_point", "_batched")}

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

    @staticmethod
    def _sum(parts: list[np.ndarray]) -> np.ndarray:
        """The blocks' shares summed in the blocks' order (into the first)."""
        total = parts[0]
        for part in parts[1:]:
            total += part
        return total

    def _is_current(self, theta: np.ndarray) -> bool:
        """Whether the blocks' passes are at ``theta``."""
        return self._point is not None and np.array_equal(self._point[0], theta)

    def _at(self, theta: np.ndarray, fn: Callable[[SampleBlock], Any]) -> list[Any]:
        """``fn(block)`` of every block at the point ``theta``, in the blocks' order.

        At a new point each block's forward pass runs first, in the same task as ``fn``
        (the threads meet once, not twice), and is kept for reuse with its layers.
        """
        if self._is_current(theta):
            return self._each(fn)
        self._point = None
        theta = theta.copy()
        layers = self.model.unflatten(theta)

        def forward_then(block: SampleBlock) -> Any:
            block.forward(layers)
            return fn(block)

        parts = self._each(forward_then)
        self._point = (theta, layers)
        return parts

    def _layers_at(self, theta: np.ndarray) -> Layers:
        """The point's layers, with every block's forward pass there (kept for reuse)."""
        if not self._is_current(theta):
            self._at(theta, lambda block: None)
        assert self._point is not None
        return self._point[1]

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
        gradient = self._sum(self._at(theta, SampleBlock.gradient))
        layers = self._layers_at(theta)  # kept by _at
        return self._value(layers), self._with_decay(gradient, layers)

    def _hvp(self, theta: np.ndarray, v: np.ndarray) -> np.ndarray:
        """The R-operator: forward ``R{z}``, backward ``R{delta}`` (Pearlmutter 1994)."""
        V = self.model.unflatten(v)
        return self._with_decay(self._sum(self._at(theta, lambda block: block.hvp(V))), V)

    # -- the network's outputs: Jacobian products, per-sample gradients -------------------
    def _rows(self, theta: ArrayLike, fn: Callable[[SampleBlock], np.ndarray]) -> np.ndarray:
        """``fn(block)`` of every block at ``theta``, stacked by rows (samples)."""
        return np.concatenate(self._at(self._theta(theta), fn))

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
        U = self._cotangent(U)
        return self._sum(self._at(self._theta(theta), lambda block: block.weight_gradient(
            block.backpropagate(U[block.rows]))))

    def per_sample_vjp_squares(self, theta: Theta, U: ArrayLike) -> np.ndarray:
        """``sum_i (J_i^T U_i)^2`` entrywise, shape ``(dim,)``.

        The exact diagonal of ``sum_i J_i^T U_i U_i^T J_i`` at the cost of one backward pass.
        """
        U = self._cotangent(U)
        return self._sum(self._at(self._theta(theta), lambda block: block.per_sample(
            U[block.rows], np.empty(self.dim, self.dtype))))

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

    # -- many points: batched passes (landscape.mlp_points) --------------------------------
    def _losses(self, thetas: np.ndarray) -> np.ndarray:
        return self._batched.losses(thetas)

    def _losses_in_span(self, center: np.ndarray, directions: np.ndarray, coords: np.ndarray
                        ) -> np.ndarray:
        return self._batched.in_span(center, directions, coords)
