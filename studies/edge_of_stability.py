"""Does gradient descent find minima as sharp as its step size allows? The edge of stability.

The notes (1.3) pick a learning rate and walk downhill. On a quadratic, gradient descent with
step ``eta`` is stable only where the curvature is below ``2 / eta``; Cohen et al. (2021)
found that full-batch gradient descent on a neural network *drives* the sharpness (the top
Hessian eigenvalue) up until it reaches ``2 / eta`` ("progressive sharpening") and then hovers
there while the loss keeps falling, though no longer monotonically: the edge of stability.
(Here the loss keeps falling at the smaller steps; at the largest it stops falling and
moves up and down once at the edge: the study measures which.)

This study repeats their small task: 20 points evenly spaced in [-1, 1] labelled by the
Chebyshev polynomial T3(x) = 4x^3 - 3x, a 1-100-1 tanh network (first layer Xavier-normal
with gain 1.9 and zero bias, output layer without bias), half mean squared error, full-batch
gradient descent at several learning rates, with the sharpness recorded through the runner's
metric hook (:func:`landscape.hessian.sharpness`). Every run lasts the same gradient-flow
time ``eta * steps``, so before the edge all runs follow one curve, and each one leaves it
at its own ``2 / eta``.

Run: ``landscape run edge_of_stability`` or
``python -m landscape.studies.edge_of_stability OUT_DIR [--quick]``.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from landscape import MLP, gd, runner
from landscape.hessian import sharpness
from landscape.studies._shared import main, progress, save_png

TITLE = "Edge of stability: full-batch GD drives the sharpness up to 2/eta and hovers there"
FIGURES = {
    "sharpness.png": "The sharpness against 2/eta and the training loss for each learning rate",
}
ETAS = (0.05, 0.1, 0.2, 0.3)
EDGE = 0.95  # the run is at the edge once its sharpness reaches EDGE * 2 / eta


def chebyshev_task(seed: int):
    """Cohen et al.'s data, network and initialization: ``(objective, theta0)``."""
    x = np.linspace(-1.0, 1.0, 20)[:, None]
    model = MLP([1, 100, 1], activation="tanh", output="linear", loss="mse",
                bias=[True, False], half_mse=True)
    return model.objective(x, 4 * x**3 - 3 * x), model.init(seed, scheme="glorot",
                                                            gain=[1.9, 1.0])


def train(objective, theta0, eta: float, flow_time: float, every: float):
    """Full-batch GD for ``flow_time / eta`` steps, the sharpness every ``every / eta`` steps
    (every ``every`` units of gradient-flow time)."""
    return runner.run(objective, theta0, gd(eta), round(flow_time / eta),
                      record_every=round(every / eta), metrics={"sharpness": sharpness},
                      diverge_factor=None)


def measure(trajectory, eta: float) -> dict:
    """The sharpness against ``2 / eta`` (as ratios) and when the loss first rose.

    ``edge_step``: the first record with sharpness at least ``EDGE * 2 / eta`` (None if
    never); ``first_rise_step``: the first step after which the loss rose (None if it fell
    at every step) and ``ratio_before_rise`` the largest sharpness recorded up to it;
    ``late_median_ratio`` over the second half of the run; ``rise_fraction`` the share of
    steps from the first rise on that raised the loss. The loss itself: ``edge_loss`` when
    the run reached the edge (None if never), and ``late_loss_range`` and
    ``late_median_loss`` over the second half of the run.
    """
    steps, bound = trajectory.steps, 2.0 / eta
    ratio = trajectory.metrics["sharpness"] / bound
    at_edge = np.flatnonzero(ratio >= EDGE)
    rises = np.diff(trajectory.batch_loss) > 0  # full batch: the training loss at every step
    first = int(np.argmax(rises)) if rises.any() else None
    late_loss = trajectory.batch_loss[trajectory.n_steps // 2:]
    return {
        "eta": eta,
        "two_over_eta": bound,
        "steps": trajectory.n_steps,
        "initial_ratio": float(ratio[0]),
        "edge_step": int(steps[at_edge[0]]) if at_edge.size else None,
        "first_rise_step": first,
        "ratio_before_rise": None if first is None else float(ratio[steps <= first].max()),
        "late_median_ratio": float(np.median(ratio[steps >= trajectory.n_steps / 2])),
        "max_ratio": float(ratio.max()),
        "rise_fraction": 0.0 if first is None else float(rises[first:].mean()),
        "final_loss": trajectory.final_loss,
        "edge_loss": (float(trajectory.batch_loss[steps[at_edge[0]]]) if at_edge.size
                      else None),
        "late_loss_range": [float(late_loss.min()), float(late_loss.max())],
        "late_median_loss": float(np.median(late_loss)),
    }


def plot(trajectories: dict, out: Path) -> None:
    """Sharpness and training loss against gradient-flow time ``eta * step``."""
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(8.4, 7.5), sharex=True,
                                      layout="constrained")
    for i, (eta, tr) in enumerate(trajectories.items()):
        color = f"C{i}"
        top.plot(eta * tr.steps, tr.metrics["sharpness"], color=color, label=rf"$\eta$ = {eta}")
        top.axhline(2 / eta, color=color, ls="--", lw=1)
        top.text(1.01, 2 / eta, rf"$2/\eta$ = {2 / eta:.3g}", color=color, fontsize=9,
                 va="center", transform=top.get_yaxis_transform())
        t = eta * np.arange(tr.batch_loss.size)
        bottom.plot(t, tr.batch_loss, color=color, lw=0.8)
    top.set_ylabel("sharpness (top Hessian eigenvalue)")
    top.set_title(r"Sharpness rises until it reaches $2/\eta$ (dashed), then hovers there")
    fig.legend(handles=top.lines[::2], loc="outside right upper")
    bottom.set_yscale("log")
    bottom.set_xlabel(r"gradient-flow time $\eta \times$ step")
    bottom.set_ylabel("training loss (½ MSE)")
    bottom.set_title("Training loss: not monotone once at the edge")
    save_png(fig, out / "sharpness.png")


