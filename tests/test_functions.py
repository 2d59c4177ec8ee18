"""Synthetic objectives against finite differences, scipy, closed forms and polynomial roots."""

import pickle

import numpy as np
import pytest
from numpy.polynomial import polynomial as P
from scipy.optimize import root, rosen, rosen_der, rosen_hess, rosen_hess_prod

from landscape import CriticalPoint
from landscape import functions as F
from landscape.cache import fingerprint
from landscape.objective import check_derivatives


def _objectives():
    """Every factory, with the 2-D defaults and some higher-dimensional variants."""
    rng = np.random.default_rng(7)
    cases = {name: factory for name, factory in F.ALL.items()}
    cases.update({
        "quadratic_rotated": lambda: F.quadratic([3.0, -1.0, 0.5, 2.0], rng=1),
        "quadratic_plain": lambda: F.quadratic([1.0, 0.0], rotate=False),
        "rosenbrock5": lambda: F.rosenbrock(5),
        "rosenbrock_ab": lambda: F.rosenbrock(2, a=0.5, b=7.0),
        "rastrigin3": lambda: F.rastrigin(3, A=4.0),
        "deep_linear4": lambda: F.deep_linear((1, 1, 1, 1)),
        "deep_linear_wide": lambda: F.deep_linear(
            (3, 4, 2, 2), X=rng.standard_normal((6, 3)), Y=rng.standard_normal((6, 2))),
    })
    return cases


OBJECTIVES = _objectives()


@pytest.fixture(params=sorted(OBJECTIVES), scope="module")
def objective(request):
    return OBJECTIVES[request.param]()


def _points(objective, k, seed=0):
    """``k`` uniform points in the objective's suggested box, shape ``(k, dim)``."""
    low, high = objective.bounds.T
    return np.random.default_rng(seed).uniform(low, high, size=(k, objective.dim))


def _fd_hessian(grad, theta, h=1e-5):
    """Central differences of ``grad``, one column per coordinate, symmetrized."""
    eye = h * np.eye(theta.size)
    cols = [(grad(theta + e) - grad(theta - e)) / (2 * h) for e in eye]
    fd = np.stack(cols, axis=1)
    return 0.5 * (fd + fd.T)


def test_derivatives_match_finite_differences(objective):
    for theta in _points(objective, 3):
        check = check_derivatives(objective, theta, rng=1)
        assert check.grad_error < 1e-6
        assert check.hvp_error < 1e-5
        hess = objective.hessian(theta)
        scale = max(1.0, np.abs(hess).max())
        np.testing.assert_allclose(hess, _fd_hessian(objective.grad, theta), atol=1e-6 * scale)
        np.testing.assert_array_equal(hess, hess.T)
        v = np.random.default_rng(2).standard_normal(objective.dim)
        np.testing.assert_allclose(objective.hvp(theta, v), hess @ v, atol=1e-12 * scale)


def test_losses_equal_loop_of_loss(objective):
    thetas = _points(objective, 7, seed=3)
    looped = np.array([objective.loss(t) for t in thetas])
    batched = objective.losses(thetas)
    assert batched.shape == (7,)
    np.testing.assert_allclose(batched, looped, rtol=1e-12, atol=1e-12)
    assert objective.loss_and_grad(thetas[0])[0] == pytest.approx(looped[0], rel=1e-12)


def _kind_from_eigenvalues(eigenvalues):
    """Both signs: a saddle, whatever the zeros; else a zero: degenerate."""
    zero = 1e-8 * max(1.0, np.abs(eigenvalues).max())
    negative, positive = np.any(eigenvalues < -zero), np.any(eigenvalues > zero)
    if negative and positive:
        return "saddle"
    if np.any(np.abs(eigenvalues) <= zero):
        return "degenerate"
    return "minimum" if positive else "maximum"


def test_critical_points_are_critical_and_of_their_kind(objective):
    assert len(objective.critical_points) >= 1
    for cp in objective.critical_points:
        assert isinstance(cp, CriticalPoint)
        assert cp.theta.shape == (objective.dim,)
        assert not cp.theta.flags.writeable
        assert np.linalg.norm(objective.grad(cp.theta)) < 1e-10
        assert cp.grad_norm == np.linalg.norm(objective.grad(cp.theta))
        eigenvalues = np.linalg.eigvalsh(objective.hessian(cp.theta))
        np.testing.assert_allclose(cp.eigenvalues, eigenvalues, atol=1e-12)
        assert cp.kind == _kind_from_eigenvalues(eigenvalues)
        assert cp.index == np.sum(eigenvalues < -cp.tol) and cp.fraction == cp.index / cp.theta.size
        assert cp.loss == pytest.approx(objective.loss(cp.theta), abs=1e-12)
        low, high = objective.bounds.T
        assert np.all((low <= cp.theta) & (cp.theta <= high))


