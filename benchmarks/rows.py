"""The rows of the suite: the engine and its references timed together on one Problem.

Every row times the engine, its references (PyTorch, per-point loops) and, where it has
one, the BLAS floor (:mod:`benchmarks.floor`) in one interleaved measurement. Calls
alternate between two parameter points (or two HVP directions), so the engine's cache of
the last point never answers a timed call it should compute.
"""

from __future__ import annotations

import itertools
import time
from typing import NamedTuple

import numpy as np
import torch

from benchmarks import floor, reference
from benchmarks.timing import Settings, Timing, compare, page_faults
from landscape.surface import plane

BLAS_SPIN = 0.15  # seconds: OpenBLAS's threads spin about 0.1 s after a threaded product


class Speeds(NamedTuple):
    """Timing settings for fast calls (many per sample) and slow ones (grids, loops)."""

    fast: Settings
    slow: Settings


class Row(NamedTuple):
    """One measured row.

    engine, references (name -> Timing) : seconds per call. floor : seconds of just the
    matrix products of one engine call (None where not measured). flops : their count.
    extra : other facts (points, page faults per call).
    """

    model: str
    dtype: str
    threads: int
    name: str
    engine: Timing
    references: dict
    floor: float | None
    flops: float
    extra: dict


def _cycle(fn, items):
    items = itertools.cycle(items)
    return lambda: fn(next(items))


def _compare(fns: dict, apart: dict, settings) -> dict:
    """:func:`compare` of ``fns``, then of the BLAS-only ``apart`` (the floor, BLAS peak).

    Apart, because OpenBLAS's threads spin for about 0.1 s after a threaded product and
    took the other core from the engine's next calls: the engine's digits gradient at 2
    threads measured 2.3 ms interleaved with its floor and 1.4 ms without. The pause after
    them lets the spinning end before the next row.
    """
    timings = compare(fns, settings) | compare(apart, settings)
    time.sleep(BLAS_SPIN)
    return timings


def _row(p, threads, name, timings, products=None, extra=None) -> Row:
    engine = timings.pop("engine")
    floor_s, flops = None, 0.0
    if products is not None:
        floor_s, flops = timings.pop("floor").median * products.scale, products.flops
    return Row(p.spec.name, p.dtype.name, threads, name, engine, timings, floor_s, flops,
               extra or {})


def loss(p, threads: int, speeds: Speeds) -> Row:
    """The loss at one point: engine against PyTorch without a graph."""
    products = floor.products(p.spec.sizes, p.n_samples, "loss", p.dtype)
    timings = _compare({
        "engine": _cycle(p.objective.loss, p.thetas),
        "torch": _cycle(lambda net: reference.loss(net, p), p.nets),
    }, {"floor": products}, speeds.fast)
    return _row(p, threads, "loss", timings, products)


def gradient(p, threads: int, speeds: Speeds) -> Row:
    """The gradient: backpropagation against autograd."""
    products = floor.products(p.spec.sizes, p.n_samples, "gradient", p.dtype)
    engine = _cycle(p.objective.grad, p.thetas)
    torch_grad = _cycle(lambda net: reference.gradient(net, p), p.nets)
    timings = _compare({"engine": engine, "torch autograd": torch_grad}, {"floor": products},
                       speeds.fast)
    faults = {"page faults": page_faults(engine), "torch page faults": page_faults(torch_grad)}
    return _row(p, threads, "gradient", timings, products, faults)


def hvp(p, threads: int, speeds: Speeds) -> Row:
    """The HVP at a new point each call: R-operator against double backward and torch.func."""
    products = floor.products(p.spec.sizes, p.n_samples, "hvp", p.dtype)
    v = p.tensors(p.vs[0])
    engine = _cycle(lambda theta: p.objective.hvp(theta, p.vs[0]), p.thetas)
    timings = _compare({
        "engine": engine,
        "torch double backward": _cycle(lambda net: reference.hvp_double_backward(net, p, v),
                                        p.nets),
        "torch.func": _cycle(lambda net: reference.hvp_func(net, p, v), p.nets),
    }, {"floor": products}, speeds.fast)
    return _row(p, threads, "hvp", timings, products, {"page faults": page_faults(engine)})


def hvp_at_point(p, threads: int, speeds: Speeds) -> Row:
    """Many HVPs at one point (what Lanczos does): the engine's cached passes against
    PyHessian's retained gradient graph."""
    products = floor.products(p.spec.sizes, p.n_samples, "hvp at a point", p.dtype)
    retained = reference.RetainedHVP(p.nets[0], p)
    theta = p.thetas[0]
    timings = _compare({
        "engine": _cycle(lambda v: p.objective.hvp(theta, v), p.vs),
        "torch retained graph": _cycle(retained, [p.tensors(v) for v in p.vs]),
    }, {"floor": products}, speeds.fast)
    return _row(p, threads, "hvp at a point", timings, products)


def losses(p, threads: int, speeds: Speeds) -> Row:
    """``losses`` of ``k`` points against the loop of ``loss`` over them."""
    points = p.points(p.spec.k)
    timings = compare({
        "engine": lambda: p.objective.losses(points),
        "loop of loss": lambda: [p.objective.loss(t) for t in points],
    }, speeds.slow)
    return _row(p, threads, "losses", timings, extra={"points": p.spec.k})


def _loop_plane(objective, center, directions, axis) -> np.ndarray:
    d1, d2 = directions
    return np.array([[objective.loss(center + a * d1 + b * d2) for b in axis] for a in axis])


def plane_row(p, threads: int, speeds: Speeds) -> Row:
    """A ``grid x grid`` plane through ``surface.plane`` against PyTorch's per-point loop
    (and, on the tiny model, the engine's own per-point loop of ``loss``); the floor and
    BLAS peak right after them (:func:`_compare`)."""
    grid, center = p.spec.grid, p.thetas[0]
    axis = p.axis(grid)
    products = floor.plane_products(p.spec.sizes, p.n_samples, grid * grid, p.dtype)
    peak = floor.peak(p.dtype)
    t_center, t_directions = reference.plane_args(p)
    fns = {
        "engine": lambda: plane(p.objective, center, p.directions, span=1.0, resolution=grid),
        "torch loop": lambda: reference.plane_loop(p.nets[0], p, t_center, t_directions, axis),
    }
    if p.spec.name == "tiny":
        directions = p.directions.astype(p.dtype)
        fns["loop of loss"] = lambda: _loop_plane(p.objective, center, directions, axis)
    timings = _compare(fns, {"floor": products, "peak": peak}, speeds.slow)
    peak_gflops = peak.flops / timings.pop("peak").median / 1e9
    return _row(p, threads, "plane", timings, products,
                {"points": grid * grid, "peak GF/s": peak_gflops})


ROWS = (loss, gradient, hvp, hvp_at_point, losses, plane_row)


def peak(dtype, speeds: Speeds) -> dict:
    """GF/s of a 2048 x 2048 product in NumPy's BLAS and in PyTorch's."""
    products = floor.peak(dtype)
    a, b, _ = products.operands[0]
    ta, tb = torch.from_numpy(np.ascontiguousarray(a)), torch.from_numpy(b)
    out = torch.empty_like(ta)
    timings = compare({"numpy": products, "torch": lambda: torch.mm(ta, tb, out=out)},
                      speeds.slow)
    return {name: products.flops / t.median / 1e9 for name, t in timings.items()}
