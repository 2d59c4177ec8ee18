"""The training-loop recorder against independent answers: the package's own runner on the
NumPy MLP with the same weights, dense eigh of the NumPy Hessian, a plain eval-mode forward
pass, and Cohen et al.'s edge of stability (sharpness at 2/eta) in a plain PyTorch loop."""

import copy

import numpy as np
import pytest
import torch

from landscape import MLP, gd, run
from landscape.hessian import sharpness
from landscape.torch import Recorder, WarmLanczos, from_module

torch.set_num_threads(1)
nn = torch.nn


def _mlp_pair(seed=0, n=40):
    """A 5-4-3 tanh softmax network in torch and NumPy (same layout), data and theta0."""
    rng = np.random.default_rng(seed)
    X, y = rng.standard_normal((n, 5)), rng.integers(0, 3, n)
    model = MLP([5, 4, 3], activation="tanh", output="softmax", loss="cross_entropy")
    theta0 = model.init(rng, gain=1.5)
    net = nn.Sequential(nn.Linear(5, 4), nn.Tanh(), nn.Linear(4, 3)).double()
    torch.nn.utils.vector_to_parameters(torch.tensor(theta0), net.parameters())  # a copy
    return net, model.objective(X, y), theta0, torch.as_tensor(X), torch.as_tensor(y)


def _train(net, X, y, steps, lr, recorder, loss_fn=None):
    """Full-batch gradient descent in a plain PyTorch loop, the recorder called each step."""
    loss_fn = loss_fn or nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(net.parameters(), lr=lr)
    recorder._optimizer = recorder._optimizer or optimizer
    for _ in range(steps):
        optimizer.zero_grad()
        loss = loss_fn(net(X), y)
        loss.backward()
        recorder.step(loss)
        optimizer.step()
    return recorder.trajectory()


def test_records_what_the_packages_own_runner_records():
    net, objective, theta0, X, y = _mlp_pair()
    n = objective.dim
    optimizer = torch.optim.SGD(net.parameters(), lr=0.5)
    recorder = Recorder(net, nn.CrossEntropyLoss(), (X, y), every=5, optimizer=optimizer,
                        curvature=("sharpness", "min_eigenvalue", "trace"), lanczos_steps=n,
                        trace_matvecs=3 * n)
    calls = []
    hvps = recorder.objective._hvps  # every product, one vector or several at once
    recorder.objective._hvps = lambda theta, vs: calls.extend([1] * len(vs)) or hvps(theta, vs)
    ours = _train(net, X, y, 23, 0.5, recorder)
    theirs = run(objective, theta0, gd(0.5), 23, record_every=5)
    np.testing.assert_array_equal(ours.steps, [0, 5, 10, 15, 20, 23])
    np.testing.assert_array_equal(ours.steps, theirs.steps)
    np.testing.assert_allclose(ours.thetas, theirs.thetas, rtol=0, atol=1e-12)
    np.testing.assert_allclose(ours.loss, theirs.loss, rtol=1e-12)
    for field in ("batch_loss", "grad_norm", "lr"):
        np.testing.assert_allclose(getattr(ours, field)[:-1], getattr(theirs, field)[:-1],
                                   rtol=1e-12)
        assert np.isnan(getattr(ours, field)[-1])
    assert ours.status == "max_steps" and ours.diverged_at is None
    assert ours.optimizer == "SGD" and ours.hyperparams["lr"] == 0.5
    # curvature: n Lanczos steps and 3n Hutch++ products are exact to rounding
    eigenvalues = [np.linalg.eigvalsh(objective.hessian(t)) for t in ours.thetas]
    np.testing.assert_allclose(ours.metrics["sharpness"], [e[-1] for e in eigenvalues],
                               rtol=1e-9)
    np.testing.assert_allclose(ours.metrics["min_eigenvalue"], [e[0] for e in eigenvalues],
                               atol=1e-9)
    np.testing.assert_allclose(ours.metrics["trace"], [e.sum() for e in eigenvalues],
                               rtol=1e-9)
    # the cost: every product counted (Lanczos stops early once its Krylov space is whole)
    assert ours.metrics["n_hvp"].sum() == len(calls)
    assert np.all((3 * n < ours.metrics["n_hvp"]) & (ours.metrics["n_hvp"] <= 5 * n))


