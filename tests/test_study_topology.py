"""Study topology: the noise threshold keeps the solution alone on each plane of the digits
MLP and exactly Himmelblau's four minima, joining near its saddle values, and the merge
tree's basins agree with gradient descent's."""

import numpy as np
from conftest import PNG, study

STUDY = study("topology")


def test_each_plane_keeps_only_the_solution_above_the_noise(result):
    n = result[1]["numbers"]
    assert set(n["planes"]) == {"random", "filter", "hessian"}
    for plane in n["planes"].values():
        assert plane["above_threshold"] == plane["above_threshold_inside"] == 1
        assert plane["minima"] >= 1 and plane["noise_sd"] > 0
        assert np.isclose(plane["threshold"], 3 * np.sqrt(2) * plane["noise_sd"])
        assert all(p <= plane["threshold"] for p in plane["deepest_finite"])
    cube = n["hessian_grid_3d"]
    assert cube["points"] == 7**3 and cube["refined"]["resolution"] == 11
    assert 1 <= cube["refined"]["above_threshold"] <= cube["refined"]["minima"]


def test_himmelblau_with_noise_has_its_four_minima_and_saddles(result):
    h = result[1]["numbers"]["himmelblau"]
    # without noise, a coarse grid can add minima of its own, shallower than the threshold
    assert h["clean_above_threshold"] == 4 <= h["clean_minima"]
    assert h["above_threshold"] == 4 < h["minima"]
    # the estimated noise sd is the true one, to the sampling error of 441 differences
    assert abs(h["noise_sd"] - h["noise_sd_true"]) < 0.15
    assert h["minimum_distance_max"] <= np.sqrt(2) * h["grid_step"]
    # deaths at the three lowest saddles, give or take the noise (a few sd) and the grid
    assert np.allclose(h["deaths"], h["saddle_values"], atol=6 * h["noise_sd_true"] + 5.0)
    assert h["highest_saddle"] > max(h["deaths"])  # the fourth saddle closes a loop instead


def test_merge_tree_basins_agree_with_gradient_descent(result):
    b = result[1]["numbers"]["basins"]
    assert b["unreached"] == 0 and b["starts"] == 81
    assert b["agreement"] > 0.85
    assert np.allclose(b["tree_shares"], b["run_shares"], atol=0.08)
    assert abs(sum(b["tree_shares"]) - 1) < 1e-12
    assert f"{b['agreement']:.0%} of the starts" in result[1]["conclusion"]


def test_the_headline_counts_what_the_numbers_say(result):
    n = result[1]["numbers"]
    shown = ", ".join(str(p["minima"]) for p in n["planes"].values())
    assert result[1]["headline"] == (
        "Only the solution is deeper than the loss's own noise on each plane through a digits "
        f"MLP (of {shown} sampled minima); the same rule keeps 4 of "
        f"{n['himmelblau']['minima']} on a noisy Himmelblau, which has 4.")


def test_figures(result):
    out = result[0]
    for name in ("contours.png", "persistence.png", "merge_trees.png", "basins.png"):
        data = (out / name).read_bytes()
        assert data.startswith(PNG) and len(data) > 10_000
