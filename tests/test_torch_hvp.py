"""The PyTorch adapter's HVP with the gradient's graph kept per point, against a double
backward from scratch written here, the NumPy MLP on the same weights, and a count of
the module's forward passes."""

import concurrent.futures as cf
import ctypes
import pickle
import threading

import numpy as np
import pytest
import torch

import landscape as ls
from landscape import MLP
from landscape.torch import from_module

torch.set_num_threads(1)
nn = torch.nn
FORWARDS = []  # one entry per forward pass of a Counted module (its copies included)


class Counted(nn.Module):
    """A tanh network (5-7-6-3 unless told) that counts its forward passes."""

    def __init__(self, sizes=(5, 7, 6, 3)):
        super().__init__()
        layers = [m for a, b in zip(sizes[:-1], sizes[1:]) for m in (nn.Linear(a, b), nn.Tanh())]
        self.net = nn.Sequential(*layers[:-1])

    def forward(self, x):
        FORWARDS.append(1)
        return self.net(x)


@pytest.fixture(scope="module")
def problem():
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((50, 5)), rng.integers(0, 3, 50)
    torch.manual_seed(0)
    net = Counted().double()
    model = MLP([5, 7, 6, 3], activation="tanh", output="softmax", loss="cross_entropy")
    thetas = model.init(rng, gain=1.5) + 0.1 * rng.standard_normal((2, model.n_params))
    return net, X, y, model.objective(X, y), thetas, rng.standard_normal((2, model.n_params))


def _loader(X, y, batch_size):
    data = torch.utils.data.TensorDataset(torch.as_tensor(X), torch.as_tensor(y))
    return torch.utils.data.DataLoader(data, batch_size=batch_size)


def scratch(net, X, y, theta, v, loss_fn=nn.functional.cross_entropy):
    """The mean-loss HVP by a double backward through the full batch, from scratch (through
    the inner network: these forward passes are not counted)."""
    flat = torch.tensor(theta, requires_grad=True)
    sizes = [p.numel() for p in net.parameters()]
    params = {name.removeprefix("net."): piece.reshape(p.shape) for (name, p), piece
              in zip(net.named_parameters(), flat.split(sizes))}
    out = torch.func.functional_call(net.net, params, (torch.as_tensor(X),))
    loss = loss_fn(out, torch.as_tensor(y))
    (g,) = torch.autograd.grad(loss, flat, create_graph=True)
    return torch.autograd.grad(g, flat, torch.as_tensor(v))[0].numpy()


def _relative(a, b):
    return np.linalg.norm(a - b) / np.linalg.norm(b)


@pytest.mark.parametrize("batch_size", [50, 16])
def test_products_at_a_kept_point_equal_double_backward_and_the_engine(problem, batch_size):
    net, X, y, engine, thetas, vs = problem
    obj = from_module(net, nn.CrossEntropyLoss(), _loader(X, y, batch_size))
    n_batches = len(obj.batch_sizes)
    for theta in thetas:  # a new point, then products at it
        FORWARDS.clear()
        for v in (vs[0], vs[1], vs[0]):
            hv = obj.hvp(theta, v)
            assert _relative(hv, scratch(net, X, y, theta, v)) < 1e-12
            assert _relative(hv, engine.hvp(theta, v)) < 1e-10
        assert len(FORWARDS) == n_batches  # the first product's forward passes only
    np.testing.assert_array_equal(obj.hvp(thetas[1], vs[0]), hv)  # same bits when kept


def test_past_the_memory_budget_products_are_recomputed(problem):
    net, X, y, engine, thetas, vs = problem
    obj = from_module(net, nn.CrossEntropyLoss(), _loader(X, y, 16))
    kept = [obj.hvp(thetas[0], v) for v in vs]
    fresh = from_module(net, nn.CrossEntropyLoss(), _loader(X, y, 16))
    FORWARDS.clear()
    with ls.execution(memory_budget=1):
        recomputed = [fresh.hvp(thetas[0], v) for v in vs]
    assert len(FORWARDS) == 2 * 4  # every product, every batch
    for a, b in zip(kept, recomputed):
        np.testing.assert_array_equal(a, b)


def test_streamed_products_keep_nothing_and_agree(problem):
    net, X, y, engine, thetas, vs = problem
    obj = from_module(net, nn.CrossEntropyLoss(), _loader(X, y, 16), stream=True)
    FORWARDS.clear()
    for v in vs:
        assert _relative(obj.hvp(thetas[0], v), scratch(net, X, y, thetas[0], v)) < 1e-12
    assert len(FORWARDS) == 2 * 4


