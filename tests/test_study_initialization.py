"""Study initialization: every Himmelblau start reaches one of the four minima, each minimum
drains a fair share of the box, and XOR nets from different seeds end at different losses."""

import json

import numpy as np
import pytest
from conftest import PNG, study

STUDY = study("initialization")
# Himmelblau's minima as published (Himmelblau 1972), to 6 digits
PUBLISHED = np.array([[3.0, 2.0], [-2.805118, 3.131312], [-3.779310, -3.283186],
                      [3.584428, -1.848127]])


def test_every_start_ends_at_one_of_the_four_minima(result):
    n = result[1]["numbers"]
    found = np.array(n["minima"])
    assert found.shape == (4, 2)
    assert np.max(np.min(np.linalg.norm(found[:, None] - PUBLISHED[None], axis=-1), axis=1)) < 1e-5
    assert n["runs_at_a_minimum"] == n["n_starts"] and n["runs_elsewhere"] == 0
    assert n["max_distance_to_reached_point"] < STUDY.BASIN_TOL
    assert n["himmelblau_max_final_loss"] < 1e-10


def test_each_minimum_drains_a_fair_share_of_the_box(result):
    shares = result[1]["numbers"]["minimum_share"]
    assert len(shares) == 4 and min(shares) > 0.15
    assert sum(shares) == pytest.approx(1.0)


def test_xor_final_losses_spread_over_groups(result):
    n = result[1]["numbers"]
    assert n["xor_loss_ratio"] > 10
    assert len(n["xor_accuracy_groups"]) >= 2 and sum(n["xor_group_count"]) == n["xor_n_seeds"]
    assert 0 < n["xor_solved_share"] < 1
    # the groups differ in loss, not only in accuracy: the solved runs' loss is far lower
    assert n["xor_group_median_loss"][0] < 0.1 * n["xor_group_median_loss"][-1]


def test_figures_and_interactive_surface(result):
    out = result[0]
    for name in ("basins.png", "trajectories.png", "xor_final_losses.png"):
        data = (out / name).read_bytes()
        assert data.startswith(PNG) and len(data) > 10_000
    html = (out / "surface.html").read_text()
    call = html[html.index("Plotly.newPlot(") + len("Plotly.newPlot("):]
    data, _ = json.JSONDecoder().raw_decode(call.split(",", 1)[1].lstrip())
    kinds = [trace["type"] for trace in data]
    assert kinds[0] == "surface" and kinds[1:] == ["scatter3d"] * 16


def test_same_seed_same_numbers(result, tmp_path):
    assert STUDY.run(tmp_path, quick=True, seed=0)["numbers"] == result[1]["numbers"]