def test_warm_started_lanczos_converges_over_calls_at_one_point():
    """Three steps a call, each call restarted from the last Ritz vector: restarted Lanczos,
    whose Ritz value rises to the top eigenvalue."""
    _, objective, theta0, _, _ = _mlp_pair(seed=1)
    top = np.linalg.eigvalsh(objective.hessian(theta0))[-1]
    warm = WarmLanczos("LA", 3, rng=0)
    values = [warm(objective, theta0) for _ in range(30)]
    assert warm.n_hvp == 3
    assert np.all(np.diff(values) >= -1e-12) and values[-1] <= top + 1e-12
    assert abs(values[-1] - top) < 1e-8 * top < abs(values[0] - top)


def test_records_are_thinned_past_max_records():
    net, objective, _, X, y = _mlp_pair()
    recorder = Recorder(net, nn.CrossEntropyLoss(), (X, y), every=1, max_records=5,
                        curvature=())
    trajectory = _train(net, X, y, 20, 0.1, recorder)
    assert len(trajectory.steps) <= 5 and trajectory.steps[-1] == 20
    assert set(trajectory.metrics) == set()
    np.testing.assert_allclose(trajectory.loss, objective.losses(trajectory.thetas), rtol=1e-12)


def test_a_batch_norm_network_is_measured_with_its_current_running_statistics():
    torch.manual_seed(2)
    net = nn.Sequential(nn.Linear(3, 6), nn.BatchNorm1d(6), nn.Tanh(), nn.Linear(6, 2)).double()
    X, y = torch.randn(32, 3, dtype=torch.float64) + 1.0, torch.randint(0, 2, (32,))
    probe = (X[:12], y[:12])
    recorder = Recorder(net, nn.CrossEntropyLoss(), probe, every=4, curvature=())
    optimizer = torch.optim.SGD(net.parameters(), lr=0.2)
    expected = []
    for t in range(9):
        optimizer.zero_grad()
        loss = nn.CrossEntropyLoss()(net(X), y)  # train mode: the statistics move
        loss.backward()
        if t % 4 == 0:
            twin = copy.deepcopy(net).eval()
            with torch.no_grad():
                expected.append(float(nn.CrossEntropyLoss()(twin(probe[0]), probe[1])))
        recorder.step(loss)
        optimizer.step()
    trajectory = recorder.trajectory()
    np.testing.assert_allclose(trajectory.loss[:-1], expected, rtol=1e-13)
    assert net.training  # the module's mode is the user's


def test_a_float32_module_is_read_as_float64():
    net, objective, _, X, y = _mlp_pair()
    net = net.float()
    recorder = Recorder(net, nn.CrossEntropyLoss(), (X, y), every=2, curvature=())
    trajectory = _train(net, X.float(), y, 4, 0.5, recorder)
    assert trajectory.thetas.dtype == np.float64
    flat = torch.nn.utils.parameters_to_vector(net.parameters()).detach().double().numpy()
    np.testing.assert_array_equal(trajectory.final_theta, flat)
    np.testing.assert_allclose(trajectory.loss, objective.losses(trajectory.thetas), rtol=1e-12)


def test_a_diverging_run_is_marked_where_its_loss_first_fails():
    """A huge step on a steep loss: the loss overflows, then the parameters. The record
    ends at the last finite parameters, as the package's runner ends a diverged run."""
    net, _, _, X, y = _mlp_pair()
    recorder = Recorder(net, nn.CrossEntropyLoss(), (X, y), every=3, curvature=())
    optimizer = torch.optim.SGD(net.parameters(), lr=1e6)
    losses, finite = [], []

    def all_finite():
        return bool(all(p.isfinite().all() for p in net.parameters()))

    for _ in range(12):
        optimizer.zero_grad()
        loss = (net(X) ** 8).mean()
        loss.backward()
        recorder.step(loss)
        losses.append(float(loss.detach()))
        finite.append(all_finite())
        optimizer.step()
    finite.append(all_finite())  # step 12's parameters, recorded by trajectory()
    trajectory = recorder.trajectory()
    first_bad_loss = next(t for t, value in enumerate(losses) if not np.isfinite(value))
    assert trajectory.status == "diverged" and trajectory.diverged_at == first_bad_loss > 0
    recorded = [t for t, ok in enumerate(finite) if ok and (t % 3 == 0 or t == 12)]
    np.testing.assert_array_equal(trajectory.steps, recorded)
    assert np.all(np.isfinite(trajectory.thetas))
    assert len(trajectory.batch_loss) == trajectory.steps[-1] + 1


