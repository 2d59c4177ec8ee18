"""``python -m benchmarks.lanczos [--quick] [--out PATH]``: extreme Hessian eigenvalues by
products spent, accuracy and time: the library's Lanczos against eigsh and hessian-eigenthings.

On the tiny (2-16-16-1) and digits-sized (64-64-64-10) tanh networks of
:mod:`benchmarks.models` (float64, their first point), for top-1, top-5 and bottom-1, every
method stopping by the same residual rule ``‖H y - θ y‖ <= tol |θ|`` (``tol`` 1e-6, 1e-8):

- **Products**, median over five start vectors, and the largest relative error of any run
  against :func:`benchmarks.eigen.reference` (dense ``eigvalsh`` for the tiny model; for
  digits a tight ``eigsh``, which agrees with the dense ``eigh`` to 2e-15): the library's
  :func:`landscape.hessian.eigenpairs` (thick-restart Lanczos, default ``ncv``); ``eigsh``
  from the same start vectors with the library's former default ``ncv = max(2k + 1, 20)``,
  and with the ``ncv`` of ``NCVS`` that needs the fewest (tuned after the fact, per task);
  the library's with ``ncv = WIDE`` (no restart: plain Lanczos with the stopping rule);
  hessian-eigenthings 1.0's ``lanczos`` (full reorthogonalization) from the same start
  vectors at the smallest ``max_iter`` whose own convergence flag holds, read off one long
  run prefix by prefix: its users must guess ``max_iter`` in advance (its default is
  ``2k``), so this is its best case. ``pip install --no-deps
  hessian-eigenthings==1.0.0a5`` (it needs only numpy, scipy, torch and tqdm); without it
  those columns are left out.
- **Time** at 1 and 2 threads, ``tol = 1e-6``, one start vector, medians of interleaved
  samples: the library's call; the same with its small linear algebra at the caller's
  thread count (as before :func:`landscape.parallel.one_blas_thread`); ``eigsh`` at the
  library's former default with both OpenBLAS copies (NumPy's, SciPy's) at the caller's
  count, and with SciPy's (the one ARPACK uses) on one thread; the products alone
  (``n_hvp`` times one product's median). hessian-eigenthings runs in its own spawned
  process (its PyTorch thread pool would disturb NumPy's): its call (its own start
  vector) at the best ``max_iter`` of the first start vector, and its products alone
  (PyTorch's double-backward HVP).

Writes ``benchmarks/LANCZOS.md`` and ``LANCZOS.json`` (``--quick``: the tiny model, two
start vectors, into ``benchmarks/quick/``).
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import contextlib
import itertools
import multiprocessing
import os
import time
from pathlib import Path

import numpy as np
from scipy.linalg import eigh_tridiagonal
from scipy.sparse.linalg import eigsh
from threadpoolctl import ThreadpoolController

import landscape.krylov
from benchmarks import machine
from benchmarks.eigen import TASKS, TOP, answer, reference
from benchmarks.models import SPECS, build
from benchmarks.timing import Settings, compare, threads
from landscape.hessian import CountingOperator, eigenpairs, hessian_operator

TOLS = (1e-6, 1e-8)
NCVS = (8, 12, 20, 30, 40)
WIDE = 100  # an ncv no task here fills: Lanczos without restarts
FULL = {"models": ("tiny", "digits"), "seeds": 5, "settings": Settings(repeat=7, min_time=0.2)}
QUICK = {"models": ("tiny",), "seeds": 2, "settings": Settings(repeat=2, min_time=0.0)}
HE_STEPS = 100  # the longest hessian-eigenthings run read prefix by prefix
BUSY = 1.5


def _shape(task: str) -> tuple[int, str]:
    return {"top-1": (1, "LA"), "top-5": (TOP, "LA"), "bottom-1": (1, "SA")}[task]


def _error(values, ref, task: str) -> float:
    """Largest relative error of the values ``task`` asks for (any order) against ``ref``."""
    exact = np.sort(answer(ref, task))
    values = np.sort(np.asarray(values, dtype=float))
    if values.shape != exact.shape:
        return float("inf")
    return float(np.max(np.abs(values - exact) / np.abs(exact)))


def _start(n: int, seed: int) -> np.ndarray:
    """The start vector of seed ``seed``: eigenpairs' first draw of ``rng=seed``."""
    return np.random.default_rng(seed).standard_normal(n)


