"""The Hessian operator, its eigenpairs, inertia, Lanczos, SLQ and Hutchinson against
closed forms, dense ``eigh`` and finite differences."""

import numpy as np
import pytest
from scipy.sparse.linalg import LinearOperator, aslinearoperator

from landscape import MLP, from_function
from landscape import functions as F
from landscape.hessian import (
    condition_number,
    curvature_along,
    eigenpairs,
    full_spectrum,
    hessian_operator,
    inertia,
    lanczos,
    min_eigenvalue,
    ritz,
    sharpness,
    zero_tolerance,
)
from landscape.objective import fd_hvp
from landscape.spectral_density import hutchinson_trace, spectral_density


class Counter(LinearOperator):
    """A test's own count of products, to check the library's ``n_hvp``."""

    def __init__(self, a):
        super().__init__(np.float64, a.shape)
        self.a, self.count = a, 0

    def _matvec(self, v):
        self.count += 1
        return self.a @ np.ravel(v)

    def _rmatvec(self, v):
        return self._matvec(v)


def symmetric(eigenvalues, rng=0):
    """A dense symmetric matrix with the given spectrum and a random eigenbasis."""
    q, _ = np.linalg.qr(np.random.default_rng(rng).standard_normal((len(eigenvalues),) * 2))
    return (q * eigenvalues) @ q.T


@pytest.fixture(scope="module")
def small_net():
    """A 2-16-16-1 tanh regression net after 100 GD steps (337 parameters) and its spectrum."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((200, 2))
    y = np.sin(X @ rng.standard_normal((2, 1)))
    model = MLP([2, 16, 16, 1], activation="tanh")
    obj = model.objective(X, y)
    theta = model.init(rng=1, gain=2.0)
    for _ in range(100):
        theta = theta - 0.05 * obj.grad(theta)
    return obj, theta, np.linalg.eigvalsh(obj.hessian(theta))


# -- the operator --------------------------------------------------------------------------


def test_operator_matches_analytic_hessian_and_finite_differences():
    f = F.rosenbrock(6)
    theta = np.random.default_rng(1).uniform(-1, 1, 6)
    H = hessian_operator(f, theta)
    assert H.shape == (6, 6)
    np.testing.assert_allclose(H @ np.eye(6), f.hessian(theta), rtol=1e-14, atol=1e-12)
    v = np.arange(6.0)
    np.testing.assert_allclose(H.rmatvec(v), H.matvec(v))
    np.testing.assert_allclose(H @ v, fd_hvp(f.grad, theta, v), rtol=1e-6)


def test_rosenbrock_eigenvalues_at_minimum_match_closed_form():
    # H(1, 1) = [[802, -400], [-400, 200]]: eigenvalues 501 -+ sqrt(301^2 + 400^2).
    exact = 501 + np.array([-1.0, 1.0]) * np.hypot(301.0, 400.0)
    H = hessian_operator(F.rosenbrock(2), [1.0, 1.0])
    np.testing.assert_allclose(full_spectrum(H).eigenvalues, exact, rtol=0, atol=1e-10)
    assert abs(sharpness(F.rosenbrock(2), [1.0, 1.0]) - exact[1]) < 1e-10
    assert abs(min_eigenvalue(F.rosenbrock(2), [1.0, 1.0]) - exact[0]) < 1e-10


def test_dense_and_lanczos_paths_find_known_extremes():
    w = np.concatenate([[-3.0, -2.5], np.linspace(-1, 1, 296), [4.0, 5.0]])
    f = F.quadratic(w, rng=3)
    theta = np.zeros(300)
    for method in ("dense", "lanczos"):
        top = eigenpairs(hessian_operator(f, theta), 2, "LA", rng=0, method=method)
        bottom = eigenpairs(hessian_operator(f, theta), 2, "SA", rng=0, method=method)
        np.testing.assert_allclose(top.eigenvalues, [4.0, 5.0], atol=1e-10)
        np.testing.assert_allclose(bottom.eigenvalues, [-3.0, -2.5], atol=1e-10)
        for s in (top, bottom):
            assert s.converged and s.eigenvectors.shape == (300, 2)
            residual = f.A @ s.eigenvectors - s.eigenvectors * s.eigenvalues
            assert np.abs(residual).max() < 1e-8
    assert sharpness(f, theta) == pytest.approx(5.0, abs=1e-10)
    assert min_eigenvalue(f, theta) == pytest.approx(-3.0, abs=1e-10)


def test_n_hvp_counts_every_product():
    a = symmetric(np.linspace(1, 50, 120), rng=2)
    counter = Counter(a)
    s = eigenpairs(counter, 3, "LA", rng=0, method="lanczos")
    assert s.n_hvp == counter.count - 2  # the symmetry probe's 2 products are not counted
    np.testing.assert_allclose(s.eigenvalues, np.linspace(1, 50, 120)[-3:], rtol=1e-12)
    counter = Counter(a)
    assert full_spectrum(counter).n_hvp == 120


def test_same_seed_same_numbers():
    a = symmetric(np.linspace(-5, 5, 150), rng=4)
    one = eigenpairs(a, 2, "SA", rng=7, method="lanczos", tol=1e-3)
    two = eigenpairs(a, 2, "SA", rng=7, method="lanczos", tol=1e-3)
    np.testing.assert_array_equal(one.eigenvalues, two.eigenvalues)
    assert one.n_hvp == two.n_hvp


def test_unconverged_lanczos_is_data_not_an_error():
    a = symmetric(np.linspace(0, 1, 400) ** 3, rng=5)
    s = eigenpairs(a, 5, "SA", rng=0, method="lanczos", maxiter=1, ncv=12)
    assert not s.converged
    assert s.eigenvalues.shape[0] == s.eigenvectors.shape[1] <= 5


def test_digits_sized_mlp_lanczos_matches_dense_eigh():
    from sklearn.datasets import load_digits
    from threadpoolctl import threadpool_limits

    X, y = load_digits(return_X_y=True)
    model = MLP([64, 32, 10], activation="tanh", output="softmax", loss="cross_entropy")
    obj = model.objective(X[:400] / 16.0, y[:400])
    theta = model.init(rng=0)
    for _ in range(20):
        theta = theta - 0.5 * obj.grad(theta)
    assert obj.dim == 2410
    H = hessian_operator(obj, theta)
    # One BLAS thread: on a shared 2-core machine, threads contending over small matrix
    # products made this dense 2410 x 2410 work several times slower.
    with threadpool_limits(1):
        w = full_spectrum(H).eigenvalues
        top, bottom = eigenpairs(H, 5, "LA", rng=0), eigenpairs(H, 5, "SA", rng=0)
    assert w[0] < 0 < w[-1]
    np.testing.assert_allclose(top.eigenvalues, w[-5:], rtol=1e-8)
    np.testing.assert_allclose(bottom.eigenvalues, w[:5], rtol=1e-8)
    assert top.n_hvp < 200 and bottom.n_hvp < obj.dim


def _residuals(a, spectrum):
    """True relative residuals ``‖A y - θ y‖ / |θ|`` of a spectrum's pairs, from dense ``a``."""
    y, w = spectrum.eigenvectors, spectrum.eigenvalues
    return np.linalg.norm(a @ y - y * w, axis=0) / np.abs(w)


