"""An MLP objective split into blocks of samples: every quantity equals the one-block
objective's, and every thread count gives the same bits."""

import concurrent.futures as cf
import itertools
import pickle
import threading

import numpy as np
import pytest
from threadpoolctl import threadpool_limits

from landscape import MLP, mlp_block
from landscape.mlp_block import block_bounds
from landscape.parallel import blas_threads, map_on_blas_threads

HEADS = [("softmax", "cross_entropy"), ("linear", "mse"), ("sigmoid", "cross_entropy"),
         ("softmax", "mae")]


def _objective(model, X, y, monkeypatch, numbers):
    with monkeypatch.context() as patch:
        patch.setattr(mlp_block, "BLOCK_NUMBERS", numbers)
        return model.objective(X, y)


def _problem(activation, output, loss, rng):
    model = MLP([3, 5, 4, 3], activation=activation, output=output, loss=loss,
                weight_decay=1e-2, bias=[True, False, True])
    X = rng.standard_normal((23, 3))
    y = (rng.integers(0, 3, 23) if output == "softmax" else
         rng.integers(0, 2, (23, 3)).astype(float) if loss == "cross_entropy" else
         rng.standard_normal((23, 3)))
    return model, X, y


@pytest.mark.parametrize("activation,head", itertools.product(["tanh", "relu", "softplus"],
                                                              HEADS))
def test_blocks_give_the_one_block_answers(activation, head, monkeypatch):
    rng = np.random.default_rng(0)
    model, X, y = _problem(activation, *head, rng)
    whole = _objective(model, X, y, monkeypatch, 10**9)
    split = _objective(model, X, y, monkeypatch, 12)  # 23 x 5 numbers: 8 blocks
    assert len(whole._samples) == 1 and len(split._samples) == 8
    theta, v = model.init(rng, gain=1.3), rng.standard_normal(model.n_params)
    U = rng.standard_normal((23, 3))
    scale = np.abs(whole.grad(theta)).max()
    pairs = [(whole.loss(theta), split.loss(theta)),
             (whole.grad(theta), split.grad(theta)),
             (whole.hvp(theta, v), split.hvp(theta, v)),
             (whole.logits(theta), split.logits(theta)),
             (whole.output_jvp(theta, v), split.output_jvp(theta, v)),
             (whole.output_vjp(theta, U), split.output_vjp(theta, U)),
             (whole.per_sample_grads(theta), split.per_sample_grads(theta)),
             (whole.per_sample_vjp_squares(theta, U), split.per_sample_vjp_squares(theta, U))]
    for a, b in pairs:
        np.testing.assert_allclose(b, a, rtol=1e-13, atol=1e-14 * max(scale, 1.0))
    # the per-sample gradients average to the gradient without weight decay
    decay = split.grad(theta) - split.per_sample_grads(theta).mean(axis=0)
    for block in model.blocks:
        np.testing.assert_allclose(decay[block.weight], 1e-2 * theta[block.weight],
                                   rtol=1e-9, atol=1e-15)
        if block.bias is not None:
            np.testing.assert_allclose(decay[block.bias], 0.0, atol=1e-15)


def test_a_new_point_after_another_recomputes_every_block(monkeypatch):
    rng = np.random.default_rng(1)
    model, X, y = _problem("tanh", "softmax", "cross_entropy", rng)
    split = _objective(model, X, y, monkeypatch, 12)
    a, b = model.init(rng), model.init(rng)
    first = split.grad(a)
    whole = _objective(model, X, y, monkeypatch, 10**9)
    np.testing.assert_allclose(split.grad(b), whole.grad(b), rtol=1e-13, atol=1e-15)
    assert np.array_equal(split.grad(a), first)
    np.testing.assert_allclose(split.loss(b), whole.loss(b), rtol=1e-14)


def test_every_thread_count_gives_the_same_bits(monkeypatch):
    rng = np.random.default_rng(2)
    model, X, y = _problem("tanh", "softmax", "cross_entropy", rng)
    split = _objective(model, X, y, monkeypatch, 12)
    theta, v = model.init(rng), rng.standard_normal(model.n_params)
    names = set()
    with threadpool_limits(1):
        assert blas_threads() == 1
        one = (split.grad(theta), split.hvp(theta, v), split.loss(theta))
    split = _objective(model, X, y, monkeypatch, 12)  # nothing kept from the first pass
    with threadpool_limits(2):
        assert blas_threads() == 2
        two = (split.grad(theta), split.hvp(theta, v), split.loss(theta))
        meet = threading.Barrier(2, timeout=10)  # passed only by two threads at once

        def side_by_side(_):
            names.add(threading.current_thread().name)
            meet.wait()
            return blas_threads()

        assert map_on_blas_threads(side_by_side, [0, 1]) == [1, 1]
    assert all(np.array_equal(a, b) for a, b in zip(one, two))
    assert names == {threading.current_thread().name, "landscape-side-by-side"}


