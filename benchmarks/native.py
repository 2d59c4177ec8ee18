"""The gradient against its matrix-product floor, with ``OPENBLAS_CORETYPE`` as set and unset.

``python -m benchmarks.native [--quick]`` (about a minute; also run by ``python -m
benchmarks``). This machine sets ``OPENBLAS_CORETYPE`` (an older kernel than OpenBLAS would
pick), which slows the products: the ratio of the gradient to its floor is fair either way,
but the times are not, so both settings are measured, each in a fresh process (OpenBLAS
reads the variable when it loads). Tests and CI never change it.

Each child times the engine's gradient (two points in turn, so every call is a new point)
and, apart (OpenBLAS's threads spin on for a while after a threaded product, and took the
other core from the engine's next call), its floor (:func:`benchmarks.floor.products`, the
same matrix products alone) on the digits- and MNIST-sized models, float64 and float32, at
1 and 2 threads, and prints one JSON line per row.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

import numpy as np

SETTINGS = {"as set": "OPENBLAS_CORETYPE as the machine sets it",
            "native": "OPENBLAS_CORETYPE unset (OpenBLAS's own choice of kernel)"}
MODELS = ("digits", "mnist")


def _measure(models, repeat: int) -> None:
    from benchmarks.floor import products
    from benchmarks.models import SPECS, build
    from benchmarks.timing import Settings, compare, threads

    for name in models:
        for dtype in (np.float64, np.float32):
            problem = build(SPECS[name], dtype)
            objective, (a, b) = problem.objective, problem.thetas[:2]
            floor = products(SPECS[name].sizes, objective.n_samples, "gradient", dtype)
            calls = {"gradient": lambda o=objective, a=a, b=b: (o.grad(a), o.grad(b)),
                     "floor": lambda f=floor: (f(), f())}
            for n in (1, 2):
                with threads(n):  # apart: OpenBLAS's threads spin on after the floor's
                    t = {k: compare({k: f}, Settings(repeat=repeat, min_time=0.1))[k]
                         for k, f in calls.items()}
                print(json.dumps({"model": name, "dtype": np.dtype(dtype).name, "threads": n,
                                  "gradient ms": t["gradient"].median * 500,
                                  "floor ms": t["floor"].median * 500,
                                  "load": os.getloadavg()[0]}), flush=True)


def rows(quick: bool = False) -> list[dict]:
    """Every row, under each of :data:`SETTINGS` (the native rows only where it is set)."""
    out = []
    for setting in SETTINGS:
        env = dict(os.environ)
        if setting == "native":
            if "OPENBLAS_CORETYPE" not in env:
                continue
            del env["OPENBLAS_CORETYPE"]
        command = [sys.executable, "-m", "benchmarks.native", "--measure"] + (
            ["--quick"] if quick else [])
        lines = subprocess.run(command, env=env, check=True, capture_output=True,
                               text=True).stdout.splitlines()
        out += [{**json.loads(line), "setting": setting} for line in lines]
    return out


def table(found: list[dict]) -> list[str]:
    """The markdown table of :func:`rows`."""
    lines = ["| setting | model | dtype | threads | gradient ms | floor ms | /floor | load |",
             "|---|---|---|---|---|---|---|---|"]
    for r in found:
        lines.append(f"| {r['setting']} | {r['model']} | {r['dtype']} | {r['threads']} | "
                     f"{r['gradient ms']:.3g} | {r['floor ms']:.3g} | "
                     f"{r['gradient ms'] / r['floor ms']:.2f} | {r['load']:.1f} |")
    return lines


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.native", description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--measure", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        _measure(MODELS[:1] if args.quick else MODELS, 2 if args.quick else 9)
        return
    print("\n".join(table(rows(args.quick))))


if __name__ == "__main__":
    main()
