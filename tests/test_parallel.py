"""Chunked work: every executor gives the serial results in order, failures name their chunk,
interrupted work resumes from the cache with the numbers of an uninterrupted run, and the
cache's key (the fingerprint) tells apart exactly what differs."""

import concurrent.futures as cf
import os
import pickle
import shutil
import subprocess
import sys
import textwrap
import threading
from concurrent.futures.process import BrokenProcessPool
from functools import partial
from pathlib import Path

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

import landscape
from landscape import MLP, Execution, data
from landscape import functions as F
from landscape.cache import ChunkCache, fingerprint
from landscape.directions import random_directions
from landscape.optim import adam, gd
from landscape.parallel import N_CHUNKS, ChunkError, map_chunks
from landscape.surface import plane
from landscape.sweep import run_many

# ---------------------------------------------------------------------------------
# Probes: count what was computed, fail once where asked (shared with test_dask.py)
# ---------------------------------------------------------------------------------


class Probe:
    """Logs each call's ``key`` (with the process id) to the file ``log``, so that calls in
    worker processes are counted too, and fails at ``key == at`` once per file in ``flags``
    (removing one each time): raises ``RuntimeError``, or with ``exit`` ends its process."""

    def __init__(self, log, flags=(), at=None, exit=False):
        self.log, self.flags, self.at, self.exit = str(log), [str(f) for f in flags], at, exit

    def __call__(self, key: str) -> None:
        if key == self.at and any(_take(flag) for flag in self.flags):
            if self.exit:
                os._exit(1)
            raise RuntimeError(f"planned failure at {key}")
        with open(self.log, "a") as fh:  # appends of one short line do not interleave
            fh.write(f"{os.getpid()} {key}\n")

    def keys(self) -> list:
        """The keys of the calls that did not fail, in order."""
        if not os.path.exists(self.log):
            return []
        with open(self.log) as fh:
            return [line.split(" ", 1)[1].rstrip("\n") for line in fh]


def _take(flag: str) -> bool:
    """Remove ``flag``; True for the one caller that removed it (atomic across processes)."""
    try:
        os.remove(flag)
    except FileNotFoundError:
        return False
    return True


def flag_files(folder: Path, count: int = 1) -> list:
    """``count`` new files in ``folder``: a :class:`Probe` fails once per file."""
    paths = [folder / f"fail-{i}" for i in range(count)]
    for path in paths:
        path.touch()
    return paths


class Probed:
    """An objective whose ``losses_in_span`` calls ``probe`` with the chunk's first point."""

    def __init__(self, objective, probe: Probe):
        self.objective, self.probe, self.dim = objective, probe, objective.dim

    def losses_in_span(self, center, directions, coords):
        self.probe(point_key(coords[0]))
        return self.objective.losses_in_span(center, directions, coords)


def point_key(coords) -> str:
    return " ".join(repr(float(c)) for c in coords)


