"""Critical points against published coordinates and closed forms (Himmelblau, the monkey
saddle, Baldi-Hornik linear networks, an MLP's trivial saddle)."""

import itertools
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest
from scipy.optimize import minimize
from scipy.stats import spearmanr

from landscape import MLP, Execution, from_function, gd, run
from landscape import functions as F
from landscape.critical import (
    classify,
    critical_points_in_box,
    find_critical_point,
    find_critical_points,
    loss_and_index,
)
from landscape.hessian import sharpness

# -- low-dimensional functions -------------------------------------------------------------

# Himmelblau's critical points as published (minima: Himmelblau 1972; the maximum and the
# saddles to 6 decimals), and their kinds.
HIMMELBLAU = [
    ((3.0, 2.0), "minimum"),
    ((-2.805118, 3.131312), "minimum"),
    ((-3.779310, -3.283186), "minimum"),
    ((3.584428, -1.848126), "minimum"),
    ((-0.270845, -0.923039), "maximum"),
    ((0.086678, 2.884255), "saddle"),
    ((3.385154, 0.073852), "saddle"),
    ((-3.073026, -0.081353), "saddle"),
    ((-0.127961, -1.953715), "saddle"),
]


def test_himmelblau_multistart_finds_all_nine_points():
    points = critical_points_in_box(F.himmelblau(), [[-5, 5], [-5, 5]])
    assert len(points) == 9
    for published, kind in HIMMELBLAU:
        nearest = min(points, key=lambda p: np.linalg.norm(p.theta - published))
        assert np.abs(nearest.theta - published).max() < 1e-6
        assert nearest.kind == kind
        assert nearest.grad_norm < 1e-8
    indices = sorted(p.index for p in points)
    assert indices == [0, 0, 0, 0, 1, 1, 1, 1, 2]
    assert min(p.loss for p in points) == pytest.approx(0.0, abs=1e-20)


def test_six_hump_camel_multistart_matches_known_points():
    f = F.six_hump_camel()
    with ThreadPoolExecutor(2) as pool:
        points = critical_points_in_box(f, execution=Execution(executor=pool))
    serial = critical_points_in_box(f)
    np.testing.assert_array_equal([p.theta for p in points], [p.theta for p in serial])
    assert len(points) == len(f.critical_points) == 15
    for known in f.critical_points:
        nearest = min(points, key=lambda p: np.linalg.norm(p.theta - known.theta))
        assert np.linalg.norm(nearest.theta - known.theta) < 1e-8
        assert nearest.kind == known.kind


def test_lsqr_search_converges_to_a_saddle():
    start = np.array([3.2, 0.3])  # near Himmelblau's saddle at (3.385154, 0.073852)
    found = find_critical_point(F.himmelblau(), start, method="lsqr")
    assert found.converged and found.n_hvp > 0
    assert np.abs(found.theta - [3.385154, 0.073852]).max() < 1e-6
    assert classify(F.himmelblau(), found.theta).kind == "saddle"


def test_simple_saddles():
    monkey = classify(F.monkey_saddle(), [0.0, 0.0])
    assert monkey.kind == "degenerate" and monkey.n_zero == 2 and monkey.index == 0
    s = classify(F.saddle(), [0.0, 0.0])
    assert s.kind == "saddle" and s.index == 1 and s.fraction == 0.5
    np.testing.assert_allclose(s.eigenvalues, [-2.0, 2.0])
    lee = classify(F.lee_saddle(), [0.0, 1.0])
    assert lee.kind == "minimum" and lee.loss == pytest.approx(-0.25)


def test_classification_matches_the_functions_known_kinds():
    for name in ("saddle", "monkey_saddle", "lee_saddle", "himmelblau", "beale"):
        f = F.ALL[name]()
        for known in f.critical_points:
            assert classify(f, known.theta).kind == known.kind, (name, known)


# -- linear networks: Baldi and Hornik (1989) ----------------------------------------------


