"""The Objective protocol's defaults, the user-function wrapper and the derivative checker."""

import numpy as np
import pytest
from scipy.optimize import rosen, rosen_der, rosen_hess, rosen_hess_prod

from landscape import Objective, check_derivatives, from_function, gd, run


def test_wrapper_without_derivatives_matches_scipy_rosenbrock():
    obj = from_function(rosen, dim=4)
    assert isinstance(obj, Objective)
    x = np.array([-1.2, 1.0, 0.5, 0.3])
    assert obj.loss(x) == rosen(x)
    np.testing.assert_allclose(obj.grad(x), rosen_der(x), rtol=1e-8)
    v = np.array([0.3, -1.0, 2.0, 0.5])
    np.testing.assert_allclose(obj.hvp(x, v), rosen_hess(x) @ v, rtol=1e-4)


def test_wrapper_with_gradient_gives_accurate_hvp_and_symmetric_hessian():
    obj = from_function(rosen, dim=3, grad=rosen_der)
    x = np.array([0.2, -0.4, 1.1])
    np.testing.assert_allclose(obj.hvp(x, np.ones(3)), rosen_hess(x) @ np.ones(3), rtol=1e-7)
    H = obj.hessian(x)
    np.testing.assert_array_equal(H, H.T)
    np.testing.assert_allclose(H, rosen_hess(x), rtol=1e-6, atol=1e-6)


def test_exact_derivatives_pass_the_checker_and_wrong_ones_fail():
    good = from_function(rosen, 5, grad=rosen_der, hvp=rosen_hess_prod)
    x = np.linspace(-1, 1, 5)
    check = check_derivatives(good, x, rng=0)
    assert check.grad_error < 1e-8 and check.hvp_error < 1e-6
    bad = from_function(rosen, 5, grad=lambda t: 1.01 * rosen_der(t), hvp=rosen_hess_prod)
    assert check_derivatives(bad, x, rng=0).grad_error > 1e-3
    assert check_derivatives(bad, x, rng=0).hvp_error > 1e-3  # hvp disagrees with the grad


def test_checker_uses_directional_derivatives_for_large_dim():
    obj = from_function(lambda t: 0.5 * t @ t, 600, grad=lambda t: t, hvp=lambda t, v: v)
    check = check_derivatives(obj, np.ones(600), rng=1, max_full=100)
    assert check.grad_error < 1e-7 and check.hvp_error < 1e-8  # rounding: eps * f / h


def test_default_losses_and_span_equal_the_loop():
    obj = from_function(rosen, 3, grad=rosen_der)
    rng = np.random.default_rng(0)
    thetas = rng.standard_normal((5, 3))
    np.testing.assert_array_equal(obj.losses(thetas), [rosen(t) for t in thetas])
    center, D, c = rng.standard_normal(3), rng.standard_normal((2, 3)), rng.standard_normal((4, 2))
    loop = [rosen(center + ci @ D) for ci in c]
    np.testing.assert_allclose(obj.losses_in_span(center, D, c), loop)


@pytest.mark.parametrize("call,message", [
    (lambda o: o.loss(np.ones(2)), "theta must have length 3"),
    (lambda o: o.loss(np.ones((3, 1))), "1 dimension"),
    (lambda o: o.grad([1.0, np.nan, 0.0]), "NaN or inf"),
    (lambda o: o.hvp(np.ones(3), np.ones(4)), "v must have length 3"),
    (lambda o: o.losses(np.ones((2, 4))), r"shape \(k, 3\)"),
    (lambda o: o.losses_in_span(np.ones(3), np.ones((2, 3)), np.ones((5, 3))), "coords"),
    (lambda o: from_function(rosen, 0), "dim"),
    (lambda o: from_function("rosen", 3), "callable"),
])
def test_bad_input_raises_clear_error(call, message):
    with pytest.raises(ValueError, match=message):
        call(from_function(rosen, 3))


def _bowl(t):
    return float(t @ t)


@pytest.mark.parametrize("kwargs,call,message", [
    ({"grad": lambda t: np.ones(2)}, lambda o: o.grad(np.ones(3)),
     r"grad must return a real array of shape \(3,\), got dtype float64 of shape \(2,\)"),
    ({"grad": lambda t: np.ones((3, 1))}, lambda o: o.loss_and_grad(np.ones(3)),
     r"grad must return .*shape \(3, 1\)"),
    ({"grad": lambda t: 2 * t + 0j}, lambda o: o.grad(np.ones(3)), "grad .*complex128"),
    ({"grad": lambda t: None}, lambda o: o.grad(np.ones(3)), "grad must return .*NoneType"),
    ({"grad": lambda t: np.full(3, np.nan)}, lambda o: o.grad(np.ones(3)),
     "grad returned NaN or inf at a point where f is finite"),
    ({"grad": lambda t: 2 * t}, lambda o: run(o, np.ones(3), gd(0.1), 5), None),
    ({"hvp": lambda t, v: 2 * v[:2]}, lambda o: o.hvp(np.ones(3), np.ones(3)),
     r"hvp must return a real array of shape \(3,\)"),
    ({"hvp": lambda t, v: np.full(3, np.inf)}, lambda o: o.hessian(np.ones(3)),
     "hvp returned NaN or inf at a point where f is finite"),
    ({"losses": lambda ts: np.ones(len(ts) + 1)}, lambda o: o.losses(np.ones((4, 3))),
     r"losses must return a real array of shape \(4,\), got .*shape \(5,\)"),
    ({"losses": lambda ts: ts}, lambda o: o.losses(np.ones((4, 3))), "losses must return"),
])
def test_what_the_users_functions_return_is_checked_naming_the_function(kwargs, call, message):
    """A gradient of the wrong length used to be broadcast silently (GD walked a wrong path)."""
    obj = from_function(_bowl, 3, **kwargs)
    if message is None:  # a right gradient passes
        np.testing.assert_allclose(call(obj).final_theta, 0.8**5 * np.ones(3), rtol=1e-14)
        return
    with pytest.raises(ValueError, match=message):
        call(obj)


@pytest.mark.parametrize("f,message", [
    (lambda t: t, r"f must return a real number, got dtype float64 of shape \(3,\)"),
    (lambda t: 1.0 + 2.0j, "f must return a real number, got dtype complex128"),
    (lambda t: "1.0", "f must return a real number, got dtype <U3"),
    (lambda t: None, "f must return a real number, got NoneType"),
])
def test_f_must_return_one_real_number(f, message):
    with pytest.raises(ValueError, match=message):
        from_function(f, 3).loss(np.ones(3))


def test_f_may_return_a_one_element_array_and_non_finite_values():
    assert from_function(lambda t: np.array([t @ t]), 3).loss(np.ones(3)) == 3.0
    overflow = from_function(lambda t: float(np.exp(t[0])), 1, grad=lambda t: np.exp(t))
    with np.errstate(over="ignore"):
        assert overflow.loss_and_grad([1000.0])[0] == np.inf  # divergence is data, not an error
        trajectory = run(overflow, [700.0], gd(1.0), 3)
    assert trajectory.status == "diverged"


@pytest.mark.parametrize("name", ["grad", "hvp", "losses"])
def test_given_derivatives_must_be_callable(name):
    with pytest.raises(ValueError, match=f"{name} must be None or callable"):
        from_function(_bowl, 3, **{name: 3.0})
