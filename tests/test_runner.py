"""The runner against closed-form trajectories: recording, minibatches, stop rules, divergence."""

import math
import os
import subprocess
import sys
import tracemalloc
import warnings

import numpy as np
import pytest

from landscape import MLP, ObjectiveBase, from_function
from landscape import functions as F
from landscape.data import xor
from landscape.optim import Optimizer, gd, momentum
from landscape.runner import RECORD_BYTES, Diverged, run
from landscape.schedules import inverse_time


class MeanSquares(ObjectiveBase):
    """``mean_i ½ ||theta - x_i||²`` over the rows of ``X``; ``log`` collects minibatch indices."""

    def __init__(self, X, log=None):
        self.X, self.dim, self.n_samples, self.log = X, X.shape[1], X.shape[0], log

    def subset(self, indices):
        if self.log is not None:
            self.log.append(np.array(indices))
        return MeanSquares(self.X[indices])

    def _loss_and_grad(self, theta):
        d = theta - self.X
        return 0.5 * float(np.mean(np.sum(d * d, axis=1))), theta - self.X.mean(axis=0)

    def _hvp(self, theta, v):
        return v.copy()


def samples(n=20, d=3, seed=0):
    return np.random.default_rng(seed).standard_normal((n, d))


def diagonal(lams):
    return F.quadratic(lams, rotate=False)


# ---------------------------------------------------------------------------------
# What is recorded
# ---------------------------------------------------------------------------------


def test_records_match_closed_form_gd_on_a_diagonal_quadratic():
    lams, lr, theta0 = np.array([1.0, 0.25]), 0.5, np.array([1.0, -2.0])
    tr = run(diagonal(lams), theta0, gd(lr), 30, record_every=7)
    t_all = np.arange(31)[:, None]
    exact = theta0 * (1 - lr * lams) ** t_all  # theta_t, (31, 2)
    assert tr.steps.tolist() == [0, 7, 14, 21, 28, 30]
    np.testing.assert_allclose(tr.thetas, exact[tr.steps], rtol=1e-12)
    np.testing.assert_allclose(tr.loss, 0.5 * (lams * exact[tr.steps] ** 2).sum(1), rtol=1e-12)
    np.testing.assert_allclose(tr.batch_loss, 0.5 * (lams * exact**2).sum(1), rtol=1e-12)
    np.testing.assert_allclose(tr.grad_norm, np.linalg.norm(lams * exact, axis=1), rtol=1e-12)
    assert np.all(tr.lr[:-1] == lr) and np.isnan(tr.lr[-1])
    assert np.all(np.isfinite(tr.wall_time) & (tr.wall_time >= 0))
    assert (tr.status, tr.diverged_at, tr.n_steps) == ("max_steps", None, 30)
    assert (tr.optimizer, tr.hyperparams, tr.seed, tr.batch_size) == ("gd", {"lr": lr}, None, None)
    np.testing.assert_array_equal(tr.theta0, theta0)
    assert tr.final_loss == tr.loss[-1]


def test_max_records_thins_to_an_even_grid_and_keeps_the_ends():
    lams, lr, theta0 = np.array([1.0, 0.01]), 0.5, np.array([1.0, 1.0])
    tr = run(diagonal(lams), theta0, gd(lr), 1000, max_records=10)
    assert len(tr.steps) <= 10 and tr.steps[0] == 0 and tr.steps[-1] == 1000
    gaps = np.diff(tr.steps[:-1])
    assert np.all(gaps == gaps[0]) and gaps[0] & (gaps[0] - 1) == 0  # one power of two
    np.testing.assert_allclose(tr.thetas, theta0 * (1 - lr * lams) ** tr.steps[:, None],
                               rtol=1e-12)


def test_default_cap_bounds_recorded_memory():
    n = 2**19
    flat = from_function(lambda t: float(t.sum()), n, grad=lambda t: np.ones(n))
    tr = run(flat, np.zeros(n), gd(1e-3), 40)
    assert tr.thetas.nbytes <= RECORD_BYTES and tr.steps[-1] == 40 and len(tr.steps) >= 2


