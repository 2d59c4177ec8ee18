"""``python -m benchmarks.scaling [--quick] [--grid R] [--only WORKLOAD [SETUP ...]]``: a large
grid and a large sweep, serially, on ``map_chunks``' own 2-process pool and on 1 and 2 local
Dask workers (about 12 minutes on 2 cores).

Writes ``benchmarks/SCALING.md`` and its rows as ``SCALING.json`` (``--quick``: into
``benchmarks/quick/``, a smoke run of small sizes whose numbers mean little): wall and CPU
times, the parallel efficiency ``T1 / (2 T2)``, peak memory (maximum resident set) of the
main process and of each Dask worker, and whether every setup gave the serial numbers bit
for bit. ``--only grid`` (or ``sweep``, optionally followed by setup names) measures again
and keeps the other rows, for measurements disturbed by other load (see 'cores used').

Each measurement runs in a fresh Python process (``--measure WORKLOAD SETUP``), with BLAS
limited to one thread (as Dask limits its workers'), so that no run warms, fragments or
oversubscribes the next. Dask's workers set ``MALLOC_TRIM_THRESHOLD_=65536``; the
'glibc' setups remove it from ``distributed.nanny.pre-spawn-environ`` (glibc's own
adaptive thresholds), and 'serial trim' sets it in a serial run, to tell malloc's part
from Dask's.
"""

from __future__ import annotations

import argparse
import datetime
import hashlib
import importlib
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path
from typing import NamedTuple

HERE = Path(__file__).parent
SINGLE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}
TRIM = {"MALLOC_TRIM_THRESHOLD_": "65536"}  # what Dask's nannies set in their workers


class Setup(NamedTuple):
    """How to run: ``kind`` 'serial', 'pool' or 'dask'; ``workers``; Dask's malloc ``trim``
    setting kept; ``env`` added to the measuring process; ``budget`` bytes or None."""

    kind: str
    workers: int = 1
    trim: bool = True
    env: dict = {}
    budget: float | None = None


SETUPS = {
    "serial": Setup("serial"),
    "serial trim": Setup("serial", env=TRIM),
    "serial 16 MB budget": Setup("serial", budget=16e6),
    "pool-2": Setup("pool", 2),
    "dask-1": Setup("dask", 1),
    "dask-2": Setup("dask", 2),
    "dask-1 glibc": Setup("dask", 1, trim=False),
    "dask-2 glibc": Setup("dask", 2, trim=False),
}


class Sizes(NamedTuple):
    grid: int  # points per axis of the plane
    runs: int  # starts of the sweep
    steps: int  # steps per run


FULL, QUICK = Sizes(201, 200, 200), Sizes(21, 16, 20)


# ---------------------------------------------------------------------------------
# One measurement (in its own process)
# ---------------------------------------------------------------------------------


def _model():
    from landscape import MLP, data

    X, y = data.digits()
    model = MLP([64, 64, 64, 10], activation="tanh", output="softmax", loss="cross_entropy")
    return model, model.objective(X, y)


def _settings(executor, budget):
    """One measurement's execution settings; ``budget`` None keeps the default's."""
    from landscape.settings import Execution

    return Execution(executor=executor, **({} if budget is None else {"memory_budget": budget}))


def _grid(sizes: Sizes, budget):
    """A ``sizes.grid``-square plane, as ``executor -> SHA-256 of its values``."""
    from landscape.directions import random_directions
    from landscape.surface import plane

    model, objective = _model()
    center, d = model.init(0), random_directions(model.n_params, k=2, rng=1)

    def call(executor) -> str:
        s = plane(objective, center, d, resolution=sizes.grid,
                  execution=_settings(executor, budget))
        return hashlib.sha256(s.values.tobytes()).hexdigest()

    return call


def _sweep(sizes: Sizes, budget):
    """Minibatch SGD from ``sizes.runs`` initializations, as ``executor -> SHA-256 of the
    records`` (parameters, losses, gradient norms)."""
    from landscape.optim import momentum
    from landscape.sweep import run_many

    model, objective = _model()

    def call(executor) -> str:
        runs = run_many(objective, sizes.runs, momentum(0.05), sizes.steps, init_fn=model.init,
                        rng=0, batch_size=64, record_every=20,
                        execution=_settings(executor, budget))
        h = hashlib.sha256()
        for tr in runs:
            for a in (tr.thetas, tr.loss, tr.batch_loss, tr.grad_norm):
                h.update(a.tobytes())
        return h.hexdigest()

    return call


WORKLOADS = {"grid": _grid, "sweep": _sweep}


def _peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _cpu_time(client) -> float:
    """CPU seconds used so far by this process and, with a Dask client, by its workers (a
    process pool's workers are not counted: they are not this process's children)."""
    own = _cpu_seconds()
    return own if client is None else own + sum(client.run(_cpu_seconds).values())


def _dask_client(setup: Setup):
    import dask
    from distributed import Client, LocalCluster

    environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ"))
    if not setup.trim:
        environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}):
        return Client(LocalCluster(n_workers=setup.workers, threads_per_worker=1,
                                   processes=True, dashboard_address=None))


