"""PyTorch work side by side on threads, and memory that glibc keeps between products.

- :func:`side_by_side` (:func:`run`): functions on ``n`` threads, ``n - 1`` kept for the
  process (:func:`pool`) and the caller, each running PyTorch on one thread (OpenMP's and
  MKL's thread counts are per thread). PyTorch's own threads split every operation and
  meet after each one; separate products meet once, at their end, and a thread that the
  system puts aside (another process on its core) delays only its own work. Used by
  :mod:`landscape.torch.hvp` for the parts of a product and for several products.
- :func:`torch_threads`: PyTorch on ``n`` threads in this thread for a ``with`` block.
- :func:`keep_freed_memory`: glibc keeps the blocks a product frees for the next.
"""

from __future__ import annotations

import contextlib
import ctypes
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import torch

from landscape import side_by_side as side_by_side_pool


def _one_torch_thread() -> None:
    torch.get_num_threads()  # this thread's count initialized before it is set
    torch.set_num_threads(1)  # OpenMP's and MKL's counts are per thread


def pool(n: int) -> side_by_side_pool.Pool:
    """The process's pool for ``n`` threads: ``n - 1`` kept threads and the caller."""
    previous = torch.get_num_threads()
    try:
        return side_by_side_pool.pool("torch", n, _one_torch_thread)
    finally:  # a new thread's set_num_threads also sets the count new threads start with
        torch.set_num_threads(previous)


def side_by_side(fns: Sequence[Callable[[], Any]]) -> list[Any]:
    """``[fn() for fn in fns]``, on the pool of ``torch.get_num_threads()`` threads.

    A loop in this thread when PyTorch may use one thread or there is one ``fn``.
    """
    return run(fns, torch.get_num_threads())


def run(fns: Sequence[Callable[[], Any]], n: int) -> list[Any]:
    """:func:`side_by_side` on ``n`` threads (one ``fn``: here, on PyTorch's ``n`` threads)."""
    if n == 1:
        return [fn() for fn in fns]
    if len(fns) == 1:
        with torch_threads(n):
            return [fns[0]()]
    return pool(n).map(fns, caller=lambda: torch_threads(1))


@contextlib.contextmanager
def torch_threads(n: int) -> Iterator[None]:
    """PyTorch on ``n`` threads in this thread for a ``with`` block (about 0.1 us)."""
    before = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def keep_freed_memory() -> None:
    """Have glibc keep in the heap the blocks PyTorch frees between products (once a process).

    glibc returns freed memory to the system past a threshold that grows with the largest
    block freed so far, up to 32 MB; until it has grown, each product's temporaries come back
    as fresh pages, faulted in one by one: 300-1,000 page faults per digits product in
    float64, which took 7.5 ms instead of 5.6 (float32 2.6 against 2.3 ms, a gradient 4.5
    against 4.0). Freeing one block of 32 MB raises the threshold to its cap at once, as the
    first large array any program frees does; the heap then keeps up to 64 MB free before
    returning memory. Does nothing on other C libraries, nor a second time.
    """
    global _KEPT
    if _KEPT:
        return
    _KEPT = True
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version  # noqa: B018 - glibc only (AttributeError elsewhere)
    except (OSError, AttributeError):
        return
    malloc, free = libc.malloc, libc.free
    malloc.restype, malloc.argtypes = ctypes.c_void_p, [ctypes.c_size_t]
    free.restype, free.argtypes = None, [ctypes.c_void_p]
    block = malloc(32 * 2**20 - 8192)  # mapped on its own (over the threshold), then freed
    if block:
        free(block)


_KEPT = False
