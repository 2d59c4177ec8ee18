"""Gradient transformations: the pieces every optimizer here is a short chain of.

Each factory returns a :class:`~landscape.optim.base.GradientTransformation` whose
``update(u, state, theta, objective)`` maps the incoming updates ``u`` (the gradient ``g``
for the first transform of a chain) to new ones. Conventions, with ``t = 0, 1, ...`` the
number of updates the transform has already made and all operations elementwise:

- :func:`scale_by_momentum` (Polyak's heavy ball): ``v = beta v + u``, output ``v``.
- :func:`scale_by_nesterov` (Sutskever et al. 2013 in optax's and PyTorch's form):
  ``v = beta v + u``, output ``u + beta v``.
- :func:`scale_by_adagrad` (Duchi et al. 2011): ``s = s + u**2``, output ``u / (sqrt(s) + eps)``.
- :func:`scale_by_rms` (Tieleman & Hinton 2012): ``s = decay s + (1 - decay) u**2``,
  output ``u / (sqrt(s) + eps)``.
- :func:`scale_by_adam` (Kingma & Ba 2015): ``m = b1 m + (1 - b1) u``,
  ``s = b2 s + (1 - b2) u**2``, output ``m_hat / (sqrt(s_hat) + eps)`` with the bias
  corrections ``m_hat = m / (1 - b1**(t+1))``, ``s_hat = s / (1 - b2**(t+1))``.
- :func:`scale_by_learning_rate`: output ``-lr(t) u``, ``lr`` a number or a schedule
  ``t -> lr`` (:mod:`landscape.schedules`); the one transform that records a learning rate.
- :func:`clip_by_global_norm`: ``u`` if ``||u|| <= max_norm``, else ``u max_norm / ||u||``.
- :func:`clip`: each entry clipped to ``[-max_delta, max_delta]``.
- :func:`add_decayed_weights`: ``u + weight_decay theta``, the gradient of the L2 penalty
  ``weight_decay ||theta||² / 2`` added (before the learning rate: L2 regularisation; after
  a scaling such as Adam's: decoupled weight decay, AdamW).
- :func:`add_perturbation` (Jin et al. 2017, Algorithm 2) wraps a transform rather than
  following one, because a kick moves the point where the gradient is taken: when
  ``||g|| <= g_threshold`` and more than ``t_thres`` updates have passed since the last
  kick, ``xi`` is drawn uniformly from the ball of radius ``radius``, the wrapped transform
  is given the gradient at ``theta + xi``, and its output plus ``xi`` is the step. The
  paper's stopping test is left to the runner's stop rules.
"""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

import numpy as np

from landscape._checks import as_rng, integer, positive, real_in
from landscape.optim.base import GradientTransformation, Optimizer, Transform
from landscape.schedules import as_schedule, describe
from landscape.vocabulary import RngLike, Schedule, Theta


class EmptyState(NamedTuple):
    """The state of a stateless transform."""


class MomentumState(NamedTuple):
    """``velocity``, shape ``(n,)``: the trace ``v`` of past updates."""

    velocity: np.ndarray


class ScaleState(NamedTuple):
    """``sum_sq``, shape ``(n,)``: accumulated (AdaGrad) or averaged (RMSProp) squared updates."""

    sum_sq: np.ndarray


class AdamState(NamedTuple):
    """The state of Adam's scaling.

    ``n_iter``: updates made; ``mu`` and ``nu``, shape ``(n,)``: moving averages of ``u``
    and ``u**2`` (uncorrected).
    """

    n_iter: int
    mu: np.ndarray
    nu: np.ndarray


class ScheduleState(NamedTuple):
    """``n_iter``: updates made, the ``t`` of the schedule's ``lr(t)``."""

    n_iter: int


class PerturbedState(NamedTuple):
    """The state of the perturbation wrapper.

    ``inner``: the wrapped transform's state; ``n_iter``: updates made; ``last_kick``: the
    update of the last kick (``-t_thres - 1`` before the first).
    """

    inner: Any
    n_iter: int
    last_kick: int