def test_known_points_are_computed_when_read_and_not_pickled():
    # Newton's method runs on first access, not at import; the points stay out of the
    # pickle, so a cache key is the same before and after they are read.
    f = F.himmelblau()
    before = fingerprint(f)
    assert len(f.critical_points) == 9 and f.critical_points is f.critical_points
    assert fingerprint(f) == before
    copy = pickle.loads(pickle.dumps(f))
    np.testing.assert_array_equal([p.theta for p in copy.critical_points],
                                  [p.theta for p in f.critical_points])


def test_bad_theta_raises(objective):
    n = objective.dim
    with pytest.raises(ValueError, match="length"):
        objective.loss(np.zeros(n + 1))
    with pytest.raises(ValueError, match="NaN"):
        objective.grad(np.full(n, np.nan))
    with pytest.raises(ValueError, match="NaN"):
        objective.hessian(np.full(n, np.inf))
    with pytest.raises(ValueError, match="shape"):
        objective.losses(np.zeros((3, n + 1)))
    with pytest.raises(ValueError, match="v must have length"):
        objective.hvp(np.zeros(n), np.zeros(n + 2))


def test_registry_holds_two_dimensional_factories():
    assert {"himmelblau", "rosenbrock", "six_hump_camel", "beale", "lee_saddle"} <= set(F.ALL)
    for name, factory in F.ALL.items():
        obj = factory()
        assert obj.name == name
        assert obj.dim == 2
        assert obj.bounds.shape == (2, 2)
        assert np.all(obj.bounds[:, 0] < obj.bounds[:, 1])


# --- Rosenbrock against scipy -------------------------------------------------------


@pytest.mark.parametrize("n", [2, 5])
def test_rosenbrock_equals_scipy(n):
    obj = F.rosenbrock(n)
    thetas = np.random.default_rng(n).uniform(-2, 2, size=(4, n))
    np.testing.assert_allclose(obj.losses(thetas), rosen(thetas.T), rtol=1e-14)
    v = np.random.default_rng(0).standard_normal(n)
    for theta in thetas:
        assert obj.loss(theta) == pytest.approx(rosen(theta), rel=1e-14)
        np.testing.assert_allclose(obj.grad(theta), rosen_der(theta), rtol=1e-13, atol=1e-12)
        np.testing.assert_allclose(obj.hessian(theta), rosen_hess(theta), rtol=1e-13, atol=1e-12)
        np.testing.assert_allclose(obj.hvp(theta, v), rosen_hess_prod(theta, v), rtol=1e-13,
                                   atol=1e-10)


@pytest.mark.parametrize("n", [3, 4, 5, 7, 8])
def test_rosenbrock_minima(n):
    points = F.rosenbrock(n).critical_points
    np.testing.assert_array_equal(points[0].theta, np.ones(n))
    # Kok & Sandrock (2009): exactly two minima for 4 <= n <= 7, one for n = 3.
    assert len(points) == (2 if 4 <= n <= 7 else 1)
    if len(points) == 2:
        local = points[1].theta
        assert local[0] < 0 and np.all(local[1:] > 0)
        assert rosen(local) > 3.5
        assert np.linalg.norm(rosen_der(local)) < 1e-10
        assert np.all(np.linalg.eigvalsh(rosen_hess(local)) > 0)


def test_rosenbrock_general_minimum():
    obj = F.rosenbrock(2, a=0.5, b=7.0)
    np.testing.assert_allclose(obj.critical_points[0].theta, [0.5, 0.25])
    assert F.rosenbrock(4, a=0.5).critical_points == ()
    np.testing.assert_array_equal(F.rosenbrock(4, a=0.0).critical_points[0].theta, np.zeros(4))


# --- Himmelblau, six-hump camel, Beale: all critical points ---------------------------

PUBLISHED_HIMMELBLAU = {
    "minimum": [(3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186),
                (3.584428, -1.848127)],
    "maximum": [(-0.270845, -0.923039)],
}


