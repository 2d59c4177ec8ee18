"""Surfaces against the function evaluated directly: exact grids on synthetic functions,
the per-point loop on an MLP, metrics at every point, projections with known residuals, NaN
gaps, Bezier paths against their formula and a hand-written training loop, a closed-form
optimal bend, and mode connectivity."""

import concurrent.futures as cf
import warnings
from typing import NamedTuple

import numpy as np
import pytest
from scipy.optimize import minimize

from landscape import MLP, Execution, data, execution, from_function
from landscape.directions import pca_directions, random_directions
from landscape.functions import himmelblau
from landscape.surface import Curve, bezier, bezier_coords, curve, fit_bezier, line, plane, project


def test_plane_along_the_axes_reproduces_an_asymmetric_function_on_a_non_square_grid():
    f = himmelblau()
    s = plane(f, np.zeros(2), [1.0, 0.0], [0.0, 1.0], span=((-5, 4), (-3, 5)),
              resolution=(13, 7))
    assert s.values.shape == (13, 7)
    a, b = s.axes
    np.testing.assert_array_equal(a, np.linspace(-5, 4, 13))
    np.testing.assert_array_equal(b, np.linspace(-3, 5, 7))
    direct = np.array([[f.loss([x, y]) for y in b] for x in a])
    np.testing.assert_array_equal(s.values, direct)
    assert s.meta["kind"] == "plane" and s.meta["resolution"] == [13, 7]
    assert s.meta["span"] == [[-5.0, 4.0], [-3.0, 5.0]]


def test_line_reproduces_the_function():
    f = from_function(lambda t: float(np.sin(t[0]) + t[1] ** 3), 2)
    center, d = np.array([0.5, -1.0]), np.array([2.0, 1.0])
    s = line(f, center, d, span=(-0.5, 2.0), resolution=9)
    direct = [np.sin(0.5 + 2 * a) + (-1 + a) ** 3 for a in s.axes[0]]
    np.testing.assert_allclose(s.values, direct, rtol=1e-14)
    assert s.values.shape == (9,) and s.ndim == 1


def _mlp(sizes=(2, 16, 16, 1), n=60, rng=0, **kw):
    X, y = data.moons(n, rng=rng)
    model = MLP(list(sizes), activation="tanh", output="sigmoid", loss="cross_entropy", **kw)
    return model, model.objective(X, y)


class _CountingSpan:
    """Wraps an objective and counts calls of ``losses_in_span`` and ``loss``."""

    def __init__(self, objective):
        self.inner, self.dim, self.span_calls, self.loss_calls = objective, objective.dim, 0, 0

    def losses_in_span(self, *args):
        self.span_calls += 1
        return self.inner.losses_in_span(*args)

    def loss(self, theta):
        self.loss_calls += 1
        return self.inner.loss(theta)


def test_the_batched_grid_equals_the_per_point_loop():
    model, obj = _mlp(weight_decay=1e-3)
    center = model.init(1)
    d = random_directions(model.n_params, k=2, rng=2)
    counting = _CountingSpan(obj)
    s = plane(counting, center, d, span=2.0, resolution=(15, 11))
    loop = np.array([obj.loss(center + c @ d.vectors) for c in s.coords()]).reshape(15, 11)
    np.testing.assert_allclose(s.values, loop, rtol=1e-10, atol=1e-12)
    # The grid went through the batched span path, a few chunks, never point by point.
    assert counting.loss_calls == 0 and 1 <= counting.span_calls <= 16
    assert s.meta["directions"] == "random" and s.meta["seed"] == 2


def test_executors_give_the_serial_numbers():
    model, obj = _mlp()
    center = model.init(1)
    d = random_directions(model.n_params, k=2, rng=0)
    serial = plane(obj, center, d, resolution=9)
    with cf.ThreadPoolExecutor(2) as pool:
        threaded = plane(obj, center, d, resolution=9, execution=Execution(executor=pool))
    with execution(executor=2):
        processes = plane(obj, center, d, resolution=9, metrics={"norm": _norm})
    np.testing.assert_array_equal(serial.values, threaded.values)
    np.testing.assert_array_equal(serial.values, processes.values)
    norms = np.linalg.norm(center + serial.coords() @ d.vectors, axis=1).reshape(9, 9)
    np.testing.assert_allclose(processes.metrics["norm"], norms, rtol=1e-14)