def _imported(name: str) -> str:
    importlib.import_module(name)
    return name


def _executor(setup: Setup):
    """``(executor, client or None)``, started and warmed: Dask's workers have imported the
    library, and one process pool has been started and closed."""
    from landscape.parallel import map_chunks
    from landscape.settings import Execution

    if setup.kind == "dask":
        client = _dask_client(setup)
        client.run(_imported, "landscape")
        return client, client
    if setup.kind == "pool":  # its start-up on its own; the timed call opens another pool
        map_chunks(_imported, ["landscape"] * setup.workers, Execution(executor=setup.workers))
        return setup.workers, None
    return None, None


def measure(workload: str, name: str, sizes: Sizes) -> dict:
    """Run one workload on one setup; wall seconds of the call, start-up, memory, checksum."""
    setup = SETUPS[name]
    call = WORKLOADS[workload](sizes, setup.budget)
    start = time.perf_counter()
    executor, client = _executor(setup)
    startup = time.perf_counter() - start
    cpu, start = _cpu_time(client), time.perf_counter()
    checksum = call(executor)
    seconds, cpu = time.perf_counter() - start, _cpu_time(client) - cpu
    workers_mib = []
    if client is not None:
        workers_mib = sorted(client.run(_peak_mib).values())
        client.shutdown()
    return {"workload": workload, "setup": name, "seconds": seconds, "startup": startup,
            "cpu": None if setup.kind == "pool" else cpu, "main_mib": _peak_mib(),
            "workers_mib": workers_mib, "checksum": checksum, "load": os.getloadavg()[0],
            "when": datetime.datetime.now().isoformat(timespec="minutes"), "commit": _commit()}


def _commit() -> str:
    """The library's git commit, for rows measured while the engine changes."""
    out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True,
                         text=True, cwd=HERE.parent)
    return out.stdout.strip() or "unknown"


# ---------------------------------------------------------------------------------
# All of them, and the report
# ---------------------------------------------------------------------------------


def _env(setup: Setup) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    return {**env, **SINGLE_THREAD, **setup.env}


def _run_one(workload: str, name: str, sizes: Sizes) -> dict:
    cmd = [sys.executable, "-m", "benchmarks.scaling", "--measure", workload, name,
           "--sizes", json.dumps(list(sizes))]
    out = subprocess.run(cmd, env=_env(SETUPS[name]), capture_output=True, text=True,
                         cwd=HERE.parent)
    if out.returncode:
        raise RuntimeError(f"{workload} on {name} failed:\n{out.stderr[-3000:]}")
    row = json.loads(out.stdout.strip().splitlines()[-1])
    print(f"{workload:5s} {name:20s} {row['seconds']:8.2f} s  load {row['load']:.1f}",
          flush=True)
    return row


def _plan(workload: str) -> list:
    return [n for n in SETUPS if workload == "grid" or "budget" not in n]


def _efficiency(rows: dict, one: str, two: str) -> str:
    """``T1 / (2 T2)`` of wall times, and ``CPU1 / CPU2`` (the work two workers spend
    against one, whatever cores they got) where both CPU times are known."""
    wall = f"{rows[one]['seconds'] / (2 * rows[two]['seconds']):.2f}"
    cpu1, cpu2 = rows[one]["cpu"], rows[two]["cpu"]
    return f"{wall} | {'-' if None in (cpu1, cpu2) else f'{cpu1 / cpu2:.2f}'}"


def _table(workload: str, rows: dict) -> list:
    serial = rows["serial"]
    lines = ["| setup | wall s | vs serial | CPU s | cores used | start-up s | peak MiB main "
             "| peak MiB per worker | serial's numbers |",
             "|---|---:|---:|---:|---:|---:|---:|---:|:-:|"]
    for name, r in rows.items():
        workers = ", ".join(f"{m:.0f}" for m in r["workers_mib"]) or "-"
        same = "yes" if r["checksum"] == serial["checksum"] else "**no**"
        cpu = "- | -" if r["cpu"] is None else f"{r['cpu']:.1f} | {r['cpu'] / r['seconds']:.2f}"
        lines.append(f"| {name} | {r['seconds']:.2f} | {serial['seconds'] / r['seconds']:.2f}x "
                     f"| {cpu} | {r['startup']:.2f} "
                     f"| {r['main_mib']:.0f} | {workers} | {same} |")
    return lines


def _facts(results: dict) -> list:
    import dask
    import numpy as np
    from threadpoolctl import threadpool_info

    blas = [f"{i.get('internal_api')} {i.get('version')}" for i in threadpool_info()]
    rows = [r for by_setup in results.values() for r in by_setup.values()]
    when = [r["when"] for r in rows]
    commits = sorted({r.get("commit", "not recorded") for r in rows})
    return [f"- machine: {os.cpu_count()} cores, {_cpu_model()}; Python {sys.version.split()[0]}, "
            f"NumPy {np.__version__} ({', '.join(blas)}), Dask {dask.__version__}",
            "- every measurement in a fresh process with OPENBLAS/OMP/MKL_NUM_THREADS=1; "
            f"MALLOC_* unset unless the setup says so; measured {min(when)} to {max(when)}, "
            f"library at commit {', '.join(commits)}"]