def _eigsh(H, task: str, tol: float, ncv: int, seed: int) -> tuple[int, np.ndarray]:
    k, which = _shape(task)
    op = CountingOperator(H)
    values = eigsh(op, k, which=which, tol=tol, ncv=ncv, v0=_start(H.shape[0], seed),
                   return_eigenvectors=False)
    return op.count, values


def counts(H, ref, seeds: int) -> list[dict]:
    """Products and errors of the library and of eigsh, per task and tolerance."""
    out = []
    for task in TASKS:
        k, which = _shape(task)
        for tol in TOLS:
            ours = [eigenpairs(H, k, which, rng=s, method="lanczos", tol=tol)
                    for s in range(seeds)]
            wide = [eigenpairs(H, k, which, rng=s, method="lanczos", tol=tol, ncv=WIDE).n_hvp
                    for s in range(seeds)]
            old = [_eigsh(H, task, tol, max(2 * k + 1, 20), s) for s in range(seeds)]
            tuned = {ncv: [_eigsh(H, task, tol, ncv, s) for s in range(seeds)]
                     for ncv in NCVS if ncv > 2 * k}
            best = min(tuned, key=lambda ncv: (np.median([c for c, _ in tuned[ncv]]), ncv))
            out.append({
                "task": task, "tol": tol,
                "ours": [s.n_hvp for s in ours],
                "ours error": max(_error(s.eigenvalues, ref, task) for s in ours),
                "ours converged": all(s.converged for s in ours), "ours wide": wide,
                "eigsh": [c for c, _ in old],
                "eigsh error": max(_error(v, ref, task) for _, v in old),
                "eigsh tuned": [c for c, _ in tuned[best]], "eigsh tuned ncv": best,
                "eigsh tuned error": max(_error(v, ref, task) for _, v in tuned[best])})
    return out


def _free_algebra():
    """The library's solver with its small linear algebra at the caller's BLAS threads."""
    return contextlib.nullcontext()


def _scipy_blas_one_thread():
    """SciPy's OpenBLAS (not NumPy's) on one thread, for eigsh's ARPACK."""
    controller = ThreadpoolController().select(user_api="blas")
    scipys = [c.filepath for c in controller.lib_controllers if "numpy" not in c.filepath]
    return ThreadpoolController().select(filepath=scipys).limit(limits=1)


def times(p, tol: float, settings: Settings, thread_counts=(1, 2)) -> list[dict]:
    """Milliseconds per call at each thread count, interleaved (see the module notes)."""
    H = hessian_operator(p.objective, p.thetas[0])
    vs = itertools.cycle(p.vs)
    out = []
    for n in thread_counts:
        fns = {"hvp": lambda: H.matvec(next(vs))}
        for task in TASKS:
            k, which = _shape(task)
            call = lambda k=k, which=which: eigenpairs(H, k, which, rng=0, method="lanczos",
                                                       tol=tol)

            def free(call=call):
                kept = landscape.krylov.one_blas_thread
                landscape.krylov.one_blas_thread = _free_algebra
                try:
                    return call()
                finally:
                    landscape.krylov.one_blas_thread = kept

            def capped(task=task, k=k):
                with _scipy_blas_one_thread():
                    return _eigsh(H, task, tol, max(2 * k + 1, 20), 0)

            fns |= {f"ours {task}": call, f"ours free {task}": free,
                    f"eigsh {task}": lambda task=task, k=k: _eigsh(H, task, tol,
                                                                   max(2 * k + 1, 20), 0),
                    f"eigsh scipy-1 {task}": capped}
        with threads(n):
            timing = compare(fns, settings)
            used = {task: eigenpairs(H, *_shape(task), rng=0, method="lanczos", tol=tol).n_hvp
                    for task in TASKS}
        hvp = timing["hvp"].median
        for task in TASKS:
            row = {"task": task, "threads": n, "n_hvp": used[task],
                   "hvp ms": 1e3 * hvp, "products alone ms": 1e3 * hvp * used[task]}
            row |= {name: 1e3 * timing[f"{name} {task}"].median
                    for name in ("ours", "ours free", "eigsh", "eigsh scipy-1")}
            out.append(row)
    return out


