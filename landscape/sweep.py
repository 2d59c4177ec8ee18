"""The same optimizers from many starting points: :func:`run_many` and the :class:`Runs` it returns.

Starts are given thetas ``(k, n)`` (:func:`grid_starts` and :func:`box_starts` make them
from a box) or a count of seeds for an ``init_fn(rng)`` such as ``MLP.init``. Every start
gets its own seeds (for ``init_fn`` and for the minibatches), spawned from the master
``rng`` with ``numpy.random.SeedSequence``, and every optimizer runs from every start
with the same minibatch seed. Runs are sent in chunks through
:func:`landscape.parallel.map_chunks` as the :class:`~landscape.settings.Execution` says, so
the numbers are identical whatever the executor; with a cache folder finished chunks are
kept, and an interrupted sweep resumes.

:class:`Runs` filters by optimizer label or status, summarizes final losses, tells which
critical point (or cluster of end points) each run reached; :func:`landscape.save` keeps it
in one file.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Literal, NamedTuple, TypeAlias, cast, get_args

import numpy as np
from numpy.typing import ArrayLike
from scipy.cluster.hierarchy import fcluster, linkage

from landscape._checks import as_rng, choice, finite_array, integer, real_in, theta_matrix
from landscape.critical_point import CriticalPoint
from landscape.objective import Objective
from landscape.optim import Optimizer
from landscape.parallel import N_CHUNKS, map_chunks
from landscape.records import record
from landscape.runner import Trajectory, _default_cap, run
from landscape.settings import Execution, resolve
from landscape.vocabulary import CONVERGED, DIVERGED, Kind, RngLike, Status, Theta, Thetas

#: How :func:`box_starts` draws: ``'latin'`` (Latin hypercube) or ``'uniform'``.
BoxMethod: TypeAlias = Literal["latin", "uniform"]

# ---------------------------------------------------------------------------------
# Starting points
# ---------------------------------------------------------------------------------


def _bounds(bounds: ArrayLike) -> np.ndarray:
    b = finite_array(bounds, "bounds", ndim=2)
    if b.shape[1] != 2 or b.shape[0] == 0 or np.any(b[:, 0] >= b[:, 1]):
        raise ValueError(f"bounds must have shape (n, 2) with low < high per row, got {b.tolist()}")
    return b


def grid_starts(bounds: ArrayLike, num: int | Sequence[int]) -> Thetas:
    """A grid over the box ``bounds`` ``(n, 2)``, ends included.

    ``num`` points per axis (an int or one per axis). Returns ``(prod(num), n)``, the last
    axis varying fastest (``indexing='ij'``).
    """
    b = _bounds(bounds)
    nums = np.broadcast_to(np.asarray(num), b.shape[:1])
    axes = [np.linspace(lo, hi, integer(m, "num", 1)) for (lo, hi), m in zip(b, nums.tolist())]
    return np.stack(np.meshgrid(*axes, indexing="ij"), axis=-1).reshape(-1, b.shape[0])


def box_starts(bounds: ArrayLike, count: int, rng: RngLike = None,
               method: BoxMethod = "latin") -> Thetas:
    """``count`` random points in the box ``bounds`` ``(n, 2)``, shape ``(count, n)``.

    ``method``: 'latin' (Latin hypercube: along every axis each of the ``count`` equal
    slices of the box holds exactly one point) or 'uniform' (independent uniform draws).
    """
    b, count = _bounds(bounds), integer(count, "count", 1)
    rng = as_rng(rng)
    choice(method, get_args(BoxMethod), "method")
    u = rng.uniform(size=(count, b.shape[0]))
    if method == "latin":
        strata = rng.permuted(np.tile(np.arange(count), (b.shape[0], 1)), axis=1).T
        u = (strata + u) / count
    return b[:, 0] + u * (b[:, 1] - b[:, 0])


# ---------------------------------------------------------------------------------
# The collection
# ---------------------------------------------------------------------------------


@record
class RunSummary(NamedTuple):
    """Final losses of one optimizer's runs.

    ``n_runs``, ``n_converged``, ``n_diverged``, the ``quantiles`` asked for ``(q,)`` and the
    final-loss quantiles ``final_loss`` ``(q,)`` over the runs that did not diverge (NaN
    when all did).
    """

    n_runs: int
    n_converged: int
    n_diverged: int
    quantiles: np.ndarray
    final_loss: np.ndarray


@record
class Basins(NamedTuple):
    """Where the runs ended.

    labels : ndarray ``(m,)`` int, the center each run reached; -1 for none (too far from
        every known point, or diverged).
    centers : ndarray ``(c, n)``, the known critical points or the clusters' mean end points.
    kinds : tuple of ``c`` :data:`~landscape.vocabulary.Kind` or None: the critical points'
        kinds, when known.
    counts : ndarray ``(c,)``, runs per center.
    """

    labels: np.ndarray
    centers: np.ndarray
    kinds: tuple[Kind | None, ...]
    counts: np.ndarray


@record
@dataclasses.dataclass(frozen=True, eq=False)
class Runs:
    """Trajectories of many runs, with the optimizer label and the start of each.

    ``trajectories`` (``m``), ``labels`` (``m`` str: the optimizer of each run),
    ``init_index`` ``(m,)`` (which start), ``seed`` (the master seed, None when not known).
    """

    trajectories: tuple[Trajectory, ...]
    labels: tuple[str, ...]
    init_index: np.ndarray
    seed: int | None = None

    def __len__(self) -> int:
        return len(self.trajectories)

    def __iter__(self) -> Iterator[Trajectory]:
        return iter(self.trajectories)

    def __getitem__(self, i: int) -> Trajectory:
        return self.trajectories[i]

    @property
    def names(self) -> tuple[str, ...]:
        """The optimizer labels, in order of first appearance."""
        return tuple(dict.fromkeys(self.labels))

    @property
    def starts(self) -> np.ndarray:
        """Each run's starting point, ``(m, n)``."""
        return np.array([tr.theta0 for tr in self.trajectories])

    @property
    def final_thetas(self) -> np.ndarray:
        """Each run's last recorded parameters, ``(m, n)``."""
        return np.array([tr.final_theta for tr in self.trajectories])

    @property
    def final_losses(self) -> np.ndarray:
        """Each run's final full-batch loss, ``(m,)``."""
        return np.array([tr.final_loss for tr in self.trajectories])

    @property
    def statuses(self) -> np.ndarray:
        """Each run's status, ``(m,)`` str."""
        return np.array([tr.status for tr in self.trajectories])

    def filter(self, label: str | None = None, status: Status | None = None) -> Runs:
        """The runs of optimizer ``label`` and/or with ``status``."""
        keep = [i for i, (lab, tr) in enumerate(zip(self.labels, self.trajectories))
                if (label is None or lab == label) and (status is None or tr.status == status)]
        if label is not None and label not in self.labels:
            raise ValueError(f"unknown optimizer label {label!r}; choose one of {self.names}")
        return Runs(tuple(self.trajectories[i] for i in keep), tuple(self.labels[i] for i in keep),
                    self.init_index[keep], self.seed)

    def summary(self, quantiles: Sequence[float] = (0.0, 0.25, 0.5, 0.75, 1.0)
                ) -> dict[str, RunSummary]:
        """Per optimizer label, a :class:`RunSummary` of the final losses."""
        q = finite_array(quantiles, "quantiles", ndim=1)
        if np.any((q < 0) | (q > 1)):
            raise ValueError(f"quantiles must lie in [0, 1], got {q.tolist()}")
        out = {}
        for name in self.names:
            runs = self.filter(label=name)
            status = runs.statuses
            ok = runs.final_losses[status != DIVERGED]
            out[name] = RunSummary(len(runs), int(np.sum(status == CONVERGED)),
                                   int(np.sum(status == DIVERGED)), q,
                                   np.quantile(ok, q) if ok.size else np.full(q.shape, np.nan))
        return out

    def basins(self, points: Sequence[CriticalPoint] | Thetas | None = None,
               tol: float = 1e-3) -> Basins:
        """Which point each run reached.

        Parameters
        ----------
        points : None, an array ``(c, n)`` or a sequence of
            :class:`~landscape.CriticalPoint` (an objective's known ``critical_points``, or
            those :func:`~landscape.critical.find_critical_points` found): their ``theta``
            are the centers and their ``kind`` the kinds. Each run is assigned to the
            nearest point within distance ``tol`` of its final parameters. With None, the
            final parameters are clustered (single linkage: points closer than ``tol``
            chain into one cluster) and the centers are the clusters' means.
        tol : positive distance.
        """
        tol = real_in(tol, "tol", 0.0, open_low=True)
        final = self.final_thetas
        ended = self.statuses != DIVERGED
        if points is None:
            return _clusters(final, ended, tol)
        kinds = tuple(getattr(p, "kind", None) for p in points)
        rows: list[Any] = [getattr(p, "theta", p) for p in points]  # CriticalPoints or thetas
        centers = theta_matrix(rows, final.shape[1], "points")
        dist = np.linalg.norm(final[:, None, :] - centers[None], axis=-1)
        nearest = np.argmin(dist, axis=1)
        labels = np.where(ended & (dist[np.arange(len(final)), nearest] <= tol), nearest, -1)
        return Basins(labels, centers, kinds, np.bincount(labels[labels >= 0],
                                                          minlength=len(centers)))


