"""Study activations: the step network's hidden layer gets exactly zero gradient and never
moves, so it ends far above the sigmoid, tanh and ReLU networks."""

import numpy as np
from conftest import PNG, study

STUDY = study("activations")
SMOOTH = ("sigmoid", "tanh", "relu")


def test_step_hidden_layer_gets_exactly_zero_gradient_and_never_moves(result):
    step = result[1]["numbers"]["step"]
    assert step["max_hidden_grad_norm"] == 0.0
    assert step["hidden_param_change"] == 0.0
    # the output layer still learns: the loss drops, through it alone
    assert step["min_output_grad_norm"] > 0 and step["loss_drop"] > 0
    assert "exactly 0" in result[1]["conclusion"] and "never move" in result[1]["conclusion"]


def test_smooth_activations_reach_a_far_lower_loss(result):
    n = result[1]["numbers"]
    for name in SMOOTH:
        assert n[name]["max_hidden_grad_norm"] > 1e-3  # their hidden layer gets a signal
        assert n[name]["hidden_param_change"] > 0.1
        assert n[name]["final_loss"] < 0.5 * n["step"]["final_loss"]
        assert n[name]["final_accuracy"] > n["step"]["final_accuracy"] + 0.2


def test_step_loss_is_piecewise_flat_along_a_hidden_direction(result):
    n = result[1]["numbers"]
    assert n["step"]["line_flat_fraction"] > 0.5
    for name in SMOOTH:
        assert n[name]["line_flat_fraction"] < 0.05


def test_the_inputs_that_excite_a_unit_most_align_with_its_weights(result):
    u = result[1]["numbers"]["digits_units"]
    top, rand = np.array(u["top_input_cosine"]), np.array(u["random_training_input_cosine"])
    noise = np.array(u["uniform_noise_input_cosine"])
    assert top.shape == rand.shape == noise.shape == (16,)
    assert np.all(np.abs(np.concatenate([top, rand, noise])) <= 1)  # Cauchy-Schwarz
    # w . x ranks inputs by |x| cos: the top ones are aligned, random ones are not
    assert np.all(top > rand) and np.all(top > noise)
    assert u["median_top_input_cosine"] > 0.15 > abs(u["median_random_training_input_cosine"])
    assert f"{u['median_top_input_cosine']:.2f}" in result[1]["conclusion"]


def test_figures_are_pngs(result):
    for name in ("training.png", "loss_lines.png", "unit_weights.png", "unit_alignment.png"):
        data = (result[0] / name).read_bytes()
        assert data.startswith(PNG) and len(data) > 10_000


def test_same_seed_same_numbers(result, tmp_path):
    assert STUDY.run(tmp_path, quick=True, seed=0)["numbers"] == result[1]["numbers"]
