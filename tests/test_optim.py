"""Optimizers, their transforms and schedules against closed forms, hand-written references
and the convergence rates of theory."""

import math
import pickle

import numpy as np
import pytest
from scipy.optimize import rosen, rosen_der

from landscape import from_function
from landscape import functions as F
from landscape.optim import (
    GradientTransformation,
    Optimizer,
    adagrad,
    adam,
    add_decayed_weights,
    add_perturbation,
    chain,
    clip,
    clip_by_global_norm,
    gd,
    momentum,
    nesterov,
    optimizer,
    perturbed,
    perturbed_gd,
    rmsprop,
    saddle_free_newton,
    scale_by_adagrad,
    scale_by_adam,
    scale_by_learning_rate,
    scale_by_momentum,
    scale_by_nesterov,
    scale_by_rms,
    scale_by_saddle_free_newton,
)
from landscape.runner import run
from landscape.schedules import constant, cosine, inverse_time, step_decay

C = np.array([0.5, -2.0, 3.0])


def linear():
    """``f = c . theta``: its gradient is the constant ``c``."""
    return from_function(lambda t: float(C @ t), 3, grad=lambda t: C.copy())


def steps_of(trajectory):
    return np.diff(trajectory.thetas, axis=0)


# ---------------------------------------------------------------------------------
# Update rules: closed forms under a constant gradient
# ---------------------------------------------------------------------------------

LR, BETA, EPS = 0.1, 0.8, 1e-8
T = np.arange(30)[:, None]
CLOSED_FORMS = [
    (gd(LR), -LR * C + 0 * T),
    (momentum(LR, BETA), -LR * C * (1 - BETA ** (T + 1)) / (1 - BETA)),
    (nesterov(LR, BETA), -LR * (C + BETA * C * (1 - BETA ** (T + 1)) / (1 - BETA))),
    (adagrad(LR, EPS), -LR * C / (np.abs(C) * np.sqrt(T + 1) + EPS)),
    (rmsprop(LR, 0.9, EPS), -LR * C / (np.abs(C) * np.sqrt(1 - 0.9 ** (T + 1)) + EPS)),
    # bias correction makes every Adam step -lr c / (|c| + eps), the first one included
    (adam(LR, 0.9, 0.999, EPS), -LR * C / (np.abs(C) + EPS) + 0 * T),
]


@pytest.mark.parametrize("optimizer, expected", CLOSED_FORMS, ids=lambda o: getattr(o, "name", ""))
def test_constant_gradient_steps_match_closed_form(optimizer, expected):
    tr = run(linear(), np.zeros(3), optimizer, len(T), diverge_factor=None)
    np.testing.assert_allclose(steps_of(tr), expected, rtol=1e-10)


def test_momentum_reaches_terminal_velocity_lr_over_one_minus_beta():
    tr = run(linear(), np.zeros(3), momentum(LR, 0.5), 80, diverge_factor=None)
    np.testing.assert_allclose(steps_of(tr)[-1], -LR * C / (1 - 0.5), rtol=1e-12)


def test_heavy_ball_equals_polyak_two_step_form():
    q = F.quadratic([0.05, 0.5, 2.0], rng=1)
    lr, beta = 0.3, 0.7
    theta0 = np.array([1.0, -0.5, 0.25])
    tr = run(q, theta0, momentum(lr, beta), 60)
    prev, x, xs = theta0, theta0, [theta0]
    for _ in range(60):
        prev, x = x, x - lr * q.A @ x + beta * (x - prev)
        xs.append(x)
    np.testing.assert_allclose(tr.thetas, xs, rtol=1e-12, atol=1e-14)


def test_nesterov_equals_look_ahead_form():
    """Our iterates are the look-ahead points y of x' = y - lr grad(y), y' = x' + beta (x' - x)."""
    q = F.quadratic([0.05, 0.5, 2.0], rng=2)
    lr, beta = 0.3, 0.7
    theta0 = np.array([1.0, -0.5, 0.25])
    tr = run(q, theta0, nesterov(lr, beta), 60)
    x, y, ys = theta0, theta0, [theta0]
    for _ in range(60):
        x_new = y - lr * q.A @ y
        x, y = x_new, x_new + beta * (x_new - x)
        ys.append(y)
    np.testing.assert_allclose(tr.thetas, ys, rtol=1e-12, atol=1e-14)


