"""Learning-rate schedules: pure functions of the step count, ``schedule(t) -> lr``.

A schedule is a small frozen record with ``__call__(t)`` for ``t = 0, 1, 2, ...`` (the
number of updates already taken), so an optimizer's state needs only its step count, and
schedules pickle for process pools. Any callable ``t -> float`` works where a schedule is
expected; :func:`as_schedule` turns a plain number into a :func:`constant`.

``describe()`` gives a JSON-friendly dict for records (the trajectory's hyperparameters).
"""

from __future__ import annotations

import dataclasses
import math
from typing import Any, ClassVar

from landscape._checks import integer, positive, real_in
from landscape.vocabulary import Schedule


class _Schedule:
    """Shared ``describe`` of the schedule records; ``kind`` is the factory's name."""

    kind: ClassVar[str]
    __dataclass_fields__: ClassVar[dict[str, dataclasses.Field[Any]]]  # each one a dataclass

    def describe(self) -> dict[str, Any]:
        """``{"schedule": kind, **fields}``, for JSON records."""
        return {"schedule": self.kind, **dataclasses.asdict(self)}


@dataclasses.dataclass(frozen=True)
class Constant(_Schedule):
    """``lr`` at every step."""

    kind: ClassVar[str] = "constant"

    lr: float

    def __call__(self, t: int) -> float:
        """The learning rate after ``t`` updates."""
        return self.lr


@dataclasses.dataclass(frozen=True)
class StepDecay(_Schedule):
    """``lr * factor ** (t // every)``: multiplied by ``factor`` every ``every`` steps."""

    kind: ClassVar[str] = "step_decay"

    lr: float
    factor: float
    every: int

    def __call__(self, t: int) -> float:
        """The learning rate after ``t`` updates."""
        return self.lr * self.factor ** (t // self.every)


@dataclasses.dataclass(frozen=True)
class Cosine(_Schedule):
    """Half a cosine from ``lr`` at ``t = 0`` to ``final`` at ``t = steps``, then ``final``."""

    kind: ClassVar[str] = "cosine"

    lr: float
    steps: int
    final: float

    def __call__(self, t: int) -> float:
        """The learning rate after ``t`` updates."""
        frac = min(t, self.steps) / self.steps
        return self.final + 0.5 * (self.lr - self.final) * (1.0 + math.cos(math.pi * frac))


@dataclasses.dataclass(frozen=True)
class InverseTime(_Schedule):
    """``lr / (1 + decay * t)``: the ``1/t`` decay of stochastic approximation."""

    kind: ClassVar[str] = "inverse_time"

    lr: float
    decay: float

    def __call__(self, t: int) -> float:
        """The learning rate after ``t`` updates."""
        return self.lr / (1.0 + self.decay * t)


def constant(lr: float) -> Constant:
    """The constant schedule ``lr``; ``lr`` positive and finite."""
    return Constant(positive(lr, "lr"))


def step_decay(lr: float, factor: float = 0.1, every: int = 1000) -> StepDecay:
    """``lr * factor ** (t // every)``; ``factor`` positive (below 1 to decay)."""
    return StepDecay(positive(lr, "lr"), positive(factor, "factor"), integer(every, "every", 1))


def cosine(lr: float, steps: int, final: float = 0.0) -> Cosine:
    """Cosine annealing from ``lr`` to ``final`` (``0 <= final <= lr``) over ``steps`` steps."""
    lr = positive(lr, "lr")
    return Cosine(lr, integer(steps, "steps", 1), real_in(final, "final", 0.0, lr))


def inverse_time(lr: float, decay: float = 1.0) -> InverseTime:
    """``lr / (1 + decay * t)``, ``decay`` positive."""
    return InverseTime(positive(lr, "lr"), positive(decay, "decay"))


def as_schedule(lr: float | Schedule) -> Schedule:
    """A schedule from a number (:func:`constant`, checked) or a callable ``t -> lr`` (as is)."""
    return lr if callable(lr) else constant(lr)


def describe(schedule: Schedule) -> float | dict[str, Any] | str:
    """A JSON-friendly description of ``schedule``.

    The number for a constant, a dict for the records here, the ``repr`` of any other
    callable.
    """
    if isinstance(schedule, Constant):
        return schedule.lr
    if isinstance(schedule, _Schedule):
        return schedule.describe()
    return repr(schedule)
