"""Study saddles: the run stalls at saddles with negative curvature, ends at a minimum, and
the critical points found order by index as by loss."""

import numpy as np
from conftest import PNG, study

STUDY = study("saddles")


def test_plateaus_have_the_closed_form_negative_curvature(result):
    n = result[1]["numbers"]
    assert len(n["episodes"]) == 3
    # the k-th plateau sits at the saddle with modes 1..k learned: lambda_min = -s_{k+1}
    np.testing.assert_allclose(n["episode_min_eigenvalue"], n["closed_form_min_eigenvalue"],
                               rtol=1e-3)
    np.testing.assert_allclose(n["plateau_loss"], n["closed_form_saddle_loss"], rtol=0.02)
    assert min(n["escape_in_eigenspace"]) > 0.99
    assert n["min_eigenvalue_multiplicity"] == [3, 2, 1]  # 3 - k free hidden units


def test_training_ends_far_below_the_plateau_without_negative_curvature(result):
    n = result[1]["numbers"]
    assert n["final_min_eigenvalue"] >= -n["zero_tolerance"]
    assert n["final_loss"] < 1e-6 * n["plateau_loss"][-1]


def test_minima_are_the_lowest_critical_points_and_index_grows_with_loss(result):
    n = result[1]["numbers"]
    assert n["n_minima"] >= 1 and n["n_critical_points"] > n["n_minima"]
    assert n["max_minimum_loss"] < 1e-8 < n["min_saddle_loss"]
    assert n["index_loss_correlation"] > 0.3
    assert result[1]["conclusion"].count(f"{n['n_critical_points']} critical points") == 1


def test_figures_are_pngs(result):
    out = result[0]
    for name in ("training.png", "index_vs_loss.png"):
        data = (out / name).read_bytes()
        assert data.startswith(PNG) and len(data) > 10_000


def test_same_seed_same_numbers(result, tmp_path):
    again = STUDY.run(tmp_path, quick=True, seed=0)
    assert again["numbers"] == result[1]["numbers"]
