"""``python -m benchmarks.planes [--quick] [--out PATH]``: filter-normalized planes, the
engine's ``ls.plane`` against loss-landscapes 3.0.6's ``random_plane``, by width and samples.

- **Models.** 64-h-h-10 tanh MLPs, softmax cross-entropy (``nn.Linear``, ``nn.Tanh``,
  ``nn.CrossEntropyLoss`` for loss-landscapes, the same ``theta``): h = 64, 256, 1024 on
  the 1,797 digits; h = 64 on 5,000 and 20,000 samples, the digits in turn plus seeded
  Gaussian noise of standard deviation 0.05 (pixels in [0, 1]), labels kept. ``theta``:
  the engine's Glorot weights, PyTorch's ``nn.Linear`` biases ``U(+-1/sqrt(fan_in))``
  (loss-landscapes' filter normalization divides by each bias entry: a zero one raises).
- **Calls.** Ours: ``filter_normalized_directions`` and ``ls.plane`` (span 0.5) on an
  ``r x r`` grid, a fresh objective each call. Theirs: ``random_plane(net, Loss(criterion,
  X, y), distance=1, steps=r, normalization='filter', deepcopy_model=True)`` after
  ``torch.manual_seed``. The same ``r`` for both, fewer points for the biggest sizes, so
  times are per point (each call's fixed costs included: at h = 1024 our directions take
  about 0.2 s, theirs 0.1 s).
- **Values.** loss-landscapes' directions, rebuilt in the parent by its own functions and
  seed, go to ``ls.plane`` on the grid ``random_plane`` walks: ``center + a d1 + b d2``,
  ``a = i - r/2``, ``b = j + 1 - r/2`` for even ``i`` and ``j - r/2`` for odd ``i`` (its
  snake walk leaves odd rows one step lower). The largest difference relative to the
  largest loss, odd rows shifted by that step, and without the shift (the shift is real).
- **Processes and threads.** Each tool in its own process (kept per setting; one works at
  a time, with a pause between calls so that no BLAS or OpenMP thread still spins), every
  BLAS limited by threadpoolctl and PyTorch by ``torch.set_num_threads``; the engine's
  process never imports PyTorch. ``repeat`` samples per tool and row, alternating, after a
  warm-up on a small grid; medians. Every row at 1 and 2 threads; the width rows again with
  ``OPENBLAS_CORETYPE`` unset in the children (this machine sets Haswell, an older kernel;
  never changed in tests or CI).
- **Fits.** ``a`` in time per point ~ ``h^a`` (width rows), ``b`` in ~ ``N^b`` (sample
  rows), least squares in log-log, for each tool and for the ratio.

Writes ``benchmarks/PLANES.md`` and ``PLANES.json`` (``--quick``: small sizes, into
``benchmarks/quick/``).
"""

from __future__ import annotations

import argparse
import copy
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from functools import partial
from pathlib import Path

import numpy as np
from threadpoolctl import threadpool_limits

import landscape as ls
from landscape import data
from landscape.directions import filter_normalized_directions

HERE = Path(__file__).parent
SEED = 0
NOISE = 0.05  # standard deviation of the noise on repeated digits
PAUSE = 0.3  # seconds between calls: spinning BLAS/OpenMP threads fall asleep
TOOLS = ("landscape", "loss-landscapes")


@dataclass(frozen=True)
class Row:
    """One size: width ``h``, ``n`` samples, ``grid`` points per axis, ``dtype``."""

    h: int
    n: int
    grid: int
    dtype: str


def _rows(widths, samples, dtypes) -> list[Row]:
    """Width rows ``(h, grid)`` on the digits, then sample rows ``(n, grid)`` at h = 64."""
    return [Row(h, 1797, g, dt) for dt in dtypes for h, g in widths] + [
        Row(64, n, g, dt) for dt in dtypes for n, g in samples]


FULL = {"widths": ((64, 51), (256, 15), (1024, 7)), "samples": ((5000, 25), (20000, 11)),
        "dtypes": ("float32", "float64"), "threads": (1, 2), "repeat": 3}
QUICK = {"widths": ((64, 11), (256, 5)), "samples": ((5000, 7),), "dtypes": ("float32",),
         "threads": (1,), "repeat": 1}


# -- The problem, in both libraries --------------------------------------------------------


def samples(n: int) -> tuple[np.ndarray, np.ndarray]:
    """The digits (``n`` = 1797), or ``n`` rows of them in turn plus seeded noise."""
    X, y = data.digits()
    if n == len(X):
        return X, y
    idx = np.arange(n) % len(X)
    return X[idx] + NOISE * np.random.default_rng(SEED).standard_normal((n, X.shape[1])), y[idx]


