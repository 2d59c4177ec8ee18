"""``python -m benchmarks [--quick] [--out DIR]``: the engine against PyTorch and the BLAS floor.

Writes ``RESULTS.md`` and ``results.json`` into ``DIR`` (default: ``benchmarks/`` for the
full run, ``benchmarks/quick/`` for ``--quick``, a smoke run of a few seconds whose numbers
mean little), ``PEERS.md`` and ``PEERS.json`` there from :mod:`benchmarks.peers`
(unless ``--skip-peers``), and ``PRODUCTS.md`` and ``PRODUCTS.json`` from
:mod:`benchmarks.products`.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch

from benchmarks import eigen, machine, memory, native, peers, products, reference, report, rows
from benchmarks.models import SPECS, build
from benchmarks.timing import Settings, threads

# PyTorch's inter-op pool can be sized once per process, before any parallel work. Eager
# CPU code runs its operators one after another, so one thread; the intra-op pool (the
# one that runs a matmul) is set per measurement, like NumPy's BLAS.
torch.set_num_interop_threads(1)

HERE = Path(__file__).parent
DTYPES = (np.float64, np.float32)
BUSY = 1.5  # load average above which a run warns that its timings are distorted


class Config(NamedTuple):
    """What one run measures."""

    models: tuple
    threads: tuple
    speeds: rows.Speeds
    eigen_models: tuple
    memory_model: str
    budgets: tuple
    max_lanczos_steps: int


FULL = Config(("tiny", "digits", "mnist"), (1, 2),
              rows.Speeds(Settings(repeat=7, min_time=0.05), Settings(repeat=3, min_time=0.0)),
              ("tiny", "digits", "mnist"), "digits", (4e6, 32e6, 256e6), 150)
QUICK = Config(("tiny", "digits"), (1,),
               rows.Speeds(Settings(repeat=2, min_time=0.002), Settings(repeat=1, min_time=0.0)),
               ("tiny",), "tiny", (1e6,), 60)


def _quick_spec(spec):
    return dataclasses.replace(spec, grid=min(spec.grid, 7), k=min(spec.k, 50),
                               power_cap=min(spec.power_cap, 2000))


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _timing_rows(config: Config, specs: dict, results: dict) -> None:
    for name in config.models:
        for dtype in DTYPES:
            p = build(specs[name], dtype)
            with threads(1):
                errors = reference.agreement(p)
            results["agreement"].append({"model": name, "dtype": p.dtype.name, **errors})
            for n in config.threads:
                with threads(n):
                    for row_fn in rows.ROWS:
                        row = row_fn(p, n, config.speeds)
                        results["rows"].append(report.row_record(row))
                        _say(report.row_line(row))


def _peaks(config: Config, results: dict) -> None:
    for dtype in DTYPES:
        for n in config.threads:
            with threads(n):
                gflops = rows.peak(dtype, config.speeds)
            results["peaks"].append({"dtype": np.dtype(dtype).name, "threads": n, **gflops})


def _eigen_rows(config: Config, specs: dict, results: dict) -> None:
    for name in config.eigen_models:
        p = build(specs[name], np.float64)
        objective, theta = p.objective, p.thetas[0]
        with threads(1):
            ref = eigen.reference(objective, theta)
            krylov = eigen.krylov(objective, theta, ref, config.max_lanczos_steps)
            for task in eigen.TASKS:
                record = {
                    "model": name, "task": task, "reference": ref.method,
                    "answer": eigen.answer(ref, task).tolist(),
                    "power": eigen.power(objective, theta, task, ref, specs[name].power_cap),
                    "lanczos": krylov[task],
                    "library": eigen.library(objective, theta, task, ref),
                }
                results["eigen"].append(report.eigen_record(record))
                _say(report.eigen_line(record))


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a smoke run of a few seconds")
    parser.add_argument("--out", type=Path, help="folder for RESULTS.md and results.json")
    parser.add_argument("--skip-peers", action="store_true",
                        help="leave out python -m benchmarks.peers (PEERS.md)")
    args = parser.parse_args(argv)
    config = QUICK if args.quick else FULL
    specs = {name: _quick_spec(s) if args.quick else s for name, s in SPECS.items()}
    out = args.out or (HERE / "quick" if args.quick else HERE)
    load = os.getloadavg()[0]
    if load > BUSY:
        _say(f"warning: load average {load:.2f} > {BUSY}: other work will distort the timings")
    start = time.perf_counter()
    results = {"command": "python -m benchmarks" + (" --quick" if args.quick else ""),
               "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "machine": machine.facts(),
               "rows": [], "agreement": [], "peaks": [], "eigen": [], "memory": []}
    _timing_rows(config, specs, results)
    _peaks(config, results)
    _eigen_rows(config, specs, results)
    with threads(1):
        results["memory"] = memory.rows(build(specs[config.memory_model], np.float64),
                                        config.budgets)
    results["native"] = native.rows(args.quick)
    if not args.skip_peers:  # its own spawned processes; writes PEERS.md beside RESULTS.md
        found = peers.run(args.quick, out)
        results["peers"] = {"file": "PEERS.md", "reading": found["reading"],
                            "seconds": found["seconds"]}
    found = products.run(args.quick, out / "PRODUCTS.md")  # counts: cheap, in this process
    results["products"] = {"reading": found["reading"], "seconds": found["seconds"]}
    results["seconds"] = time.perf_counter() - start
    results["load average after"] = machine.facts()["load average"]
    for path in report.write(results, out):
        _say(f"wrote {path}")


if __name__ == "__main__":
    main()
