"""The ``landscape`` command: list and run the studies, and build the figure gallery.

    landscape list
    landscape run NAME [NAME ...] | all  [--quick] [--out DIR] [--jobs N] [--seed S] [--threads T]
    landscape explore [--port N]

The studies are the modules of the package ``landscape.studies`` (built from the
repository's top-level ``studies/`` folder and installed with the package), found through
``importlib.resources``, so the command works from any folder. ``--studies FOLDER`` runs the
``*.py`` files of a folder of your own instead (the folder goes on ``sys.path``, so they can
import helper modules from it).

The protocol a study follows:

- a module-level ``TITLE`` string (one line; the gallery's heading);
- optionally, ``FIGURES``: a dict from figure file name to its caption, in the order the
  figures tell the story (the gallery shows them so; figures not named follow in
  alphabetical order);
- a function ``run(out: Path, quick: bool, seed: int) -> dict`` that writes its figures
  (``.png``, ``.html``) into the existing folder ``out`` and returns
  ``{"headline": str, "conclusion": str, "numbers": {...}}``: the finding in one short
  sentence (printed when the study ends; the conclusion if left out), the finding with
  its numbers (one sentence built from the measured numbers), and the numbers as JSON-able
  values; ``quick`` asks for tiny settings (seconds). It depends on nothing but the seed:
  no timings in figures or numbers, so the same seed gives the same files, byte for byte;
- its progress, printed as it goes: what it says with
  ``landscape.studies._shared.progress(message)`` (logger ``landscape.studies``, INFO);
- by convention, a function ``conclusion(...) -> str`` that builds that sentence, and
  ``if __name__ == "__main__": main(run, NAME)`` (``landscape.studies._shared.main``) so
  ``python -m landscape.studies.NAME [OUT] [--quick] [--seed S]`` runs it alone;
- modules whose name starts with ``_`` are shared helpers, not studies.

The command writes each study's ``summary.json`` beside its figures (floats rounded to
:data:`SUMMARY_DIGITS` significant digits) and the gallery ``index.html`` into ``--out``.

Each study runs with its BLAS limited to ``--threads`` threads (1 by default): the models
here are small, and multi-threaded BLAS on small matrices mostly fights the other jobs
for the cores (a 1024x64 by 64x32 product took 18 ms with 2 threads on a loaded 2-core
machine, 0.4 ms with one). Parallelism comes from ``--jobs`` instead.

Exit codes: 0 all studies ran; 1 some study failed (each is named, the others still
run); 2 bad usage (unknown study name, no such ``--studies`` folder, a negative ``--seed``,
``--jobs`` or ``--threads`` below 1, an ``--out`` that is a file or cannot be written), found
before any study starts and told in one line. ``landscape`` alone prints this help; output
into a pipe that closes early (``landscape list | head -1``) ends quietly.

``landscape explore`` serves the interactive explorer (:mod:`landscape.explore`, extra
``explore``) on 127.0.0.1, on a free port or ``--port N``, prints its address and serves
until Ctrl+C; it exits with 2 when Dash is not installed or the port is taken or out of
range.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import contextlib
import importlib
import importlib.util
import logging
import os
import sys
import tempfile
import time
import traceback
from collections.abc import Iterator, Sequence
from importlib import resources
from pathlib import Path
from types import ModuleType
from typing import Any

from landscape.gallery import figure_files, write_gallery
from landscape.io import write_json
from landscape.parallel import process_pool

#: The package the installed studies live in.
STUDIES = "landscape.studies"
#: Significant digits of the floats in ``summary.json`` (noise below them, e.g. from
#: another BLAS, leaves the file unchanged).
SUMMARY_DIGITS = 4


def find_studies(folder: Path | None = None) -> dict[str, str | Path]:
    """Study names -> where to load each from (see :func:`load_study`).

    Without ``folder``: the modules of ``landscape.studies`` (their module names). With
    ``folder``: its ``*.py`` files (paths). Names starting with ``_`` are not studies.
    """
    if folder is None:
        names = sorted(entry.name.removesuffix(".py")
                       for entry in resources.files(STUDIES).iterdir()
                       if entry.name.endswith(".py") and not entry.name.startswith("_"))
        return {name: f"{STUDIES}.{name}" for name in names}
    if not folder.is_dir():
        raise FileNotFoundError(f"no studies folder {folder}")
    return {p.stem: p for p in sorted(folder.glob("*.py")) if not p.stem.startswith("_")}


def load_study(where: str | Path) -> ModuleType:
    """The study module: imported by module name, or loaded from a ``--studies`` file.

    A ``--studies`` folder goes on ``sys.path`` so its helpers import.
    """
    if isinstance(where, str):
        return importlib.import_module(where)
    if str(where.parent) not in sys.path:
        sys.path.insert(0, str(where.parent))
    spec = importlib.util.spec_from_file_location(f"landscape_study_{where.stem}", where)
    if spec is None or spec.loader is None:
        raise ImportError(f"{where} is not a Python module")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _blas_threads(threads: int) -> contextlib.AbstractContextManager[Any]:
    """Limit BLAS to ``threads`` threads (threadpoolctl, extra 'studies'); a no-op without it."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(threads)