def test_updates_are_pure():
    theta, g = np.array([1.0, 2.0, 3.0]), np.array([0.1, -0.2, 0.3])
    for opt in (momentum(0.1), adam(0.1), perturbed_gd(0.1, g_threshold=1.0, rng=0)):
        state = opt.init(theta)
        first = opt.update(g, state, theta, linear())
        second = opt.update(g, state, theta, linear())
        np.testing.assert_array_equal(first[0], second[0])
        np.testing.assert_array_equal(theta, [1.0, 2.0, 3.0])
        np.testing.assert_array_equal(g, [0.1, -0.2, 0.3])


@pytest.mark.parametrize("opt", [gd(0.1), momentum(0.1), nesterov(0.1), adagrad(0.1),
                                 rmsprop(0.1), adam(0.1), perturbed_gd(0.1, rng=3)],
                         ids=lambda o: o.name)
def test_optimizers_pickle(opt):
    copy = pickle.loads(pickle.dumps(opt))
    a = run(linear(), np.ones(3), opt, 5, diverge_factor=None)
    b = run(linear(), np.ones(3), copy, 5, diverge_factor=None)
    np.testing.assert_array_equal(a.thetas, b.thetas)
    assert copy.name == opt.name and copy.hyperparams == opt.hyperparams


# ---------------------------------------------------------------------------------
# Transforms alone: closed forms under a constant input u
# ---------------------------------------------------------------------------------

U = np.array([3.0, -4.0, 0.5])  # ||U|| = sqrt(25.25)
THETA = np.array([0.7, -1.1, 2.0])
TRANSFORM_FORMS = [
    (scale_by_momentum(BETA), lambda t: U * (1 - BETA ** (t + 1)) / (1 - BETA)),
    (scale_by_nesterov(BETA), lambda t: U + BETA * U * (1 - BETA ** (t + 1)) / (1 - BETA)),
    (scale_by_adagrad(EPS), lambda t: U / (np.abs(U) * np.sqrt(t + 1) + EPS)),
    (scale_by_rms(0.9, EPS), lambda t: U / (np.abs(U) * np.sqrt(1 - 0.9 ** (t + 1)) + EPS)),
    (scale_by_adam(0.9, 0.999, EPS), lambda t: U / (np.abs(U) + EPS)),
    (scale_by_learning_rate(inverse_time(0.5, 2.0)), lambda t: -0.5 / (1 + 2.0 * t) * U),
    (clip_by_global_norm(2.0), lambda t: U * 2.0 / math.sqrt(25.25)),
    (clip_by_global_norm(6.0), lambda t: U),
    (clip(1.0), lambda t: np.array([1.0, -1.0, 0.5])),
    (add_decayed_weights(0.3), lambda t: U + 0.3 * THETA),
]


@pytest.mark.parametrize("transform, formula", TRANSFORM_FORMS,
                         ids=lambda x: str(x.hyperparams) if hasattr(x, "hyperparams") else "")
def test_each_transform_alone_matches_its_formula(transform, formula):
    state = transform.init(THETA)
    for t in range(20):
        out, state = transform.update(U.copy(), state, THETA, None)
        np.testing.assert_allclose(out, formula(t), rtol=1e-12)


def test_weight_decay_adds_the_gradient_of_the_l2_term():
    wd = 0.25
    theta = np.random.default_rng(0).standard_normal(4)
    penalty = lambda t: 0.5 * wd * t @ t
    fd = np.array([(penalty(theta + h) - penalty(theta - h)) / 2e-6 for h in 1e-6 * np.eye(4)])
    decay = add_decayed_weights(wd)
    out, _ = decay.update(np.zeros(4), decay.init(theta), theta, None)
    np.testing.assert_allclose(out, fd, rtol=1e-8)
    # A run with weight decay is gradient descent on the loss plus the penalty.
    f = from_function(rosen, 2, grad=rosen_der)
    g = from_function(lambda t: rosen(t) + penalty(t), 2, grad=lambda t: rosen_der(t) + wd * t)
    decayed = run(f, [-1.2, 1.0], optimizer(chain(add_decayed_weights(wd),
                                                  scale_by_learning_rate(1e-3)), "l2"), 200)
    np.testing.assert_allclose(decayed.thetas, run(g, [-1.2, 1.0], gd(1e-3), 200).thetas,
                               rtol=1e-13)