def _match(points, targets, tol):
    """Each target has exactly one of ``points`` within ``tol`` and the counts agree."""
    points, targets = np.asarray(points), np.asarray(targets)
    dist = np.linalg.norm(points[:, None, :] - targets[None, :, :], axis=-1)
    assert len(points) == len(targets)
    assert np.all(np.sum(dist < tol, axis=0) == 1)
    assert np.all(np.sum(dist < tol, axis=1) == 1)


def test_himmelblau_published_points_to_full_precision():
    obj = F.himmelblau()
    for kind, published in PUBLISHED_HIMMELBLAU.items():
        ours = [cp.theta for cp in obj.critical_points if cp.kind == kind]
        _match(ours, published, tol=1e-5)
        for p in ours:
            assert np.linalg.norm(obj.grad(p)) < 1e-12
    assert sum(cp.kind == "saddle" for cp in obj.critical_points) == 4
    maximum = next(cp for cp in obj.critical_points if cp.kind == "maximum")
    assert maximum.loss == pytest.approx(181.617, abs=1e-3)
    assert all(cp.loss < 1e-25 for cp in obj.critical_points if cp.kind == "minimum")


def _multistart(obj, m):
    """Distinct roots of the gradient found by scipy's hybrid solver from an m x m grid."""
    (x0, x1), (y0, y1) = obj.bounds
    found = []
    for a in np.linspace(x0, x1, m):
        for b in np.linspace(y0, y1, m):
            sol = root(obj.grad, [a, b], jac=obj.hessian, tol=1e-14)
            inside = np.all((obj.bounds[:, 0] <= sol.x) & (sol.x <= obj.bounds[:, 1]))
            if sol.success and inside and np.linalg.norm(obj.grad(sol.x)) < 1e-8:
                if all(np.linalg.norm(sol.x - p) > 1e-6 for p in found):
                    found.append(sol.x)
    return found


def test_himmelblau_lists_every_critical_point():
    # Two cubic equations: Bezout allows at most 9 roots, and a multistart finds 9.
    obj = F.himmelblau()
    _match(_multistart(obj, 15), [cp.theta for cp in obj.critical_points], tol=1e-8)


def test_six_hump_camel_lists_every_critical_point():
    # d/dy = 0 gives x = 8y - 16y^3; substituted into d/dx = 0 it is a degree-15
    # polynomial in y, so its real roots are all the critical points.
    x = np.array([0.0, 8.0, 0.0, -16.0])
    poly = P.polyadd(P.polysub(8 * x, 8.4 * P.polypow(x, 3)), 2 * P.polypow(x, 5))
    poly = P.polyadd(poly, [0.0, 1.0])
    roots = P.polyroots(poly)
    ys = roots[np.abs(roots.imag) < 1e-9].real
    assert ys.size == 15
    obj = F.six_hump_camel()
    _match([cp.theta for cp in obj.critical_points], np.c_[P.polyval(ys, x), ys], tol=1e-8)
    kinds = [cp.kind for cp in obj.critical_points]
    assert (kinds.count("minimum"), kinds.count("maximum"), kinds.count("saddle")) == (6, 2, 7)
    best = min(obj.critical_points, key=lambda cp: cp.loss)
    assert best.loss == pytest.approx(-1.0316, abs=1e-4)
    assert np.abs(best.theta) == pytest.approx([0.0898, 0.7126], abs=1e-4)


def test_beale_lists_every_critical_point():
    # For x != 0 both equations are linear in x: x = n1(y)/d1(y) = n2(y)/d2(y). The real
    # roots of n1 d2 - n2 d1 away from the spurious y = 1 give the rest; x = 0 gives (0, 1).
    c = [1.5, 2.25, 2.625]
    n1 = d1 = n2 = d2 = np.zeros(1)
    for k, ck in zip((1, 2, 3), c):
        dyk = np.zeros(k)
        dyk[-1] = k
        one_minus = P.polysub([1.0], np.eye(k + 1)[k])
        n1, d1 = P.polyadd(n1, ck * dyk), P.polyadd(d1, P.polymul(dyk, one_minus))
        n2, d2 = P.polyadd(n2, ck * one_minus), P.polyadd(d2, P.polymul(one_minus, one_minus))
    roots = P.polyroots(P.polysub(P.polymul(n1, d2), P.polymul(n2, d1)))
    ys = roots[(np.abs(roots.imag) < 1e-9) & (np.abs(roots - 1) > 1e-3)].real
    expected = np.vstack([np.c_[P.polyval(ys, n1) / P.polyval(ys, d1), ys], [0.0, 1.0]])
    obj = F.beale()
    _match([cp.theta for cp in obj.critical_points], expected, tol=1e-8)
    np.testing.assert_array_equal(obj.critical_points[0].theta, [3.0, 0.5])
    assert obj.critical_points[0].loss == 0.0