def run_study(name: str, where: str | Path, out: Path, quick: bool, seed: int,
              threads: int = 1) -> dict[str, Any]:
    """Run study ``name`` (loaded from ``where``) into ``out / name``.

    Writes its ``summary.json`` and returns the summary.
    """
    start = time.perf_counter()
    module = load_study(where)
    folder = out / name
    folder.mkdir(parents=True, exist_ok=True)
    with _blas_threads(threads), _progress_lines(name):
        result = module.run(folder, quick=quick, seed=seed)
    if not isinstance(result, dict) or "conclusion" not in result:
        raise ValueError(f"study {name} must return a dict with a 'conclusion'")
    captions = getattr(module, "FIGURES", {})
    figures = figure_files(folder, captions)
    summary = {
        "name": name,
        "title": getattr(module, "TITLE", name),
        **({"headline": result["headline"]} if "headline" in result else {}),
        "conclusion": result["conclusion"],
        "numbers": result.get("numbers", {}),
        "figures": figures,
        "captions": {fig: captions[fig] for fig in figures if fig in captions},
        "quick": quick,
        "seed": seed,
    }
    write_json(folder / "summary.json", summary, digits=SUMMARY_DIGITS)
    return {**summary, "seconds": time.perf_counter() - start}  # printed, not saved


@contextlib.contextmanager
def _progress_lines(name: str) -> Iterator[None]:
    """Print what the study logs (logger ``landscape.studies``, level INFO) as ``  name: ...``."""
    logger = logging.getLogger(STUDIES)
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(logging.Formatter(f"  {name}: %(message)s"))
    level = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def _outcomes(studies: dict[str, str | Path], names: list[str], out: Path, quick: bool,
              seed: int, jobs: int, threads: int
              ) -> Iterator[tuple[str, dict[str, Any] | Exception]]:
    """Yield ``(name, summary or exception)`` as each study finishes."""
    args = (out, quick, seed, threads)
    if jobs == 1:
        for name in names:
            try:
                yield name, run_study(name, studies[name], *args)
            except Exception as err:
                yield name, err
        return
    with process_pool(jobs) as pool:  # fresh workers that die with this process
        futures = {pool.submit(run_study, n, studies[n], *args): n for n in names}
        for fut in cf.as_completed(futures):
            try:
                yield futures[fut], fut.result()
            except Exception as err:
                yield futures[fut], err


def _run_all(studies: dict[str, str | Path], names: list[str], out: Path, quick: bool,
             seed: int, jobs: int, threads: int) -> list[str]:
    """Run the studies, reporting each as it ends; return the names of those that failed."""
    failures = []
    outcomes = _outcomes(studies, names, out, quick, seed, jobs, threads)
    for done, (name, outcome) in enumerate(outcomes, 1):
        if isinstance(outcome, Exception):  # report by name, keep going
            failures.append(name)
            print(f"[{done}/{len(names)}] {name}: FAILED: {type(outcome).__name__}: {outcome}",
                  file=sys.stderr, flush=True)
            traceback.print_exception(outcome, file=sys.stderr)
        else:
            print(f"[{done}/{len(names)}] {name}: done in {outcome['seconds']:.1f} s: "
                  f"{outcome.get('headline', outcome['conclusion'])}", flush=True)
    return failures


