"""Peak memory of a plane and of ``losses`` under the memory budget the caller sets.

``tracemalloc`` sees NumPy's array allocations; the peak counted is what the call itself
allocates above what existed before it (inputs such as ``thetas`` are the caller's).
"""

from __future__ import annotations

import time
import tracemalloc
from functools import partial

from landscape.settings import execution
from landscape.surface import plane


def peak_bytes(fn) -> int:
    """The most bytes allocated at once during ``fn()``."""
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def seconds(fn) -> float:
    """Seconds of one call of ``fn()``, untraced (tracing slows allocations)."""
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def rows(p, budgets) -> list[dict]:
    """Peak memory of ``p``'s plane and ``losses`` row for each budget in bytes.

    The budget is the one execution setting ``memory_budget``
    (``landscape.execution(memory_budget=...)``): it sizes the plane's chunks and the
    objective's batched passes alike.
    """
    points, grid = p.points(p.spec.k), p.spec.grid
    calls = {
        f"plane {grid}x{grid}": partial(plane, p.objective, p.thetas[0], p.directions,
                                        span=1.0, resolution=grid),
        f"losses of {p.spec.k} points": partial(p.objective.losses, points),
    }
    out = []
    for budget in budgets:
        with execution(memory_budget=budget):
            for name, fn in calls.items():
                out.append({"model": p.spec.name, "dtype": p.dtype.name, "call": name,
                            "budget": budget, "peak": peak_bytes(fn), "seconds": seconds(fn)})
    return out
