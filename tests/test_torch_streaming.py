"""Streaming a DataLoader through the torch adapter, against the held mode (the same numbers
to 1e-12 in float64), a direct count of the batches alive at once, and the refusals of
data that would make the loss random."""

import weakref

import numpy as np
import pytest
import torch

from landscape.hessian import eigenpairs, hessian_operator
from landscape.torch import from_module

torch.set_num_threads(1)
nn = torch.nn


def _net(seed=0):
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(5, 7), nn.Tanh(), nn.Linear(7, 3))


def _data(n=50, seed=3):
    rng = np.random.default_rng(seed)
    return torch.as_tensor(rng.standard_normal((n, 5))), torch.as_tensor(rng.integers(0, 3, n))


def _loader(X, y, batch_size, **kwargs):
    return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y),
                                       batch_size=batch_size, **kwargs)


def _close(a, b, tol):
    a, b = np.asarray(a, float), np.asarray(b, float)
    assert np.linalg.norm(a - b) <= tol * max(np.linalg.norm(b), 1.0), (a, b)


def _top(objective, theta):
    spectrum = eigenpairs(hessian_operator(objective, theta), 1, "LA", rng=0, method="lanczos")
    assert spectrum.converged
    return spectrum.eigenvalues


def test_streamed_loss_grad_hvp_and_top_eigenvalue_equal_the_held_mode():
    """Batches of 16, 16, 16 and 2: the streamed means weigh them by size as the held do."""
    X, y = _data()
    held = from_module(_net(), nn.CrossEntropyLoss(), _loader(X, y, 16))
    streamed = from_module(_net(), nn.CrossEntropyLoss(), _loader(X, y, 16), stream=True)
    assert streamed.streamed and not held.streamed
    assert streamed.batch_sizes == held.batch_sizes == (16, 16, 16, 2)
    assert streamed.n_samples == 50
    rng = np.random.default_rng(4)
    theta = held.theta0 + 0.3 * rng.standard_normal(held.dim)
    v = rng.standard_normal(held.dim)
    _close(streamed.loss(theta), held.loss(theta), 1e-12)
    _close(streamed.grad(theta), held.grad(theta), 1e-12)
    _close(streamed.hvp(theta, v), held.hvp(theta, v), 1e-12)
    _close(_top(streamed, theta), _top(held, theta), 1e-12)
    points = theta + 0.2 * rng.standard_normal((4, held.dim))
    _close(streamed.losses(points), held.losses(points), 1e-12)
    # and the held mode's own independent answer: one full batch
    _close(held.loss(theta), from_module(_net(), nn.CrossEntropyLoss(), (X, y)).loss(theta),
           1e-13)
    idx = rng.integers(0, 50, 19)
    _close(streamed.subset(idx).grad(theta), held.subset(idx).grad(theta), 1e-13)
    assert "streamed, 4 batches" in repr(streamed)


class _Tracked(torch.utils.data.Dataset):
    """Samples made on demand; every batch the collate function builds is counted while
    it is alive (a weak reference's finalizer counts it out)."""

    def __init__(self, n, seed=0):
        g = torch.Generator().manual_seed(seed)
        self.X = torch.randn(n, 5, generator=g, dtype=torch.float64)
        self.y = torch.randint(0, 3, (n,), generator=g)
        self.alive = self.peak = self.loaded = 0

    def __len__(self):
        return len(self.X)

    def __getitem__(self, i):
        self.loaded += 1
        return self.X[i], self.y[i]

    def collate(self, samples):
        x = torch.stack([s[0] for s in samples])
        self.alive += 1
        self.peak = max(self.peak, self.alive)
        weakref.finalize(x, self._gone)
        return x, torch.stack([s[1] for s in samples])

    def _gone(self):
        self.alive -= 1


@pytest.mark.parametrize("n_batches", [5, 40])
def test_streaming_holds_a_batch_or_two_whatever_the_number_of_batches(n_batches):
    data = _Tracked(4 * n_batches)
    loader = torch.utils.data.DataLoader(data, batch_size=4, collate_fn=data.collate)
    held = from_module(_net(), nn.CrossEntropyLoss(), loader)
    assert data.alive == n_batches  # held: every batch, for the objective's life
    del held
    data.peak = 0
    streamed = from_module(_net(), nn.CrossEntropyLoss(), loader, stream=True)
    theta = streamed.theta0
    streamed.hvp(theta, np.ones(streamed.dim))
    streamed.losses(np.stack([theta, theta + 0.1]))
    assert data.peak <= 3 and data.alive == 0