def _accuracy(objective, theta) -> float:
    return objective.accuracy(theta)


def _norm(objective, theta) -> float:
    return float(np.linalg.norm(theta))


def test_metrics_at_every_point_under_a_one_point_memory_budget():
    model, obj = _mlp()
    center = model.init(3)
    d = random_directions(model.n_params, k=1, rng=1)
    metrics = {"accuracy": _accuracy, "norm": _norm}
    s = line(obj, center, d, resolution=7, metrics=metrics,
             execution=Execution(memory_budget=1.0))  # one point per chunk and per pass
    points = center + s.axes[0][:, None] * d.vectors[0]
    np.testing.assert_array_equal(s.metrics["accuracy"], [obj.accuracy(p) for p in points])
    np.testing.assert_allclose(s.metrics["norm"], np.linalg.norm(points, axis=1), rtol=1e-14)
    np.testing.assert_allclose(s.values, [obj.loss(p) for p in points], rtol=1e-12)
    f = from_function(lambda t: float(t @ t), 2)
    bent = curve(f, np.zeros(2), np.ones(2), bend=[1.0, 0.0], resolution=5,
                 metrics={"norm": _norm})
    t = bent.axes[0]  # phi(t) = (2t - t^2, t^2)
    np.testing.assert_allclose(bent.metrics["norm"], np.hypot(2 * t - t**2, t**2), rtol=1e-14)
    assert set(bent.metrics) == {"norm"} and curve(f, np.zeros(2), np.ones(2)).metrics == {}
    with pytest.raises(ValueError, match="metric 'accuracy' failed .*: AttributeError.*accuracy"):
        line(f, np.zeros(2), [1.0, 0.0], metrics=metrics)  # up front, not inside chunk 0
    with pytest.raises(ValueError, match="metrics must map names"):
        line(f, np.zeros(2), [1.0, 0.0], metrics={"accuracy": True})
    with pytest.raises(ValueError, match="resolution must be an integer"):
        line(f, np.zeros(2), [1.0, 0.0], resolution="many")


def test_non_finite_losses_become_nan_gaps():
    def f(t):
        return float(np.exp(800.0 * t[0]) * (1 + t[1]) + np.log(t[1] + 1.5))

    obj = from_function(f, 2)
    with np.errstate(all="raise"):  # the surface must not depend on the caller's settings
        s = plane(obj, np.zeros(2), [1.0, 0.0], [0.0, 1.0], span=((-1, 1), (-2, 1)),
                  resolution=(5, 7))
    a, b = np.meshgrid(*s.axes, indexing="ij")
    bad = (a > 0.9) | (b <= -1.5)
    assert np.all(np.isnan(s.values[bad]))
    good = ~bad & (np.abs(a) < 0.5)
    with np.errstate(all="ignore"):
        direct = np.exp(800.0 * a) * (1 + b) + np.log(b + 1.5)
    np.testing.assert_allclose(s.values[good], direct[good], rtol=1e-14)


def test_projection_of_points_in_the_plane_is_exact():
    rng = np.random.default_rng(0)
    center = rng.standard_normal(12)
    directions = rng.standard_normal((2, 12))  # not orthogonal, not unit
    coords = rng.standard_normal((30, 2))
    p = project(center + coords @ directions, center, directions)
    np.testing.assert_allclose(p.coords, coords, atol=1e-12)
    assert np.all(p.residual < 1e-12)
    # A point off the plane: the residual is the part orthogonal to it, relative.
    q, _ = np.linalg.qr(directions.T)
    off = rng.standard_normal(12)
    off -= q @ (q.T @ off)
    theta = center + np.array([0.5, -1.0]) @ directions + off
    with pytest.warns(UserWarning, match="off the plane"):  # residual 0.74
        r = project(theta[None], center, directions)
    np.testing.assert_allclose(r.coords[0], [0.5, -1.0], atol=1e-12)
    expected = np.linalg.norm(off) / np.linalg.norm(theta - center)
    assert r.residual[0] == pytest.approx(expected, rel=1e-12)
    assert project(center[None], center, directions).residual[0] == 0.0
    with pytest.raises(ValueError, match="linearly dependent"):
        project(theta[None], center, np.stack([directions[0], 2 * directions[0]]))


