"""``python -m benchmarks.curvature [--quick] [--out PATH]``: the Gauss-Newton, Fisher and
empirical-Fisher products against the Hessian product, and against curvlinops.

On the digits-sized (64-64-64-10, 1797 samples) and MNIST-sized (784-256-256-10, 512
samples) tanh networks of :mod:`benchmarks.models`, float64, BLAS and PyTorch on one
thread, one point, products on two alternating vectors (the operators are built once, as
Lanczos uses them):

- the NumPy engine: a product of each operator of :mod:`landscape.curvature` over the
  R-operator HVP (``/HVP``), and the exact diagonal of the GGN in HVPs;
- the PyTorch adapter (:func:`landscape.torch.from_module` on the same ``nn.Sequential``):
  the same ratios over its double-backward HVP;
- curvlinops (``GGNLinearOperator``, ``HessianLinearOperator``, ``EFLinearOperator``,
  when installed; .ci/run has the recipe) on the same module, data and loss: its time over
  ours (``xcurvlinops``, above 1 we are faster) for the engine and the adapter, and the
  largest relative difference of the products (they must agree to rounding).

Writes ``benchmarks/CURVATURE.md`` and ``CURVATURE.json`` (``--quick``: into
``benchmarks/quick/``, a smoke run on the digits model whose numbers mean little).
"""

from __future__ import annotations

import argparse
import itertools
import time
from pathlib import Path

import numpy as np
import torch

from benchmarks import machine
from benchmarks.models import SPECS, build, torch_net
from benchmarks.timing import Settings, compare, threads
from landscape.curvature import empirical_fisher_operator, fisher_operator, ggn_operator
from landscape.hessian import hessian_operator
from landscape.torch import from_module

FULL = (("digits", "mnist"), Settings(repeat=7, min_time=0.05))
QUICK = (("digits",), Settings(repeat=2, min_time=0.0))
BUSY = 1.5  # load average above which the report says the times are distorted
OPERATORS = {"HVP": hessian_operator, "GGN": ggn_operator, "Fisher": fisher_operator,
             "EF": empirical_fisher_operator}


def _alternating(op, vs):
    cycle = itertools.cycle(vs)
    return lambda: op.matvec(next(cycle))


def _curvlinops(net, p) -> dict:
    """curvlinops' operators on ``net`` with the benchmark's data and loss, or {}."""
    try:
        import curvlinops
    except ImportError:
        return {}
    params, data = list(net.parameters()), [(p.X, p.target)]
    make = {"HVP": curvlinops.HessianLinearOperator, "GGN": curvlinops.GGNLinearOperator,
            "EF": curvlinops.EFLinearOperator}
    return {name: cls(net, p.loss_fn, params, data, check_deterministic=False)
            for name, cls in make.items()}


def measure(name: str, settings: Settings) -> dict:
    """Every product's time on one model, the ratios, and the agreement with curvlinops."""
    p = build(SPECS[name], np.float64)
    theta, vs = p.thetas[0], list(p.vs)
    net = torch_net(p.spec.sizes, theta)
    adapter = from_module(net, p.loss_fn, (p.X, p.target))
    engines = {"engine": p.objective, "adapter": adapter}
    fns = {f"{where} {op}": _alternating(make(objective, theta), vs)
           for where, objective in engines.items() for op, make in OPERATORS.items()}
    theirs = _curvlinops(net, p)
    tensors = [torch.from_numpy(v) for v in vs]
    for op, linear in theirs.items():
        cycle = itertools.cycle(tensors)
        fns[f"curvlinops {op}"] = lambda linear=linear, cycle=cycle: linear @ next(cycle)
    with threads(1):
        timings = compare(fns, settings)
        start = time.perf_counter()
        ggn_operator(p.objective, theta).diagonal()
        diagonal = time.perf_counter() - start
    seconds = {k: t.median for k, t in timings.items()}
    out = {"model": p.spec.label(), "dim": p.n, "n_samples": p.n_samples, "seconds": seconds,
           "engine GGN diagonal / HVP": diagonal / seconds["engine HVP"]}
    for where in engines:
        for op in ("GGN", "Fisher", "EF"):
            out[f"{where} {op} / HVP"] = seconds[f"{where} {op}"] / seconds[f"{where} HVP"]
    for op, linear in theirs.items():
        for where, objective in engines.items():
            out[f"{where} {op} xcurvlinops"] = (seconds[f"curvlinops {op}"]
                                                / seconds[f"{where} {op}"])
            ours = OPERATORS[op](objective, theta).matvec(vs[0])
            ref = (linear @ tensors[0]).numpy()
            out[f"{where} {op} vs curvlinops"] = float(np.max(np.abs(ours - ref))
                                                        / np.max(np.abs(ref)))
    return out


