"""Optimizers as pure ``(init, update)`` pairs with explicit state, in the style of optax.

An :class:`Optimizer` never loops and never mutates: ``state = init(theta)`` and
``step, state = update(grad, state, theta, objective)``, after which the runner sets
``theta = theta + step``. ``objective`` is the (minibatch) objective the gradient came
from; first-order methods ignore it, second-order ones (saddle-free Newton) use its HVPs.

The first-order methods are one construction: a *direction* transform (identity, a
momentum trace, AdaGrad's, RMSProp's or Adam's scaling) followed by the step
``-lr(t) * direction``, where ``lr`` is a number or a schedule ``t -> lr``
(:mod:`landscape.schedules`) and ``t`` the step count kept in the state.
:func:`perturbed` wraps any optimizer with the random kicks of perturbed gradient descent.

Conventions (``g`` the gradient at ``theta_t``, ``t = 0, 1, ...``):

- ``gd``: ``step = -lr g``.
- ``momentum`` (Polyak's heavy ball): ``v = beta v + g``, ``step = -lr v``; with a
  constant ``lr`` this is ``theta_{t+1} = theta_t - lr g + beta (theta_t - theta_{t-1})``.
- ``nesterov`` (Sutskever et al. 2013 in the form optax and PyTorch use):
  ``v = beta v + g``, ``step = -lr (g + beta v)``.
- ``adagrad`` (Duchi et al. 2011): ``s = s + g**2``, ``step = -lr g / (sqrt(s) + eps)``.
- ``rmsprop`` (Tieleman & Hinton 2012): ``s = decay s + (1 - decay) g**2``,
  ``step = -lr g / (sqrt(s) + eps)``.
- ``adam`` (Kingma & Ba 2015): ``m = b1 m + (1 - b1) g``, ``s = b2 s + (1 - b2) g**2``,
  ``step = -lr m_hat / (sqrt(s_hat) + eps)`` with the bias corrections
  ``m_hat = m / (1 - b1**(t+1))``, ``s_hat = s / (1 - b2**(t+1))``.
- ``perturbed_gd`` (Jin et al. 2017, Algorithm 2): when ``||g|| <= g_threshold`` and more
  than ``t_thres`` steps have passed since the last kick, ``theta`` is moved by ``xi``
  drawn uniformly from the ball of radius ``radius`` and the gradient step is taken from
  there, with the gradient at ``theta + xi``. The paper's stopping test is left to the
  runner's stop rules.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from landscape._checks import as_rng, integer, positive, real_in
from landscape.schedules import as_schedule, describe


class Optimizer(NamedTuple):
    """A named pair of pure functions.

    init : ``init(theta) -> state`` (a NamedTuple).
    update : ``update(grad, state, theta, objective) -> (step, state)``, ``step`` shape ``(n,)``.
    name : a short label ('gd', 'momentum', 'adam', ...), used in legends and records.
    hyperparams : the settings that define it, JSON-friendly, for records.
    lr : the learning-rate schedule ``t -> lr`` the runner records, or None (no learning rate).
    """

    init: Callable[[Any], Any]
    update: Callable[..., tuple[Any, Any]]
    name: str
    hyperparams: dict
    lr: Callable[[int], float] | None = None


class State(NamedTuple):
    """The state of a first-order optimizer: ``count`` updates taken, the direction's state."""

    count: int
    inner: Any


class MomentumState(NamedTuple):
    """``velocity``, shape ``(n,)``: the trace ``v`` of past gradients."""

    velocity: np.ndarray


class ScaleState(NamedTuple):
    """``sum_sq``, shape ``(n,)``: accumulated (AdaGrad) or averaged (RMSProp) squared gradients."""

    sum_sq: np.ndarray


class AdamState(NamedTuple):
    """``mu`` and ``nu``, shape ``(n,)``: moving averages of ``g`` and ``g**2`` (uncorrected)."""

    mu: np.ndarray
    nu: np.ndarray


class PerturbedState(NamedTuple):
    """``inner``: the wrapped optimizer's state; ``count``: updates taken; ``last_kick``: the
    step of the last kick (``-t_thres - 1`` before the first)."""

    inner: Any
    count: int
    last_kick: int


