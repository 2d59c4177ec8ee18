"""Record a run from inside a plain PyTorch training loop: :class:`Recorder`.

The user's loop stays theirs; one call per step records it::

    recorder = Recorder(net, loss_fn, (X_probe, y_probe), every=100, optimizer=optimizer)
    for step in range(steps):
        optimizer.zero_grad()
        loss = loss_fn(net(x), y)
        loss.backward()
        recorder.step(loss)          # after backward, before the update
        optimizer.step()
    trajectory = recorder.trajectory()

``recorder.step`` sees the parameters ``theta_t`` that the step's loss was computed at and
their gradient, as :func:`landscape.run` records step ``t``. Every step it keeps the
batch loss (when given), the gradient norm (from the parameters' ``.grad``), the learning
rate (of ``optimizer``'s first parameter group, when given) and the wall time of the
user's step (recording excluded). At steps ``0, every, 2 every, ...`` it records:

- ``theta``, read off the module (any device and dtype) as float64; past ``max_records``
  the records are thinned as :func:`landscape.run` thins them (``every`` doubles);
- the loss on a fixed probe set (``probe``: a batch or a DataLoader, held), through a
  torch objective of the module (:func:`~landscape.torch.from_module`, float64 by
  default) whose buffers (batch-norm running statistics) follow the module's;
- curvature (``curvature=``): ``'sharpness'``, the top Hessian eigenvalue, and
  ``'min_eigenvalue'``, the most negative one, each by ``lanczos_steps`` steps of Lanczos
  started from the previous record's Ritz vector (the eigenvector moves little between
  records, so a few steps track it: a warm start); ``'trace'`` by Hutch++
  (``trace_matvecs`` products); and ``n_hvp``, the Hessian-vector products the record
  spent on them: its cost;
- the user's ``metrics`` (``fn(objective, theta) -> float``, as for :func:`landscape.run`).

:meth:`Recorder.trajectory` adds the parameters as they are when it is called (after the
last update, step ``T`` = the number of steps) and returns a
:class:`~landscape.Trajectory` that every analysis takes (PCA planes, projections,
plots). A non-finite batch loss or parameters mark the run diverged (``status``,
``diverged_at``), as :func:`landscape.run` does, but the loop is the user's to stop.
Per-step values stay on the device until a record or the end (no synchronization per
step).
"""

from __future__ import annotations

import copy
import sys
import time
from collections.abc import Mapping, Sequence
from typing import Any, Literal, TypeAlias, get_args

import numpy as np
import torch

from landscape._checks import as_rng, choice, integer, metric_functions
from landscape.curvature import hutchpp_trace
from landscape.hessian import CountingOperator, hessian_operator, lanczos, ritz
from landscape.objective import Objective
from landscape.runner import STEP_BLOCK, Trajectory, _default_cap, _Recorder, _room
from landscape.torch.adapter import LossFn, from_module
from landscape.vocabulary import DIVERGED, MAX_STEPS, Metric, RngLike, Theta

__all__ = ["Recorder", "WarmLanczos"]

#: A curvature metric the recorder can track.
CurvatureName: TypeAlias = Literal["sharpness", "min_eigenvalue", "trace"]
CURVATURES: tuple[CurvatureName, ...] = get_args(CurvatureName)
_PENDING = 1024  # per-step values held as tensors before they are moved to NumPy


class WarmLanczos:
    """An extreme Hessian eigenvalue by a few Lanczos steps, warm-started at each call.

    A metric ``fn(objective, theta) -> float``: each call runs ``steps`` steps of Lanczos
    (:func:`landscape.hessian.lanczos`) on the Hessian at ``theta``, started from the Ritz
    vector of the previous call (a random vector the first time), and returns the largest
    (``which='LA'``) or smallest (``'SA'``) Ritz value, a lower (upper) bound on the
    extreme eigenvalue that tightens with ``steps``. ``n_hvp`` is the products of the last
    call.
    """

    def __init__(self, which: Literal["LA", "SA"], steps: int, rng: RngLike = 0):
        self.which, self.steps, self._rng = which, steps, as_rng(rng)
        self._vector: np.ndarray | None = None
        self.n_hvp = 0

    def __call__(self, objective: Objective, theta: Theta) -> float:
        """The extreme Ritz value at ``theta`` (and the Ritz vector kept for the next call)."""
        op = CountingOperator(hessian_operator(objective, theta))
        start = self._vector if self._vector is not None else self._rng.standard_normal(
            op.shape[0])
        result = lanczos(op, start, self.steps)
        values, vectors = ritz(result)
        end = -1 if self.which == "LA" else 0
        self._vector = result.basis @ vectors[:, end]
        self.n_hvp = op.count
        return float(values[end])


class _Trace:
    """``trace(H)`` by Hutch++ with ``matvecs`` products and fresh probes at every call."""

    def __init__(self, matvecs: int, rng: RngLike):
        self.matvecs, self._rng = matvecs, as_rng(rng)
        self.n_hvp = 0

    def __call__(self, objective: Objective, theta: Theta) -> float:
        estimate = hutchpp_trace(hessian_operator(objective, theta), self.matvecs, rng=self._rng)
        self.n_hvp = estimate.n_hvp
        return estimate.trace


