"""Study loss: far from the solution MSE on softmax outputs is a plateau (its gradient dies,
relatively) while cross-entropy's is not, and cross-entropy trains from the far point."""

from conftest import PNG, study

STUDY = study("loss")


def test_mse_gradient_dies_far_away_relative_to_cross_entropy(result):
    n = result[1]["numbers"]
    ce, mse = n["cross_entropy"], n["mse"]
    assert n["mse_over_ce_relative_grad"] < 0.1
    assert mse["far_over_near_grad_median"] < 1 < ce["far_over_near_grad_median"]
    assert len(mse["far_over_near_grad"]) == n["n_far_points"] >= 3


def test_cross_entropy_trains_from_the_far_point_and_mse_does_not(result):
    n = result[1]["numbers"]
    ce, mse = n["cross_entropy"], n["mse"]
    assert n["solution_accuracy"] > 0.95
    assert ce["far_final_accuracy"] > mse["far_final_accuracy"] + 0.2
    # cross-entropy's end point even has a lower squared error than MSE's own run
    assert n["mse_at_ce_far_run_end"] < mse["far_final_loss"]
    # the control: from an ordinary start MSE trains, so the far start is what stalls it
    assert mse["ordinary_init_final_accuracy"] > 0.9


def test_figures_are_pngs(result):
    for name in ("planes.png", "slice.png", "training.png"):
        data = (result[0] / name).read_bytes()
        assert data.startswith(PNG) and len(data) > 10_000
