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


def test_near_a_solution_gd_chatters_under_mae_and_settles_under_mse(result):
    near = result[1]["numbers"]["near_solution"]
    mae, mse = near["mae"], near["mse"]
    for k, lr in enumerate(near["lrs"]):
        # the sign gradient keeps its size (the mean of +-x_i over 64 samples, about 1) ...
        assert mae["final_grad_norm"][k] > 0.5 and mse["final_grad_norm"][k] < 1e-3
        # ... so each step has length about lr: GD stays within two step lengths of the
        # solution without reaching it, and the loss rises on about every other late step
        low, high = mae["late_distance_range"][k]
        assert 0 < low <= high <= 2 * lr * max(mae["final_grad_norm"])
        assert 0.3 < mae["late_rise_fraction"][k] < 0.7
        assert mse["final_distance"][k] < 0.01 * mae["final_distance"][k]
    assert mae["final_distance"] == sorted(mae["final_distance"])  # farther at larger steps
    assert mae["hessian_max_abs_at_end"] == 0  # off the kinks |r| has no curvature


def test_figures_are_pngs(result):
    for name in ("planes.png", "slice.png", "training.png", "absolute_error.png"):
        data = (result[0] / name).read_bytes()
        assert data.startswith(PNG) and len(data) > 10_000
