"""Optimizers as pure ``(init, update)`` pairs with explicit state, in the style of optax.

An :class:`Optimizer` never loops and never mutates: ``state = init(theta)`` and
``step, state = update(grad, state, theta, objective)``, after which the runner sets
``theta = theta + step``. ``objective`` is the (minibatch) objective the gradient came
from; first-order methods ignore it, second-order ones (saddle-free Newton) use its HVPs.
"""

from __future__ import annotations

from typing import Any, Callable, NamedTuple


class Optimizer(NamedTuple):
    """A named pair of pure functions.

    init : ``init(theta) -> state`` (a NamedTuple).
    update : ``update(grad, state, theta, objective) -> (step, state)``, ``step`` shape ``(n,)``.
    name : a short label ('gd', 'momentum', 'adam', ...), used in legends and records.
    hyperparams : the settings that define it, for records.
    """

    init: Callable[[Any], Any]
    update: Callable[..., tuple[Any, Any]]
    name: str
    hyperparams: dict
