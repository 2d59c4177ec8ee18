"""Hutch++, Hutchinson's trace and Hutchinson's diagonal on matrices with a known spectrum:
unbiased within 4 standard errors over seeds, standard errors that match the spread, and
Hutch++'s error far below Hutchinson's at equal products on a decaying spectrum."""

import numpy as np
import pytest

from landscape import hutchinson_trace
from landscape.curvature import hutchinson_diagonal, hutchpp_trace

SEEDS = range(400)


def _matrix(eigenvalues, seed=0):
    """``Q diag(eigenvalues) Q^T`` with a random orthogonal ``Q``."""
    n = len(eigenvalues)
    Q = np.linalg.qr(np.random.default_rng(seed).standard_normal((n, n)))[0]
    return (Q * eigenvalues) @ Q.T


FLAT = np.linspace(-1.0, 3.0, 60)  # indefinite, trace 60
DECAYING = 1.0 / np.arange(1, 201) ** 2  # the case Hutch++ is built for


@pytest.mark.parametrize("estimator", [hutchinson_trace, hutchpp_trace])
@pytest.mark.parametrize("spectrum", [FLAT, DECAYING], ids=["flat", "decaying"])
def test_trace_estimates_are_unbiased_and_their_stderr_is_their_spread(estimator, spectrum):
    A = _matrix(spectrum)
    runs = [estimator(A, 30, rng=s) for s in SEEDS]
    estimates = np.array([r.trace for r in runs])
    spread = estimates.std(ddof=1)
    assert abs(estimates.mean() - spectrum.sum()) < 4 * spread / np.sqrt(len(SEEDS))
    reported = np.sqrt(np.mean([r.stderr ** 2 for r in runs]))
    assert 0.8 < reported / spread < 1.25
    assert all(r.n_hvp == 30 for r in runs)


def test_hutchpp_error_is_far_below_hutchinsons_on_a_decaying_spectrum():
    A, trace = _matrix(DECAYING), DECAYING.sum()
    for n_matvecs, most in ((30, 0.1), (99, 0.02)):  # measured: 0.046 and 0.0070
        rms = [np.sqrt(np.mean([(est(A, n_matvecs, rng=s).trace - trace) ** 2
                                for s in range(100)]))
               for est in (hutchinson_trace, hutchpp_trace)]
        assert rms[1] < most * rms[0], (n_matvecs, rms[1] / rms[0])


def test_hutchpp_is_exact_once_the_sketch_spans_the_space():
    A = _matrix(FLAT)
    estimate = hutchpp_trace(A, 3 * 60, rng=0)
    assert estimate.trace == pytest.approx(FLAT.sum(), rel=1e-12)
    assert estimate.stderr < 1e-12


def test_hutchinson_diagonal_is_unbiased_entrywise_and_exact_for_a_diagonal():
    A = _matrix(FLAT)
    runs = [hutchinson_diagonal(A, 20, rng=s) for s in range(200)]
    estimates = np.array([r.diagonal for r in runs])
    spread = estimates.std(axis=0, ddof=1)
    assert np.all(np.abs(estimates.mean(axis=0) - np.diag(A)) < 4 * spread / np.sqrt(200))
    reported = np.sqrt(np.mean([r.stderr ** 2 for r in runs], axis=0))
    assert 0.8 < np.median(reported / spread) < 1.25
    exact = hutchinson_diagonal(np.diag(FLAT), 3, rng=0)
    np.testing.assert_allclose(exact.diagonal, FLAT, rtol=1e-15)
    np.testing.assert_allclose(exact.stderr, 0.0, atol=1e-15)
    assert exact.n_hvp == 3


def test_bad_input_is_a_clear_error():
    A = _matrix(FLAT)
    with pytest.raises(ValueError, match="n_matvecs"):
        hutchpp_trace(A, 2)
    with pytest.raises(ValueError, match="n_probes"):
        hutchinson_diagonal(A, 0)
    with pytest.raises(ValueError, match="not symmetric"):
        hutchpp_trace(np.triu(A), 9)
    assert np.isinf(hutchinson_diagonal(A, 1, rng=0).stderr).all()
