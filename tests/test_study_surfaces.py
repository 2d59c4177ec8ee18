"""Study surfaces: the trained digits MLP is the lowest point of each plane, filter-normalized
directions carry the solution's filter norms, and the straight path from init goes down."""

import numpy as np
import pytest
from conftest import PNG, study

STUDY = study("surfaces")


def test_the_solution_is_the_lowest_point_of_every_plane(result):
    n = result[1]["numbers"]
    assert set(n["plane_argmin_is_center"]) == {"random", "filter", "hessian"}
    assert all(n["plane_argmin_is_center"].values())
    # the grid's centre value is the loss at the solution, to rounding
    assert all(abs(v) < 1e-12 for v in n["plane_min_minus_center"].values())
    assert all(v > 0.1 for v in n["rise_at_edge"].values())


def test_filter_normalized_directions_have_the_solutions_filter_norms(result):
    n = result[1]["numbers"]
    assert n["filter_norm_max_relative_error"] < 1e-12
    assert n["filter_bias_entries_max"] == 0.0
    # with biases left out, a direction's length is the norm of the solution's weights
    assert n["direction_length"] == pytest.approx(n["theta_weight_norm"], rel=1e-12)


def test_curvature_along_directions_is_bounded_by_the_top_eigenvalue(result):
    n = result[1]["numbers"]
    top = n["top_eigenvalues"][0]
    np.testing.assert_allclose(n["curvature_along"]["hessian"], n["top_eigenvalues"], rtol=1e-6)
    for name in ("random", "filter"):
        assert all(0 < c < 0.1 * top for c in n["curvature_along"][name])


def test_interpolation_from_init_goes_down(result):
    n = result[1]["numbers"]
    start, end = n["interpolation_loss"]
    assert end < 0.01 * start
    assert n["interpolation_increases"] <= 1
    assert n["interpolation_accuracy"][1] > 0.95 > 0.3 > n["interpolation_accuracy"][0]
    assert f"{n['interpolation_increases']} increases" in result[1]["conclusion"]


def test_figures(result):
    out = result[0]
    for name in ("contours.png", "slices.png", "interpolation.png"):
        data = (out / name).read_bytes()
        assert data.startswith(PNG) and len(data) > 10_000
    for name in ("random", "filter"):
        html = (out / f"surface_{name}.html").read_text()
        assert "Plotly.newPlot" in html and '"type":"surface"' in html