def test_clipped_adam_chain_equals_a_hand_written_reference():
    lr, b1, b2, eps, max_norm = 1e-2, 0.9, 0.999, 1e-8, 50.0
    opt = optimizer(chain(clip_by_global_norm(max_norm), scale_by_adam(b1, b2, eps),
                          scale_by_learning_rate(lr)), "clipped adam")
    tr = run(from_function(rosen, 2, grad=rosen_der), [-1.2, 1.0], opt, 50)
    theta, m, v, expected, clipped = np.array([-1.2, 1.0]), np.zeros(2), np.zeros(2), [], 0
    for t in range(1, 51):  # Kingma & Ba (2015), Algorithm 1, after clipping the gradient
        expected.append(theta)
        g = rosen_der(theta)
        norm = math.sqrt(g[0] ** 2 + g[1] ** 2)
        if norm > max_norm:
            g, clipped = g * (max_norm / norm), clipped + 1
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        theta = theta - lr * (m / (1 - b1**t)) / (np.sqrt(v / (1 - b2**t)) + eps)
    expected.append(theta)
    assert 0 < clipped < 50  # both branches of the clipping were taken
    np.testing.assert_allclose(tr.thetas, expected, rtol=0, atol=1e-15)
    np.testing.assert_array_equal(tr.lr[:-1], lr)
    assert tr.optimizer == "clipped adam"
    assert tr.hyperparams == {"lr": lr, "max_norm": max_norm, "b1": b1, "b2": b2, "eps": eps}


def test_chain_accepts_optimizers_and_merges_their_settings():
    opt = optimizer(chain(clip(0.5), clip(2.0), adam(0.1)), "twice clipped adam")
    assert opt.hyperparams == {"lr": 0.1, "b1": 0.9, "b2": 0.999, "eps": 1e-8,
                               "max_delta": 0.5, "max_delta_1": 2.0}
    assert opt.lr(0) == 0.1
    tr = run(linear(), np.zeros(3), opt, 3, diverge_factor=None)
    np.testing.assert_allclose(steps_of(tr), -0.1 * np.sign(C) + 0 * T[:3], rtol=1e-7)


def test_a_custom_chain_pickles():
    opt = optimizer(chain(add_decayed_weights(0.1), scale_by_adam(), clip(0.5),
                          scale_by_learning_rate(cosine(0.1, 10))), "custom")
    copy = pickle.loads(pickle.dumps(opt))
    a = run(linear(), np.ones(3), opt, 5, diverge_factor=None)
    np.testing.assert_array_equal(a.thetas, run(linear(), np.ones(3), copy, 5,
                                                diverge_factor=None).thetas)


def test_perturbation_wraps_a_chain():
    inner = chain(clip_by_global_norm(1.0), scale_by_learning_rate(0.1))
    tr = run(zero_objective(), [0.0, 0.0], optimizer(add_perturbation(inner, 0.5, 1e-3, 0,
                                                                      rng=4), "pgd"), 3)
    assert np.all(np.linalg.norm(steps_of(tr), axis=1) > 0)
    assert tr.hyperparams["lr"] == 0.1 and tr.hyperparams["max_norm"] == 1.0


def test_bad_chains():
    with pytest.raises(ValueError, match="at most one learning rate"):
        chain(scale_by_adam(), scale_by_learning_rate(0.1), scale_by_learning_rate(0.2))
    with pytest.raises(ValueError, match=r"transforms\[1\]"):
        chain(clip(1.0), "adam")
    with pytest.raises(ValueError, match="transform"):
        optimizer(lambda g: g, "mine")
    with pytest.raises(ValueError, match="name"):
        optimizer(scale_by_adam(), "")
    with pytest.raises(ValueError, match="inner"):
        add_perturbation(None)


def test_a_transform_written_by_hand_chains():
    """A user's transform: the sign of the update (signSGD), as a GradientTransformation."""
    sign = GradientTransformation(lambda theta: (), lambda u, s, theta, objective: (np.sign(u), s),
                                  {"sign": True})
    tr = run(linear(), np.zeros(3), optimizer(chain(sign, scale_by_learning_rate(0.1)), "sign"),
             4, diverge_factor=None)
    np.testing.assert_allclose(tr.final_theta, -0.4 * np.sign(C), rtol=1e-15)


# ---------------------------------------------------------------------------------
# Schedules
# ---------------------------------------------------------------------------------


