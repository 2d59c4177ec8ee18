"""Full-batch gradient descent against minibatch SGD: progress per epoch, per update, and the
sharpness of where each one ends.

The notes (1.2) train on the total loss over the training set but update on minibatches
(stochastic gradient descent): one epoch gives ``N / B`` updates instead of one. This study
trains one MLP (64-32-10 tanh, softmax cross-entropy) on a subset of the 8x8 digits from one
initial point with the same learning rate, for the same number of epochs, at batch sizes 16,
64, 256 and the full set, and shows

- the trajectories on the plane of the two principal components of all runs' points (Li et
  al. 2018, Sec. 7), centred at the common start, with how far the points lie off the plane;
- the full-batch training loss against epochs (samples seen) and against updates (gradient
  evaluations, one per step whatever the batch: the cost where a batch's gradient takes one
  parallel pass), deterministic counts rather than timings, which vary from run to run;
- the sharpness (top Hessian eigenvalue of the full-batch loss) where each run ends, and, since
  the cross-entropy's curvature shrinks as the loss falls, also where each run first reached
  the loss at which full-batch GD ended: Keskar et al. (2017) found that small batches end in
  flatter minima.

Run: ``landscape run batch`` or ``python -m landscape.studies.batch OUT_DIR [--quick]``.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import FormatStrFormatter

from landscape import MLP, gd, runner
from landscape.data import digits
from landscape.directions import pca_directions
from landscape.hessian import sharpness
from landscape.plot import plot_contour, plot_trajectories
from landscape.studies._shared import main, progress, save_png
from landscape.surface import plane, project

TITLE = "Minibatch SGD vs full-batch GD: more progress per epoch, flatter end points"
FIGURES = {
    "curves.png": "Full-batch loss per epoch and per update, and the sharpness where each run "
                  "ends and where it first reached full-batch GD's final loss",
    "plane.png": "The runs on the plane of their principal components (they lie off it: the "
                 "contours are the loss on the plane)",
}
BATCHES = (16, 64, 256)  # and the full set
LR = 0.5
RECORDS_PER_EPOCH = 8


def digits_task(n: int, seed: int):
    """``n`` digits drawn at random, the MLP's objective on them and its initial point."""
    X, y = digits()
    rows = np.random.default_rng(seed).permutation(len(X))[:n]
    model = MLP([64, 32, 10], activation="tanh", output="softmax", loss="cross_entropy")
    return model.objective(X[rows], y[rows]), model.init(seed)


