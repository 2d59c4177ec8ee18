"""The records of the optimizers and the combinator that composes them, in the style of optax.

A :class:`GradientTransformation` is a pure pair: ``state = init(theta)`` and
``updates, state = update(updates, state, theta, objective)``. It never loops and never
mutates its arguments. The first transform of a chain receives the gradient ``g`` at
``theta`` as its ``updates``; each passes its output to the next, and the last one's output
is the step the runner adds, ``theta_{t+1} = theta_t + step``. ``objective`` is the
(minibatch) objective the gradient came from: first-order transforms ignore it,
second-order ones (saddle-free Newton) and the perturbation kicks use it.

:func:`chain` composes transforms left to right, its state the tuple of their states.
:func:`optimizer` names a transform and gives the :class:`Optimizer` the runner takes::

    ls.optimizer(ls.chain(ls.clip_by_global_norm(1.0), ls.scale_by_adam(),
                          ls.scale_by_learning_rate(1e-2)), "clipped adam")

Each transform records its settings in ``hyperparams`` and, for
:func:`~landscape.optim.transforms.scale_by_learning_rate`, its schedule in ``lr``; a chain
carries at most one learning rate (the runner records ``lr(t)`` per step) and lists the
settings with the learning rate's first, then in chain order.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, NamedTuple, TypeAlias

from landscape.vocabulary import Schedule, Theta


class GradientTransformation(NamedTuple):
    """A pure pair of functions that turns updates into updates.

    init : ``init(theta) -> state``, ``theta`` shape ``(n,)``; the state is a NamedTuple (or a
        tuple of them, for a chain).
    update : ``update(updates, state, theta, objective) -> (updates, state)``, ``updates``
        shape ``(n,)``: the gradient for the first transform, then each one's output.
    hyperparams : its settings, JSON-friendly, for records.
    lr : the learning-rate schedule ``t -> lr`` it applies, or None.
    """

    init: Callable[[Theta], Any]
    update: Callable[..., tuple[Theta, Any]]
    hyperparams: dict
    lr: Schedule | None = None


class Optimizer(NamedTuple):
    """A named pair of pure functions: what the runner takes.

    init : ``init(theta) -> state`` (a NamedTuple, or a tuple of them).
    update : ``update(grad, state, theta, objective) -> (step, state)``, ``step`` shape ``(n,)``.
    name : a short label ('gd', 'momentum', 'adam', ...), used in legends and records.
    hyperparams : the settings that define it, JSON-friendly, for records.
    lr : the learning-rate schedule ``t -> lr`` the runner records, or None (no learning rate).
    """

    init: Callable[[Theta], Any]
    update: Callable[..., tuple[Theta, Any]]
    name: str
    hyperparams: dict
    lr: Schedule | None = None


#: What :func:`chain` and :func:`optimizer` accept: a transform, or an optimizer used as one.
Transform: TypeAlias = GradientTransformation | Optimizer


def _checked(transform: Any, name: str) -> Transform:
    if not isinstance(transform, (GradientTransformation, Optimizer)):
        raise ValueError(f"{name} must be a GradientTransformation or an Optimizer, "
                         f"got {type(transform).__name__}")
    return transform


@dataclasses.dataclass(frozen=True)
class _Chain:
    transforms: tuple

    def init(self, theta: Theta) -> tuple:
        return tuple(t.init(theta) for t in self.transforms)

    def update(self, updates: Theta, state: tuple, theta: Theta | None = None,
               objective: Any = None) -> tuple[Theta, tuple]:
        states = []
        for transform, inner in zip(self.transforms, state):
            updates, inner = transform.update(updates, inner, theta, objective)
            states.append(inner)
        return updates, tuple(states)


def _merged_hyperparams(transforms: tuple) -> dict:
    """The settings of the learning rate's transform first, then the others in chain order.

    A name an earlier one took gets the transform's position as suffix (``eps_2``).
    """
    merged: dict = {}
    for i in sorted(range(len(transforms)), key=lambda i: transforms[i].lr is None):
        for key, value in transforms[i].hyperparams.items():
            merged[f"{key}_{i}" if key in merged else key] = value
    return merged


def chain(*transforms: Transform) -> GradientTransformation:
    """Compose transforms: each one's output updates are the next one's input.

    Parameters
    ----------
    *transforms : GradientTransformation or Optimizer
        Applied left to right; at most one may carry a learning rate.

    Returns
    -------
    GradientTransformation
        Its state is the tuple of the transforms' states, its ``lr`` the one learning rate
        (or None) and its ``hyperparams`` the merged settings.
    """
    transforms = tuple(_checked(t, f"transforms[{i}]") for i, t in enumerate(transforms))
    rates = [t.lr for t in transforms if t.lr is not None]
    if len(rates) > 1:
        raise ValueError(f"transforms may carry at most one learning rate, got {len(rates)}")
    composed = _Chain(transforms)
    return GradientTransformation(composed.init, composed.update, _merged_hyperparams(transforms),
                                  rates[0] if rates else None)


def optimizer(transform: Transform, name: str) -> Optimizer:
    """Name a transform (or a chain of them) as the :class:`Optimizer` the runner takes.

    Parameters
    ----------
    transform : GradientTransformation or Optimizer
        Its output is the step; its ``hyperparams`` and ``lr`` go into the records.
    name : str
        A short non-empty label for legends and records.

    Returns
    -------
    Optimizer
    """
    transform = _checked(transform, "transform")
    if not isinstance(name, str) or not name:
        raise ValueError(f"name must be a non-empty string, got {name!r}")
    return Optimizer(transform.init, transform.update, name, dict(transform.hyperparams),
                     transform.lr)
