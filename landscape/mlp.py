"""A fully connected network on one flat parameter vector: its layout, initialization, forward pass.

Layout of ``theta`` (shape ``(n_params,)``): for each layer in order, the weight matrix
``W`` of shape ``(out, in)`` row-major (PyTorch's convention: row ``j`` holds neuron
``j``'s incoming weights), then its bias ``b`` of shape ``(out,)`` when the layer has one.
A layer computes ``z = a @ W.T + b``.

:meth:`MLP.objective` binds the network to samples as an :class:`MLPObjective` (its
derivatives and batched losses are in :mod:`landscape.mlp_objective`; the class is
importable from here too).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, Literal, TypeAlias, get_args

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from landscape._checks import as_rng, choice, finite_array, integer, real_in, theta_vector
from landscape.activations import ActivationName, get_activation
from landscape.heads import LOSSES, OUTPUTS, LossName, OutputName, make_head
from landscape.mlp_objective import MLPObjective
from landscape.objective import ParameterBlock
from landscape.vocabulary import RngLike, Theta

__all__ = ["MLP", "MLPObjective"]

#: How :meth:`MLP.init` draws the weights.
InitScheme: TypeAlias = Literal["glorot", "glorot_uniform", "he", "lecun", "normal"]
INIT_SCHEMES: tuple[InitScheme, ...] = get_args(InitScheme)


def _per_layer(value: Any, n: int, name: str) -> list[Any]:
    """``value`` for each of ``n`` layers: one setting repeated, or a list of ``n``."""
    if isinstance(value, (str, bytes)) or not isinstance(value, Iterable):
        return [value] * n
    values = list(value)
    if len(values) != n:
        raise ValueError(f"{name} needs {n} entries (one per layer), got {len(values)}")
    return values


def _flag(value: object, name: str) -> bool:
    """``value`` if it is a bool (Python or NumPy); a ValueError otherwise.

    ``'no'`` is not False, and 0 or None say nothing clear.
    """
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def _float_dtype(dtype: DTypeLike) -> np.dtype:
    try:
        dtype = np.dtype(dtype)
    except TypeError:
        raise ValueError(f"dtype must be float64 or float32, got {dtype!r}") from None
    if dtype not in (np.float64, np.float32):
        raise ValueError(f"dtype must be float64 or float32, got {dtype}")
    return dtype


class MLP:
    """A dense feed-forward network.

    Parameters
    ----------
    sizes : sequence of int, ``[d_in, h_1, ..., d_out]``.
    activation : name or one name per hidden layer: 'sigmoid', 'tanh', 'relu',
        'softplus', 'linear' or 'step'.
    output : 'linear', 'sigmoid' or 'softmax'.
    loss : 'mse' (mean over samples and outputs), 'mae' (mean absolute error, likewise; its
        gradient is the sign of the residual and its second derivative zero off the kink,
        so Hessian-vector products see no curvature from it: see
        :class:`~landscape.heads.AbsoluteError`) or 'cross_entropy'.
    bias : bool, or one bool per layer (e.g. ``[True, False]`` for an output layer
        without bias).
    half_mse : multiply the MSE by 1/2.
    weight_decay : L2 penalty ``weight_decay / 2 * sum ||W||^2`` on the weights (not biases).
    dtype : float64 (default) or float32.

    Examples
    --------
    >>> model = MLP([64, 32, 10], activation="sigmoid", output="softmax", loss="cross_entropy")
    >>> theta = model.init(rng=0)
    """

    def __init__(self, sizes: Sequence[int],
                 activation: ActivationName | Sequence[ActivationName] = "tanh",
                 output: OutputName = "linear", loss: LossName = "mse",
                 bias: bool | Sequence[bool] = True, half_mse: bool = False,
                 weight_decay: float = 0.0, dtype: DTypeLike = np.float64):
        if isinstance(sizes, (str, bytes)) or not isinstance(sizes, Iterable):
            raise ValueError("sizes must be a sequence of layer widths [d_in, h_1, ..., d_out], "
                             f"got {sizes!r}")
        sizes = list(sizes)
        if len(sizes) < 2:
            raise ValueError(f"sizes must be at least two positive integers, got {sizes}")
        self.sizes = [integer(s, f"sizes[{i}]", 1) for i, s in enumerate(sizes)]
        n_layers = len(sizes) - 1
        self.activations = [get_activation(a) for a in _per_layer(activation, n_layers - 1,
                                                                  "activation")]
        self.output = choice(output, OUTPUTS, "output")
        self.loss = choice(loss, LOSSES, "loss")
        self.head = make_head(self.output, self.loss, self.sizes[-1], half_mse)
        biases = _per_layer(bias, n_layers, "bias")
        self.bias = [_flag(b, "bias" if b is bias else f"bias[{i}]")
                     for i, b in enumerate(biases)]
        self.half_mse = _flag(half_mse, "half_mse")
        self.weight_decay = real_in(weight_decay, "weight_decay", 0.0)
        self.dtype = _float_dtype(dtype)
        self.blocks = self._layout()
        last = self.blocks[-1]
        self.n_params = (last.weight if last.bias is None else last.bias).stop

    def _layout(self) -> tuple[ParameterBlock, ...]:
        blocks: list[ParameterBlock] = []
        start = 0
        for i, (fan_in, fan_out) in enumerate(zip(self.sizes[:-1], self.sizes[1:])):
            weight = slice(start, start + fan_in * fan_out)
            start = weight.stop
            bias = slice(start, start + fan_out) if self.bias[i] else None
            start = bias.stop if bias else start
            blocks.append(ParameterBlock(f"layer{i + 1}", weight, fan_out, bias))
        return tuple(blocks)

    @property
    def n_layers(self) -> int:
        """The number of weight layers, ``len(sizes) - 1``."""
        return len(self.sizes) - 1

    @property
    def differentiable(self) -> bool:
        """False when a hidden layer is a step: its gradient is zero, not informative."""
        return all(a.differentiable for a in self.activations)

    def __repr__(self) -> str:
        acts = ",".join(a.name for a in self.activations)
        return (f"MLP({self.sizes}, activation={acts}, output={self.output}, loss={self.loss}, "
                f"n_params={self.n_params})")

    # -- parameters ---------------------------------------------------------------------
    def unflatten(self, theta: np.ndarray) -> list[tuple[np.ndarray, np.ndarray | None]]:
        """Each layer's ``(W, b)`` as views of ``theta`` (no copies).

        ``theta`` ``(..., n_params)`` gives ``W`` ``(..., out, in)`` and ``b`` ``(..., out)``
        (``None`` for a layer without bias).
        """
        lead = theta.shape[:-1]
        layers = []
        for block, fan_in in zip(self.blocks, self.sizes[:-1]):
            W = theta[..., block.weight].reshape(lead + (block.n_filters, fan_in))
            b = theta[..., block.bias] if block.bias else None
            layers.append((W, b))
        return layers

    def init(self, rng: RngLike = None, scheme: InitScheme = "glorot",
             gain: float | Sequence[float] = 1.0) -> Theta:
        """Random parameters, shape ``(n_params,)``, zero biases.

        ``scheme``: 'glorot' (normal, std ``gain * sqrt(2 / (fan_in + fan_out))``),
        'glorot_uniform' (``U(-a, a)``, ``a = gain * sqrt(6 / (fan_in + fan_out))``),
        'he' (std ``gain * sqrt(2 / fan_in)``), 'lecun' (std ``gain / sqrt(fan_in)``) or
        'normal' (std ``gain``). ``gain`` is a number or one number per layer.
        """
        choice(scheme, INIT_SCHEMES, "init scheme")
        rng = as_rng(rng)
        gains = [real_in(g, "gain", 0.0) for g in _per_layer(gain, self.n_layers, "gain")]
        theta = np.zeros(self.n_params, dtype=self.dtype)
        for (W, _), g, fan_in, fan_out in zip(self.unflatten(theta), gains, self.sizes[:-1],
                                              self.sizes[1:]):
            if scheme == "glorot_uniform":
                a = g * np.sqrt(6.0 / (fan_in + fan_out))
                W[...] = rng.uniform(-a, a, W.shape)
                continue
            std = {"glorot": g * np.sqrt(2.0 / (fan_in + fan_out)), "he": g * np.sqrt(2.0 / fan_in),
                   "lecun": g / np.sqrt(fan_in), "normal": g}[scheme]
            W[...] = std * rng.standard_normal(W.shape)
        return theta

    def _theta(self, theta: ArrayLike) -> np.ndarray:
        return theta_vector(theta, self.n_params, dtype=self.dtype)

    def _inputs(self, X: ArrayLike) -> np.ndarray:
        X = finite_array(X, "X", self.dtype, ndim=2)
        if X.shape[0] == 0:
            raise ValueError("X is empty: need at least one sample")
        if X.shape[1] != self.sizes[0]:
            raise ValueError(f"X must have {self.sizes[0]} columns (features), got {X.shape[1]}")
        return X

    # -- evaluation ---------------------------------------------------------------------
    def forward(self, layers: Sequence[tuple[np.ndarray, np.ndarray | None]], X: np.ndarray,
                buffer: Callable[[str, tuple[int, ...]], np.ndarray] | None = None
                ) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Pre-activations ``zs`` (one per layer) and layer inputs ``acts`` (``acts[0] = X``).

        ``buffer(name, shape)`` supplies the arrays written into (fresh ones by default;
        the objective passes reusable ones).
        """
        if buffer is None:
            buffer = lambda name, shape: np.empty(shape, X.dtype)
        a, acts, zs = X, [X], []
        for i, (W, b) in enumerate(layers):
            z = np.matmul(a, W.T, out=buffer(f"z{i}", (X.shape[0], W.shape[0])))
            if b is not None:
                z += b
            zs.append(z)
            if i < self.n_layers - 1:
                a = self.activations[i].value(z, buffer(f"a{i + 1}", z.shape))
                acts.append(a)
        return zs, acts

    def predict(self, theta: Theta, X: ArrayLike) -> np.ndarray:
        """The network's outputs (after the output function), shape ``(N, d_out)``."""
        zs, _ = self.forward(self.unflatten(self._theta(theta)), self._inputs(X))
        return self.head.output(zs[-1])

    def accuracy(self, theta: Theta, X: ArrayLike, y: ArrayLike) -> float:
        """Fraction of samples classified right (softmax: argmax; one sigmoid output: > 1/2)."""
        if self.output == "linear" or (self.output == "sigmoid" and self.sizes[-1] > 1):
            raise ValueError("accuracy needs a classifier: softmax output or one sigmoid output")
        X = self._inputs(X)
        labels = _class_labels(self._targets(y, X.shape[0]))
        out = self.predict(theta, X)
        guess = out.argmax(axis=1) if self.output == "softmax" else (out[:, 0] > 0.5)
        return float(np.mean(guess == labels))

    def _targets(self, y: ArrayLike, n_samples: int) -> np.ndarray:
        """Targets as ``(N, d_out)``: integer labels become one-hot (softmax) or a column."""
        y = finite_array(y, "y", self.dtype)
        if y.ndim == 0:
            raise ValueError(f"y must have one entry per sample (shape ({n_samples},) or "
                             f"({n_samples}, {self.sizes[-1]})), got a single number")
        if y.shape[0] != n_samples:
            raise ValueError(f"X and y have different lengths: {n_samples} and {y.shape[0]}")
        m = self.sizes[-1]
        if y.ndim == 1 and self.output == "softmax":
            if np.any(y != np.round(y)) or y.min() < 0 or y.max() >= m:
                raise ValueError(f"labels must be integers in [0, {m}), got range "
                                 f"[{y.min()}, {y.max()}]")
            return np.eye(m, dtype=self.dtype)[y.astype(int)]
        if y.ndim == 1 and m == 1:
            y = y[:, None]
        if y.ndim != 2 or y.shape[1] != m:
            raise ValueError(f"y must have shape ({n_samples}, {m}) (or integer labels for "
                             f"softmax), got {y.shape}")
        if self.loss == "cross_entropy" and (y.min() < 0 or y.max() > 1):
            raise ValueError("cross-entropy targets must lie in [0, 1]")
        return y

    def objective(self, X: ArrayLike, y: ArrayLike) -> MLPObjective:
        """The mean loss over the samples ``(X, y)`` as an Objective of ``theta``.

        ``X``: ``(N, d_in)``; ``y``: integer labels ``(N,)`` for softmax classification
        (one-hot ``(N, d_out)`` accepted), ``(N,)`` or ``(N, 1)`` 0/1 for one sigmoid
        output, ``(N, d_out)`` targets for regression. The working memory of
        :meth:`MLPObjective.losses` and ``losses_in_span`` follows the ``memory_budget`` of
        the execution settings in force (:class:`~landscape.settings.Execution`, which also
        says its floor).
        """
        X = self._inputs(X)
        return MLPObjective(self, X, self._targets(y, X.shape[0]))


def _class_labels(Y: np.ndarray) -> np.ndarray:
    return Y.argmax(axis=1) if Y.shape[1] > 1 else (Y[:, 0] > 0.5)