def _he_counts(op, torch, seed: int, steps: int) -> dict:
    """For each task and tol: hessian-eigenthings' fewest steps meeting its own flag."""
    from hessian_eigenthings import lanczos_tridiagonal

    v0 = torch.from_numpy(_start(op.size, seed))  # the library's start vector
    run = lanczos_tridiagonal(op, v0, min(steps, op.size), reorthogonalize=True)
    alphas, betas = run.alphas.numpy(), run.betas.numpy()
    found = {}
    for m in range(1, run.iterations + 1):
        beta = betas[m - 1] if m - 1 < betas.size else run.last_beta
        theta, s = eigh_tridiagonal(alphas[:m], betas[:m - 1])
        for task in TASKS:
            k, which = _shape(task)
            sel = np.arange(m)[::-1][:k] if which == "LA" else np.arange(m)[:k]
            residual = np.abs(s[-1, sel]) * beta
            for tol in TOLS:
                met = np.all(residual < tol * np.maximum(np.abs(theta[sel]), 1e-12))
                if m >= k and met and (task, tol) not in found:
                    found[(task, tol)] = (m, theta[sel])
    return found


def he_measure(name: str, seeds: int, tol: float, settings: Settings,
               thread_counts=(1, 2)) -> dict:
    """hessian-eigenthings on model ``name``: counts per seed, times at ``tol`` (own process)."""
    import torch
    from hessian_eigenthings import HessianOperator, lanczos, supervised_loss

    torch.set_num_interop_threads(1)
    p = build(SPECS[name], np.float64)
    op = HessianOperator(p.nets[0], [(p.X, p.target)], supervised_loss(p.loss_fn))
    with threads(1):
        runs = [_he_counts(op, torch, s, HE_STEPS) for s in range(seeds)]
    found = {f"{task} {t}": [[r[(task, t)][0], r[(task, t)][1].tolist()] if (task, t) in r
                             else None for r in runs] for task in TASKS for t in TOLS}
    v = torch.from_numpy(p.vs[0])
    timed = []
    for n in thread_counts:
        fns = {"hvp": lambda: op.matvec(v)}
        for task in TASKS:
            k, which = _shape(task)
            m = runs[0].get((task, tol), (HE_STEPS,))[0]
            fns[task] = lambda k=k, which=which, m=m: lanczos(op, k=k, max_iter=m, tol=tol,
                                                              which=which, seed=0)
        with threads(n):
            timing = compare(fns, settings)
        timed += [{"task": task, "threads": n, "n_hvp": runs[0].get((task, tol), (None,))[0],
                   "he ms": 1e3 * timing[task].median, "he hvp ms": 1e3 * timing["hvp"].median}
                  for task in TASKS]
    return {"counts": found, "times": timed}


def _he(name: str, seeds: int, tol: float, settings: Settings) -> dict | None:
    try:
        import hessian_eigenthings  # noqa: F401
    except ImportError:
        return None
    with cf.ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        return pool.submit(he_measure, name, seeds, tol, settings).result()


def measure(name: str, seeds: int, settings: Settings) -> dict:
    """Counts, errors and times for model ``name``."""
    p = build(SPECS[name], np.float64)
    H = hessian_operator(p.objective, p.thetas[0])
    with threads(1):
        ref = reference(p.objective, p.thetas[0])
        rows = counts(H, ref, seeds)
    he = _he(name, seeds, TOLS[0], settings)
    if he is not None:
        for row in rows:
            runs = he["counts"][f"{row['task']} {row['tol']}"]
            row["he"] = [r[0] if r else None for r in runs]
            row["he error"] = max(_error(r[1], ref, row["task"]) if r else float("inf")
                                  for r in runs)
    timed = times(p, TOLS[0], settings)
    for row in timed:
        match = [h for h in (he or {}).get("times", [])
                 if (h["task"], h["threads"]) == (row["task"], row["threads"])]
        row |= {k: v for k, v in (match[0] if match else {}).items() if k.startswith("he")}
    return {"model": SPECS[name].label(), "dim": p.n, "reference": ref.method,
            "counts": rows, "times": timed}


