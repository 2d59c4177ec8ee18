"""Gauss-Newton, Fisher, empirical Fisher and block operators of the NumPy MLP against
their dense definitions built independently: the Jacobian of the logits by central
differences, the output Hessians in closed form, per-sample gradients by differences of
one-sample losses, the Fisher as an expectation over the model's own labels, eigh."""

import matplotlib.pyplot as plt
import numpy as np
import pytest

import landscape as ls
from landscape import MLP, functions
from landscape.curvature import (
    block_operator,
    empirical_fisher_operator,
    fisher_operator,
    ggn_operator,
    hutchpp_trace,
    layer_curvature,
    parameter_groups,
)
from landscape.plot import plot_layer_curvature

H_STEP = 1e-6


def _task(sizes=(4, 6, 5, 3), activation="tanh", output="softmax", loss="cross_entropy",
          n=12, weight_decay=0.0, half_mse=False, seed=0, targets=None):
    rng = np.random.default_rng(seed)
    model = MLP(list(sizes), activation=activation, output=output, loss=loss,
                weight_decay=weight_decay, half_mse=half_mse)
    X = rng.standard_normal((n, sizes[0]))
    m = sizes[-1]
    if targets is not None:
        y = targets
    elif loss == "cross_entropy" and output == "softmax":
        y = rng.integers(0, m, n)
    elif loss == "cross_entropy":
        y = (rng.random((n, m)) < 0.5).astype(float)
    else:
        y = rng.standard_normal((n, m))
    theta = model.init(rng, gain=1.3) + 0.1 * rng.standard_normal(model.n_params)
    return model, X, y, theta


def _logits(model, theta, X):
    """The last pre-activation, by a plain NumPy forward pass written here."""
    a = X
    for i, (W, b) in enumerate(model.unflatten(theta)):
        z = a @ W.T + (0.0 if b is None else b)
        if i < model.n_layers - 1:
            a = {"tanh": np.tanh, "sigmoid": lambda t: 1 / (1 + np.exp(-t)),
                 "linear": lambda t: t}[model.activations[i].name](z)
    return z


def _jacobian(model, theta, X):
    """``dz/dtheta`` by central differences, shape ``(N, m, dim)``."""
    cols = [(_logits(model, theta + H_STEP * e, X) - _logits(model, theta - H_STEP * e, X))
            / (2 * H_STEP) for e in np.eye(theta.size)]
    return np.stack(cols, axis=-1)


def _softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def _output_hessians(model, z, Y):
    """The loss's PSD output curvature per sample in closed form, ``(N, m, m)``."""
    N, m = z.shape
    if model.loss == "cross_entropy" and model.output == "softmax":
        p = _softmax(z)
        return np.stack([np.diag(q) - np.outer(q, q) for q in p])
    s = 1 / (1 + np.exp(-z))
    if model.loss == "cross_entropy":
        return np.stack([np.diag(q * (1 - q)) for q in s])
    if model.loss == "mae":
        return np.zeros((N, m, m))  # |r| has no curvature off its kink
    c = (0.5 if model.half_mse else 1.0) / m
    if model.output == "linear":
        J = np.broadcast_to(np.eye(m), (N, m, m))
    elif model.output == "sigmoid":
        J = np.stack([np.diag(q * (1 - q)) for q in s])
    else:
        J = np.stack([np.diag(q) - np.outer(q, q) for q in _softmax(z)])
    return 2 * c * np.einsum("nji,njk->nik", J, J)


def _dense(op):
    return op.matmat(np.eye(op.shape[0]))


def _one_hot(y, m):
    return np.eye(m)[y] if y.ndim == 1 else y


HEADS = {
    "softmax-ce": dict(),
    "sigmoid-ce": dict(output="sigmoid", activation="sigmoid"),
    "linear-mse": dict(output="linear", loss="mse", half_mse=True),
    "sigmoid-mse-decay": dict(output="sigmoid", loss="mse", weight_decay=0.05),
    "softmax-mse": dict(output="softmax", loss="mse", sizes=(4, 6, 3)),
    "sigmoid-mae": dict(output="sigmoid", loss="mae"),
}


# ---------------------------------------------------------------------------------
# The engine: Jacobian products and per-sample gradients
# ---------------------------------------------------------------------------------


def test_output_jacobian_products_match_finite_differences():
    model, X, y, theta = _task()
    objective = model.objective(X, y)
    J = _jacobian(model, theta, X)
    rng = np.random.default_rng(1)
    v, U = rng.standard_normal(theta.size), rng.standard_normal((len(X), 3))
    np.testing.assert_allclose(objective.logits(theta), _logits(model, theta, X), atol=1e-13)
    np.testing.assert_allclose(objective.output_jvp(theta, v), J @ v, atol=1e-8)
    np.testing.assert_allclose(objective.output_vjp(theta, U),
                               np.einsum("nmd,nm->d", J, U), atol=1e-8)
    np.testing.assert_allclose(objective.per_sample_vjp_squares(theta, U),
                               (np.einsum("nmd,nm->nd", J, U) ** 2).sum(axis=0), atol=1e-8)


