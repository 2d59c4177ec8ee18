"""Property tests over the public API (hypothesis): random shapes, activations, heads, dtypes
and bad values.

Every call either returns a finite result that agrees with an independent answer (central
finite differences, a closed form, ``eigh``, the per-point loop) or raises ``ValueError``
naming the argument; no other exception type gets out. The examples are derandomized (the
same ones on every run, so a failure reproduces) and bounded so the file takes seconds.
"""

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

import landscape as ls
from landscape import functions as F
from landscape.vocabulary import STATUSES

FUZZ = settings(max_examples=25, deadline=None, derandomize=True, database=None)
MANY = settings(FUZZ, max_examples=150)  # bad values: cheap, so more of them
SMOOTH = ["sigmoid", "tanh", "softplus", "linear"]
HEADS = [("linear", "mse"), ("sigmoid", "mse"), ("softmax", "mse"),
         ("softmax", "cross_entropy"), ("sigmoid", "cross_entropy")]


def _targets(rng, output, loss, n, m):
    """Valid targets of every kind the MLP takes: labels, one-hot, soft rows, 0/1, reals."""
    if output == "softmax" and loss == "cross_entropy":
        return [rng.integers(0, m, n), rng.uniform(0, 1, (n, m))][int(rng.integers(2))]
    if loss == "cross_entropy":
        return rng.integers(0, 2, (n, m)).astype(float)
    return rng.uniform(0, 1, (n, m)) if output != "linear" else rng.standard_normal((n, m))


@st.composite
def networks(draw, activations=SMOOTH):
    """A random MLP bound to random data, and a theta: ``(model, objective, theta)``."""
    sizes = draw(st.lists(st.integers(1, 4), min_size=2, max_size=4))
    output, loss = draw(st.sampled_from(HEADS))
    if output == "softmax":
        sizes[-1] = max(sizes[-1], 2)
    n_layers = len(sizes) - 1
    model = ls.MLP(sizes, activation=draw(st.lists(st.sampled_from(activations),
                                                   min_size=n_layers - 1,
                                                   max_size=n_layers - 1)),
                   output=output, loss=loss,
                   bias=draw(st.lists(st.booleans(), min_size=n_layers, max_size=n_layers)),
                   half_mse=draw(st.booleans()),
                   weight_decay=draw(st.sampled_from([0.0, 1e-2])))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    n = draw(st.integers(1, 6))
    X = rng.standard_normal((n, sizes[0]))
    objective = model.objective(X, _targets(rng, output, loss, n, sizes[-1]))
    theta = model.init(rng, gain=draw(st.sampled_from([0.5, 1.0, 2.0])))
    theta += 0.1 * rng.standard_normal(model.n_params)
    return model, objective, theta


@FUZZ
@given(networks())
def test_mlp_derivatives_match_finite_differences(net):
    _, objective, theta = net
    loss, grad = objective.loss_and_grad(theta)
    assert np.isfinite(loss) and np.all(np.isfinite(grad))
    check = ls.check_derivatives(objective, theta, rng=0, n_directions=2)
    assert check.grad_error < 1e-6 and check.hvp_error < 1e-5, check


@FUZZ
@given(networks(activations=SMOOTH + ["relu"]), st.integers(1, 5))
def test_batched_losses_equal_the_loop(net, k):
    model, objective, theta = net
    rng = np.random.default_rng(k)
    thetas = theta + rng.standard_normal((k, model.n_params))
    loop = np.array([objective.loss(t) for t in thetas])
    np.testing.assert_allclose(objective.losses(thetas), loop, rtol=1e-12, atol=1e-14)
    d = ls.random_directions(model.n_params, k=min(2, model.n_params), rng=k).vectors
    coords = rng.uniform(-1, 1, (k, len(d)))
    span = objective.losses_in_span(theta, d, coords)
    np.testing.assert_allclose(span, [objective.loss(theta + c @ d) for c in coords],
                               rtol=1e-11, atol=1e-13)


@FUZZ
@given(networks(activations=["relu"]))
def test_relu_derivatives_away_from_the_kinks(net):
    model, objective, theta = net
    zs, _ = model.forward(model.unflatten(theta), objective.X)
    assume(all(np.min(np.abs(z)) > 1e-3 for z in zs[:-1]))  # FD steps stay on one piece
    check = ls.check_derivatives(objective, theta, rng=0, n_directions=2)
    assert check.grad_error < 1e-6 and check.hvp_error < 1e-5, check


@FUZZ
@given(networks())
def test_float32_agrees_with_float64_to_single_precision(net):
    model, objective, theta = net
    single = ls.MLP(model.sizes, activation=[a.name for a in model.activations],
                    output=model.output, loss=model.loss, bias=model.bias,
                    half_mse=model.half_mse, weight_decay=model.weight_decay,
                    dtype=np.float32).objective(objective.X, objective.Y)
    assert single.loss(theta) == pytest.approx(objective.loss(theta), rel=1e-4, abs=1e-5)