def test_projection_warns_for_a_path_off_the_plane_and_not_for_one_in_it():
    rng = np.random.default_rng(1)
    center, directions = rng.standard_normal(10), np.eye(10)[:2]
    inside = center + np.column_stack([np.linspace(0, 3, 20), np.linspace(1, -2, 20)]) @ directions
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        project(inside, center, directions)
    orthogonal = center + rng.standard_normal((20, 8)) @ np.eye(10)[2:]  # residual 1 everywhere
    with pytest.warns(UserWarning, match="pca_directions") as caught:
        p = project(orthogonal, center, directions)
    np.testing.assert_allclose(p.residual, 1.0, rtol=1e-12)
    assert "median projection residual 1.00 > 0.5" in str(caught[0].message)
    # Just over half of the points off the plane warns; just under half does not.
    mixed = np.concatenate([inside[1:10], orthogonal[:11]])
    with pytest.warns(UserWarning, match="mostly off the plane"):
        project(mixed, center, directions)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        project(np.concatenate([inside[1:12], orthogonal[:9]]), center, directions)


def test_auto_span_covers_every_projected_point_with_the_center_in_the_middle():
    f = himmelblau()
    center = np.array([0.5, -1.0])
    d = np.array([[2.0, 0.0], [1.0, 1.0]])  # not orthogonal: coordinates by least squares
    paths = [center + np.array([[0.0, 0.0], [1.5, -0.2], [-0.3, 0.8]]) @ d,
             center + np.array([[-2.0, 0.1]]) @ d]
    s = plane(f, center, d, span="auto", cover=paths, resolution=11)
    # the coordinates by hand: farthest |a| is 2.0, |b| 0.8, and 10% beyond
    np.testing.assert_allclose(s.meta["span"], [[-2.2, 2.2], [-0.88, 0.88]], rtol=1e-12)
    for p in paths:
        c = project(p, center, s.directions).coords
        assert np.all((c >= [a[0] for a in s.axes]) & (c <= [a[-1] for a in s.axes]))
    assert s.values[5, 5] == f.loss(center)
    one = plane(f, center, d, span="auto", cover=paths[0], resolution=5)
    np.testing.assert_allclose(one.meta["span"], [[-1.65, 1.65], [-0.88, 0.88]], rtol=1e-12)
    with pytest.raises(ValueError, match="needs cover"):
        plane(f, center, d, span="auto")
    with pytest.raises(ValueError, match="only with span='auto'"):
        plane(f, center, d, span=1.0, cover=paths)
    with pytest.raises(ValueError, match="nothing to cover"):
        plane(f, center, d, span="auto", cover=center[None])


class _Run(NamedTuple):
    thetas: np.ndarray
    steps: np.ndarray
    loss: np.ndarray
    optimizer: str


def test_projection_carries_a_trajectorys_steps_losses_and_name():
    rng = np.random.default_rng(1)
    run = _Run(rng.standard_normal((5, 4)), np.arange(0, 50, 10), rng.uniform(size=5), "adam")
    d = pca_directions(run)
    p = project(run, d.center, d)
    np.testing.assert_array_equal(p.steps, run.steps)
    np.testing.assert_array_equal(p.loss, run.loss)
    assert p.label == "adam"
    assert project(run, d.center, d, label="other").label == "other"
    with pytest.raises(ValueError, match="steps must have shape"):
        project(run.thetas, d.center, d, steps=[1, 2])


