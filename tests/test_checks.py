"""The shared input checks: what each accepts, and that every refusal names the argument."""

import re

import numpy as np
import pytest

from landscape import MLP
from landscape._checks import finite_array, index_array, integer, seed_of


@pytest.mark.parametrize("value,minimum,maximum", [
    (0, 0, None), (3, 1, None), (np.int64(5), 1, 5), (np.int32(-2), -2, 0)])
def test_integer_accepts_integers_in_range(value, minimum, maximum):
    out = integer(value, "k", minimum, maximum)
    assert out == value and type(out) is int


@pytest.mark.parametrize("value,minimum,maximum,message", [
    (0, 1, None, r"k must be an integer >= 1, got 0"),
    (2.0, 1, None, r"k must be an integer >= 1, got 2.0"),  # a float, even a whole one
    (True, 0, None, r"k must be an integer >= 0, got True"),
    (np.bool_(True), 0, None, r"k must be an integer >= 0"),
    ("3", 0, None, r"k must be an integer >= 0, got '3'"),
    (None, 0, None, r"k must be an integer >= 0, got None"),
    (6, 1, 5, r"k must be at most 5, got 6"),
])
def test_integer_refusals_name_the_argument(value, minimum, maximum, message):
    with pytest.raises(ValueError, match=message):
        integer(value, "k", minimum, maximum)


def test_index_array_accepts_numpy_indices_negative_included():
    idx = index_array([0, 4, -5, -1], 5)
    np.testing.assert_array_equal(idx, [0, 4, -5, -1])
    np.testing.assert_array_equal(np.arange(5)[idx], [0, 4, 0, 4])  # what NumPy indexes


@pytest.mark.parametrize("value,message", [
    ([0, 5], r"picks out of range for 5 items: entries must lie in \[-5, 5\), got \[0, 5\]"),
    ([-6], r"picks out of range"),
    ([], r"picks must be a non-empty 1-D array of integers"),
    ([0.0, 1.0], r"picks must be a non-empty 1-D array of integers, got float64"),
    ([[0, 1]], r"picks must be a non-empty 1-D array of integers, got int64 of shape \(1, 2\)"),
    ([True, False], r"picks must be a non-empty 1-D array of integers, got bool"),
])
def test_index_array_refusals_name_the_argument(value, message):
    with pytest.raises(ValueError, match=message):
        index_array(value, 5, "picks")


def test_seed_of_records_only_int_seeds():
    assert seed_of(7) == 7 and type(seed_of(np.int64(7))) is int
    assert seed_of(None) is None
    assert seed_of(np.random.default_rng(7)) is None  # a Generator has no seed to record
    assert seed_of(True) is None


@pytest.mark.parametrize("value,dtype", [
    ([1.0 + 2.0j, 0.0], "complex128"),
    (np.array([1.0, 0.0], dtype=np.complex64), "complex64"),
    ([True, False], "bool"),
    (["1.5", "2"], "<U3"),
    (np.array([b"1", b"2"]), "|S1"),
])
def test_finite_array_refuses_complex_bool_and_strings_naming_the_dtype(value, dtype):
    with pytest.raises(ValueError, match=rf"theta must be a real number array, got dtype "
                                         rf"{re.escape(dtype)}"):
        finite_array(value, "theta")


def test_theta_x_and_y_refuse_complex_bool_and_strings():
    model = MLP([2, 3, 1], output="sigmoid", loss="cross_entropy")
    X, y, theta = np.ones((4, 2)), np.array([0.0, 1.0, 1.0, 0.0]), np.zeros(model.n_params)
    obj = model.objective(X, y)
    for bad in (theta.astype(complex), theta.astype(bool), theta.astype(str)):
        with pytest.raises(ValueError, match=f"theta must be .*dtype {bad.dtype}"):
            obj.loss(bad)
    with pytest.raises(ValueError, match="X must be .*dtype complex128"):
        model.objective(X + 1j, y)
    with pytest.raises(ValueError, match="y must be .*dtype bool"):
        model.objective(X, y > 0)
    with pytest.raises(ValueError, match="y must be .*dtype <U3"):
        model.objective(X, y.astype(str))


@pytest.mark.parametrize("value", [[1, 2], np.arange(3, dtype=np.uint8), [0.5, 2.0],
                                   np.array([1.0, 2.0], dtype=object)])
def test_finite_array_accepts_real_numbers_unchanged(value):
    out = finite_array(value, "x")
    assert out.dtype == np.float64
    np.testing.assert_array_equal(out, np.asarray(value, dtype=np.float64))
