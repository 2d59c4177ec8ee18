"""Grids in d directions against the function evaluated point by point: an asymmetric
function on a non-square 3-D grid, a digits MLP's top-3 Hessian-eigenvector grid through a
process pool against the serial one and the per-point loop, the memory budget refused up
front, and bad input named."""

import numpy as np
import pytest

from landscape import (
    MLP,
    Execution,
    adam,
    data,
    eigenpairs,
    from_function,
    grid,
    hessian_directions,
    hessian_operator,
    pca_directions,
    plane,
    random_directions,
    run,
)


def _asymmetric(t):
    return float(np.sin(t[0]) + t[1] ** 3 - 2 * t[0] * t[2] + 0.5 * t[2] ** 2 + t[3])


def test_a_grid_in_three_directions_reproduces_the_function_in_ij_order():
    f = from_function(_asymmetric, 4)
    center = np.array([0.3, -0.2, 0.1, 1.0])
    directions = np.array([[1.0, 0, 0, 0], [0, 2.0, 0, 0], [0, 0, 1.0, 1.0], [0, 0, 0, 1.0]])
    s = grid(f, center, directions, span=((-1, 2), (-0.5, 0.5), (0, 1)), resolution=(5, 4, 3),
             d=3)
    assert s.values.shape == (5, 4, 3) and s.ndim == 3 and s.directions.shape == (3, 4)
    a, b, c = s.axes
    np.testing.assert_array_equal(a, np.linspace(-1, 2, 5))
    np.testing.assert_array_equal(b, np.linspace(-0.5, 0.5, 4))
    direct = np.array([[[_asymmetric(center + x * directions[0] + y * directions[1]
                                     + z * directions[2]) for z in c] for y in b] for x in a])
    np.testing.assert_allclose(s.values, direct, rtol=1e-14, atol=1e-14)
    assert s.meta["kind"] == "grid" and s.meta["resolution"] == [5, 4, 3]
    assert s.meta["points"] == 60 and s.meta["span"] == [[-1.0, 2.0], [-0.5, 0.5], [0.0, 1.0]]


def test_a_grid_in_two_directions_is_the_plane():
    f = from_function(_asymmetric, 4)
    d = random_directions(4, k=2, rng=0)
    p = plane(f, np.ones(4), d, span=(-1, 0.5), resolution=(7, 6))
    g = grid(f, np.ones(4), d, span=(-1, 0.5), resolution=(7, 6))
    np.testing.assert_array_equal(g.values, p.values)
    assert g.meta["directions"] == "random" and g.meta["seed"] == 0


def test_pca_grids_keep_the_variance_of_the_directions_they_use():
    rng = np.random.default_rng(0)
    paths = [np.cumsum(rng.standard_normal((30, 5)) * [3, 2, 1, 0.5, 0.1], axis=0)]
    d = pca_directions(paths, k=4)
    s = grid(from_function(lambda t: float(t @ t), 5), np.zeros(5), d, resolution=3, d=3)
    np.testing.assert_array_equal(s.meta["explained_variance"], d.explained_variance[:3])


@pytest.fixture(scope="module")
def digits_mlp():
    X, y = data.digits()
    model = MLP([64, 12, 10], activation="tanh", output="softmax", loss="cross_entropy")
    objective = model.objective(X[:300], y[:300])
    theta = run(objective, model.init(0), adam(0.02), 60).final_theta
    spectrum = eigenpairs(hessian_operator(objective, theta), k=3, which="LA", rng=0)
    return objective, theta, hessian_directions(spectrum)


def test_a_hessian_grid_on_a_digits_mlp_through_processes_equals_the_serial_one(digits_mlp):
    objective, theta, directions = digits_mlp
    assert directions.vectors.shape == (3, objective.dim)
    serial = grid(objective, theta, directions, span=0.5, resolution=(7, 5, 4))
    pooled = grid(objective, theta, directions, span=0.5, resolution=(7, 5, 4),
                  execution=Execution(executor=2, memory_budget=2e6))
    np.testing.assert_array_equal(pooled.values, serial.values)
    loop = [objective.loss(theta + c @ directions.vectors) for c in serial.coords()]
    np.testing.assert_allclose(serial.values.ravel(), loop, rtol=1e-10)
    assert serial.meta["directions"] == "hessian"
    assert serial.meta["eigenvalues"] == pytest.approx(directions.meta["eigenvalues"])


def test_a_grid_whose_values_exceed_the_budget_is_refused_up_front():
    calls = []

    def f(t):
        calls.append(1)
        return float(t @ t)

    obj = from_function(f, 5)
    with pytest.raises(ValueError, match=r"21 x 21 x 21 x 21 x 21 is 4,084,101 points in 5 "
                                         r"directions: their values take 32,672,808 bytes, "
                                         r"more than memory_budget \(1,000,000 bytes\)"):
        grid(obj, np.zeros(5), np.eye(5), resolution=21, execution=Execution(memory_budget=1e6))
    with pytest.raises(ValueError, match="memory_budget"):  # a metric doubles what is held
        grid(obj, np.zeros(5), np.eye(5)[:2], resolution=250,
             metrics={"norm": lambda o, t: 0.0}, execution=Execution(memory_budget=1e6))
    assert calls == []  # nothing was computed
    small = grid(obj, np.zeros(5), np.eye(5)[:2], resolution=250,
                 execution=Execution(memory_budget=1e6))  # 500 kB of values fit
    assert small.values.shape == (250, 250)


@pytest.mark.parametrize("kwargs, message", [
    ({"d": 4}, r"d = 4 is larger than the number of directions \(3\)"),
    ({"d": 0}, "d must be"),
    ({"d": 2.0}, "d must be an integer"),
    ({"span": ((0, 1), (0, 1))}, "span must be one setting for all 3 axes or one per axis"),
    ({"span": (1.0, 2.0, 3.0)}, r"span\[0\] must be a positive number s or a pair"),
    ({"resolution": (3, 3)}, "resolution must be one setting for all 3 axes"),
    ({"resolution": 1}, "resolution"),
    ({"directions": np.zeros((2, 3))}, "a direction is zero"),
    ({"directions": np.ones((2, 4))}, "directions"),
    ({"center": np.zeros(4)}, "center"),
])
def test_bad_input_is_named(kwargs, message):
    f = from_function(lambda t: float(t @ t), 3)
    args = {"center": np.zeros(3), "directions": np.eye(3), **kwargs}
    with pytest.raises(ValueError, match=message):
        grid(f, **args)
