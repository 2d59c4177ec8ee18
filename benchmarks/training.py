"""``python -m benchmarks.training [--quick] [--out PATH]``: the training-run tools of
``landscape.torch`` at work: the recorder's cost per training step, and streamed against
held data.

- **Recorder overhead.** The digits CNN of the ``torch_cnn`` study (conv-BN-ReLU-pool,
  conv-ReLU-pool, linear; 1,797 digits) trained by Adam on shuffled minibatches of 64 in
  float32, in a plain PyTorch loop, without a recorder and with one recording every 1, 10
  and 100 steps (probe set of 256 digits, float64, sharpness by 10 warm-started Lanczos
  steps), and with one that never records after step 0 (the per-step bookkeeping alone).
  The configurations alternate, ``repeat`` times (400 steps each; 60 when recording every
  step); per step: the median time, its excess over the loop without a recorder, and that
  excess split into records and per-step bookkeeping (the recorder's own clocks).
- **Streamed against held.** The same CNN's float64 objective over the digits repeated to
  ``N`` samples (a DataLoader of batches of 512 over a dataset that keeps only the 1,797
  digits), held and streamed, for ``N`` = 2,048, 16,384 and 131,072: the time of a loss and
  of an HVP, and the peak memory of building the objective and evaluating both, each
  configuration in a fresh process (the largest resident set, sampled every millisecond,
  over the process's own before).

Writes ``benchmarks/TRAINING.md`` and ``TRAINING.json`` (``--quick``: into
``benchmarks/quick/``, small sizes whose numbers mean little). PyTorch on one thread.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import torch

from benchmarks import machine
from landscape.data import digits
from landscape.studies.torch_cnn import make_cnn
from landscape.torch import Recorder, from_module

HERE = Path(__file__).parent
BUSY = 1.5  # load average above which the report says the times are distorted
# Steps per configuration: recording every step costs a record per step, so fewer of them.
FULL = {"steps": 400, "every 1 steps": 60, "repeat": 3, "intervals": (1, 10, 100),
        "sizes": (4, 32, 256)}
QUICK = {"steps": 20, "every 1 steps": 10, "repeat": 1, "intervals": (1, 10), "sizes": (1, 8)}
BATCH = 512  # the streamed and held objectives' batches
nn = torch.nn


def _digits() -> tuple[torch.Tensor, torch.Tensor]:
    X, y = digits()
    return torch.as_tensor(X, dtype=torch.float32).reshape(-1, 1, 8, 8), torch.as_tensor(y)


# ---------------------------------------------------------------------------------
# The recorder's overhead per training step
# ---------------------------------------------------------------------------------


def _loop(images, labels, steps: int, every: int | None) -> tuple[float, float, float, int]:
    """Seconds per step of the loop; the recorder's per step in records and in bookkeeping;
    the number of records."""
    torch.manual_seed(0)
    net = make_cnn()
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-2)
    batches = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(images, labels), batch_size=64, shuffle=True,
        generator=torch.Generator().manual_seed(0))
    recorder = None if every is None else Recorder(
        net, nn.CrossEntropyLoss(), (images[:256], labels[:256]), every=every,
        optimizer=optimizer)
    it, done = iter(batches), 0
    start = time.perf_counter()
    while done < steps:
        x, y = next(it, (None, None))
        if x is None:
            it = iter(batches)
            continue
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(net(x), y)
        loss.backward()
        if recorder is not None:
            recorder.step(loss)
        optimizer.step()
        done += 1
    per_step = (time.perf_counter() - start) / steps
    if recorder is None:
        return per_step, 0.0, 0.0, 0
    records = recorder.record_seconds / steps
    return per_step, records, recorder.seconds / steps - records, len(range(0, steps, every))


def overhead(settings: dict) -> dict:
    """Per-step times of the loop without and with recorders, interleaved ``repeat`` times."""
    images, labels = _digits()
    configs = {"no recorder": None, "bookkeeping only": 10**9,
               **{f"every {k}": k for k in settings["intervals"]}}
    samples: dict[str, list] = {name: [] for name in configs}
    for _ in range(settings["repeat"]):
        for name, every in configs.items():
            steps = settings["every 1 steps" if every == 1 else "steps"]
            samples[name].append(_loop(images, labels, steps, every))
            print(name, [round(v, 5) for v in samples[name][-1]], flush=True)
    base = statistics.median(s[0] for s in samples["no recorder"])
    rows = []
    for name, runs in samples.items():
        step, records, bookkeeping = (statistics.median(r[i] for r in runs) for i in range(3))
        rows.append({"config": name, "ms per step": 1e3 * step,
                     "overhead ms per step": 1e3 * (step - base), "x no recorder": step / base,
                     "records ms per step": 1e3 * records,
                     "bookkeeping ms per step": 1e3 * bookkeeping, "records": runs[0][3]})
    return {"steps": settings["steps"], "every 1 steps": settings["every 1 steps"],
            "repeat": settings["repeat"], "rows": rows}


# ---------------------------------------------------------------------------------
# Streamed against held, each configuration in a fresh process
# ---------------------------------------------------------------------------------


def _resident() -> int:
    """This process's resident set, bytes (Linux)."""
    with open("/proc/self/statm", encoding="ascii") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