def _listing(runs: list[dict], key: str, fmt: str) -> str:
    return ", ".join(f"{r[key]:{fmt}}" for r in runs)


def _loss_at_the_edge(edge: list[dict]) -> str:
    """The loss's median over the second half of each run against its value at the edge."""
    fell = [r for r in edge if r["late_median_loss"] < r["edge_loss"]]
    held = [r for r in edge if r["late_median_loss"] >= r["edge_loss"]]
    etas = lambda runs: ", ".join(str(r["eta"]) for r in runs)
    pairs = lambda runs: ", ".join(f"{r['late_median_loss']:.2g} vs {r['edge_loss']:.2g}"
                                   for r in runs)
    parts = []
    if fell:
        parts.append(f"below the loss when the sharpness reached the edge for eta = "
                     f"{etas(fell)} ({pairs(fell)}: falling, not monotonically)")
    if held:
        ranges = ", ".join(f"{r['late_loss_range'][0]:.2g} to {r['late_loss_range'][1]:.2g}"
                           for r in held)
        what = "it" if fell else "the loss when the sharpness reached the edge"
        parts.append(f"not below {what} for eta = {etas(held)} ({pairs(held)}: no longer "
                     f"falling, moving within {ranges})")
    return "over the second half of the run the median loss was " + ", but ".join(parts)


def headline(runs: list[dict]) -> str:
    """The finding in one short sentence."""
    edge = [r for r in runs if r["edge_step"] is not None]
    if not edge:
        return (f"No learning rate brought the sharpness to 2/eta (at most "
                f"{max(r['max_ratio'] for r in runs):.2f} x 2/eta).")
    return (f"Full-batch GD raised the sharpness to 2/eta for eta = "
            f"{', '.join(str(r['eta']) for r in edge)} (late medians "
            f"{_listing(edge, 'late_median_ratio', '.2f')} x 2/eta).")


def conclusion(runs: list[dict]) -> str:
    """One sentence from the measured numbers."""
    edge = [r for r in runs if r["edge_step"] is not None]
    rose = [r for r in runs if r["first_rise_step"] is not None]
    calm = [r for r in runs if r["first_rise_step"] is None]
    etas = ", ".join(str(r["eta"]) for r in edge)
    sentence = (f"Full-batch GD raised the sharpness from at most "
                f"{max(r['initial_ratio'] for r in runs):.2f} x 2/eta to the edge for eta = "
                f"{etas or 'none'} (late medians {_listing(edge, 'late_median_ratio', '.2f')} "
                f"x 2/eta; the largest value in any run {max(r['max_ratio'] for r in runs):.2f} "
                f"x 2/eta)")
    if rose:
        sentence += (f"; the loss first rose only after the sharpness had reached "
                     f"{_listing(rose, 'ratio_before_rise', '.2f')} x 2/eta, and from then on "
                     f"rose on {_listing(rose, 'rise_fraction', '.0%')} of steps")
    if edge:
        sentence += "; " + _loss_at_the_edge(edge)
    if calm:
        sentence += (f"; for eta = {', '.join(str(r['eta']) for r in calm)} the sharpness "
                     f"peaked at {_listing(calm, 'max_ratio', '.2f')} x 2/eta and the loss fell "
                     f"at every step")
    return sentence + "."


def run(out, quick: bool = False, seed: int = 0) -> dict:
    """Train at each learning rate, measure the sharpness against 2/eta, draw."""
    out = Path(out)
    objective, theta0 = chebyshev_task(seed)
    flow_time, every = (300.0, 5.0) if quick else (2000.0, 10.0)
    progress(f"training at eta = {', '.join(map(str, ETAS))}, measuring the sharpness")
    trajectories = {eta: train(objective, theta0, eta, flow_time, every) for eta in ETAS}
    runs = [measure(tr, eta) for eta, tr in trajectories.items()]
    plot(trajectories, out)
    return {"headline": headline(runs), "conclusion": conclusion(runs),
            "numbers": {"flow_time": flow_time, "runs": runs}}


if __name__ == "__main__":
    main(run, "edge_of_stability")
