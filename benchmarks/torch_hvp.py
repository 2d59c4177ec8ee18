"""``python -m benchmarks.torch_hvp [--quick] [--out PATH]``: the PyTorch adapter's HVP at a
fixed point, before and after it kept the gradient's graph, against the other ways.

On the digits-sized (64-64-64-10, 1797 samples) and MNIST-sized (784-256-256-10, 512
samples) tanh networks of :mod:`benchmarks.models` as ``nn.Sequential`` through
:func:`landscape.torch.from_module`, one point, products on two alternating vectors,
medians of interleaved samples at 1 and 2 threads (PyTorch's intra-op pool and NumPy's
BLAS), float64 and float32:

- ``kept``: the adapter's ``hvp`` (the gradient's graph kept per point,
  :mod:`landscape.torch.hvp`), NumPy in and out, inputs checked;
- ``recomputed``: the same call under a memory budget of one byte, so nothing is kept:
  the adapter's former product, a double backward from scratch at every call (forward,
  graph-building backward, backward), through the same checks and conversions;
- the products alone, tensors in and NumPy out, no checks: ``graph`` (the kept graph's
  backward), ``scratch`` (a double backward from scratch), ``jvp`` (forward-over-reverse,
  ``torch.func.jvp`` of ``torch.func.grad``, no graph kept) and ``linearize``
  (``torch.func.linearize`` of the gradient, traced once per point, then one linearized
  product per vector);
- ``gradient``: one gradient, for scale; ``engine``: the NumPy MLP's HVP at the point,
  timed apart (NumPy's BLAS threads, spinning after a product, slowed the PyTorch call
  that followed them twofold at 2 threads).

Ratios: ``kept`` and ``recomputed`` over ``recomputed``, the products alone over
``scratch``. Each product is checked against ``scratch`` first (largest difference relative
to its largest entry). Writes ``benchmarks/TORCH_HVP.md`` and ``TORCH_HVP.json`` (``--quick``: the
digits model, float64, 1 thread, into ``benchmarks/quick/``).
"""

from __future__ import annotations

import argparse
import itertools
import os
import time
from pathlib import Path

import numpy as np
import torch
from torch.func import grad, jvp, linearize

from benchmarks import machine
from benchmarks.models import SPECS, build
from benchmarks.timing import Settings, compare, threads
from landscape.settings import execution
from landscape.torch import from_module
from landscape.torch.hvp import gradient

FULL = {"models": ("digits", "mnist"), "dtypes": (np.float64, np.float32), "threads": (1, 2),
        "settings": Settings(repeat=7, min_time=0.05)}
QUICK = {"models": ("digits",), "dtypes": (np.float64,), "threads": (1,),
         "settings": Settings(repeat=2, min_time=0.0)}
METHODS = ("kept", "recomputed", "graph", "scratch", "jvp", "linearize")
WRAPPED = ("kept", "recomputed")  # through the objective's hvp
BUSY = 1.5


def _products(p) -> dict:
    """name -> ``v -> H v`` (NumPy in, NumPy float64 out) at the problem's first point."""
    obj = from_module(p.nets[0], p.loss_fn, (p.X, p.target), dtype=p.nets[0][0].weight.dtype)
    theta = p.thetas[0].astype(np.float64)
    flat = obj._to_torch(theta)
    ((x, y),) = obj._batches
    loss = lambda t: obj._batch_loss(t, x, y)  # noqa: E731

    def scratch(v):
        leaf = flat.detach().requires_grad_(True)
        (g,) = torch.autograd.grad(loss(leaf), leaf, create_graph=True)
        return torch.autograd.grad(g, leaf, obj._to_torch(v))[0]

    _, linear = linearize(grad(loss), flat)
    kept, _ = gradient(loss, flat)
    alone = from_module(p.nets[0], p.loss_fn, (p.X, p.target), dtype=obj.torch_dtype)

    def recomputed(v):
        with execution(memory_budget=1):  # its own objective: never a graph kept
            return alone.hvp(theta, v)

    return {"kept": lambda v: obj.hvp(theta, v), "recomputed": recomputed,
            "graph": lambda v: kept.product(obj._to_torch(v)).double().numpy(),
            "scratch": lambda v: scratch(v).double().numpy(),
            "jvp": lambda v: jvp(grad(loss), (flat,), (obj._to_torch(v),))[1].double().numpy(),
            "linearize": lambda v: linear(obj._to_torch(v)).double().numpy(),
            "gradient": lambda v: obj.grad(theta),
            "engine": lambda v: p.objective.hvp(theta, v)}