def test_schedule_values():
    assert constant(0.3)(1000) == 0.3
    s = step_decay(1.0, 0.5, 10)
    assert (s(0), s(9), s(10), s(25)) == (1.0, 1.0, 0.5, 0.25)
    c = cosine(1.0, 100, 0.1)
    assert c(0) == pytest.approx(1.0) and c(50) == pytest.approx(0.55)
    assert c(100) == pytest.approx(0.1) and c(150) == pytest.approx(0.1)
    assert c(25) == pytest.approx(0.1 + 0.45 * (1 + math.cos(math.pi / 4)))
    i = inverse_time(2.0, 0.5)
    assert (i(0), i(2), i(6)) == (2.0, 1.0, 0.5)


@pytest.mark.parametrize("schedule", [step_decay(0.5, 0.1, 4), cosine(0.5, 10, 0.05),
                                      inverse_time(0.5, 2.0)], ids=lambda s: s.kind)
def test_gd_follows_schedule(schedule):
    tr = run(linear(), np.zeros(3), gd(schedule), 12, diverge_factor=None)
    lrs = np.array([schedule(t) for t in range(12)])
    np.testing.assert_allclose(tr.lr[:-1], lrs, rtol=0, atol=0)
    np.testing.assert_allclose(tr.final_theta, -C * lrs.sum(), rtol=1e-13)


# ---------------------------------------------------------------------------------
# Rates of theory on quadratics
# ---------------------------------------------------------------------------------


def measured_rate(trajectory, t0, t1):
    """The contraction per step of ||theta_t - 0|| between steps t0 and t1."""
    norms = np.linalg.norm(trajectory.thetas, axis=1)
    return (norms[t1] / norms[t0]) ** (1.0 / (t1 - t0))


def test_gd_contracts_at_one_minus_mu_over_l():
    mu, L = 0.1, 1.0
    q = F.quadratic([mu, 0.4, 0.7, L], rng=0)
    theta0 = np.random.default_rng(0).standard_normal(4)
    tr = run(q, theta0, gd(1.0 / L), 300)
    assert measured_rate(tr, 200, 300) == pytest.approx(1 - mu / L, rel=0.01)


def test_gd_step_above_two_over_l_diverges_below_converges():
    q = F.quadratic([0.1, 0.5, 1.0], rng=0)
    theta0 = np.array([1.0, 1.0, 1.0])
    above = run(q, theta0, gd(2.02), 2000)
    below = run(q, theta0, gd(1.98), 2000)
    assert above.status == "diverged" and above.diverged_at is not None
    assert below.status == "max_steps" and below.diverged_at is None
    assert below.final_loss < 1e-12 * q.loss(theta0)


KAPPA_MU, KAPPA_L = 0.01, 1.0  # kappa = 100


def heavy_ball_optimal():
    sk = math.sqrt(KAPPA_L / KAPPA_MU)
    lr = (2 / (math.sqrt(KAPPA_L) + math.sqrt(KAPPA_MU))) ** 2
    beta = ((sk - 1) / (sk + 1)) ** 2
    return momentum(lr, beta), (sk - 1) / (sk + 1)


def test_heavy_ball_converges_at_optimal_rate():
    q = F.quadratic([KAPPA_MU, 0.3, KAPPA_L], rng=0)
    opt, rate = heavy_ball_optimal()
    tr = run(q, np.ones(3), opt, 400)
    assert measured_rate(tr, 200, 400) == pytest.approx(rate, rel=0.03)


def test_heavy_ball_needs_sqrt_kappa_fewer_steps_than_gd():
    q = F.quadratic([KAPPA_MU, 0.3, KAPPA_L], rng=0)
    opt, _ = heavy_ball_optimal()
    fast = run(q, np.ones(3), opt, 5000, loss_tol=1e-8)
    slow = run(q, np.ones(3), gd(1.0 / KAPPA_L), 5000, loss_tol=1e-8)
    assert fast.status == slow.status == "converged"
    assert slow.n_steps >= math.sqrt(KAPPA_L / KAPPA_MU) * fast.n_steps


# ---------------------------------------------------------------------------------
# Rosenbrock
# ---------------------------------------------------------------------------------


@pytest.mark.parametrize("opt", [momentum(2e-3, 0.9), nesterov(1e-3, 0.9),
                                 adam(cosine(0.05, 5000))], ids=lambda o: o.name)
def test_reaches_rosenbrock_minimum(opt):
    # Nesterov is stable near (1, 1) (top curvature ~1002) only for lr < 2 (1 + beta) /
    # ((1 + 2 beta) 1002) ~ 1.35e-3; Adam needs a decaying rate to settle on the minimum.
    tr = run(F.rosenbrock(), [-1.2, 1.0], opt, 5000, record_every=100)
    assert np.max(np.abs(tr.final_theta - 1.0)) < 1e-4
    assert rosen(tr.final_theta) < 1e-8


