"""The settings the explorer offers: the optimizers and every field of the page.

:data:`OPTIMIZERS` and :data:`FIELDS` give each setting's label, default and slider range;
:func:`parse_field` reads a typed value and checks it (the message of its ``ValueError`` is
what the page shows beside the field); :func:`make_optimizer` builds an optimizer from the
settings.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from landscape._checks import choice, integer
from landscape.explore.landscapes import make_landscape
from landscape.optim import (
    Optimizer,
    adagrad,
    adam,
    gd,
    momentum,
    nesterov,
    perturbed_gd,
    rmsprop,
)


class Field(NamedTuple):
    """A setting the page offers as a slider with a text box.

    label : str, its name on screen.
    default : float.
    low, high : the slider's range (the text box accepts what the check accepts).
    log : bool, the slider moves in powers of ten.
    integer : bool, the value is an int.
    """

    label: str
    default: float
    low: float
    high: float
    log: bool = False
    integer: bool = False


class OptimizerSpec(NamedTuple):
    """An optimizer the page offers: its label, factory and settings (keyword -> Field)."""

    label: str
    factory: Callable[..., Optimizer]
    params: dict[str, Field]


def _lr(default: float) -> dict[str, Field]:
    return {"lr": Field("learning rate", default, 1e-4, 1.0, log=True)}


_BETA = Field("momentum β", 0.9, 0.0, 0.99)
#: The optimizers, by name; ``perturbed_gd`` kicks with the fixed seed 0.
OPTIMIZERS: dict[str, OptimizerSpec] = {
    "gd": OptimizerSpec("gradient descent", gd, _lr(0.01)),
    "momentum": OptimizerSpec("heavy ball", momentum, {**_lr(0.01), "beta": _BETA}),
    "nesterov": OptimizerSpec("Nesterov", nesterov, {**_lr(0.01), "beta": _BETA}),
    "adagrad": OptimizerSpec("AdaGrad", adagrad, _lr(0.5)),
    "rmsprop": OptimizerSpec("RMSProp", rmsprop,
                             {**_lr(0.01), "decay": Field("decay", 0.9, 0.0, 0.99)}),
    "adam": OptimizerSpec("Adam", adam, {**_lr(0.05), "b1": Field("β₁", 0.9, 0.0, 0.99),
                                         "b2": Field("β₂", 0.999, 0.9, 0.9999)}),
    "perturbed_gd": OptimizerSpec("perturbed GD", perturbed_gd,
                                  {**_lr(0.01), "radius": Field("kick radius", 0.1, 1e-3, 1.0,
                                                                log=True)}),
}
#: Every field of the page, by key: ``'<optimizer>.<keyword>'``, ``'run.steps'`` and
#: ``'valley.condition'``.
FIELDS: dict[str, Field] = {
    **{f"{name}.{key}": field for name, spec in OPTIMIZERS.items()
       for key, field in spec.params.items()},
    "run.steps": Field("steps", 200, 10, 2000, log=True, integer=True),
    "valley.condition": Field("condition number κ", 10.0, 1.0, 1000.0, log=True),
}


def _number(text: Any, label: str) -> float:
    """``text`` read as a number; a ValueError naming ``label``."""
    try:
        return float(str(text).strip())
    except ValueError:
        raise ValueError(f"{label}: {str(text).strip()!r} is not a number") from None


def parse_field(key: str, text: Any) -> float:
    """The value typed into field ``key`` (a key of :data:`FIELDS`), checked.

    An int for the integer fields (the steps).

    Raises
    ------
    ValueError
        With the message the page shows: not a number, or a value the optimizer, the run
        or the landscape refuses (a learning rate of 0 or NaN, a condition number below 1).
    """
    field = FIELDS[choice(key, FIELDS, "field")]
    value = _number(text, field.label)
    group, name = key.split(".")
    if field.integer:
        if not (math.isfinite(value) and value == round(value)):
            raise ValueError(f"{field.label} must be a whole number, got {str(text).strip()!r}")
        return integer(int(value), name, 1, 100_000)
    if group in OPTIMIZERS:
        make_optimizer(group, {name: value})
    else:
        make_landscape("valley", condition=value)
    return value


def make_optimizer(name: str, settings: Mapping[str, float]) -> Optimizer:
    """The optimizer ``name`` (a key of :data:`OPTIMIZERS`) with ``settings`` over its defaults.

    Raises
    ------
    ValueError
        The optimizer's own message (a setting out of its range).
    """
    spec = OPTIMIZERS[choice(name, OPTIMIZERS, "optimizer")]
    kwargs: dict[str, Any] = {key: settings.get(key, field.default)
                              for key, field in spec.params.items()}
    if name == "perturbed_gd":
        kwargs["rng"] = 0
    return spec.factory(**kwargs)
