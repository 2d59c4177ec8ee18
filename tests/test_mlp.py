"""The MLP engine against independent answers: finite differences, closed-form Hessians,
a hand-written forward pass, and the per-point loop."""

import itertools

import numpy as np
import pytest

from landscape import MLP, check_derivatives, execution

ACTIVATIONS = ["sigmoid", "tanh", "relu", "softplus", "linear"]
HEADS = [("linear", "mse"), ("sigmoid", "mse"), ("softmax", "mse"),
         ("softmax", "cross_entropy"), ("sigmoid", "cross_entropy"),
         ("linear", "mae"), ("sigmoid", "mae"), ("softmax", "mae")]  # mae: off its kinks


def _problem(sizes, output, loss, rng, n=9, **kw):
    model = MLP(sizes, output=output, loss=loss, **kw)
    X = rng.standard_normal((n, sizes[0]))
    m = sizes[-1]
    if output == "softmax":
        y = rng.integers(0, m, n)
    elif loss == "cross_entropy":
        y = rng.integers(0, 2, (n, m)).astype(float)
    else:
        y = rng.uniform(-1, 1, (n, m)) if output == "linear" else rng.uniform(0, 1, (n, m))
    return model, model.objective(X, y)


@pytest.mark.parametrize("activation,head", itertools.product(ACTIVATIONS, HEADS))
def test_grad_and_hvp_match_finite_differences(activation, head):
    rng = np.random.default_rng(0)
    for sizes in ([3, 4, 2], [2, 5, 3, 3]):
        model, obj = _problem(sizes, *head, rng, activation=activation,
                              bias=[True] * (len(sizes) - 2) + [False], weight_decay=1e-2)
        theta = model.init(rng, gain=1.3) + 0.1 * rng.standard_normal(model.n_params)
        check = check_derivatives(obj, theta, rng=1, n_directions=3)
        assert check.grad_error < 1e-6, check
        assert check.hvp_error < 1e-6, check


def test_hessian_is_symmetric_stacked_hvps_and_hvp_is_linear():
    rng = np.random.default_rng(1)
    model, obj = _problem([3, 4, 3], "softmax", "cross_entropy", rng, activation="tanh")
    theta = model.init(rng)
    H = obj.hessian(theta)
    assert np.allclose(H, H.T, atol=1e-14)
    stacked = np.stack([obj.hvp(theta, e) for e in np.eye(obj.dim)], axis=1)
    np.testing.assert_allclose(H, stacked, atol=1e-13)
    u, v = rng.standard_normal((2, obj.dim))
    np.testing.assert_allclose(obj.hvp(theta, 2 * u - 3 * v),
                               2 * obj.hvp(theta, u) - 3 * obj.hvp(theta, v), atol=1e-12)


def test_linear_regression_hessian_is_closed_form():
    """Loss mean((X w + b - y)^2) has Hessian (2/N) [X 1]^T [X 1], independent of theta."""
    rng = np.random.default_rng(2)
    X, y = rng.standard_normal((20, 3)), rng.standard_normal(20)
    obj = MLP([3, 1], output="linear", loss="mse").objective(X, y)
    A = np.hstack([X, np.ones((20, 1))])
    np.testing.assert_allclose(obj.hessian(rng.standard_normal(4)), 2 / 20 * A.T @ A, rtol=1e-12)


def test_softmax_regression_hessian_is_closed_form():
    """Multinomial logistic regression: H = mean_i kron(diag(p_i) - p_i p_i^T, x_i x_i^T)."""
    rng = np.random.default_rng(3)
    N, d, m = 15, 3, 4
    X, y = rng.standard_normal((N, d)), rng.integers(0, m, N)
    obj = MLP([d, m], output="softmax", loss="cross_entropy", bias=False).objective(X, y)
    theta = rng.standard_normal(d * m)
    z = X @ theta.reshape(m, d).T
    p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    H = sum(np.kron(np.diag(pi) - np.outer(pi, pi), np.outer(x, x)) for pi, x in zip(p, X)) / N
    np.testing.assert_allclose(obj.hessian(theta), H, atol=1e-13)


def _soft_targets(rng, N, m):
    """Rows that are not all distributions: label smoothing, sums above and below one, zero."""
    Y = rng.uniform(0, 1, (N, m))
    Y[0] = 0.9 * np.eye(m)[1] + 0.1 / m  # label smoothing: sums to 1
    Y[1] = 1.0  # every class: sums to m
    Y[2] = 0.0  # no target: zero loss, zero gradient
    return Y