def problem(row: Row):
    """``(objective, theta, X, y)`` for ``row``, seeded (the same in every process)."""
    X, y = samples(row.n)
    model = ls.MLP((64, row.h, row.h, 10), activation="tanh", output="softmax",
                   loss="cross_entropy", dtype=row.dtype)
    theta = model.init(rng=SEED)
    rng = np.random.default_rng(SEED + 1)
    for block, fan_in in zip(model.blocks, model.sizes[:-1]):
        theta[block.bias] = rng.uniform(-1, 1, block.n_filters) / np.sqrt(fan_in)
    return model.objective(X, y), theta, X, y


def torch_problem(row: Row):
    """``(net, metric)``: loss-landscapes' model and metric for ``row``."""
    import torch
    from loss_landscapes.metrics import Loss

    from benchmarks.models import torch_net

    objective, theta, X, y = problem(row)
    net = torch_net(objective.model.sizes, theta)
    metric = Loss(torch.nn.CrossEntropyLoss(), torch.from_numpy(X.astype(row.dtype)),
                  torch.from_numpy(y))
    return net, metric


def their_directions(row: Row) -> np.ndarray:
    """``(2, n)``: the steps ``random_plane`` takes along its two axes (seed ``SEED``),
    made by its own functions in its order (``main.random_plane`` up to the grid)."""
    import torch
    from loss_landscapes.model_interface.model_parameters import orthogonal_to, rand_u_like
    from loss_landscapes.model_interface.model_wrapper import wrap_model

    net, _ = torch_problem(row)
    torch.manual_seed(SEED)
    start = wrap_model(copy.deepcopy(net)).get_module_parameters()
    dirs = [rand_u_like(start)]
    dirs.append(orthogonal_to(dirs[0]))
    flat = []
    for d in dirs:
        d.filter_normalize_(start)
        d.mul_((start.model_norm() / 1 / row.grid) / d.model_norm())
        d.mul_(row.grid / 2)
        d.truediv_(row.grid / 2)
        flat.append(np.concatenate([p.numpy().ravel() for p in d.parameters]))
    return np.stack(flat)


def our_plane(objective, theta, grid: int, directions=None) -> np.ndarray:
    """Our ``grid x grid`` plane: fresh filter-normalized directions, or ``random_plane``'s
    steps ``directions`` on the grid it walks (even rows' coordinates)."""
    if directions is None:
        d = filter_normalized_directions(objective, theta, rng=SEED)
        return ls.plane(objective, theta, d, span=0.5, resolution=grid).values
    r = grid / 2
    return ls.plane(objective, theta, directions[0], directions[1],
                    span=((-r, r - 1), (1 - r, r)), resolution=grid).values


def their_plane(net, metric, grid: int) -> np.ndarray:
    import torch
    from loss_landscapes import random_plane

    torch.manual_seed(SEED)
    return random_plane(net, metric, distance=1, steps=grid, normalization="filter",
                        deepcopy_model=True)


# -- The tools' processes ------------------------------------------------------------------


def serve(tool: str, threads: int) -> None:
    """A tool's process: answers one JSON line per request line on stdin.

    Request: ``row`` (a :class:`Row`), ``grid`` (to override the row's), ``values`` (return
    them), ``directions`` (an ``.npy`` of ``random_plane``'s steps: ours on its grid).
    """
    threadpool_limits(limits=threads)
    if tool == "loss-landscapes":
        import torch
        torch.set_num_threads(threads)
        torch.set_num_interop_threads(1)
    built: dict = {}
    for line in sys.stdin:
        ask = json.loads(line)
        row = Row(**ask["row"])
        if row not in built:
            built[row] = problem(row)[:2] if tool == "landscape" else torch_problem(row)
        grid = ask.get("grid", row.grid)
        directions = np.load(ask["directions"]) if ask.get("directions") else None
        if tool == "landscape":  # a fresh objective: nothing kept from the last call
            objective, theta = built[row]
            objective = type(objective)(objective.model, objective.X, objective.Y)
            call = partial(our_plane, objective, theta, grid, directions)
        else:
            call = partial(their_plane, *built[row], grid)
        start, cpu = time.perf_counter(), time.process_time()
        values = call()
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        print(json.dumps({"seconds": seconds, "cpu": cpu, "load": os.getloadavg()[0],
                          "values": np.asarray(values).tolist() if ask.get("values") else None}),
              flush=True)


class Worker:
    """A :func:`serve` process of ``tool`` on ``threads`` threads, environment ``env``."""

    def __init__(self, tool: str, threads: int, env: dict):
        self.tool = tool
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "benchmarks.planes", "--serve", tool, str(threads)],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=HERE.parent)

    def ask(self, **request) -> dict:
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the {self.tool} process ended (exit {self.proc.wait()})")
        time.sleep(PAUSE)
        return json.loads(line)

    def close(self) -> int:
        self.proc.stdin.close()
        return self.proc.wait()


