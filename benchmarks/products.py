"""``python -m benchmarks.products [--quick] [--out PATH]``: Hessian-vector products to meet
each tool's stopping rule, and the eigenvalue error reached, over many start vectors.

One start vector per tool makes a product count a lottery (a count moves by 1-2 from one
start to the next): ``PEERS.md`` compares one start each. Here every tool runs from the
same 20 start vectors, start ``s`` being the first draw of
``numpy.random.default_rng(s)`` (what :func:`landscape.hessian.eigenpairs` draws for
``rng=s``), on the tiny (2-16-16-1) and digits-sized (64-64-64-10) networks of
:mod:`benchmarks.models` at their first point, float64 and float32, for top-1, top-5 and
bottom-1 at ``tol`` 1e-6 and 1e-8. Per tool and start: the products spent and the largest
relative error of the wanted eigenvalues against the float64 dense Hessian's
(:func:`benchmarks.peers.reference`; float32 is judged against it too).

- **landscape**: ``eigenpairs(H, k, which, rng=s, method='lanczos', tol=tol)`` on the
  engine's ``hessian_operator`` (thick-restart Lanczos, default ``ncv``; it stops at the
  first product after which every wanted Ritz pair has ``‖H y - θ y‖ <= tol |θ|``).
- **hessian-eigenthings** 1.0 (``lanczos``, full reorthogonalization, in the network's
  dtype): it spends exactly ``max_iter`` products and only flags convergence
  (``|β_m s_mi| < tol |θ_i|``), so its count is the fewest ``max_iter`` whose flag holds,
  read off one ``STEPS``-step ``lanczos_tridiagonal`` prefix by prefix with its own
  ``eigh`` and flag (a prefix of its run is the shorter run, step for step). Its own
  ``seed=s`` draws ``torch.randn`` vectors instead: other Gaussian vectors, from the same
  distribution, so the shared starts change nothing but the pairing.
- **eigsh** (what curvlinops runs; its ``to_scipy()`` operator is float64 for either
  dtype, so the engine's operator stands in for it): SciPy's default ``ncv`` (``max(2k + 1,
  20)``), ``maxiter`` as in ``PEERS.md``.
- **landscape to an anchor's error**: the fewest products after which our Ritz values are
  as accurate as the anchor's answer from the same start (plain Lanczos,
  :func:`landscape.hessian.lanczos`, from that start for ``STEPS`` steps: the basis
  ``eigenpairs`` builds up to its first restart, at ``ncv`` = 50 products). Errors within
  rounding count as equal: the target is the anchor's error plus the error our Ritz values
  settle at (the largest over the run's last ``SETTLED`` products: a few 1e-15 in float64,
  and in float32 the distance of its Hessian's eigenvalues from float64's, 2e-8 to 6e-8).

Counts, not times: run it under ``nice``; BLAS and PyTorch on one thread. Writes
``PRODUCTS.md`` and ``PRODUCTS.json`` into ``benchmarks/`` (``--quick``: the tiny model in
float64, three starts, into ``benchmarks/quick/``).
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np
from scipy.linalg import eigvalsh_tridiagonal
from scipy.sparse.linalg import ArpackNoConvergence, eigsh

from benchmarks import machine
from benchmarks.models import SPECS, build
from benchmarks.peers import reference
from benchmarks.peers_tools import EIGEN, RESTARTS, TOLS
from benchmarks.timing import threads
from landscape.hessian import CountingOperator, eigenpairs, hessian_operator, lanczos

STEPS = 80  # plain Lanczos and hessian-eigenthings runs, read prefix by prefix
SETTLED = 10  # the last products of a plain Lanczos run, where its error has settled
FULL = {"models": ("tiny", "digits"), "dtypes": ("float64", "float32"), "seeds": 20}
QUICK = {"models": ("tiny",), "dtypes": ("float64",), "seeds": 3}
WORKLOADS = [(f"{task} {tol:g}", task, tol) for tol in TOLS for task in EIGEN]


def _error(values, exact: np.ndarray, task: str) -> float:
    """Largest relative error of ``task``'s eigenvalues ``values`` (any order); ``exact``
    ascending, the whole spectrum."""
    k, which = EIGEN[task]
    want = exact[-k:] if which == "LA" else exact[:k]
    found = np.sort(np.asarray(values, dtype=float))
    return float(np.max(np.abs(found - want) / np.abs(want))) if found.size == k else np.inf


def _start(n: int, seed: int) -> np.ndarray:
    """Start ``seed``: ``eigenpairs(rng=seed)``'s start vector, ``(n,)``."""
    return np.random.default_rng(seed).standard_normal(n)


