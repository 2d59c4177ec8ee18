"""Results as JSON and as ``RESULTS.md``: ratios at a glance, targets, then the details.

A ratio ``xREF`` is the reference's time over the engine's: above 1 the engine is faster.
``/floor`` is the engine's time over the time of its matrix products alone: 1 is the
physical limit of this machine's BLAS for that computation.
"""

from __future__ import annotations

from pathlib import Path

from benchmarks import native, products
from landscape.io import write_json, write_text

NOTES = Path(__file__).with_name("NOTES.md")
NOISY = 1.5  # a row whose samples differ by more than this factor was disturbed


# ---------------------------------------------------------------------------------
# Records
# ---------------------------------------------------------------------------------


def _timing(t) -> dict:
    return {"median": t.median, "samples": list(t.samples), "calls per sample": t.number}


def row_record(row) -> dict:
    """A :class:`benchmarks.rows.Row` as plain data (seconds)."""
    return {"model": row.model, "dtype": row.dtype, "threads": row.threads, "row": row.name,
            "engine": _timing(row.engine),
            "references": {k: _timing(t) for k, t in row.references.items()},
            "floor": row.floor, "flops": row.flops, **row.extra}


def _ms(seconds) -> str:
    if seconds is None:
        return ""
    ms = 1e3 * seconds
    return f"{ms:.3g}" if ms < 1000 else f"{ms:.0f}"


def row_line(row) -> str:
    """One line of progress for a row (milliseconds)."""
    refs = ", ".join(f"{k} {_ms(t.median)}" for k, t in row.references.items())
    floor = f", floor {_ms(row.floor)}" if row.floor is not None else ""
    return (f"{row.model} {row.dtype} {row.threads}t {row.name}: engine "
            f"{_ms(row.engine.median)} ms, {refs}{floor}")


def _run(run) -> dict:
    return {"values": run.values.tolist(), "n_hvp": run.n_hvp, "error": run.error,
            "reached": run.reached, "seconds": run.seconds}


def eigen_record(record: dict) -> dict:
    """An eigenvalue task's record with its :class:`benchmarks.eigen.Run` s as plain data."""
    return {k: _run(v) if hasattr(v, "n_hvp") else v for k, v in record.items()}


def eigen_line(record: dict) -> str:
    """One line of progress for an eigenvalue task."""
    runs = ", ".join(f"{k} {record[k].n_hvp}{'' if record[k].reached else ' (not reached)'}"
                     for k in ("power", "lanczos", "library"))
    return f"{record['model']} {record['task']}: HVPs {runs}"


# ---------------------------------------------------------------------------------
# Ratios and targets
# ---------------------------------------------------------------------------------

ONE_POINT = {  # column -> (row, reference; None: the floor; "gradient": the engine's gradient)
    "loss xtorch": ("loss", "torch"),
    "grad xtorch": ("gradient", "torch autograd"),
    "grad /floor": ("gradient", None),
    "HVP xdouble-bwd": ("hvp", "torch double backward"),
    "HVP xtorch.func": ("hvp", "torch.func"),
    "HVP /grad": ("hvp", "gradient"),
    "HVP /floor": ("hvp", None),
    "HVP@θ xPyHessian": ("hvp at a point", "torch retained graph"),
    "HVP@θ /grad": ("hvp at a point", "gradient"),
}
MANY_POINTS = {
    "losses xloop": ("losses", "loop of loss"),
    "plane xtorch loop": ("plane", "torch loop"),
    "plane xloop": ("plane", "loop of loss"),
    "plane /floor": ("plane", None),
}
COLUMNS = {**ONE_POINT, **MANY_POINTS}


def _configs(results) -> list:
    seen = []
    for r in results["rows"]:
        key = (r["model"], r["dtype"], r["threads"])
        if key not in seen:
            seen.append(key)
    return seen


