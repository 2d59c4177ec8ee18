"""``PEERS.md`` and ``PEERS.json`` from :func:`benchmarks.peers.run`'s results.

The reading at the top is computed from the numbers (where each of ours wins and loses
against each anchor, by how much; products against the anchors; 2 threads against 1), so
it stays true when the lead reruns the benchmark on a quiet machine.
"""

from __future__ import annotations

from pathlib import Path

from landscape.io import write_json, write_text

OURS = ("landscape", "landscape.torch")
ANCHORS = ("PyHessian", "hessian-eigenthings", "curvlinops")
BUSY = 1.5  # load average above which the timings are distorted


def _table(header, lines) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header),
            *("| " + " | ".join(str(c) for c in line) + " |" for line in lines), ""]


def _ms(seconds: float) -> str:
    ms = 1e3 * seconds
    return f"{ms:.3g}" if ms < 1000 else f"{ms:.0f}"


def _where(run: dict, workload: str) -> str:
    return f"{run['name']} {run['dtype']} {run['threads']}t {workload}"


def _cells(results: dict):
    """(run, workload, entry) for every measured workload."""
    for run in results["runs"]:
        for workload, entry in run["workloads"].items():
            yield run, workload, entry


def _wins(results: dict) -> list[str]:
    lines = []
    for ours in OURS:
        for anchor in ANCHORS:
            found = [(e["ratios"][f"{ours}/{anchor}"], _where(r, w))
                     for r, w, e in _cells(results) if f"{ours}/{anchor}" in e["ratios"]]
            if not found:
                continue
            won = sum(1 for ratio, _ in found if ratio < 1)
            best, worst = min(found), max(found)
            lost = sorted((c for c in found if c[0] >= 1), reverse=True)
            text = (f"**{ours}** against **{anchor}**: faster in {won} of {len(found)} cells; "
                    f"time ratio {best[0]:.2g} ({best[1]}) to {worst[0]:.2g} ({worst[1]})")
            if lost:
                text += "; slower in: " + ", ".join(f"{w} ({r:.2f})" for r, w in lost[:6])
                text += ", ..." if len(lost) > 6 else ""
            lines.append("- " + text + ".")
    return lines


def _products(results: dict) -> list[str]:
    """Eigenvalue workloads where one of ours spent more products than an anchor."""
    more, total = [], 0
    for run, workload, entry in _cells(results):
        tools = entry["tools"]
        if workload in ("trace", "density") or "n_hvp" not in tools.get("landscape", {}):
            continue
        total += 1
        ours = tools["landscape"]["n_hvp"]
        fewer = {a: tools[a]["n_hvp"] for a in ANCHORS
                 if tools.get(a, {}).get("status") == "ok" and tools[a]["n_hvp"] < ours}
        if fewer:
            more.append(f"{_where(run, workload)} ({ours} against "
                        + ", ".join(f"{a} {n}" for a, n in fewer.items()) + ")")
    head = (f"- **Products** (eigenvalues): landscape spent no more than any anchor in "
            f"{total - len(more)} of {total} cells")
    return [head + (": more in " + "; ".join(more) if more else "") + (
        ". Each tool runs from its own start vector here, so a product or two is their luck: "
        "over the same 20 start vectors for every tool, the engine's median count is compared "
        "in `PRODUCTS.md` (`python -m benchmarks.products`).")]


def _agreed(results: dict) -> list[str]:
    """The largest float64 disagreement of any tool with the engine (loss, gradient, HVP)."""
    found = [(a[w], f"{r['name']} {a['tool']} {w}") for r in results["runs"]
             if r["dtype"] == "float64" for a in r["agreement"] if "error" not in a
             for w in ("loss", "grad", "hvp")]
    if not found:
        return []
    worst = max(found)
    verdict = "" if worst[0] <= 1e-12 else " (**above 1e-12: check the tools' set-up**)"
    return [f"- **Agreement** (float64): every tool's loss, gradient and HVP within "
            f"{worst[0]:.0e} of the engine's (largest: {worst[1]}){verdict}."]


