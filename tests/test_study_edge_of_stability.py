"""Study edge_of_stability: the sharpness rises from below 2/eta to it and hovers there; the
loss rises only after the sharpness has passed 2/eta."""

from conftest import PNG, study

STUDY = study("edge_of_stability")


def test_sharpness_rises_from_below_to_two_over_eta(result):
    runs = result[1]["numbers"]["runs"]
    assert all(r["initial_ratio"] < 0.5 for r in runs)
    at_edge = [r for r in runs if abs(r["late_median_ratio"] - 1) < 0.15]
    assert at_edge, [r["late_median_ratio"] for r in runs]
    assert all(r["edge_step"] is not None for r in at_edge)


def test_sharpness_never_far_above_two_over_eta(result):
    runs = result[1]["numbers"]["runs"]
    assert all(r["max_ratio"] < 1.3 for r in runs), [r["max_ratio"] for r in runs]


def test_loss_rises_only_after_the_sharpness_passed_two_over_eta(result):
    runs = result[1]["numbers"]["runs"]
    rose = [r for r in runs if r["first_rise_step"] is not None]
    assert rose
    assert all(r["ratio_before_rise"] > 1.0 and r["rise_fraction"] > 0 for r in rose)
    # the smallest step never reaches the edge and descends monotonically
    smallest = min(runs, key=lambda r: r["eta"])
    assert smallest["first_rise_step"] is None and smallest["max_ratio"] < 0.9


def test_conclusion_carries_the_numbers(result):
    conclusion, runs = result[1]["conclusion"], result[1]["numbers"]["runs"]
    edge = [r for r in runs if r["edge_step"] is not None]
    assert f"{edge[-1]['late_median_ratio']:.2f}" in conclusion


def test_figure_is_a_png(result):
    data = (result[0] / "sharpness.png").read_bytes()
    assert data.startswith(PNG) and len(data) > 10_000


def test_the_loss_at_the_edge_is_compared_with_its_late_median(result):
    conclusion, runs = result[1]["conclusion"], result[1]["numbers"]["runs"]
    for r in runs:
        low, high = r["late_loss_range"]
        assert low <= r["late_median_loss"] <= high
        assert (r["edge_loss"] is None) == (r["edge_step"] is None)
        if r["edge_loss"] is not None:
            assert f"{r['late_median_loss']:.2g} vs {r['edge_loss']:.2g}" in conclusion
