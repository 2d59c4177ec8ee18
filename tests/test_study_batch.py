"""Study batch: per epoch, minibatch SGD reaches a lower full-batch loss than full-batch GD,
and the smallest batch ends at a flatter point."""

import numpy as np
from conftest import PNG, study

STUDY = study("batch")


def _runs(result) -> list[dict]:
    runs = list(result[1]["numbers"]["runs"].values())
    assert [r["batch_size"] for r in runs] == [16, 64, 256, result[1]["numbers"]["n_samples"]]
    return runs


def test_minibatches_reach_a_lower_loss_at_every_epoch(result):
    *minibatch, full = _runs(result)
    epochs = result[1]["numbers"]["epochs"]
    for run in minibatch:
        assert len(run["epoch_loss"]) == epochs + 1
        assert run["epoch_loss"][0] == full["epoch_loss"][0]  # one start
        assert np.all(np.array(run["epoch_loss"][1:]) < full["epoch_loss"][1:]), run["batch_size"]
    # smaller batches, more steps per epoch: lower loss after the last epoch
    assert np.all(np.diff([r["final_loss"] for r in _runs(result)]) > 0)


def test_smallest_batch_ends_flatter_than_full_batch_gd(result):
    smallest, *_, full = _runs(result)
    assert smallest["final_sharpness"] < 0.8 * full["final_sharpness"]
    # full-batch GD stays below the stability bound 2/lr
    assert full["final_sharpness"] < result[1]["numbers"]["two_over_lr"]


def test_conclusion_carries_the_numbers(result):
    conclusion, runs = result[1]["conclusion"], _runs(result)
    assert f"final sharpness was {runs[0]['final_sharpness']:.3g}" in conclusion
    assert "below full-batch GD at every epoch" in conclusion


def test_figures_are_pngs(result):
    for name in ("plane.png", "curves.png"):
        data = (result[0] / name).read_bytes()
        assert data.startswith(PNG) and len(data) > 10_000