def test_softmax_cross_entropy_with_soft_targets_is_minus_sum_y_log_p():
    """-sum_j Y_ij log p_ij for any targets in [0, 1]: value, gradient (s_i p_i - y_i) x_i^T with
    s_i = sum_j Y_ij, and Hessian mean_i s_i kron(diag(p_i) - p_i p_i^T, x_i x_i^T)."""
    assert MLP([1, 2], output="softmax", loss="cross_entropy").objective(
        [[1.0]], [[1.0, 1.0]]).loss(np.zeros(4)) == pytest.approx(2 * np.log(2), rel=1e-15)
    rng = np.random.default_rng(7)
    N, d, m = 12, 3, 4
    X, Y = rng.standard_normal((N, d)), _soft_targets(rng, N, m)
    obj = MLP([d, m], output="softmax", loss="cross_entropy", bias=False).objective(X, Y)
    theta = rng.standard_normal(d * m)
    z = X @ theta.reshape(m, d).T
    p = np.exp(z) / np.exp(z).sum(1, keepdims=True)
    s = Y.sum(1)
    assert obj.loss(theta) == pytest.approx(-np.sum(Y * np.log(p)) / N, rel=1e-13)
    grad = (s[:, None] * p - Y).T @ X / N
    np.testing.assert_allclose(obj.grad(theta), grad.ravel(), rtol=1e-12, atol=1e-15)
    H = sum(si * np.kron(np.diag(pi) - np.outer(pi, pi), np.outer(x, x))
            for si, pi, x in zip(s, p, X)) / N
    np.testing.assert_allclose(obj.hessian(theta), H, atol=1e-13)
    np.testing.assert_allclose(obj.losses(theta[None]), [obj.loss(theta)], rtol=1e-14)


def test_soft_target_derivatives_match_finite_differences_in_a_deep_network():
    rng = np.random.default_rng(8)
    X, Y = rng.standard_normal((9, 3)), _soft_targets(rng, 9, 3)
    model = MLP([3, 5, 3], activation="tanh", output="softmax", loss="cross_entropy")
    obj = model.objective(X, Y)
    check = check_derivatives(obj, model.init(rng, gain=1.3), rng=1, n_directions=3)
    assert check.grad_error < 1e-6 and check.hvp_error < 1e-6, check


def test_forward_matches_hand_written_network():
    rng = np.random.default_rng(4)
    X, y = rng.standard_normal((6, 2)), rng.integers(0, 3, 6)
    model = MLP([2, 3, 3], activation="sigmoid", output="softmax", loss="cross_entropy")
    theta = model.init(rng)
    W1, b1 = theta[:6].reshape(3, 2), theta[6:9]
    W2, b2 = theta[9:18].reshape(3, 3), theta[18:21]
    loss = 0.0
    for x, label in zip(X, y):
        h = [1 / (1 + np.exp(-(W1[j] @ x + b1[j]))) for j in range(3)]
        z = [W2[k] @ h + b2[k] for k in range(3)]
        loss += -np.log(np.exp(z[label]) / sum(np.exp(zk) for zk in z))
    assert model.objective(X, y).loss(theta) == pytest.approx(loss / 6, rel=1e-13)
    mse = MLP([2, 3, 3], activation="sigmoid", output="softmax", loss="mse", half_mse=True)
    p = mse.predict(theta, X)
    assert mse.objective(X, y).loss(theta) == pytest.approx(
        0.5 * np.mean((p - np.eye(3)[y]) ** 2), rel=1e-13)


@pytest.mark.parametrize("head", HEADS)
def test_batched_losses_equal_loop(head):
    rng = np.random.default_rng(5)
    model, obj = _problem([3, 6, 5, 2], *head, rng, activation="tanh", weight_decay=1e-3)
    thetas = rng.standard_normal((7, model.n_params))
    loop = np.array([obj.loss(t) for t in thetas])
    np.testing.assert_allclose(obj.losses(thetas), loop, rtol=1e-12, atol=0)
    with execution(memory_budget=1.0):  # one point per chunk
        np.testing.assert_allclose(obj.losses(thetas), loop, rtol=1e-12, atol=0)