def _out_problem(out: Path) -> str | None:
    """Why the folder ``out`` cannot take the results (it is made if missing), or None."""
    if out.exists() and not out.is_dir():
        return f"--out {out} is a file, not a folder"
    try:
        out.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=out):
            pass
    except OSError as err:
        return f"--out {out} cannot be written: {err.strerror or err}"
    return None


def _usage_problem(args: argparse.Namespace, studies: dict[str, str | Path], names: list[str]
                   ) -> str | None:
    """What is wrong with the ``run`` command's arguments, or None; checked before any study."""
    unknown = [n for n in names if n not in studies]
    if unknown:
        return f"unknown studies {unknown}; choose from {list(studies)} or 'all'"
    for option in ("jobs", "threads"):
        if getattr(args, option) < 1:
            return f"--{option} must be >= 1, got {getattr(args, option)}"
    if args.seed < 0:
        return f"--seed must be >= 0 (a NumPy seed), got {args.seed}"
    return _out_problem(args.out)


def main(argv: Sequence[str] | None = None) -> int:
    """The ``landscape`` command; returns its exit code."""
    try:
        code = _main(argv)
        sys.stdout.flush()
    except BrokenPipeError:  # the reader left early (landscape list | head -1): end quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 1
    return code


def _explore(port: int) -> int:
    """Serve the explorer until interrupted; 2 when Dash is missing or the port is unusable."""
    try:
        from landscape.explore.app import serve
    except ImportError as err:
        print(f"landscape explore: error: {err.name or err} is not installed; install the "
              "extra: pip install 'landscape-nn[explore]'", file=sys.stderr)
        return 2
    try:
        serve(port, say=lambda line: print(line, flush=True))
    except (ValueError, OSError) as err:
        print(f"landscape explore: error: --port {port}: {err}", file=sys.stderr)
        return 2
    return 0


def _main(argv: Sequence[str] | None) -> int:
    parser = argparse.ArgumentParser(prog="landscape", description=__doc__.split("\n")[0])
    parser.add_argument("--studies", type=Path,
                        help="a folder of your own study files (default: the installed studies)")
    sub = parser.add_subparsers(dest="command")
    sub.add_parser("list", help="list the studies")
    runp = sub.add_parser("run", help="run studies (NAME ... or all)")
    runp.add_argument("names", nargs="+")
    runp.add_argument("--quick", action="store_true", help="tiny settings: seconds per study")
    runp.add_argument("--out", type=Path, default=Path("figures"))
    runp.add_argument("--jobs", type=int, default=1, help="studies run in parallel")
    runp.add_argument("--seed", type=int, default=0)
    runp.add_argument("--threads", type=int, default=1, help="BLAS threads per study")
    explorep = sub.add_parser("explore", help="the interactive explorer in your browser")
    explorep.add_argument("--port", type=int, default=0, help="port on 127.0.0.1 (0: a free one)")
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    if args.command == "explore":
        return _explore(args.port)
    try:
        studies = find_studies(args.studies)
    except FileNotFoundError as err:
        print(err, file=sys.stderr)
        return 2
    if args.command == "list":
        width = max(map(len, studies), default=0)
        for name, where in studies.items():
            try:
                title = getattr(load_study(where), "TITLE", "")
            except ImportError as err:  # e.g. torch_cnn without the torch extra
                title = f"(cannot be imported: {err})"
            print(f"{name:{width}s}  {title}")
        return 0
    names = list(studies) if args.names == ["all"] else args.names
    problem = _usage_problem(args, studies, names)
    if problem:
        print(f"landscape run: error: {problem}", file=sys.stderr)
        return 2
    failures = _run_all(studies, names, args.out, args.quick, args.seed, args.jobs,
                        args.threads)
    page = write_gallery(args.out)
    print(f"gallery: {page}")
    if failures:
        print(f"failed: {', '.join(failures)}", file=sys.stderr)
        return 1
    return 0
