"""Where the model lives: the adapter keeps the module on its device and in its dtype and
moves only flat vectors across. Each check compares an objective on some device and dtype
with the CPU float64 one (the independent answer: the same network evaluated the plain
way); on CPU here, and on CUDA in float32 and float64 where a GPU is present (those tests
skip elsewhere, saying so)."""

import copy

import numpy as np
import pytest
import torch

from landscape.hessian import eigenpairs, hessian_operator
from landscape.torch import Recorder, from_module, recompute_batch_norm

torch.set_num_threads(1)
nn = torch.nn
CUDA = torch.cuda.is_available()
needs_cuda = pytest.mark.skipif(
    not CUDA, reason="no CUDA device on this machine: the adapter's GPU checks (CUDA float32 "
    "and float64 against CPU float64) run only where a GPU is present")
#: Relative agreement with CPU float64 per evaluation dtype: (loss and gradient, HVP).
TOL = {torch.float64: (1e-12, 1e-10), torch.float32: (1e-5, 1e-4)}


def _net():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Conv2d(1, 3, 3, padding=1), nn.BatchNorm2d(3), nn.Tanh(),
                        nn.Flatten(), nn.Linear(3 * 5 * 5, 4))
    with torch.no_grad():  # running statistics off their (0, 1) start
        net(1.0 + torch.randn(16, 1, 5, 5))
    return net.eval()


def _data(n=24):
    g = torch.Generator().manual_seed(1)
    return torch.randn(n, 1, 5, 5, generator=g), torch.randint(0, 4, (n,), generator=g)


def _close(a, b, tol):
    a, b = np.asarray(a, float), np.asarray(b, float)
    assert np.linalg.norm(a - b) <= tol * max(np.linalg.norm(b), 1.0), (a, b)


def _agrees_with_cpu_float64(device, dtype, **kwargs):
    """An objective of the network on ``device`` evaluated in ``dtype``, against CPU float64."""
    X, y = _data()
    reference = from_module(_net().double(), nn.CrossEntropyLoss(), (X, y))
    module = _net().to(device=device, dtype=dtype)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y), batch_size=10)
    objective = from_module(module, nn.CrossEntropyLoss(), loader, dtype=None, **kwargs)
    assert objective.torch_dtype == dtype and objective._device.type == torch.device(device).type
    assert next(module.parameters()).dtype == dtype  # the user's module is as it was
    rng = np.random.default_rng(2)
    theta = reference.theta0 + 0.05 * rng.standard_normal(reference.dim)
    v = rng.standard_normal(reference.dim)
    value_tol, hvp_tol = TOL[dtype]
    _close(objective.loss(theta), reference.loss(theta), value_tol)
    g = objective.grad(theta)
    assert g.dtype == np.float64 and isinstance(g, np.ndarray)
    _close(g, reference.grad(theta), value_tol * 10)
    _close(objective.hvp(theta, v), reference.hvp(theta, v), hvp_tol)
    points = theta + 0.1 * rng.standard_normal((3, reference.dim))
    _close(objective.losses(points), reference.losses(points), value_tol)
    top = eigenpairs(hessian_operator(objective, theta), 1, rng=0, method="lanczos")
    expected = eigenpairs(hessian_operator(reference, theta), 1, rng=0, method="lanczos")
    _close(top.eigenvalues, expected.eigenvalues, hvp_tol)
    recomputed = recompute_batch_norm(objective)  # statistics from the same batches:
    _close(recomputed.loss(theta), recompute_batch_norm(reference, loader).loss(theta),
           value_tol)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("stream", [False, True])
def test_cpu_in_its_own_dtype(dtype, stream):
    _agrees_with_cpu_float64("cpu", dtype, stream=stream)


@needs_cuda
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("stream", [False, True])
def test_cuda_in_its_own_dtype(dtype, stream):
    _agrees_with_cpu_float64("cuda", dtype, stream=stream)


def _recorded(device, dtype):
    """Four SGD steps on ``device`` in ``dtype``, recorded every two steps."""
    X, y = (t.to(device) for t in _data())
    net = _net().to(device=device, dtype=dtype).train()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.1)
    recorder = Recorder(net, nn.CrossEntropyLoss(), (X, y), every=2, optimizer=optimizer)
    seen = []
    for _ in range(4):
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(net(X.to(dtype)), y)
        loss.backward()
        recorder.step(loss)
        seen.append((torch.nn.utils.parameters_to_vector(net.parameters()).detach().cpu()
                     .double().numpy(), copy.deepcopy(net).cpu().double().eval()))
        optimizer.step()
    return recorder.trajectory(), seen, (X.cpu(), y.cpu())


@pytest.mark.parametrize("device", [
    "cpu", pytest.param("cuda", marks=needs_cuda)])
def test_the_recorder_reads_any_device_and_dtype_as_float64(device):
    trajectory, seen, (X, y) = _recorded(device, torch.float32)
    assert trajectory.thetas.dtype == np.float64
    np.testing.assert_array_equal(trajectory.thetas[:2], [seen[0][0], seen[2][0]])
    for loss, (_, twin) in zip(trajectory.loss, seen[::2]):
        with torch.no_grad():
            expected = float(nn.functional.cross_entropy(twin(X.double()), y))
        assert loss == pytest.approx(expected, rel=1e-12)
    assert np.all(np.isfinite(trajectory.metrics["sharpness"]))
