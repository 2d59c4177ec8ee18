"""Batch-norm statistics recomputed along paths, against PyTorch's own
``torch.optim.swa_utils.update_bn`` on each end network, a closed form for one layer, and
the serial plane."""

import concurrent.futures as cf
import copy
import multiprocessing

import numpy as np
import pytest
import torch

import landscape as ls
from landscape.cache import fingerprint
from landscape.torch import from_module, recompute_batch_norm

torch.set_num_threads(1)
nn = torch.nn


def _data(n=48, seed=0):
    g = torch.Generator().manual_seed(seed)
    X = 2.0 + torch.randn(n, 4, generator=g, dtype=torch.float64)
    return X, (X[:, 0] * X[:, 1] > 4.0).long() + (X[:, 2] > 2.0).long()


def _loader(X, y, batch_size=16):
    return torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y),
                                       batch_size=batch_size)


def _trained(seed, X, y):
    """A 4-8-8-3 network with two batch-norm layers, trained 40 steps in train mode."""
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8), nn.Tanh(), nn.Linear(8, 8),
                        nn.BatchNorm1d(8), nn.Tanh(), nn.Linear(8, 3)).double()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.3)
    for _ in range(40):
        for xb, yb in _loader(X, y):
            optimizer.zero_grad()
            nn.functional.cross_entropy(net(xb), yb).backward()
            optimizer.step()
    return net


def _own_statistics_loss(net, X, y):
    """PyTorch's update_bn on a copy of ``net`` over the loader, then an eval-mode loss."""
    twin = copy.deepcopy(net)
    torch.optim.swa_utils.update_bn(_loader(X, y), twin)
    with torch.no_grad():
        return float(nn.functional.cross_entropy(twin.eval()(X), y))


def test_path_ends_with_recomputed_statistics_are_each_networks_own():
    X, y = _data()
    net_a, net_b = _trained(1, X, y), _trained(2, X, y)
    objective = from_module(net_a, nn.CrossEntropyLoss(), _loader(X, y))
    recomputed = recompute_batch_norm(objective)
    theta_a = objective.theta0
    theta_b = torch.nn.utils.parameters_to_vector(net_b.parameters()).detach().numpy()
    path = ls.curve(recomputed, theta_a, theta_b, resolution=5)
    expected = [_own_statistics_loss(net, X, y) for net in (net_a, net_b)]
    np.testing.assert_allclose(path.values[[0, -1]], expected, rtol=1e-12)
    line = ls.line(recomputed, theta_a, theta_b - theta_a, span=(0.0, 1.0), resolution=3)
    np.testing.assert_allclose(line.values[[0, -1]], expected, rtol=1e-12)
    # frozen statistics (net_a's) at net_b's parameters: another, worse network
    assert objective.loss(theta_b) > expected[1] + 0.1
    assert "batch_norm='recomputed'" in repr(recomputed)
    assert fingerprint(recomputed) != fingerprint(objective)


def test_one_layer_statistics_are_the_size_weighted_batch_moments():
    """Batches of 16, 16, 16 and 2: mean sum_b n_b m_b / N (the data mean) and variance
    sum_b n_b v_b / N of the unbiased batch variances; the dropout before it stays off."""
    X, y = _data(n=50, seed=3)
    torch.manual_seed(3)
    net = nn.Sequential(nn.Dropout(0.5), nn.BatchNorm1d(4), nn.Linear(4, 3)).double()
    recomputed = recompute_batch_norm(from_module(net, nn.CrossEntropyLoss(), _loader(X, y)))
    rng = np.random.default_rng(4)
    theta = rng.standard_normal(recomputed.dim)
    gamma, beta, W, b = theta[:4], theta[4:8], theta[8:20].reshape(3, 4), theta[20:]
    x = X.numpy()
    batches = [x[i:i + 16] for i in range(0, 50, 16)]
    mean = sum(len(xb) * xb.mean(axis=0) for xb in batches) / 50
    var = sum(len(xb) * xb.var(axis=0, ddof=1) for xb in batches) / 50
    logits = ((x - mean) / np.sqrt(var + 1e-5) * gamma + beta) @ W.T + b
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_p = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    expected = -log_p[np.arange(50), y.numpy()].mean()
    assert recomputed.loss(theta) == pytest.approx(expected, rel=1e-13)
    assert recomputed.loss(theta) == recomputed.loss(theta.copy())  # deterministic


def test_a_recomputed_plane_on_an_executor_equals_the_serial_one():
    """Two worker processes, torch on one thread in each as here: the same bits. (PyTorch's
    batch-norm kernel sums in an order that depends on its thread count, so the statistics
    agree only to rounding between different counts.)"""
    X, y = _data()
    net = _trained(1, X, y)
    recomputed = recompute_batch_norm(from_module(net, nn.CrossEntropyLoss(), _loader(X, y)),
                                      _loader(X[:32], y[:32]))
    directions = ls.filter_normalized_directions(recomputed, recomputed.theta0, rng=0)
    serial = ls.plane(recomputed, recomputed.theta0, directions, resolution=(4, 3))
    spawn = multiprocessing.get_context("spawn")
    with cf.ProcessPoolExecutor(2, mp_context=spawn, initializer=torch.set_num_threads,
                                initargs=(1,)) as pool:
        pooled = ls.plane(recomputed, recomputed.theta0, directions, resolution=(4, 3),
                          execution=ls.Execution(executor=pool))
    np.testing.assert_array_equal(pooled.values, serial.values)
    assert np.all(np.isfinite(serial.values))


def test_recomputation_is_refused_where_it_cannot_apply():
    X, y = _data()
    plain = from_module(nn.Linear(4, 3).double(), nn.CrossEntropyLoss(), (X, y))
    with pytest.raises(ValueError, match=r"module \(Linear\) has no batch normalization"):
        recompute_batch_norm(plain)
    with pytest.raises(ValueError, match="objective must be a torch objective"):
        recompute_batch_norm(ls.functions.himmelblau())
    recomputed = recompute_batch_norm(from_module(_trained(1, X, y), nn.CrossEntropyLoss(),
                                                  (X, y)))
    with pytest.raises(ValueError, match="gives losses only"):
        recomputed.grad(recomputed.theta0)
    with pytest.raises(ValueError, match="gives losses only"):
        recomputed.hvp(recomputed.theta0, np.ones(recomputed.dim))