# --- closed forms ----------------------------------------------------------------------


def test_two_variable_closed_forms():
    x, y = 0.7, -1.3
    assert F.saddle().loss([x, y]) == pytest.approx(x * x - y * y)
    assert F.monkey_saddle().loss([x, y]) == pytest.approx(x**3 - 3 * x * y * y)
    np.testing.assert_array_equal(F.monkey_saddle().hessian([0.0, 0.0]), np.zeros((2, 2)))
    lee = F.lee_saddle()
    assert lee.loss([x, y]) == pytest.approx(0.5 * x * x + 0.25 * y**4 - 0.5 * y * y)
    assert [cp.loss for cp in lee.critical_points] == [0.0, -0.25, -0.25]
    himmelblau = F.himmelblau()
    assert himmelblau.loss([x, y]) == pytest.approx((x * x + y - 11) ** 2 + (x + y * y - 7) ** 2)
    rastrigin = F.rastrigin(2, A=10.0)
    assert rastrigin.loss([x, y]) == pytest.approx(
        20 + x * x + y * y - 10 * np.cos(2 * np.pi * x) - 10 * np.cos(2 * np.pi * y))
    np.testing.assert_allclose(rastrigin.hessian([0.0, 0.0]), (2 + 40 * np.pi**2) * np.eye(2))


@pytest.mark.parametrize("eigenvalues, kind", [
    ([1.0, 2.0, 3.0], "minimum"),
    ([-1.0, 2.0, 3.0], "saddle"),
    ([-1.0, -2.0], "maximum"),
    ([0.0, 2.0], "degenerate"),
])
def test_quadratic(eigenvalues, kind):
    obj = F.quadratic(eigenvalues, rng=5)
    n = len(eigenvalues)
    np.testing.assert_allclose(np.linalg.eigvalsh(obj.A), np.sort(eigenvalues), atol=1e-12)
    np.testing.assert_array_equal(obj.eigenvalues, eigenvalues)
    theta = np.arange(1.0, n + 1)
    assert obj.loss(theta) == pytest.approx(0.5 * theta @ obj.A @ theta, rel=1e-12)
    np.testing.assert_allclose(obj.grad(theta), obj.A @ theta, rtol=1e-12)
    assert obj.critical_points[0].kind == kind
    np.testing.assert_array_equal(F.quadratic(eigenvalues, rng=5).A, obj.A)
    plain = F.quadratic(eigenvalues, rotate=False)
    np.testing.assert_array_equal(plain.A, np.diag(eigenvalues))


def test_quadratic_rotation_is_random_and_orthogonal():
    a = F.quadratic([1.0, 2.0, 3.0], rng=0).A
    b = F.quadratic([1.0, 2.0, 3.0], rng=1).A
    assert not np.allclose(a, b)
    assert not np.allclose(a, np.diag(np.diag(a)))


# --- deep linear networks ----------------------------------------------------------------


def test_deep_linear_scalar_chain_closed_form():
    obj = F.deep_linear((1, 1, 1, 1))
    assert obj.dim == 3
    rng = np.random.default_rng(4)
    for w in rng.uniform(-2, 2, size=(5, 3)):
        p = w.prod()
        dp = np.array([w[1] * w[2], w[0] * w[2], w[0] * w[1]])
        d2p = np.array([[0, w[2], w[1]], [w[2], 0, w[0]], [w[1], w[0], 0]])
        assert obj.loss(w) == pytest.approx(0.5 * (1 - p) ** 2, rel=1e-14)
        np.testing.assert_allclose(obj.grad(w), -(1 - p) * dp, rtol=1e-13)
        np.testing.assert_allclose(obj.hessian(w), np.outer(dp, dp) - (1 - p) * d2p,
                                   rtol=1e-12, atol=1e-13)
    assert F.deep_linear().loss([2.0, 3.0]) == pytest.approx(0.5 * 25)


