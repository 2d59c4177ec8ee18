"""Kills: a process computing a cached plane, a process pool, the ``landscape run --jobs``
pool and a Dask LocalCluster's parent are each killed with SIGKILL by PID. Nothing is lost
or mixed (every chunk file left is whole and right, a re-run resumes to the uninterrupted
numbers) and no process is left behind (workers die with their parent)."""

import os
import signal
import subprocess
import sys
import textwrap
import time
import warnings
from pathlib import Path

import numpy as np
import pytest
from test_parallel import chunk_starts, mlp_plane_inputs, point_key

from landscape import Execution
from landscape.cache import ChunkCache
from landscape.parallel import map_chunks
from landscape.surface import plane

psutil = pytest.importorskip("psutil")

TESTS = Path(__file__).parent
RES = (13, 9)  # 117 points in 15 chunks of 8 (the last of 5)
READY, GONE = 90.0, 10.0  # seconds to wait for a parent to get going, for its children to die


class Slow:
    """An objective whose ``losses_in_span`` logs the chunk's first point (with the process
    id) and sleeps ``seconds`` first: long enough to be killed in the middle of the work."""

    def __init__(self, objective, log, seconds: float):
        self.objective, self.log, self.seconds = objective, str(log), seconds
        self.dim = objective.dim

    def losses_in_span(self, center, directions, coords):
        with open(self.log, "a") as fh:  # appends of one short line do not interleave
            fh.write(f"{os.getpid()} {point_key(coords[0])}\n")
        time.sleep(self.seconds)
        return self.objective.losses_in_span(center, directions, coords)


def logged(log: Path) -> list:
    """``(pid, key)`` of each logged call."""
    if not log.exists():
        return []
    return [(int(pid), key) for pid, key in
            (line.rstrip("\n").split(" ", 1) for line in log.read_text().splitlines())]


def slow_plane(tmp_path: Path, executor=None):
    """The moons MLP plane, slowed down and logged into ``tmp_path / 'log'``, cached in
    ``tmp_path / 'cache'``: what the parent processes run and the tests resume."""
    obj, center, d = mlp_plane_inputs()
    return plane(Slow(obj, tmp_path / "log", 0.1), center, d, span=1.5, resolution=RES,
                 execution=Execution(executor=executor, cache=tmp_path / "cache"))


