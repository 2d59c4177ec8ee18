"""``python -m benchmarks.peers [--quick] [--out DIR]``: Hessian eigenvalues, trace and
spectral density against the field's PyTorch tools: PyHessian, hessian-eigenthings,
curvlinops.

On the digits-sized (64-64-64-10 tanh, softmax cross-entropy, 1797 samples, 8970
parameters) and tiny (2-16-16-1, 200 samples, 353 parameters) networks of
:mod:`benchmarks.models` at their first point, the same weights and data as an
``nn.Sequential`` for the PyTorch tools, per workload and tool (:mod:`benchmarks.peers_tools`
says what each tool runs):

- **workloads**: top-1, top-5 and bottom-1 eigenvalues at tol 1e-6 and 1e-8 (each tool's
  own stopping rule: residual for ours, eigsh and hessian-eigenthings; PyHessian's
  change of the estimate between two power steps); Hutchinson's trace from 100
  Rademacher probes; the spectral density by stochastic Lanczos quadrature from 1 probe
  and 100 Lanczos steps (PyHessian's defaults).
- **time**: the median of ``repeat`` calls after a warm-up call (more, up to ``MOST``,
  while a tool's calls add up to less than ``SHORT`` seconds: short calls are the
  noisiest), the tools interleaved (one call of each in turn, the order rotating), each
  tool in its own spawned process with every thread pool there (threadpoolctl: NumPy's
  and SciPy's OpenBLAS, OpenMP; ``torch.set_num_threads``) on 1, then 2 threads. The
  parent waits ``SETTLE`` seconds after each call, so that no worker's BLAS or OpenMP
  threads are still spinning when the next starts; at 1 thread too, so that every call
  starts from the same idle machine at either thread count (on this VM a core idle for
  0.1 s ran the next few milliseconds of work up to 1.5 times slower, and waking a
  sleeping thread took up to 3.7 ms: without the pause at 1 thread, 2-thread calls paid
  that and 1-thread calls did not). Every call starts at a point with nothing cached
  (:mod:`benchmarks.peers_tools`).
- **products**: Hessian-vector products the call spent, counted by wrapping each tool's
  product (curvlinops' trace: one vmapped product of 100 columns counts 100).
- **accuracy**, of the warm-up call, against float64 references from the dense Hessian
  (its ``eigvalsh``, cached under ``benchmarks/quick/``): eigenvalues, the largest
  relative error of the wanted ones; trace, the relative error (beside it, the standard
  deviation of a 100-probe estimate, ``sqrt(2 (Σλ² - Σ H_ii²) / 100)``, which is what
  luck decides); density, the Wasserstein-1 distance between the tool's quadrature
  measure (its nodes and weights, before any smoothing) and the exact spectral measure
  ``(1/n) Σ δ(λ_i)``, divided by the spectrum's width ``λ_max - λ_min`` (0: exact; one
  probe's sampling error dominates it, so it measures the tools' luck as much as their
  Lanczos). float32 runs are judged against the same float64 references.

Before timing, each tool's loss, gradient and one HVP at the point are compared with the
engine's (largest difference relative to the largest entry). Writes ``PEERS.md`` and
``PEERS.json`` into ``benchmarks/`` (``--quick``: the tiny model in float64, tol 1e-6, one
timed call, into ``benchmarks/quick/``; under a minute on a quiet machine).
"""

from __future__ import annotations

import argparse
import hashlib
import multiprocessing
import os
import statistics
import sys
import time
import traceback
from pathlib import Path
from typing import NamedTuple

import numpy as np
import torch
from scipy.stats import wasserstein_distance
from threadpoolctl import threadpool_info, threadpool_limits

from benchmarks import machine
from benchmarks.models import SPECS, build
from benchmarks.peers_report import reading, write
from benchmarks.peers_tools import EIGEN, PROBES, SLQ, TOOLS, WORKLOADS, NotOffered
from benchmarks.timing import threads

