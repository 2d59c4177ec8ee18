"""Grids and sweeps on a Dask LocalCluster of two worker processes: the serial numbers (bit
for bit, whatever the caller's BLAS threads), a worker killed mid-grid without a point lost,
failures named by chunk, resumption."""

import os

import numpy as np
import pytest

from landscape import MLP, Execution, data
from landscape.optim import adam, gd
from landscape.parallel import ChunkError
from landscape.surface import plane
from landscape.sweep import run_many

dask = pytest.importorskip("dask")
distributed = pytest.importorskip("dask.distributed")
from test_parallel import (  # noqa: E402
    Probe,
    Probed,
    chunk_starts,
    digits_plane_inputs,
    flag_files,
    mlp_plane_inputs,
)
from threadpoolctl import threadpool_limits  # noqa: E402

RES = (13, 9)  # a non-square grid: 117 points in 15 chunks of 8 (the last of 5)


@pytest.fixture(scope="module")
def cluster():
    # One death of a worker while it runs a chunk is forgiven, the second fails the chunk;
    # a worker runs one chunk at a time, so only the chunk that kills it is blamed.
    settings = {"distributed.scheduler.allowed-failures": 1,
                "distributed.scheduler.worker-saturation": 1.0}
    with dask.config.set(settings), distributed.LocalCluster(
            n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as c:
        yield c


@pytest.fixture
def client(cluster):
    with distributed.Client(cluster) as c:
        c.wait_for_workers(2, timeout=60)  # a worker killed by an earlier test is back
        yield c


@pytest.fixture(scope="module")
def grid():
    """The MLP plane's inputs and its serial values."""
    obj, center, d = mlp_plane_inputs()
    return obj, center, d, plane(obj, center, d, resolution=RES)


def settle(client):
    """Wait until chunks of a failed call that were running when it failed have finished: a
    task sent to each one-thread worker starts only once its thread is free."""
    workers = list(client.scheduler_info()["workers"])
    client.gather([client.submit(os.getpid, workers=[w], pure=False) for w in workers])


def test_plane_and_sweep_on_two_workers_equal_the_serial_run(client, grid):
    obj, center, d, serial = grid
    on_dask = plane(obj, center, d, resolution=RES, execution=Execution(executor=client))
    np.testing.assert_array_equal(on_dask.values, serial.values)
    X, y = data.xor(40, rng=0)
    model = MLP([2, 4, 1], activation="sigmoid", output="sigmoid", loss="cross_entropy")
    kw = dict(init_fn=model.init, rng=11, batch_size=10, record_every=5)
    a = run_many(model.objective(X, y), 20, [gd(0.5), adam(0.05)], 30, **kw)
    b = run_many(model.objective(X, y), 20, [gd(0.5), adam(0.05)], 30,
                 execution=Execution(executor=client), **kw)
    assert a.labels == b.labels and len(a) == len(b) == 40
    for x, z in zip(a, b):
        for field in ("thetas", "loss", "batch_loss", "grad_norm"):
            np.testing.assert_array_equal(getattr(x, field), getattr(z, field))


def test_dask_gives_the_bits_of_a_serial_run_on_two_blas_threads(client):
    obj, center, d, grid = digits_plane_inputs()
    with threadpool_limits(2):
        serial = plane(obj, center, d, **grid).values
    on_dask = plane(obj, center, d, **grid, execution=Execution(executor=client)).values
    assert np.array_equal(serial, on_dask)


def test_a_worker_killed_mid_grid_loses_no_point(client, grid, tmp_path):
    obj, center, d, serial = grid
    starts = chunk_starts(serial)
    flags = flag_files(tmp_path)
    probe = Probe(tmp_path / "log", flags, at=starts[3], exit=True)
    on_dask = Execution(executor=client, cache=tmp_path / "cache")
    s = plane(Probed(obj, probe), center, d, resolution=RES, execution=on_dask)
    assert not flags[0].exists()  # the worker that took chunk 3 first did die
    np.testing.assert_array_equal(s.values, serial.values)  # every point, once, right
    assert set(probe.keys()) == set(starts)  # chunk 3 was computed again elsewhere
    assert len(list((tmp_path / "cache").glob("*/chunk-*.npz"))) == len(starts) == 15
    computed = len(probe.keys())
    again = plane(Probed(obj, probe), center, d, resolution=RES, execution=on_dask)
    np.testing.assert_array_equal(again.values, serial.values)
    assert len(probe.keys()) == computed  # all from the cache


def test_a_chunk_that_kills_every_worker_it_meets_is_named(client, grid, tmp_path):
    obj, center, d, serial = grid
    starts = chunk_starts(serial)
    probe = Probe(tmp_path / "log", flag_files(tmp_path, 2), at=starts[9], exit=True)
    with pytest.raises(ChunkError, match="chunk 9 failed: KilledWorker") as info:
        plane(Probed(obj, probe), center, d, resolution=RES,
              execution=Execution(executor=client))
    assert info.value.index == 9 and isinstance(info.value.__cause__,
                                                distributed.KilledWorker)


def test_an_error_in_a_chunk_is_named_and_the_finished_chunks_are_kept(client, grid, tmp_path):
    obj, center, d, serial = grid
    starts = chunk_starts(serial)
    probe = Probe(tmp_path / "log", flag_files(tmp_path), at=starts[5])
    probed = Probed(obj, probe)
    on_dask = Execution(executor=client, cache=tmp_path)
    with pytest.raises(ChunkError, match="chunk 5 failed: RuntimeError: planned") as info:
        plane(probed, center, d, resolution=RES, execution=on_dask)
    assert info.value.index == 5 and isinstance(info.value.__cause__, RuntimeError)
    settle(client)
    kept = {p.name for p in tmp_path.glob("*/chunk-*.npz")}
    assert "chunk-5.npz" not in kept
    assert {starts[int(name[6:-4])] for name in kept} <= set(probe.keys())
    before = len(probe.keys())
    resumed = plane(probed, center, d, resolution=RES, execution=on_dask)
    np.testing.assert_array_equal(resumed.values, serial.values)
    assert sorted(probe.keys()[before:]) == sorted(
        key for i, key in enumerate(starts) if f"chunk-{i}.npz" not in kept)