def ratios(results) -> list[dict]:
    """Per (model, dtype, threads): the ratios of :data:`COLUMNS` and the plane's share of
    BLAS peak (its matrix-product flops per second over a 2048 x 2048 product's, timed in
    the same measurement)."""
    by_key = {(r["model"], r["dtype"], r["threads"], r["row"]): r for r in results["rows"]}
    out = []
    for key in _configs(results):
        entry = dict(zip(("model", "dtype", "threads"), key))
        for column, (row, ref) in COLUMNS.items():
            r = by_key.get(key + (row,))
            if r is None:
                continue
            engine = r["engine"]["median"]
            if ref is None:
                entry[column] = engine / r["floor"]
            elif ref == "gradient":
                entry[column] = engine / by_key[key + ("gradient",)]["engine"]["median"]
            elif ref in r["references"]:
                entry[column] = r["references"][ref]["median"] / engine
        for row in ("losses", "plane"):
            if key + (row,) in by_key:
                entry[f"{row} points"] = by_key[key + (row,)]["points"]
        plane = by_key.get(key + ("plane",))
        if plane is not None:
            gflops = plane["flops"] / plane["engine"]["median"] / 1e9
            entry["plane GF/s"] = gflops
            entry["plane % peak"] = 100 * gflops / plane["peak GF/s"]
        out.append(entry)
    return out


def _worst(entries, column, models=None, low=True):
    """The entry with the lowest (or highest) value of ``column`` among ``models``."""
    found = [e for e in entries if column in e and (models is None or e["model"] in models)]
    if not found:
        return None
    pick = min if low else max
    return pick(found, key=lambda e: e[column])


def _where(e, column) -> str:
    row = COLUMNS[column][0]
    points = f", {e[row + ' points']} points" if row + " points" in e else ""
    return f"{e['model']} {e['dtype']} {e['threads']}t{points}"


def targets(results, table) -> list[dict]:
    """The issue's targets: the worst measured case of each, and whether it is met."""
    checks = [
        ("gradient >= 1.0x PyTorch, every model, dtype and thread count", "grad xtorch",
         None, True, lambda v: v >= 1.0),
        ("gradient within 1.3x of the matrix-product floor (digits, MNIST; issue 20)",
         "grad /floor", ("digits", "mnist"), False, lambda v: v <= 1.3),
        ("HVP <= 2.5 gradients (from scratch)", "HVP /grad", None, False, lambda v: v <= 2.5),
        ("HVP faster than torch's double backward (from scratch)", "HVP xdouble-bwd", None,
         True, lambda v: v > 1.0),
        ("HVP at a point faster than PyHessian's retained graph", "HVP@θ xPyHessian", None,
         True, lambda v: v > 1.0),
        ("plane >= 20x the per-point loop of loss (tiny)", "plane xloop", ("tiny",), True,
         lambda v: v >= 20),
        ("plane >= 20x PyTorch's per-point loop (tiny)", "plane xtorch loop", ("tiny",), True,
         lambda v: v >= 20),
        ("plane >= 2x PyTorch's per-point loop (digits)", "plane xtorch loop", ("digits",),
         True, lambda v: v >= 2),
        ("losses >= 10x the loop of loss (tiny)", "losses xloop", ("tiny",), True,
         lambda v: v >= 10),
        ("losses no slower than the loop (digits)", "losses xloop", ("digits",), True,
         lambda v: v >= 1),
    ]
    out = []
    for text, column, models, low, ok in checks:
        e = _worst(table, column, models, low)
        if e is not None:
            out.append({"target": text, "worst": e[column], "where": _where(e, column),
                        "met": bool(ok(e[column]))})
    runs = {"lanczos": "Lanczos", "library": "the library's eigsh (its own stopping rule)"}
    for run, name in runs.items():
        for task in ("top-1", "top-5", "bottom-1"):
            recs = [r for r in results["eigen"] if r["task"] == task]
            if recs:
                met = all(r[run]["reached"] and (not r["power"]["reached"] or
                                                 r[run]["n_hvp"] < r["power"]["n_hvp"])
                          for r in recs)
                counts = "; ".join(f"{r['model']} {_count(r[run])} vs {_count(r['power'])}"
                                   for r in recs)
                out.append({"target": f"{name}: fewer HVPs than power iteration, {task}, "
                                      "1e-8 relative", "worst": counts, "where": "", "met": met})
    for m in results["memory"]:
        out.append({"target": f"{m['call']} within its memory budget",
                    "worst": f"{m['peak'] / 1e6:.1f} MB of {m['budget'] / 1e6:g} MB",
                    "where": f"{m['model']} {m['dtype']}", "met": m["peak"] <= m["budget"]})
    return out