def _ours(H, exact: np.ndarray, seed: int) -> dict:
    """Workload -> (products, error, converged) of ``eigenpairs`` from start ``seed``."""
    out = {}
    for name, task, tol in WORKLOADS:
        k, which = EIGEN[task]
        s = eigenpairs(H, k, which, rng=seed, method="lanczos", tol=tol, maxiter=RESTARTS)
        out[name] = (s.n_hvp, _error(s.eigenvalues, exact, task), bool(s.converged))
    return out


def _path(H, exact: np.ndarray, v0: np.ndarray) -> dict:
    """Task -> ``(STEPS,)`` our Ritz values' error after each product from ``v0``."""
    run = lanczos(H, v0, STEPS)
    out = {task: np.full(STEPS, np.inf) for task in EIGEN}
    for m in range(1, run.alpha.size + 1):
        theta = eigvalsh_tridiagonal(run.alpha[:m], run.beta[:m - 1])
        for task, (k, which) in EIGEN.items():
            if m >= k:
                out[task][m - 1] = _error(theta[-k:] if which == "LA" else theta[:k], exact, task)
    return out


def _reach(path: np.ndarray, error: float) -> int | None:
    """The fewest products after which ``path`` (errors per product) is within ``error`` up
    to rounding: ``error`` plus the largest error of ``path``'s last ``SETTLED`` products."""
    hit = np.flatnonzero(path <= error + np.max(path[-SETTLED:]))
    return int(hit[0]) + 1 if hit.size else None


def _eigsh(H, exact: np.ndarray, v0: np.ndarray) -> dict:
    """Workload -> (products, error, converged) of ``eigsh`` from ``v0``, default ``ncv``."""
    out = {}
    for name, task, tol in WORKLOADS:
        k, which = EIGEN[task]
        op = CountingOperator(H)
        try:
            values, converged = eigsh(op, k, which=which, tol=tol, v0=v0, maxiter=RESTARTS,
                                      return_eigenvectors=False), True
        except ArpackNoConvergence as err:
            values, converged = err.eigenvalues, False
        out[name] = (op.count, _error(values, exact, task), converged)
    return out


def _eigenthings(he, torch, op, exact: np.ndarray, v0) -> dict:
    """Workload -> (products, error, True) of hessian-eigenthings' ``lanczos`` from ``v0``
    at the fewest ``max_iter`` whose flag holds (its own code's ``eigh`` and flag)."""
    run = he.lanczos_tridiagonal(op, v0, STEPS, reorthogonalize=True)
    out: dict = {}
    for m in range(1, run.iterations + 1):
        T = torch.diag(run.alphas[:m]) + torch.diag(run.betas[:m - 1], 1) + torch.diag(
            run.betas[:m - 1], -1)
        theta, s = torch.linalg.eigh(T)
        beta = float(run.betas[m - 1]) if m - 1 < run.betas.numel() else run.last_beta
        for name, task, tol in WORKLOADS:
            k, which = EIGEN[task]
            sel = torch.argsort(theta, descending=which == "LA")[:k]
            flag = torch.abs(s[-1, sel]) * beta < tol * theta[sel].abs().clamp(min=1e-12)
            if name not in out and m >= k and bool(flag.all()):
                out[name] = (m, _error(theta[sel].double().numpy(), exact, task), True)
    return out


def _he_runs(p, exact: np.ndarray, seeds: int) -> list | None:
    """hessian-eigenthings from each start (None: not installed)."""
    try:
        import hessian_eigenthings as he
        import torch
    except ImportError:
        return None
    op = he.HessianOperator(p.nets[0], [(p.X, p.target)], he.supervised_loss(p.loss_fn))
    return [_eigenthings(he, torch, op, exact, torch.from_numpy(_start(p.n, s)).to(op.dtype))
            for s in range(seeds)]


def _lists(runs: list[dict], name: str) -> dict:
    """A tool's runs of one workload as lists over starts (None: not met in ``STEPS``)."""
    got = [r.get(name) for r in runs]
    return {"n_hvp": [g[0] if g else None for g in got],
            "error": [g[1] if g else None for g in got],
            "converged": [g[2] if g else False for g in got]}


