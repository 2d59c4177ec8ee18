"""Run an optimizer on an objective, one loop, and record what happened as a :class:`Trajectory`.

The loop at step ``t = 0, 1, ...``: draw a minibatch (or take the full objective), evaluate
its loss and gradient at ``theta_t``, check the stop rules, ask the optimizer for the step
and set ``theta_{t+1} = theta_t + step``. Per step it keeps the minibatch loss, the gradient
norm, the learning rate and the wall time; at recorded steps (``0, record_every, ...`` and
always the last) it keeps ``theta``, the full-batch loss and the user's ``metrics``.

A run ends with a status: ``'max_steps'`` (all ``steps`` updates taken), ``'converged'`` (a
tolerance met) or ``'diverged'`` (a non-finite or exploding loss, or non-finite parameters,
at ``diverged_at``): failure is data, unless ``on_divergence='raise'``.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterator, Mapping
from typing import Any, Literal, TypeAlias, get_args

import numpy as np

from landscape._checks import (
    as_rng,
    choice,
    integer,
    metric_functions,
    metric_values,
    positive,
    real_in,
    theta_vector,
)
from landscape.objective import Objective, SampleObjective, check_objective
from landscape.optim import GradientTransformation, Optimizer
from landscape.records import record
from landscape.vocabulary import CONVERGED, DIVERGED, MAX_STEPS, Metric, RngLike, Status, Theta

#: How minibatches are drawn: ``'shuffle'``, ``'ordered'`` or ``'replace'``.
Sampling: TypeAlias = Literal["shuffle", "ordered", "replace"]
#: What a diverged run does: ``'stop'`` (status ``'diverged'``) or ``'raise'``.
OnDivergence: TypeAlias = Literal["stop", "raise"]
SAMPLINGS: tuple[Sampling, ...] = get_args(Sampling)
RECORD_BYTES = 2**26  # the default cap on recorded parameters: 64 MiB per trajectory
MAX_RECORDS = 10_000
STEP_BLOCK = 1024  # per-step arrays start this long and double as the run goes on

_STEP_FIELDS = ("batch_loss", "grad_norm", "lr", "wall_time")


class Diverged(RuntimeError):
    """Raised by ``run(..., on_divergence='raise')``; ``trajectory`` holds the record so far."""

    def __init__(self, trajectory: Trajectory):
        super().__init__(f"the run diverged at step {trajectory.diverged_at}")
        self.trajectory = trajectory


@record
@dataclasses.dataclass(frozen=True, eq=False)
class Trajectory:
    """The record of one run.

    At the ``k`` recorded steps: ``thetas`` ``(k, n)``, ``steps`` ``(k,)`` (increasing, the
    first 0 and the last the final step ``T``), ``loss`` ``(k,)`` the full-batch loss and
    ``metrics`` (name -> ``(k,)``). At every step ``t = 0..T``, arrays ``(T + 1,)``:
    ``batch_loss`` and ``grad_norm`` (of the minibatch the optimizer saw, at ``theta_t``),
    ``lr`` (the learning rate of update ``t``; NaN where no update was taken: at ``T``, or
    for an optimizer without learning rate) and ``wall_time`` (seconds for the
    evaluation and update of step ``t``, recording excluded).

    ``status`` is one of :data:`~landscape.vocabulary.STATUSES`; ``diverged_at`` the first
    step whose loss was not finite or exploded (``T``) or whose parameters were not finite
    (``T + 1``), else None.
    ``optimizer`` and ``hyperparams`` name the optimizer; ``seed`` is the int seed of the
    minibatch draws (None for full batch or when a Generator was given); ``batch_size``
    is None for full batch.
    """

    thetas: np.ndarray
    steps: np.ndarray
    loss: np.ndarray
    batch_loss: np.ndarray
    grad_norm: np.ndarray
    lr: np.ndarray
    wall_time: np.ndarray
    metrics: dict[str, np.ndarray]
    status: Status
    diverged_at: int | None
    optimizer: str
    hyperparams: dict[str, Any]
    seed: int | None = None
    batch_size: int | None = None

    @property
    def n_steps(self) -> int:
        """``T``: the index of the last step evaluated (the number of updates for max_steps)."""
        return int(self.steps[-1])

    @property
    def theta0(self) -> np.ndarray:
        """The starting point, shape ``(n,)``."""
        return self.thetas[0]

    @property
    def final_theta(self) -> np.ndarray:
        """The last recorded parameters, shape ``(n,)``."""
        return self.thetas[-1]

    @property
    def elapsed(self) -> np.ndarray:
        """Seconds from the start to each recorded step, shape ``(k,)`` (for loss vs time)."""
        return np.concatenate([[0.0], np.cumsum(self.wall_time)])[self.steps]

    @property
    def final_loss(self) -> float:
        """The full-batch loss at :attr:`final_theta`."""
        return float(self.loss[-1])


# ---------------------------------------------------------------------------------
# The loop and its helpers
# ---------------------------------------------------------------------------------


def _batches(n: int, size: int, sampling: Sampling, rng: np.random.Generator
             ) -> Iterator[np.ndarray]:
    """Minibatch indices forever.

    Epochs of consecutive slices of a permutation ('shuffle') or of ``0..n-1`` ('ordered';
    the last slice of an epoch may be shorter), or draws with replacement ('replace').
    """
    if sampling == "replace":
        while True:
            yield rng.integers(n, size=size)
    while True:
        order = rng.permutation(n) if sampling == "shuffle" else np.arange(n)
        for start in range(0, n, size):
            yield order[start:start + size]


class _Recorder:
    """Thetas, full-batch losses and metrics at ``0, every, 2 every, ...`` and the last step.

    When more than ``cap`` are held, ``every`` doubles and the records off its grid go.
    """

    def __init__(self, every: int, cap: int, metrics: Mapping[str, Metric]):
        self.every, self.cap, self.metrics = every, cap, metrics
        self.rows: list[tuple[int, np.ndarray, float, tuple[float, ...]]] = []

    def due(self, t: int) -> bool:
        return t % self.every == 0

    def add(self, t: int, theta: np.ndarray, loss: float, objective: Objective) -> None:
        self.keep(t, theta, loss, metric_values(self.metrics, objective, theta))

    def keep(self, t: int, theta: np.ndarray, loss: float, values: tuple[float, ...]) -> None:
        """Keep a record whose metric values (in ``metrics``' order) are known."""
        self.rows.append((t, theta.copy(), loss, values))
        while len(self.rows) > self.cap:
            self.every *= 2
            last = self.rows[-1]
            self.rows = [r for r in self.rows[:-1] if r[0] % self.every == 0] + [last]

    def arrays(self) -> dict[str, Any]:
        steps, thetas, loss, values = zip(*self.rows)
        table = np.array(values, dtype=np.float64).reshape(len(steps), len(self.metrics))
        return {"steps": np.array(steps, dtype=np.int64), "thetas": np.array(thetas),
                "loss": np.array(loss, dtype=np.float64),
                "metrics": {name: table[:, j] for j, name in enumerate(self.metrics)}}


def _check_optimizer(optimizer: object) -> Optimizer:
    """``optimizer`` if it is an :class:`Optimizer`; a ValueError saying how to make one."""
    if isinstance(optimizer, Optimizer):
        return optimizer
    if isinstance(optimizer, GradientTransformation):
        hint = "; name a transform or chain with ls.optimizer(transform, name)"
    elif isinstance(optimizer, str):
        hint = f"; pass ls.{optimizer}(learning_rate), not its name"
    elif callable(optimizer):
        name = getattr(optimizer, "__name__", type(optimizer).__name__)
        hint = f"; {name} makes an optimizer: call it, e.g. ls.{name}(0.1)"
    else:
        hint = ""
    raise ValueError(f"optimizer must be an Optimizer such as ls.gd(0.1), got {optimizer!r}"
                     f"{hint}")


def _learning_rate(optimizer: Optimizer, t: int) -> float:
    if optimizer.lr is None:
        return np.nan
    lr = optimizer.lr(t)
    if not (np.isfinite(lr) and lr >= 0):
        raise ValueError(f"the learning-rate schedule gave {lr!r} at step {t}; "
                         "it must be finite and >= 0")
    return float(lr)


def _minibatches(objective: Objective, batch_size: int | None, sampling: Sampling,
                 rng: RngLike) -> tuple[Iterator[SampleObjective] | None, int | None, Any]:
    """``(batches, batch_size, seed)`` of a run.

    The minibatch objectives, forever (None for full batch), the checked batch size and
    the int seed of the draws.
    """
    if batch_size is None:
        return None, None, None
    if not isinstance(objective, SampleObjective):
        raise ValueError("minibatches need an objective with samples (n_samples and subset); "
                         f"{type(objective).__name__} has none: leave batch_size=None")
    batch_size = integer(batch_size, "batch_size", 1)
    if batch_size > objective.n_samples:
        raise ValueError(f"batch_size must be at most the number of samples "
                         f"({objective.n_samples}), got {batch_size}")
    choice(sampling, SAMPLINGS, "sampling")
    seed = np.random.SeedSequence().entropy if rng is None else rng
    seed = seed if isinstance(seed, (int, np.integer)) else None
    generator = as_rng(int(seed) if seed is not None else rng)
    batches = (objective.subset(idx)
               for idx in _batches(objective.n_samples, batch_size, sampling, generator))
    return batches, batch_size, seed


def _stop_reason(t: int, steps: int, loss: float, grad_norm: float, limit: float | None,
                 loss_tol: float | None, grad_tol: float | None) -> Status | None:
    if not (np.isfinite(loss) and np.isfinite(grad_norm)) or (limit is not None and loss > limit):
        return DIVERGED
    if (loss_tol is not None and loss <= loss_tol) or (grad_tol is not None
                                                        and grad_norm <= grad_tol):
        return CONVERGED
    return MAX_STEPS if t == steps else None


def _room(per_step: dict[str, Any], t: int, limit: int) -> dict[str, Any]:
    """``per_step`` (field -> array) with room for step ``t``.

    When full, each array doubles in size (at most ``limit``), so a run holds memory for
    the steps it took.
    """
    size = len(per_step["lr"])
    if t < size:
        return per_step
    grown = min(limit, 2 * size)
    return {f: np.concatenate([a, np.full(grown - size, np.nan)]) for f, a in per_step.items()}


def _default_cap(n: int) -> int:
    return max(2, min(MAX_RECORDS, RECORD_BYTES // (8 * n)))


def run(objective: Objective, theta0: Theta, optimizer: Optimizer, steps: int, *,
        batch_size: int | None = None, sampling: Sampling = "shuffle", rng: RngLike = None,
        record_every: int = 1, max_records: int | None = None, loss_tol: float | None = None,
        grad_tol: float | None = None, diverge_factor: float | None = 1e6,
        on_divergence: OnDivergence = "stop",
        metrics: Mapping[str, Metric] | None = None) -> Trajectory:
    """Run ``optimizer`` on ``objective`` from ``theta0`` for at most ``steps`` updates.

    Parameters
    ----------
    objective : Objective; with ``batch_size``, a sample objective (``n_samples``, ``subset``).
    theta0 : ndarray, shape ``(n,)``, finite.
    optimizer : Optimizer; its ``update`` gets the gradient and the (minibatch) objective.
    steps : int >= 0, the most updates to take.
    batch_size : None (full batch) or an int in ``[1, n_samples]``: minibatch SGD.
    sampling : 'shuffle' (a fresh permutation per epoch, the default), 'ordered' (epochs in
        sample order: no sampling noise) or 'replace' (each batch drawn with replacement).
    rng : int seed or Generator for the minibatches (None: fresh entropy, recorded as seed).
    record_every : record ``theta`` every this many steps (and always the last step).
    max_records : the most records kept (>= 2); beyond it the records are thinned by
        doubling ``record_every``. Default: up to 10,000 within 64 MiB of parameters.
    loss_tol, grad_tol : stop as 'converged' once the loss is at most ``loss_tol`` or the
        gradient norm at most ``grad_tol`` (both of the minibatch the optimizer sees).
    diverge_factor : the loss explodes when it exceeds ``diverge_factor * max(|L0|, 1)``
        with ``L0`` the full-batch loss at ``theta0``; None: only non-finite values diverge.
    on_divergence : 'stop' (end the run with status 'diverged') or 'raise' (:class:`Diverged`).
    metrics : name -> ``fn(objective, theta) -> float``, evaluated at recorded steps on the
        full objective (e.g. the sharpness).

    Returns
    -------
    Trajectory
    """
    objective, optimizer = check_objective(objective), _check_optimizer(optimizer)
    theta = theta_vector(theta0, objective.dim, "theta0").copy()
    steps = integer(steps, "steps", 0)
    every = integer(record_every, "record_every", 1)
    cap = _default_cap(theta.size) if max_records is None else integer(max_records,
                                                                        "max_records", 2)
    loss_tol = None if loss_tol is None else real_in(loss_tol, "loss_tol")
    grad_tol = None if grad_tol is None else real_in(grad_tol, "grad_tol", 0.0)
    choice(on_divergence, get_args(OnDivergence), "on_divergence")
    metrics = metric_functions(metrics)
    batches, batch_size, seed = _minibatches(objective, batch_size, sampling, rng)
    loss0 = objective.loss(theta)
    if not np.isfinite(loss0):
        raise ValueError(f"the loss at theta0 is not finite ({loss0})")
    limit = None if diverge_factor is None else (
        positive(diverge_factor, "diverge_factor") * max(abs(loss0), 1.0))

    per_step: dict[str, Any] = {field: np.full(min(steps + 1, STEP_BLOCK), np.nan)
                                for field in _STEP_FIELDS}
    recorder, state = _Recorder(every, cap, metrics), optimizer.init(theta)
    with np.errstate(over="ignore", invalid="ignore"):
        for t in range(steps + 1):
            per_step = _room(per_step, t, steps + 1)
            start = time.perf_counter()
            batch = objective if batches is None else next(batches)
            value, grad = batch.loss_and_grad(theta)
            g_norm = float(np.linalg.norm(grad))
            reason = _stop_reason(t, steps, value, g_norm, limit, loss_tol, grad_tol)
            diverged_at = t if reason == DIVERGED else None
            if reason is None:
                per_step["lr"][t] = _learning_rate(optimizer, t)
                step, state = optimizer.update(grad, state, theta, batch)
                new = theta + step
                if not np.all(np.isfinite(new)):
                    reason, diverged_at = DIVERGED, t + 1
            per_step["batch_loss"][t], per_step["grad_norm"][t] = value, g_norm
            per_step["wall_time"][t] = time.perf_counter() - start
            if reason is not None or recorder.due(t):
                full = value if batches is None else objective.loss(theta)
                recorder.add(t, theta, full, objective)
            if reason is not None:
                break
            theta = new
    assert reason is not None  # the last step (t == steps) always has one
    trajectory = Trajectory(
        **recorder.arrays(), **{f: a[:t + 1].copy() for f, a in per_step.items()}, status=reason,
        diverged_at=diverged_at, optimizer=optimizer.name, hyperparams=dict(optimizer.hyperparams),
        seed=None if seed is None else int(seed), batch_size=batch_size)
    if reason == DIVERGED and on_divergence == "raise":
        raise Diverged(trajectory)
    return trajectory