def _clusters(final: np.ndarray, ended: np.ndarray, tol: float) -> Basins:
    """Single-linkage clusters of the end points of runs that did not diverge.

    The clusters are numbered in order of first appearance.
    """
    labels = np.full(len(final), -1)
    idx = np.flatnonzero(ended)
    if idx.size == 1:
        labels[idx] = 0
    elif idx.size > 1:
        raw = fcluster(linkage(final[idx], method="single"), t=tol, criterion="distance")
        _, first, inverse = np.unique(raw, return_index=True, return_inverse=True)
        labels[idx] = np.argsort(np.argsort(first))[inverse]
    c = labels.max() + 1
    centers = np.array([final[labels == j].mean(axis=0) for j in range(c)]).reshape(
        c, final.shape[1])
    return Basins(labels, centers, (None,) * c, np.bincount(labels[labels >= 0], minlength=c))


# ---------------------------------------------------------------------------------
# Running them
# ---------------------------------------------------------------------------------


class _Chunk(NamedTuple):
    objective: Objective
    jobs: list  # (theta0, optimizer, minibatch seed)
    steps: int
    options: dict


def _run_chunk(chunk: _Chunk) -> list:
    """The worker: run each job of a chunk (module level, so processes can unpickle it)."""
    return [run(chunk.objective, theta0, opt, chunk.steps, rng=seed, **chunk.options)
            for theta0, opt, seed in chunk.jobs]