class _Peak:
    """The largest resident set seen while the block runs (sampled every millisecond)."""

    def __enter__(self):
        self.peak, self._done = _resident(), threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()
        return self

    def _sample(self):
        while not self._done.wait(0.001):
            self.peak = max(self.peak, _resident())

    def __exit__(self, *exc):
        self._done.set()
        self._thread.join()
        self.peak = max(self.peak, _resident())


class _Repeated(torch.utils.data.Dataset):
    """The digits repeated to ``n`` samples; holds only the 1,797 originals."""

    def __init__(self, n: int):
        self.images, self.labels = _digits()
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int):
        j = i % len(self.labels)
        return self.images[j], self.labels[j]


def child(mode: str, n_batches: int) -> dict:
    """One configuration, measured in this (fresh) process."""
    torch.set_num_threads(1)
    torch.manual_seed(0)
    net = make_cnn().eval()
    loader = torch.utils.data.DataLoader(_Repeated(BATCH * n_batches), batch_size=BATCH)
    v = np.random.default_rng(0).standard_normal(sum(p.numel() for p in net.parameters()))
    before = _resident()
    times = {}
    with _Peak() as peak:
        start = time.perf_counter()
        objective = from_module(net, nn.CrossEntropyLoss(), loader, stream=mode == "streamed")
        times["build"] = time.perf_counter() - start
        for name, fn in (("loss", lambda: objective.loss(objective.theta0)),
                         ("hvp", lambda: objective.hvp(objective.theta0, v))):
            fn()
            start = time.perf_counter()
            fn()
            times[name] = time.perf_counter() - start
    return {"mode": mode, "batches": n_batches, "samples": objective.n_samples,
            "build s": times["build"], "loss s": times["loss"], "hvp s": times["hvp"],
            "peak rise MB": (peak.peak - before) / 2**20}


def streaming(settings: dict) -> list[dict]:
    rows = []
    for n_batches in settings["sizes"]:
        for mode in ("held", "streamed"):
            done = subprocess.run([sys.executable, "-m", "benchmarks.training", "--child", mode,
                                   str(n_batches)], capture_output=True, text=True, check=True,
                                  cwd=HERE.parent)
            rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
            print(rows[-1], flush=True)
    return rows


# ---------------------------------------------------------------------------------
# The report
# ---------------------------------------------------------------------------------


def report(result: dict, facts: dict, command: str) -> str:
    load = facts["load average"][0]
    lines = ["# Training runs: the recorder's overhead, streamed against held data", "",
             f"`{command}`, {time.strftime('%Y-%m-%d %H:%M %Z')}; PyTorch on one thread.", ""]
    if load > BUSY:
        lines += [f"Load average {load:.1f} on {facts['cores']} cores when the run ended: other "
                  "work shared the cores, so the times are inflated and noisy.", ""]
    over = result["overhead"]
    lines += [f"## Recorder overhead per training step (digits CNN, {over['steps']} steps "
              f"({over['every 1 steps']} recording every step), median of {over['repeat']})",
              "",
              "| recorder | ms per step | overhead ms per step | x no recorder | records ms "
              "per step | bookkeeping ms per step | records |",
              "|---|---:|---:|---:|---:|---:|---:|"]
    for r in over["rows"]:
        lines.append(f"| {r['config']} | {r['ms per step']:.3f} | {r['overhead ms per step']:.3f}"
                     f" | {r['x no recorder']:.2f} | {r['records ms per step']:.3f} | "
                     f"{r['bookkeeping ms per step']:.3f} | {r['records']} |")
    lines += ["", f"## Streamed against held (digits CNN, float64, batches of {BATCH})", "",
              "| samples | mode | build s | loss s | HVP s | peak rise MB |",
              "|---:|---|---:|---:|---:|---:|"]
    for r in result["streaming"]:
        lines.append(f"| {r['samples']} | {r['mode']} | {r['build s']:.3f} | {r['loss s']:.3f} "
                     f"| {r['hvp s']:.3f} | {r['peak rise MB']:.1f} |")
    shown = ("engine", "cpu", "cores", "numpy", "torch", "torch blas", "load average")
    lines += ["", machine.machine_line(facts, shown), ""]
    return "\n".join(lines)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes, a smoke run")
    parser.add_argument("--out", type=Path, help="the report's path")
    parser.add_argument("--child", nargs=2, metavar=("MODE", "BATCHES"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(child(args.child[0], int(args.child[1]))))
        return
    torch.set_num_threads(1)
    torch.set_num_interop_threads(1)
    settings = QUICK if args.quick else FULL
    out = machine.report_path(args.out, args.quick, "TRAINING.md")
    result = {"overhead": overhead(settings), "streaming": streaming(settings)}
    machine.write_results(out, "training", args.quick, result,
                          lambda facts, command: report(result, facts, command))


if __name__ == "__main__":
    main()
