"""Peak memory of a plane, of a grid in three Hessian directions and of ``losses`` under the
memory budget the caller sets.

``tracemalloc`` sees NumPy's array allocations; the peak counted is what the call itself
allocates above what existed before it (inputs such as ``thetas`` are the caller's).
"""

from __future__ import annotations

import time
import tracemalloc
from functools import partial

from landscape.directions import hessian_directions
from landscape.hessian import eigenpairs, hessian_operator
from landscape.settings import execution
from landscape.surface import grid, plane


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
    """Peak memory of ``p``'s plane, a grid of about as many points in the top three Hessian
    directions, and ``losses`` row, for each budget in bytes.

    The budget is the one execution setting ``memory_budget``
    (``landscape.execution(memory_budget=...)``): it sizes the grids' chunks and the
    objective's batched passes alike (a grid in ``d`` directions holds its values for the
    whole call and gives its chunks what is left).
    """
    points, side = p.points(p.spec.k), p.spec.grid
    cube = round(side ** (2 / 3))  # about the plane's number of points
    top3 = hessian_directions(eigenpairs(hessian_operator(p.objective, p.thetas[0]), k=3,
                                         which="LA", rng=0))
    calls = {
        f"plane {side}x{side}": partial(plane, p.objective, p.thetas[0], p.directions,
                                        span=1.0, resolution=side),
        f"grid {cube}^3, top-3 Hessian": partial(grid, p.objective, p.thetas[0], top3,
                                                 span=1.0, resolution=cube),
        f"losses of {p.spec.k} points": partial(p.objective.losses, points),
    }
    out = []
    for budget in budgets:
        with execution(memory_budget=budget):
            for name, fn in calls.items():
                out.append({"model": p.spec.name, "dtype": p.dtype.name, "call": name,
                            "budget": budget, "peak": peak_bytes(fn), "seconds": seconds(fn)})
    return out
