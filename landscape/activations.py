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
from typing import NamedTuple

import numpy as np

from landscape._checks import choice

Array = np.ndarray


class Activation(NamedTuple):
    """An elementwise nonlinearity: ``value(z)``, ``first(z, a)``, ``second(z, a, first)``."""

    name: str
    value: Callable[[Array], Array]
    first: Callable[[Array, Array], Array | float]
    second: Callable[[Array, Array, Array], Array] | None
    differentiable: bool = True


def sigmoid(z: Array) -> Array:
    """The logistic function, evaluated stably as ``(1 + tanh(z / 2)) / 2``."""
    out = np.tanh(0.5 * z)
    out += 1.0
    out *= 0.5
    return out


def _tanh_first(z, a):
    out = np.square(a)
    np.subtract(1.0, out, out=out)
    return out


ACTIVATIONS = {
    "sigmoid": Activation(
        "sigmoid", sigmoid, lambda z, a: a * (1.0 - a), lambda z, a, d: d * (1.0 - 2.0 * a)
    ),
    "tanh": Activation("tanh", np.tanh, _tanh_first, lambda z, a, d: -2.0 * a * d),
    "relu": Activation(
        "relu", lambda z: np.maximum(z, 0.0), lambda z, a: (z > 0).astype(z.dtype), None
    ),
    "softplus": Activation(
        "softplus",
        lambda z: np.logaddexp(0.0, z),
        lambda z, a: sigmoid(z),
        lambda z, a, d: d * (1.0 - d),
    ),
    "linear": Activation("linear", lambda z: z, lambda z, a: 1.0, None),
    "step": Activation(
        "step", lambda z: (z > 0).astype(z.dtype), lambda z, a: 0.0, None, differentiable=False
    ),
}


def get_activation(name: str) -> Activation:
    """The activation called ``name``; a ValueError lists the known ones otherwise."""
    return ACTIVATIONS[choice(name, ACTIVATIONS, "activation")]