@pytest.mark.parametrize("head", ["softmax-ce", "sigmoid-mse-decay"])
def test_per_sample_gradients_are_the_gradients_of_one_sample_losses(head):
    model, X, y, theta = _task(**HEADS[head], n=7)
    objective = model.objective(X, y)
    rows = objective.per_sample_grads(theta)
    assert rows.shape == (7, theta.size)
    plain = MLP(model.sizes, activation=model.activations[0].name, output=model.output,
                loss=model.loss)  # the same network without the penalty
    for i in range(7):
        one = plain.objective(X[i:i + 1], y[i:i + 1])
        fd = [(one.loss(theta + H_STEP * e) - one.loss(theta - H_STEP * e)) / (2 * H_STEP)
              for e in np.eye(theta.size)]
        np.testing.assert_allclose(rows[i], fd, atol=1e-8)
    if not model.weight_decay:
        np.testing.assert_allclose(rows.mean(axis=0), objective.grad(theta), atol=1e-15)


# ---------------------------------------------------------------------------------
# The Gauss-Newton matrix
# ---------------------------------------------------------------------------------


@pytest.mark.parametrize("head", sorted(HEADS))
def test_ggn_is_jt_hout_j_and_positive_semidefinite(head):
    model, X, y, theta = _task(**HEADS[head])
    objective = model.objective(X, y)
    J = _jacobian(model, theta, X)
    H_out = _output_hessians(model, _logits(model, theta, X), objective.Y)
    expected = np.einsum("nid,nij,nje->de", J, H_out, J) / len(X)
    for block in model.blocks:  # the penalty's Hessian on the weights
        expected[block.weight, block.weight] += model.weight_decay * np.eye(
            block.weight.stop - block.weight.start)
    G = _dense(ggn_operator(objective, theta))
    np.testing.assert_allclose(G, expected, atol=1e-8)
    w = np.linalg.eigvalsh(G)
    assert w[0] >= -1e-12 * w[-1]


def test_ggn_of_soft_targets_is_positive_semidefinite():
    model, X, _, theta = _task()
    soft = np.random.default_rng(3).random((12, 3))  # rows need not sum to 1
    G = _dense(ggn_operator(model.objective(X, soft), theta))
    w = np.linalg.eigvalsh(G)
    assert w[0] >= -1e-12 * w[-1] and w[-1] > 0


def test_linear_network_mse_ggn_is_the_hessian_at_zero_residual():
    model, X, _, theta = _task(sizes=(3, 4, 2), activation="linear", output="linear",
                               loss="mse")
    exact = model.objective(X, model.predict(theta, X))  # targets = outputs: zero residual
    np.testing.assert_allclose(_dense(ggn_operator(exact, theta)), exact.hessian(theta),
                               atol=1e-13)
    noisy = model.objective(X, model.predict(theta, X) + 1.0)
    gap = np.abs(_dense(ggn_operator(noisy, theta)) - noisy.hessian(theta)).max()
    assert gap > 1e-3  # away from zero residual the network's second derivatives count


# ---------------------------------------------------------------------------------
# The Fisher and the empirical Fisher
# ---------------------------------------------------------------------------------


def _fisher_by_its_definition(model, X, theta, outcomes):
    """``(1/N) sum_i sum_y p(y|x_i) g_i(y) g_i(y)^T`` with ``g_i(y)`` the per-sample gradient
    of ``-log p(y|x_i)`` for each possible target ``y`` (rows of ``outcomes``)."""
    N = len(X)
    probs = model.predict(theta, X)
    F = np.zeros((theta.size, theta.size))
    for y in outcomes:
        g = model.objective(X, np.tile(y, (N, 1))).per_sample_grads(theta)
        if model.output == "softmax":
            weight = probs @ y
        else:
            weight = np.prod(np.where(y == 1, probs, 1 - probs), axis=1)
        F += (g * weight[:, None]).T @ g
    return F / N


def test_softmax_fisher_is_its_definition_and_equals_the_ggn():
    model, X, y, theta = _task()
    objective = model.objective(X, y)
    F = _dense(fisher_operator(objective, theta))
    np.testing.assert_allclose(F, _fisher_by_its_definition(model, X, theta, np.eye(3)),
                               atol=1e-14)
    np.testing.assert_allclose(F, _dense(ggn_operator(objective, theta)), atol=1e-14)