def test_straight_and_bent_curves_and_their_barriers():
    # A double well (x^2 - 1)^2 from -1 to 1: the straight barrier is the bump f(0) = 1.
    f = from_function(lambda t: float((t[0] ** 2 - 1) ** 2 + t[1] ** 2), 2)
    a, b = np.array([-1.0, 0.0]), np.array([1.0, 0.0])
    straight = curve(f, a, b, resolution=21)
    assert straight.barrier == pytest.approx(1.0, abs=1e-14)
    t = straight.axes[0]
    np.testing.assert_allclose(straight.values, ((2 * t - 1) ** 2 - 1) ** 2, atol=1e-14)
    # Through a bend at (0, 2) the path is phi(t) = (2t - 1, 4t(1 - t)).
    bent = curve(f, a, b, bend=np.array([0.0, 2.0]), resolution=21)
    x, y = 2 * t - 1, 4 * t * (1 - t)
    np.testing.assert_allclose(bent.values, (x**2 - 1) ** 2 + y**2, atol=1e-13)
    assert bent.barrier == pytest.approx(np.max(bent.values), abs=1e-14)
    assert isinstance(bent, Curve) and bent.meta["kind"] == "bezier"
    # A convex function never rises above the chord.
    bowl = from_function(lambda t: float(t @ t), 2)
    assert curve(bowl, a, b + 1).barrier <= 1e-14


def test_straight_curve_past_its_end_points():
    # Goodfellow et al.'s plot: t in [-0.5, 1.5] on the double well from (-1, 0) to (1, 0.5).
    f = from_function(lambda t: float((t[0] ** 2 - 1) ** 2 + t[1] ** 2), 2)
    a, b = np.array([-1.0, 0.0]), np.array([1.0, 0.5])
    wide = curve(f, a, b, resolution=41, span=(-0.5, 1.5))
    t = wide.axes[0]
    assert (t[0], t[-1], t.size) == (-0.5, 1.5, 41) and wide.meta["span"] == [-0.5, 1.5]
    np.testing.assert_allclose(wide.values, [f.loss(a + s * (b - a)) for s in t], atol=1e-13)
    assert wide.values[0] == pytest.approx(f.loss([-2.0, -0.25]), abs=1e-13)  # 9.0625
    # The barrier is that of t in [0, 1]: steps of 0.05 put t = 0 and 1 on the grid.
    s = np.linspace(0.0, 1.0, 21)
    direct = np.max(((2 * s - 1) ** 2 - 1) ** 2 + (0.5 * s) ** 2 - 0.25 * s)  # chord 0 -> 0.25
    assert wide.barrier == pytest.approx(direct, abs=1e-13)
    assert curve(f, a, b, resolution=21).barrier == pytest.approx(direct)
    with pytest.raises(ValueError, match="t = 0 and t = 1"):
        float(curve(f, a, b, resolution=40, span=(-0.5, 1.5)).barrier)
    with pytest.raises(ValueError, match=r"Bezier path is defined on t in \[0, 1\]"):
        curve(f, a, b, bend=[0.0, 2.0], span=(-0.5, 1.5))
    with pytest.raises(ValueError, match="pair"):
        curve(f, a, b, span=1.5)
    with pytest.raises(ValueError, match="low < high"):
        curve(f, a, b, span=(1.0, 0.0))


@pytest.mark.parametrize("kwargs, message", [
    ({"span": -1.0}, "span"),
    ({"span": (1.0, 0.0)}, "low < high"),
    ({"resolution": 1}, "resolution"),
    ({"resolution": 4.5}, "resolution"),
    ({"resolution": (5, 5, 5)}, "resolution"),
    ({"d2": np.zeros(3)}, "a direction is zero"),
    ({"d2": np.ones(4)}, "d2 must have length 3"),
    ({"metrics": ["accuracy"]}, "metrics must map names"),
    ({"execution": {"executor": 2}}, "execution must be an Execution"),
])
def test_bad_input_is_named(kwargs, message):
    f = from_function(lambda t: float(t @ t), 3)
    args = {"d2": np.array([0.0, 1.0, 0.0]), **kwargs}
    with pytest.raises(ValueError, match=message):
        plane(f, np.zeros(3), np.array([1.0, 0.0, 0.0]), **args)


# ---------------------------------------------------------------------------------
# Bezier paths
# ---------------------------------------------------------------------------------


def test_bezier_points_and_coordinates_against_the_formula():
    rng = np.random.default_rng(3)
    a, c, b = rng.standard_normal((3, 7))
    t = np.linspace(0, 1, 11)
    direct = (1 - t)[:, None] ** 2 * a + (2 * t * (1 - t))[:, None] * c + (t**2)[:, None] * b
    np.testing.assert_allclose(bezier(a, c, b, t), direct, atol=1e-14)
    np.testing.assert_allclose(bezier(a, (a + b) / 2, b, t), a + t[:, None] * (b - a), atol=1e-14)
    np.testing.assert_allclose(bezier_coords(t), np.stack([2 * t * (1 - t), t**2], 1))
    with pytest.raises(ValueError, match=r"t must lie in \[0, 1\]"):
        bezier_coords([1.5])
    with pytest.raises(ValueError, match="bend must have length 7"):
        bezier(a, c[:3], b, t)