def _median(values) -> str:
    values = [v for v in values if v is not None]
    return f"{np.median(values):.0f}" if values else "-"


def report(results: list[dict], facts: dict, command: str, load: float) -> str:
    """``LANCZOS.md``: products and errors, then times, per model."""
    lines = ["# Extreme Hessian eigenvalues: products, accuracy and time", "",
             f"`{command}`, {time.strftime('%Y-%m-%d %H:%M %Z')}; float64. See the module "
             "docstring of `benchmarks/lanczos.py` for what each column runs. Every method "
             "stops by the residual rule |H y - θ y| <= tol |θ|.", "",
             f"Load average at the start: {load:.1f} on {facts['cores']} cores"
             + (" (other work shared the cores: times are inflated, the 2-thread ones most; "
                "ratios within one table come from interleaved samples)" if load > BUSY
                else "") + ".", ""]
    for res in results:
        lines += [f"## {res['model']} ({res['dim']} parameters; reference: {res['reference']})",
                  "", "Products (median over start vectors) and the largest relative error "
                  "of any run:", "",
                  f"| task | tol | eigenpairs | eigenpairs, ncv {WIDE} | eigsh, ncv 20 | "
                  "eigsh, best ncv | hessian-eigenthings, best max_iter | "
                  "largest error (ours / eigsh / HE) |",
                  "|---|---|---|---|---|---|---|---|"]
        for r in res["counts"]:
            he_err = f"{r['he error']:.0e}" if "he error" in r else "-"
            lines.append(f"| {r['task']} | {r['tol']:.0e} | {_median(r['ours'])} | "
                         f"{_median(r['ours wide'])} | "
                         f"{_median(r['eigsh'])} | {_median(r['eigsh tuned'])} "
                         f"(ncv {r['eigsh tuned ncv']}) | {_median(r.get('he', []))} | "
                         f"{r['ours error']:.0e} / {r['eigsh error']:.0e} / {he_err} |")
        lines += ["", "Milliseconds per call (tol 1e-6, one start vector):", "",
                  "| task | threads | eigenpairs | its algebra at the caller's threads | "
                  "eigsh | eigsh, SciPy's BLAS 1 thread | its products alone | "
                  "hessian-eigenthings | its products alone |",
                  "|---|---|---|---|---|---|---|---|---|"]
        for r in res["times"]:
            he = (f"{r['he ms']:.1f} | {r['he hvp ms'] * (r['n_hvp'] or 0):.1f}"
                  if "he ms" in r else "- | -")
            lines.append(f"| {r['task']} | {r['threads']} | {r['ours']:.1f} | "
                         f"{r['ours free']:.1f} | {r['eigsh']:.1f} | {r['eigsh scipy-1']:.1f} | "
                         f"{r['products alone ms']:.1f} ({r['n_hvp']}) | {he} |")
        lines.append("")
    shown = ("engine", "cpu", "cores", "numpy", "scipy", "torch", "environment",
             "load average")
    lines += [machine.machine_line(facts, shown), ""]
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the tiny model, two seeds")
    parser.add_argument("--models", nargs="+", choices=sorted(SPECS), help="instead of the set")
    parser.add_argument("--out", type=Path, help="the report's path")
    args = parser.parse_args(argv)
    config = QUICK if args.quick else FULL
    out = machine.report_path(args.out, args.quick, "LANCZOS.md")
    load = os.getloadavg()[0]
    results = []
    for name in args.models or config["models"]:
        results.append(measure(name, config["seeds"], config["settings"]))
        print(name, results[-1]["counts"], results[-1]["times"], flush=True)
    machine.write_results(out, "lanczos", args.quick, {"load at start": load, "models": results},
                          lambda facts, command: report(results, facts, command, load))


if __name__ == "__main__":
    main()