def start(tmp_path: Path, code: str) -> subprocess.Popen:
    """A parent process running ``code`` (with this folder importable)."""
    script = tmp_path / "parent.py"
    script.write_text(f"import sys\nsys.path.insert(0, {str(TESTS)!r})\n"
                      + textwrap.dedent(code))
    return subprocess.Popen([sys.executable, str(script)], cwd=tmp_path,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def wait_for(condition, what: str, parent: subprocess.Popen) -> None:
    deadline = time.monotonic() + READY
    while not condition():
        if parent.poll() is not None:
            raise AssertionError(f"the parent ended (code {parent.returncode}) before {what}")
        if time.monotonic() > deadline:
            parent.kill()
            raise AssertionError(f"no {what} after {READY} s")
        time.sleep(0.05)


def kill_and_check_no_process_is_left(parent: subprocess.Popen) -> list:
    """SIGKILL ``parent`` by PID; assert that every process it had started ends within
    ``GONE`` seconds (a zombie no one has reaped yet counts as ended); return them."""
    children = psutil.Process(parent.pid).children(recursive=True)
    os.kill(parent.pid, signal.SIGKILL)
    parent.wait()
    _, alive = psutil.wait_procs(children, timeout=GONE)
    left = []
    for p in alive:
        try:
            if p.status() != psutil.STATUS_ZOMBIE:
                left.append(" ".join(p.cmdline())[:120])
        except psutil.NoSuchProcess:
            pass
    assert left == [], f"processes left after the parent died: {left}"
    return children


def check_kept_chunks_and_resume(tmp_path: Path) -> None:
    """Every chunk file the killed run left is whole and holds its chunk's right values (no
    warning), and a serial re-run computes only the missing chunks, giving the uninterrupted
    plane (whatever executor the killed run had: every executor gives the same bits)."""
    obj, center, d = mlp_plane_inputs()
    clean = plane(obj, center, d, span=1.5, resolution=RES)
    starts = chunk_starts(clean)
    (folder,) = (tmp_path / "cache").iterdir()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        kept = ChunkCache(tmp_path / "cache", folder.name).load(len(starts))
    assert len(kept) == len(list(folder.glob("chunk-*.npz"))) >= 1
    flat = clean.values.ravel()
    for i, (values, _) in kept.items():
        np.testing.assert_array_equal(values, flat[8 * i:8 * i + 8])
    before = len(logged(tmp_path / "log"))
    resumed = slow_plane(tmp_path)
    np.testing.assert_array_equal(resumed.values, clean.values)
    assert sorted(key for _, key in logged(tmp_path / "log")[before:]) == sorted(
        key for i, key in enumerate(starts) if i not in kept)


def test_a_cached_plane_killed_mid_run_resumes_with_nothing_lost_or_mixed(tmp_path):
    parent = start(tmp_path, """
        from test_faults import slow_plane
        from pathlib import Path
        slow_plane(Path.cwd())
    """)
    wait_for(lambda: len(list(tmp_path.glob("cache/*/chunk-*.npz"))) >= 3, "3 chunks", parent)
    kill_and_check_no_process_is_left(parent)
    check_kept_chunks_and_resume(tmp_path)


def test_a_killed_process_pool_leaves_no_worker_and_its_chunks_resume(tmp_path):
    parent = start(tmp_path, """
        from test_faults import slow_plane
        from pathlib import Path
        if __name__ == "__main__":
            slow_plane(Path.cwd(), executor=2)
    """)
    log = tmp_path / "log"
    wait_for(lambda: len({pid for pid, _ in logged(log)}) == 2
             and len(list(tmp_path.glob("cache/*/chunk-*.npz"))) >= 2,
             "two busy workers and 2 chunks", parent)
    children = kill_and_check_no_process_is_left(parent)
    assert {pid for pid, _ in logged(log)} <= {p.pid for p in children}  # the workers
    calls = len(logged(log))
    time.sleep(0.5)
    assert len(logged(log)) == calls  # nothing computes any more
    check_kept_chunks_and_resume(tmp_path)


def _big(index: int) -> np.ndarray:
    """A chunk's result of 1.2 MB, so that a good part of a run's time goes into writing files.

    Each chunk also waits 30 ms: on an idle machine the 40 chunks were otherwise all written
    before the test could see three new ones and kill the parent.
    """
    time.sleep(0.03)
    return np.full(150_000, float(index))


def test_chunks_killed_while_being_written_are_never_mixed(tmp_path):
    rng = np.random.default_rng(0)
    for _ in range(3):
        parent = start(tmp_path, f"""
            from landscape import Execution
            from landscape.parallel import map_chunks
            from test_faults import _big
            map_chunks(_big, range(40), Execution(cache={str(tmp_path / "cache")!r}))
        """)
        files = len(list(tmp_path.glob("cache/*/chunk-*.npz")))
        wait_for(lambda before=files: len(list(tmp_path.glob("cache/*/chunk-*.npz"))) > before + 2,
                 "new chunks", parent)
        time.sleep(rng.uniform(0, 0.05))  # somewhere in the middle of a write
        kill_and_check_no_process_is_left(parent)
    (folder,) = (tmp_path / "cache").iterdir()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        kept = ChunkCache(tmp_path / "cache", folder.name).load(40)
        assert len(kept) == len(list(folder.glob("chunk-*.npz")))
        for i, result in kept.items():
            assert result.shape == (150_000,) and np.all(result == i)
        results = map_chunks(_big, range(40), Execution(cache=tmp_path / "cache"))
    assert all(np.all(r == i) for i, r in enumerate(results))


STUDY = """
import os
import time

TITLE = "Waits"


def run(out, quick, seed):
    with open({log!r}, "a") as fh:
        fh.write(f"{{os.getpid()}} {{out.name}}\\n")
    time.sleep(60)
    return {{"conclusion": "waited"}}
"""


def test_killing_landscape_run_with_jobs_leaves_no_study_running(tmp_path):
    studies, log = tmp_path / "studies", tmp_path / "log"
    studies.mkdir()
    for name in ("first", "second"):
        (studies / f"{name}.py").write_text(STUDY.format(log=str(log)))
    parent = subprocess.Popen(
        [sys.executable, "-m", "landscape", "--studies", str(studies), "run", "all",
         "--jobs", "2", "--out", str(tmp_path / "out")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: len(logged(log)) == 2, "two studies running", parent)
    children = kill_and_check_no_process_is_left(parent)
    assert {pid for pid, _ in logged(log)} <= {p.pid for p in children}


def test_a_dask_local_cluster_dies_with_the_process_that_started_it(tmp_path):
    pytest.importorskip("distributed")
    parent = start(tmp_path, """
        from distributed import Client, LocalCluster
        from test_faults import slow_plane
        from pathlib import Path
        if __name__ == "__main__":
            with LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                              dashboard_address=None) as cluster, Client(cluster) as client:
                slow_plane(Path.cwd(), executor=client)
    """)
    log = tmp_path / "log"
    wait_for(lambda: len({pid for pid, _ in logged(log)}) == 2, "two busy workers", parent)
    children = kill_and_check_no_process_is_left(parent)
    assert {pid for pid, _ in logged(log)} <= {p.pid for p in children}