def measure(name: str, dtype: str, seeds: int) -> dict:
    """Every tool's products and errors on model ``name`` in ``dtype``, per workload."""
    p = build(SPECS[name], np.dtype(dtype))
    exact = reference(name)["eigenvalues"]
    H = hessian_operator(p.objective, p.thetas[0])
    with threads(1):
        ours = [_ours(H, exact, s) for s in range(seeds)]
        paths = [_path(H, exact, _start(p.n, s)) for s in range(seeds)]
        arpack = [_eigsh(H, exact, _start(p.n, s)) for s in range(seeds)]
        he = _he_runs(p, exact, seeds)
    cells = {}
    for workload, task, _ in WORKLOADS:
        tools = {"landscape": _lists(ours, workload), "eigsh": _lists(arpack, workload)}
        if he is not None:
            tools["hessian-eigenthings"] = _lists(he, workload)
        reach = {anchor: [_reach(path[task], e) if e is not None else None
                          for path, e in zip(paths, tools[anchor]["error"])]
                 for anchor in ("hessian-eigenthings", "eigsh") if anchor in tools}
        cells[workload] = {"tools": tools, "landscape to the anchor's error": reach}
    return {"model": SPECS[name].label(), "name": name, "dtype": dtype, "dim": p.n,
            "seeds": seeds, "cells": cells}


# ---------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------


def _stats(values: list) -> dict:
    """Median, mean, min, max of the non-None ``values``, and how many were None."""
    got = [v for v in values if v is not None]
    if not got:
        return {"median": None, "mean": None, "min": None, "max": None, "missing": len(values)}
    return {"median": float(np.median(got)), "mean": float(np.mean(got)), "min": min(got),
            "max": max(got), "missing": len(values) - len(got)}


def _count(values: list, converged: list | None = None) -> str:
    """``median / mean (min-max)``, with ``, k not met`` for None entries and ``, k
    unconverged`` for runs that ended at their ``maxiter`` (``converged`` False)."""
    s = _stats(values)
    if s["median"] is None:
        return "-"
    stopped = sum(v is not None and not c for v, c in zip(values, converged or values))
    return (f"{s['median']:g} / {s['mean']:.1f} ({s['min']}-{s['max']})"
            + (f", {s['missing']} not met" if s["missing"] else "")
            + (f", {stopped} unconverged" if stopped else ""))


def _median_error(values: list) -> str:
    s = _stats(values)
    return "-" if s["median"] is None else f"{s['median']:.0e}"


def _tally(ours: list, theirs: list) -> tuple[int, int, int, int]:
    """Starts where ``ours`` is below, equal to, above ``theirs``; and starts missing one."""
    pairs = [(a, b) for a, b in zip(ours, theirs) if a is not None and b is not None]
    return (sum(a < b for a, b in pairs), sum(a == b for a, b in pairs),
            sum(a > b for a, b in pairs), len(ours) - len(pairs))


def _versus(cell: dict, anchor: str, accuracy: bool) -> tuple[int, int, int, int] | None:
    """Our products from each start, to our rule (or, with ``accuracy``, to the anchor's
    error), against ``anchor``'s to its rule: :func:`_tally` (None: no such anchor)."""
    if anchor not in cell["tools"]:
        return None
    ours = (cell["landscape to the anchor's error"][anchor] if accuracy
            else cell["tools"]["landscape"]["n_hvp"])
    return _tally(ours, cell["tools"][anchor]["n_hvp"])


#: Per-start comparisons of the reading. Not ours to hessian-eigenthings' error against its
#: products: from one start both build the same Krylov space, so its Ritz values are as
#: accurate as ours after as many products, and only its rule decides when it stops.
COMPARISONS = {("hessian-eigenthings", False): "each to its own rule, against "
               "hessian-eigenthings", ("eigsh", False): "each to its own rule, against eigsh",
               ("eigsh", True): "landscape to eigsh's error, against eigsh's products"}


def _tallied(cells: list, anchor: str, accuracy: bool) -> str | None:
    """One comparison of :data:`COMPARISONS` summed over ``cells`` ((where, cell) pairs)."""
    found = [(where, _versus(c, anchor, accuracy)) for where, c in cells]
    found = [(where, t) for where, t in found if t is not None]
    if not found:
        return None
    fewer, same, more, missing = (sum(t[i] for _, t in found) for i in range(4))
    worse = [f"{where} ({t[2]})" for where, t in found if t[2]]
    return (f"fewer products from {fewer}, as many from {same}, more from {more} of "
            f"{fewer + same + more + missing}" + (f" ({missing} not met)" if missing else "")
            + (f"; more in {', '.join(worse)}" if worse else ""))