def _errors(results: dict) -> list[str]:
    """Each tool's largest eigenvalue error, per dtype (its tol: 1e-6 and 1e-8)."""
    worst: dict = {}
    for run, workload, entry in _cells(results):
        if workload in ("trace", "density"):
            continue
        for tool, cell in entry["tools"].items():
            if cell.get("status") == "ok":
                key = (run["dtype"], tool)
                worst[key] = max(worst.get(key, 0.0), cell["error"])
    dtypes = sorted({d for d, _ in worst}, reverse=True)
    parts = [f"{d}: " + ", ".join(f"{t} {e:.0e}" for (dd, t), e in worst.items() if dd == d)
             for d in dtypes]
    return ["- **Largest eigenvalue error** (relative, any task and tol): "
            + "; ".join(parts) + "."] if parts else []


def _threads(results: dict) -> list[str]:
    """Where 2 threads took longer than 1 (same model, dtype, workload, tool)."""
    lines = []
    by_key = {(r["name"], r["dtype"], r["threads"]): r for r in results["runs"]}
    for tool in OURS + ANCHORS:
        ratios = []
        for (name, dtype, n), run in by_key.items():
            one = by_key.get((name, dtype, 1))
            if n != 2 or one is None:
                continue
            for workload, entry in run["workloads"].items():
                a = entry["tools"].get(tool, {})
                b = one["workloads"][workload]["tools"].get(tool, {})
                if a.get("status") == "ok" and b.get("status") == "ok":
                    ratios.append((a["median"] / b["median"], f"{name} {dtype} {workload}"))
        if ratios:
            slower = sorted((r for r in ratios if r[0] > 1), reverse=True)
            text = (f"{tool}: 2 threads / 1 thread {min(ratios)[0]:.2f}-{max(ratios)[0]:.2f}"
                    f", slower at 2 threads in {len(slower)} of {len(ratios)} cells")
            if slower:
                text += " (worst " + ", ".join(f"{w} {r:.2f}" for r, w in slower[:3]) + ")"
            lines.append(text)
    return ["- **Threads**: " + "; ".join(lines) + "."] if lines else []


def reading(results: dict) -> list[str]:
    """The short reading: wins and losses per pair, products, threads."""
    return [*_agreed(results), *_wins(results), *_products(results), *_errors(results),
            *_threads(results)]


def _cell_text(cell: dict) -> str:
    if cell.get("status") == "not offered":
        return "not offered"
    if cell.get("status") != "ok":
        return "error"
    flag = "" if cell.get("converged", True) is not False else " (not converged)"
    return f"{_ms(cell['median'])} · {cell['n_hvp']} · {cell['error']:.0e}{flag}"


def _run_tables(run: dict, tools: list[str]) -> list[str]:
    load = ", ".join(f"{x:.2f}" for x in run["load at start"])
    pairs = [f"{o}/{a}" for o in OURS for a in ANCHORS]
    return [f"### {run['model']}, {run['dtype']}, {run['threads']} thread"
            f"{'s' if run['threads'] > 1 else ''} (load average at start: {load})", "",
            "Cells: milliseconds (median) · products · error.", "",
            *_table(["workload", *tools],
                    [[w, *(_cell_text(e["tools"].get(t, {})) for t in tools)]
                     for w, e in run["workloads"].items()]),
            "Time ratios, ours / anchor (below 1: ours is faster):", "",
            *_table(["workload", *pairs],
                    [[w, *(f"{e['ratios'][p]:.2f}" if p in e["ratios"] else "-" for p in pairs)]
                     for w, e in run["workloads"].items()])]