# ---------------------------------------------------------------------------------
# Direction transforms: init(theta) -> state; (grad, state, count) -> (direction, state)
# ---------------------------------------------------------------------------------


def _ema(average: np.ndarray, value: np.ndarray, decay: float) -> np.ndarray:
    return decay * average + (1.0 - decay) * value


@dataclasses.dataclass(frozen=True)
class _Identity:
    def init(self, theta):
        return ()

    def __call__(self, grad, state, count):
        return grad, state


@dataclasses.dataclass(frozen=True)
class _Trace:
    beta: float
    nesterov: bool

    def init(self, theta):
        return MomentumState(np.zeros_like(theta, dtype=np.float64))

    def __call__(self, grad, state, count):
        v = self.beta * state.velocity + grad
        return (grad + self.beta * v if self.nesterov else v), MomentumState(v)


@dataclasses.dataclass(frozen=True)
class _RootScale:
    """``g / (sqrt(s) + eps)`` with ``s`` the sum (``decay`` None) or an EMA of ``g**2``."""

    decay: float | None
    eps: float

    def init(self, theta):
        return ScaleState(np.zeros_like(theta, dtype=np.float64))

    def __call__(self, grad, state, count):
        sq = grad * grad
        s = state.sum_sq + sq if self.decay is None else _ema(state.sum_sq, sq, self.decay)
        return grad / (np.sqrt(s) + self.eps), ScaleState(s)


@dataclasses.dataclass(frozen=True)
class _Adam:
    b1: float
    b2: float
    eps: float

    def init(self, theta):
        zeros = np.zeros_like(theta, dtype=np.float64)
        return AdamState(zeros, zeros)

    def __call__(self, grad, state, count):
        mu, nu = _ema(state.mu, grad, self.b1), _ema(state.nu, grad * grad, self.b2)
        mu_hat = mu / (1.0 - self.b1 ** (count + 1))
        nu_hat = nu / (1.0 - self.b2 ** (count + 1))
        return mu_hat / (np.sqrt(nu_hat) + self.eps), AdamState(mu, nu)


@dataclasses.dataclass(frozen=True)
class _Descent:
    """``step = -schedule(count) * direction``: a direction transform made an optimizer."""

    direction: Any
    schedule: Callable[[int], float]

    def init(self, theta) -> State:
        return State(0, self.direction.init(np.asarray(theta, dtype=np.float64)))

    def update(self, grad, state: State, theta=None, objective=None):
        d, inner = self.direction(grad, state.inner, state.count)
        return -self.schedule(state.count) * d, State(state.count + 1, inner)


def _descent(name: str, lr, direction, **hyperparams) -> Optimizer:
    schedule = as_schedule(lr)
    d = _Descent(direction, schedule)
    return Optimizer(d.init, d.update, name, {"lr": describe(schedule), **hyperparams}, schedule)


def _decay(value, name: str) -> float:
    return real_in(value, name, 0.0, 1.0, open_high=True)


# ---------------------------------------------------------------------------------
# The optimizers
# ---------------------------------------------------------------------------------


def gd(lr) -> Optimizer:
    """Gradient descent, ``step = -lr g``.

    Parameters
    ----------
    lr : float (positive, finite) or a schedule ``t -> lr``.
    """
    return _descent("gd", lr, _Identity())


def momentum(lr, beta: float = 0.9) -> Optimizer:
    """Heavy-ball momentum (Polyak 1964): ``v = beta v + g``, ``step = -lr v``.

    ``beta`` in [0, 1); ``lr`` a positive number or a schedule.
    """
    beta = _decay(beta, "beta")
    return _descent("momentum", lr, _Trace(beta, False), beta=beta)


def nesterov(lr, beta: float = 0.9) -> Optimizer:
    """Nesterov momentum: ``v = beta v + g``, ``step = -lr (g + beta v)``; ``beta`` in [0, 1)."""
    beta = _decay(beta, "beta")
    return _descent("nesterov", lr, _Trace(beta, True), beta=beta)


def adagrad(lr, eps: float = 1e-8) -> Optimizer:
    """AdaGrad: ``s = s + g**2``, ``step = -lr g / (sqrt(s) + eps)``; ``eps`` positive."""
    eps = positive(eps, "eps")
    return _descent("adagrad", lr, _RootScale(None, eps), eps=eps)