@FUZZ
@given(st.integers(1, 4), st.integers(2, 5), st.integers(0, 2**16))
def test_soft_target_cross_entropy_is_the_formula(n, m, seed):
    """One softmax layer: loss = -mean_i sum_j Y_ij log p_ij for any targets in [0, 1]."""
    rng = np.random.default_rng(seed)
    X, Y = rng.standard_normal((n, 3)), rng.uniform(0, 1, (n, m))
    objective = ls.MLP([3, m], output="softmax", loss="cross_entropy",
                       bias=False).objective(X, Y)
    theta = rng.standard_normal(3 * m)
    z = X @ theta.reshape(m, 3).T
    log_p = z - np.log(np.exp(z).sum(axis=1, keepdims=True))
    assert objective.loss(theta) == pytest.approx(-np.sum(Y * log_p) / n, rel=1e-12)
    check = ls.check_derivatives(objective, theta, rng=0, n_directions=2)
    assert check.grad_error < 1e-6 and check.hvp_error < 1e-6


@st.composite
def quadratics(draw):
    """``f(t) = 1/2 t.A t + b.t`` with ``A`` symmetric: ``(A, b)``."""
    n = draw(st.integers(1, 5))
    rng = np.random.default_rng(draw(st.integers(0, 2**16)))
    M = rng.standard_normal((n, n))
    return 0.5 * (M + M.T), rng.standard_normal(n)


@FUZZ
@given(quadratics(), st.booleans(), st.booleans())
def test_from_function_is_the_formula_with_or_without_derivatives(q, with_grad, with_hvp):
    A, b = q
    n = len(b)
    objective = ls.from_function(lambda t: 0.5 * t @ A @ t + b @ t, n,
                                 grad=(lambda t: A @ t + b) if with_grad else None,
                                 hvp=(lambda t, v: A @ v) if with_hvp else None)
    rng = np.random.default_rng(n)
    theta, v = rng.standard_normal((2, n))
    assert objective.loss(theta) == pytest.approx(0.5 * theta @ A @ theta + b @ theta,
                                                  rel=1e-12, abs=1e-12)
    np.testing.assert_allclose(objective.grad(theta), A @ theta + b, rtol=1e-6, atol=1e-6)
    tol = 1e-10 if with_hvp else 1e-3
    np.testing.assert_allclose(objective.hvp(theta, v), A @ v, rtol=tol, atol=tol)


@FUZZ
@given(st.lists(st.floats(0.1, 3.0), min_size=1, max_size=4), st.floats(0.01, 0.5),
       st.integers(0, 60))
def test_gd_on_a_diagonal_quadratic_is_the_closed_form(lams, lr, steps):
    lams = np.array(lams)
    theta0 = np.ones(len(lams))
    trajectory = ls.run(F.quadratic(lams, rotate=False), theta0, ls.gd(lr), steps)
    t = trajectory.steps[:, None]
    np.testing.assert_allclose(trajectory.thetas, (1 - lr * lams) ** t * theta0,
                               rtol=1e-10, atol=1e-300)
    assert trajectory.status == "max_steps" and len(trajectory.batch_loss) == steps + 1


@FUZZ
@given(quadratics(), st.floats(0.1, 3.0), st.integers(2, 6), st.integers(2, 6))
def test_plane_values_are_the_formula(q, span, n_a, n_b):
    A, b = q
    n = len(b)
    assume(n >= 2)
    objective = ls.from_function(lambda t: 0.5 * t @ A @ t + b @ t, n)
    center = np.arange(n, dtype=float)
    d = ls.random_directions(n, k=2, rng=n)
    surface = ls.plane(objective, center, d, span=span, resolution=(n_a, n_b))
    points = center + surface.coords() @ d.vectors
    expected = 0.5 * np.einsum("ki,ij,kj->k", points, A, points) + points @ b
    np.testing.assert_allclose(surface.values.ravel(), expected, rtol=1e-10, atol=1e-10)


@FUZZ
@given(quadratics(), st.integers(1, 5), st.sampled_from(["LA", "SA"]))
def test_eigenpairs_match_eigh(q, k, which):
    A, _ = q
    assume(k <= len(A))
    spectrum = ls.eigenpairs(A, k, which)
    w = np.linalg.eigvalsh(A)
    expected = w[:k] if which == "SA" else w[len(w) - k:]
    np.testing.assert_allclose(spectrum.eigenvalues, expected, atol=1e-10)
    np.testing.assert_allclose(A @ spectrum.eigenvectors,
                               spectrum.eigenvectors * spectrum.eigenvalues, atol=1e-9)


