"""The PyTorch adapter against independent answers: the NumPy MLP on the same weights and
data, dense eigh, finite differences, the full batch, and a plain torch forward pass."""

import copy
import subprocess
import sys

import numpy as np
import pytest
import torch

from landscape import MLP, check_derivatives
from landscape.directions import filter_normalized_directions
from landscape.hessian import eigenpairs, hessian_operator
from landscape.torch import from_module

torch.set_num_threads(1)
nn = torch.nn

TORCH_ACTIVATIONS = {"tanh": nn.Tanh, "sigmoid": nn.Sigmoid, "softplus": nn.Softplus}


def _close(a, b, tol):
    """``|a - b| <= tol * max(|b|, 1)`` in the Euclidean norm."""
    a, b = np.asarray(a, float), np.asarray(b, float)
    assert np.linalg.norm(a - b) <= tol * max(np.linalg.norm(b), 1.0), (a, b)


def _torch_mlp(sizes, activation, bias):
    layers = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(fan_in, fan_out, bias=bias[i]))
        if i < len(sizes) - 2:
            layers.append(TORCH_ACTIVATIONS[activation]())
    return nn.Sequential(*layers)


# (sizes, activation, bias per layer, NumPy output/loss, torch loss, targets)
CONFIGS = {
    "tanh-softmax-ce": ([5, 7, 6, 3], "tanh", [True, True, True], ("softmax", "cross_entropy"),
                        nn.CrossEntropyLoss, "labels"),
    "sigmoid-mse-no-last-bias": ([4, 6, 2], "sigmoid", [True, False], ("linear", "mse"),
                                 nn.MSELoss, "values"),
    "softplus-mse": ([3, 5, 4, 1], "softplus", [False, True, True], ("linear", "mse"),
                     nn.MSELoss, "values"),
}


def _pair(name, n=30, seed=0):
    """The same network and data in NumPy and torch, and a theta not at the torch init."""
    sizes, act, bias, (output, loss), torch_loss, targets = CONFIGS[name]
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((n, sizes[0]))
    m = sizes[-1]
    y = rng.integers(0, m, n) if targets == "labels" else rng.standard_normal((n, m))
    model = MLP(sizes, activation=act, output=output, loss=loss, bias=bias)
    torch.manual_seed(seed)
    objective = from_module(_torch_mlp(sizes, act, bias), torch_loss(), (X, y))
    theta = model.init(rng, gain=1.5) + 0.1 * rng.standard_normal(model.n_params)
    return model, model.objective(X, y), objective, theta, rng


@pytest.mark.parametrize("name", CONFIGS)
def test_loss_grad_hvp_losses_match_numpy_mlp(name):
    model, ref, obj, theta, rng = _pair(name)
    assert obj.dim == ref.dim
    assert [b[1:] for b in obj.blocks] == [b[1:] for b in ref.blocks]
    for t in (theta, obj.theta0):
        _close(obj.loss(t), ref.loss(t), 1e-12)
        value, g = obj.loss_and_grad(t)
        _close(value, ref.loss(t), 1e-12)
        _close(g, ref.grad(t), 1e-10)
        for v in rng.standard_normal((2, obj.dim)):
            _close(obj.hvp(t, v), ref.hvp(t, v), 1e-10)
    points = theta + 0.5 * rng.standard_normal((5, obj.dim))
    _close(obj.losses(points), ref.losses(points), 1e-12)
    assert obj.grad(theta).dtype == np.float64


def _top(objective, theta, k):
    """The ``k`` largest Hessian eigenvalues by Lanczos on the objective's HVPs."""
    spectrum = eigenpairs(hessian_operator(objective, theta), k, "LA", rng=0, method="lanczos")
    assert spectrum.converged
    return spectrum.eigenvalues


@pytest.mark.parametrize("name", ["tanh-softmax-ce", "sigmoid-mse-no-last-bias"])
def test_top_eigenvalues_match_dense_numpy_hessian(name):
    _, ref, obj, theta, _ = _pair(name)
    dense = np.linalg.eigh(ref.hessian(theta))[0][-3:]
    top = _top(obj, theta, 3)
    np.testing.assert_allclose(top, dense, rtol=0, atol=1e-10 * max(1.0, abs(dense[-1])))