class _Cost:
    """The HVPs the curvature metrics spent at this record (they run before it)."""

    def __init__(self, parts: Sequence[WarmLanczos | _Trace]):
        self.parts = parts

    def __call__(self, objective: Objective, theta: Theta) -> float:
        return float(sum(part.n_hvp for part in self.parts))


def _grad_norm(params: Sequence[torch.Tensor]) -> torch.Tensor | None:
    """The norm of the parameters' ``.grad`` (a float64 tensor on their device), or None."""
    grads = [p.grad.detach() for p in params if p.grad is not None]
    if not grads:
        return None
    norms = [torch.linalg.vector_norm(g, dtype=torch.float64) for g in grads]
    return torch.linalg.vector_norm(torch.stack(norms))


def _hyperparams(optimizer: Any) -> dict[str, Any]:
    """The first parameter group's numbers and flags (what a record can save)."""
    group = optimizer.param_groups[0]
    plain = (bool, int, float, str)
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in group.items()
            if k != "params" and (isinstance(v, plain) or (
                isinstance(v, tuple) and all(isinstance(x, plain) for x in v)))}


class Recorder:
    """Record a PyTorch training run at an interval: call :meth:`step` every step.

    Parameters
    ----------
    module : torch.nn.Module, the network being trained (read, never changed).
    loss_fn : ``loss_fn(outputs, targets) -> scalar tensor``, the batch mean.
    probe : the fixed probe set: ``(inputs, targets)`` or a DataLoader (held; see
        :func:`~landscape.torch.from_module`).
    every : int >= 1, record at steps ``0, every, 2 every, ...``.
    curvature : names from ``('sharpness', 'min_eigenvalue', 'trace')`` (module
        docstring); ``()`` records none.
    lanczos_steps : int >= 1, the Lanczos steps per eigenvalue per record.
    trace_matvecs : int >= 3, the Hutch++ products per trace.
    max_records : the most records kept (>= 2); None: up to 10,000 within 64 MiB of
        parameters, as :func:`landscape.run`.
    optimizer : the torch optimizer, or None: its learning rate is recorded every step
        and its class and first parameter group name the trajectory.
    metrics : name -> ``fn(objective, theta) -> float``, evaluated at every record on the
        probe objective.
    dtype : torch.float64 (default) or torch.float32, the probe objective's dtype.
    rng : int seed or Generator for Lanczos's first start and Hutch++'s probes.

    Attributes
    ----------
    objective : the probe objective (:class:`~landscape.torch.TorchObjective`).
    n_steps : int, the steps recorded so far.
    seconds : float, the time spent in :meth:`step` (records and per-step bookkeeping).
    record_seconds : float, the part of ``seconds`` spent on records.
    """

    def __init__(self, module: torch.nn.Module, loss_fn: LossFn, probe: Any, *, every: int = 1,
                 curvature: Sequence[CurvatureName] = ("sharpness",), lanczos_steps: int = 10,
                 trace_matvecs: int = 30, max_records: int | None = None,
                 optimizer: Any = None, metrics: Mapping[str, Metric] | None = None,
                 dtype: torch.dtype = torch.float64, rng: RngLike = 0):
        every = integer(every, "every", 1)
        for name in curvature:
            choice(name, CURVATURES, "curvature")
        steps = integer(lanczos_steps, "lanczos_steps", 1)
        matvecs = integer(trace_matvecs, "trace_matvecs", 3)
        if optimizer is not None and not hasattr(optimizer, "param_groups"):
            raise ValueError("optimizer must be a torch optimizer (with param_groups) or None, "
                             f"got {type(optimizer).__name__}")
        self.objective = from_module(module, loss_fn, probe, dtype=dtype)
        self._module, self._optimizer = module, optimizer
        self._params = [p for p in module.parameters() if p.requires_grad]
        cap = (_default_cap(self.objective.dim) if max_records is None
               else integer(max_records, "max_records", 2))
        self._rows = _Recorder(every, cap, self._metrics(curvature, steps, matvecs, rng,
                                                         metric_functions(metrics)))
        self._per_step: dict[str, np.ndarray] = {
            f: np.full(STEP_BLOCK, np.nan) for f in ("batch_loss", "grad_norm", "lr", "wall_time")}
        self._pending: list[tuple[int, Any, Any]] = []  # (t, batch loss, grad norm) tensors
        self.n_steps, self.seconds, self.record_seconds = 0, 0.0, 0.0
        self._diverged_at: int | None = None
        self._last = time.perf_counter()

    @staticmethod
    def _metrics(curvature: Sequence[CurvatureName], steps: int, matvecs: int, rng: RngLike,
                 user: dict[str, Metric]) -> dict[str, Metric]:
        """The record's metrics in order: the curvature, its HVP count, the user's."""
        rng = as_rng(rng)
        parts: dict[str, WarmLanczos | _Trace] = {}
        for name in dict.fromkeys(curvature):
            parts[name] = (_Trace(matvecs, rng) if name == "trace"
                           else WarmLanczos("LA" if name == "sharpness" else "SA", steps, rng))
        cost: dict[str, Metric] = {"n_hvp": _Cost(list(parts.values()))} if parts else {}
        clash = set(user) & (set(parts) | set(cost))
        if clash:
            raise ValueError(f"metrics must not reuse the recorder's names: {sorted(clash)}")
        return {**parts, **cost, **user}

    # -- every step -------------------------------------------------------------------
    def step(self, loss: Any = None) -> None:
        """Note one training step; record it if it is due.

        Call after ``loss.backward()`` and before ``optimizer.step()``.

        Parameters
        ----------
        loss : the step's (batch) loss, a scalar tensor or number, or None (not known).
        """
        start = time.perf_counter()
        t = self.n_steps
        self._per_step = _room(self._per_step, t, sys.maxsize)
        self._per_step["wall_time"][t] = start - self._last
        if self._optimizer is not None:
            self._per_step["lr"][t] = float(self._optimizer.param_groups[0]["lr"])
        value = loss.detach() if isinstance(loss, torch.Tensor) else loss
        self._pending.append((t, value, _grad_norm(self._params)))
        due = self._rows.due(t)
        if due or len(self._pending) >= _PENDING:
            self._flush()
        if due:
            begun = time.perf_counter()
            self._record(t, self._rows)
            self.record_seconds += time.perf_counter() - begun
        self.n_steps = t + 1
        self._last = time.perf_counter()
        self.seconds += self._last - start

    def _note_loss(self, loss: Any) -> None:
        """Set the batch loss of the last step (for callbacks that learn it afterwards)."""
        if self._pending and self._pending[-1][0] == self.n_steps - 1:
            t, _, norm = self._pending[-1]
            self._pending[-1] = (t, loss.detach() if isinstance(loss, torch.Tensor) else loss,
                                 norm)
        elif self.n_steps:
            self._per_step["batch_loss"][self.n_steps - 1] = float(loss)

    def _flush(self) -> None:
        """Move the pending per-step values to NumPy; note a non-finite batch loss."""
        for t, value, norm in self._pending:
            self._per_step["batch_loss"][t] = np.nan if value is None else float(value)
            self._per_step["grad_norm"][t] = np.nan if norm is None else float(norm)
            if value is not None and not np.isfinite(self._per_step["batch_loss"][t]):
                self._diverged(t)
        self._pending = []

    def _diverged(self, t: int) -> None:
        if self._diverged_at is None or t < self._diverged_at:
            self._diverged_at = t

    # -- a record ---------------------------------------------------------------------
    def _theta(self) -> np.ndarray:
        with torch.no_grad():
            flat = torch.cat([p.detach().reshape(-1).to(torch.float64) for p in self._params])
        return flat.cpu().numpy()

    def _follow_buffers(self) -> None:
        """Give the probe objective the module's current buffers and frozen parameters."""
        fixed = self.objective._fixed
        live = dict(self._module.named_buffers())
        live.update((n, p) for n, p in self._module.named_parameters() if not p.requires_grad)
        with torch.no_grad():
            for name, tensor in fixed.items():
                tensor.copy_(live[name])
        self.objective._gradients = type(self.objective._gradients)()  # graphs of old buffers

    def _record(self, t: int, rows: _Recorder) -> bool:
        """Record step ``t`` into ``rows``; False (and the run diverged) if theta is not finite."""
        theta = self._theta()
        if not np.all(np.isfinite(theta)):
            self._diverged(t)
            return False
        self._follow_buffers()
        rows.add(t, theta, self.objective.loss(theta), self.objective)
        return True

    # -- the result -------------------------------------------------------------------
    def trajectory(self) -> Trajectory:
        """The run so far, with the module's current parameters as its last record.

        The last record is step ``T = n_steps`` (after the last update); its per-step
        fields are NaN. Records whose parameters were not finite are left out (the run is
        diverged then), and a trajectory ends at its last finite record, as
        :func:`landscape.run`'s do. The recorder can go on recording afterwards.
        """
        self._flush()
        T = self.n_steps
        rows = copy.copy(self._rows)
        rows.rows = list(self._rows.rows)
        final = self._record(T, rows)
        if not rows.rows:
            raise ValueError("no record had finite parameters: there is no trajectory")
        last = rows.rows[-1][0]
        per_step = _room(self._per_step, last, sys.maxsize)
        per_step = {f: a[:last + 1].copy() for f, a in per_step.items()}
        if final:  # step T was not taken: only its parameters are known
            for field in per_step:
                per_step[field][T] = np.nan
        status = MAX_STEPS if self._diverged_at is None else DIVERGED
        opt = self._optimizer
        return Trajectory(
            **rows.arrays(), **per_step, status=status, diverged_at=self._diverged_at,
            optimizer="unknown" if opt is None else type(opt).__name__,
            hyperparams={} if opt is None else _hyperparams(opt))
