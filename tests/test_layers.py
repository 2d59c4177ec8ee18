"""Layer-by-layer measurements against independent answers: torch autograd for the gradient
norms, loops over the filters, kinks counted by hand from the weights, Telgarsky's sawtooth."""

import numpy as np
import pytest

from landscape import (
    MLP,
    filter_norms,
    kinks,
    layer_grad_metrics,
    layer_grad_norms,
    linear_pieces,
    run,
)
from landscape.optim import gd


def test_layer_grad_norms_match_torch_autograd():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(0)
    model = MLP([3, 5, 4, 2], activation="sigmoid", bias=[True, False, True])
    X, Y = rng.standard_normal((11, 3)), rng.standard_normal((11, 2))
    theta = model.init(rng=1)
    layers = [torch.nn.Linear(i, o, bias=b, dtype=torch.float64)
              for i, o, b in zip(model.sizes[:-1], model.sizes[1:], model.bias)]
    with torch.no_grad():
        for layer, (W, b) in zip(layers, model.unflatten(theta)):
            layer.weight.copy_(torch.from_numpy(W))
            if b is not None:
                layer.bias.copy_(torch.from_numpy(b))
    net = torch.nn.Sequential(layers[0], torch.nn.Sigmoid(), layers[1], torch.nn.Sigmoid(),
                              layers[2])
    torch.nn.functional.mse_loss(net(torch.from_numpy(X)), torch.from_numpy(Y)).backward()
    expected = [np.sqrt(sum(float((p.grad ** 2).sum()) for p in layer.parameters()))
                for layer in layers]
    got = layer_grad_norms(model.objective(X, Y), theta)
    assert got.shape == (3,)
    np.testing.assert_allclose(got, expected, rtol=1e-12)


def test_layer_grad_metrics_record_each_layer_along_a_run():
    rng = np.random.default_rng(2)
    model = MLP([2, 4, 1], activation="tanh")
    X = rng.standard_normal((8, 2))
    objective = model.objective(X, X[:, :1] * X[:, 1:])
    metrics = layer_grad_metrics(objective)
    assert list(metrics) == ["grad_layer1", "grad_layer2"]
    trajectory = run(objective, model.init(rng=3), gd(0.1), 5, metrics=metrics)
    for i, theta in enumerate(trajectory.thetas):  # layer 1: 4 x 2 weights and 4 biases
        g = objective.grad(theta)
        assert trajectory.metrics["grad_layer1"][i] == pytest.approx(np.linalg.norm(g[:12]),
                                                                     rel=1e-12)
        assert trajectory.metrics["grad_layer2"][i] == pytest.approx(np.linalg.norm(g[12:]),
                                                                     rel=1e-12)


def test_filter_norms_match_a_loop_over_neurons():
    model = MLP([3, 4, 2])
    theta = np.random.default_rng(4).standard_normal(model.n_params)
    got = filter_norms(model, theta)
    assert [g.shape for g in got] == [(4,), (2,)]
    for norms, (W, _) in zip(got, model.unflatten(theta)):
        for i, row in enumerate(W):
            assert norms[i] == pytest.approx(np.sqrt(sum(w * w for w in row)), rel=1e-14)


def test_filter_norms_of_a_convolution_are_its_output_channels():
    torch = pytest.importorskip("torch")
    from landscape.torch import from_module

    torch.manual_seed(0)
    net = torch.nn.Sequential(torch.nn.Conv2d(2, 3, 3), torch.nn.Flatten(),
                              torch.nn.Linear(3 * 4 * 4, 2))
    data = (torch.randn(5, 2, 6, 6), torch.randint(0, 2, (5,)))
    objective = from_module(net, torch.nn.CrossEntropyLoss(), data)
    got = filter_norms(objective, objective.theta0)
    for norms, weight in zip(got, (net[0].weight.detach(), net[2].weight.detach())):
        expected = [np.sqrt(sum(float(w) ** 2 for w in weight[c].flatten()))
                    for c in range(weight.shape[0])]
        np.testing.assert_allclose(norms, expected, rtol=1e-12)


def _one_hidden_layer(w, b, v):
    """A 1-h-1 ReLU net ``x -> sum_j v_j relu(w_j x + b_j)`` and its theta."""
    model = MLP([1, len(w), 1], activation="relu")
    return model, np.concatenate([w, b, v, [0.3]])


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_linear_pieces_of_a_wide_relu_net_are_its_breakpoints_plus_one(seed):
    rng = np.random.default_rng(seed)
    sign = lambda: rng.choice([-1.0, 1.0], 16)
    w, v = sign() * rng.uniform(0.5, 2.0, 16), sign() * rng.uniform(0.5, 2.0, 16)
    b = rng.uniform(-1.5, 1.5, 16) * np.abs(w)
    model, theta = _one_hidden_layer(w, b, v)
    low, high = -1.0, 0.7
    breaks = np.sort(-b / w)  # unit j bends where w_j x + b_j = 0
    inside = breaks[(breaks > low) & (breaks < high)]
    assert 0 < inside.size < 16 and np.diff(inside).min() > 1e-3  # well-separated by the grid
    assert linear_pieces(model, theta, (low, high)) == inside.size + 1
    found = kinks(model, theta, (low, high))
    cell = (high - low) / (20001 - 1)
    assert found.shape == inside.shape and np.abs(found - inside).max() <= 2 * cell


def test_linear_pieces_count_coinciding_kinks_once():
    w, b, v = np.array([1.0, 2.0, -1.0]), np.array([0.2, 0.4, 0.5]), np.array([1.0, 1.0, 2.0])
    model, theta = _one_hidden_layer(w, b, v)  # the first two units bend at x = -0.2
    assert linear_pieces(model, theta) == len({-0.2, 0.5}) + 1


@pytest.mark.parametrize("k", [1, 3, 5])
def test_linear_pieces_of_telgarskys_sawtooth(k):
    """The tent map ``t(x) = 2 relu(x) - 4 relu(x - 1/2)`` composed ``k`` times has ``2^k``
    linear pieces on [0, 1] (Telgarsky 2016): a depth-k net of width 2."""
    model = MLP([1] + [2] * k + [1], activation="relu")
    tent, shift = np.array([2.0, -4.0]), np.array([0.0, -0.5])
    parts = [np.ones(2), shift]
    for _ in range(k - 1):
        parts += [np.tile(tent, 2), shift]
    theta = np.concatenate(parts + [tent, [0.0]])
    assert linear_pieces(model, theta, (0.0, 1.0)) == 2 ** k


def test_linear_pieces_refuses_what_it_cannot_count():
    theta = np.zeros(MLP([1, 3, 1]).n_params)
    with pytest.raises(ValueError, match="model must be piecewise linear"):
        linear_pieces(MLP([1, 3, 1], activation="tanh"), theta)
    with pytest.raises(ValueError, match="one input and one output"):
        linear_pieces(MLP([2, 3, 1], activation="relu"), np.zeros(13))
    relu = MLP([1, 3, 1], activation="relu")
    with pytest.raises(ValueError, match="interval"):
        linear_pieces(relu, theta, (1.0, -1.0))
    with pytest.raises(ValueError, match="resolution"):
        linear_pieces(relu, theta, resolution=2)


def test_layered_arguments_are_checked():
    with pytest.raises(ValueError, match="objective must have layers"):
        layer_grad_norms(object(), np.zeros(3))
    with pytest.raises(ValueError, match="vector must hold"):
        filter_norms(MLP([3, 4, 2]), np.zeros(5))