# ---------------------------------------------------------------------------------
# Saddles
# ---------------------------------------------------------------------------------


def test_gd_stays_at_saddle_perturbed_gd_escapes():
    f = F.saddle()  # x^2 - y^2
    stuck = run(f, [0.0, 0.0], gd(0.1), 100)
    np.testing.assert_array_equal(stuck.thetas, 0.0)
    radius = 1e-3
    free = run(f, [0.0, 0.0], perturbed_gd(0.1, radius, 1e-3, 10, rng=0), 100)
    assert 0 < np.linalg.norm(free.thetas[1]) <= 1.2 * radius  # the kick, then a small step
    assert abs(free.final_theta[1]) > 1 and free.final_loss < -1


@pytest.mark.parametrize("y0, eta", [(1e-3, 0.1), (1e-6, 0.05), (0.3, 0.5), (-2e-4, 0.2)])
def test_gd_escape_time_from_quadratic_saddle(y0, eta):
    f = F.quadratic([1.0, -1.0], rotate=False)  # x^2/2 - y^2/2
    expected = math.ceil(math.log(1 / abs(y0)) / math.log(1 + eta))
    tr = run(f, [0.5, y0], gd(eta), expected + 5)
    escaped = np.flatnonzero(np.abs(tr.thetas[:, 1]) > 1)
    assert tr.steps[escaped[0]] == expected


def zero_objective():
    return from_function(lambda t: 0.0, 2, grad=lambda t: np.zeros(2))


def test_perturbed_kicks_are_uniform_in_the_ball_and_spaced():
    radius = 0.5
    tr = run(zero_objective(), [0.0, 0.0], perturbed_gd(0.1, radius, 1e-3, 0, rng=4), 4000)
    norms = np.linalg.norm(steps_of(tr), axis=1)  # on f = 0 every step is a kick
    assert np.all((norms > 0) & (norms <= radius))
    assert np.mean(norms <= radius / 2) == pytest.approx(0.25, abs=0.04)  # area fraction
    spaced = run(zero_objective(), [0.0, 0.0], perturbed_gd(0.1, radius, 1e-3, 3, rng=4), 20)
    assert np.flatnonzero(np.linalg.norm(steps_of(spaced), axis=1)).tolist() == [0, 4, 8, 12, 16]


def test_perturbed_same_seed_same_kicks():
    a = run(zero_objective(), [0.0, 0.0], perturbed_gd(0.1, 0.5, 1e-3, 0, rng=7), 10)
    b = run(zero_objective(), [0.0, 0.0], perturbed_gd(0.1, 0.5, 1e-3, 0, rng=7), 10)
    c = run(zero_objective(), [0.0, 0.0], perturbed_gd(0.1, 0.5, 1e-3, 0, rng=8), 10)
    np.testing.assert_array_equal(a.thetas, b.thetas)
    assert not np.array_equal(a.thetas, c.thetas)


def test_perturbed_wraps_any_optimizer():
    opt = perturbed(momentum(0.1, 0.5), 0.5, 1e-3, 0, rng=4)
    assert opt.name == "perturbed_momentum" and opt.hyperparams["beta"] == 0.5
    tr = run(zero_objective(), [0.0, 0.0], opt, 3)
    assert np.all(np.linalg.norm(steps_of(tr), axis=1) > 0)


# ---------------------------------------------------------------------------------
# Saddle-free Newton
# ---------------------------------------------------------------------------------


def test_saddle_free_newton_step_closed_form():
    # x² - y² at (1, 0.1): g = (2, -0.2), |H| = 2 I, step = -(1, -0.1).
    f = F.saddle()
    for k in (None, 2):
        opt = saddle_free_newton(lr=1.0, damping=0.0, k=k)
        step, (newton, schedule) = opt.update(f.grad([1.0, 0.1]), opt.init([1.0, 0.1]),
                                              [1.0, 0.1], f)
        np.testing.assert_allclose(step, [-1.0, 0.1], atol=1e-14)
        assert schedule.n_iter == 1 and newton.n_hvp == 2