def _agreement(results: dict) -> list[str]:
    lines, seen = [], set()
    for run in results["runs"]:
        key = (run["name"], run["dtype"])
        if key in seen:
            continue
        seen.add(key)
        for a in run["agreement"]:
            values = ([f"{a[w]:.0e}" for w in ("loss", "grad", "hvp")] if "error" not in a
                      else ["error"] * 3)
            lines.append([run["name"], run["dtype"], a["tool"], *values])
    return ["## Agreement before timing", "",
            "Loss, gradient and one HVP at the point: largest difference to the NumPy "
            "engine's relative to its largest entry.", "",
            *_table(["model", "dtype", "tool", "loss", "gradient", "HVP"], lines)]


def _head(results: dict) -> list[str]:
    m = results["machine"]
    load = ", ".join(f"{x:.2f}" for x in results["load at start"])
    env = ", ".join(f"{k}={v}" for k, v in m["environment"].items() if v is not None)
    versions = ", ".join(f"{k} {v}" for k, v in results["versions"].items())
    busy = results["load at start"][0] > BUSY
    settings = results["settings"]
    lines = ["# Hessian eigenvalues, trace and density: landscape against PyHessian, "
             "hessian-eigenthings and curvlinops", "",
             f"`{results['command']}`, {results['date']}, {results['seconds']:.0f} s. "
             "See the docstrings of `benchmarks/peers.py` (what is measured, how accuracy is "
             "judged) and `benchmarks/peers_tools.py` (what each tool runs).", "",
             f"- **Load average** (1, 5, 15 min) at the start: {load} on {m['cores']} cores"
             + (" (other work shared the cores: times are inflated, the 2-thread ones most; "
                "ratios come from interleaved samples)" if busy else "")
             + "; each configuration's own is in its heading.",
             f"- **Machine**: {m['cpu']}; NumPy {m['numpy']}, SciPy {m['scipy']}, PyTorch "
             f"{m['torch']}; engine commit {m['engine']}; environment: {env or 'none set'} "
             "(OPENBLAS_CORETYPE reported, never changed).",
             f"- **Tools**: {versions}."
             + (f" Missing: {results['missing']}." if results["missing"] else ""),
             f"- **Shim**: {results['shim']}.",
             f"- **Workloads**: eigenvalues ({', '.join(settings['eigen'])}) at each tol; trace "
             f"from {settings['probes']} Rademacher probes; density from {settings['slq'][0]} "
             f"probe(s) x {settings['slq'][1]} Lanczos steps. Warm-up call, then the median of "
             f"{results['config']['repeat']} interleaved calls (up to "
             f"{results['settings']['most']} while a tool's calls add up to less than "
             f"{results['settings']['short']} s).", ""]
    return lines


def markdown(results: dict) -> str:
    """``PEERS.md``: the reading, the agreement, then one table per configuration."""
    tools = [t for t in (*OURS, *ANCHORS) if t in results["versions"]]
    lines = [*_head(results), "## Reading", "", *reading(results), "",
             "Errors: eigenvalues, the largest relative error; trace, the relative error "
             "(a 100-probe estimate's relative standard deviation here: "
             + ", ".join(sorted({f"{r['name']} {r['trace spread']:.1e}"
                                 for r in results["runs"]}))
             + "); density, the Wasserstein-1 distance of the quadrature measure to the exact "
             "spectral measure over the spectrum's width. hessian-eigenthings runs at the "
             "fewest steps meeting its own flag (its `max_iter`, per model, dtype and task: "
             "see PEERS.json); PyHessian's tol is its power iteration's change between steps, "
             "not a residual.", "", *_agreement(results), "## Times, products, errors", ""]
    for run in results["runs"]:
        lines += _run_tables(run, tools)
    return "\n".join(lines)


def write(results: dict, folder) -> list[Path]:
    """``PEERS.json`` and ``PEERS.md`` into ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    return [write_json(folder / "PEERS.json", results),
            write_text(folder / "PEERS.md", markdown(results))]