def test_metrics_see_the_full_objective_and_update_sees_the_minibatch():
    seen = []

    def update(grad, state, theta, objective):
        seen.append(objective.n_samples)
        return -0.1 * grad, state

    spy = Optimizer(lambda theta: (), update, "spy", {})
    obj = MeanSquares(samples())
    metrics = {"norm": lambda o, th: np.linalg.norm(th), "n": lambda o, th: o.n_samples}
    tr = run(obj, np.ones(3), spy, 12, batch_size=4, rng=0, record_every=5, metrics=metrics)
    assert set(seen) == {4} and len(seen) == 12
    np.testing.assert_array_equal(tr.metrics["n"], 20.0)
    np.testing.assert_allclose(tr.metrics["norm"], np.linalg.norm(tr.thetas, axis=1))
    assert np.all(np.isnan(tr.lr))  # an optimizer without learning rate
    np.testing.assert_allclose(tr.loss, [obj.loss(t) for t in tr.thetas])


# ---------------------------------------------------------------------------------
# Minibatches
# ---------------------------------------------------------------------------------


@pytest.mark.parametrize("sampling", ["ordered", "shuffle"])
def test_full_size_batches_equal_full_batch_gd(sampling):
    X, y = xor(40, rng=0)
    model = MLP([2, 5, 1], activation="sigmoid", output="sigmoid", loss="cross_entropy")
    obj, theta0 = model.objective(X, y), model.init(rng=1)
    full = run(obj, theta0, gd(0.5), 50)
    mini = run(obj, theta0, gd(0.5), 50, batch_size=40, sampling=sampling, rng=2)
    np.testing.assert_allclose(mini.thetas, full.thetas, rtol=0, atol=1e-12)
    np.testing.assert_allclose(mini.batch_loss, full.batch_loss, rtol=0, atol=1e-12)


@pytest.mark.parametrize("sampling, batch", [("shuffle", 1), ("shuffle", 4), ("ordered", 5),
                                             ("replace", 3)])
def test_sgd_with_lr_one_over_t_is_the_running_mean(sampling, batch):
    """lr_t = 1/(t+1) makes theta_T the mean of the batch means of the T updates."""
    log, X = [], samples()
    tr = run(MeanSquares(X, log), np.zeros(3), gd(inverse_time(1.0, 1.0)), 10, batch_size=batch,
             sampling=sampling, rng=3)
    assert len(log) == 11 and all(len(b) == batch for b in log)  # the last one evaluates theta_T
    np.testing.assert_allclose(tr.final_theta, X[np.concatenate(log[:10])].mean(axis=0),
                               atol=1e-13)


def test_shuffled_epochs_visit_every_sample_once_and_ordered_in_order():
    for sampling in ("shuffle", "ordered"):
        log = []
        run(MeanSquares(samples(), log), np.zeros(3), gd(0.1), 15, batch_size=6,
            sampling=sampling, rng=4)
        epochs = [np.concatenate(log[i:i + 4]) for i in (0, 4, 8)]  # 6 + 6 + 6 + 2
        assert [len(b) for b in log[:4]] == [6, 6, 6, 2]
        for e in epochs:
            assert sorted(e.tolist()) == list(range(20))
        if sampling == "ordered":
            assert all(e.tolist() == list(range(20)) for e in epochs)
        else:
            assert epochs[0].tolist() != epochs[1].tolist()


def test_one_epoch_of_shuffled_sgd_with_lr_one_over_t_reaches_the_mean():
    X = samples()
    tr = run(MeanSquares(X), np.zeros(3), gd(inverse_time(1.0, 1.0)), 20, batch_size=1, rng=5)
    np.testing.assert_allclose(tr.final_theta, X.mean(axis=0), atol=1e-13)