def chunk_starts(surface) -> list:
    """The first point of each chunk, in order (the grid split as the surface module does)."""
    coords = surface.coords()
    size = -(-len(coords) // N_CHUNKS)
    return [point_key(c) for c in coords[::size]]


def mlp_plane_inputs():
    X, y = data.moons(60, rng=0)
    model = MLP([2, 16, 16, 1], activation="tanh", output="sigmoid", loss="cross_entropy")
    return model.objective(X, y), model.init(1), random_directions(model.n_params, k=2, rng=2)


# ---------------------------------------------------------------------------------
# Executors
# ---------------------------------------------------------------------------------


def _moments(chunk: np.ndarray) -> np.ndarray:
    return np.array([chunk.sum(), (chunk**2).sum(), np.sin(chunk).prod()])


def _chunks(count=9):
    rng = np.random.default_rng(0)
    return [rng.standard_normal(int(rng.integers(1, 20))) for _ in range(count)]


@pytest.mark.parametrize("executor", [None, 2, "threads"])
def test_every_executor_returns_the_serial_results_in_order(executor):
    chunks = _chunks()
    expected = [_moments(c) for c in chunks]
    if executor == "threads":
        with cf.ThreadPoolExecutor(2) as pool:
            got = map_chunks(_moments, chunks, Execution(executor=pool))
    else:
        got = map_chunks(_moments, chunks, Execution(executor=executor))
    assert len(got) == len(chunks)
    for g, e in zip(got, expected):
        np.testing.assert_array_equal(g, e)


MARK = {}  # set in this process only: a forked worker would see it, a fresh one does not


def _worker_state(_chunk) -> tuple:
    from threadpoolctl import threadpool_info

    blas = {info["num_threads"] for info in threadpool_info() if info["user_api"] == "blas"}
    return MARK.get("parent"), sorted(blas)


def test_own_process_pools_start_fresh_workers_with_one_blas_thread():
    pytest.importorskip("threadpoolctl")
    MARK["parent"] = os.getpid()
    try:
        states = map_chunks(_worker_state, range(4), Execution(executor=2))
    finally:
        MARK.clear()
    assert states == [(None, [1])] * 4


def digits_plane_inputs():
    """A plane of the digits MLP whose products are large enough for OpenBLAS to split them
    over two threads, which changed the last bits of one of its 15 values (measured here)
    before every chunk ran on one thread."""
    X, y = data.digits()
    model = MLP([64, 32, 32, 10], activation="tanh", output="softmax", loss="cross_entropy")
    d = random_directions(model.n_params, k=2, rng=1)
    return model.objective(X, y), model.init(0), d, dict(span=1.0, resolution=(5, 3))


def test_every_executor_gives_the_same_bits_whatever_the_blas_threads():
    obj, center, d, grid = digits_plane_inputs()
    with threadpool_limits(2):
        serial = plane(obj, center, d, **grid).values
        with cf.ThreadPoolExecutor(2) as pool:
            threads = plane(obj, center, d, **grid, execution=Execution(executor=pool)).values
    processes = plane(obj, center, d, **grid, execution=Execution(executor=2)).values
    assert np.isfinite(serial).all()
    assert np.array_equal(serial, threads) and np.array_equal(serial, processes)


def _dot(chunk: int) -> float:
    return float(np.ones(3) @ np.full(3, chunk))


def test_a_blas_limit_held_by_another_thread_is_warned_about():
    # threadpoolctl ignores OpenBLAS limits set while another thread holds one
    done = []
    with threadpool_limits(2), pytest.warns(RuntimeWarning, match="could not be limited"):
        worker = threading.Thread(target=lambda: done.append(map_chunks(_dot, range(3))))
        worker.start()
        worker.join()
    assert done == [[0.0, 3.0, 6.0]]


def _fail_at_three(chunk: int) -> int:
    if chunk == 3:
        raise ValueError("bad chunk content")
    return chunk


@pytest.mark.parametrize("executor", [None, 2, "threads"])
def test_a_failing_chunk_is_reported_with_its_index(executor):
    with cf.ThreadPoolExecutor(2) as threads:
        pool = threads if executor == "threads" else executor
        with pytest.raises(ChunkError, match="chunk 3 failed: ValueError: bad chunk") as info:
            map_chunks(_fail_at_three, range(6), Execution(executor=pool))
    assert info.value.index == 3 and isinstance(info.value.__cause__, ValueError)


@pytest.mark.parametrize("executor", [0, -2, True, 2.0, "dask"])
def test_bad_executor_is_named(executor):
    with pytest.raises(ValueError, match="executor"):
        map_chunks(_moments, _chunks(), Execution(executor=executor))


# ---------------------------------------------------------------------------------
# The cache
# ---------------------------------------------------------------------------------


def _probed_sum(probe: Probe, chunk: np.ndarray) -> float:
    probe(repr(float(chunk[0])))
    return chunk.sum()


def test_interrupted_work_resumes_where_it_stopped(tmp_path):
    chunks = [np.arange(5.0 * i, 5.0 * i + 5) for i in range(8)]
    keys = [repr(float(c[0])) for c in chunks]
    probe = Probe(tmp_path / "log", flag_files(tmp_path), at=keys[5])
    work = partial(_probed_sum, probe)
    with pytest.raises(ChunkError) as info:
        map_chunks(work, chunks, Execution(cache=tmp_path / "cache"))
    assert info.value.index == 5 and probe.keys() == keys[:5]
    store = ChunkCache.of_work(tmp_path / "cache", work, chunks)
    assert sorted(store.load(8)) == [0, 1, 2, 3, 4]

    resumed = map_chunks(work, chunks, Execution(cache=tmp_path / "cache"))
    assert resumed == [c.sum() for c in chunks]
    assert probe.keys() == keys[:5] + keys[5:]  # chunks 5, 6, 7 once more, nothing else
    assert map_chunks(work, chunks, Execution(cache=tmp_path / "cache")) == resumed
    assert len(probe.keys()) == 8  # everything came from the cache
    assert all(p.name.startswith("chunk-") for p in store.path.iterdir())  # no temporary file


def test_a_pool_whose_worker_dies_fails_and_a_rerun_resumes(tmp_path):
    chunks = [np.arange(3.0) + 10 * i for i in range(6)]
    keys = [repr(float(c[0])) for c in chunks]
    probe = Probe(tmp_path / "log", flag_files(tmp_path), at=keys[2], exit=True)
    work = partial(_probed_sum, probe)
    with pytest.raises(ChunkError) as info:
        map_chunks(work, chunks, Execution(executor=2, cache=tmp_path / "cache"))
    assert isinstance(info.value.__cause__, BrokenProcessPool)
    kept = ChunkCache.of_work(tmp_path / "cache", work, chunks).load(6)
    before = len(probe.keys())
    resumed = map_chunks(work, chunks, Execution(executor=2, cache=tmp_path / "cache"))
    assert resumed == [c.sum() for c in chunks]
    assert sorted(probe.keys()[before:]) == sorted(k for i, k in enumerate(keys) if i not in kept)


def test_the_cache_keeps_different_work_apart(tmp_path):
    chunks = [np.arange(3.0) + i for i in range(4)]
    probe = Probe(tmp_path / "log")
    work = partial(_probed_sum, probe)
    map_chunks(work, chunks, Execution(cache=tmp_path))
    changed = [c.copy() for c in chunks]
    changed[2][1] += 1e-12  # one number of one chunk
    other = map_chunks(work, changed, Execution(cache=tmp_path))
    assert other == [c.sum() for c in changed] and len(probe.keys()) == 8
    assert len(list(tmp_path.glob("*/chunk-*.npz"))) == 8  # two keys, four chunks each
    regrouped = [np.concatenate(chunks[:2]), *chunks[2:]]  # same numbers, other chunking
    map_chunks(work, regrouped, Execution(cache=tmp_path))
    assert len(probe.keys()) == 11


def test_a_stray_temporary_file_is_not_a_finished_chunk(tmp_path):
    chunks = [np.ones(2), np.zeros(2)]
    store = ChunkCache.of_work(tmp_path, _moments, chunks)
    store.path.mkdir(parents=True)
    (store.path / ".chunk-1.x1y2.npz").write_bytes(b"half a pickle")  # a write cut short
    assert store.load(2) == {}
    got = map_chunks(_moments, chunks, Execution(cache=tmp_path))
    assert sorted(store.load(2)) == [0, 1]
    np.testing.assert_array_equal(store.load(2)[1], got[1])


@pytest.mark.parametrize("folder, message", [(3, "folder path"), ("file", "is a file")])
def test_bad_cache_folder_is_named(tmp_path, folder, message):
    if folder == "file":
        folder = tmp_path / "file"
        folder.write_text("not a folder")
    with pytest.raises(ValueError, match=message):
        map_chunks(_moments, _chunks(), Execution(cache=folder))


def _sums(count=5):
    """Chunks ``i * 10 + [0, 1, 2]`` and, with a probe, work whose results are their sums
    ``30 i + 3``."""
    return [np.arange(3.0) + 10 * i for i in range(count)]


class _Planted:
    """Unpickling it makes a folder: the code a planted file would run."""

    def __init__(self, target):
        self.target = str(target)

    def __reduce__(self):
        return os.mkdir, (self.target,)


def _spoil_with_pickle(path: Path, target: Path) -> None:
    """Put a pickle that makes ``target`` where a chunk's file is, in both forms a file
    could take: a pickle inside the ``.npz`` (an object array), and a bare pickle file."""
    np.savez(path, __meta__=np.array([_Planted(target)], dtype=object))
    path.with_name("chunk-2.npz").write_bytes(pickle.dumps(_Planted(target)))


def test_chunks_are_kept_as_arrays_and_a_planted_pickle_never_runs(tmp_path):
    chunks, probe = _sums(), Probe(tmp_path / "log")
    work = partial(_probed_sum, probe)
    map_chunks(work, chunks, Execution(cache=tmp_path / "cache"))
    store = ChunkCache.of_work(tmp_path / "cache", work, chunks)
    for file in store.path.iterdir():  # plain .npy members, no pickle needed to read them
        with np.load(file, allow_pickle=False) as npz:
            assert all(npz[name].dtype != object for name in npz.files)
    target = tmp_path / "planted-by-a-pickle"
    _spoil_with_pickle(store.path / "chunk-1.npz", target)
    pickle.loads(pickle.dumps(_Planted(target)))  # the payload works when unpickled ...
    target.rmdir()
    with pytest.warns(UserWarning) as caught:
        got = map_chunks(work, chunks, Execution(cache=tmp_path / "cache"))
    assert not target.exists()  # ... and the cache never unpickles it
    messages = sorted(str(w.message) for w in caught)
    assert len(messages) == 2
    assert f"{store.path / 'chunk-1.npz'}: " in messages[0] and "pickle" in messages[0]
    assert f"{store.path / 'chunk-2.npz'}: not a landscape record" in messages[1]
    assert got == [30.0 * i + 3 for i in range(5)] and len(probe.keys()) == 5 + 2
    assert sorted(store.load(5)) == [0, 1, 2, 3, 4]  # the two files replaced by real chunks


def _another_chunk(path: Path) -> None:
    shutil.copy(path.with_name("chunk-0.npz"), path)


def _another_works_chunk(path: Path) -> None:
    other = ChunkCache(path.parent.parent, "other-work")
    shutil.copy(other.save(3, np.float64(33.0)), path)


SPOILED = {  # chunk 3's file -> what the warning says besides naming it
    "empty": (lambda p: p.write_bytes(b""), "empty"),
    "truncated": (lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]), "corrupt"),
    "random bytes": (lambda p: p.write_bytes(np.random.default_rng(0).bytes(3000)), "not a"),
    "one flipped bit": (lambda p: _flip_last_data_byte(p), "corrupt"),
    "another chunk's file": (_another_chunk, "not chunk 3 of this work"),
    "another work's chunk": (_another_works_chunk, "not chunk 3 of this work"),
}