class LinearNet:
    """``½ mean ||y - W2 W1 x||²`` with ``d`` inputs and outputs, ``p`` hidden units, and the
    closed form of its critical points: for a set ``I`` of ``p`` eigenvectors ``u_i`` of
    ``Σ = Σ_YX Σ_XX⁻¹ Σ_XY`` (eigenvalues ``λ_i``), ``W2 = U_I C``,
    ``W1 = C⁻¹ U_Iᵀ Σ_YX Σ_XX⁻¹`` is critical with loss ``½(tr Σ_YY - Σ_{i∈I} λ_i)``. In
    coordinates whitening ``x`` (a congruence, which keeps the inertia) the Hessian splits
    into 2 x 2 blocks, one per ``i ∈ I`` and ``j ∉ I``, with determinant ``∝ λ_i - λ_j``, and
    a ``p²``-dimensional null space from ``(W2, W1) -> (W2 A⁻¹, A W1)``: the index is
    ``#{(i, j): i ∈ I, j ∉ I, λ_j > λ_i}`` and ``p²`` eigenvalues vanish."""

    def __init__(self, d=4, p=2, n=50, seed=0):
        rng = np.random.default_rng(seed)
        X = rng.standard_normal((n, d)) @ rng.standard_normal((d, d))
        Y = X @ rng.standard_normal((d, d)).T + 0.3 * rng.standard_normal((n, d))
        self.f, self.d, self.p = F.deep_linear((d, p, d), X, Y), d, p
        sxx, syx, self.syy = X.T @ X / n, Y.T @ X / n, Y.T @ Y / n
        self.regression = syx @ np.linalg.inv(sxx)
        lam, u = np.linalg.eigh(self.regression @ syx.T)
        self.lam, self.u = lam[::-1], u[:, ::-1]

    def point(self, subset, rng=None):
        u = self.u[:, list(subset)]
        c = np.eye(self.p) if rng is None else np.eye(self.p) + 0.5 * rng.standard_normal(
            (self.p, self.p))
        return np.concatenate([(np.linalg.inv(c) @ u.T @ self.regression).ravel(),
                               (u @ c).ravel()])

    def product(self, theta):
        w1, w2 = self.f.unflatten(theta)
        return w2 @ w1

    def loss(self, subset):
        return 0.5 * (np.trace(self.syy) - self.lam[list(subset)].sum())

    def index(self, subset):
        rest = [j for j in range(self.d) if j not in subset]
        return sum(self.lam[j] > self.lam[i] for i in subset for j in rest)


@pytest.fixture(scope="module")
def linear():
    return LinearNet()


def test_linear_network_critical_points_match_closed_form(linear):
    rng = np.random.default_rng(1)
    seen = set()
    for subset in itertools.combinations(range(linear.d), linear.p):
        theta = linear.point(subset, rng)
        cp = classify(linear.f, theta)
        assert cp.grad_norm < 1e-10
        assert cp.loss == pytest.approx(linear.loss(subset), rel=1e-12)
        assert cp.index == linear.index(subset)
        assert cp.n_zero == linear.p**2
        assert cp.kind == ("degenerate" if cp.index == 0 else "saddle")
        seen.add(cp.index)
    assert seen == {0, 1, 2, 3, 4}


def test_linear_network_origin_is_a_saddle_of_known_index(linear):
    cp = classify(linear.f, np.zeros(linear.f.dim))
    # At 0 the Hessian pairs each hidden unit with each singular direction of Σ_YX:
    # eigenvalues ±(something nonzero) p * rank times, zero elsewhere.
    assert cp.index == linear.p * linear.d
    assert cp.n_zero == linear.f.dim - 2 * linear.p * linear.d
    assert cp.kind == "saddle"
    assert cp.loss == pytest.approx(0.5 * np.trace(linear.syy), rel=1e-12)


def test_finder_converges_to_linear_network_critical_points(linear):
    rng = np.random.default_rng(2)
    for subset in [(0, 1), (0, 2), (2, 3)]:
        start = linear.point(subset) + 1e-3 * rng.standard_normal(linear.f.dim)
        found = find_critical_point(linear.f, start, gtol=1e-10)
        assert found.converged
        np.testing.assert_allclose(linear.product(found.theta),
                                   linear.product(linear.point(subset)), atol=1e-8)
        cp = classify(linear.f, found.theta)
        assert cp.loss == pytest.approx(linear.loss(subset), rel=1e-10)
        assert (cp.index, cp.n_zero) == (linear.index(subset), linear.p**2)


def test_gradient_descent_from_small_start_reaches_global_minimum(linear):
    theta0 = 1e-3 * np.random.default_rng(3).standard_normal(linear.f.dim)
    lr = 1.0 / sharpness(linear.f, linear.point((0, 1)))
    trajectory = run(linear.f, theta0, gd(lr), 20000, record_every=1000, grad_tol=1e-10)
    assert trajectory.status == "converged"
    assert trajectory.final_loss == pytest.approx(linear.loss((0, 1)), rel=1e-9)
    cp = classify(linear.f, trajectory.final_theta)
    assert cp.index == 0 and cp.n_zero == linear.p**2


def test_linear_network_global_minimum_is_degenerate_but_a_minimum_candidate(linear):
    # The best subset (the top p eigenvectors) is the global minimum; the rescaling
    # (W2, W1) -> (W2 A⁻¹, A W1) makes its tangents (-W2 B, B W1), B any p x p matrix, the
    # p² zero directions, so the label is 'degenerate', never 'minimum'.
    theta = linear.point((0, 1), np.random.default_rng(4))
    cp = classify(linear.f, theta)
    assert (cp.kind, cp.index, cp.n_zero) == ("degenerate", 0, linear.p**2)
    assert cp.is_local_min_candidate() and cp.grad_norm < 1e-10
    w1, w2 = linear.f.unflatten(theta)
    tangents = np.array([np.concatenate([(b @ w1).ravel(), (-w2 @ b).ravel()])
                         for b in np.eye(linear.p**2).reshape(-1, linear.p, linear.p)])
    w, v = np.linalg.eigh(linear.f.hessian(theta))
    zero_space = v[:, np.abs(w) <= cp.tol]
    inside = np.linalg.norm(zero_space.T @ np.linalg.qr(tangents.T)[0], axis=0)
    np.testing.assert_allclose(inside, 1.0, atol=1e-8)
    # a saddle (index 1) is no candidate, nor the minimum when gtol is below its gradient
    assert not classify(linear.f, linear.point((0, 2))).is_local_min_candidate()
    assert not cp.is_local_min_candidate(gtol=cp.grad_norm / 2)


