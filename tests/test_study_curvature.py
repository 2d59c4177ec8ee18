"""Study curvature: the Fisher is the GGN for softmax cross-entropy, the GGN carries the
Hessian's top eigenvalue, the empirical Fisher's shrinks with the fit, and no layer's block
is sharper than the whole (Cauchy's interlacing theorem)."""

import numpy as np
from conftest import PNG, study

STUDY = study("curvature")


def test_fisher_is_the_ggn_and_the_ggn_carries_the_sharpness(result):
    numbers = result[1]["numbers"]
    assert numbers["fisher_ggn_max_relative_difference"] < 1e-8
    assert all(0.8 < r < 1.25 for r in numbers["ggn_over_hessian"])
    top = numbers["top"]
    assert np.all(np.array(top["GGN"]) > 0) and np.all(np.array(top["empirical Fisher"]) > 0)


def test_the_empirical_fisher_shrinks_with_the_fit(result):
    numbers = result[1]["numbers"]
    loss, ratio = np.array(numbers["loss"]), np.array(numbers["empirical_fisher_over_ggn"])
    assert loss[-1] < 0.5 * loss[0]
    assert ratio[-1] < 0.5 * ratio[0]


def test_no_layer_is_sharper_than_the_whole_network(result):
    numbers = result[1]["numbers"]
    for name in ("Hessian", "GGN"):
        whole = np.array(numbers["top"][name])
        for values in numbers["layers"][name].values():
            assert np.all(np.array(values) <= whole * (1 + 1e-9)), name
    final = numbers["final_layers"]["Hessian"]
    assert max(final["top_eigenvalue"]) <= numbers["top"]["Hessian"][-1] * (1 + 1e-9)
    assert sum(final["sizes"]) == 64 * 32 + 32 + 32 * 32 + 32 + 32 * 10 + 10
    sharpest = numbers["sharpest_layer"][-1]
    assert sharpest == max(numbers["layers"]["Hessian"],
                           key=lambda layer: numbers["layers"]["Hessian"][layer][-1])


def test_conclusion_carries_the_numbers(result):
    conclusion, numbers = result[1]["conclusion"], result[1]["numbers"]
    assert f"{numbers['top']['Hessian'][-1]:.3g}" in conclusion
    assert f"the sharpest layer was {numbers['sharpest_layer'][-1]}" in conclusion
    assert f"{numbers['sharpest_layer'][-1]} is the sharpest layer" in result[1]["headline"]


def test_figures_are_pngs(result):
    for name in ("top_eigenvalues.png", "layers.png"):
        data = (result[0] / name).read_bytes()
        assert data.startswith(PNG) and len(data) > 10_000
    assert set(STUDY.FIGURES) == {"top_eigenvalues.png", "layers.png"}