def test_same_seed_same_run():
    obj = MeanSquares(samples())
    a = run(obj, np.ones(3), momentum(0.1), 30, batch_size=3, rng=6)
    b = run(obj, np.ones(3), momentum(0.1), 30, batch_size=3, rng=6)
    c = run(obj, np.ones(3), momentum(0.1), 30, batch_size=3, rng=7)
    np.testing.assert_array_equal(a.thetas, b.thetas)
    assert not np.array_equal(a.thetas, c.thetas)
    assert a.seed == 6 and a.batch_size == 3
    fresh = run(obj, np.ones(3), momentum(0.1), 30, batch_size=3)
    again = run(obj, np.ones(3), momentum(0.1), 30, batch_size=3, rng=fresh.seed)
    np.testing.assert_array_equal(fresh.thetas, again.thetas)


# ---------------------------------------------------------------------------------
# Stop rules and divergence
# ---------------------------------------------------------------------------------


def test_tolerances_stop_at_the_closed_form_step():
    f = diagonal([1.0])  # theta_t = 0.5**t under lr 0.5, loss 0.25**t / 2
    by_loss = run(f, [1.0], gd(0.5), 100, loss_tol=1e-8)
    by_grad = run(f, [1.0], gd(0.5), 100, grad_tol=1e-6)
    assert by_loss.status == by_grad.status == "converged"
    assert by_loss.n_steps == math.ceil(math.log(2e-8) / math.log(0.25))
    assert by_grad.n_steps == math.ceil(math.log(1e-6) / math.log(0.5))
    assert by_loss.steps[-1] == by_loss.n_steps == len(by_loss.batch_loss) - 1


def test_memory_grows_with_the_steps_taken_not_the_steps_allowed():
    """A run that stops at step 0 holds kilobytes whatever ``steps`` allows (it used to
    preallocate four float64 arrays of ``steps + 1``: 320 MB here)."""
    tracemalloc.start()
    try:
        tr = run(diagonal([1.0, 2.0]), [1e-3, 0.0], gd(0.1), 10**7, loss_tol=1e-3)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert (tr.status, tr.n_steps, len(tr.batch_loss)) == ("converged", 0, 1)
    assert peak < 1e6


