"""How long work runs: one :class:`Execution` record, and a default for a block of code.

Grids (:func:`~landscape.plane` and its kin), sweeps (:func:`~landscape.run_many`) and
critical-point searches (:func:`~landscape.find_critical_points`) split their work into
chunks and hand them to :func:`landscape.parallel.map_chunks`. How that runs is not part of
what is computed, so it is one record with one meaning per field, passed as one argument,
``execution=``, or set for a block::

    with ls.execution(executor=4, cache="cache/"):
        s = ls.plane(objective, center, directions)      # 4 processes, resumable
        runs = ls.run_many(objective, starts, ls.gd(0.1), 100)

An explicit ``execution=`` record replaces the block's default whole; the block's default
replaces the package's (:data:`DEFAULT`: serial, a bar only on a terminal, no cache, 256 MB).
Blocks nest (an inner block changes only the fields it names) and are local to the thread
or task that opens them (``contextvars``). Results never depend on these settings: every
executor and every budget gives the same numbers.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import contextvars
import dataclasses
import os
import sys
from collections.abc import Iterator
from typing import Any

from landscape._checks import positive


def is_dask_client(executor: object) -> bool:
    """Whether ``executor`` is a ``dask.distributed.Client`` (without importing Dask)."""
    distributed = sys.modules.get("distributed")  # imported wherever a Client exists
    return distributed is not None and isinstance(executor, distributed.Client)


def _check_executor(executor: object) -> None:
    if executor is None or isinstance(executor, cf.Executor) or is_dask_client(executor):
        return
    if isinstance(executor, bool) or not isinstance(executor, int):
        raise ValueError("executor must be None, a number of processes, a "
                         f"concurrent.futures.Executor or a dask Client, got {executor!r}")
    if executor < 1:
        raise ValueError(f"executor as a number of processes must be >= 1, got {executor}")


@dataclasses.dataclass(frozen=True)
class Execution:
    """How chunked work runs: where, with what feedback, kept where, in how much memory.

    Attributes
    ----------
    executor : None (serially, in this process), an int ``p`` (a pool of ``p`` local
        processes, opened and closed by each call), a ``concurrent.futures.Executor`` (a
        thread pool, a pool of your own) or a ``dask.distributed.Client``; see
        :mod:`landscape.parallel`. Processes and Dask need picklable objectives and
        metric functions (defined at module level).
    progress : None (the default: a progress bar only when output is a terminal, so tests,
        scripts and logs stay silent), True (always a bar) or False (never). A no-op
        without ``tqdm`` (extra ``progress``).
    cache : None, or a folder (str or ``os.PathLike``) that keeps every finished chunk, so
        that a re-run of the same work computes only the missing ones: an interrupted grid
        or sweep resumes with the numbers of an uninterrupted run (:mod:`landscape.cache`).
        Chunks are kept as arrays (read without pickle, checksummed, keyed by the library
        version): a damaged chunk is computed again, with a warning naming its file.
    memory_budget : float, bytes of working memory one chunk of work may hold at once
        (256 MB by default). Work is split into items (the points of a grid, the runs of a
        sweep) and each chunk takes as many items as fit: a grid counts each point's
        parameter vector (``8 n`` bytes, what an objective without a batched span forms),
        a sweep each run's records (its recorded parameters and per-step values), and a
        batched objective evaluating a chunk's points (the MLP's ``losses`` and
        ``losses_in_span``) sizes its passes by their activations (about ``3 N max(width)``
        numbers a point, plus the ``(d + 1, width, N)`` first-layer arrays a span holds).
        The floor: a chunk holds at least one item, so a budget below one item's memory
        is exceeded by up to that item (and the arrays held for a span). Chunks are also
        capped at about :data:`landscape.parallel.N_CHUNKS` per call (a bar with steps,
        work for a pool), so a large budget rarely changes the chunking.

    Raises
    ------
    ValueError
        Naming the field that is not one of these.
    """

    executor: Any = None
    progress: bool | None = None
    cache: str | os.PathLike | None = None
    memory_budget: float = 256e6

    def __post_init__(self) -> None:
        _check_executor(self.executor)
        if self.progress is not None and not isinstance(self.progress, bool):
            raise ValueError("progress must be True, False or None (a bar only when output "
                             f"is a terminal), got {self.progress!r}")
        if self.cache is not None and not isinstance(self.cache, (str, os.PathLike)):
            raise ValueError("cache must be None or a folder path (str or os.PathLike), "
                             f"got {self.cache!r}")
        try:
            budget = positive(self.memory_budget, "memory_budget")
        except ValueError:
            raise ValueError("memory_budget must be a positive finite number of bytes, got "
                             f"{self.memory_budget!r}") from None
        object.__setattr__(self, "memory_budget", budget)


#: The package's default: serial, a bar only on a terminal, no cache, 256 MB per chunk.
DEFAULT = Execution()

_CURRENT: contextvars.ContextVar[Execution] = contextvars.ContextVar("execution",
                                                                      default=DEFAULT)


def current_execution() -> Execution:
    """The settings in force here.

    The innermost :func:`execution` block's, else :data:`DEFAULT`.
    """
    return _CURRENT.get()


def resolve(execution: Execution | None) -> Execution:
    """``execution`` itself, or :func:`current_execution` when it is None.

    None is a function's ``execution=None`` argument; anything else raises ValueError.
    """
    if execution is None:
        return current_execution()
    if not isinstance(execution, Execution):
        raise ValueError("execution must be an Execution (ls.Execution(executor=..., ...)) "
                         f"or None, got {type(execution).__name__}")
    return execution


@contextlib.contextmanager
def execution(**fields: Any) -> Iterator[Execution]:
    """Set the execution settings for a block of code; yields the settings in force.

    Parameters
    ----------
    **fields : any of :class:`Execution`'s fields; the others keep the enclosing block's
        values (:data:`DEFAULT` outside every block).

    Examples
    --------
    >>> with execution(executor=2):
    ...     with execution(memory_budget=64e6) as inner:
    ...         inner.executor, inner.memory_budget
    (2, 64000000.0)
    """
    unknown = sorted(set(fields) - {f.name for f in dataclasses.fields(Execution)})
    if unknown:
        raise ValueError(f"unknown execution setting(s) {unknown}; choose from "
                         "executor, progress, cache, memory_budget")
    settings = dataclasses.replace(current_execution(), **fields)
    token = _CURRENT.set(settings)
    try:
        yield settings
    finally:
        _CURRENT.reset(token)