def test_sigmoid_fisher_is_the_joint_bernoulli_expectation_and_equals_the_ggn():
    model, X, y, theta = _task(sizes=(4, 5, 2), output="sigmoid", activation="sigmoid")
    objective = model.objective(X, y)
    outcomes = np.array([[0, 0], [0, 1], [1, 0], [1, 1]], dtype=float)  # all 2^m label pairs
    F = _dense(fisher_operator(objective, theta))
    np.testing.assert_allclose(F, _fisher_by_its_definition(model, X, theta, outcomes),
                               atol=1e-14)
    np.testing.assert_allclose(F, _dense(ggn_operator(objective, theta)), atol=1e-14)


def test_gaussian_fisher_of_an_mse_loss_needs_its_noise_and_is_jo_t_jo_over_sigma2():
    model, X, y, theta = _task(**HEADS["sigmoid-mse-decay"])
    objective = model.objective(X, y)
    J = _jacobian(model, theta, X)
    s = model.predict(theta, X)
    J_o = J * (s * (1 - s))[:, :, None]  # the sigmoid's Jacobian times the logits'
    expected = np.einsum("nid,nie->de", J_o, J_o) / len(X) / 0.3**2
    np.testing.assert_allclose(_dense(fisher_operator(objective, theta, noise_std=0.3)),
                               expected, atol=1e-7)
    with pytest.raises(ValueError, match="noise_std.*Gaussian"):
        fisher_operator(objective, theta)
    with pytest.raises(ValueError, match="noise_std must be a positive"):
        fisher_operator(objective, theta, noise_std=0.0)


def test_laplace_fisher_of_an_absolute_error_is_twice_the_gaussian_one():
    """A Laplace of standard deviation s has scale b = s / sqrt(2) and Fisher 1 / b^2 = 2 / s^2
    in its mean, twice the Gaussian's 1 / s^2."""
    model, X, y, theta = _task(output="sigmoid", loss="mae")
    gaussian = MLP(model.sizes, activation="tanh", output="sigmoid", loss="mse")
    F_laplace = _dense(fisher_operator(model.objective(X, y), theta, noise_std=0.4))
    F_gauss = _dense(fisher_operator(gaussian.objective(X, y), theta, noise_std=0.4))
    np.testing.assert_allclose(F_laplace, 2 * F_gauss, atol=1e-14)
    with pytest.raises(ValueError, match="Laplace"):
        fisher_operator(model.objective(X, y), theta)


@pytest.mark.parametrize("head", ["softmax-ce", "linear-mse", "sigmoid-mse-decay"])
def test_empirical_fisher_is_the_mean_outer_product_of_sample_gradients(head):
    model, X, y, theta = _task(**HEADS[head], n=6)
    plain = MLP(model.sizes, activation=model.activations[0].name, output=model.output,
                loss=model.loss, half_mse=model.half_mse)
    g = np.array([[(one.loss(theta + H_STEP * e) - one.loss(theta - H_STEP * e)) / (2 * H_STEP)
                   for e in np.eye(theta.size)]
                  for one in (plain.objective(X[i:i + 1], y[i:i + 1]) for i in range(6))])
    E = _dense(empirical_fisher_operator(model.objective(X, y), theta))
    np.testing.assert_allclose(E, g.T @ g / 6, atol=1e-8)
    assert np.linalg.matrix_rank(E, tol=1e-10) <= 6


@pytest.mark.parametrize("head", sorted(HEADS))
def test_exact_diagonals_are_the_dense_diagonals(head):
    model, X, y, theta = _task(**HEADS[head])
    objective = model.objective(X, y)
    noise = 0.7 if model.loss in ("mse", "mae") else None
    for op in (ggn_operator(objective, theta), fisher_operator(objective, theta, noise),
               empirical_fisher_operator(objective, theta)):
        d = op.diagonal()
        np.testing.assert_allclose(d.diagonal, np.diag(_dense(op)), atol=1e-13)
        assert d.n_hvp == 0 and not d.stderr.any()


def test_every_spectral_tool_takes_the_operators():
    model, X, y, theta = _task(n=20)
    objective = model.objective(X, y)
    for op in (ggn_operator(objective, theta), fisher_operator(objective, theta),
               empirical_fisher_operator(objective, theta),
               block_operator(ggn_operator(objective, theta), objective, "layer2")):
        w = np.linalg.eigvalsh(_dense(op))
        top = ls.eigenpairs(op, 3, "LA", rng=0, method="lanczos")
        np.testing.assert_allclose(top.eigenvalues, w[-3:], rtol=1e-8, atol=1e-12)
        density = ls.spectral_density(op, n_probes=3, m=op.shape[0], rng=0)
        np.testing.assert_allclose(density.mean(), w.mean(), rtol=0.5)
        exact = hutchpp_trace(op, 3 * op.shape[0], rng=0)  # the sketch spans everything
        np.testing.assert_allclose(exact.trace, w.sum(), rtol=1e-10)
        estimate = ls.hutchinson_trace(op, 200, rng=0)
        assert abs(estimate.trace - w.sum()) < 5 * estimate.stderr


