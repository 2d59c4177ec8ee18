"""Map a function over chunks of work: serially, in local processes, or on Dask distributed.

Long work (grids, sweeps of many runs) is split into chunks by the caller and handed to
:func:`map_chunks` with the caller's :class:`~landscape.settings.Execution` (its
``execution=`` argument, or the settings of the enclosing ``ls.execution(...)`` block),
whose ``executor`` is one of:

- ``None``: serial, in this process (the default);
- an int ``n``: a local ``ProcessPoolExecutor`` with ``n`` workers (:func:`process_pool`),
  opened and closed here. Its workers start from a fresh interpreter (the 'spawn' start
  method), never as a fork of this process: forking a process whose BLAS thread pool or
  other threads are busy can leave the child waiting on a lock that no thread will
  release. They are this process's children and die with it: on Linux each worker asks
  the kernel for SIGKILL when its parent dies (``prctl(PR_SET_PDEATHSIG)``), so killing
  this process (even with SIGKILL) leaves no worker computing or writing files ('forkserver'
  would not do: its server, the workers' parent, outlives this process). A fresh worker
  imports NumPy and this package before its first chunk (about a second), so chunks should
  be coarse. Scripts that use it need the ``if __name__ == "__main__":`` guard, and ``fn``
  must be importable by name (a module-level function or a ``functools.partial`` of one).
  A pool does not survive a worker killed from outside: its chunks fail
  (``BrokenProcessPool``); with a cache, a re-run computes only what is missing;
- any ``concurrent.futures.Executor`` (a thread pool, a pool of your own);
- a ``dask.distributed.Client`` (extra ``dask``): chunks go to the cluster as tasks through
  ``client.map`` and come back as they finish. When a worker dies, the scheduler gives its
  tasks to the other workers, so the work still completes; a chunk whose task kills
  ``distributed.scheduler.allowed-failures + 1`` workers fails with ``KilledWorker``. The
  package starts no cluster; the worker processes of a ``LocalCluster`` exit by themselves
  when the process that started it dies (each watches a pipe from its nanny). Dask's
  worker processes limit BLAS to one thread and set ``MALLOC_TRIM_THRESHOLD_=65536``
  (configuration ``distributed.nanny.pre-spawn-environ``). That setting fixes glibc's
  threshold for serving an allocation by ``mmap``, so every large temporary is mapped,
  faulted in and unmapped again: an MLP plane ran 2.3 times slower in such workers
  (``benchmarks/SCALING.md``). Start local clusters without it::

      environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ"))
      environ.pop("MALLOC_TRIM_THRESHOLD_", None)
      with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}):
          client = Client(LocalCluster(n_workers=..., threads_per_worker=1))

Results come back in the order of the chunks whatever the executor, and every chunk runs
with BLAS on one thread (threadpoolctl; NumPy's and SciPy's OpenBLAS alike), in whatever
process or thread runs it: the same specification gives the same bits whatever the
executor and the caller's BLAS thread count (a product's rounding may depend on how many
threads share it), as long as each chunk is computed deterministically (random chunks
carry their own seeds). Parallelism comes from the chunks. While chunks run in this
process (serially, or on a thread pool), the limit holds for the whole process. A chunk
that raises is reported as :class:`ChunkError` naming its index, with the error chained;
the chunks not yet finished are cancelled.

With a ``cache`` folder every finished chunk is kept in the folder (:mod:`landscape.cache`),
keyed by a fingerprint of the library version, ``fn`` and all the chunks, and a later call
with the same work computes only the chunks that are not there: an interrupted grid or
sweep resumes, with the same numbers as an uninterrupted run. Chunks are saved by this
process as they arrive, so workers need no shared file system. Each chunk runs under the
settings' ``memory_budget`` (in whatever process runs it), which a batched objective reads
to size its passes.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import ctypes
import functools
import multiprocessing
import os
import signal
import sys
import threading
import warnings
from collections.abc import Callable, Generator, Iterable, Sequence
from typing import Any

from threadpoolctl import ThreadpoolController

from landscape import side_by_side
from landscape.cache import ChunkCache
from landscape.settings import Execution, is_dask_client, resolve
from landscape.settings import execution as settings_block

# How map_chunks' own process pools start their workers: fresh, as children of this process.
START_METHOD = "spawn"
_PR_SET_PDEATHSIG = 1  # prctl option (linux/prctl.h)
N_CHUNKS = 16  # chunks per long computation by default: a progress bar with steps, work for a pool


class ChunkError(RuntimeError):
    """A chunk of work raised; ``index`` says which, the cause is chained."""

    def __init__(self, index: int, error: BaseException):
        super().__init__(f"chunk {index} failed: {type(error).__name__}: {error}")
        self.index = index


def progress_bar(total: int, desc: str | None, progress: bool | None) -> Any:
    """A tqdm bar, or a no-op without tqdm.

    Shown when ``progress`` is True, never when False, and when None only if output is a
    terminal (tqdm's ``disable=None``).
    """
    try:
        from tqdm.auto import tqdm
    except ImportError:  # tqdm is optional (extra 'progress')
        return _NoBar()
    return tqdm(total=total, desc=desc, disable=None if progress is None else not progress,
                leave=False)


class _NoBar:
    def update(self, n: int = 1) -> None:
        pass

    def close(self) -> None:
        pass


class _OneBlasThread:
    """BLAS on one thread while any chunk work runs in this process.

    The first holder sets the limit, the last to leave restores what was there before.

    OpenBLAS's limit is process-wide, and threadpoolctl lets one thread at a time set it
    (while a thread holds a limit, the others' are ignored; a warning says so): so
    :func:`map_chunks` holds it in the thread that calls it, for the whole call, and each
    chunk holds it too (for the worker processes that run chunks). The libraries are found
    once per process, when it is first held (NumPy's and SciPy's BLAS are loaded by then:
    the package imports both).
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._running = 0
        self._controller: Any = None
        self._blas: list[Any] = []  # the BLAS libraries' threadpoolctl controllers
        self._original: list[int] = []  # their thread counts before the limit

    def _find(self) -> None:
        if self._controller is None:
            self._controller = ThreadpoolController()
            self._blas = self._controller.select(user_api="blas").lib_controllers

    def needed(self) -> bool:
        """Whether entering would change anything: the limit is held, or a BLAS has threads."""
        self._find()
        return self._running > 0 or any(lib.num_threads != 1 for lib in self._blas)

    def __enter__(self) -> None:
        with self._lock:
            if self._running == 0:
                self._find()
                self._original = [lib.num_threads for lib in self._blas]
                for lib in self._blas:  # threadpoolctl's limit(), without its bookkeeping
                    lib.set_num_threads(1)
                self._check()
            self._running += 1

    def _check(self) -> None:
        threads = [lib.num_threads for lib in self._blas]
        if any(n != 1 for n in threads):
            warnings.warn(f"BLAS could not be limited to one thread in thread "
                          f"{threading.current_thread().name!r} (it runs {max(threads)}): "
                          "another thread holds a threadpoolctl limit, and threadpoolctl "
                          "then ignores the OpenBLAS limits of other threads; results may "
                          "differ in their last bits from other executors'",
                          RuntimeWarning, stacklevel=4)

    def __exit__(self, *exc: object) -> None:
        with self._lock:
            self._running -= 1
            if self._running == 0:
                for lib, n in zip(self._blas, self._original):
                    lib.set_num_threads(n)


_ONE_BLAS_THREAD = _OneBlasThread()


def one_blas_thread() -> contextlib.AbstractContextManager[None]:
    """BLAS (NumPy's and SciPy's) on one thread for a ``with`` block; nestable.

    The limit :func:`map_chunks` holds around chunks, for work on small matrices between
    larger products (a Krylov solver's basis updates and ``m x m`` eigenproblems), where a
    BLAS thread pool costs more in synchronization than it gains. Entering and leaving
    cost about 3 us when no limit is held, next to nothing inside one; when every BLAS
    already runs one thread nothing is done (a check of about 2 us).
    """
    return _ONE_BLAS_THREAD if _ONE_BLAS_THREAD.needed() else contextlib.nullcontext()


def blas_threads() -> int:
    """The most threads NumPy's or SciPy's BLAS may use now (about 2 us to ask)."""
    _ONE_BLAS_THREAD._find()
    return max((lib.num_threads for lib in _ONE_BLAS_THREAD._blas), default=1)


# The threads a serial map_chunks leaves to the chunk it runs (in that thread only).
_CHUNK_THREADS = threading.local()


def work_threads() -> int:
    """The threads :func:`map_on_blas_threads` spreads its items over now.

    :func:`blas_threads`, or inside a chunk of a serial :func:`map_chunks` (which runs it
    with BLAS on one thread) the caller's BLAS threads.
    """
    return max(blas_threads(), getattr(_CHUNK_THREADS, "n", 1))


def map_on_blas_threads(fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
    """``[fn(x) for x in items]``, side by side on :func:`work_threads` threads.

    With one BLAS thread (or one item) a plain loop; with ``n`` BLAS threads, the caller
    and ``n - 1`` threads kept for the process (:mod:`landscape.side_by_side`) run the
    items, with BLAS on one thread meanwhile (small products on a threaded BLAS mostly
    wait for each other, and spin when another process holds a core). ``fn`` must release
    the GIL for the threads to help: NumPy's products and ufuncs do. Results come in the
    order of ``items``.
    """
    n = min(len(items), work_threads())
    if n <= 1:
        return [fn(x) for x in items]
    with _ONE_BLAS_THREAD:
        return side_by_side.pool("blas", n).map([functools.partial(fn, x) for x in items])


class _Confined:
    """``fn(chunk)`` run under ``memory_budget`` with BLAS on one thread.

    A picklable wrapper: the settings of the calling block do not travel to worker
    processes by themselves. ``threads`` (a serial run's: the caller's BLAS threads) is
    what :func:`work_threads` says inside, so that :func:`map_on_blas_threads` spreads the
    chunk's own work, each item with BLAS on one thread (the bits of one thread).
    """

    def __init__(self, fn: Callable[[Any], Any], memory_budget: float,
                 threads: int = 1) -> None:
        self.fn, self.memory_budget, self.threads = fn, memory_budget, threads

    def __call__(self, chunk: Any) -> Any:
        with _ONE_BLAS_THREAD, settings_block(memory_budget=self.memory_budget):
            before, _CHUNK_THREADS.n = getattr(_CHUNK_THREADS, "n", 1), self.threads
            try:
                return self.fn(chunk)
            finally:
                _CHUNK_THREADS.n = before


def map_chunks(fn: Callable[[Any], Any], chunks: Iterable[Any],
               execution: Execution | None = None, desc: str | None = None) -> list[Any]:
    """``[fn(c) for c in chunks]``, in order, as ``execution`` says, with a progress bar.

    Parameters
    ----------
    fn : callable ``fn(chunk) -> result``; picklable for processes and Dask.
    chunks : the chunks, ``m`` of them.
    execution : :class:`~landscape.settings.Execution`, or None for the settings in force
        (:func:`~landscape.settings.current_execution`): where the chunks run, whether a
        bar shows, the cache folder that keeps finished chunks (a re-run of the same work
        computes only the missing ones) and the memory budget each chunk runs under.
    desc : the bar's label.

    Returns
    -------
    list of the ``m`` results, in the order of ``chunks``.

    Raises
    ------
    ChunkError
        When a chunk raises (or its Dask task kills too many workers); ``index`` names it.
        With a cache, the chunks that finished before it are kept.
    """
    settings = resolve(execution)
    chunks = list(chunks)
    store = None if settings.cache is None else ChunkCache.of_work(settings.cache, fn, chunks)
    results = {} if store is None else store.load(len(chunks))
    todo = [i for i in range(len(chunks)) if i not in results]
    bar = progress_bar(len(chunks), desc, settings.progress)
    bar.update(len(results))
    work = _Confined(fn, settings.memory_budget,
                     blas_threads() if settings.executor is None else 1)
    try:  # the limit is set from this thread: threadpoolctl ignores other threads' limits
        with _ONE_BLAS_THREAD, contextlib.closing(
                _finished(work, chunks, todo, settings.executor)) as finished:
            for i, result in finished:
                results[i] = result
                if store is not None:
                    store.save(i, result)
                bar.update()
    finally:
        bar.close()
    return [results[i] for i in range(len(chunks))]


#: What the executors yield: ``(index, result)`` of each chunk as it finishes.
Finished = Generator[tuple[int, Any], None, None]


def _finished(fn: Callable[[Any], Any], chunks: list[Any], todo: list[int],
              executor: Any) -> Finished:
    """``(index, fn(chunks[index]))`` for each index in ``todo``, as the chunks finish."""
    if executor is None:
        return ((i, _call(fn, i, chunks[i])) for i in todo)
    if is_dask_client(executor):
        return _on_dask(fn, chunks, todo, executor)
    return _on_pool(fn, chunks, todo, executor)


def _call(fn: Callable[[Any], Any], index: int, chunk: Any) -> Any:
    try:
        return fn(chunk)
    except Exception as err:
        raise ChunkError(index, err) from err


def _outcome(future: Any, index: int) -> Any:
    """A finished future's result, or its error as a :class:`ChunkError`."""
    try:
        return future.result()
    except Exception as err:
        raise ChunkError(index, err) from err


def exit_with_parent(parent: int) -> None:
    """Make this process end when its parent, process ``parent``, dies.

    On Linux the kernel sends this process SIGKILL when the thread that started it exits
    (``prctl(PR_SET_PDEATHSIG)``); elsewhere this is a no-op. If ``parent`` is already
    gone (it died before this ran), this process exits now. A pool worker's initializer.
    """
    if sys.platform.startswith("linux"):
        ctypes.CDLL(None).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    if os.getppid() != parent:
        os._exit(1)


def process_pool(workers: int) -> cf.ProcessPoolExecutor:
    """A pool of ``workers`` fresh processes (spawned) that die with this process.

    Close it in the thread that made it (a ``with`` block): on Linux its workers die when
    that thread ends (see :func:`exit_with_parent`).
    """
    return cf.ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context(START_METHOD),
                                  initializer=exit_with_parent, initargs=(os.getpid(),))


def _on_pool(fn: Callable[[Any], Any], chunks: list[Any], todo: list[int],
             executor: int | cf.Executor) -> Finished:
    owned = isinstance(executor, int)
    pool = executor if isinstance(executor, cf.Executor) else process_pool(executor)
    futures: dict[cf.Future[Any], int] = {}
    try:
        futures = {pool.submit(fn, chunks[i]): i for i in todo}
        for future in cf.as_completed(futures):
            yield futures[future], _outcome(future, futures[future])
    finally:
        for future in futures:
            future.cancel()
        if owned:
            pool.shutdown(cancel_futures=True)


def _on_dask(fn: Callable[[Any], Any], chunks: list[Any], todo: list[int],
             client: Any) -> Finished:
    from distributed import as_completed

    futures = client.map(fn, [chunks[i] for i in todo], pure=False)
    index = {future.key: i for future, i in zip(futures, todo)}
    try:
        for future in as_completed(futures):
            yield index[future.key], _outcome(future, index[future.key])
    finally:
        client.cancel(futures)