def _flip_last_data_byte(path: Path) -> None:
    """Flip the last byte of the file's last float: its checksum no longer matches."""
    import zipfile

    info = max(zipfile.ZipFile(path).infolist(), key=lambda i: i.header_offset)
    raw = bytearray(path.read_bytes())
    raw[info.header_offset + 30 + len(info.filename) + info.file_size - 1] ^= 0x01
    path.write_bytes(bytes(raw))


@pytest.mark.parametrize("spoil", list(SPOILED))
def test_a_damaged_chunk_is_computed_again_with_a_warning_naming_it(tmp_path, spoil):
    chunks, probe = _sums(), Probe(tmp_path / "log")
    work = partial(_probed_sum, probe)
    map_chunks(work, chunks, Execution(cache=tmp_path))
    file = ChunkCache.of_work(tmp_path, work, chunks).path / "chunk-3.npz"
    damage, reason = SPOILED[spoil]
    damage(file)
    with pytest.warns(UserWarning, match=reason) as caught:
        got = map_chunks(work, chunks, Execution(cache=tmp_path))
    assert [str(file) in str(w.message) for w in caught] == [True]
    assert got == [30.0 * i + 3 for i in range(5)]
    assert probe.keys()[5:] == [repr(30.0)]  # chunk 3 only, computed again
    assert map_chunks(work, chunks, Execution(cache=tmp_path)) == got  # and kept, whole
    assert len(probe.keys()) == 6