def test_saddle_free_newton_is_newton_on_a_convex_quadratic():
    w = np.arange(1.0, 21.0)
    f = F.quadratic(w, rng=1)
    theta = np.random.default_rng(2).standard_normal(20)
    for k in (None, 20):
        opt = saddle_free_newton(damping=0.0, k=k)
        step, _ = opt.update(f.grad(theta), opt.init(theta), theta, f)
        np.testing.assert_allclose(theta + step, 0.0, atol=1e-10)
    # A gradient inside a 5-dimensional eigenspace: the 5-step Krylov space holds the answer.
    _, q = np.linalg.eigh(f.A)
    theta = q[:, :5] @ np.arange(1.0, 6.0)
    opt = saddle_free_newton(damping=0.0, k=5)
    step, _ = opt.update(f.grad(theta), opt.init(theta), theta, f)
    np.testing.assert_allclose(theta + step, 0.0, atol=1e-10)


def test_saddle_free_newton_escapes_where_gradient_descent_lingers():
    # SFN from (1, y0) on ½x² + ¼y⁴ - ½y²: x -> 0 in one step, y_{t+1} = y - (y³ - y)/|3y² - 1|.
    f, y0 = F.lee_saddle(), 1e-8
    sfn = run(f, [1.0, y0], saddle_free_newton(lr=1.0, damping=0.0), 40)
    y, expected = y0, [y0]
    for _ in range(40):
        y = y - (y**3 - y) / abs(3 * y * y - 1)
        expected.append(y)
    np.testing.assert_allclose(sfn.thetas[1:, 0], 0.0, atol=1e-15)
    np.testing.assert_allclose(sfn.thetas[:, 1], expected, rtol=1e-10)
    escaped = np.argmax(sfn.thetas[:, 1] > 0.5)
    slow = run(f, [1.0, y0], gd(0.1), 400)
    assert escaped < 30 < 150 < np.argmax(slow.thetas[:, 1] > 0.5)
    np.testing.assert_allclose(sfn.final_theta, [0.0, 1.0], atol=1e-12)


# ---------------------------------------------------------------------------------
# Bad input
# ---------------------------------------------------------------------------------

FACTORIES = [gd, momentum, nesterov, adagrad, rmsprop, adam, perturbed_gd]


@pytest.mark.parametrize("factory", FACTORIES, ids=lambda f: f.__name__)
@pytest.mark.parametrize("lr", [0.0, -0.1, float("nan"), float("inf"), "0.1", True])
def test_bad_learning_rate(factory, lr):
    with pytest.raises(ValueError, match="lr"):
        factory(lr)


@pytest.mark.parametrize("factory", [momentum, nesterov])
@pytest.mark.parametrize("beta", [1.0, -0.1, 1.5, float("nan")])
def test_bad_momentum(factory, beta):
    with pytest.raises(ValueError, match="beta"):
        factory(0.1, beta)


@pytest.mark.parametrize("call, name", [
    (lambda: adam(0.1, b1=1.0), "b1"), (lambda: adam(0.1, b2=-0.5), "b2"),
    (lambda: adam(0.1, eps=0.0), "eps"), (lambda: rmsprop(0.1, decay=1.0), "decay"),
    (lambda: adagrad(0.1, eps=-1.0), "eps"), (lambda: perturbed_gd(0.1, radius=0.0), "radius"),
    (lambda: perturbed_gd(0.1, g_threshold=-1.0), "g_threshold"),
    (lambda: perturbed_gd(0.1, t_thres=-1), "t_thres"), (lambda: perturbed("gd"), "inner"),
    (lambda: cosine(0.1, 10, final=0.2), "final"), (lambda: step_decay(0.1, every=0), "every"),
    (lambda: inverse_time(0.1, decay=0.0), "decay"), (lambda: constant(-1.0), "lr"),
    (lambda: clip_by_global_norm(0.0), "max_norm"), (lambda: clip(-1.0), "max_delta"),
    (lambda: add_decayed_weights(-0.1), "weight_decay"), (lambda: scale_by_rms(eps=0), "eps"),
    (lambda: scale_by_momentum(1.0), "beta"), (lambda: saddle_free_newton(damping=-1.0), "damping"),
    (lambda: scale_by_saddle_free_newton(k=0), "k must be"),
])
def test_bad_hyperparameters(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def test_optimizer_record_keeps_its_interface():
    opt = gd(0.1)
    assert isinstance(opt, Optimizer)
    init, update, name, hyperparams = opt[:4]
    step, _ = update(np.ones(2), init(np.zeros(2)), np.zeros(2), None)
    np.testing.assert_array_equal(step, [-0.1, -0.1])
    assert (name, hyperparams) == ("gd", {"lr": 0.1})