def reading(results: list[dict]) -> list[str]:
    """The findings, computed from the numbers."""
    cells = [(f"{r['name']} {r['dtype']} {w}", c) for r in results for w, c in r["cells"].items()]
    lines = []
    for (anchor, accuracy), text in COMPARISONS.items():
        parts = [(dtype, _tallied([c for c in cells if f" {dtype} " in c[0]], anchor, accuracy))
                 for dtype in dict.fromkeys(r["dtype"] for r in results)]
        if all(part is None for _, part in parts):
            continue
        lines.append(f"- **Same starts, {text}**, of the (workload, start) pairs: "
                     + "; ".join(f"{dtype}: {part}" for dtype, part in parts if part) + ".")
    medians = []
    for where, c in cells:
        ours = _stats(c["tools"]["landscape"]["n_hvp"])["median"]
        best = min((_stats(t["n_hvp"])["median"], name) for name, t in c["tools"].items()
                   if name != "landscape" and _stats(t["n_hvp"])["median"] is not None)
        medians.append((where, ours, best))
    over = [f"{w} ({o:g} against {b[1]} {b[0]:g})" for w, o, b in medians if o > b[0]]
    lines.append(f"- **Median products over the starts**: landscape's no more than every "
                 f"anchor's in {len(medians) - len(over)} of {len(medians)} cells"
                 + (f"; more in {', '.join(over)}" if over else "") + ".")
    return lines


def _table(run: dict) -> list[str]:
    tools = list(next(iter(run["cells"].values()))["tools"])
    head = ["workload", *(f"{t}: products" for t in tools), *(f"{t}: error" for t in tools),
            "landscape to hessian-eigenthings' error", "landscape to eigsh's error",
            *(f"same starts, {text}: fewer / as many / more" for text in COMPARISONS.values())]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for workload, cell in run["cells"].items():
        reach = cell["landscape to the anchor's error"]
        versus = [_versus(cell, *key) for key in COMPARISONS]
        row = [workload, *(_count(cell["tools"][t]["n_hvp"], cell["tools"][t]["converged"])
                           for t in tools),
               *(_median_error(cell["tools"][t]["error"]) for t in tools),
               _count(reach.get("hessian-eigenthings", [])), _count(reach["eigsh"]),
               *(" / ".join(map(str, v[:3])) if v else "-" for v in versus)]
        lines.append("| " + " | ".join(row) + " |")
    return lines + [""]


def report(results: list[dict], found: dict, facts: dict, command: str) -> str:
    """``PRODUCTS.md``: the reading, then one table per model and dtype."""
    load = ", ".join(f"{x:.2f}" for x in found["load at start"])
    lines = ["# Hessian-vector products to each tool's stopping rule, over many start vectors",
             "", f"`{command}`, {found['date']}, {found['seconds']:.0f} s; load average at "
             f"the start {load} on {facts['cores']} cores (counts, not times). See the "
             "docstring of `benchmarks/products.py` for what each tool runs.", "",
             "## Reading", "", *found["reading"], "",
             "Cells: products as median / mean (min-max) over the starts; errors the median "
             "over the starts of the largest relative eigenvalue error against the float64 "
             "dense Hessian's; 'not met': the rule (or the error) not reached within "
             f"{STEPS} products.", ""]
    for run in results:
        lines += [f"## {run['model']}, {run['dtype']} ({run['dim']} parameters, "
                  f"{run['seeds']} starts)", "", *_table(run)]
    shown = ("engine", "cpu", "cores", "numpy", "scipy", "torch")
    return "\n".join(lines + [machine.machine_line(facts, shown), ""])


def section(found: dict | None) -> list[str]:
    """``RESULTS.md``'s lines on ``PRODUCTS.md``: its reading, linked (none without it)."""
    if not found:
        return []
    return ["## Products to each tool's stopping rule, over many start vectors", "",
            f"Every tool from the same start vectors (counts, not times): the tables are in "
            f"[PRODUCTS.md](PRODUCTS.md) ({found['seconds']:.0f} s of this run); its reading:",
            "", *found["reading"], ""]


def run(quick: bool, out: Path | None = None) -> dict:
    """Measure, write ``PRODUCTS.md`` and ``PRODUCTS.json``; return the summary."""
    config = QUICK if quick else FULL
    path = machine.report_path(out, quick, "PRODUCTS.md")
    start, load = time.perf_counter(), os.getloadavg()
    results = [measure(name, dtype, config["seeds"])
               for name in config["models"] for dtype in config["dtypes"]]
    found = {"date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "load at start": load,
             "seconds": time.perf_counter() - start, "reading": reading(results)}
    machine.write_results(path, "products", quick, {**found, "runs": results},
                          lambda facts, command: report(results, found, facts, command))
    return found


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.products",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the tiny model, three starts")
    parser.add_argument("--out", type=Path, help="the report's path")
    args = parser.parse_args(argv)
    run(args.quick, args.out)


if __name__ == "__main__":
    main()
