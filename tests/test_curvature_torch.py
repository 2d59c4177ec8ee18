"""Gauss-Newton, Fisher and empirical Fisher operators of the PyTorch adapter against
independent answers: dense ``J^T H_out J`` from torch.autograd.functional, per-sample
gradients one sample at a time, the NumPy engine on the same network, and curvlinops'
operators on the same model (an oracle installed by .ci/run; skipped where absent)."""

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import landscape as ls  # noqa: E402
from landscape import MLP  # noqa: E402
from landscape.curvature import (  # noqa: E402
    block_operator,
    empirical_fisher_operator,
    fisher_operator,
    ggn_operator,
    parameter_groups,
)
from landscape.torch import from_module  # noqa: E402

torch.set_num_threads(1)
nn = torch.nn
N = 20
SPLIT = 12  # two unequal batches


def _targets(loss, rng):
    if isinstance(loss, nn.CrossEntropyLoss):
        return torch.as_tensor(rng.integers(0, 3, N))
    if isinstance(loss, nn.BCEWithLogitsLoss):
        return torch.as_tensor((rng.random((N, 3)) < 0.5).astype(float))
    return torch.as_tensor(rng.standard_normal((N, 3)))


def _problem(loss, seed=0):
    """A 4-5-3 tanh network in float64, data in two batches, and its objective."""
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    net = nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 3)).double()
    X, y = torch.as_tensor(rng.standard_normal((N, 4))), _targets(loss, rng)
    batches = [(X[:SPLIT], y[:SPLIT]), (X[SPLIT:], y[SPLIT:])]
    return net, batches, from_module(net, loss, batches)


def _dense(op):
    return op.matmat(np.eye(op.shape[0]))


def _flat_outputs(net, x):
    shapes = [p.shape for p in net.parameters()]
    names = [n for n, _ in net.named_parameters()]

    def outputs(flat):
        params, start = {}, 0
        for name, shape in zip(names, shapes):
            size = int(np.prod(shape))
            params[name] = flat[start:start + size].reshape(shape)
            start += size
        return torch.func.functional_call(net, params, (x,))

    return outputs


def _dense_ggn(net, loss, batches):
    """``sum_b (B_b / N) J_b^T H_b J_b`` from dense Jacobians and output Hessians."""
    flat = torch.cat([p.detach().reshape(-1) for p in net.parameters()])
    total = 0
    for x, y in batches:
        f = _flat_outputs(net, x)
        out = f(flat).detach()
        J = torch.autograd.functional.jacobian(f, flat).reshape(out.numel(), -1)
        H = torch.autograd.functional.hessian(
            lambda o, shape=out.shape, y=y: loss(o.reshape(shape), y), out.reshape(-1))
        total = total + (len(x) / N) * (J.T @ H @ J)
    return total.numpy()


LOSSES = {"cross_entropy": nn.CrossEntropyLoss, "mse": nn.MSELoss, "bce": nn.BCEWithLogitsLoss}


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_ggn_is_dense_jt_hout_j_and_positive_semidefinite(name):
    loss = LOSSES[name]()
    net, batches, objective = _problem(loss)
    G = _dense(ggn_operator(objective, objective.theta0))
    np.testing.assert_allclose(G, _dense_ggn(net, loss, batches), atol=1e-13)
    w = np.linalg.eigvalsh(G)
    assert w[0] >= -1e-12 * w[-1]


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_ggn_hessian_and_empirical_fisher_match_curvlinops(name):
    curvlinops = pytest.importorskip("curvlinops")
    loss = LOSSES[name]()
    net, batches, objective = _problem(loss)
    params = list(net.parameters())
    eye = torch.eye(objective.dim, dtype=torch.float64)

    def theirs(cls):
        return (cls(net, loss, params, batches) @ eye).numpy()

    theta = objective.theta0
    np.testing.assert_allclose(_dense(ggn_operator(objective, theta)),
                               theirs(curvlinops.GGNLinearOperator), atol=1e-10)
    np.testing.assert_allclose(objective.hessian(theta), theirs(curvlinops.HessianLinearOperator),
                               atol=1e-10)
    if name == "cross_entropy":  # curvlinops counts each output of MSE / BCE as a sample
        np.testing.assert_allclose(_dense(empirical_fisher_operator(objective, theta)),
                                   theirs(curvlinops.EFLinearOperator), atol=1e-10)