HERE = Path(__file__).parent
OURS = ("landscape", "landscape.torch")
ANCHORS = ("PyHessian", "hessian-eigenthings", "curvlinops")
SETTLE = 0.1  # seconds after each call (OpenBLAS's and OpenMP's spin-wait; idle alike)
SHORT = 0.3  # seconds of timed calls per tool below which a cell takes more rounds ...
MOST = 9  # ... up to this many (a median of 3 calls of a few ms was one disturbance off)


class Config(NamedTuple):
    """What one run measures."""

    models: tuple
    dtypes: tuple
    threads: tuple
    workloads: tuple
    repeat: int


FULL = Config(("digits", "tiny"), ("float64", "float32"), (1, 2), tuple(WORKLOADS), 3)
QUICK = Config(("tiny",), ("float64",), (1, 2),
               tuple(w for w in WORKLOADS if not w.endswith("1e-08")), 1)


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------
# The float64 reference: the dense Hessian's spectrum, cached
# ---------------------------------------------------------------------------------


def reference(name: str) -> dict:
    """Eigenvalues (ascending) and diagonal of the float64 Hessian of model ``name``."""
    p = build(SPECS[name], np.float64)
    key = hashlib.sha256(p.thetas[0].tobytes() + p.objective.X.tobytes()).hexdigest()[:12]
    path = HERE / "quick" / f"peers-reference-{name}-{key}.npz"
    if path.exists():
        with np.load(path) as f:
            return {"eigenvalues": f["eigenvalues"], "diagonal": f["diagonal"]}
    _say(f"{name}: the dense Hessian's spectrum ({p.n} parameters; cached in {path.name})")
    with threads(os.cpu_count() or 1):
        H = p.objective.hessian(p.thetas[0])
        out = {"eigenvalues": np.linalg.eigvalsh(H), "diagonal": np.diag(H).copy()}
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez(path, **out)
    return out


def accuracy(ref: dict, workload: str, out: dict) -> float:
    """The error of a call's result (see the module notes)."""
    lam = ref["eigenvalues"]
    kind = WORKLOADS[workload][0]
    if kind == "eigen":
        k, which = WORKLOADS[workload][1:3]
        exact = lam[-k:] if which == "LA" else lam[:k]
        found = np.sort(np.asarray(out["values"], dtype=float))
        return float(np.max(np.abs(found - exact) / np.abs(exact)))
    if kind == "trace":
        return abs(out["trace"] - lam.sum()) / abs(lam.sum())
    distance = wasserstein_distance(out["nodes"], lam, u_weights=out["weights"])
    return float(distance / (lam[-1] - lam[0]))


def trace_spread(ref: dict) -> float:
    """Relative standard deviation of a ``PROBES``-probe Rademacher Hutchinson estimate."""
    lam, d = ref["eigenvalues"], ref["diagonal"]
    return float(np.sqrt(2 * (np.sum(lam**2) - np.sum(d**2)) / PROBES) / abs(lam.sum()))


# ---------------------------------------------------------------------------------
# Workers
# ---------------------------------------------------------------------------------


def _version(dist: str) -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(dist)
    except PackageNotFoundError:
        return "unknown"


def _threads(n: int) -> list[dict]:
    """Every thread pool of this process on ``n`` threads; what threadpoolctl then sees."""
    torch.set_num_threads(n)
    threadpool_limits(limits=n)
    return [{"api": i["internal_api"], "threads": i["num_threads"], "file": i["filepath"]}
            for i in threadpool_info()] + [{"api": "torch intra-op", "threads":
                                            torch.get_num_threads(), "file": ""}]


def _run(tool, workload: str) -> dict:
    kind, *args = WORKLOADS[workload]
    tool.prepare()
    start = time.perf_counter()
    out = getattr(tool, kind)(*args)
    out["seconds"] = time.perf_counter() - start
    return out