def test_losses_in_span_equal_loop():
    rng = np.random.default_rng(6)
    model, obj = _problem([4, 7, 3], "softmax", "cross_entropy", rng, activation="relu")
    center = model.init(rng)
    directions = rng.standard_normal((2, model.n_params))
    coords = rng.uniform(-1, 1, (11, 2))
    loop = np.array([obj.loss(center + c @ directions) for c in coords])
    np.testing.assert_allclose(obj.losses_in_span(center, directions, coords), loop, rtol=1e-12)


def test_step_network_has_exactly_zero_hidden_gradient():
    rng = np.random.default_rng(7)
    model = MLP([2, 5, 1], activation="step", output="sigmoid", loss="cross_entropy")
    X, y = rng.standard_normal((30, 2)), rng.integers(0, 2, 30)
    obj = model.objective(X, y)
    theta = model.init(rng)
    g = obj.grad(theta)
    first = model.blocks[0]
    assert not model.differentiable
    assert np.all(g[first.weight] == 0) and np.all(g[first.bias] == 0)
    assert np.linalg.norm(g[model.blocks[1].weight]) > 0  # the output layer still learns


def test_absolute_error_is_the_mean_absolute_residual_with_sign_gradient_and_no_curvature():
    """Linear regression under mean |X w + b - y|: gradient (1/N) A^T sign(A theta - y) with
    A = [X 1]; the Hessian is zero wherever it exists (off the kinks)."""
    rng = np.random.default_rng(8)
    X, y = rng.standard_normal((20, 3)), rng.standard_normal(20)
    obj = MLP([3, 1], output="linear", loss="mae").objective(X, y)
    A = np.hstack([X, np.ones((20, 1))])
    theta = rng.standard_normal(4)
    r = A @ theta - y
    assert obj.loss(theta) == pytest.approx(np.mean(np.abs(r)), rel=1e-14)
    np.testing.assert_allclose(obj.grad(theta), A.T @ np.sign(r) / 20, rtol=1e-13)
    assert np.all(obj.hessian(theta) == 0)
    # targets the network fits exactly at theta: every residual there is 0, and sign(0) = 0
    model = MLP([3, 1], output="linear", loss="mae")
    exact = model.objective(X, model.predict(theta, X))
    assert exact.loss(theta) == 0 and np.all(exact.grad(theta) == 0)
    # near it the gradient keeps its size, the sign of the residuals: it does not shrink
    d = rng.standard_normal(4)
    near = [exact.grad(theta + t * d) for t in (1e-2, 1e-5, 1e-8)]
    np.testing.assert_allclose(near, [A.T @ np.sign(A @ d) / 20] * 3, rtol=1e-13)


def test_absolute_error_hessian_of_a_sigmoid_output_is_the_outputs_own_curvature():
    """One sigmoid output of a linear layer: loss mean |s(a.theta) - y|; off the kinks its
    Hessian is (1/N) sum sign(s - y) s (1 - s) (1 - 2 s) a a^T, and its Gauss-Newton part
    is zero."""
    rng = np.random.default_rng(9)
    X, y = rng.standard_normal((15, 2)), rng.uniform(0, 1, 15)
    model = MLP([2, 1], output="sigmoid", loss="mae")
    obj = model.objective(X, y)
    theta = rng.standard_normal(3)
    A = np.hstack([X, np.ones((15, 1))])
    s = 1 / (1 + np.exp(-A @ theta))
    weights = np.sign(s - y) * s * (1 - s) * (1 - 2 * s) / 15
    np.testing.assert_allclose(obj.hessian(theta), (A * weights[:, None]).T @ A, rtol=1e-10,
                               atol=1e-15)
    u = rng.standard_normal((15, 1))
    assert np.all(model.head.gauss_newton(A @ theta, y[:, None], u, s[:, None]) == 0)


def test_absolute_error_fisher_is_the_laplace_score_variance():
    """A Laplace of standard deviation sigma (scale b = sigma / sqrt 2) has the score
    sign(y - o) / b in its centre o: its square is 1 / b^2 = 2 / sigma^2 for every y."""
    rng = np.random.default_rng(10)
    model = MLP([2, 3], output="sigmoid", loss="mae")
    z = rng.standard_normal((4, 3))
    o = 1 / (1 + np.exp(-z))
    sigma, u = 0.7, rng.standard_normal((4, 3))
    y = o + rng.laplace(0.0, sigma / np.sqrt(2), (4, 3))
    score = o * (1 - o) * np.sign(y - o) / (sigma / np.sqrt(2))  # in the logits
    np.testing.assert_allclose(model.head.fisher(u, o, sigma), score * score * u, rtol=1e-13)
    with pytest.raises(ValueError, match="noise_std"):
        model.head.fisher(u, o)