@pytest.mark.parametrize("name", sorted(LOSSES))
def test_empirical_fisher_is_the_mean_outer_product_of_sample_gradients(name):
    loss = LOSSES[name]()
    net, batches, objective = _problem(loss)
    X, y = (torch.cat(parts) for parts in zip(*batches))
    rows = []
    for i in range(N):
        net.zero_grad()
        loss(net(X[i:i + 1]), y[i:i + 1]).backward()
        rows.append(torch.cat([p.grad.reshape(-1) for p in net.parameters()]).numpy())
    g = np.array(rows)
    np.testing.assert_allclose(_dense(empirical_fisher_operator(objective, objective.theta0)),
                               g.T @ g / N, atol=1e-13)


def test_fisher_equals_the_ggn_for_cross_entropy_and_scales_for_the_others():
    for name, scale, noise in (("cross_entropy", 1.0, None), ("bce", 3.0, None),
                               ("mse", 1 / (2 / 3 * 0.5**2), 0.5)):
        _, _, objective = _problem(LOSSES[name]())
        theta = objective.theta0
        F = _dense(fisher_operator(objective, theta, noise_std=noise))
        G = _dense(ggn_operator(objective, theta))
        np.testing.assert_allclose(F, scale * G, atol=1e-13, err_msg=name)
    (_, _, l1), (_, _, mse) = _problem(nn.L1Loss()), _problem(nn.MSELoss())  # one net, data
    np.testing.assert_allclose(_dense(fisher_operator(l1, l1.theta0, noise_std=0.5)),
                               2 * _dense(fisher_operator(mse, mse.theta0, noise_std=0.5)),
                               atol=1e-13)  # a Laplace's Fisher is twice a Gaussian's


def test_the_numpy_and_torch_engines_agree_on_one_network():
    rng = np.random.default_rng(2)
    model = MLP([4, 5, 3], activation="tanh", output="softmax", loss="cross_entropy")
    X, y = rng.standard_normal((N, 4)), rng.integers(0, 3, N)
    net = nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 3))
    ours, theirs = model.objective(X, y), from_module(net, nn.CrossEntropyLoss(), (X, y))
    theta = model.init(rng)
    for make in (ggn_operator, fisher_operator, empirical_fisher_operator):
        np.testing.assert_allclose(_dense(make(ours, theta)), _dense(make(theirs, theta)),
                                   atol=1e-14)


def test_blocks_by_torch_names_are_the_diagonal_blocks():
    _, _, objective = _problem(nn.CrossEntropyLoss())
    theta = objective.theta0
    groups = parameter_groups(objective)
    assert {"0", "0.weight", "0.bias", "2", "2.weight", "2.bias"} == set(groups)
    np.testing.assert_array_equal(groups["2"], np.arange(25, 43))
    G = ggn_operator(objective, theta)
    dense = _dense(G)
    for name in ("0.weight", "2"):
        idx = groups[name]
        np.testing.assert_allclose(_dense(block_operator(G, objective, name)),
                                   dense[np.ix_(idx, idx)], atol=1e-15)
    top = ls.eigenpairs(block_operator(G, objective, "2"), 1, rng=0)
    np.testing.assert_allclose(top.eigenvalues, np.linalg.eigvalsh(
        dense[np.ix_(groups["2"], groups["2"])])[-1:], rtol=1e-10)


def test_losses_that_are_not_likelihoods_are_refused():
    for loss, match in ((nn.HuberLoss(), "HuberLoss is not one the package knows"),
                        (nn.CrossEntropyLoss(weight=torch.ones(3, dtype=torch.float64)),
                         "class weights"),
                        (nn.CrossEntropyLoss(label_smoothing=0.1), "label smoothing")):
        _, _, objective = _problem(loss)
        with pytest.raises(ValueError, match=match):
            fisher_operator(objective, objective.theta0)
        ggn_operator(objective, objective.theta0)  # the GGN needs no likelihood
    _, _, mse = _problem(nn.MSELoss())
    with pytest.raises(ValueError, match="pass noise_std"):
        fisher_operator(mse, mse.theta0)
    _, _, ce = _problem(nn.CrossEntropyLoss())
    with pytest.raises(ValueError, match="noise_std is for a Gaussian"):
        fisher_operator(ce, ce.theta0, noise_std=1.0)
    with pytest.raises(ValueError, match="hutchinson_diagonal"):
        ggn_operator(ce, ce.theta0).diagonal()
