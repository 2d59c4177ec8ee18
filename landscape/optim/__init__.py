"""Optimizers as pure ``(init, update)`` pairs with explicit state, composed as in optax.

- :mod:`~landscape.optim.base`: :class:`GradientTransformation` (``update(updates, state,
  theta, objective) -> (updates, state)``), :func:`chain`, and :func:`optimizer`, which
  names a transform as the :class:`Optimizer` the runner takes (the runner then sets
  ``theta = theta + step``).
- :mod:`~landscape.optim.transforms`: the pieces (momentum and Nesterov traces, AdaGrad,
  RMS and Adam scalings, the learning rate or schedule, clipping, weight decay,
  perturbation kicks), with their formulas.
- :mod:`~landscape.optim.alias`: ``gd``, ``momentum``, ``nesterov``, ``adagrad``,
  ``rmsprop``, ``adam``, ``perturbed``, ``perturbed_gd``: one chain each.
- :mod:`~landscape.optim.newton`: saddle-free Newton (Dauphin et al. 2014), the one
  second-order method; it takes Hessian-vector products of the ``objective``.
"""

from landscape.optim.alias import (
    adagrad,
    adam,
    gd,
    momentum,
    nesterov,
    perturbed,
    perturbed_gd,
    rmsprop,
)
from landscape.optim.base import GradientTransformation, Optimizer, chain, optimizer
from landscape.optim.newton import (
    SaddleFreeState,
    saddle_free_newton,
    scale_by_saddle_free_newton,
)
from landscape.optim.transforms import (
    AdamState,
    EmptyState,
    MomentumState,
    PerturbedState,
    ScaleState,
    ScheduleState,
    add_decayed_weights,
    add_perturbation,
    clip,
    clip_by_global_norm,
    scale_by_adagrad,
    scale_by_adam,
    scale_by_learning_rate,
    scale_by_momentum,
    scale_by_nesterov,
    scale_by_rms,
)

__all__ = [
    "GradientTransformation",
    "Optimizer",
    "chain",
    "optimizer",
    "AdamState",
    "EmptyState",
    "MomentumState",
    "PerturbedState",
    "SaddleFreeState",
    "ScaleState",
    "ScheduleState",
    "add_decayed_weights",
    "add_perturbation",
    "clip",
    "clip_by_global_norm",
    "scale_by_adagrad",
    "scale_by_adam",
    "scale_by_learning_rate",
    "scale_by_momentum",
    "scale_by_nesterov",
    "scale_by_rms",
    "scale_by_saddle_free_newton",
    "adagrad",
    "adam",
    "gd",
    "momentum",
    "nesterov",
    "perturbed",
    "perturbed_gd",
    "rmsprop",
    "saddle_free_newton",
]