def _zeros(theta: Theta) -> np.ndarray:
    return np.zeros_like(theta, dtype=np.float64)


def _ema(average: np.ndarray, value: np.ndarray, decay: float) -> np.ndarray:
    return decay * average + (1.0 - decay) * value


def _decay(value: float, name: str) -> float:
    return real_in(value, name, 0.0, 1.0, open_high=True)


def _transform(impl: Any, **hyperparams: Any) -> GradientTransformation:
    return GradientTransformation(impl.init, impl.update, hyperparams)


# ---------------------------------------------------------------------------------
# Scalings
# ---------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _Trace:
    beta: float
    nesterov: bool

    def init(self, theta: Theta) -> MomentumState:
        return MomentumState(_zeros(theta))

    def update(self, updates: Theta, state: MomentumState, theta: Theta | None = None,
               objective: Any = None) -> tuple[Theta, MomentumState]:
        v = self.beta * state.velocity + updates
        return (updates + self.beta * v if self.nesterov else v), MomentumState(v)


def scale_by_momentum(beta: float = 0.9) -> GradientTransformation:
    """Heavy-ball trace: ``v = beta v + u``, output ``v``.

    Parameters
    ----------
    beta : float in [0, 1)
    """
    beta = _decay(beta, "beta")
    return _transform(_Trace(beta, False), beta=beta)


def scale_by_nesterov(beta: float = 0.9) -> GradientTransformation:
    """Nesterov's trace: ``v = beta v + u``, output ``u + beta v``.

    Parameters
    ----------
    beta : float in [0, 1)
    """
    beta = _decay(beta, "beta")
    return _transform(_Trace(beta, True), beta=beta)


@dataclasses.dataclass(frozen=True)
class _RootScale:
    """``u / (sqrt(s) + eps)`` with ``s`` the sum (``decay`` None) or an EMA of ``u**2``."""

    decay: float | None
    eps: float

    def init(self, theta: Theta) -> ScaleState:
        return ScaleState(_zeros(theta))

    def update(self, updates: Theta, state: ScaleState, theta: Theta | None = None,
               objective: Any = None) -> tuple[Theta, ScaleState]:
        sq = updates * updates
        s = state.sum_sq + sq if self.decay is None else _ema(state.sum_sq, sq, self.decay)
        return updates / (np.sqrt(s) + self.eps), ScaleState(s)


def scale_by_adagrad(eps: float = 1e-8) -> GradientTransformation:
    """AdaGrad's scaling: ``s = s + u**2``, output ``u / (sqrt(s) + eps)``.

    Parameters
    ----------
    eps : float, positive
    """
    eps = positive(eps, "eps")
    return _transform(_RootScale(None, eps), eps=eps)


def scale_by_rms(decay: float = 0.9, eps: float = 1e-8) -> GradientTransformation:
    """RMSProp's scaling: ``s = decay s + (1 - decay) u**2``, output ``u / (sqrt(s) + eps)``.

    Parameters
    ----------
    decay : float in [0, 1)
    eps : float, positive
    """
    decay, eps = _decay(decay, "decay"), positive(eps, "eps")
    return _transform(_RootScale(decay, eps), decay=decay, eps=eps)


@dataclasses.dataclass(frozen=True)
class _Adam:
    b1: float
    b2: float
    eps: float

    def init(self, theta: Theta) -> AdamState:
        zeros = _zeros(theta)
        return AdamState(0, zeros, zeros)

    def update(self, updates: Theta, state: AdamState, theta: Theta | None = None,
               objective: Any = None) -> tuple[Theta, AdamState]:
        mu, nu = _ema(state.mu, updates, self.b1), _ema(state.nu, updates * updates, self.b2)
        mu_hat = mu / (1.0 - self.b1 ** (state.n_iter + 1))
        nu_hat = nu / (1.0 - self.b2 ** (state.n_iter + 1))
        return mu_hat / (np.sqrt(nu_hat) + self.eps), AdamState(state.n_iter + 1, mu, nu)


