"""Study depth: at equal parameter counts the deep ReLU net fits the oscillating target
better than the wide one (with fewer linear pieces), and sigmoid gradients vanish with depth."""

import numpy as np
import pytest
from conftest import PNG, study

STUDY = study("depth")


def test_parameter_counts_are_equal(result):
    n = result[1]["numbers"]
    assert n["param_difference"] < 0.03
    assert n["deep_n_params"] == STUDY.MLP(n["deep_sizes"]).n_params


@pytest.mark.parametrize("init", ["zero_bias", "spread_bias"])
def test_deep_net_fits_better_at_equal_parameters(result, init):
    n = result[1]["numbers"]
    assert n[f"{init}_deep_median_relative_loss"] < 0.5 * n[f"{init}_shallow_median_relative_loss"]
    assert len(n[f"{init}_deep_relative_loss"]) >= 3


def test_linear_pieces(result):
    n = result[1]["numbers"]
    for init in ("zero_bias", "spread_bias"):
        # a one-hidden-layer net has at most one kink per unit: a check on the counter
        assert max(n[f"{init}_shallow_pieces"]) <= n["shallow_hidden_units"] + 1
        assert min(n[f"{init}_deep_pieces"]) > 1
    # what the trained nets do: the deep net wins with fewer pieces, not more
    assert n["spread_bias_deep_median_pieces"] < n["spread_bias_shallow_median_pieces"]
    assert "fewer linear pieces" in result[1]["conclusion"]


@pytest.mark.parametrize("init", ["zero_bias", "spread_bias"])
@pytest.mark.parametrize("name", ["shallow", "deep"])
def test_the_drawn_fit_is_the_seed_of_median_loss(result, init, name):
    n = result[1]["numbers"]
    losses = n[f"{init}_{name}_relative_loss"]
    seed = n[f"{init}_{name}_drawn_seed"]  # seeds 0, 1, ... in the quick run of seed 0
    assert losses[seed] == sorted(losses)[len(losses) // 2]


def test_sigmoid_first_layer_gradient_vanishes_with_depth(result):
    n = result[1]["numbers"]
    first = np.array(n["sigmoid_first_layer_grad"])
    assert np.all(np.diff(first) < 0)
    assert first[-1] < 1e-2 * first[0]
    # the last layer's gradient does not vanish
    assert min(n["sigmoid_last_layer_grad"]) > 0.1 * max(n["sigmoid_last_layer_grad"])


def test_figures_are_pngs(result):
    for name in ("fits.png", "training.png", "vanishing_gradients.png"):
        data = (result[0] / name).read_bytes()
        assert data.startswith(PNG) and len(data) > 10_000
