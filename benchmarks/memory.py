"""Peak memory of a plane and of ``losses`` under the memory budget the caller sets.

``tracemalloc`` sees NumPy's array allocations; the peak counted is what the call itself
allocates above what existed before it (inputs such as ``thetas`` are the caller's).
"""

from __future__ import annotations

import time
import tracemalloc
from functools import partial

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

    The budget goes to both places a caller sets it: the objective
    (``model.objective(..., memory_budget=)``) and ``surface.plane(memory_budget=)``.
    """
    model, X, Y = p.objective.model, p.objective.X, p.objective.Y
    points, grid = p.points(p.spec.k), p.spec.grid
    out = []
    for budget in budgets:
        objective = model.objective(X, Y, memory_budget=budget)
        calls = {
            f"plane {grid}x{grid}": partial(plane, objective, p.thetas[0], p.directions,
                                            span=1.0, resolution=grid, progress=False,
                                            memory_budget=budget),
            f"losses of {p.spec.k} points": partial(objective.losses, points),
        }
        for name, fn in calls.items():
            out.append({"model": p.spec.name, "dtype": p.dtype.name, "call": name,
                        "budget": budget, "peak": peak_bytes(fn), "seconds": seconds(fn)})
    return out