def test_a_billion_allowed_steps_fit_in_a_small_address_space():
    """``steps=10**9`` used to raise MemoryError (32 GB preallocated); run in a child whose
    address space is capped at 4 GB, so a regression fails there instead of exhausting the
    machine."""
    code = ("import resource; resource.setrlimit(resource.RLIMIT_AS, (2**32, 2**32))\n"
            "from landscape import functions, gd, run\n"
            "tr = run(functions.quadratic([1.0]), [1e-3], gd(0.1), 10**9, loss_tol=1e-3)\n"
            "print(tr.status, tr.n_steps)\n")
    env = {**os.environ, "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["converged", "0"]


def test_per_step_records_past_the_first_block_are_the_closed_form():
    """Enough steps that the per-step arrays grow several times: still the closed form."""
    f = diagonal([1.0])  # theta_t = 0.999**t under lr 1e-3
    tr = run(f, [1.0], gd(1e-3), 5000, record_every=1000)
    t = np.arange(5001)
    np.testing.assert_allclose(tr.batch_loss, 0.5 * 0.999 ** (2 * t), rtol=1e-11, atol=0)
    np.testing.assert_allclose(tr.grad_norm, 0.999**t, rtol=1e-11, atol=0)
    assert np.all(tr.lr[:-1] == 1e-3) and np.isnan(tr.lr[-1])
    assert tr.wall_time.shape == (5001,) and np.all(tr.wall_time >= 0)


def exploding_step(lams, lr, theta0, limit):
    """The first t with ½ sum(lam (1 - lr lam)^(2t) theta0²) > limit, from the closed form."""
    t = 0
    while 0.5 * np.sum(lams * (1 - lr * lams) ** (2 * t) * theta0**2) <= limit:
        t += 1
    return t


def test_divergence_is_recorded_at_the_closed_form_step():
    lams, theta0 = np.array([1.0, 0.1]), np.array([1.0, 1.0])
    tr = run(diagonal(lams), theta0, gd(2.02), 2000, record_every=50)
    expected = exploding_step(lams, 2.02, theta0, 1e6 * max(0.55, 1.0))
    assert (tr.status, tr.diverged_at, tr.n_steps) == ("diverged", expected, expected)
    assert tr.final_loss > 1e6
    small = run(diagonal(lams), theta0, gd(2.02), 2000, diverge_factor=10.0)
    assert small.diverged_at == exploding_step(lams, 2.02, theta0, 10.0)
    with pytest.raises(Diverged) as err:
        run(diagonal(lams), theta0, gd(2.02), 2000, on_divergence="raise")
    assert err.value.trajectory.diverged_at == expected


def test_overflow_ends_the_run_cleanly():
    square = from_function(lambda t: float(t @ t), 1, grad=lambda t: 2 * t)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        tr = run(square, [1.0], gd(3.0), 1000, diverge_factor=None)  # theta_t = (-5)^t
    assert tr.status == "diverged"
    assert tr.diverged_at == math.ceil(math.log(np.finfo(float).max) / math.log(25))
    assert np.all(np.isfinite(tr.thetas))


def test_nan_loss_and_infinite_step_are_divergence():
    log = from_function(lambda t: float(np.log(t[0])), 1, grad=lambda t: 1 / t)
    tr = run(log, [1.0], gd(2.0), 10)  # theta_1 = -1, log(-1) = nan
    assert (tr.status, tr.diverged_at, tr.n_steps) == ("diverged", 1, 1)
    np.testing.assert_array_equal(tr.final_theta, [-1.0])
    steep = from_function(lambda t: float(1e10 * t[0]), 1, grad=lambda t: np.array([1e10]))
    tr = run(steep, [0.0], gd(1e300), 10)  # the first step is -inf
    assert (tr.status, tr.diverged_at, tr.n_steps) == ("diverged", 1, 0)


# ---------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------


@pytest.mark.parametrize("batch_size", [0, 21, 2.5, True])
def test_bad_batch_size(batch_size):
    with pytest.raises(ValueError, match="batch_size"):
        run(MeanSquares(samples()), np.zeros(3), gd(0.1), 5, batch_size=batch_size)


def test_minibatches_need_samples():
    with pytest.raises(ValueError, match="samples"):
        run(diagonal([1.0, 2.0]), [1.0, 1.0], gd(0.1), 5, batch_size=1)


@pytest.mark.parametrize("kwargs, name", [
    ({"steps": -1}, "steps"), ({"record_every": 0}, "record_every"),
    ({"max_records": 1}, "max_records"), ({"sampling": "bogus", "batch_size": 2}, "sampling"),
    ({"on_divergence": "ignore"}, "on_divergence"), ({"theta0": [1.0]}, "theta0"),
    ({"theta0": [np.nan, 1.0, 1.0]}, "theta0"), ({"loss_tol": np.nan}, "loss_tol"),
    ({"grad_tol": -1.0}, "grad_tol"), ({"diverge_factor": 0.0}, "diverge_factor"),
    ({"metrics": {"x": 3}}, "metrics"), ({"optimizer": gd(lambda t: -1.0)}, "schedule"),
])
def test_bad_run_arguments(kwargs, name):
    args = {"objective": MeanSquares(samples()), "theta0": np.zeros(3), "optimizer": gd(0.1),
            "steps": 5} | kwargs
    with pytest.raises(ValueError, match=name):
        run(**args)


def test_elapsed_time_is_the_running_sum_of_step_times():
    traj = run(F.rosenbrock(2), [-1.2, 1.0], gd(1e-3), 50, record_every=10)
    total = np.cumsum(traj.wall_time)
    np.testing.assert_allclose(traj.elapsed[1:], total[traj.steps[1:] - 1])
    assert traj.elapsed[0] == 0.0 and np.all(np.diff(traj.elapsed) > 0)