def _loader(X, y, batch_size, shuffle=False):
    data = torch.utils.data.TensorDataset(torch.as_tensor(X), torch.as_tensor(y))
    return torch.utils.data.DataLoader(data, batch_size=batch_size, shuffle=shuffle,
                                       generator=torch.Generator().manual_seed(0))


def test_dataloader_means_equal_the_full_batch():
    """Batches of 16, 16, 16 and 2 samples: means, not sums, and the last batch weighs less."""
    rng = np.random.default_rng(3)
    X, y = rng.standard_normal((50, 5)), rng.integers(0, 3, 50)
    torch.manual_seed(3)
    net = _torch_mlp([5, 7, 6, 3], "tanh", [True] * 3)
    full = from_module(net, nn.CrossEntropyLoss(), (X, y))
    batched = from_module(net, nn.CrossEntropyLoss(), _loader(X, y, 16, shuffle=True))
    assert batched.n_samples == full.n_samples == 50
    theta = full.theta0 + 0.3 * rng.standard_normal(full.dim)
    _close(batched.loss(theta), full.loss(theta), 1e-13)
    _close(batched.grad(theta), full.grad(theta), 1e-13)
    v = rng.standard_normal(full.dim)
    _close(batched.hvp(theta, v), full.hvp(theta, v), 1e-13)
    top_full, top_batched = _top(full, theta, 1), _top(batched, theta, 1)
    _close(top_batched, top_full, 1e-10)


def test_subset_matches_numpy_subset_and_keeps_batches():
    _, ref, obj, theta, rng = _pair("tanh-softmax-ce", n=40)
    X, y = ref.X, ref.Y.argmax(axis=1)
    batched = from_module(_torch_mlp([5, 7, 6, 3], "tanh", [True] * 3), nn.CrossEntropyLoss(),
                          _loader(X, y, 8))
    idx = rng.permutation(40)[:19]
    sub, ref_sub = batched.subset(idx), ref.subset(idx)
    assert sub.n_samples == 19 and sub.points_per_call == batched.points_per_call
    _close(sub.loss(theta), ref_sub.loss(theta), 1e-12)
    _close(sub.grad(theta), ref_sub.grad(theta), 1e-10)
    v = rng.standard_normal(obj.dim)
    _close(sub.hvp(theta, v), ref_sub.hvp(theta, v), 1e-10)
    assert sub.accuracy(theta) == ref_sub.accuracy(theta)


def _cnn():
    """Conv -> BatchNorm -> tanh -> avg-pool -> linear, with non-trivial running statistics."""
    torch.manual_seed(4)
    net = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.BatchNorm2d(3), nn.Tanh(),
                        nn.AvgPool2d(2), nn.Flatten(), nn.Linear(3 * 3 * 3, 4))
    with torch.no_grad():
        for _ in range(3):  # train-mode passes move the running statistics off (0, 1)
            net(2.0 + torch.randn(8, 1, 6, 6))
    return net


def _images(n=20, seed=4):
    rng = np.random.default_rng(seed)
    return rng.standard_normal((n, 1, 6, 6)), rng.integers(0, 4, n)


def test_cnn_with_batchnorm_derivatives_match_finite_differences():
    X, y = _images()
    obj = from_module(_cnn(), nn.CrossEntropyLoss(), _loader(X, y, 6))
    theta = obj.theta0 + 0.05 * np.random.default_rng(5).standard_normal(obj.dim)
    check = check_derivatives(obj, theta, rng=6, n_directions=3)
    assert check.grad_error < 1e-8, check
    assert check.hvp_error < 1e-6, check


def test_cnn_blocks_are_filters_and_batchnorm_is_no_block():
    obj = from_module(_cnn(), nn.CrossEntropyLoss(), _images())
    assert obj.names == ("0.weight", "0.bias", "1.weight", "1.bias", "5.weight", "5.bias")
    conv, linear = obj.blocks
    assert (conv.name, conv.weight, conv.n_filters, conv.bias) == ("0", slice(0, 27), 3,
                                                                   slice(27, 30))
    assert (linear.name, linear.n_filters, linear.bias) == ("5", 4, slice(obj.dim - 4, obj.dim))
    assert linear.weight == slice(36, 36 + 4 * 27)


