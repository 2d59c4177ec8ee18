"""Study momentum: heavy ball needs about sqrt(kappa) times fewer steps than GD in the valley
and damps the zig-zag sooner; on the MLP momentum and Adam end lower than GD."""

import numpy as np
from conftest import PNG, study

STUDY = study("momentum")


def test_heavy_ball_needs_fewer_steps_than_gd_in_the_valley(result):
    n = result[1]["numbers"]
    valley = n["valley"]
    assert all(v["status"] == "converged" for v in valley.values())
    assert valley["momentum"]["steps_to_tol"] < valley["gd"]["steps_to_tol"] / 3
    np.testing.assert_allclose(n["gd_over_momentum_steps"],
                               valley["gd"]["steps_to_tol"] / valley["momentum"]["steps_to_tol"])
    # the late rates differ by theory's factor sqrt(kappa) (9.97 for kappa = 100), within 25%
    assert 0.75 < n["momentum_over_gd_rate"] / n["sqrt_kappa"] < 1.1


def test_momentum_damps_the_zigzag_sooner(result):
    valley = result[1]["numbers"]["valley"]
    assert valley["momentum"]["settle_step"] < valley["gd"]["settle_step"] / 3
    assert valley["nesterov"]["across_path"] < valley["gd"]["across_path"] / 10


def test_momentum_and_adam_reach_a_lower_loss_on_the_mlp(result):
    mlp = result[1]["numbers"]["mlp"]
    for name in ("momentum", "nesterov", "adam"):
        assert mlp[name]["final_loss"] < 0.5 * mlp["gd"]["final_loss"], name


def test_conclusion_carries_the_numbers(result):
    conclusion, n = result[1]["conclusion"], result[1]["numbers"]
    assert f"ratio {n['gd_over_momentum_steps']:.1f}" in conclusion
    assert f"GD reached loss {n['mlp']['gd']['final_loss']:.3g}" in conclusion


def test_figures_are_pngs(result):
    for name in ("valley_paths.png", "valley_curves.png", "mlp.png"):
        data = (result[0] / name).read_bytes()
        assert data.startswith(PNG) and len(data) > 10_000