def _typed(chunk: int):
    """Results of several kinds: NumPy scalars of two dtypes, a 0-d array, nested containers."""
    return (np.float32(chunk) / 3, np.int16(chunk), np.array(chunk / 7),
            {"a": [np.arange(chunk), "text", None, 2.5, True]})


def test_cached_results_come_back_with_their_types_and_bits(tmp_path):
    fresh = map_chunks(_typed, range(3), Execution(cache=tmp_path))
    cached = map_chunks(_typed, range(3), Execution(cache=tmp_path))
    for a, b in zip(fresh, cached):
        for x, y in zip(a[:3], b[:3]):
            assert type(x) is type(y) and x.dtype == y.dtype and x.tobytes() == y.tobytes()
        assert np.array_equal(a[3]["a"][0], b[3]["a"][0]) and a[3]["a"][1:] == b[3]["a"][1:]
    assert isinstance(cached[1][0], np.float32) and cached[1][2].shape == ()


def _a_set(chunk: int) -> set:
    return {chunk}


def test_a_result_that_needs_pickle_is_refused_by_the_cache(tmp_path):
    with pytest.raises(ValueError, match="chunk 0's result cannot be kept without pickle.*set"):
        map_chunks(_a_set, range(2), Execution(cache=tmp_path))
    assert map_chunks(_a_set, range(2)) == [{0}, {1}]  # without a cache it is fine