@pytest.mark.parametrize("kwargs, message", [
    (dict(every=0), "every must be"),
    (dict(curvature=("sharpnes",)), "unknown curvature .sharpnes."),
    (dict(lanczos_steps=0), "lanczos_steps"),
    (dict(trace_matvecs=2), "trace_matvecs"),
    (dict(max_records=1), "max_records"),
    (dict(optimizer="sgd"), "optimizer must be a torch optimizer"),
    (dict(metrics={"n_hvp": sharpness}), "reuse the recorder's names"),
])
def test_bad_settings_are_refused_naming_the_argument(kwargs, message):
    net, _, _, X, y = _mlp_pair()
    with pytest.raises(ValueError, match=message):
        Recorder(net, nn.CrossEntropyLoss(), (X, y), **kwargs)


def test_edge_of_stability_in_a_plain_pytorch_loop():
    """Cohen et al. (2021): their Chebyshev task (20 points, T3), a 1-100-1 tanh network
    (Xavier-normal, gains 1.9 and 1, no output bias), half MSE, full-batch GD at eta = 0.2,
    trained by torch.optim.SGD with the recorder taking 10 warm Lanczos steps every 200
    steps: the sharpness rises to 2/eta and stays (median over steps 4,000-20,000 within
    10%), and the recorded values are the NumPy engine's exact sharpness at the same
    weights."""
    torch.manual_seed(0)
    x = torch.linspace(-1, 1, 20, dtype=torch.float64)[:, None]
    y = 4 * x**3 - 3 * x
    net = nn.Sequential(nn.Linear(1, 100), nn.Tanh(), nn.Linear(100, 1, bias=False)).double()
    nn.init.xavier_normal_(net[0].weight, gain=1.9)
    nn.init.zeros_(net[0].bias)
    nn.init.xavier_normal_(net[2].weight)

    def half_mse(out, target):
        return 0.5 * nn.functional.mse_loss(out, target)

    eta = 0.2
    optimizer = torch.optim.SGD(net.parameters(), lr=eta)
    recorder = Recorder(net, half_mse, (x, y), every=200, optimizer=optimizer)
    for _ in range(20_000):
        optimizer.zero_grad()
        loss = half_mse(net(x), y)
        loss.backward()
        recorder.step(loss)
        optimizer.step()
    trajectory = recorder.trajectory()
    steps, s = trajectory.steps, trajectory.metrics["sharpness"]
    assert trajectory.status == "max_steps" and len(steps) == 101
    assert s[0] < 0.5 * 2 / eta
    assert s[steps <= 2000].max() > 0.9 * 2 / eta  # progressive sharpening
    assert abs(np.median(s[steps >= 4000]) / (2 / eta) - 1) < 0.1
    assert trajectory.final_loss < 0.05 * trajectory.loss[0]
    np.testing.assert_array_equal(trajectory.metrics["n_hvp"], 10)
    model = MLP([1, 100, 1], activation="tanh", output="linear", loss="mse",
                bias=[True, False], half_mse=True)
    engine = model.objective(x.numpy(), y.numpy())
    exact = [sharpness(engine, theta) for theta in trajectory.thetas[::20]]
    np.testing.assert_allclose(s[::20], exact, rtol=1e-6)
    np.testing.assert_allclose(trajectory.loss[::20], engine.losses(trajectory.thetas[::20]),
                               rtol=1e-12)


def test_probe_objective_is_the_adapters():
    net, objective, theta0, X, y = _mlp_pair()
    recorder = Recorder(net, nn.CrossEntropyLoss(), (X[:10], y[:10]), curvature=())
    probe = from_module(net, nn.CrossEntropyLoss(), (X[:10], y[:10]))
    assert recorder.objective.dim == probe.dim == objective.dim
    assert recorder.objective.loss(theta0) == probe.loss(theta0)
