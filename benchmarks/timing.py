"""Timing: medians of repeated samples after a warm-up, thread limits, page-fault counts."""

from __future__ import annotations

import contextlib
import math
import resource
import statistics
import time
from typing import NamedTuple

import torch
from threadpoolctl import threadpool_limits


class Timing(NamedTuple):
    """Seconds per call: the ``median`` of ``samples``, each the mean over ``number`` calls."""

    median: float
    samples: tuple
    number: int


class Settings(NamedTuple):
    """How hard to time: ``repeat`` samples, each lasting at least ``min_time`` seconds."""

    repeat: int
    min_time: float


#: Seconds of idle after each sample, so that PyTorch's OpenMP threads (which spin a while
#: between operations) have stopped before the next function's sample. Short: on the
#: benchmark VM two threads woken after 0.1 s of idle ran the next tens of milliseconds of
#: work up to 1.8 times slower (a digits gradient 2.35 against 1.29 ms), one thread 1.1
#: times. OpenBLAS's threads spin longer (about 0.1 s): BLAS-only timings go apart
#: (``benchmarks.rows``).
SETTLE = 0.02


def compare(fns: dict, settings: Settings) -> dict:
    """Time each ``fn()`` of ``fns`` (name -> callable); returns name -> :class:`Timing`.

    Each gets a warm-up call; then the samples are interleaved (one of each in turn,
    ``settings.repeat`` rounds), so a change of load on a shared machine touches all of
    them alike and their ratios stay fair, with ``SETTLE`` seconds of idle after each. A
    sample runs ``fn`` as many times as fit in ``settings.min_time`` (once when it is 0;
    otherwise a calibration call decides).
    """
    numbers = {}
    for name, fn in fns.items():
        fn()
        numbers[name] = 1
        if settings.min_time > 0:
            start = time.perf_counter()
            fn()
            once = time.perf_counter() - start
            numbers[name] = max(1, math.ceil(settings.min_time / max(once, 1e-7)))
    samples = {name: [] for name in fns}
    for _ in range(settings.repeat):
        for name, fn in fns.items():
            start = time.perf_counter()
            for _ in range(numbers[name]):
                fn()
            samples[name].append((time.perf_counter() - start) / numbers[name])
            time.sleep(SETTLE)
    return {name: Timing(statistics.median(s), tuple(s), numbers[name])
            for name, s in samples.items()}


def page_faults(fn, calls: int = 20) -> float:
    """Minor page faults per call of ``fn()`` (after one warm-up call).

    Every fault is the kernel mapping a fresh page: memory that was returned to the system
    and asked for again (large temporaries allocated and freed on every call).
    """
    fn()
    before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
    for _ in range(calls):
        fn()
    return (resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before) / calls


@contextlib.contextmanager
def threads(n: int):
    """Run NumPy's BLAS (threadpoolctl) and PyTorch's intra-op pool on ``n`` threads."""
    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        with threadpool_limits(limits=n):
            yield
    finally:
        torch.set_num_threads(previous)