def test_a_fixed_subset_of_batches_is_the_mean_over_their_samples():
    X, y = _data(n=70)
    loader = _loader(X, y, 10)  # 7 batches
    expected_rows = {3: [0, 3, 6], 1: [0]}
    for k, kept in expected_rows.items():
        rows = torch.cat([torch.arange(10 * b, 10 * b + 10) for b in kept])
        alone = from_module(_net(), nn.CrossEntropyLoss(), (X[rows], y[rows]))
        for stream in (False, True):
            sub = from_module(_net(), nn.CrossEntropyLoss(), loader, batches=k, stream=stream)
            assert sub.n_samples == 10 * len(kept)
            theta = alone.theta0 + 0.1
            _close(sub.loss(theta), alone.loss(theta), 1e-13)
            _close(sub.grad(theta), alone.grad(theta), 1e-13)
    picked = from_module(_net(), nn.CrossEntropyLoss(), loader, batches=[5, 2], stream=True)
    rows = torch.cat([torch.arange(20, 30), torch.arange(50, 60)])
    alone = from_module(_net(), nn.CrossEntropyLoss(), (X[rows], y[rows]))
    _close(picked.loss(alone.theta0), alone.loss(alone.theta0), 1e-13)


def test_streaming_a_subset_loads_only_its_batches():
    data = _Tracked(40)
    loader = torch.utils.data.DataLoader(data, batch_size=4, collate_fn=data.collate)
    objective = from_module(_net(), nn.CrossEntropyLoss(), loader, batches=2, stream=True)
    data.loaded = 0
    objective.loss(objective.theta0)
    assert data.loaded == 8  # batches 0 and 9, four samples each


def test_an_iterable_dataset_streams():
    X, y = _data(n=30)

    class Chunks(torch.utils.data.IterableDataset):
        def __iter__(self):
            return iter([(X[i:i + 8], y[i:i + 8]) for i in range(0, 30, 8)])

    loader = torch.utils.data.DataLoader(Chunks(), batch_size=None)
    streamed = from_module(_net(), nn.CrossEntropyLoss(), loader, stream=True, batches=[0, 3])
    rows = torch.cat([torch.arange(0, 8), torch.arange(24, 30)])
    alone = from_module(_net(), nn.CrossEntropyLoss(), (X[rows], y[rows]))
    _close(streamed.grad(alone.theta0), alone.grad(alone.theta0), 1e-13)


class _Noisy(torch.utils.data.Dataset):
    """Random augmentation: fresh noise on every read."""

    def __init__(self, X, y):
        self.X, self.y = X, y

    def __len__(self):
        return len(self.X)

    def __getitem__(self, i):
        return self.X[i] + 0.01 * torch.randn(self.X.shape[1], dtype=self.X.dtype), self.y[i]


def _stream(data, **kwargs):
    return from_module(_net(), nn.CrossEntropyLoss(), data, stream=True, **kwargs)


X50, Y50 = _data()
BAD = {
    "RandomSampler": dict(data=_loader(X50, Y50, 10, shuffle=True)),
    "WeightedRandomSampler": dict(data=_loader(
        X50, Y50, 10, sampler=torch.utils.data.WeightedRandomSampler([1.0] * 50, 50))),
    "random augmentation": dict(data=torch.utils.data.DataLoader(_Noisy(X50, Y50),
                                                                  batch_size=10)),
    "read again .* an iterator": dict(data=iter([(X50, Y50)])),
    "read again .* one batch": dict(data=(X50, Y50)),
    "batches must be between 1 and the number of batches \\(5\\)": dict(
        data=_loader(X50, Y50, 10), batches=6),
    "distinct indices in \\[0, 5\\)": dict(data=_loader(X50, Y50, 10), batches=[1, 1]),
    "batches must be None, an int": dict(data=_loader(X50, Y50, 10), batches=[0.5]),
}


@pytest.mark.parametrize("message", BAD)
def test_data_that_would_make_the_streamed_loss_random_is_refused(message):
    with pytest.raises(ValueError, match=message):
        _stream(**BAD[message])


def test_data_that_change_between_passes_are_an_error_not_another_loss():
    X, y = X50.clone(), Y50.clone()
    objective = _stream(_loader(X, y, 10))
    objective.loss(objective.theta0)
    X[23] += 1.0  # the dataset changes under the objective
    with pytest.raises(RuntimeError, match="another batch 2"):
        objective.loss(objective.theta0)