def _count(run) -> str:
    return str(run["n_hvp"]) if run["reached"] else f">{run['n_hvp']}"


# ---------------------------------------------------------------------------------
# Markdown
# ---------------------------------------------------------------------------------


def _table(header, lines) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header),
            *("| " + " | ".join(str(c) for c in line) + " |" for line in lines), ""]


def _fmt(value) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:.2f}" if abs(value) < 100 else f"{value:.0f}"
    return str(value)


def _machine(results) -> list[str]:
    m = results["machine"]
    blas = [f"{t['internal_api']} {t['version']} ({t['architecture']}, "
            f"{t['threading_layer']}, {t['num_threads']} threads by default) from "
            f"`{Path(t['filepath']).name}`" for t in m["threadpools"]]
    env = ", ".join(f"{k}={v}" for k, v in m["environment"].items() if v is not None)
    load = ", ".join(f"{x:.2f}" for x in m["load average"])
    after = ", ".join(f"{x:.2f}" for x in results["load average after"])
    return [
        f"- **Engine**: commit {m['engine']}.",
        f"- **Machine**: {m['cpu']}, {m['cores']} cores; {m['platform']}.",
        f"- **Software**: Python {m['python']}, NumPy {m['numpy']}, SciPy {m['scipy']}, "
        f"PyTorch {m['torch']} (BLAS: {m['torch blas']}, inter-op threads "
        f"{m['torch interop threads']}).",
        "- **Thread pools (threadpoolctl)**: " + "; ".join(blas) + ".",
        f"- **Environment**: {env or 'no BLAS, OpenMP or malloc variable set'} "
        "(OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE are reported, never changed).",
        f"- **Load average** (1, 5, 15 min) at start: {load}; at the end: {after}.",
        f"- **Run**: `{results['command']}`, {results['date']}, "
        f"{results['seconds']:.0f} s.",
        "",
    ]


def markdown(results) -> str:
    """``RESULTS.md``: the ratios at a glance, the targets, then every measurement."""
    table = ratios(results)
    key = ["model", "dtype", "thr"]
    lines = ["# Benchmarks: the NumPy engine against PyTorch and against the BLAS floor", "",
             *_machine(results),
             "## Ratios at a glance", "",
             "`xREF` = the reference's time / the engine's (above 1: the engine is faster). "
             "`/floor` = the engine's time / the time of just its matrix products with the same "
             "shapes (1 is the machine's limit). `/grad` = time / the engine's gradient time. "
             "Medians of repeated timings after a warm-up, all in one process; engine, "
             "references and floor interleaved.", "",
             _noise(results), "",
             "**One point.** HVP = from scratch at a new point; HVP@θ = another HVP at the same "
             "point (what Lanczos does; PyHessian keeps the gradient graph for it).", "",
             *_table(key + list(ONE_POINT),
                     [[e["model"], e["dtype"], e["threads"], *(_fmt(e.get(c)) for c in ONE_POINT)]
                      for e in table]),
             "**Many points.** `losses` of k points against the loop of `loss`; a plane "
             "(`surface.plane`, default memory budget) against PyTorch's per-point loop and the "
             "loop of `loss`; `% peak` = the plane's matrix-product flops per second / a "
             "2048x2048 product's, timed interleaved with the plane.", "",
             *_table(key + ["k", *MANY_POINTS, "plane points", "plane % peak"],
                     [[e["model"], e["dtype"], e["threads"], e.get("losses points", ""),
                       *(_fmt(e.get(c)) for c in MANY_POINTS), e.get("plane points", ""),
                       _fmt(e.get("plane % peak"))] for e in table]),
             "## Targets (issue 7 and the engine and surface issues)", "",
             *_table(["target", "worst case", "where", "met"],
                     [[t["target"], _fmt(t["worst"]), t["where"], "yes" if t["met"] else "**no**"]
                      for t in targets(results, table)]),
             *_peers(results), *products.section(results.get("products")), *_native(results),
             *_times(results), *_eigen(results), *_memory(results), *_faults(results),
             *_agreement(results), *_peaks(results)]
    if NOTES.exists():
        lines += ["## Profiling: where the time goes, what was tried", "",
                  NOTES.read_text(encoding="utf-8").strip(), ""]
    return "\n".join(lines)