def train(objective, theta0, epochs: int, seed: int) -> dict:
    """One run per batch size (None: full batch), ``epochs`` epochs each; size -> trajectory."""
    runs = {}
    for size in (*BATCHES, None):
        per_epoch = 1 if size is None else objective.n_samples // size
        runs[size] = runner.run(objective, theta0, gd(LR), epochs * per_epoch, batch_size=size,
                                rng=seed, record_every=max(1, per_epoch // RECORDS_PER_EPOCH))
    return runs


def label(size, n: int) -> str:
    return f"full batch ({n})" if size is None else f"batch {size}"


def per_epoch(trajectory, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Epochs (fractional), full-batch losses and updates (gradient evaluations) at the
    records."""
    steps_per_epoch = n // (trajectory.batch_size or n)
    return trajectory.steps / steps_per_epoch, trajectory.loss, trajectory.steps


def epoch_losses(trajectory, n: int) -> np.ndarray:
    """The full-batch loss after each whole epoch ``0, 1, ..., epochs``."""
    epochs, loss, _ = per_epoch(trajectory, n)
    return loss[epochs == np.round(epochs)]


def measure(objective, runs: dict, seed: int) -> dict:
    """Per batch size: losses per epoch, final sharpness, and the sharpness where the run first
    reached full-batch GD's final loss."""
    n, level = objective.n_samples, runs[None].final_loss
    numbers = {}
    for size, tr in runs.items():
        first = np.flatnonzero(tr.loss <= level)[0]
        numbers[label(size, n)] = {
            "batch_size": size or n,
            "epoch_loss": epoch_losses(tr, n).tolist(),
            "final_loss": tr.final_loss,
            "final_sharpness": sharpness(objective, tr.final_theta, rng=seed),
            "sharpness_at_gd_loss": sharpness(objective, tr.thetas[first], rng=seed),
            "epoch_at_gd_loss": float(per_epoch(tr, n)[0][first]),
        }
    return numbers


def plot_plane(objective, runs: dict, theta0, out: Path, resolution: int) -> list[float]:
    """Contours of the PCA plane through the start with the runs on it; returns each run's
    median projection residual."""
    n = objective.n_samples
    directions = pca_directions(list(runs.values()), center=theta0)
    with warnings.catch_warnings():  # the residuals are measured and said in the figure
        warnings.filterwarnings("ignore", "the path lies mostly off the plane", UserWarning)
        projections = [project(tr, theta0, directions, label=label(size, n))
                       for size, tr in runs.items()]
    coords = np.concatenate([p.coords for p in projections])
    lo, hi = coords.min(axis=0), coords.max(axis=0)
    pad = 0.15 * (hi - lo)
    surface = plane(objective, theta0, directions, span=list(zip(lo - pad, hi + pad)),
                    resolution=resolution)
    fig, ax = plt.subplots(figsize=(7.4, 6.4), layout="constrained")
    bar = fig.colorbar(plot_contour(surface, ax=ax, levels=30, log=True), ax=ax,
                       label="full-batch training loss on the plane")
    for axis in (bar.ax.yaxis.set_major_formatter, bar.ax.yaxis.set_minor_formatter):
        axis(FormatStrFormatter("%.2g"))
    # the larger batches' paths run along the smaller ones': drawn narrower on top, they show
    # as nested stripes, with every start and end marker above all paths
    paths = {}
    for i, p in enumerate(projections):
        drawn = plot_trajectories(p, ax=ax, colors={p.label: f"C{i}"}, legend=False,
                                  lw=1.2 if i == 0 else 1.5 * (len(projections) - i))
        for marker in drawn.starts + drawn.ends:
            marker.set_zorder(4)
        paths[i] = drawn.lines[0]
    residuals = [float(np.median(p.residual)) for p in projections]
    under = [float(objective.loss(theta0 + p.coords[-1] @ directions.vectors))
             for p in projections]
    fig.legend(handles=[paths[i] for i in range(len(projections))],
               labels=[f"{p.label}: ends at loss {tr.final_loss:.2g}, the plane under its end "
                       f"{u:.2g}" for p, tr, u in zip(projections, runs.values(), under)],
               loc="outside lower center", fontsize=9)
    ax.set_title("Runs from one start on the plane of their principal components\n"
                 f"The paths lie off the plane (median {min(residuals):.0%} to "
                 f"{max(residuals):.0%} of their\ndistance from the start): the contours are "
                 "the loss on the plane, not under the paths", fontsize=10)
    save_png(fig, out / "plane.png")
    return residuals


def plot_curves(runs: dict, numbers: dict, n: int, out: Path) -> None:
    """Loss against epochs and updates; sharpness at the end and at equal loss."""
    fig, axes = plt.subplots(1, 3, figsize=(13.5, 4.6), layout="constrained")
    for size, tr in runs.items():
        epochs, loss, updates = per_epoch(tr, n)
        axes[0].plot(epochs, loss, label=label(size, n))
        axes[1].plot(updates[1:], loss[1:], label=label(size, n))  # log axis: from update 1
    axes[0].set(yscale="log", xlabel="epoch", ylabel="full-batch training loss",
                title=f"Loss per epoch (lr {LR})")
    axes[1].set(xscale="log", yscale="log", xlabel="updates (one gradient evaluation each)",
                ylabel="full-batch training loss", title="Loss per update")
    names, x = list(numbers), np.arange(len(numbers))
    axes[2].bar(x - 0.2, [numbers[k]["final_sharpness"] for k in names], 0.4, label="at the end")
    axes[2].bar(x + 0.2, [numbers[k]["sharpness_at_gd_loss"] for k in names], 0.4,
                label="where the loss first\nreached full-batch\nGD's final loss")
    axes[2].set_xticks(x, [f"{numbers[k]['batch_size']}" + (" (full)" if k == names[-1] else "")
                           for k in names])
    axes[2].set(xlabel="batch size", ylabel="sharpness (top Hessian eigenvalue)",
                title="Sharpness")
    axes[2].legend(fontsize=9, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    fig.legend(handles=axes[0].lines, loc="outside lower center", ncols=len(runs))
    save_png(fig, out / "curves.png")


def _flatter(sharp: float, flat: float) -> str:
    """``sharp / flat`` in words: how much flatter (or sharper) ``flat`` is."""
    ratio = sharp / flat
    return f"{ratio:.2f}x flatter" if ratio >= 1 else f"{1 / ratio:.2f}x sharper"


def headline(numbers: dict, epochs: int) -> str:
    """The finding in one short sentence."""
    (small_name, small), (full_name, full) = list(numbers.items())[0], list(numbers.items())[-1]
    return (f"After {epochs} epochs {small_name} reached full-batch loss "
            f"{small['final_loss']:.3g} against {full['final_loss']:.3g} for {full_name}, "
            f"ending {_flatter(full['final_sharpness'], small['final_sharpness'])}.")


def conclusion(numbers: dict, epochs: int) -> str:
    """One sentence from the measured numbers."""
    runs = list(numbers.values())
    small, full = runs[0], runs[-1]
    lower = all(np.all(np.array(r["epoch_loss"][1:]) < full["epoch_loss"][1:]) for r in runs[:-1])
    listing = lambda key: ", ".join(f"{r[key]:.3g}" for r in runs)
    return (f"After {epochs} epochs at lr {LR}, batch sizes {', '.join(numbers)} reached "
            f"full-batch losses {listing('final_loss')} (every minibatch run "
            f"{'below' if lower else 'not always below'} full-batch GD at every epoch); their "
            f"final sharpness was {listing('final_sharpness')}, and where each first reached GD's "
            f"final loss {full['final_loss']:.3g} it was {listing('sharpness_at_gd_loss')}: the "
            f"smallest batch ended {_flatter(full['final_sharpness'], small['final_sharpness'])} "
            f"than full-batch GD, and at equal loss was "
            f"{_flatter(full['sharpness_at_gd_loss'], small['sharpness_at_gd_loss'])}.")


def run(out, quick: bool = False, seed: int = 0) -> dict:
    """Train at each batch size, measure, draw."""
    out = Path(out)
    n, epochs = (512, 8) if quick else (1024, 40)
    objective, theta0 = digits_task(n, seed)
    progress(f"training at batch sizes {', '.join(map(str, BATCHES))} and {n}, {epochs} epochs")
    runs = train(objective, theta0, epochs, seed)
    progress("the sharpness along the runs")
    numbers = measure(objective, runs, seed)
    progress("the loss on the runs' plane")
    residuals = plot_plane(objective, runs, theta0, out, 15 if quick else 31)
    plot_curves(runs, numbers, n, out)
    return {"headline": headline(numbers, epochs), "conclusion": conclusion(numbers, epochs),
            "numbers": {"n_samples": n, "epochs": epochs, "lr": LR, "two_over_lr": 2 / LR,
                        "runs": numbers,
                        "plane_median_residual": residuals}}


if __name__ == "__main__":
    main(run, "batch")