def serve(name: str, conn) -> None:
    """A worker: one tool's library in this process, commands from ``conn`` until 'stop'.

    Commands: ('setup', model, dtype) -> facts; ('threads', n) -> the pools;
    ('check',) -> loss, gradient, HVP; ('run', workload) -> the result and its seconds.
    Replies are ('ok', data), ('not offered', why) or ('error', traceback).
    """
    torch.set_num_interop_threads(1)
    try:
        __import__(TOOLS[name].library)
    except ImportError as err:
        conn.send(("missing", str(err)))
        return
    conn.send(("ok", {"version": _version(TOOLS[name].dist)}))
    tool = None
    while True:
        command, *args = conn.recv()
        if command == "stop":
            return
        try:
            if command == "setup":
                tool = TOOLS[name](build(SPECS[args[0]], np.dtype(args[1])))
                reply = {"steps": {f"{k} {w} {t:g}": m
                                   for (k, w, t), m in getattr(tool, "steps", {}).items()}}
            elif command == "threads":
                reply = _threads(args[0])
            elif command == "check":
                reply = tool.check()
            else:
                reply = _run(tool, args[0])
            conn.send(("ok", reply))
        except NotOffered as why:
            conn.send(("not offered", str(why)))
        except Exception:  # noqa: BLE001 - reported to the parent, which records it
            conn.send(("error", traceback.format_exc()))


class Workers:
    """One spawned process per tool (:func:`serve`), and the parent's end of their pipes."""

    def __init__(self, names):
        context = multiprocessing.get_context("spawn")
        self.conns, self.procs, self.missing, self.versions = {}, {}, {}, {}
        for name in names:
            ours, theirs = context.Pipe()
            proc = context.Process(target=serve, args=(name, theirs), daemon=True)
            proc.start()
            self.conns[name], self.procs[name] = ours, proc
        for name in names:
            status, data = self.conns[name].recv()
            if status == "missing":
                self.missing[name] = data
                self.procs.pop(name).join()
                self.conns.pop(name)
            else:
                self.versions[name] = data["version"]

    @property
    def names(self) -> list[str]:
        return list(self.conns)

    def ask(self, name: str, *command) -> tuple[str, object]:
        self.conns[name].send(command)
        return self.conns[name].recv()

    def all(self, *command) -> dict:
        for name in self.names:
            self.conns[name].send(command)
        return {name: self.conns[name].recv() for name in self.names}

    def close(self) -> None:
        for name in self.names:
            self.conns[name].send(("stop",))
        for proc in self.procs.values():
            proc.join(timeout=10)


def _relative(a, b) -> float:
    a, b = np.atleast_1d(np.asarray(a, float)), np.atleast_1d(np.asarray(b, float))
    return float(np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300))


def _agreement(checks: dict) -> list[dict]:
    base = checks["landscape"][1]
    return [{"tool": name, **{what: _relative(data[what], base[what])
                              for what in ("loss", "grad", "hvp")}} if status == "ok"
            else {"tool": name, "error": data} for name, (status, data) in checks.items()]


def _cell(ref: dict, workload: str, first: tuple, times: list) -> dict:
    status, data = first
    if status != "ok":
        return {"status": status, "why": data}
    cell = {k: v for k, v in data.items() if k not in ("values", "nodes", "weights")}
    cell |= {"status": "ok", "median": statistics.median(times), "samples": times,
             "error": accuracy(ref, workload, data)}
    if "values" in data:
        cell["values"] = sorted(data["values"])
    return cell


def _more(times: dict, config: Config) -> bool:
    """Whether a cell needs another round: ``repeat`` rounds, then until every tool's
    timed calls add up to ``SHORT`` seconds, at most ``MOST`` rounds."""
    rounds = max(map(len, times.values()), default=0)
    return rounds < config.repeat or (rounds < max(MOST, config.repeat) and min(
        (sum(t) for t in times.values() if t), default=SHORT) < SHORT)