def test_a_new_library_version_misses_the_cache(tmp_path, monkeypatch):
    chunks, probe = _sums(), Probe(tmp_path / "log")
    work = partial(_probed_sum, probe)
    map_chunks(work, chunks, Execution(cache=tmp_path / "cache"))
    map_chunks(work, chunks, Execution(cache=tmp_path / "cache"))
    assert len(probe.keys()) == 5  # the same version reads its chunks
    monkeypatch.setattr(landscape, "__version__", landscape.__version__ + ".post1")
    assert map_chunks(work, chunks, Execution(cache=tmp_path / "cache")) == [
        30.0 * i + 3 for i in range(5)]
    assert len(probe.keys()) == 10  # another version computes everything again
    assert len(list((tmp_path / "cache").iterdir())) == 2


def test_an_interrupted_plane_resumes_to_the_serial_plane(tmp_path):
    obj, center, d = mlp_plane_inputs()
    clean = plane(obj, center, d, span=1.5, resolution=(13, 9))
    starts = chunk_starts(clean)
    probe = Probe(tmp_path / "log", flag_files(tmp_path), at=starts[6])
    probed, cached = Probed(obj, probe), Execution(cache=tmp_path)
    with pytest.raises(ChunkError) as info:
        plane(probed, center, d, span=1.5, resolution=(13, 9), execution=cached)
    assert info.value.index == 6 and probe.keys() == starts[:6]
    resumed = plane(probed, center, d, span=1.5, resolution=(13, 9), execution=cached)
    np.testing.assert_array_equal(resumed.values, clean.values)
    assert probe.keys() == starts  # each chunk computed once in all


def _probed_metric(probe: Probe, objective, theta) -> float:
    probe(point_key(theta[:3]))
    return 0.0


def test_an_interrupted_sweep_resumes_to_the_serial_sweep(tmp_path):
    X, y = data.xor(40, rng=0)
    model = MLP([2, 4, 1], activation="sigmoid", output="sigmoid", loss="cross_entropy")
    obj = model.objective(X, y)
    starts = np.array([model.init(s) for s in range(6)])
    keys = [point_key(s[:3]) for s in starts]
    probe = Probe(tmp_path / "log", flag_files(tmp_path), at=keys[4])
    opts = {"gd": gd(0.5), "adam": adam(0.05)}
    kw = dict(rng=3, batch_size=10, record_every=30)
    metrics = {"probe": partial(_probed_metric, probe)}
    cached = Execution(cache=tmp_path)
    clean = run_many(obj, starts, opts, 30, **kw)
    with pytest.raises(ChunkError) as info:  # one run per chunk: 12 chunks, start 4 in 8, 9
        run_many(obj, starts, opts, 30, chunk_size=1, execution=cached, metrics=metrics, **kw)
    assert info.value.index == 8
    before = len(probe.keys())
    resumed = run_many(obj, starts, opts, 30, chunk_size=1, execution=cached, metrics=metrics,
                       **kw)
    # The option check runs once at start 0; a run probes its first and last point.
    computed = probe.keys()[before:]
    assert computed[0] == keys[0] and len(computed) == 1 + 2 * 4
    assert computed[1::2] == [keys[4], keys[4], keys[5], keys[5]]
    assert resumed.labels == clean.labels and resumed.seed == clean.seed
    for a, b in zip(resumed, clean):
        np.testing.assert_array_equal(a.thetas, b.thetas)
        np.testing.assert_array_equal(a.loss, b.loss)
        assert a.seed == b.seed


