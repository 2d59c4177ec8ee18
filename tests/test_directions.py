"""Directions against independent answers: filter norms measured directly, the ReLU rescaling
invariance, covariance eigenvalues for PCA, eigh for Hessian directions, the plane through
three points, and convexity along an interpolation."""

import numpy as np
import pytest
from scipy.optimize import minimize

from landscape import MLP, data, from_function, gd, run
from landscape.directions import (
    Directions,
    filter_normalize,
    filter_normalized_directions,
    hessian_directions,
    interpolation,
    pca_directions,
    random_directions,
    through_points,
)
from landscape.hessian import eigenpairs, hessian_operator
from landscape.surface import curve, line, project


def _relu_problem(bias=True):
    rng = np.random.default_rng(0)
    model = MLP([3, 6, 5, 2], activation="relu", bias=bias)
    X, y = rng.standard_normal((40, 3)), rng.standard_normal((40, 2))
    theta = model.init(rng)
    if bias:
        for block in model.blocks:
            theta[block.bias] = 0.3 * rng.standard_normal(block.n_filters)
    return model, model.objective(X, y), theta


def _filter_norms(vector, blocks):
    return [np.linalg.norm(vector[b.weight].reshape(b.n_filters, -1), axis=1) for b in blocks]


def test_random_directions_are_orthonormal_and_reproducible():
    d = random_directions(50, k=3, rng=7)
    np.testing.assert_allclose(d.vectors @ d.vectors.T, np.eye(3), atol=1e-13)
    np.testing.assert_array_equal(d.vectors, random_directions(50, k=3, rng=7).vectors)
    assert not np.allclose(d.vectors, random_directions(50, k=3, rng=8).vectors)
    # Gram-Schmidt keeps the first draw's direction.
    raw = np.random.default_rng(7).standard_normal((3, 50))
    np.testing.assert_allclose(d.vectors[0], raw[0] / np.linalg.norm(raw[0]), atol=1e-13)
    loose = random_directions(50, k=3, rng=7, orthogonal=False).vectors
    np.testing.assert_allclose(loose, raw / np.linalg.norm(raw, axis=1, keepdims=True))
    assert d.meta["seed"] == 7
    # Called as filter_normalized_directions is: (objective, center, k=, rng=); the same draw.
    f = from_function(lambda t: float(t @ t), 50)
    same = random_directions(f, np.ones(50), k=3, rng=7)
    np.testing.assert_array_equal(same.vectors, d.vectors)


@pytest.mark.parametrize("bias", ["zero", "copy"])
def test_every_filter_has_the_centers_norm(bias):
    model, obj, theta = _relu_problem()
    d = filter_normalized_directions(obj, theta, k=2, rng=1, bias=bias, orthogonal=False)
    for row in d.vectors:
        for got, want in zip(_filter_norms(row, model.blocks), _filter_norms(theta, model.blocks)):
            np.testing.assert_allclose(got, want, rtol=1e-13)
        for block in model.blocks:
            expected = 0.0 if bias == "zero" else theta[block.bias]
            np.testing.assert_array_equal(row[block.bias], expected)
    # Each filter is the raw Gaussian's filter times a positive number.
    raw = np.random.default_rng(1).standard_normal((2, model.n_params))
    w = model.blocks[1].weight
    assert np.all(np.sign(raw[:, w]) == np.sign(d.vectors[:, w]))


def test_orthogonal_filter_normalized_directions():
    model, obj, theta = _relu_problem()
    d = filter_normalized_directions(obj, theta, k=2, rng=4)
    assert abs(d.vectors[0] @ d.vectors[1]) < 1e-12 * np.linalg.norm(d.vectors[0]) ** 2
    for row in d.vectors:
        for got, want in zip(_filter_norms(row, model.blocks), _filter_norms(theta, model.blocks)):
            np.testing.assert_allclose(got, want, rtol=1e-13)
    # Filters of one entry cannot hold two orthogonal pieces.
    tiny = MLP([1, 4, 1])
    with pytest.raises(ValueError, match="orthogonal=False"):
        filter_normalized_directions(tiny.objective(np.ones((3, 1)), np.ones(3)),
                                     tiny.init(0), k=2, rng=0)