def _fewest_steps(a, v0, k, largest, tol):
    """The fewest plain Lanczos steps from ``v0`` whose ``k`` wanted Ritz pairs have true
    residuals (dense ``a``) within ``tol``: the best any stopping rule on them can do."""
    run = lanczos(a, v0, 80)
    for m in range(k, run.alpha.size + 1):
        theta, s = ritz(run._replace(alpha=run.alpha[:m], beta=run.beta[:m - 1]))
        want = slice(m - k, m) if largest else slice(0, k)
        y = run.basis[:, :m] @ s[:, want]
        if np.all(np.linalg.norm(a @ y - y * theta[want], axis=0) <= tol * np.abs(theta[want])):
            return m
    raise AssertionError("not reached in 80 steps")


@pytest.mark.parametrize("tol", [1e-6, 1e-8])
def test_lanczos_stops_at_the_first_product_meeting_the_residual_rule(small_net, tol):
    obj, theta, w = small_net
    a = obj.hessian(theta)
    v0 = np.random.default_rng(0).standard_normal(obj.dim)  # eigenpairs' start for rng=0
    for k, which, exact in ((1, "LA", w[-1:]), (5, "LA", w[-5:]), (1, "SA", w[:1])):
        # ncv=80: no restart, so the count is comparable with plain Lanczos'
        s = eigenpairs(hessian_operator(obj, theta), k, which, rng=0, method="lanczos", tol=tol,
                       ncv=80)
        assert s.converged and s.eigenvalues.shape == (k,)
        residual = _residuals(a, s)
        assert np.all(residual <= 1.01 * tol)
        # an eigenvalue's error is at most its residual (and about residual^2 / gap)
        assert np.all(np.abs(s.eigenvalues - exact) <= residual * np.abs(exact) + 1e-13)
        fewest = _fewest_steps(a, v0, k, which == "LA", tol)
        assert fewest <= s.n_hvp <= fewest + 1, (k, which, fewest, s.n_hvp)