# -- Measuring -----------------------------------------------------------------------------


def check(row: Row, ours: Worker, theirs_values: np.ndarray, folder: str) -> dict:
    """Our plane on ``random_plane``'s directions and grid against its values."""
    path = os.path.join(folder, "directions.npy")
    np.save(path, their_directions(row))
    mine = np.asarray(ours.ask(row=asdict(row), directions=path, values=True)["values"])
    scale = np.max(np.abs(theirs_values))
    shifted = np.concatenate([(theirs_values[0::2] - mine[0::2]).ravel(),
                              (theirs_values[1::2, 1:] - mine[1::2, :-1]).ravel()])
    unshifted = theirs_values[1::2] - mine[1::2]
    return {"max relative difference": float(np.max(np.abs(shifted)) / scale),
            "odd rows unshifted": float(np.max(np.abs(unshifted)) / scale)}


def measure(rows: list[Row], threads: int, env: dict, repeat: int, checked: bool) -> list[dict]:
    """Every row at ``threads`` threads in environment ``env``: medians and samples."""
    workers = {tool: Worker(tool, threads, env) for tool in TOOLS}
    out = []
    try:
        with tempfile.TemporaryDirectory() as folder:
            for row in rows:
                for w in workers.values():
                    w.ask(row=asdict(row), grid=3)  # warm-up: build, first calls
                times: dict = {tool: [] for tool in TOOLS}
                cpu: dict = {tool: [] for tool in TOOLS}
                loads, values = [], None
                for k in range(repeat):
                    for tool, w in workers.items():
                        want = checked and k == 0 and tool == "loss-landscapes"
                        answer = w.ask(row=asdict(row), values=want)
                        times[tool].append(answer["seconds"])
                        cpu[tool].append(answer["cpu"])
                        loads.append(answer["load"])
                        values = answer["values"] if want else values
                result = {**asdict(row), "threads": threads, "points": row.grid ** 2,
                          "seconds": times, "cpu seconds": cpu, "load": [min(loads), max(loads)],
                          "cpu ratio": statistics.median(cpu[TOOLS[0]])
                          / statistics.median(cpu[TOOLS[1]])}
                ms = [1e3 * statistics.median(times[t]) / row.grid ** 2 for t in TOOLS]
                result |= {f"{t} ms/point": m for t, m in zip(TOOLS, ms)} | {"ratio": ms[0] / ms[1]}
                if checked:
                    result["check"] = check(row, workers["landscape"], np.asarray(values),
                                            folder)
                print({k: v for k, v in result.items() if "seconds" not in k}, flush=True)
                out.append(result)
    finally:
        for w in workers.values():
            w.close()
    return out


def exponent(sizes, times) -> float:
    """The least-squares slope of ``log(times)`` on ``log(sizes)``."""
    return float(np.polyfit(np.log(sizes), np.log(times), 1)[0])


def fits(results: list[dict]) -> list[dict]:
    """Per setting and dtype: exponents of width (h^a at 1,797 samples) and samples (N^b at
    h = 64) for each tool and the ratio, and each row's ratio over the base row's."""
    found = []
    for key in sorted({(r["setting"], r["threads"], r["dtype"]) for r in results}):
        rows = [r for r in results if (r["setting"], r["threads"], r["dtype"]) == key]
        base = [r for r in rows if (r["h"], r["n"]) == (64, 1797)]
        for axis, other, fixed in (("h", "n", 1797), ("n", "h", 64)):
            series = sorted((r for r in rows if r[other] == fixed), key=lambda r: r[axis])
            if len(series) < 2:
                continue
            x = [r[axis] for r in series]
            found.append({"setting": key[0], "threads": key[1], "dtype": key[2], "axis": axis,
                          "sizes": x, **{t: exponent(x, [r[f"{t} ms/point"] for r in series])
                                         for t in TOOLS},
                          "ratio": exponent(x, [r["ratio"] for r in series]),
                          "ratio over base": [r["ratio"] / base[0]["ratio"] for r in series]
                          if base else None})
    return found


# -- The report ----------------------------------------------------------------------------

SETTINGS = {"as set": "OPENBLAS_CORETYPE as the machine sets it",
            "native": "OPENBLAS_CORETYPE unset (OpenBLAS's own choice of kernel)"}