# rows x width in blocks of at most 65,536 numbers, at most 8 blocks, never empty ones:
# digits 1797 x 64 = 115,008 -> 2; MNIST-sized 512 x 256 = 131,072 -> exactly 2.
@pytest.mark.parametrize("n,width,count", [(1, 10**6, 1), (7, 3, 1), (1797, 64, 2),
                                           (512, 256, 2), (513, 256, 3), (60000, 784, 8),
                                           (10**5, 1, 2)])
def test_block_bounds_cover_the_rows_in_order(n, width, count):
    bounds = block_bounds(n, width)
    assert bounds[0][0] == 0 and bounds[-1][1] == n
    assert all(b0[1] == b1[0] for b0, b1 in zip(bounds, bounds[1:]))
    sizes = [b - a for a, b in bounds]
    assert min(sizes) >= 1 and max(sizes) - min(sizes) <= 1
    assert len(bounds) == count


@pytest.mark.parametrize("activation,head", [("tanh", ("softmax", "cross_entropy")),
                                             ("relu", ("softmax", "cross_entropy")),
                                             ("tanh", ("sigmoid", "cross_entropy")),
                                             ("softplus", ("linear", "mse"))])
def test_span_losses_in_blocks_and_chunks_equal_the_loop_of_loss(activation, head, monkeypatch):
    from landscape import mlp_points
    monkeypatch.setattr(mlp_points, "SPAN_BLOCK", 5)  # 23 rows: blocks of 5 or 6
    monkeypatch.setattr(mlp_points, "CHUNK_BYTES", 3 * 6 * 5 * 8)  # blocks of 6, chunks of 1
    rng = np.random.default_rng(3)
    model, X, y = _problem(activation, *head, rng)
    objective = model.objective(X, y)
    assert len(objective._batched._span_bounds()) == 4
    theta = model.init(rng)
    for d in (1, 2, 3):  # a new span each time: nothing kept from the last one is reused
        D = 0.3 * rng.standard_normal((d, model.n_params))
        C = rng.standard_normal((13, d))
        loop = np.array([objective.loss(theta + c @ D) for c in C])
        for threads in (1, 2):
            with threadpool_limits(threads):
                got = objective.losses_in_span(theta, D, C)
            np.testing.assert_allclose(got, loop, rtol=1e-12)
            if threads == 1:
                first = got
        assert np.array_equal(got, first)  # two threads, the bits of one


def _wide_problem(dtype="float64"):
    """5,000 samples: the span's first layer in blocks of samples."""
    rng = np.random.default_rng(0)
    model = MLP([4, 8, 8, 8, 3], activation="tanh", output="softmax", loss="cross_entropy",
                bias=[True, False, True, True],
                dtype=dtype)
    return model, model.objective(rng.standard_normal((5000, 4)), rng.integers(0, 3, 5000))


def test_the_kept_first_layer_follows_the_center_and_directions():
    model, objective = _wide_problem()
    rng = np.random.default_rng(1)
    center, D = model.init(rng), rng.standard_normal((2, model.n_params))
    coords = rng.standard_normal((5, 2))
    first = objective.losses_in_span(center, D, coords)
    for c, d in ((center + 1e-3, D), (center, D[::-1]), (center, D[:1])):
        got = objective.losses_in_span(c, d, coords[:, :len(d)])
        loop = np.array([objective.loss(c + x @ d) for x in coords[:, :len(d)]])
        np.testing.assert_allclose(got, loop, rtol=1e-13)
    np.testing.assert_array_equal(objective.losses_in_span(center, D, coords), first)
    copy = pickle.loads(pickle.dumps(objective))  # kept products and arrays stay home
    assert len(pickle.dumps(objective)) < 1.2 * len(pickle.dumps((objective.X, objective.Y)))
    np.testing.assert_array_equal(copy.losses_in_span(center, D, coords), first)


def test_a_thread_pool_sharing_one_objective_gets_the_serial_numbers():
    model, objective = _wide_problem("float32")
    rng = np.random.default_rng(2)
    center = model.init(rng)
    D = rng.standard_normal((2, model.n_params)).astype("float32")
    grids = [rng.standard_normal((50, 2)) for _ in range(8)]
    serial = [objective.losses_in_span(center, D, g) for g in grids]
    with cf.ThreadPoolExecutor(4) as pool:
        threaded = list(pool.map(lambda g: objective.losses_in_span(center, D, g), grids))
    for a, b in zip(serial, threaded):
        np.testing.assert_array_equal(a, b)


def test_losses_of_many_points_in_chunks_on_two_threads_have_one_threads_bits(monkeypatch):
    from landscape import mlp_points
    monkeypatch.setattr(mlp_points, "CHUNK_BYTES", 3 * 23 * 5 * 8 * 3)  # 3 points a chunk
    rng = np.random.default_rng(4)
    model, X, y = _problem("tanh", "softmax", "cross_entropy", rng)
    objective = model.objective(X, y)
    thetas = np.stack([model.init(rng) for _ in range(10)])
    loop = np.array([objective.loss(t) for t in thetas])
    with threadpool_limits(1):
        one = objective.losses(thetas)
    with threadpool_limits(2):
        two = objective.losses(thetas)
    np.testing.assert_allclose(one, loop, rtol=1e-13)
    assert np.array_equal(one, two)
    assert objective.losses(thetas[:0]).shape == (0,)