def test_kept_graphs_survive_threads_and_pickling(problem):
    net, X, y, engine, thetas, vs = problem
    obj = from_module(net, nn.CrossEntropyLoss(), _loader(X, y, 16))
    jobs = [(t, v) for t in thetas for v in vs] * 3
    with cf.ThreadPoolExecutor(2) as pool:
        got = list(pool.map(lambda job: obj.hvp(*job), jobs))
    for (theta, v), hv in zip(jobs, got):
        assert _relative(hv, scratch(net, X, y, theta, v)) < 1e-12
    copy = pickle.loads(pickle.dumps(obj))  # the graphs stay behind
    np.testing.assert_array_equal(copy.hvp(thetas[0], vs[0]), obj.hvp(thetas[0], vs[0]))


def test_top_eigenvalue_through_kept_products_matches_dense(problem):
    net, X, y, engine, thetas, vs = problem
    obj = from_module(net, nn.CrossEntropyLoss(), (X, y))
    exact = np.linalg.eigvalsh(engine.hessian(thetas[0]))[-1]
    FORWARDS.clear()
    top = ls.eigenpairs(ls.hessian_operator(obj, thetas[0]), 1, "LA", rng=0, method="lanczos",
                        tol=1e-10)
    assert top.converged and abs(top.eigenvalues[0] - exact) < 1e-10 * abs(exact)
    assert len(FORWARDS) == 1  # one forward pass for all of Lanczos' products


@pytest.fixture
def two_threads():
    """PyTorch on two threads for the test (the products then run side by side)."""
    torch.set_num_threads(2)
    yield
    torch.set_num_threads(1)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("stream", [False, True])
def test_hvps_are_the_products_column_by_column_bit_for_bit(problem, threads, stream):
    net, X, y, engine, thetas, vs = problem
    torch.set_num_threads(threads)
    try:
        obj = from_module(net, nn.CrossEntropyLoss(), _loader(X, y, 16), stream=stream)
        V = np.random.default_rng(1).standard_normal((5, obj.dim))
        together = obj.hvps(thetas[0], V)
        for v, hv in zip(V, together):
            np.testing.assert_array_equal(hv, obj.hvp(thetas[0], v))
        torch.set_num_threads(1)
        np.testing.assert_array_equal(obj.hvps(thetas[0], V), together)  # whatever the threads
        assert _relative(together[0], scratch(net, X, y, thetas[0], V[0])) < 1e-12
    finally:
        torch.set_num_threads(1)


def test_batches_in_parts_agree_with_the_whole_batches(problem, monkeypatch):
    net, X, y, engine, thetas, vs = problem
    monkeypatch.setattr(ls.torch.hvp, "PART_WORK", 1)  # every batch in 8 parts (2 rows: 2)
    monkeypatch.setattr(ls.torch.hvp, "PART_ROWS", 1)
    found = {}
    for threads in (1, 2):
        torch.set_num_threads(threads)
        try:
            obj = from_module(net, nn.CrossEntropyLoss(), _loader(X, y, 16))
            FORWARDS.clear()
            found[threads] = [obj.hvp(thetas[0], v) for v in vs]
            assert torch.get_num_threads() == threads  # ran on one between the pool's tasks
        finally:
            torch.set_num_threads(1)
        # each batch's loss against its parts', once; then each part's graph, built once
        assert len(FORWARDS) == 3 * (1 + 8) + (1 + 2) + 3 * 8 + 2
    for v, hv, at_two in zip(vs, found[1], found[2]):
        assert _relative(hv, scratch(net, X, y, thetas[0], v)) < 1e-12
        np.testing.assert_array_equal(at_two, hv)


@pytest.fixture(scope="module")
def digits_sized():
    """1797 samples of 64 features, a 64-64-64-10 tanh network (float64), three vectors."""
    rng = np.random.default_rng(5)
    X, y = rng.standard_normal((1797, 64)), rng.integers(0, 10, 1797)
    torch.manual_seed(5)
    net = Counted((64, 64, 64, 10)).double()
    theta = nn.utils.parameters_to_vector(net.parameters()).detach().numpy()
    return net, X, y, theta, rng.standard_normal((3, theta.size))


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_products_have_the_same_bits_at_one_and_two_threads(digits_sized, dtype):
    net, X, y, theta, V = digits_sized
    assert len(ls.torch.hvp.part_bounds(len(X), len(theta))) > 1  # cut by its shapes
    found = {}
    for threads in (1, 2):
        torch.set_num_threads(threads)
        try:
            obj = from_module(net, nn.CrossEntropyLoss(), (X, y), dtype=dtype)
            op = ls.hessian_operator(obj, theta)
            # one vector: its parts side by side; two or three: the vectors side by side
            found[threads] = [obj.hvp(theta, V[0]), obj.hvps(theta, V), op.matmat(V[:2].T).T]
        finally:
            torch.set_num_threads(1)
    for at_one, at_two in zip(found[1], found[2]):
        np.testing.assert_array_equal(at_two, at_one)
    np.testing.assert_array_equal(found[2][1][0], found[2][0])  # hvps' rows are hvp's
    np.testing.assert_array_equal(found[2][2], found[2][1][:2])
    if dtype == torch.float64:  # the uncut batch's product, up to the parts' rounding
        assert _relative(found[1][0], scratch(net, X, y, theta, V[0])) < 1e-13