@pytest.mark.parametrize("bias", ["zero", "copy"])
def test_filter_normalization_removes_relu_rescaling(bias):
    model, obj, theta = _relu_problem()
    c = 10.0
    scaled = theta.copy()
    first, second = model.blocks[:2]
    scaled[first.weight] *= c
    scaled[first.bias] *= c
    scaled[second.weight] /= c
    assert obj.loss(scaled) == pytest.approx(obj.loss(theta), rel=1e-13)  # the same function

    def curve_along(center, direction):
        return line(obj, center, direction, span=1.0, resolution=21).values

    normalized = [filter_normalized_directions(obj, t, k=1, rng=3, bias=bias) for t in
                  (theta, scaled)]
    a, b = (curve_along(t, d.vectors[0]) for t, d in zip((theta, scaled), normalized))
    np.testing.assert_allclose(a, b, rtol=0, atol=1e-9)
    raw = random_directions(model.n_params, k=1, rng=3).vectors[0]
    assert np.max(np.abs(curve_along(theta, raw) - curve_along(scaled, raw))) > 1e-3


def test_without_blocks_the_whole_vector_is_one_filter():
    f = from_function(lambda t: float(t @ t), 4)
    center = np.array([1.0, -2.0, 0.5, 3.0])
    d = filter_normalized_directions(f, center, k=2, rng=0)
    np.testing.assert_allclose(np.linalg.norm(d.vectors, axis=1), np.linalg.norm(center))
    assert abs(d.vectors[0] @ d.vectors[1]) < 1e-12
    assert d.meta["per_filter"] is False
    with pytest.raises(ValueError, match="center is zero"):
        filter_normalize(np.ones(4), np.zeros(4))
    with pytest.raises(ValueError, match="bias mode"):
        filter_normalize(np.ones(4), center, bias="filter")
    with pytest.raises(ValueError, match="directions must have shape"):
        filter_normalize(np.ones(3), center)


def test_pca_directions_of_a_gradient_descent_run():
    X, y = data.moons(100, noise=0.1, rng=0)
    model = MLP([2, 8, 2], activation="tanh", output="softmax", loss="cross_entropy")
    obj = model.objective(X, y)
    trajectory = run(obj, model.init(1), gd(0.5), 300, record_every=5)
    points = trajectory.thetas
    d = pca_directions(trajectory, k=2)
    np.testing.assert_allclose(d.vectors @ d.vectors.T, np.eye(2), atol=1e-12)
    assert d.explained_variance.sum() >= 0.8
    np.testing.assert_array_equal(d.center, points[-1])
    # Independent answer: eigenvalues of the points' covariance matrix over its trace.
    eig = np.linalg.eigvalsh(np.cov(points.T))[::-1]
    np.testing.assert_allclose(d.explained_variance, eig[:2] / eig.sum(), rtol=1e-9)
    # The plane holds the run up to the variance it leaves out.
    mean = points.mean(axis=0)
    proj = project(trajectory, mean, d)
    left = np.sum((points - mean - proj.coords @ d.vectors) ** 2)
    total = np.sum((points - mean) ** 2)
    assert left / total == pytest.approx(1 - d.explained_variance.sum(), abs=1e-9)
    assert proj.label == "gd"
    np.testing.assert_array_equal(proj.steps, trajectory.steps)


def test_pca_pools_several_trajectories():
    rng = np.random.default_rng(0)
    runs = [np.cumsum(rng.standard_normal((k, 5)) * [3, 1, 0.5, 0.1, 0.1], axis=0)
            for k in (20, 12)]
    d = pca_directions(runs, k=2)
    pooled = np.concatenate(runs)
    eigenvalues, eigenvectors = np.linalg.eigh(np.cov(pooled.T))
    np.testing.assert_allclose(d.explained_variance, eigenvalues[::-1][:2] / eigenvalues.sum(),
                               rtol=1e-10)
    np.testing.assert_allclose(np.abs(d.vectors @ eigenvectors[:, ::-1][:, :2]), np.eye(2),
                               atol=1e-10)
    np.testing.assert_array_equal(d.center, runs[0][-1])
    assert d.meta["n_trajectories"] == 2 and d.meta["n_points"] == 32
    with pytest.raises(ValueError, match="at most"):
        pca_directions(runs[0][:2], k=2)