def measure(name: str, dtype, thread_counts, settings: Settings) -> list[dict]:
    """Rows of milliseconds and ratios over ``scratch`` per thread count."""
    p = build(SPECS[name], dtype)
    fns = _products(p)
    vs = [v.astype(np.float64) for v in p.vs]
    ref = fns["scratch"](vs[0])
    agree = {m: float(np.max(np.abs(fns[m](vs[0]) - ref)) / np.max(np.abs(ref)))
             for m in METHODS}
    rows = []
    for n in thread_counts:
        cycles = {m: itertools.cycle(vs) for m in fns}
        timed = {m: (lambda m=m, c=cycles: fns[m](next(c[m]))) for m in fns}
        engine = {"engine": timed.pop("engine")}
        with threads(n):  # NumPy's idle BLAS threads would spin beside PyTorch's: apart
            timing = compare(timed, settings) | compare(engine, settings)
        ms = {m: 1e3 * t.median for m, t in timing.items()}
        rows.append({"model": SPECS[name].label(), "dtype": np.dtype(dtype).name, "threads": n,
                     "ms": ms, "ratio": {m: ms[m] / ms["recomputed" if m in WRAPPED else "scratch"]
                                         for m in ms},
                     "difference from scratch": agree})
    return rows


def report(rows: list[dict], facts: dict, command: str, load: float) -> str:
    """``TORCH_HVP.md``: one table of milliseconds and ratios."""
    names = list(rows[0]["ms"])
    lines = ["# The PyTorch adapter's HVP at a fixed point", "",
             f"`{command}`, {time.strftime('%Y-%m-%d %H:%M %Z')}; medians of interleaved "
             "samples, ms per product, and in parentheses the ratio: `kept` over `recomputed` "
             "(the adapter's call now and as it was), the products alone over `scratch` (a "
             "double backward from scratch); below 1: faster. See the module docstring of "
             "`benchmarks/torch_hvp.py` for each column.", "",
             f"Load average at the start: {load:.1f} on {facts['cores']} cores"
             + (" (other work shared the cores: times are inflated, the 2-thread ones most)"
                if load > BUSY else "") + ".", "",
             "| model | dtype | threads | " + " | ".join(names) + " |",
             "|---|---|---|" + "---|" * len(names)]
    for r in rows:
        lines.append(f"| {r['model']} | {r['dtype']} | {r['threads']} | " + " | ".join(
            f"{r['ms'][m]:.3g} ({r['ratio'][m]:.2f})" for m in names) + " |")
    lines += ["", "Largest difference from `scratch`, relative to its largest entry: "
              + "; ".join(f"{r['model']} {r['dtype']}: " + ", ".join(
                  f"{m} {e:.1e}" for m, e in r["difference from scratch"].items())
                  for r in rows if r["threads"] == rows[0]["threads"]) + ".", ""]
    shown = ("engine", "cpu", "cores", "numpy", "torch", "torch blas", "environment",
             "load average")
    lines += [machine.machine_line(facts, shown), ""]
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="digits, float64, one thread")
    parser.add_argument("--out", type=Path, help="the report's path")
    args = parser.parse_args(argv)
    torch.set_num_interop_threads(1)
    config = QUICK if args.quick else FULL
    out = machine.report_path(args.out, args.quick, "TORCH_HVP.md")
    load = os.getloadavg()[0]
    rows = []
    for name in config["models"]:
        for dtype in config["dtypes"]:
            rows += measure(name, dtype, config["threads"], config["settings"])
            print(rows[-1], flush=True)
    machine.write_results(out, "torch_hvp", args.quick, {"load at start": load, "rows": rows},
                          lambda facts, command: report(rows, facts, command, load))


if __name__ == "__main__":
    main()