# ---------------------------------------------------------------------------------
# Blocks
# ---------------------------------------------------------------------------------


def test_block_operators_are_the_diagonal_blocks_of_the_dense_hessian():
    model, X, y, theta = _task(sizes=(3, 5, 4, 2))
    objective = model.objective(X, y)
    dense = objective.hessian(theta)
    H = ls.hessian_operator(objective, theta)
    for names in ("layer1", "layer2.weight", "layer3.bias", ("layer1", "layer3")):
        B = block_operator(H, objective, names)
        idx = np.unique(np.concatenate([parameter_groups(objective)[n] for n in
                                        ((names,) if isinstance(names, str) else names)]))
        np.testing.assert_allclose(_dense(B), dense[np.ix_(idx, idx)], atol=1e-12)
        np.testing.assert_allclose(ls.full_spectrum(B).eigenvalues,
                                   np.linalg.eigvalsh(dense[np.ix_(idx, idx)]), atol=1e-10)
    assert len(parameter_groups(objective)["layer2"]) == 5 * 4 + 4


@pytest.mark.parametrize("dense_max", [0, 100])
def test_layer_curvature_matches_eigh_of_each_block(dense_max):
    model, X, y, theta = _task(sizes=(3, 5, 4, 2), n=20)
    objective = model.objective(X, y)
    dense = objective.hessian(theta)
    table = layer_curvature(ls.hessian_operator(objective, theta), objective, rng=1,
                            dense_max=dense_max, n_matvecs=90)
    assert table.names == ("layer1", "layer2", "layer3")
    for i, name in enumerate(table.names):
        idx = parameter_groups(objective)[name]
        block = dense[np.ix_(idx, idx)]
        assert table.sizes[i] == len(idx)
        np.testing.assert_allclose(table.top_eigenvalue[i], np.linalg.eigvalsh(block)[-1],
                                   rtol=1e-8)
        assert abs(table.trace[i] - np.trace(block)) <= max(4 * table.trace_stderr[i], 1e-10)
    assert table.n_hvp >= sum(table.sizes) and "layer2" in table.table()


def test_layer_curvature_plot_draws_one_bar_per_layer_and_operator():
    model, X, y, theta = _task(sizes=(3, 5, 4, 2))
    objective = model.objective(X, y)
    tables = {name: layer_curvature(op, objective) for name, op in
              (("Hessian", ls.hessian_operator(objective, theta)),
               ("GGN", ggn_operator(objective, theta)))}
    fig, ax = plt.subplots()
    bars = plot_layer_curvature(tables, ax=ax)
    assert len(bars) == 2 and all(len(b) == 3 for b in bars)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["layer1", "layer2", "layer3"]
    plt.close(fig)


# ---------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------


def test_bad_input_is_a_clear_error():
    model, X, y, theta = _task()
    objective = model.objective(X, y)
    H = ls.hessian_operator(objective, theta)
    with pytest.raises(ValueError, match="unknown block 'layer9'.*layer1"):
        block_operator(H, objective, ["layer1", "layer9"])
    with pytest.raises(ValueError, match="at least one parameter block"):
        block_operator(H, objective, [])
    with pytest.raises(ValueError, match="at least one parameter block"):
        layer_curvature(H, objective, blocks=[])
    with pytest.raises(ValueError, match="parameter blocks"):
        block_operator(ls.hessian_operator(functions.himmelblau(), [0.0, 0.0]),
                       functions.himmelblau(), "x")
    other = MLP([4, 3]).objective(X, np.zeros((12, 3)))
    with pytest.raises(ValueError, match="dim = 15"):
        block_operator(H, other, "layer1")
    with pytest.raises(ValueError, match="network with outputs.*AnalyticObjective"):
        ggn_operator(functions.himmelblau(), [0.0, 0.0])
    with pytest.raises(ValueError, match="noise_std is for a Gaussian"):
        fisher_operator(objective, theta, noise_std=1.0)
    with pytest.raises(ValueError, match="theta"):
        ggn_operator(objective, theta[:-1])
    with pytest.raises(ValueError, match=r"U must have shape \(12, 3\)"):
        objective.output_vjp(theta, np.zeros((12, 2)))
    with pytest.raises(ValueError, match="U contains NaN"):
        objective.output_vjp(theta, np.full((12, 3), np.nan))
    with pytest.raises(ValueError, match="v must have length 83"):
        objective.output_jvp(theta, np.zeros(3))