def _optimizers(optimizers: Optimizer | Sequence[Optimizer] | dict[str, Optimizer]
                ) -> dict[str, Optimizer]:
    if isinstance(optimizers, Optimizer):
        optimizers = [optimizers]
    if not isinstance(optimizers, dict):
        optimizers = list(optimizers)
        names = [o.name for o in optimizers if isinstance(o, Optimizer)]
        if len(set(names)) != len(names):
            raise ValueError(f"optimizer names repeat ({names}): pass a dict label -> optimizer")
        optimizers = dict(zip(names, optimizers))
    if not optimizers or not all(isinstance(o, Optimizer) and isinstance(k, str)
                                 for k, o in optimizers.items()):
        raise ValueError("optimizers must be an Optimizer, a non-empty list of them or a dict "
                         "str label -> Optimizer")
    return optimizers


def _seeds(rng: RngLike, count: int) -> tuple[int, np.ndarray]:
    """The master entropy and ``(count, 2)`` int seeds (init, minibatch) spawned from it."""
    if rng is None:
        entropy = cast(int, np.random.SeedSequence().entropy)  # fresh entropy: one int
    elif isinstance(rng, (int, np.integer)) and not isinstance(rng, bool):
        entropy = int(rng)
    else:
        entropy = int(as_rng(rng).integers(2**63))
    children = np.random.SeedSequence(entropy).spawn(count)
    return entropy, np.array([c.generate_state(2, np.uint64) for c in children], dtype=np.uint64)