def _peers(results) -> list[str]:
    """The reading of ``PEERS.md`` (benchmarks/peers.py), linked, when this run made it."""
    found = results.get("peers")
    if not found:
        return []
    return ["## Against PyHessian, hessian-eigenthings and curvlinops", "",
            f"Eigenvalues, trace and density, each tool in its own process: the tables are in "
            f"[{found['file']}]({found['file']}) ({found['seconds']:.0f} s of this run); "
            "its reading (time ratios ours / anchor, below 1 ours is faster):", "",
            *found["reading"], ""]


def _native(results) -> list[str]:
    """The gradient against its floor with OPENBLAS_CORETYPE as set and unset."""
    found = results.get("native")
    if not found:
        return []
    return ["## The gradient and its floor, with OPENBLAS_CORETYPE as set and unset", "",
            "This machine sets `OPENBLAS_CORETYPE` (an older kernel than OpenBLAS picks by "
            "itself; tests and CI never change it): every time above is under it. "
            "`python -m benchmarks.native` times the gradient and its floor again in fresh "
            "processes, as set and unset (milliseconds per call, medians; two points in "
            "turn).", "", *native.table(found), ""]


def _spread(r) -> float:
    """The largest max/min ratio of the samples of a row's engine and references."""
    timings = [r["engine"], *r["references"].values()]
    return max(max(t["samples"]) / min(t["samples"]) for t in timings)


def _noise(results) -> str:
    """A sentence on how many rows other work on the machine disturbed."""
    noisy = [r for r in results["rows"] if _spread(r) > NOISY]
    by_threads = {}
    for r in noisy:
        by_threads[r["threads"]] = by_threads.get(r["threads"], 0) + 1
    where = ", ".join(f"{n} at {t} thread{'s' if t > 1 else ''}"
                      for t, n in sorted(by_threads.items()))
    return (f"In this run {len(noisy)} of {len(results['rows'])} rows had samples more than "
            f"{NOISY}x apart ({where or 'none'}; see `spread` under Times): their ratios are "
            "the least reliable.")


def _times(results) -> list[str]:
    lines = []
    for r in results["rows"]:
        refs = "; ".join(f"{k} {_ms(t['median'])}" for k, t in r["references"].items())
        points = f" ({r['points']} points)" if "points" in r else ""
        spread = _spread(r)
        lines.append([r["model"], r["dtype"], r["threads"], r["row"] + points,
                      _ms(r["engine"]["median"]), refs, _ms(r["floor"]),
                      f"{spread:.2f}" + (" (noisy)" if spread > NOISY else "")])
    return ["## Times (milliseconds per call, medians)", "",
            "`spread`: the largest max/min ratio among the samples of the row's timings; "
            f"above {NOISY} the row was disturbed (other work on the machine; on this 2-core "
            "machine two-thread timings are erratic even when it is otherwise idle).", "",
            *_table(["model", "dtype", "thr", "row", "engine", "references", "BLAS floor",
                     "spread"], lines)]