def report(result: dict, facts: dict, command: str) -> str:
    """``PLANES.md``: per setting a table of rows, then the exponents and the checks."""
    from benchmarks.machine import machine_line

    load = result["load at start"]
    lines = ["# Filter-normalized planes: ls.plane against loss-landscapes' random_plane", "",
             f"`{command}`, {time.strftime('%Y-%m-%d %H:%M %Z')}; loss-landscapes "
             f"{result['loss-landscapes']}. Medians of {result['repeat']} interleaved samples "
             "per tool, each tool in its own process; ms per grid point; `ratio`: ours over "
             "theirs (below 1: ours faster); `/base`: the ratio over the ratio at h = 64 on "
             "1,797 samples (above 1: the lead shrank); `CPU ratio`: the same of the processes' "
             "CPU time (at 1 thread less moved by other work than wall time). See the docstring of "
             "`benchmarks/planes.py` for the setup.", "",
             f"Load average at the start: {load:.1f} on {facts['cores']} cores"
             + (" (other work shared the cores: times are inflated, the 2-thread ones most; "
                "ratios come from interleaved samples)" if load > 1.5 else "") + ".", ""]
    base = {(r["setting"], r["threads"], r["dtype"]): r["ratio"] for r in result["rows"]
            if (r["h"], r["n"]) == (64, 1797)}
    for setting in SETTINGS:
        rows = [r for r in result["rows"] if r["setting"] == setting]
        if not rows:
            continue
        lines += [f"## {SETTINGS[setting]}", "",
                  "| dtype | threads | h | samples | grid | ours ms/pt | theirs ms/pt | ratio "
                  "| /base | CPU ratio | load |", "|---|" + "---:|" * 9 + "---|"]
        for r in rows:
            b = base.get((r["setting"], r["threads"], r["dtype"]))
            lines.append(f"| {r['dtype']} | {r['threads']} | {r['h']} | {r['n']} | "
                         f"{r['grid']}x{r['grid']} | {r['landscape ms/point']:.3g} | "
                         f"{r['loss-landscapes ms/point']:.3g} | {r['ratio']:.2f} | "
                         + (f"{r['ratio'] / b:.2f}" if b else "-")
                         + f" | {r['cpu ratio']:.2f} | {r['load'][0]:.1f}-{r['load'][1]:.1f} |")
        lines.append("")
    lines += ["## Fitted exponents (time per point ~ size^x)", "",
              "`largest /base` above 1: the lead at some size is smaller than at h = 64 on "
              "1,797 samples (the issue's target is at most 1 everywhere).", "",
              "| setting | dtype | threads | size | sizes | ours | theirs | ratio | "
              "largest /base |", "|---|---|---:|---|---|---:|---:|---:|---:|"]
    lines += [f"| {f['setting']} | {f['dtype']} | {f['threads']} | {f['axis']} | "
              f"{', '.join(map(str, f['sizes']))} | {f['landscape']:.2f} | "
              f"{f['loss-landscapes']:.2f} | {f['ratio']:+.2f} | "
              f"{max(f['ratio over base'] or [float('nan')]):.2f} |" for f in result["fits"]]
    checks = [r for r in result["rows"] if "check" in r]
    lines += ["", "## Values: ours on random_plane's own directions and grid", "",
              "Largest difference relative to the largest loss, random_plane's odd rows "
              "compared one step lower (and, in parentheses, at their nominal place): "
              + "; ".join(f"{r['dtype']} h {r['h']} N {r['n']}: "
                          f"{r['check']['max relative difference']:.1e} "
                          f"({r['check']['odd rows unshifted']:.1e})" for r in checks) + ".",
              ""]
    lines += [machine_line(facts, ("engine", "cpu", "cores", "numpy", "torch", "torch blas",
                                   "environment", "load average")), ""]
    return "\n".join(lines)


def main(argv=None) -> None:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--serve"]:  # a tool's process: --serve TOOL THREADS
        serve(argv[1], int(argv[2]))
        return
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, one thread")
    parser.add_argument("--out", type=Path, help="the report's path")
    args = parser.parse_args(argv)
    from importlib.metadata import version

    from benchmarks import machine

    config = QUICK if args.quick else FULL
    out = machine.report_path(args.out, args.quick, "PLANES.md")
    load = os.getloadavg()[0]
    rows = _rows(config["widths"], config["samples"], config["dtypes"])
    plan = [("as set", dict(os.environ), rows)]
    if "OPENBLAS_CORETYPE" in os.environ:
        native = {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"}
        plan.append(("native", native, [r for r in rows if r.n == 1797]))
    results = []
    for setting, env, chosen in plan:
        for threads in config["threads"]:
            checked = setting == "as set" and threads == config["threads"][0]
            for r in measure(chosen, threads, env, config["repeat"], checked):
                results.append({"setting": setting, **r})
    result = {"load at start": load, "repeat": config["repeat"],
              "loss-landscapes": version("loss-landscapes"), "rows": results,
              "fits": fits(results)}
    machine.write_results(out, "planes", args.quick, result,
                          lambda facts, command: report(result, facts, command))


if __name__ == "__main__":
    main()