def _cpu_model() -> str:
    with open("/proc/cpuinfo", encoding="utf-8") as fh:
        names = [line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")]
    return names[0] if names else "unknown CPU"


def report(results: dict, sizes: Sizes) -> str:
    """The markdown of SCALING.md from ``{workload: {setup: row}}``."""
    grid, sweep = results["grid"], results["sweep"]
    n_points = sizes.grid**2
    lines = ["# Scaling: a large grid and a large sweep on 1 and 2 workers", "",
             "Made by `python -m benchmarks.scaling` (see its docstring). Wall seconds of the "
             "call (`plane` or `run_many`). Start-up is apart: a Dask cluster's start with "
             "its workers importing the library (a client is kept for many calls), or one "
             "process pool's start and first import measured on its own (the timed call "
             "opens and closes its own pool, so it pays this once more).", "", *_facts(results),
             "- setups: 'pool-2' is `executor=2`; 'dask-N' N local Dask workers of one thread "
             "as Dask starts them (with `MALLOC_TRIM_THRESHOLD_=65536`), 'glibc' without that "
             "setting; 'serial trim' a serial run with it; CPU s counts this process and the "
             "Dask workers (not a pool's workers), 'cores used' is CPU s / wall s", "",
             f"## Grid: a {sizes.grid}x{sizes.grid} plane ({n_points} points) of the "
             "64-64-64-10 tanh MLP on the digits (1797 samples, 8,970 parameters)", "",
             "16 chunks; with the 16 MB budget (for the plane's and the objective's chunks) "
             "chunks of at most 16e6 / (8 x 8970) = 222 points.", "",
             *_table("grid", grid), "",
             f"## Sweep: `run_many` of {sizes.runs} initializations of the same MLP, momentum "
             f"SGD, {sizes.steps} steps of batch 64 (16 chunks)", "",
             *_table("sweep", sweep), "",
             "## Parallel efficiency", "",
             "Wall: T1 / (2 T2). CPU: CPU1 / CPU2, the CPU time of one worker over that of two "
             "(1 when two workers do no more work than one), which other load on the machine "
             "does not change.", "",
             "| | grid, wall | grid, CPU | sweep, wall | sweep, CPU |",
             "|---|---:|---:|---:|---:|"]
    for label, one, two in [("Dask, workers as Dask starts them (trim 65536)", "dask-1", "dask-2"),
                            ("Dask, glibc's malloc thresholds", "dask-1 glibc", "dask-2 glibc"),
                            ("process pool (T1 = serial)", "serial", "pool-2")]:
        lines.append(f"| {label} | {_efficiency(grid, one, two)} | "
                     f"{_efficiency(sweep, one, two)} |")
    loads = [r["load"] for w in results.values() for r in w.values()]
    lines += ["", f"Load average (1 min) at the end of the measurements: {min(loads):.1f} to "
              f"{max(loads):.1f} on {os.cpu_count()} cores; with more than the measuring "
              "processes running, two workers cannot have two cores and the efficiency falls.",
              ""]
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, a smoke run")
    parser.add_argument("--grid", type=int, help="points per axis of the plane")
    parser.add_argument("--out", type=Path, help="the report's path")
    parser.add_argument("--only", nargs="+", metavar="WORKLOAD [SETUP]",
                        help="measure one workload again, or only the setups named, and "
                             "keep the other rows")
    parser.add_argument("--measure", nargs=2, metavar=("WORKLOAD", "SETUP"),
                        help=argparse.SUPPRESS)
    parser.add_argument("--sizes", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(*args.measure, Sizes(*json.loads(args.sizes)))))
        return
    from landscape.io import read_json, write_json, write_text

    sizes = QUICK if args.quick else FULL
    sizes = sizes._replace(grid=args.grid or sizes.grid)
    out = args.out or HERE / ("quick" if args.quick else "") / "SCALING.md"
    raw = out.with_suffix(".json")  # every row, so that --only can redo one workload
    results = {w: {} for w in WORKLOADS}
    plan = {w: _plan(w) for w in WORKLOADS}
    if args.only:
        kept = read_json(raw) if raw.exists() else {}
        workload, names = args.only[0], args.only[1:]
        if kept.get("sizes") != list(sizes) or workload not in WORKLOADS:
            parser.error(f"--only needs a workload of {list(WORKLOADS)} and {raw} from an "
                         "earlier run of the same sizes")
        if not set(names) <= set(plan[workload]):
            parser.error(f"setups of {workload}: {plan[workload]}")
        results, plan = kept["results"], {workload: names or plan[workload]}
    for w, names in plan.items():
        results[w].update({n: _run_one(w, n, sizes) for n in names})
    write_json(raw, {"sizes": list(sizes), "results": results})
    write_text(out, report(results, sizes))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