def test_unflatten_gives_views_in_pytorch_layout():
    model = MLP([3, 4, 2], bias=[True, False])
    theta = np.arange(model.n_params, dtype=float)
    (W1, b1), (W2, b2) = model.unflatten(theta)
    assert model.n_params == 3 * 4 + 4 + 4 * 2
    assert W1.shape == (4, 3) and b1.shape == (4,) and W2.shape == (2, 4) and b2 is None
    assert np.shares_memory(W1, theta) and np.shares_memory(W2, theta)
    assert W1[1, 0] == 3 and b1[0] == 12 and W2[0, 0] == 16


def test_init_is_reproducible_and_scaled():
    model = MLP([50, 400, 30])
    np.testing.assert_array_equal(model.init(3), model.init(np.random.default_rng(3)))
    assert not np.array_equal(model.init(3), model.init(4))
    W1 = model.unflatten(model.init(0, scheme="he", gain=2.0))[0][0]
    assert W1.std() == pytest.approx(2.0 * np.sqrt(2 / 50), rel=0.02)


def test_float32_is_computed_in_float32():
    rng = np.random.default_rng(8)
    X, y = rng.standard_normal((20, 3)), rng.integers(0, 2, 20)
    m64 = MLP([3, 8, 2], output="softmax", loss="cross_entropy")
    m32 = MLP([3, 8, 2], output="softmax", loss="cross_entropy", dtype=np.float32)
    theta = m64.init(rng)
    o32 = m32.objective(X, y)
    assert o32.grad(theta).dtype == np.float32
    assert o32.loss(theta) == pytest.approx(m64.objective(X, y).loss(theta), rel=1e-6)


def test_accuracy_counts_right_answers():
    X = np.array([[1.0], [-1.0], [2.0]])
    model = MLP([1, 2], output="softmax", loss="cross_entropy", bias=False)
    theta = np.array([1.0, -1.0])  # class 0 iff x > 0
    assert model.accuracy(theta, X, [0, 1, 1]) == pytest.approx(2 / 3)


@pytest.mark.parametrize("make,message", [
    (lambda: MLP([2, 3, 1], activation="swish"), "unknown activation"),
    (lambda: MLP([2, 3, 1], output="tanh"), "unknown output"),
    (lambda: MLP([2, 3, 1], loss="hinge"), "unknown loss"),
    (lambda: MLP([2, 3, 1], output="linear", loss="cross_entropy"), "cross_entropy"),
    (lambda: MLP([2]), "sizes"),
    (lambda: MLP([2, 3, 1], bias=[True]), "bias needs 2"),
    (lambda: MLP([2, 3, 1]).objective(np.ones((4, 2)), np.ones(3)), "different lengths"),
    (lambda: MLP([2, 3, 1]).objective(np.ones((0, 2)), np.ones(0)), "empty"),
    (lambda: MLP([2, 3, 1]).objective(np.ones((4, 3)), np.ones(4)), "columns"),
    (lambda: MLP([2, 3, 1]).objective([[np.nan, 1.0]], [1.0]), "NaN"),
    (lambda: MLP([2, 3, 3], output="softmax", loss="cross_entropy")
     .objective(np.ones((2, 2)), [0, 3]), "labels must be integers in"),
    (lambda: MLP([2, 3, 1]).objective(np.ones((2, 2)), [0.0, 1.0]).loss(np.ones(5)), "length 13"),
    (lambda: MLP([2, 3, 1]).objective(np.ones((2, 2)), [0.0, 1.0]).loss(np.full(13, np.inf)),
     "NaN or inf"),
    (lambda: MLP([2, 3, 1]).objective(np.ones((2, 2)), [0.0, 1.0]).subset([5]), "out of range"),
])
def test_bad_input_raises_clear_error(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_subset_is_the_mean_over_the_chosen_samples():
    rng = np.random.default_rng(9)
    model, obj = _problem([2, 4, 1], "linear", "mse", rng, n=12, activation="tanh")
    theta = model.init(rng)
    a, b = obj.subset(np.arange(0, 4)), obj.subset(np.arange(4, 12))
    assert a.n_samples == 4
    np.testing.assert_allclose((4 * a.grad(theta) + 8 * b.grad(theta)) / 12, obj.grad(theta),
                               atol=1e-15)