def scale_by_adam(b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8) -> GradientTransformation:
    """Adam's scaling with bias-corrected moments (formulas in the module docstring).

    Parameters
    ----------
    b1, b2 : float in [0, 1), the decays of the first and second moments.
    eps : float, positive
    """
    b1, b2, eps = _decay(b1, "b1"), _decay(b2, "b2"), positive(eps, "eps")
    return _transform(_Adam(b1, b2, eps), b1=b1, b2=b2, eps=eps)


@dataclasses.dataclass(frozen=True)
class _LearningRate:
    schedule: Schedule

    def init(self, theta: Theta) -> ScheduleState:
        return ScheduleState(0)

    def update(self, updates: Theta, state: ScheduleState, theta: Theta | None = None,
               objective: Any = None) -> tuple[Theta, ScheduleState]:
        return -self.schedule(state.n_iter) * updates, ScheduleState(state.n_iter + 1)


def scale_by_learning_rate(lr: float | Schedule) -> GradientTransformation:
    """The descent step: output ``-lr(t) u``.

    Parameters
    ----------
    lr : float (positive, finite) or a schedule ``t -> lr`` (:mod:`landscape.schedules`).

    Returns
    -------
    GradientTransformation
        With ``lr`` the schedule, which the runner records at every step.
    """
    schedule = as_schedule(lr)
    impl = _LearningRate(schedule)
    return GradientTransformation(impl.init, impl.update, {"lr": describe(schedule)}, schedule)


# ---------------------------------------------------------------------------------
# Clipping and weight decay
# ---------------------------------------------------------------------------------


@dataclasses.dataclass(frozen=True)
class _ClipNorm:
    max_norm: float

    def init(self, theta: Theta) -> EmptyState:
        return EmptyState()

    def update(self, updates: Theta, state: EmptyState, theta: Theta | None = None,
               objective: Any = None) -> tuple[Theta, EmptyState]:
        norm = np.linalg.norm(updates)
        return (updates if norm <= self.max_norm else updates * (self.max_norm / norm)), state


def clip_by_global_norm(max_norm: float) -> GradientTransformation:
    """Rescale ``u`` to norm ``max_norm`` when it is longer; its direction is kept.

    Parameters
    ----------
    max_norm : float, positive
    """
    max_norm = positive(max_norm, "max_norm")
    return _transform(_ClipNorm(max_norm), max_norm=max_norm)


@dataclasses.dataclass(frozen=True)
class _Clip:
    max_delta: float

    def init(self, theta: Theta) -> EmptyState:
        return EmptyState()

    def update(self, updates: Theta, state: EmptyState, theta: Theta | None = None,
               objective: Any = None) -> tuple[Theta, EmptyState]:
        return np.clip(updates, -self.max_delta, self.max_delta), state


def clip(max_delta: float) -> GradientTransformation:
    """Clip each entry of ``u`` to ``[-max_delta, max_delta]`` (the direction may turn).

    Parameters
    ----------
    max_delta : float, positive
    """
    max_delta = positive(max_delta, "max_delta")
    return _transform(_Clip(max_delta), max_delta=max_delta)


@dataclasses.dataclass(frozen=True)
class _DecayedWeights:
    weight_decay: float

    def init(self, theta: Theta) -> EmptyState:
        return EmptyState()

    def update(self, updates: Theta, state: EmptyState, theta: Theta | None = None,
               objective: Any = None) -> tuple[Theta, EmptyState]:
        return updates + self.weight_decay * np.asarray(theta, dtype=np.float64), state


