"""Map a function over chunks of work: serially, in local processes, or on Dask distributed.

Long work (grids, sweeps of many runs) is split into chunks by the caller and handed to
:func:`map_chunks` with an ``executor`` argument:

- ``None``: serial, in this process (the default);
- an int ``n``: a local ``ProcessPoolExecutor`` with ``n`` workers, opened and closed here;
- any ``concurrent.futures.Executor``;
- a ``dask.distributed.Client`` (extra ``dask``): its ``get_executor()`` is used.

Results come back in the order of the chunks whatever the executor, so the numbers are
identical to the serial run as long as each chunk is computed deterministically (random
chunks carry their own seeds). ``fn`` and the chunks must be picklable for processes and
Dask (module-level functions, ``functools.partial``).
"""

from __future__ import annotations

import concurrent.futures as cf
from collections.abc import Callable, Iterable, Sequence


class ChunkError(RuntimeError):
    """A chunk of work raised; ``index`` says which, the cause is chained."""

    def __init__(self, index: int, error: BaseException):
        super().__init__(f"chunk {index} failed: {type(error).__name__}: {error}")
        self.index = index


def progress_bar(total: int, desc: str | None, enabled: bool):
    """A tqdm bar, silent when output is not a terminal; a no-op without tqdm."""
    try:
        from tqdm.auto import tqdm
    except ImportError:  # tqdm is optional (extra 'progress')
        return _NoBar()
    return tqdm(total=total, desc=desc, disable=None if enabled else True, leave=False)


class _NoBar:
    def update(self, n=1):
        pass

    def close(self):
        pass


def _as_executor(executor):
    """``(executor, owned)``: an Executor for ``executor`` and whether we must shut it down."""
    if isinstance(executor, bool) or not isinstance(executor, (int, cf.Executor)):
        if hasattr(executor, "get_executor"):  # dask.distributed.Client
            return executor.get_executor(), False
        raise ValueError("executor must be None, a number of processes, a "
                         f"concurrent.futures.Executor or a dask Client, got {executor!r}")
    if isinstance(executor, int):
        if executor < 1:
            raise ValueError(f"executor as a number of processes must be >= 1, got {executor}")
        return cf.ProcessPoolExecutor(executor), True
    return executor, False


def map_chunks(fn: Callable, chunks: Sequence | Iterable, executor=None, progress: bool = True,
               desc: str | None = None) -> list:
    """``[fn(c) for c in chunks]``, in order, on the chosen executor, with a progress bar.

    A chunk that raises is reported as :class:`ChunkError` naming its index.
    """
    chunks = list(chunks)
    bar = progress_bar(len(chunks), desc, progress)
    try:
        if executor is None:
            return [_call(fn, i, c, bar) for i, c in enumerate(chunks)]
        pool, owned = _as_executor(executor)
        try:
            futures = {pool.submit(fn, c): i for i, c in enumerate(chunks)}
            results = [None] * len(chunks)
            for fut in cf.as_completed(futures):
                i = futures[fut]
                try:
                    results[i] = fut.result()
                except Exception as err:
                    for other in futures:
                        other.cancel()
                    raise ChunkError(i, err) from err
                bar.update()
            return results
        finally:
            if owned:
                pool.shutdown(cancel_futures=True)
    finally:
        bar.close()


def _call(fn, index, chunk, bar):
    try:
        result = fn(chunk)
    except Exception as err:
        raise ChunkError(index, err) from err
    bar.update()
    return result
