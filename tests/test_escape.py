"""Saddle episodes against the scalar recurrences of gradient descent and a linear
network's plateaus (Saxe et al. 2014), escape directions against ``eigh``."""

import numpy as np
import pytest

from landscape import functions as F
from landscape import gd, run
from landscape.escape import escape_direction, saddle_episodes
from landscape.hessian import RTOL

# -- along a trajectory ----------------------------------------------------------------------


def test_saddle_episode_of_gradient_descent_on_lee_saddle():
    # f = ½x² + ¼y⁴ - ½y², GD with lr η: x_t = (1-η)^t x_0, y_{t+1} = y_t (1 + η - η y_t²).
    f, eta, gtol = F.lee_saddle(), 0.1, 1e-3
    trajectory = run(f, [1.0, 1e-8], gd(eta), 400)
    x, y, norms, ys = 1.0, 1e-8, [], []
    for _ in range(401):
        norms.append(np.hypot(x, y**3 - y))
        ys.append(y)
        x, y = (1 - eta) * x, y * (1 + eta - eta * y * y)
    # the gradient is small twice: near the saddle (y ~ 0), then at the minimum (y ~ 1)
    small = np.flatnonzero((np.array(norms) <= gtol) & (np.array(ys) < 0.5))
    assert small.size > 10 and np.all(np.diff(small) == 1)
    assert np.array(norms)[-1] <= gtol
    episodes = saddle_episodes(f, trajectory.thetas, trajectory.steps, trajectory.grad_norm,
                               gtol)
    assert len(episodes) == 1
    e = episodes[0]
    assert (e.start, e.end) == (small[0], small[-1])
    assert e.min_eigenvalue == pytest.approx(-1.0, abs=1e-6)
    np.testing.assert_allclose(e.escape_direction, [0.0, 1.0], atol=1e-9)
    np.testing.assert_allclose(np.abs(e.eigenvectors), [[0.0], [1.0]], atol=1e-9)
    at, after = e.at_step, e.end + 1  # every step is recorded
    move = trajectory.thetas[after] - trajectory.thetas[at]
    assert e.in_eigenspace == pytest.approx(abs(move[1]) / np.linalg.norm(move), rel=1e-9)
    assert e.start <= e.at_step <= e.end
    np.testing.assert_allclose(trajectory.final_theta, [0.0, 1.0], atol=1e-6)


def test_no_saddle_episode_near_a_minimum():
    f = F.quadratic([1.0, 2.0, 3.0], rng=0)
    trajectory = run(f, [1.0, 1.0, 1.0], gd(0.1), 300)
    assert saddle_episodes(f, trajectory.thetas, trajectory.steps, trajectory.grad_norm,
                           1e-3) == ()


def test_escape_direction_at_a_saddle():
    space = escape_direction(F.saddle(), [0.0, 0.0])
    assert space.min_eigenvalue == pytest.approx(-2.0) and space.multiplicity == 1
    np.testing.assert_allclose(np.abs(space.eigenvectors), [[0.0], [1.0]], atol=1e-12)
    # ½θᵀAθ, A with eigenvalues (-2, -2, 2) in a random basis: -2 twice, the basis spans
    # eigh's plane of -2.
    f = F.quadratic([-2.0, -2.0, 2.0], rng=0)
    space = escape_direction(f, np.zeros(3))
    np.testing.assert_allclose(space.eigenvalues, [-2.0, -2.0])
    plane = np.linalg.eigh(f.A)[1][:, :2]
    v = space.eigenvectors
    np.testing.assert_allclose(v @ v.T, plane @ plane.T, atol=1e-12)
    # n = 150 goes through Lanczos: -2 five times needs a second run (4 pairs, then 8).
    f = F.quadratic(np.concatenate([np.full(5, -2.0), np.linspace(0.5, 3.0, 145)]), rng=0)
    space = escape_direction(f, np.zeros(150))
    bottom = np.linalg.eigh(f.A)[1][:, :5]
    assert space.multiplicity == 5
    np.testing.assert_allclose(space.eigenvalues, -2.0, rtol=1e-10)
    v = space.eigenvectors
    np.testing.assert_allclose(v @ v.T, bottom @ bottom.T, atol=1e-10)