def add_decayed_weights(weight_decay: float) -> GradientTransformation:
    """Add ``weight_decay theta``: the gradient of ``weight_decay ||theta||² / 2``.

    Parameters
    ----------
    weight_decay : float >= 0
    """
    weight_decay = real_in(weight_decay, "weight_decay", 0.0)
    return _transform(_DecayedWeights(weight_decay), weight_decay=weight_decay)


# ---------------------------------------------------------------------------------
# Perturbation kicks
# ---------------------------------------------------------------------------------


def _uniform_ball(rng: np.random.Generator, n: int, radius: float) -> np.ndarray:
    """A point drawn uniformly from the ``n``-ball of ``radius`` centred at 0."""
    direction = rng.standard_normal(n)
    return direction * (radius * rng.uniform() ** (1.0 / n) / np.linalg.norm(direction))


@dataclasses.dataclass(frozen=True)
class _Perturbation:
    inner: Transform
    radius: float
    g_threshold: float
    t_thres: int
    seed: int

    def init(self, theta: Theta) -> PerturbedState:
        return PerturbedState(self.inner.init(theta), 0, -self.t_thres - 1)

    def kick(self, count: int, n: int) -> np.ndarray:
        """The kick at update ``count``: a pure function of the seed and the count."""
        return _uniform_ball(np.random.default_rng([self.seed, count]), n, self.radius)

    def update(self, updates: Theta, state: PerturbedState, theta: Theta,
               objective: Any = None) -> tuple[Theta, PerturbedState]:
        t, last = state.n_iter, state.last_kick
        if t - last > self.t_thres and np.linalg.norm(updates) <= self.g_threshold:
            if objective is None:
                raise ValueError("perturbed optimizers need the objective to take the "
                                 "gradient at the kicked point")
            xi, last = self.kick(t, theta.size), t
            step, inner = self.inner.update(objective.grad(theta + xi), state.inner, theta + xi,
                                            objective)
            step = xi + step
        else:
            step, inner = self.inner.update(updates, state.inner, theta, objective)
        return step, PerturbedState(inner, t + 1, last)


def add_perturbation(inner: Transform, radius: float = 0.1, g_threshold: float = 1e-3,
                     t_thres: int = 50, rng: RngLike = None) -> GradientTransformation:
    """Wrap ``inner`` with Jin et al.'s random kicks (formulas in the module docstring).

    ``inner`` must receive the gradient (wrap a whole chain). The kick at update ``t`` comes
    from ``default_rng([seed, t])`` with ``seed`` drawn once from ``rng``, so the update
    stays a pure function of its arguments: runs that share one perturbed optimizer share
    its kicks (make one per run, with its own ``rng``, for independent kicks). The defaults
    are practical choices, not the paper's constants (which need the smoothness constants).

    Parameters
    ----------
    inner : GradientTransformation or Optimizer
    radius : float, positive; the kicks are uniform in the ball of this radius.
    g_threshold : float, positive; kicks happen only where ``||g|| <= g_threshold``.
    t_thres : int >= 0; at least ``t_thres + 1`` updates between kicks.
    rng : int seed, Generator or None, for the seed of the kicks.

    Returns
    -------
    GradientTransformation
        With ``inner``'s learning rate and its settings followed by these (and ``seed``).
    """
    if not isinstance(inner, (GradientTransformation, Optimizer)):
        raise ValueError(f"inner must be a GradientTransformation or an Optimizer, "
                         f"got {type(inner).__name__}")
    radius, g_threshold = positive(radius, "radius"), positive(g_threshold, "g_threshold")
    t_thres = integer(t_thres, "t_thres", 0)
    seed = int(as_rng(rng).integers(2**63))
    impl = _Perturbation(inner, radius, g_threshold, t_thres, seed)
    hyperparams = {**inner.hyperparams, "radius": radius, "g_threshold": g_threshold,
                   "t_thres": t_thres, "seed": seed}
    return GradientTransformation(impl.init, impl.update, hyperparams, inner.lr)