def _starts(objective: Objective, inits: ArrayLike | int,
            init_fn: Callable[[np.random.Generator], Theta] | None, rng: RngLike
            ) -> tuple[Thetas, int, np.ndarray]:
    """``(thetas (k, n), master entropy, minibatch seeds (k,))``."""
    if isinstance(inits, (int, np.integer)) and not isinstance(inits, bool):
        if init_fn is None:
            raise ValueError("inits as a count needs init_fn(rng) -> theta (e.g. model.init)")
        entropy, seeds = _seeds(rng, integer(inits, "inits", 1))
        drawn = [init_fn(np.random.default_rng(int(s))) for s in seeds[:, 0]]
        return theta_matrix(drawn, objective.dim, "init_fn(rng)"), entropy, seeds[:, 1]
    thetas = theta_matrix(inits, objective.dim, "inits")
    if len(thetas) == 0:
        raise ValueError("inits holds no starting point")
    entropy, seeds = _seeds(rng, len(thetas))
    return thetas, entropy, seeds[:, 1]


def _runs_per_chunk(n_jobs: int, dim: int, steps: int, options: dict,
                    memory_budget: float) -> int:
    """About ``N_CHUNKS`` chunks, each within ``memory_budget`` bytes of records."""
    every, cap = options.get("record_every", 1), options.get("max_records") or _default_cap(dim)
    records = min(steps // every + 2, cap)
    per_run = 8 * (records * (dim + 2) + 4 * (steps + 1))
    return max(1, min(-(-n_jobs // N_CHUNKS), int(memory_budget // per_run)))


def run_many(objective: Objective, inits: ArrayLike | int,
             optimizers: Optimizer | Sequence[Optimizer] | dict[str, Optimizer], steps: int, *,
             init_fn: Callable[[np.random.Generator], Theta] | None = None, rng: RngLike = None,
             chunk_size: int | None = None, execution: Execution | None = None,
             **options: Any) -> Runs:
    """Run every optimizer from every start.

    Parameters
    ----------
    objective : Objective (picklable for process or Dask executors).
    inits : ndarray ``(k, n)`` of starting points, or an int ``k``: ``k`` starts from
        ``init_fn(rng)`` each with its own spawned seed.
    optimizers : an Optimizer, a list of them (distinct names) or a dict label -> Optimizer.
    steps : the most updates per run.
    init_fn : ``init_fn(rng) -> theta (n,)``, needed when ``inits`` is a count.
    rng : the master int seed or Generator; start ``i`` gets seeds spawned from it.
    chunk_size : runs per task. By default about ``N_CHUNKS`` (16) tasks in all, whatever the
        executor (so a cache written serially serves a run on Dask), each holding at most
        ``execution.memory_budget`` bytes of records (the parameters at the recorded steps
        and the per-step values, which a worker holds until it sends them).
    execution : :class:`~landscape.settings.Execution` or None (the settings in force): the
        executor, progress bar, chunk cache and memory budget. With a cache, a re-run of the
        same sweep (same objective, starts, seeds, optimizers, steps, options and chunking)
        computes only the missing chunks; give an int ``rng``: without one every call draws
        new seeds, and so is new work.
    **options : passed to :func:`landscape.runner.run` (``batch_size``, ``sampling``,
        ``record_every``, ``max_records``, ``loss_tol``, ``grad_tol``, ``diverge_factor``,
        ``on_divergence``, ``metrics``).

    Returns
    -------
    Runs, ordered start by start and, within a start, optimizer by optimizer.
    """
    optimizers, steps = _optimizers(optimizers), integer(steps, "steps", 0)
    settings = resolve(execution)
    thetas, entropy, seeds = _starts(objective, inits, init_fn, rng)
    # A zero-step run checks the options here, so misuse is a ValueError before work is sent.
    run(objective, thetas[0], next(iter(optimizers.values())), 0, rng=0, **options)
    jobs = [(theta, opt, int(seed)) for theta, seed in zip(thetas, seeds)
            for opt in optimizers.values()]
    size = integer(chunk_size, "chunk_size", 1) if chunk_size is not None else _runs_per_chunk(
        len(jobs), objective.dim, steps, options, settings.memory_budget)
    chunks = [_Chunk(objective, jobs[s:s + size], steps, options)
              for s in range(0, len(jobs), size)]
    results = map_chunks(_run_chunk, chunks, settings, desc="runs")
    return Runs(tuple(tr for part in results for tr in part),
                tuple(optimizers) * len(thetas), np.repeat(np.arange(len(thetas)), len(optimizers)),
                entropy)