def test_scalar_chain_has_all_zero_hessian_at_origin():
    f = F.deep_linear((1, 1, 1, 1))  # ½(1 - w1 w2 w3)²
    cp = classify(f, np.zeros(3))
    assert cp.kind == "degenerate" and cp.n_zero == 3
    np.testing.assert_array_equal(cp.eigenvalues, 0.0)
    assert cp.grad_norm == 0.0 and cp.loss == 0.5
    # not a minimum: the loss falls along (t, t, t), ½(1 - t³)² < ½
    assert f.loss(np.full(3, 0.1)) < cp.loss


# -- an MLP: Dauphin et al. (2014), Fig. 1 -----------------------------------------------


@pytest.fixture(scope="module")
def tiny_mlp():
    """A 1-3-1 tanh net (no hidden biases) fitting sin(3x), with weight decay 1e-3, which
    makes its critical points isolated (no flat directions from dead units)."""
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (40, 1))
    model = MLP([1, 3, 1], activation="tanh", bias=[False, True], weight_decay=1e-3)
    return model, model.objective(x, np.sin(3 * x)), x, np.sin(3 * x)


def test_mlp_trivial_saddle_matches_closed_form(tiny_mlp):
    # With every weight 0 and the output bias at mean(y), f = mean(y): critical, loss var(y).
    # There the Hessian of mean((f - y)²) + ½ wd |W|² pairs each unit's input weight w_j with
    # its output weight a_j through m = mean((ȳ - y) x), [[wd, 2m], [2m, wd]]: eigenvalues
    # wd ± 2|m| per unit, and 2 for the output bias.
    model, obj, x, y = tiny_mlp
    theta = np.zeros(obj.dim)
    theta[-1] = y.mean()
    m, wd = np.mean((y.mean() - y) * x), model.weight_decay
    cp = classify(obj, theta)
    expected = np.sort([wd - 2 * abs(m)] * 3 + [wd + 2 * abs(m)] * 3 + [2.0])
    np.testing.assert_allclose(cp.eigenvalues, expected, atol=1e-12)
    assert cp.grad_norm < 1e-15 and cp.loss == pytest.approx(y.var(), rel=1e-12)
    assert (cp.kind, cp.index, cp.n_zero) == ("saddle", 3, 0)


def test_mlp_loss_rises_with_index(tiny_mlp):
    # Dauphin et al. (2014), Fig. 1: the higher a critical point's loss, the more negative
    # directions. Starts: 4 BFGS minima (scipy) and 16 random initializations.
    model, obj, x, y = tiny_mlp
    minima = [minimize(obj.loss_and_grad, model.init(rng=s, gain=2.0), jac=True,
                       method="BFGS", options={"gtol": 1e-6}).x for s in range(4)]
    starts = np.array(minima + [model.init(rng=10 + s, gain=g)
                                for s, g in enumerate(np.linspace(0.3, 3.0, 16))])
    points = find_critical_points(obj, starts, max_iter=50)
    assert len(points) >= 6
    for p in points:
        assert np.linalg.norm(obj.grad(p.theta)) <= 1e-8
    li = loss_and_index(points)
    assert np.all(np.diff(li.loss) >= 0)
    assert li.index[0] == 0 and li.index[-1] == 3  # the lowest a minimum, the highest
    assert li.loss[-1] == pytest.approx(y.var(), rel=1e-9)  # the trivial saddle
    assert len(set(li.index)) >= 3
    assert spearmanr(li.loss, li.index).statistic > 0.8
    np.testing.assert_allclose(li.fraction, li.index / obj.dim)


# -- bad input -----------------------------------------------------------------------------


def test_bad_input_is_a_clear_error():
    f = F.himmelblau()
    with pytest.raises(ValueError, match="NaN"):
        classify(f, [np.nan, 0.0])
    with pytest.raises(ValueError, match="length"):
        classify(f, [0.0, 0.0, 0.0])
    with pytest.raises(ValueError, match="max_dim"):
        classify(f, [0.0, 0.0], max_dim=1)
    with pytest.raises(ValueError, match="gtol"):
        find_critical_point(f, [0.0, 0.0], gtol=0.0)
    with pytest.raises(ValueError, match="method"):
        find_critical_point(f, [0.0, 0.0], method="newton")
    with pytest.raises(ValueError, match="bounds"):
        critical_points_in_box(f, [[1.0, -1.0], [0.0, 1.0]])
    with pytest.raises(ValueError, match="bounds is required"):
        critical_points_in_box(from_function(lambda t: t @ t, 2, grad=lambda t: 2 * t))
    with pytest.raises(ValueError, match="too many"):
        critical_points_in_box(F.rosenbrock(6), np.tile([-1.0, 1.0], (6, 1)), n_per_dim=10)