def test_fewer_products_than_eigsh_at_its_own_tolerance(small_net):
    from scipy.sparse.linalg import eigsh

    obj, theta, w = small_net
    H = hessian_operator(obj, theta)
    for tol in (1e-6, 1e-8):
        for k, which in ((1, "LA"), (5, "LA"), (1, "SA")):
            ours = eigenpairs(H, k, which, rng=0, method="lanczos", tol=tol)
            counter = Counter(obj.hessian(theta))
            v0 = np.random.default_rng(0).standard_normal(obj.dim)
            eigsh(counter, k, which=which, tol=tol, v0=v0, ncv=max(2 * k + 1, 20))
            assert ours.n_hvp < counter.count, (tol, k, which, ours.n_hvp, counter.count)


def test_thick_restarts_keep_converging_to_the_exact_pairs():
    w = np.concatenate([np.linspace(-1.0, 1.0, 395), [1.5, 1.6, 1.7, 1.8, 1.9]])
    a = symmetric(w, rng=13)
    for k, which, exact in ((3, "LA", w[-3:]), (2, "SA", w[:2])):
        counter = Counter(a)
        s = eigenpairs(counter, k, which, rng=1, method="lanczos", tol=1e-10, ncv=8)
        assert s.converged and s.n_hvp > 8  # restarted
        assert s.n_hvp == counter.count - 2  # the symmetry probe's 2 are not counted
        np.testing.assert_allclose(s.eigenvalues, exact, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(s.eigenvectors.T @ s.eigenvectors, np.eye(k), atol=1e-12)
        assert np.all(_residuals(a, s) <= 1.01e-10)


def test_an_exhausted_krylov_space_gives_new_directions():
    # Two distinct eigenvalues: every start vector's Krylov space has dimension 2.
    a = np.diag(np.repeat([1.0, 2.0], 100))
    s = eigenpairs(a, 3, "LA", rng=0, method="lanczos")
    assert s.converged
    np.testing.assert_allclose(s.eigenvalues, [2.0, 2.0, 2.0], atol=1e-12)
    np.testing.assert_allclose(s.eigenvectors.T @ s.eigenvectors, np.eye(3), atol=1e-12)
    np.testing.assert_allclose(s.eigenvectors[:100], 0.0, atol=1e-12)  # in the 2-eigenspace
    zero = eigenpairs(np.diag(np.linspace(0.0, 1.0, 150)), 1, "SA", rng=0, method="lanczos")
    assert zero.converged and abs(zero.eigenvalues[0]) < 1e-9  # a zero eigenvalue converges


def test_every_copy_of_a_repeated_extreme_eigenvalue_is_found():
    # One start vector's Krylov space holds one copy of 5; rounding seeds the others slowly.
    w = np.concatenate([np.linspace(0.0, 3.0, 147), [5.0, 5.0, 5.0]])
    a = symmetric(w, rng=15)
    for k, exact in ((2, [5.0, 5.0]), (3, [5.0, 5.0, 5.0]), (4, [3.0, 5.0, 5.0, 5.0])):
        s = eigenpairs(a, k, "LA", rng=0, method="lanczos", tol=1e-10)
        assert s.converged
        np.testing.assert_allclose(s.eigenvalues, exact, atol=1e-9)
        np.testing.assert_allclose(s.eigenvectors.T @ s.eigenvectors, np.eye(k), atol=1e-12)
        assert np.all(_residuals(a, s) <= 1.01e-10)


def test_solver_algebra_on_one_blas_thread_products_at_the_callers():
    from scipy.sparse import diags
    from threadpoolctl import threadpool_info, threadpool_limits

    import landscape.krylov as krylov

    def blas_threads():
        return {i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"}

    seen = {"product": set(), "algebra": set()}

    class Recorder(Counter):
        def _matvec(self, v):
            seen["product"] |= blas_threads()
            return super()._matvec(v)

    def recorded(basis, j, w, beta):
        seen["algebra"] |= blas_threads()
        return orthogonalize(basis, j, w, beta)

    orthogonalize = krylov.orthogonalize
    for n in (300, 3000):  # small bases too: OpenBLAS threaded some of their work
        with threadpool_limits(2):
            krylov.orthogonalize = recorded
            try:
                found = eigenpairs(Recorder(diags(np.linspace(0.0, 1.0, n))), 2, "LA", rng=0,
                                   method="lanczos", tol=1e-8)
            finally:
                krylov.orthogonalize = orthogonalize
            assert blas_threads() == {2}  # the caller's limit is back
        np.testing.assert_allclose(found.eigenvalues, [1.0 - 1.0 / (n - 1), 1.0], rtol=1e-12)
        assert seen == {"product": {2}, "algebra": {1}}


def test_curvature_along_points():
    f = F.lee_saddle()  # Hessian diag(1, 3 y^2 - 1)
    thetas = np.array([[0.0, 0.0], [0.3, 1.0], [0.0, 2.0]])
    c = curvature_along(f, thetas)
    np.testing.assert_allclose(c.sharpness, [1.0, 2.0, 11.0], atol=1e-12)
    np.testing.assert_allclose(c.min_eigenvalue, [-1.0, 1.0, 1.0], atol=1e-12)
    assert c.n_hvp == 3 * 2 * 2  # dense path: n products per eigenpairs call


# -- counting ----------------------------------------------------------------------------


def test_inertia_and_its_tolerance():
    w = np.array([-2.0, -1e-7, 0.0, 1e-9, 3.0])
    assert zero_tolerance(w) == pytest.approx(3e-6)
    assert tuple(inertia(w))[:3] == (1, 3, 1)
    assert tuple(inertia(w, rtol=1e-12))[:3] == (2, 1, 2)
    assert tuple(inertia(np.zeros(3)))[:3] == (0, 3, 0)
    assert tuple(inertia(np.array([1e-17, -1e-17]), atol=1e-12))[:3] == (0, 2, 0)


def test_condition_number():
    assert condition_number([1.0, 10.0, -100.0]) == pytest.approx(100.0)
    assert condition_number([0.0, 2.0]) == np.inf
    f = F.rosenbrock(2)
    exact = (501 + np.hypot(301.0, 400.0)) / (501 - np.hypot(301.0, 400.0))
    spectrum = full_spectrum(hessian_operator(f, [1.0, 1.0]))
    assert condition_number(spectrum.eigenvalues) == pytest.approx(exact, rel=1e-10)


# -- Lanczos and quadrature ------------------------------------------------------------


def test_lanczos_basis_tridiagonalizes():
    a = symmetric(np.linspace(-2, 7, 60), rng=6)
    r = lanczos(a, np.ones(60), 25)
    V, T = r.basis, np.diag(r.alpha) + np.diag(r.beta, 1) + np.diag(r.beta, -1)
    np.testing.assert_allclose(V.T @ V, np.eye(25), atol=1e-12)
    np.testing.assert_allclose(V.T @ a @ V, T, atol=1e-11)


def test_lanczos_stops_on_an_invariant_subspace():
    a = np.diag(np.arange(1.0, 11.0))
    v0 = np.zeros(10)
    v0[[1, 4, 7]] = 1.0
    r = lanczos(a, v0, 10)
    assert r.alpha.size == 3
    np.testing.assert_allclose(ritz(r)[0], [2.0, 5.0, 8.0], atol=1e-12)


def test_gauss_quadrature_weights_and_exactness():
    w = np.linspace(-1, 3, 40)
    a, v = symmetric(w, rng=8), np.random.default_rng(9).standard_normal(40)
    q = np.linalg.eigh(a)[1]
    u = v / np.linalg.norm(v)
    nodes, vecs = ritz(lanczos(a, v, 40))  # the full Krylov space: the exact measure
    np.testing.assert_allclose(nodes, w, atol=1e-10)
    np.testing.assert_allclose(vecs[0] ** 2, (q.T @ u) ** 2, atol=1e-12)
    nodes, vecs = ritz(lanczos(a, v, 6))  # 6 nodes integrate degree <= 11 exactly
    for k in range(12):
        exact = u @ np.linalg.matrix_power(a, k) @ u
        assert np.sum(vecs[0] ** 2 * nodes**k) == pytest.approx(exact, rel=1e-9, abs=1e-12)


def test_spectral_density_of_a_network(small_net):
    obj, theta, w = small_net
    d = spectral_density(hessian_operator(obj, theta), n_probes=10, m=40, deflate=10, rng=0)
    assert abs(np.trapezoid(d.density, d.grid) - 1) < 1e-5
    assert abs(d.mean() / w.mean() - 1) < 0.01
    assert abs(d.cdf(0.0) - np.mean(w < 0)) < 0.03
    below = d.grid <= 0
    assert abs(np.trapezoid(d.density[below], d.grid[below]) - d.cdf(d.grid[below][-1])) < 1e-3
    np.testing.assert_allclose(d.outliers, w[-10:], rtol=1e-8)
    np.testing.assert_allclose(d.weights.sum(axis=1), 1.0, atol=1e-12)
    assert d.n_hvp > 10 * 40


def test_spectral_density_without_deflation_is_a_plain_average():
    a = symmetric(np.linspace(0, 1, 50), rng=10)
    d = spectral_density(a, n_probes=4, m=50, rng=1, sigma=0.05)
    np.testing.assert_allclose(np.sort(d.nodes, axis=1), np.tile(np.linspace(0, 1, 50), (4, 1)),
                               atol=1e-9)
    assert d.outliers.size == 0 and d.n_hvp == 200
    assert abs(np.trapezoid(d.density, d.grid) - 1) < 1e-5


def test_hutchinson_is_exact_for_diagonal_and_unbiased_otherwise():
    diag = np.diag(np.arange(1.0, 31.0))
    t = hutchinson_trace(diag, 3, rng=0)
    assert t.trace == pytest.approx(465.0, abs=1e-12) and t.stderr < 1e-12 and t.n_hvp == 3
    a = symmetric(np.linspace(-1, 4, 80), rng=11)
    sd = np.sqrt(2 * (np.sum(a * a) - np.sum(np.diag(a) ** 2)) / 400)  # theory, 400 probes
    t = hutchinson_trace(a, 400, rng=12)
    assert abs(t.trace - np.trace(a)) < 4 * sd
    assert 0.7 < t.stderr / sd < 1.3


# -- bad input -----------------------------------------------------------------------------


def test_bad_input_is_a_clear_error():
    f = F.rosenbrock(3)
    with pytest.raises(ValueError, match="NaN"):
        hessian_operator(f, [0.0, np.nan, 1.0])
    with pytest.raises(ValueError, match="square"):
        eigenpairs(np.ones((3, 4)))
    with pytest.raises(ValueError, match="square"):
        eigenpairs(aslinearoperator(np.ones((3, 4))))
    with pytest.raises(ValueError, match="symmetric"):
        eigenpairs(np.triu(np.ones((4, 4))))
    with pytest.raises(ValueError, match="symmetric"):
        spectral_density(aslinearoperator(np.triu(np.ones((30, 30)))), rng=0)
    with pytest.raises(ValueError, match="k must be at most"):
        eigenpairs(hessian_operator(f, np.zeros(3)), k=4)
    with pytest.raises(ValueError, match="k must be"):
        eigenpairs(np.eye(3), k=0)
    with pytest.raises(ValueError, match="which"):
        eigenpairs(np.eye(3), which="LM")
    with pytest.raises(ValueError, match="k < n"):
        eigenpairs(np.eye(5), k=5, method="lanczos")
    with pytest.raises(ValueError, match="ncv"):
        eigenpairs(np.eye(50), k=3, method="lanczos", ncv=3)
    with pytest.raises(ValueError, match="ncv"):
        eigenpairs(np.eye(50), k=3, method="lanczos", ncv=51)
    with pytest.raises(ValueError, match="tol"):
        eigenpairs(np.eye(50), method="lanczos", tol=-1e-6)
    with pytest.raises(ValueError, match="maxiter"):
        eigenpairs(np.eye(50), method="lanczos", maxiter=0)
    with pytest.raises(ValueError, match="deflate"):
        spectral_density(np.eye(5), deflate=5)
    with pytest.raises(ValueError, match="sigma"):
        spectral_density(np.eye(5), sigma=0.0)
    with pytest.raises(ValueError, match="grid"):
        spectral_density(np.eye(5), grid=[1.0, 0.0])
    with pytest.raises(ValueError, match="v0"):
        lanczos(np.eye(3), np.zeros(3), 2)
    with pytest.raises(ValueError, match="NaN or inf"):
        full_spectrum(hessian_operator(from_function(lambda t: 0.0, 2,
                                                     hvp=lambda t, v: v * np.nan), [0, 0]))


@pytest.mark.parametrize("method", ["dense", "lanczos"])
def test_eigenvalues_are_ascending_for_both_ends_as_documented(method):
    H = np.diag(np.arange(-20.0, 180.0))  # eigenvalues -20, ..., 179
    top = eigenpairs(H, k=3, which="LA", method=method, rng=0)
    bottom = eigenpairs(H, k=3, which="SA", method=method, rng=0)
    np.testing.assert_allclose(top.eigenvalues, [177.0, 178.0, 179.0], atol=1e-8)
    np.testing.assert_allclose(bottom.eigenvalues, [-20.0, -19.0, -18.0], atol=1e-8)
    # column i is the eigenvector of eigenvalues[i]: here the unit vector e_(value + 20)
    np.testing.assert_allclose(np.abs(top.eigenvectors[[197, 198, 199], [0, 1, 2]]), 1.0,
                               atol=1e-8)
