"""Many runs: basins against known critical points, identical numbers on every executor."""

import numpy as np
import pytest

from landscape import MLP, Execution, execution
from landscape import functions as F
from landscape.critical import critical_points_in_box
from landscape.data import xor
from landscape.optim import adam, gd
from landscape.runner import run
from landscape.sweep import Runs, box_starts, grid_starts, run_many
from landscape.vocabulary import MINIMUM

FIELDS = ("thetas", "steps", "loss", "batch_loss", "grad_norm", "lr")


def assert_same_runs(a: Runs, b: Runs):
    assert len(a) == len(b) and a.labels == b.labels and a.seed == b.seed
    np.testing.assert_array_equal(a.init_index, b.init_index)
    for x, y in zip(a, b):
        for field in FIELDS:
            np.testing.assert_array_equal(getattr(x, field), getattr(y, field))
        assert (x.status, x.diverged_at, x.seed) == (y.status, y.diverged_at, y.seed)


# ---------------------------------------------------------------------------------
# Starting points
# ---------------------------------------------------------------------------------


def test_grid_starts_order_ij_on_a_non_square_grid():
    starts = grid_starts([[0, 1], [0, 2]], (2, 3))
    assert starts.tolist() == [[0, 0], [0, 1], [0, 2], [1, 0], [1, 1], [1, 2]]


def test_latin_box_starts_fill_every_slice_of_every_axis_once():
    bounds = np.array([[0.0, 1.0], [-2.0, 2.0], [10.0, 20.0]])
    starts = box_starts(bounds, 50, rng=0)
    slices = np.floor((starts - bounds[:, 0]) / (bounds[:, 1] - bounds[:, 0]) * 50).astype(int)
    for axis in range(3):
        assert sorted(slices[:, axis].tolist()) == list(range(50))
    uniform = box_starts(bounds, 50, rng=0, method="uniform")
    assert np.all((uniform >= bounds[:, 0]) & (uniform <= bounds[:, 1]))
    np.testing.assert_array_equal(box_starts(bounds, 50, rng=0), starts)
    assert not np.array_equal(box_starts(bounds, 50, rng=1), starts)


# ---------------------------------------------------------------------------------
# Basins
# ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def himmelblau_runs():
    """GD from an 8 x 8 grid over Himmelblau's box, run until the gradient vanishes."""
    f = F.himmelblau()
    return f, run_many(f, grid_starts(f.bounds, 8), gd(0.01), 3000, grad_tol=1e-8,
                       record_every=1000)


def test_himmelblau_grid_reaches_all_four_minima_and_reports_basins(himmelblau_runs):
    f, runs = himmelblau_runs
    minima = np.array([c.theta for c in f.critical_points if c.kind == "minimum"])
    assert set(runs.statuses) == {"converged"}
    basins = runs.basins(f.critical_points, tol=1e-6)
    is_min = np.array([k == "minimum" for k in basins.kinds])
    assert np.all(basins.counts[is_min] > 0) and basins.counts[is_min].sum() == len(runs)
    centers = basins.centers[basins.labels]
    np.testing.assert_allclose(centers, runs.final_thetas, atol=1e-6)
    for m in minima:  # the start nearest to each minimum ends there
        nearest = np.argmin(np.linalg.norm(runs.starts - m, axis=1))
        np.testing.assert_allclose(basins.centers[basins.labels[nearest]], m)
    clusters = runs.basins(tol=1e-3)  # no known points: cluster the end points
    assert len(clusters.centers) == 4 and clusters.kinds == (None,) * 4
    order = np.lexsort(clusters.centers.T)
    np.testing.assert_allclose(clusters.centers[order], minima[np.lexsort(minima.T)], atol=1e-6)
    tight = runs.basins(f.critical_points, tol=1e-14)  # GD stopped ~1e-9 away: too far
    assert np.all(tight.labels == -1) and tight.counts.sum() == 0


def test_basins_of_found_points_are_the_basins_of_the_known_points(himmelblau_runs):
    # Found and known critical points are one record: basins take either, or their thetas.
    f, runs = himmelblau_runs
    found = critical_points_in_box(f)
    shares = []
    for points in (f.critical_points, found):
        basins = runs.basins(points, tol=1e-6)
        minima = [i for i, k in enumerate(basins.kinds) if k == MINIMUM]
        order = np.lexsort(basins.centers[minima].T)
        shares.append((basins.centers[minima][order], basins.counts[minima][order] / len(runs)))
    (known_centers, known_shares), (found_centers, found_shares) = shares
    assert len(known_centers) == len(found_centers) == 4
    np.testing.assert_allclose(found_centers, known_centers, atol=1e-8)
    np.testing.assert_array_equal(found_shares, known_shares)
    assert known_shares.sum() == 1.0 and np.all(known_shares > 0)
    plain = runs.basins(np.array([p.theta for p in found]), tol=1e-6)
    np.testing.assert_array_equal(plain.labels, runs.basins(found, tol=1e-6).labels)
    assert plain.kinds == (None,) * len(found)