def test_filter_normalized_directions_use_the_module_filters():
    """Per output channel / neuron, each direction has the norm of the center's filter;
    biases and batch-norm parameters do not move (bias='zero')."""
    obj = from_module(_cnn(), nn.CrossEntropyLoss(), _images())
    theta = obj.theta0
    center = obj.state_dict(theta)
    for d in filter_normalized_directions(obj, theta, k=2, rng=9).vectors:
        moved = obj.state_dict(d)
        for name in ("0.weight", "5.weight"):
            np.testing.assert_allclose(moved[name].flatten(1).norm(dim=1),
                                       center[name].flatten(1).norm(dim=1), rtol=1e-12)
        for name in ("0.bias", "1.weight", "1.bias", "5.bias"):
            assert not moved[name].any()


def test_eval_mode_uses_running_statistics_and_mutates_nothing():
    net = _cnn().train()
    before = {k: v.clone() for k, v in net.state_dict().items()}
    X, y = _images()
    obj = from_module(net, nn.CrossEntropyLoss(), _loader(X, y, 7))
    rng = np.random.default_rng(7)
    theta = obj.theta0 + 0.1 * rng.standard_normal(obj.dim)
    value = obj.loss(theta)
    obj.hvp(theta, rng.standard_normal(obj.dim))
    obj.losses(theta + 0.1 * rng.standard_normal((3, obj.dim)))
    obj.subset(np.arange(5)).grad(theta)
    # the user's module: same mode, dtype, parameters and buffers (running stats, counter)
    assert net.training
    after = net.state_dict()
    assert all(after[k].dtype == v.dtype and torch.equal(after[k], v) for k, v in before.items())
    # a plain eval-mode forward pass of a float64 copy holding theta
    twin = copy.deepcopy(net).double().eval()
    torch.nn.utils.vector_to_parameters(torch.as_tensor(theta), twin.parameters())
    with torch.no_grad():
        expected = nn.CrossEntropyLoss()(twin(torch.as_tensor(X)), torch.as_tensor(y))
    _close(value, float(expected), 1e-13)
    twin.load_state_dict(obj.state_dict(obj.theta0))
    np.testing.assert_array_equal(
        torch.nn.utils.parameters_to_vector(twin.parameters()).detach().numpy(), obj.theta0)


def test_vmapped_losses_equal_one_point_at_a_time():
    X, y = _images()
    net = _cnn()
    looped = from_module(net, nn.CrossEntropyLoss(), _loader(X, y, 6), points_per_call=1)
    vmapped = from_module(net, nn.CrossEntropyLoss(), _loader(X, y, 6), points_per_call=3)
    points = looped.theta0 + 0.2 * np.random.default_rng(8).standard_normal((7, looped.dim))
    expected = np.array([looped.loss(p) for p in points])
    _close(looped.losses(points), expected, 1e-14)
    _close(vmapped.losses(points), expected, 1e-13)


def test_frozen_parameters_are_held_fixed():
    _, ref, _, theta, rng = _pair("tanh-softmax-ce")
    torch.manual_seed(0)
    net = _torch_mlp([5, 7, 6, 3], "tanh", [True] * 3)
    torch.nn.utils.vector_to_parameters(torch.as_tensor(theta, dtype=torch.float32),
                                        net.parameters())
    net[0].requires_grad_(False)
    obj = from_module(net, nn.CrossEntropyLoss(), (ref.X, ref.Y.argmax(axis=1)))
    first = ref.blocks[0].bias.stop
    assert obj.dim == ref.dim - first and obj.names[0] == "2.weight"
    full = np.concatenate([np.float32(theta[:first]), obj.theta0])
    _close(obj.loss(obj.theta0), ref.loss(full), 1e-12)
    _close(obj.grad(obj.theta0), ref.grad(full)[first:], 1e-10)
    v = rng.standard_normal(obj.dim)
    _close(obj.hvp(obj.theta0, v), ref.hvp(full, np.concatenate([np.zeros(first), v]))[first:],
           1e-10)


def test_float32_agrees_to_single_precision_and_returns_float64():
    _, ref, _, theta, rng = _pair("tanh-softmax-ce")
    torch.manual_seed(0)
    obj = from_module(_torch_mlp([5, 7, 6, 3], "tanh", [True] * 3), nn.CrossEntropyLoss(),
                      (ref.X, ref.Y.argmax(axis=1)), dtype=torch.float32)
    g = obj.grad(theta)
    assert g.dtype == np.float64
    _close(obj.loss(theta), ref.loss(theta), 1e-6)
    _close(g, ref.grad(theta), 1e-5)