def _eigen(results) -> list[str]:
    if not results["eigen"]:
        return []
    lines = []
    for r in results["eigen"]:
        lib = r["library"]
        lines.append([r["model"], r["task"], ", ".join(f"{x:.8g}" for x in r["answer"]),
                      _count(r["power"]), _count(r["lanczos"]),
                      f"{_count(lib)} ({lib['error']:.0e})",
                      f"{r['power']['seconds']:.2f} / {lib['seconds']:.2f}", r["reference"]])
    return ["## Hessian eigenvalues to 1e-8 relative: HVPs spent (float64, 1 thread)", "",
            "Power iteration and Lanczos start from the same vector and are both stopped the "
            "moment they are within 1e-8 of the answer (an oracle: the fewest products each "
            "method can need). `library` is `hessian.eigenpairs(..., tol=1e-8)` (its "
            "thick-restart Lanczos) with its own stopping rule, the residual rule (error in "
            "brackets). `>N`: not reached in N products (per eigenvalue for power iteration); "
            "`python -m benchmarks.lanczos` compares it with eigsh and hessian-eigenthings.", "",
            *_table(["model", "task", "answer", "power", "Lanczos", "library",
                     "seconds power / library", "answer from"], lines)]


def _memory(results) -> list[str]:
    lines = [[m["model"], m["dtype"], m["call"], f"{m['budget'] / 1e6:g}",
              f"{m['peak'] / 1e6:.1f}", f"{m['peak'] / m['budget']:.2f}", f"{m['seconds']:.2f}"]
             for m in results["memory"]]
    return ["## Peak memory (tracemalloc) under the caller's memory budget", "",
            "The budget is the execution setting `memory_budget` "
            "(`landscape.execution(memory_budget=...)`), which sizes the plane's chunks and the "
            "objective's batched passes alike; peak = most bytes allocated at once during the "
            "call.", "",
            *_table(["model", "dtype", "call", "budget MB", "peak MB", "peak / budget",
                     "seconds"], lines)]


def _faults(results) -> list[str]:
    lines = []
    by_key = {(r["model"], r["dtype"], r["threads"], r["row"]): r for r in results["rows"]}
    for key in _configs(results):
        grad, hvp = by_key.get(key + ("gradient",)), by_key.get(key + ("hvp",))
        if grad and hvp:
            lines.append([*key, f"{grad['page faults']:.0f}", f"{grad['torch page faults']:.0f}",
                          f"{hvp['page faults']:.0f}"])
    return ["## Minor page faults per call", "",
            "Pages the kernel had to map afresh: memory freed to the system and asked for "
            "again on every call (glibc returns large blocks at once).", "",
            *_table(["model", "dtype", "thr", "engine gradient", "torch gradient", "engine HVP"],
                    lines)]


def _agreement(results) -> list[str]:
    names = [k for k in results["agreement"][0] if k not in ("model", "dtype")]
    lines = [[a["model"], a["dtype"], *(f"{a[k]:.0e}" for k in names)]
             for a in results["agreement"]]
    return ["## Agreement checked before timing (relative differences to the engine)", "",
            *_table(["model", "dtype", *names], lines)]


def _peaks(results) -> list[str]:
    lines = [[p["dtype"], p["threads"], f"{p['numpy']:.1f}", f"{p['torch']:.1f}"]
             for p in results["peaks"]]
    return ["## BLAS peak: 2048x2048 matrix product, GF/s", "",
            *_table(["dtype", "threads", "NumPy (OpenBLAS)", "PyTorch"], lines)]


def write(results, folder) -> list[Path]:
    """Write ``results.json`` (with the ratios and targets) and ``RESULTS.md`` atomically."""
    folder = Path(folder)
    table = ratios(results)
    data = {**results, "ratios": table, "targets": targets(results, table)}
    return [write_json(folder / "results.json", data),
            write_text(folder / "RESULTS.md", markdown(results))]