def test_lee_saddle_gd_reaches_a_minimum_from_every_random_start():
    f = F.lee_saddle()  # x²/2 + y⁴/4 - y²/2: saddle (0, 0), minima (0, ±1)
    runs = run_many(f, box_starts(f.bounds, 1000, rng=0, method="uniform"), gd(0.1), 1000,
                    grad_tol=1e-6, record_every=1000)
    basins = runs.basins(f.critical_points, tol=1e-5)
    reached = np.array(basins.kinds)[basins.labels]
    assert np.all(basins.labels >= 0) and set(reached) == {"minimum"}
    # y(1 + eta - eta y²) keeps the sign of y in the box: the basin is the sign of y0
    np.testing.assert_array_equal(basins.centers[basins.labels, 1], np.sign(runs.starts[:, 1]))
    on_line = run_many(f, [[1.3, 0.0], [-0.7, 0.0]], gd(0.1), 1000,
                       grad_tol=1e-6).basins(f.critical_points, tol=1e-5)
    assert [on_line.kinds[i] for i in on_line.labels] == ["saddle", "saddle"]


# ---------------------------------------------------------------------------------
# Executors and seeds
# ---------------------------------------------------------------------------------


def xor_objective():
    X, y = xor(40, rng=0)
    model = MLP([2, 4, 1], activation="sigmoid", output="sigmoid", loss="cross_entropy")
    return model, model.objective(X, y)


def xor_runs(**kwargs):
    model, obj = xor_objective()
    return run_many(obj, 4, {"gd": gd(0.5), "adam": adam(0.05)}, 30, init_fn=model.init,
                    rng=11, batch_size=10, record_every=5, **kwargs)


def test_process_pool_gives_bit_identical_runs():
    serial = xor_runs()
    with execution(executor=2):
        assert_same_runs(serial, xor_runs(chunk_size=3))


def test_dask_client_gives_bit_identical_runs():
    distributed = pytest.importorskip("dask.distributed")
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=2,
                            dashboard_address=None) as client:
        assert_same_runs(xor_runs(), xor_runs(execution=Execution(executor=client)))


def test_seeds_per_start_shared_by_optimizers_and_reproducible():
    model, obj = xor_objective()
    runs = xor_runs()
    assert runs.labels == ("gd", "adam") * 4 and runs.init_index.tolist() == [0, 0, 1, 1, 2, 2,
                                                                              3, 3]
    seeds = [tr.seed for tr in runs]
    assert seeds[0::2] == seeds[1::2] and len(set(seeds)) == 4
    np.testing.assert_array_equal(runs[0].theta0, runs[1].theta0)
    again = run(obj, runs[3].theta0, adam(0.05), 30, batch_size=10, rng=runs[3].seed,
                record_every=5)
    np.testing.assert_array_equal(again.thetas, runs[3].thetas)
    other = run_many(obj, 4, gd(0.5), 30, init_fn=model.init, rng=12, batch_size=10)
    assert not np.array_equal(other.starts, runs.filter(label="gd").starts)


# ---------------------------------------------------------------------------------
# Summaries, filters, saving
# ---------------------------------------------------------------------------------


def test_summary_and_filters_against_closed_form():
    f = F.quadratic([1.0], rotate=False)  # theta_t = theta0 (1 - lr)^t
    starts = box_starts([[-1.0, 1.0]], 5, rng=3)
    runs = run_many(f, starts, {"small": gd(0.5), "big": gd(2.5)}, 100)
    summary = runs.summary(quantiles=(0.0, 0.5, 1.0))
    exact = 0.5 * (starts[:, 0] * 0.5**100) ** 2
    np.testing.assert_allclose(summary["small"].final_loss, np.quantile(exact, [0, 0.5, 1]),
                               rtol=1e-10)
    assert summary["small"][:3] == (5, 0, 0) and summary["big"][:3] == (5, 0, 5)
    assert np.all(np.isnan(summary["big"].final_loss))
    diverged = runs.filter(status="diverged")
    assert len(diverged) == 5 and set(diverged.labels) == {"big"}
    assert runs.filter(label="small").names == ("small",)
    nothing = diverged.basins(tol=0.1)
    assert nothing.centers.shape == (0, 1) and np.all(nothing.labels == -1)
    with pytest.raises(ValueError, match="label"):
        runs.filter(label="nope")


# ---------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------


@pytest.mark.parametrize("call, match", [
    (lambda obj: run_many(obj, 3, gd(0.1), 5), "init_fn"),
    (lambda obj: run_many(obj, np.zeros((2, 3)), gd(0.1), 5), "inits"),
    (lambda obj: run_many(obj, np.zeros((0, 17)), gd(0.1), 5), "inits"),
    (lambda obj: run_many(obj, np.zeros((2, 17)), [gd(0.1), gd(0.2)], 5), "names repeat"),
    (lambda obj: run_many(obj, np.zeros((2, 17)), [], 5), "optimizers"),
    (lambda obj: run_many(obj, np.zeros((2, 17)), gd(0.1), 5, batch_size=41), "batch_size"),
    (lambda obj: run_many(obj, np.zeros((2, 17)), gd(0.1), -1), "steps"),
    (lambda obj: box_starts([[1.0, 0.0]], 3), "bounds"),
    (lambda obj: box_starts([[0.0, 1.0]], 0), "count"),
    (lambda obj: box_starts([[0.0, 1.0]], 3, method="sobol"), "method"),
    (lambda obj: grid_starts([[0.0, 1.0]], 0), "num"),
])
def test_bad_input(call, match):
    _, obj = xor_objective()  # 17 parameters, 40 samples
    with pytest.raises(ValueError, match=match):
        call(obj)