@FUZZ
@given(networks(), st.integers(0, 2**16))
def test_filter_normalized_directions_have_the_centers_filter_norms(net, seed):
    _, objective, theta = net
    try:
        d = ls.filter_normalized_directions(objective, theta, k=1, rng=seed)
    except ValueError as err:  # filters of one entry cannot hold orthogonal pieces: said so
        assert "orthogonal" in str(err)
        return
    for block in objective.blocks:
        rows = d.vectors[0][block.weight].reshape(block.n_filters, -1)
        centers = theta[block.weight].reshape(block.n_filters, -1)
        np.testing.assert_allclose(np.linalg.norm(rows, axis=1),
                                   np.linalg.norm(centers, axis=1), rtol=1e-12)


# ---------------------------------------------------------------------------------
# Bad values: a ValueError naming the argument, never another exception
# ---------------------------------------------------------------------------------

ANYTHING = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 6), st.floats(allow_nan=True, allow_infinity=True),
    st.complex_numbers(max_magnitude=4), st.text(max_size=3),
    st.lists(st.one_of(st.integers(-2, 5), st.floats(), st.none(), st.text(max_size=2)),
             max_size=4))


@MANY
@given(st.fixed_dictionaries({}, optional={
    "sizes": ANYTHING, "activation": ANYTHING, "output": ANYTHING, "loss": ANYTHING,
    "bias": ANYTHING, "half_mse": ANYTHING, "weight_decay": ANYTHING,
    "dtype": st.one_of(ANYTHING, st.sampled_from([np.float32, np.int64, np.complex128]))}))
def test_mlp_settings_build_a_network_or_name_what_is_wrong(kwargs):
    kwargs.setdefault("sizes", [2, 3, 1])
    try:
        ls.MLP(**kwargs)
    except ValueError as err:
        assert any(name in str(err) for name in kwargs), (kwargs, err)


RUN_SETTINGS = {"steps": ANYTHING, "record_every": ANYTHING, "max_records": ANYTHING,
                "loss_tol": ANYTHING, "grad_tol": ANYTHING, "diverge_factor": ANYTHING,
                "on_divergence": ANYTHING, "batch_size": ANYTHING, "sampling": ANYTHING,
                "metrics": ANYTHING, "rng": ANYTHING}


@MANY
@given(st.fixed_dictionaries({}, optional=RUN_SETTINGS))
def test_run_settings_give_a_trajectory_or_name_what_is_wrong(kwargs):
    objective = ls.MLP([2, 2, 1]).objective(np.ones((4, 2)), np.arange(4.0))
    theta0 = np.linspace(-1, 1, objective.dim)
    try:
        trajectory = ls.run(objective, theta0, ls.gd(0.1), **({"steps": 3} | kwargs))
    except ValueError as err:
        assert any(name in str(err) for name in kwargs), (kwargs, err)
        return
    assert trajectory.status in STATUSES
    assert np.all(np.isfinite(trajectory.thetas))


BAD_ARRAYS = st.one_of(
    st.builds(lambda n: np.full(n, np.nan), st.integers(1, 6)),
    st.builds(lambda n: np.full(n, -np.inf), st.integers(1, 6)),
    st.builds(lambda n: np.ones(n, complex), st.integers(1, 6)),
    st.builds(lambda n: np.ones(n, bool), st.integers(1, 6)),
    st.builds(lambda n: np.ones(n).astype(str), st.integers(1, 6)),
    st.builds(lambda a, b: np.ones((a, b)), st.integers(0, 3), st.integers(0, 3)),
    ANYTHING)


@MANY
@given(BAD_ARRAYS)
def test_a_bad_theta_is_refused_by_every_method_naming_it(bad):
    objective = ls.MLP([2, 2, 1]).objective(np.ones((3, 2)), np.ones(3))
    assume(np.shape(bad) != (objective.dim,) or np.asarray(bad).dtype.kind not in "iuf"
           or not np.all(np.isfinite(bad)))
    ones = np.ones(objective.dim)
    for call, name in ((objective.loss, "theta"), (objective.grad, "theta"),
                       (objective.loss_and_grad, "theta"),
                       (lambda t: objective.hvp(t, ones), "theta"),
                       (lambda t: objective.hvp(ones, t), "v"),
                       (lambda t: ls.run(objective, t, ls.gd(0.1), 2), "theta0"),
                       (lambda t: ls.plane(objective, t, ls.random_directions(9, rng=0)),
                        "center")):
        with pytest.raises(ValueError, match=f"^{name} "):
            call(bad)


@MANY
@given(st.one_of(BAD_ARRAYS, st.builds(lambda a, b: np.ones((a, b)), st.integers(1, 4),
                                       st.integers(1, 4))),
       st.one_of(BAD_ARRAYS, st.builds(lambda n: np.zeros(n), st.integers(0, 5))))
def test_data_bind_or_name_x_or_y(X, y):
    model = ls.MLP([2, 3, 2], output="softmax", loss="cross_entropy")
    try:
        objective = model.objective(X, y)
    except ValueError as err:
        assert any(word in str(err) for word in ("X", "y", "labels", "targets")), err
        return
    assert np.isfinite(objective.loss(model.init(rng=0)))
