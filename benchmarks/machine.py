"""The facts a reader needs to weigh the numbers: machine, libraries, BLAS, threads, load."""

from __future__ import annotations

import os
import platform
import re
import subprocess
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import scipy
import torch
from threadpoolctl import threadpool_info

from landscape.io import write_json, write_text

HERE = Path(__file__).parent

ENVIRONMENT = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS",
               "MKL_NUM_THREADS", "MALLOC_TRIM_THRESHOLD_", "MALLOC_MMAP_THRESHOLD_")


def _cpu() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as fh:
            for line in fh:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _torch_blas() -> str:
    found = re.search(r"BLAS_INFO=(\w+)", torch.__config__.show())
    return found.group(1) if found else "unknown"


def _engine_version() -> str:
    """The git commit of the checkout, and whether ``landscape/`` differs from it."""
    root = Path(__file__).resolve().parent.parent
    try:
        commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=root, check=True,
                                capture_output=True, text=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "landscape"], cwd=root,
                               check=True, capture_output=True, text=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return commit + (" with uncommitted changes in landscape/" if dirty else "")


def facts() -> dict:
    """The engine's commit, CPU, core count, versions, NumPy's BLAS (threadpoolctl),
    PyTorch's BLAS and threads, the environment variables that change BLAS and malloc
    behaviour, and the load average."""
    return {
        "engine": _engine_version(),
        "cpu": _cpu(),
        "cores": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
        "numpy": np.__version__,
        "scipy": scipy.__version__,
        "torch": torch.__version__,
        "torch blas": _torch_blas(),
        "torch interop threads": torch.get_num_interop_threads(),
        "threadpools": [{k: info.get(k) for k in ("user_api", "internal_api", "version",
                                                  "architecture", "threading_layer",
                                                  "num_threads", "filepath")}
                        for info in threadpool_info()],
        "environment": {name: os.environ.get(name) for name in ENVIRONMENT},
        "load average": os.getloadavg(),
    }


def report_path(out: Path | None, quick: bool, name: str) -> Path:
    """``out``, or ``benchmarks/NAME`` (``benchmarks/quick/NAME`` with ``--quick``); its
    folder made."""
    path = out or HERE / ("quick" if quick else "") / name
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def machine_line(found: dict, shown: Sequence[str]) -> str:
    """``Machine: key value; ...``: the facts ``shown``, for a report's last line."""
    return "Machine: " + "; ".join(f"{k} {found[k]}" for k in shown if k in found) + "."


def write_results(out: Path, script: str, quick: bool, payload: dict,
                  report: Callable[[dict, str], str]) -> None:
    """A benchmark's results: the machine's :func:`facts` now, ``out``'s JSON twin (the
    command, the facts, ``payload``) and ``report(facts, command)`` into ``out``."""
    found = facts()
    command = f"python -m benchmarks.{script}" + (" --quick" if quick else "")
    write_json(out.with_suffix(".json"), {"command": command, "machine": found, **payload})
    write_text(out, report(found, command))
    print(f"wrote {out}")