def test_deep_linear_matches_explicit_matrix_product():
    rng = np.random.default_rng(8)
    widths = (3, 4, 2, 2)
    X, Y = rng.standard_normal((6, 3)), rng.standard_normal((6, 2))
    obj = F.deep_linear(widths, X=X, Y=Y)
    theta = rng.standard_normal(obj.dim)
    w1, w2, w3 = (theta[:12].reshape(4, 3), theta[12:20].reshape(2, 4),
                  theta[20:].reshape(2, 2))
    expected = 0.5 * np.mean(np.sum((Y - X @ (w3 @ w2 @ w1).T) ** 2, axis=1))
    assert obj.dim == 24
    assert obj.loss(theta) == pytest.approx(expected, rel=1e-13)
    for w, u, block in zip((w1, w2, w3), obj.unflatten(theta), obj.blocks, strict=True):
        np.testing.assert_array_equal(w, u)
        # the shared layout: one filter per output unit (a row of W), no bias
        np.testing.assert_array_equal(theta[block.weight].reshape(block.n_filters, -1), w)
        assert block.bias is None


def test_deep_linear_origin():
    rng = np.random.default_rng(9)
    X, Y = rng.standard_normal((5, 2)), rng.standard_normal((5, 2))
    two = F.deep_linear((2, 3, 2), X=X, Y=Y)
    assert two.critical_points[0].kind == "saddle"
    # Nonzero eigenvalues at 0 are +-sigma_i(Y^T X / N), each widths[1] = 3 times.
    sigma = np.linalg.svd(Y.T @ X / 5, compute_uv=False)
    expected = np.sort(np.concatenate([np.repeat(sigma, 3), -np.repeat(sigma, 3)]))
    np.testing.assert_allclose(np.linalg.eigvalsh(two.hessian(np.zeros(12))), expected,
                               atol=1e-12)
    assert two.critical_points[0].loss == pytest.approx(0.5 * np.mean(np.sum(Y**2, 1)))
    # One output: Y^T X / N has one singular value, so ±sigma 3 times each, and 9 - 6 zeros:
    # a strict saddle with a null space.
    one = F.deep_linear((2, 3, 1), X=X, Y=Y[:, :1]).critical_points[0]
    assert (one.kind, one.index, one.n_zero) == ("saddle", 3, 3)
    deep = F.deep_linear((2, 3, 3, 2), X=X, Y=Y)
    assert deep.critical_points[0].kind == "degenerate"
    np.testing.assert_array_equal(deep.hessian(np.zeros(deep.dim)), 0.0)


# --- bad arguments to the factories ---------------------------------------------------------


@pytest.mark.parametrize("make, message", [
    (lambda: F.quadratic([]), "empty"),
    (lambda: F.quadratic([1.0, np.nan]), "NaN"),
    (lambda: F.quadratic([[1.0]]), "dimension"),
    (lambda: F.quadratic([1.0], rng="seed"), "rng"),
    (lambda: F.rosenbrock(1), "n must be"),
    (lambda: F.rosenbrock(2.5), "n must be"),
    (lambda: F.rosenbrock(2, b=0.0), "b must be"),
    (lambda: F.rosenbrock(2, a=np.inf), "a contains"),
    (lambda: F.rastrigin(0), "n must be"),
    (lambda: F.rastrigin(2, A=-1.0), "A must be"),
    (lambda: F.deep_linear((1, 1)), "at least 3"),
    (lambda: F.deep_linear((1, 0, 1)), "widths"),
    (lambda: F.deep_linear(3), "widths"),
    (lambda: F.deep_linear((2, 1, 1), X=np.ones((4, 3))), "X must have shape"),
    (lambda: F.deep_linear((2, 1, 1), X=np.ones((4, 2)), Y=np.ones((3, 1))), "Y must have"),
])
def test_factories_reject_bad_arguments(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_unflatten_rejects_wrong_length():
    with pytest.raises(ValueError, match="shape"):
        F.deep_linear().unflatten(np.zeros(3))


def test_quadratic_exposes_its_eigenvectors():
    q = F.quadratic([0.5, 2.0, 40.0], rng=3)
    np.testing.assert_allclose(q.A @ q.eigenvectors, q.eigenvectors * q.eigenvalues, atol=1e-12)
    np.testing.assert_allclose(q.eigenvectors.T @ q.eigenvectors, np.eye(3), atol=1e-12)