# A 3-3-3 linear network on whitened inputs, y = A x with singular values (3, 1, 0.3), trained
# by GD from a small init (Saxe et al. 2014): the loss is ½||W2 W1 - A||². It stalls at the
# saddles with modes 1..k learned, k = 0, 1, 2, where λ_min = -s_{k+1} with multiplicity
# p - k (p = 3 hidden units): each unused hidden direction h pairs with the next mode,
# (W1, W2) += (ε h v_{k+1}ᵀ, δ u_{k+1} hᵀ), giving eigenvalues ±s_{k+1}.
SINGULAR = np.array([3.0, 1.0, 0.3])


@pytest.fixture(scope="module")
def plateaus():
    rng = np.random.default_rng(0)
    d, n = len(SINGULAR), 60
    X = np.sqrt(n) * np.linalg.qr(rng.standard_normal((n, d)))[0]  # Xᵀ X / n = I
    U, V = (np.linalg.qr(rng.standard_normal((d, d)))[0] for _ in range(2))
    f = F.deep_linear((d, d, d), X, X @ (U @ np.diag(SINGULAR) @ V.T).T)
    trajectory = run(f, 1e-4 * rng.standard_normal(f.dim), gd(0.05), 1500, record_every=10)
    grad_norms = trajectory.grad_norm[trajectory.steps]
    return f, trajectory, grad_norms, 0.05 * grad_norms.max()


def test_saddle_episodes_give_the_repeated_eigenvalues_eigenspace(plateaus):
    f, trajectory, grad_norms, gtol = plateaus
    episodes = saddle_episodes(f, trajectory.thetas, trajectory.steps, grad_norms, gtol)
    np.testing.assert_allclose([e.min_eigenvalue for e in episodes], -SINGULAR, rtol=1e-3)
    assert [e.multiplicity for e in episodes] == [3, 2, 1]
    for e in episodes:
        at = np.searchsorted(trajectory.steps, e.at_step)
        after = np.searchsorted(trajectory.steps, e.end) + 1
        move = trajectory.thetas[after] - trajectory.thetas[at]
        # the eigenspace against eigh's, and the move almost all inside it
        w, v = np.linalg.eigh(f.hessian(trajectory.thetas[at]))
        bottom = v[:, w - w[0] <= 0.01 * abs(w[0])]
        np.testing.assert_allclose(e.eigenvectors @ e.eigenvectors.T, bottom @ bottom.T, atol=1e-8)
        assert e.in_eigenspace > 0.99
        assert e.escape_direction @ move == pytest.approx(
            np.linalg.norm(bottom.T @ move), rel=1e-8)
        assert np.linalg.norm(e.eigenvectors.T @ e.escape_direction) == pytest.approx(1.0)


def test_final_approach_to_a_flat_minimum_is_no_episode_by_default(plateaus):
    # Near the minimum the residual term gives λ_min ≈ -0.3 ||g|| < 0, shrinking with the
    # gradient: a rounding-level rtol merges that approach (loss down to ~1e-9) into the
    # last episode; the default (1e-2 of λ_max = 6) ends the episode on the plateau.
    f, trajectory, grad_norms, gtol = plateaus
    lowest = {}
    for rtol in (RTOL, None):
        kwargs = {} if rtol is None else {"rtol": rtol}
        episodes = saddle_episodes(f, trajectory.thetas, trajectory.steps, grad_norms, gtol,
                                   **kwargs)
        spans = [(trajectory.steps >= e.start) & (trajectory.steps <= e.end) for e in episodes]
        lowest[rtol] = min(trajectory.loss[s].min() for s in spans)
    plateau = 0.5 * SINGULAR[-1] ** 2  # 0.045, the last saddle's loss
    assert lowest[None] > 0.5 * plateau and lowest[RTOL] < 1e-8


def test_bad_input_is_a_clear_error():
    f = F.himmelblau()
    with pytest.raises(ValueError, match="equal lengths"):
        saddle_episodes(f, np.zeros((3, 2)), [0, 1], [0.0, 0.0, 0.0], 1e-3)
    with pytest.raises(ValueError, match="cluster_rtol"):
        escape_direction(f, [0.0, 0.0], cluster_rtol=-0.1)
