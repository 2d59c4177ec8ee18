"""The landscape command: studies found by name, failures reported by name, gallery written."""

import json
import os
import shlex
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from landscape.cli import find_studies, load_study, main
from landscape.studies import _shared

ROOT = Path(__file__).parents[1]

GOOD = '''
import numpy as np
TITLE = "Good study"
def run(out, quick, seed):
    (out / "curve.png").write_bytes(b"png")
    x = float(np.random.default_rng(seed).standard_normal())
    return {"conclusion": f"x is {x:.3f}", "numbers": {"x": x, "quick": quick}}
'''
BAD = '''
TITLE = "Broken study"
def run(out, quick, seed):
    raise RuntimeError("boom")
'''


def _studies(tmp_path):
    folder = tmp_path / "studies"
    folder.mkdir()
    (folder / "good.py").write_text(GOOD)
    (folder / "bad.py").write_text(BAD)
    (folder / "_helpers.py").write_text("X = 1\n")
    return folder


def test_run_all_reports_the_failing_study_and_runs_the_others(tmp_path, capsys):
    folder, out = _studies(tmp_path), tmp_path / "figs"
    code = main(["--studies", str(folder), "run", "all", "--quick", "--out", str(out),
                 "--seed", "3"])
    assert code == 1
    err = capsys.readouterr().err
    assert "bad: FAILED: RuntimeError: boom" in err
    summary = json.loads((out / "good" / "summary.json").read_text())
    assert summary["figures"] == ["curve.png"] and summary["quick"] is True
    assert summary["conclusion"] == f"x is {summary['numbers']['x']:.3f}"
    page = (out / "index.html").read_text()
    assert "Good study" in page and 'src="good/curve.png"' in page and "Broken" not in page


def test_same_seed_same_numbers_and_parallel_jobs(tmp_path):
    folder = _studies(tmp_path)
    xs = []
    for jobs, sub in [(1, "a"), (2, "b")]:
        assert main(["--studies", str(folder), "run", "good", "--out", str(tmp_path / sub),
                     "--jobs", str(jobs), "--seed", "7"]) == 0
        xs.append(json.loads((tmp_path / sub / "good" / "summary.json").read_text())["numbers"])
    assert xs[0] == xs[1]


def test_list_and_usage_errors(tmp_path, capsys):
    folder = _studies(tmp_path)
    assert main(["--studies", str(folder), "list"]) == 0
    listed = capsys.readouterr().out
    assert "good" in listed and "Good study" in listed and "_helpers" not in listed
    assert main(["--studies", str(folder), "run", "nonesuch"]) == 2
    assert main(["--studies", str(tmp_path / "missing"), "list"]) == 2


def test_installed_studies_are_found_from_any_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # no studies folder here: they come from the package
    studies = find_studies()
    assert {"momentum", "depth", "activations"} <= set(studies)
    assert not any(name.startswith("_") for name in studies)
    module = load_study(studies["momentum"])
    assert module.__name__ == "landscape.studies.momentum" and callable(module.run)
    assert main(["list"]) == 0
    listed = capsys.readouterr().out.splitlines()
    momentum = next(line for line in listed if line.startswith("momentum "))
    assert momentum.split(None, 1)[1] == module.TITLE
    assert len({line.index(line.split(None, 1)[1]) for line in listed}) == 1  # one column


def test_every_package_ships_and_studies_map_into_the_package():
    """The wheel holds what pyproject lists: every package folder of landscape/, and the
    top-level studies/ folder as landscape.studies."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    on_disk = {".".join(p.parent.relative_to(ROOT).parts)
               for p in (ROOT / "landscape").rglob("__init__.py")}
    assert set(config["packages"]) == on_disk | {"landscape.studies"}
    assert config["package-dir"] == {"landscape.studies": "studies"}
    assert (ROOT / "studies" / "__init__.py").is_file()


def test_a_study_run_as_a_script(tmp_path, capsys):
    seen = {}

    def run(out, quick, seed):
        seen.update(out=out, quick=quick, seed=seed)
        return {"conclusion": f"seed {seed}", "numbers": {}}

    _shared.main(run, "fake", [str(tmp_path / "figs"), "--quick", "--seed", "4"])
    assert seen == {"out": tmp_path / "figs", "quick": True, "seed": 4}
    assert (tmp_path / "figs").is_dir() and capsys.readouterr().out == "seed 4\n"


# ---------------------------------------------------------------------------------
# Usage errors at the command line: one message, exit 2, before any study starts
# ---------------------------------------------------------------------------------


def _command(*args, cwd, env=None, shell_tail=""):
    """``python -m landscape ARGS`` (piped into ``shell_tail`` if given) in ``cwd``."""
    line = " ".join([shlex.quote(sys.executable), "-m", "landscape",
                     *map(shlex.quote, map(str, args))]) + shell_tail
    return subprocess.run(line, shell=True, cwd=cwd, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=120)


def _bad_out(kind, tmp_path):
    if kind == "a file":
        (tmp_path / "taken").write_text("not a folder")
        return tmp_path / "taken", "is a file, not a folder"
    if kind == "inside a file":
        (tmp_path / "taken").write_text("not a folder")
        return tmp_path / "taken" / "figs", "cannot be written"
    return Path("/proc/landscape-figures"), "cannot be written"  # /proc takes no new folders


@pytest.mark.parametrize("args,words", [
    (["--seed", "-1"], ["--seed", ">= 0", "-1"]),
    (["--jobs", "0"], ["--jobs", ">= 1"]),
    (["--seed", "x"], ["--seed", "invalid int value"]),
])
def test_bad_options_give_one_message_and_exit_2_before_any_study(tmp_path, args, words):
    folder, out = _studies(tmp_path), tmp_path / "figs"
    done = _command("--studies", folder, "run", "good", "--out", out, *args, cwd=tmp_path)
    assert done.returncode == 2, done
    errors = [line for line in done.stderr.splitlines() if "error: " in line]
    assert "Traceback" not in done.stderr and len(errors) == 1, done.stderr  # usage aside
    assert all(w in done.stderr for w in words), done.stderr
    assert not (out / "good").exists()  # no study started


@pytest.mark.parametrize("kind", ["a file", "inside a file", "unwritable"])
def test_an_out_folder_that_cannot_be_written_exits_2_before_any_study(tmp_path, kind):
    folder = _studies(tmp_path)
    out, words = _bad_out(kind, tmp_path)
    done = _command("--studies", folder, "run", "all", "--out", out, cwd=tmp_path)
    assert done.returncode == 2, done
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr, done.stderr
    assert "--out" in done.stderr and str(out) in done.stderr and words in done.stderr
    assert done.stdout == ""  # no study reported, no gallery


def test_list_into_a_closed_pipe_ends_quietly(tmp_path):
    """``landscape list | head -1``: the reader leaves after one line; no BrokenPipeError."""
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(12):  # each takes a moment to load, so head has left before the last line
        (folder / f"s{i:02d}.py").write_text(f"import time\ntime.sleep(0.05)\nTITLE = 'S{i}'\n")
    done = _command("--studies", folder, "list", cwd=tmp_path, env={"PYTHONUNBUFFERED": "1"},
                    shell_tail=" | head -1")
    assert done.stdout.split() == ["s00", "S0"]
    assert done.stderr == "", done.stderr


def test_no_arguments_prints_the_help(tmp_path):
    done = _command(cwd=tmp_path)
    assert done.returncode == 0, done
    assert done.stdout.startswith("usage: landscape") and "{list,run," in done.stdout
    assert done.stderr == ""