def rmsprop(lr, decay: float = 0.9, eps: float = 1e-8) -> Optimizer:
    """RMSProp: ``s = decay s + (1 - decay) g**2``, ``step = -lr g / (sqrt(s) + eps)``."""
    decay, eps = _decay(decay, "decay"), positive(eps, "eps")
    return _descent("rmsprop", lr, _RootScale(decay, eps), decay=decay, eps=eps)


def adam(lr, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8) -> Optimizer:
    """Adam with bias-corrected moments; ``b1``, ``b2`` in [0, 1), ``eps`` positive."""
    b1, b2, eps = _decay(b1, "b1"), _decay(b2, "b2"), positive(eps, "eps")
    return _descent("adam", lr, _Adam(b1, b2, eps), b1=b1, b2=b2, eps=eps)


def _uniform_ball(rng: np.random.Generator, n: int, radius: float) -> np.ndarray:
    """A point drawn uniformly from the ``n``-ball of ``radius`` centred at 0."""
    direction = rng.standard_normal(n)
    return direction * (radius * rng.uniform() ** (1.0 / n) / np.linalg.norm(direction))


@dataclasses.dataclass(frozen=True)
class _Perturbed:
    inner: Optimizer
    radius: float
    g_threshold: float
    t_thres: int
    seed: int

    def init(self, theta) -> PerturbedState:
        return PerturbedState(self.inner.init(theta), 0, -self.t_thres - 1)

    def kick(self, count: int, n: int) -> np.ndarray:
        """The kick at step ``count``: a pure function of the seed and the step."""
        return _uniform_ball(np.random.default_rng([self.seed, count]), n, self.radius)

    def update(self, grad, state: PerturbedState, theta, objective=None):
        t, last = state.count, state.last_kick
        if t - last > self.t_thres and np.linalg.norm(grad) <= self.g_threshold:
            if objective is None:
                raise ValueError("perturbed optimizers need the objective to take the "
                                 "gradient at the kicked point")
            xi, last = self.kick(t, theta.size), t
            step, inner = self.inner.update(objective.grad(theta + xi), state.inner, theta + xi,
                                            objective)
            step = xi + step
        else:
            step, inner = self.inner.update(grad, state.inner, theta, objective)
        return step, PerturbedState(inner, t + 1, last)


def perturbed(inner: Optimizer, radius: float = 0.1, g_threshold: float = 1e-3,
              t_thres: int = 50, rng=None) -> Optimizer:
    """Add Jin et al.'s random kicks to ``inner``: a uniform draw from the ``radius``-ball
    whenever ``||g|| <= g_threshold`` and more than ``t_thres`` steps passed since the last.

    The kick at step ``t`` comes from ``default_rng([seed, t])`` with ``seed`` drawn once from
    ``rng``, so the update stays a pure function of its arguments: runs that share one
    perturbed optimizer share its kicks (make one per run, with its own ``rng``, for
    independent kicks). The defaults are practical choices, not the paper's constants
    (which need the smoothness constants).
    """
    if not isinstance(inner, Optimizer):
        raise ValueError(f"inner must be an Optimizer, got {type(inner).__name__}")
    radius, g_threshold = positive(radius, "radius"), positive(g_threshold, "g_threshold")
    t_thres = integer(t_thres, "t_thres", 0)
    seed = int(as_rng(rng).integers(2**63))
    p = _Perturbed(inner, radius, g_threshold, t_thres, seed)
    hyper = {**inner.hyperparams, "radius": radius, "g_threshold": g_threshold,
             "t_thres": t_thres, "seed": seed}
    return Optimizer(p.init, p.update, f"perturbed_{inner.name}", hyper, inner.lr)


def perturbed_gd(lr, radius: float = 0.1, g_threshold: float = 1e-3, t_thres: int = 50,
                 rng=None) -> Optimizer:
    """Perturbed gradient descent (Jin et al. 2017): :func:`perturbed` around :func:`gd`."""
    return perturbed(gd(lr), radius, g_threshold, t_thres, rng)