def test_sweep_chunks_stay_within_the_memory_budget(tmp_path):
    f = F.rosenbrock(4)
    starts = np.random.default_rng(0).uniform(-1, 1, (64, 4))
    one = run_many(f, starts[:1], gd(1e-4), 50)[0]
    per_run = sum(a.nbytes for a in (one.thetas, one.steps, one.loss, one.batch_loss,
                                      one.grad_norm, one.lr, one.wall_time))
    # No binding budget: 16 chunks of 4; room for two runs: 32 chunks; for none: one per chunk.
    for budget, n_chunks in [(1e9, 16), (2.5 * per_run, 32), (1.0, 64)]:
        folder = tmp_path / str(budget)
        run_many(f, starts, gd(1e-4), 50,
                 execution=Execution(memory_budget=budget, cache=folder))
        (key,) = [p.name for p in folder.iterdir()]
        chunks = ChunkCache(folder, key).load(100)
        assert sorted(chunks) == list(range(n_chunks))
        assert sum(len(c) for c in chunks.values()) == 64
        assert max(len(c) for c in chunks.values()) * per_run <= max(budget, per_run)
    with pytest.raises(ValueError, match="memory_budget"):
        run_many(f, starts, gd(1e-4), 5, execution=Execution(memory_budget=0))


# ---------------------------------------------------------------------------------
# Fingerprints
# ---------------------------------------------------------------------------------


def _digits_like(seed=0, **kw):
    rng = np.random.default_rng(seed)
    X, y = rng.standard_normal((30, 5)), rng.integers(0, 3, 30)
    return MLP([5, 4, 3], output="softmax", loss="cross_entropy", **kw).objective(X, y)


def test_equal_content_gives_equal_fingerprints_whatever_the_identity_or_cache():
    a, b = _digits_like(), _digits_like()
    b.loss_and_grad(np.zeros(b.dim))  # fills b's working buffers and its last-pass cache
    assert fingerprint(a) == fingerprint(b)
    assert fingerprint(F.quadratic([1.0, 2.0], rng=4)) == fingerprint(F.quadratic([1.0, 2.0],
                                                                                  rng=4))
    assert fingerprint([gd(0.1), adam(0.01)]) == fingerprint([gd(0.1), adam(0.01)])
    assert fingerprint({"x": 1, "y": 2}) == fingerprint({"y": 2, "x": 1})


@pytest.mark.parametrize("other", [
    lambda: _digits_like(seed=1),  # other data
    lambda: _digits_like(weight_decay=1e-12),
    lambda: _digits_like(activation="relu"),
    lambda: _digits_like(bias=[True, False]),
    lambda: _digits_like(dtype=np.float32),
])
def test_a_different_model_or_data_gives_another_fingerprint(other):
    assert fingerprint(other()) != fingerprint(_digits_like())


@pytest.mark.parametrize("a, b", [
    (F.rosenbrock(2), F.rosenbrock(2, b=101.0)),
    (F.rosenbrock(2), F.rosenbrock(3)),
    (F.himmelblau(), F.beale()),
    (F.quadratic([1.0, 2.0], rng=0), F.quadratic([1.0, 2.0], rng=1)),
    (gd(0.1), gd(0.2)),
    (adam(0.1), adam(0.1, b2=0.99)),
    (1, 1.0),
    (np.float64(1.0), 1.0),
    (np.zeros(3), np.zeros(3, np.float32)),
    (np.zeros((2, 3)), np.zeros((3, 2))),
    (0.0, -0.0),
])
def test_different_settings_give_different_fingerprints(a, b):
    assert fingerprint(a) != fingerprint(b)


def test_what_has_no_stable_description_is_refused():
    def local(t):
        return t

    for fn in (lambda t: t, local):
        with pytest.raises(ValueError, match="module level"):
            fingerprint([1, fn])
    with pytest.raises(ValueError, match="cannot fingerprint"):
        fingerprint(sys)


def test_fingerprints_agree_between_sessions():
    code = ("from landscape import functions as F, MLP; from landscape.optim import adam; "
            "from landscape.cache import fingerprint; import numpy as np; "
            "X = np.linspace(0, 1, 10).reshape(5, 2); "
            "print(fingerprint([MLP([2, 3, 1]).objective(X, X[:, :1]), F.quadratic([1.0, 2.0], "
            "rng=0), adam(0.1), {'a', 'b', 'c'}]))")
    out = [subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True, env={**os.environ, "PYTHONHASHSEED": seed}).stdout
           for seed in ("1", "2")]
    X = np.linspace(0, 1, 10).reshape(5, 2)
    here = fingerprint([MLP([2, 3, 1]).objective(X, X[:, :1]), F.quadratic([1.0, 2.0], rng=0),
                        adam(0.1), {"a", "b", "c"}])
    assert out[0].strip() == out[1].strip() == here