def _double_well():
    return from_function(lambda t: float((t[0] ** 2 - 1) ** 2 + t[1] ** 2), 2,
                         grad=lambda t: np.array([4 * t[0] * (t[0] ** 2 - 1), 2 * t[1]]))


def test_fit_bezier_is_adam_on_stratified_estimates_of_the_path_loss():
    # The training loop written out by hand: a uniform draw of t in each quarter of [0, 1],
    # the mean loss and the mean of 2t(1-t) grad L at those points, Kingma and Ba's Adam.
    f, a, b = _double_well(), np.array([-1.0, 0.0]), np.array([1.0, 0.0])
    bend = np.array([0.1, 0.5])
    fit = fit_bezier(f, a, b, bend=bend, steps=200, learning_rate=0.02, t_per_step=4, rng=3)
    gen, m, v, history = np.random.default_rng(3), np.zeros(2), np.zeros(2), []
    for i in range(1, 201):
        t = (np.arange(4) + gen.uniform(size=4)) / 4
        points = (1 - t)[:, None] ** 2 * a + (2 * t * (1 - t))[:, None] * bend + (t**2)[:, None] * b
        history.append(np.mean([f.loss(p) for p in points]))
        g = np.mean([w * f.grad(p) for w, p in zip(2 * t * (1 - t), points)], axis=0)
        m, v = 0.9 * m + 0.1 * g, 0.999 * v + 0.001 * g * g
        bend = bend - 0.02 * (m / (1 - 0.9**i)) / (np.sqrt(v / (1 - 0.999**i)) + 1e-8)
    np.testing.assert_allclose(fit.history, history, rtol=1e-12)
    np.testing.assert_allclose(fit.bend, bend, rtol=1e-12)
    assert (fit.t_per_step, fit.learning_rate, fit.seed) == (4, 0.02, 3)


def test_fit_bezier_finds_the_closed_form_bend_of_a_quadratic():
    # For L = |theta|^2 / 2, argmin_c of int_0^1 L(phi_c(t)) dt is c = -3/4 (a + b).
    f = from_function(lambda t: 0.5 * float(t @ t), 3, grad=lambda t: t.copy())
    a, b = np.array([1.0, 0.0, 0.5]), np.array([0.0, 2.0, 0.5])
    fit = fit_bezier(f, a, b, steps=1500, learning_rate=0.01, t_per_step=8, rng=0)
    np.testing.assert_allclose(fit.bend, -0.75 * (a + b), atol=0.05)
    again = fit_bezier(f, a, b, steps=50, learning_rate=0.01, t_per_step=8, rng=0)
    np.testing.assert_array_equal(again.bend, fit_bezier(f, a, b, steps=50, learning_rate=0.01,
                                                         t_per_step=8, rng=0).bend)
    np.testing.assert_array_equal(fit.start, a)
    with pytest.raises(ValueError, match="learning_rate"):
        fit_bezier(f, a, b, learning_rate=-1.0)


def test_a_trained_bezier_path_connects_two_minima():
    X, y = data.moons(100, noise=0.1, rng=0)
    model = MLP([2, 8, 2], activation="tanh", output="softmax", loss="cross_entropy",
                weight_decay=1e-3)
    obj = model.objective(X, y)
    minima = [minimize(obj.loss_and_grad, model.init(seed), jac=True, method="L-BFGS-B",
                       options={"maxiter": 2000, "gtol": 1e-10}).x for seed in (1, 2)]
    straight = curve(obj, *minima)
    fit = fit_bezier(obj, *minima, steps=300, learning_rate=0.05, rng=0)
    bent = curve(obj, fit.start, fit.end, fit.bend)
    assert straight.barrier > 0.1
    assert bent.barrier < 0.1 * straight.barrier
    np.testing.assert_allclose(bent.values[[0, -1]], straight.values[[0, -1]], rtol=1e-12)