def _workload(workers: Workers, ref: dict, workload: str, config: Config) -> dict:
    """One workload for every tool: a warm-up round, then interleaved rounds (:func:`_more`)."""
    names = workers.names
    first, times = {}, {name: [] for name in names}
    round_ = 0
    while round_ == 0 or _more(times, config):
        shift = round_ % len(names)
        for name in names[shift:] + names[:shift]:
            if round_ and first[name][0] != "ok":
                continue
            status, data = workers.ask(name, "run", workload)
            time.sleep(SETTLE)
            if round_ == 0:
                first[name] = (status, data)
            if round_ and status == "ok":
                times[name].append(data["seconds"])
        round_ += 1
    return {name: _cell(ref, workload, first[name], times[name]) for name in names}


def _ratios(cells: dict) -> dict:
    """ours / anchor, from the medians of the same run (below 1: ours is faster)."""
    out = {}
    for ours in OURS:
        for anchor in ANCHORS:
            a, b = cells.get(ours, {}), cells.get(anchor, {})
            if a.get("status") == "ok" and b.get("status") == "ok":
                out[f"{ours}/{anchor}"] = a["median"] / b["median"]
    return out


def measure(config: Config, workers: Workers) -> list[dict]:
    """Every model, dtype, thread count and workload of ``config``."""
    runs = []
    for name in config.models:
        ref = reference(name)
        for dtype in config.dtypes:
            setups = workers.all("setup", name, dtype)
            failed = {k: v[1] for k, v in setups.items() if v[0] != "ok"}
            if failed:
                raise RuntimeError(f"setup failed: {failed}")
            workers.all("threads", 1)
            agreement = _agreement(workers.all("check"))
            for n in config.threads:
                load = os.getloadavg()
                with_threads = workers.all("threads", n)
                run = {"model": SPECS[name].label(), "name": name,
                       "dim": int(ref["eigenvalues"].size), "dtype": dtype, "threads": n,
                       "load at start": load,
                       "agreement": agreement, "trace spread": trace_spread(ref),
                       "pools": {k: v[1] for k, v in with_threads.items()},
                       "he max_iter": setups.get("hessian-eigenthings", ("", {}))[1].get("steps"),
                       "workloads": {}}
                for workload in config.workloads:
                    cells = _workload(workers, ref, workload, config)
                    run["workloads"][workload] = {"tools": cells, "ratios": _ratios(cells)}
                    _say(f"{name} {dtype} {n}t {workload}: " + ", ".join(
                        f"{t} {1e3 * c['median']:.1f} ms ({c.get('n_hvp')})"
                        for t, c in cells.items() if c["status"] == "ok"))
                runs.append(run)
    return runs


def run(quick: bool, out: Path, models=None) -> dict:
    """Measure, write ``PEERS.md`` and ``PEERS.json`` into ``out``; return the results."""
    config = QUICK if quick else FULL
    if models:
        config = config._replace(models=tuple(models))
    start, load = time.perf_counter(), os.getloadavg()
    workers = Workers(list(TOOLS))
    try:
        runs = measure(config, workers)
    finally:
        workers.close()
    results = {"command": "python -m benchmarks.peers" + (" --quick" if quick else ""),
               "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"), "load at start": load,
               "machine": machine.facts(), "versions": workers.versions,
               "missing": workers.missing, "config": config._asdict(),
               "settings": {"probes": PROBES, "slq": SLQ, "eigen": list(EIGEN),
                            "settle": SETTLE, "short": SHORT, "most": MOST},
               "tools": {name: TOOLS[name].__doc__ for name in TOOLS},
               "shim": TOOLS["PyHessian"].shim, "runs": runs,
               "seconds": time.perf_counter() - start}
    results["reading"] = reading(results)
    for path in write(results, out):
        _say(f"wrote {path}")
    return results


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.peers",
                                     description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="the tiny model, under a minute")
    parser.add_argument("--models", nargs="+", choices=sorted(SPECS), help="instead of the set")
    parser.add_argument("--out", type=Path, help="folder for PEERS.md and PEERS.json")
    args = parser.parse_args(argv)
    run(args.quick, args.out or (HERE / "quick" if args.quick else HERE), args.models)


if __name__ == "__main__":
    main()