# ---------------------------------------------------------------------------------
# Fingerprints of PyTorch objectives
# ---------------------------------------------------------------------------------


def torch_objective(norm=False, mode="eval", dtype="float64", loss="plain", nudge=None):
    """A small PyTorch classifier on the moons as an objective, built from fixed seeds: the
    same arguments make the same objective in any process. ``nudge`` changes one number:
    'parameter', 'buffer' or 'data'."""
    torch = pytest.importorskip("torch")
    from landscape.torch import from_module

    torch.manual_seed(0)
    layers = [torch.nn.Linear(2, 8), torch.nn.Tanh(), torch.nn.Linear(8, 2)]
    if norm:
        layers.insert(1, torch.nn.BatchNorm1d(8))
    net = torch.nn.Sequential(*layers)
    X, y = data.moons(40, rng=0)
    with torch.no_grad():
        if nudge == "parameter":
            net[0].weight[0, 0] += 1e-3
        elif nudge == "buffer":
            net[1].running_mean[0] += 1e-3
    if nudge == "data":
        X = X.copy()
        X[0, 0] += 1e-12
    loss_fn = torch.nn.CrossEntropyLoss(label_smoothing=0.1 if loss == "smoothed" else 0.0)
    return from_module(net, loss_fn, (X, y), mode=mode, dtype=getattr(torch, dtype))


def test_a_torch_objective_has_one_fingerprint_whatever_the_construction():
    a, b = torch_objective(), torch_objective()
    a.loss_and_grad(a.theta0)
    assert a._module is not b._module and fingerprint(a) == fingerprint(b)
    assert fingerprint(torch_objective(norm=True)) == fingerprint(torch_objective(norm=True))


@pytest.mark.parametrize("changed, base", [
    (dict(nudge="parameter"), {}),
    (dict(norm=True, nudge="buffer"), dict(norm=True)),
    (dict(nudge="data"), {}),
    (dict(loss="smoothed"), {}),
    (dict(dtype="float32"), {}),
    (dict(mode="train"), {}),
    (dict(norm=True), {}),  # the module's structure
])
def test_a_torch_objective_that_differs_has_another_fingerprint(changed, base):
    assert fingerprint(torch_objective(**changed)) != fingerprint(torch_objective(**base))


def test_a_torch_plane_cut_short_in_another_process_resumes_here(tmp_path):
    obj = torch_objective()
    center, d = obj.theta0, random_directions(obj.dim, k=2, rng=2)
    clean = plane(obj, center, d, resolution=(7, 5))
    starts = chunk_starts(clean)
    probe = Probe(tmp_path / "log", flag_files(tmp_path), at=starts[4], exit=True)
    cached = Execution(cache=tmp_path / "cache")
    code = textwrap.dedent(f"""
        import sys
        sys.path.insert(0, {str(Path(__file__).parent)!r})
        from test_parallel import Probe, Probed, torch_objective
        from landscape import Execution
        from landscape.cache import fingerprint
        from landscape.directions import random_directions
        from landscape.surface import plane

        obj = torch_objective()  # built again, in another process
        print(fingerprint(obj), flush=True)
        probe = Probe({probe.log!r}, {probe.flags!r}, at={probe.at!r}, exit=True)
        plane(Probed(obj, probe), obj.theta0, random_directions(obj.dim, k=2, rng=2),
              resolution=(7, 5), execution=Execution(cache={str(cached.cache)!r}))
    """)
    other = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                           timeout=120)
    assert other.returncode == 1, other.stderr  # it ended at chunk 4, as if killed
    assert other.stdout == fingerprint(obj) + "\n"
    assert probe.keys() == starts[:4]
    resumed = plane(Probed(obj, probe), center, d, resolution=(7, 5), execution=cached)
    np.testing.assert_array_equal(resumed.values, clean.values)
    assert probe.keys() == starts  # chunks 0-3 there, the rest here: each computed once