def _bad(module=None, loss_fn=None, data=None, **kwargs):
    """``from_module`` on the CNN, its loss and 8 images, with some arguments changed."""
    return from_module(_cnn() if module is None else module,
                       nn.CrossEntropyLoss() if loss_fn is None else loss_fn,
                       _images(8) if data is None else data, **kwargs)


X8, Y8 = _images(8)


def _with(x, value):
    """A copy of ``x`` with one entry set to ``value``."""
    x = x.copy()
    x.flat[3] = value
    return x

BAD = {
    "batch normalization": dict(mode="train"),
    "dropout": dict(module=nn.Sequential(nn.Flatten(), nn.Dropout(0.5), nn.Linear(36, 4)),
                    mode="train"),
    "no running statistics": dict(module=nn.Sequential(nn.BatchNorm2d(1, track_running_stats=False),
                                                       nn.Flatten(), nn.Linear(36, 4))),
    "unknown mode": dict(mode="training"),
    "reduction='mean'": dict(loss_fn=nn.CrossEntropyLoss(reduction="sum")),
    "scalar tensor": dict(loss_fn=lambda out, y: out.sum(dim=1)),
    "loss_fn must be callable": dict(loss_fn="cross_entropy"),
    "different lengths": dict(data=(X8, Y8[:5])),
    "data must be": dict(data=5),
    "no batches": dict(data=[]),
    "inputs, targets": dict(data=[(torch.zeros(2, 1, 6, 6),)]),
    "dtype must be": dict(dtype=torch.float16),
    "torch.nn.Module": dict(module=lambda x: x),
    "points_per_call": dict(points_per_call=0),
    "inputs of batch 0 contains NaN or inf": dict(data=(_with(X8, np.nan), Y8)),
    "targets of batch 0 contains NaN or inf": dict(
        module=nn.Sequential(nn.Flatten(), nn.Linear(36, 1)), loss_fn=nn.MSELoss(),
        data=(X8, np.array([[0.0]] * 7 + [[np.inf]]))),
    "inputs of batch 1 contains NaN or inf": dict(data=[(X8[:4], Y8[:4]),
                                                        (_with(X8[4:], -np.inf), Y8[4:])]),
    "inputs of batch 0 must be real, got torch.complex128": dict(data=(X8 + 0j, Y8)),
    "no trainable parameters": dict(module=nn.Sequential(nn.Flatten(), nn.Linear(36, 4))
                                    .requires_grad_(False)),
}


@pytest.mark.parametrize("message", BAD)
def test_bad_input_raises_value_error_naming_the_problem(message):
    with pytest.raises(ValueError, match=message.replace("(", r"\(").replace(")", r"\)")):
        _bad(**BAD[message])


def test_bad_theta_and_indices():
    obj = from_module(_cnn(), nn.CrossEntropyLoss(), _images(8))
    with pytest.raises(ValueError, match="theta must have length"):
        obj.loss(np.zeros(obj.dim + 1))
    with pytest.raises(ValueError, match="indices out of range"):
        obj.subset([0, 8])
    with pytest.raises(ValueError, match="integers"):
        obj.subset([0.5])
    with pytest.raises(ValueError, match="integer class targets"):
        from_module(nn.Linear(3, 2), nn.MSELoss(), (np.ones((4, 3)), np.ones((4, 2)))).accuracy(
            np.zeros(8))


def test_train_mode_is_allowed_without_dropout_or_batchnorm():
    _, ref, _, theta, _ = _pair("tanh-softmax-ce")
    obj = from_module(_torch_mlp([5, 7, 6, 3], "tanh", [True] * 3), nn.CrossEntropyLoss(),
                      (ref.X, ref.Y.argmax(axis=1)), mode="train")
    _close(obj.loss(theta), ref.loss(theta), 1e-12)


def test_package_imports_without_torch_and_adapter_says_how_to_install():
    code = ("import sys; sys.modules['torch'] = None\n"
            "import landscape\n"
            "try:\n"
            "    import landscape.torch\n"
            "except ImportError as err:\n"
            "    print(err)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert "pip install 'landscape[torch]'" in out
