"""``python -m benchmarks.blas_threads [--base TREE] [--repeats R] [--resolution N]``: the serial
plane at the machine's default BLAS threads, on this tree and on a reference tree, and
whether every executor gives the serial plane's bits.

Since every chunk of work runs with BLAS on one thread (``landscape/parallel.py``), so that
a serial run, a process pool, a thread pool and Dask give the same bits, a serial plane no
longer uses the several BLAS threads the calling process may have. This measures what that
costs: the digits MLP plane (64-64-64-10, tanh, 8,970 parameters, 1797 samples) of
``N x N`` points, serially, with nothing limiting BLAS (2 OpenBLAS threads on 2 cores), on
this tree and on ``--base`` (an older checkout, imported through ``PYTHONPATH``; the
pre-refactor tree by default), and on the base with BLAS on one thread
(``OPENBLAS_NUM_THREADS=1``: what the threads alone change), each call in a fresh process,
the three alternating, ``--repeats`` calls each. Then, on each tree, the SHA-256 of the
plane's values serially (default threads, then one thread), on ``executor=2`` and on a
thread pool of 2 (this tree only; the base has no ``Execution``), at ``N = 21``.

Prints the rows and a markdown table (for ``NOTES.md``).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _inputs():
    from landscape import MLP, data
    from landscape.directions import random_directions

    X, y = data.digits()
    model = MLP([64, 64, 64, 10], activation="tanh", output="softmax", loss="cross_entropy")
    return model.objective(X, y), model.init(0), random_directions(model.n_params, k=2, rng=1)


def _plane(resolution: int, executor=None):
    """The plane's values, called as the imported tree's API wants."""
    import landscape
    from landscape.surface import plane

    obj, center, d = _inputs()
    if hasattr(landscape, "Execution"):
        return plane(obj, center, d, resolution=resolution,
                     execution=landscape.Execution(executor=executor, progress=False)).values
    return plane(obj, center, d, resolution=resolution, executor=executor,
                 progress=False).values


def _sha(values) -> str:
    import hashlib

    return hashlib.sha256(values.tobytes()).hexdigest()[:12]


def measure(kind: str, resolution: int) -> dict:
    """In a fresh process: 'time' the serial plane, or the 'bits' of each executor's."""
    import concurrent.futures as cf

    from threadpoolctl import threadpool_info, threadpool_limits

    import landscape

    threads = sorted({i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"})
    row = {"tree": str(Path(landscape.__file__).parent.parent), "blas_threads": threads,
           "load": os.getloadavg()[0]}
    if kind == "time":
        _plane(5)  # warm: imports, first products
        start, cpu = time.perf_counter(), time.process_time()
        values = _plane(resolution)
        return {**row, "seconds": time.perf_counter() - start,
                "cpu": time.process_time() - cpu, "sha": _sha(values)}
    shas = {"serial": _sha(_plane(resolution)), "executor=2": _sha(_plane(resolution, 2))}
    if hasattr(landscape, "Execution"):
        with cf.ThreadPoolExecutor(2) as pool:
            shas["2 threads"] = _sha(_plane(resolution, pool))
    with threadpool_limits(1):
        shas["serial, 1 BLAS thread"] = _sha(_plane(resolution))
    return {**row, "shas": shas}


SINGLE_THREAD = {"OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _run(tree: Path, kind: str, resolution: int, one_thread: bool = False) -> dict:
    """One measurement in a fresh process importing ``tree``'s landscape, with the machine's
    default BLAS threads unless ``one_thread``."""
    env = {k: v for k, v in os.environ.items() if k not in SINGLE_THREAD}
    env.update({"PYTHONPATH": str(tree), **(SINGLE_THREAD if one_thread else {})})
    with tempfile.TemporaryDirectory() as cwd:  # neither tree on sys.path but by PYTHONPATH
        out = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--measure", kind,
                              str(resolution)], env=env, cwd=cwd, capture_output=True, text=True)
    if out.returncode:
        raise RuntimeError(f"{kind} on {tree} failed:\n{out.stderr[-3000:]}")
    row = json.loads(out.stdout.strip().splitlines()[-1])
    if Path(row["tree"]).resolve() != tree.resolve():
        raise RuntimeError(f"imported landscape from {row['tree']}, not {tree}")
    return row


def _commit(tree: Path) -> str:
    out = subprocess.run(["git", "log", "-1", "--format=%h"], capture_output=True, text=True,
                         cwd=tree)
    return out.stdout.strip() or tree.name


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", type=Path, default=Path("/tmp/base"),
                        help="the reference tree (a checkout whose landscape/ to import)")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--resolution", type=int, default=51)
    parser.add_argument("--measure", nargs=2, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure:
        print(json.dumps(measure(args.measure[0], int(args.measure[1]))))
        return
    trees = {"base": args.base, "base, 1 BLAS thread": args.base, "this tree": ROOT}
    times: dict = {name: [] for name in trees}
    for _ in range(args.repeats):
        for name, tree in trees.items():
            row = _run(tree, "time", args.resolution, one_thread="1 BLAS" in name)
            times[name].append(row)
            print(f"{name:20s} {row['seconds']:7.2f} s  CPU {row['cpu']:7.2f} s  "
                  f"BLAS threads {row['blas_threads']}  "
                  f"load {row['load']:.1f}  values {row['sha']}", flush=True)
    bits = {name: _run(tree, "bits", 21)["shas"] for name, tree in trees.items()
            if "1 BLAS" not in name}
    print(json.dumps(bits, indent=1))
    base = statistics.median(r["seconds"] for r in times["base"])
    loads = [r["load"] for rows in times.values() for r in rows]
    print(f"\nload average {min(loads):.1f} to {max(loads):.1f}")
    print(f"\n{os.cpu_count()} cores; digits MLP plane {args.resolution}x{args.resolution}, "
          f"serial, default BLAS threads; {args.repeats} fresh processes per tree, alternating\n")
    print("| tree | commit | min s | median s | median vs base | median CPU s | runs with "
          "the serial plane's bits (21x21) |")
    print("|---|---|---:|---:|---:|---:|---|")
    for name, tree in trees.items():
        secs = [r["seconds"] for r in times[name]]
        shas = bits.get(name, {})
        others = [k for k in shas if k != "serial"]
        agree = [k for k in others if shas[k] == shas["serial"]]
        same = f"{len(agree)} of {len(others)}: {', '.join(agree) or 'none'}" if shas else "-"
        print(f"| {name} | {_commit(tree)} | {min(secs):.2f} | {statistics.median(secs):.2f} "
              f"| {base / statistics.median(secs):.2f}x "
              f"| {statistics.median(r['cpu'] for r in times[name]):.2f} | {same} |")


if __name__ == "__main__":
    main()
