"""Study torch_cnn: the adapter's curvature of a PyTorch CNN is batch-independent and agrees
with a finite difference of its gradient."""

from conftest import PNG, study

STUDY = study("torch_cnn")


def test_quick_run_measures_the_cnn_through_the_adapter(result):
    out, n = result[0], result[1]["numbers"]
    assert n["n_batches"] > 1 and n["lanczos_converged"]
    # the mean over the DataLoader's batches is the full-batch objective
    assert n["top_eigenvalue_batches_vs_one_batch"] < 1e-9 * n["top_eigenvalues"][0]
    assert n["gradient_difference_vs_top_eigenvalue"] < 1e-5
    assert n["top_eigenvalues"] == sorted(n["top_eigenvalues"], reverse=True)
    lo, hi = n["plane_loss_range"]
    assert lo <= n["train_loss"] + 1e-12 < hi  # the trained point is the bottom of its plane
    for name in ("plane.png", "top_eigenvector.png"):
        assert (out / name).read_bytes()[:8] == PNG