def test_hessian_directions_most_curved_first():
    rng = np.random.default_rng(2)
    A = rng.standard_normal((6, 6))
    H = A + A.T
    values, vectors = np.linalg.eigh(H)  # ascending, of both signs
    d = hessian_directions(vectors, values, k=3)
    by_size = values[np.argsort(-np.abs(values))][:3]
    for row, lam in zip(d.vectors, by_size):
        np.testing.assert_allclose(H @ row, lam * row, atol=1e-12)
    assert d.meta["eigenvalues"] == pytest.approx(by_size.tolist())
    plain = hessian_directions(3 * vectors[:, :2])
    np.testing.assert_allclose(plain.vectors, vectors[:, :2].T, atol=1e-15)


def test_hessian_directions_from_a_lanczos_spectrum():
    model, obj, theta = _relu_problem()
    spectrum = eigenpairs(hessian_operator(obj, theta), k=2, which="LA", rng=0)
    d = hessian_directions(spectrum)
    top = spectrum.eigenvalues[::-1]
    for row, lam in zip(d.vectors, top):
        np.testing.assert_allclose(obj.hvp(theta, row), lam * row, atol=1e-7 * abs(lam))
    assert d.kind == "hessian" and d.vectors.shape == (2, model.n_params)


def test_through_points_spans_every_affine_combination_of_the_three():
    rng = np.random.default_rng(3)
    a, c, b = rng.standard_normal((3, 7))
    t = np.linspace(0, 1, 11)
    bent = (1 - t)[:, None] ** 2 * a + (2 * t * (1 - t))[:, None] * c + (t**2)[:, None] * b
    plane = through_points(a, b, c)
    np.testing.assert_allclose(plane.vectors @ plane.vectors.T, np.eye(2), atol=1e-14)
    assert np.all(project(bent, plane.center, plane).residual < 1e-12)
    with pytest.raises(ValueError, match="collinear"):
        through_points(a, b, 2 * b - a)


def test_linear_interpolation_is_monotone_on_a_convex_model():
    X, y = data.blobs(200, centers=2, noise=2.0, rng=0)
    model = MLP([2, 1], output="sigmoid", loss="cross_entropy")
    obj = model.objective(X, y)
    start = model.init(0) + np.array([3.0, -3.0, 2.0])
    result = minimize(obj.loss_and_grad, start, jac=True, method="L-BFGS-B",
                      options={"gtol": 1e-12, "ftol": 0, "maxiter": 1000})
    assert np.linalg.norm(obj.grad(result.x)) < 1e-6
    d = interpolation(start, result.x)
    path = line(obj, d.center, d.vectors[0], span=(0.0, 1.0), resolution=101)
    assert np.all(np.diff(path.values) <= 1e-12)
    assert path.values[-1] < path.values[0]
    straight = curve(obj, start, result.x, resolution=101)
    np.testing.assert_allclose(straight.values, path.values, rtol=1e-12)


def test_directions_records_and_validation():
    d = interpolation(np.zeros(3), np.ones(3))
    assert isinstance(d, Directions) and d.kind == "interpolation"
    np.testing.assert_array_equal(d.center + d.vectors[0], np.ones(3))
    with pytest.raises(ValueError, match="same point"):
        interpolation(np.ones(3), np.ones(3))
    with pytest.raises(ValueError, match="end must have length 3"):
        interpolation(np.ones(3), np.ones(4))
    with pytest.raises(ValueError, match="k must be"):
        random_directions(3, k=4)
    with pytest.raises(ValueError, match=r"pass k by name, random_directions\(\.\.\., k=4\)"):
        random_directions(5, 4)  # the old (dim, k): 4 is read as the center
    with pytest.raises(ValueError, match="center must have length 5"):
        random_directions(5, np.zeros(4))
    with pytest.raises(ValueError, match="rng"):
        random_directions(3, k=2, rng="seed")
    with pytest.raises(ValueError, match="eigenvalues must have 2 entries"):
        hessian_directions(np.eye(3)[:, :2], eigenvalues=[1.0])