def report(rows: list[dict], facts: dict, command: str) -> str:
    """``CURVATURE.md``: one table of ratios, one of times, one of agreement."""
    load = facts["load average"][0]
    lines = ["# Curvature products: GGN, Fisher and empirical Fisher against the Hessian", "",
             f"`{command}`, {time.strftime('%Y-%m-%d %H:%M %Z')}; float64, one thread; medians "
             "of interleaved samples. `/HVP`: the product's time over the same library's "
             "Hessian-vector product (below 1: cheaper); the GGN's exact diagonal (10 backward "
             "passes, one per output) in HVPs. `xcurvlinops`: curvlinops' time over ours on the "
             "same PyTorch module (above 1: we are faster); 'engine' is the NumPy MLP, "
             "'adapter' `landscape.torch` on the module.", ""]
    if load > BUSY:
        lines += [f"Load average {load:.1f} on {facts['cores']} cores when the run ended: other "
                  "work shared the cores, so the times are inflated; the ratios, from "
                  "interleaved samples, are less affected.", ""]
    ratio_keys = [k for k in rows[0] if k.endswith("/ HVP") or k.endswith("xcurvlinops")]
    lines += ["| ratio | " + " | ".join(r["model"] for r in rows) + " |",
              "|---|" + "---|" * len(rows)]
    lines += [f"| {k} | " + " | ".join(f"{r.get(k, float('nan')):.2f}" for r in rows) + " |"
              for k in ratio_keys]
    lines += ["", "| product (ms) | " + " | ".join(r["model"] for r in rows) + " |",
              "|---|" + "---|" * len(rows)]
    lines += [f"| {k} | " + " | ".join(f"{1e3 * r['seconds'][k]:.3g}" for r in rows) + " |"
              for k in rows[0]["seconds"]]
    agree = [k for k in rows[0] if k.endswith("vs curvlinops")]
    if agree:
        lines += ["", "Largest difference from curvlinops' product, relative to its largest "
                  "entry: " + "; ".join(f"{r['model']} {k.removesuffix(' vs curvlinops')} "
                                        f"{r[k]:.1e}" for r in rows for k in agree) + "."]
    else:
        lines += ["", "curvlinops is not installed: no comparison (see .ci/run for the recipe)."]
    shown = ("engine", "cpu", "cores", "numpy", "torch", "torch blas", "environment",
             "load average")
    lines += ["", machine.machine_line(facts, shown), ""]
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the digits model, few samples")
    parser.add_argument("--out", type=Path, help="the report's path")
    args = parser.parse_args(argv)
    torch.set_num_interop_threads(1)
    models, settings = QUICK if args.quick else FULL
    out = machine.report_path(args.out, args.quick, "CURVATURE.md")
    rows = []
    for name in models:
        rows.append(measure(name, settings))
        print(rows[-1]["model"], {k: round(v, 3) for k, v in rows[-1].items()
                                  if isinstance(v, float)}, flush=True)
    machine.write_results(out, "curvature", args.quick, {"rows": rows},
                          lambda facts, command: report(rows, facts, command))


if __name__ == "__main__":
    main()
