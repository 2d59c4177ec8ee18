"""Hidden-layer activations with their first and second derivatives.

Backprop needs ``sigma'(z)``; the exact Hessian-vector product (the R-operator) also
needs ``sigma''(z)``. Derivatives are written in terms of the output ``a = sigma(z)``
where that is cheaper (sigmoid, tanh). ``second`` is ``None`` where ``sigma''`` is zero
almost everywhere (relu, linear, step), so callers skip that term.

The step (Heaviside, ``H(0) = 0``) is kept honest: its derivative is zero wherever it
exists and it has none at 0, so the gradient through a step unit is exactly zero and
``differentiable`` is False. That is why a step network cannot learn by gradient descent.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, NamedTuple, TypeAlias

import numpy as np

from landscape._checks import choice

Array = np.ndarray


class Activation(NamedTuple):
    """An elementwise nonlinearity, each function writing into ``out`` (which may be ``z``).

    value : ``value(z, out) -> out``, ``sigma(z)``.
    first : ``first(z, a, out) -> out``, ``sigma'(z)`` given ``a = sigma(z)``; a float where
        it is constant (linear: 1.0, step: 0.0).
    second : ``second(z, a, d1, out) -> out``, ``sigma''(z)`` given ``d1 = sigma'(z)``; None
        where it is zero almost everywhere.
    """

    name: str
    value: Callable[[Array, Array], Array]
    first: Callable[[Array, Array, Array], Array | float]
    second: Callable[[Array, Array, Array, Array], Array] | None
    differentiable: bool = True


def sigmoid(z: Array, out: Array | None = None) -> Array:
    """The logistic function, evaluated stably as ``(1 + tanh(z / 2)) / 2``."""
    out = np.multiply(z, 0.5, out=out)
    np.tanh(out, out=out)
    out += 1.0
    out *= 0.5
    return out


def _sigmoid_first(z, a, out):
    np.subtract(1.0, a, out=out)
    out *= a
    return out


def _sigmoid_second(z, a, d1, out):  # d1 (1 - 2a)
    np.multiply(a, -2.0, out=out)
    out += 1.0
    out *= d1
    return out


def _tanh_first(z, a, out):  # 1 - a^2
    np.square(a, out=out)
    np.subtract(1.0, out, out=out)
    return out


def _tanh_second(z, a, d1, out):  # -2 a d1
    np.multiply(a, -2.0, out=out)
    out *= d1
    return out


def _softplus_second(z, a, d1, out):  # d1 (1 - d1)
    np.subtract(1.0, d1, out=out)
    out *= d1
    return out


def _copy(z, out):
    if out is not z:
        out[...] = z
    return out


def _tanh(z, out):
    return np.tanh(z, out=out)


def _relu(z, out):
    return np.maximum(z, 0.0, out=out)


def _positive(z, out):  # the step: 1 where z > 0
    return np.greater(z, 0.0, out=out)


def _relu_first(z, a, out):
    return np.greater(z, 0.0, out=out)


def _softplus(z, out):
    return np.logaddexp(0.0, z, out=out)


def _softplus_first(z, a, out):
    return sigmoid(z, out)


def _one(z, a, out):
    return 1.0


def _zero(z, a, out):
    return 0.0


#: The names of :data:`ACTIVATIONS`, in its order (tests/test_typing.py checks they agree).
ActivationName: TypeAlias = Literal["sigmoid", "tanh", "relu", "softplus", "linear", "step"]

# Module-level functions throughout, so models pickle to worker processes.
ACTIVATIONS: dict[ActivationName, Activation] = {
    "sigmoid": Activation("sigmoid", sigmoid, _sigmoid_first, _sigmoid_second),
    "tanh": Activation("tanh", _tanh, _tanh_first, _tanh_second),
    "relu": Activation("relu", _relu, _relu_first, None),
    "softplus": Activation("softplus", _softplus, _softplus_first, _softplus_second),
    "linear": Activation("linear", _copy, _one, None),
    "step": Activation("step", _positive, _zero, None, differentiable=False),
}


def get_activation(name: ActivationName) -> Activation:
    """The activation called ``name``; a ValueError lists the known ones otherwise."""
    return ACTIVATIONS[choice(name, ACTIVATIONS, "activation")]