def test_a_loss_that_couples_the_samples_stays_whole(digits_sized, two_threads):
    net, X, y, theta, V = digits_sized
    weighted = nn.CrossEntropyLoss(weight=torch.linspace(0.5, 2.0, 10, dtype=torch.float64))
    obj = from_module(net, weighted, (X, y))
    FORWARDS.clear()
    hv = obj.hvp(theta, V[0])
    n_parts = len(ls.torch.hvp.part_bounds(len(X), len(theta)))
    assert len(FORWARDS) == 1 + n_parts + 1  # the batch against its parts, one whole graph
    torch.set_num_threads(1)
    np.testing.assert_array_equal(from_module(net, weighted, (X, y)).hvp(theta, V[0]), hv)
    assert _relative(hv, scratch(net, X, y, theta, V[0], weighted)) < 1e-13


def test_trace_through_hvps_is_the_loop_over_probes(problem, two_threads):
    net, X, y, engine, thetas, vs = problem
    obj = from_module(net, nn.CrossEntropyLoss(), (X, y))
    found = ls.hutchinson_trace(ls.hessian_operator(obj, thetas[0]), 30, rng=3)
    z = np.random.default_rng(3).choice([-1.0, 1.0], size=(30, obj.dim))
    samples = np.array([v @ obj.hvp(thetas[0], v) for v in z])
    assert found.n_hvp == 30 and found.trace == samples.mean()
    assert found.stderr == samples.std(ddof=1) / np.sqrt(30)


def test_the_thread_pool_leaves_the_thread_count_and_raises_errors(two_threads):
    from landscape.torch.threads import side_by_side

    def fail():
        raise RuntimeError("inside a worker")

    assert side_by_side([torch.get_num_threads] * 2) == [1, 1]  # workers on one thread each
    seen = []
    thread = threading.Thread(target=lambda: seen.append(torch.get_num_threads()))
    thread.start()
    thread.join()
    assert seen == [2] and torch.get_num_threads() == 2  # new threads start as before
    with pytest.raises(RuntimeError, match="inside a worker"):
        side_by_side([torch.get_num_threads, fail])


def test_a_loss_that_is_not_a_mean_over_samples_is_never_cut(problem, two_threads, monkeypatch):
    net, X, y, engine, thetas, vs = problem
    monkeypatch.setattr(ls.torch.hvp, "PART_WORK", 1)
    monkeypatch.setattr(ls.torch.hvp, "PART_ROWS", 1)
    weighted = nn.CrossEntropyLoss(weight=torch.tensor([1.0, 3.0, 0.5], dtype=torch.float64))
    obj = from_module(net, weighted, (X, y))  # one batch: exact, as long as it stays whole
    hv = obj.hvp(thetas[0], vs[0])
    together = obj.hvps(thetas[0], vs)  # whole products side by side on the two threads
    torch.set_num_threads(1)
    np.testing.assert_array_equal(obj.hvp(thetas[0], vs[0]), hv)
    np.testing.assert_array_equal(obj.hvps(thetas[0], vs), together)
    assert _relative(hv, scratch(net, X, y, thetas[0], vs[0], weighted)) < 1e-12



def test_products_do_not_fault_in_fresh_pages():
    """glibc keeps the blocks a product frees for the next (:func:`keep_freed_memory`)."""
    resource = pytest.importorskip("resource")
    if not hasattr(ctypes.CDLL(None), "gnu_get_libc_version"):
        pytest.skip("glibc only")
    rng = np.random.default_rng(0)
    X, y = rng.standard_normal((1797, 64)), rng.integers(0, 10, 1797)
    net = nn.Sequential(nn.Linear(64, 64), nn.Tanh(), nn.Linear(64, 64), nn.Tanh(),
                        nn.Linear(64, 10)).double()
    obj = from_module(net, nn.CrossEntropyLoss(), (X, y))
    v = rng.standard_normal(obj.dim)
    faults = []
    for _ in range(16):  # the graph, the heap growing to its high-water mark, then steady
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        obj.hvp(obj.theta0, v)
        faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
    assert np.median(faults[6:]) < 50, faults  # 300-1,000 per product without
