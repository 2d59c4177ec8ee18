"""Mean squared error vs cross-entropy on softmax outputs: MSE's plateaus far from a solution.

The notes (1.2) train a digit classifier with a softmax output and the squared error. This
study puts the two losses side by side on one network (64 - 16 tanh - 10 softmax) and the
same digits. A solution is trained with cross-entropy; a far point is a large-scale
initialization (every layer's weights ``GAIN`` times the usual Glorot scale), where the
softmax is saturated. On the plane through the solution spanned by the line to the far point
and a random orthogonal direction of the same length, the cross-entropy keeps rising toward
the far point while MSE flattens into a plateau: a saturated softmax has a vanishing
Jacobian, so the squared error's gradient dies with it, while the cross-entropy gradient
``softmax - one_hot`` does not.

The measure: at several far points, each loss's gradient norm divided by its norm at the
point ``NEAR`` of the way from the solution to that far point (scale-free, so the losses'
different units cancel). Then full-batch gradient descent from the far point with each
loss, each at its best learning rate from a grid (the lowest final loss of its own
objective), and, as a control, from an ordinary initialization: MSE trains there, so what
stalls it far away is the plateau, not the loss as such.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import LogFormatterSciNotation, LogLocator

from landscape import MLP, gd, runner
from landscape.data import digits
from landscape.directions import random_directions
from landscape.plot import plot_contour
from landscape.studies._shared import accuracy_metric, main, save_png
from landscape.surface import curve, plane

TITLE = "MSE vs cross-entropy on softmax outputs: MSE's plateaus far from the solution"
SIZES = (64, 16, 10)
GAIN = 10.0  # the far initialization's scale, in units of the Glorot scale
NEAR = 0.1  # the reference point: this fraction of the way from the solution to a far point
LRS = (0.3, 1.0, 3.0, 10.0, 30.0, 100.0, 300.0)  # the learning-rate grid, per loss and start
LOSSES = {"cross_entropy": "cross-entropy", "mse": "MSE"}


def objectives(n_samples: int) -> dict:
    """The same network and digits under each loss: name -> MLPObjective."""
    X, y = digits()
    return {loss: MLP(SIZES, activation="tanh", output="softmax", loss=loss)
            .objective(X[:n_samples], y[:n_samples]) for loss in LOSSES}


def train(objective, theta0, lr: float, steps: int):
    """Full-batch gradient descent, recording the loss and accuracy about 100 times."""
    return runner.run(objective, theta0, gd(lr), steps, record_every=max(1, steps // 100),
                      metrics={"accuracy": accuracy_metric})


def best_run(objective, theta0, steps: int):
    """The run with the lowest final loss over the learning-rate grid ``LRS``."""
    runs = [train(objective, theta0, lr, steps) for lr in LRS]
    return min(runs, key=lambda tr: tr.final_loss if np.isfinite(tr.final_loss) else np.inf)


def gradient_ratios(objective, solution, far_points) -> np.ndarray:
    """``||grad L(far)|| / ||grad L(near)||`` at each far point, shape ``(k,)``."""
    norm = lambda theta: np.linalg.norm(objective.grad(theta))
    return np.array([norm(far) / norm(solution + NEAR * (far - solution)) for far in far_points])


def plane_directions(solution, far, seed: int) -> np.ndarray:
    """``(2, n)``: to the far point, and a random direction orthogonal to it of equal length."""
    d1 = far - solution
    r = random_directions(d1.size, k=1, rng=seed).vectors[0]
    r -= (r @ d1) / (d1 @ d1) * d1
    return np.stack([d1, r * np.linalg.norm(d1) / np.linalg.norm(r)])


def plot_planes(surfaces: dict, out: Path) -> None:
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.4), layout="constrained")
    for ax, (loss, surface) in zip(axes, surfaces.items()):
        fig.colorbar(plot_contour(surface, ax=ax, levels=25, log=True), ax=ax, label=LOSSES[loss],
                     ticks=LogLocator(), format=LogFormatterSciNotation())
        ax.plot([0], [0], "r*", markersize=12, label="solution")
        ax.plot([1], [0], "wo", markeredgecolor="k", markersize=8, label=f"far point (x{GAIN:g})")
        ax.set(title=f"{LOSSES[loss]} on the same plane",
               xlabel="toward the far point (1 = far point)", ylabel="random orthogonal direction")
        ax.legend(loc="upper left", fontsize=8)
    save_png(fig, out / "planes.png")


def plot_slice(slices: dict, grads: dict, t: np.ndarray, out: Path) -> None:
    fig, (ax_loss, ax_grad) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
    for loss, c in slices.items():
        ax_loss.plot(1 - c.axes[0], c.values, label=LOSSES[loss])
        ax_grad.plot(t, grads[loss], label=LOSSES[loss])
    ax_loss.set(yscale="log", ylabel="loss", title="Loss from the solution to the far point")
    ax_grad.set(yscale="log", ylabel=f"gradient norm / its value at t = {NEAR:g}",
                title="Gradient norm along the same line")
    for ax in (ax_loss, ax_grad):
        ax.set_xlabel("t: fraction of the way to the far point")
        ax.legend()
    save_png(fig, out / "slice.png")


def plot_training(far_runs: dict, control: dict, out: Path) -> None:
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
    for color, loss in zip(("C0", "C1"), far_runs):
        for tr, where, style in ((far_runs[loss], f"far init x{GAIN:g}", "-"),
                                 (control[loss], "ordinary init", ":")):
            label = f"{LOSSES[loss]}, {where} (lr {tr.hyperparams['lr']:g})"
            ax_loss.plot(tr.steps, tr.loss / tr.loss[0], style, color=color, label=label)
            ax_acc.plot(tr.steps, tr.metrics["accuracy"], style, color=color, label=label)
    ax_loss.set(yscale="log", ylabel="loss / its initial value",
                title="Gradient descent, each loss at its best learning rate")
    ax_acc.set(ylabel="training accuracy", ylim=(0, 1.02), title="Accuracy on the same runs")
    for ax in (ax_loss, ax_acc):
        ax.set_xlabel("gradient-descent step")
        ax.legend(fontsize=8)
    save_png(fig, out / "training.png")


def run(out, quick: bool = False, seed: int = 0) -> dict:
    """Train, measure the gradients far and near, draw the planes, the slice and the runs."""
    out = Path(out)
    n_samples, steps, n_far, resolution = (200, 200, 5, 21) if quick else (400, 500, 5, 41)
    objs = objectives(n_samples)
    model = objs["cross_entropy"].model
    start = model.init(rng=seed)
    solution = train(objs["cross_entropy"], start, 1.0, steps).final_theta
    fars = [model.init(rng=seed + 1 + i, gain=GAIN) for i in range(n_far)]
    ratios = {loss: gradient_ratios(o, solution, fars) for loss, o in objs.items()}

    directions = plane_directions(solution, fars[0], seed)
    surfaces = {loss: plane(o, solution, directions, span=((-0.25, 1.25), (-0.75, 0.75)),
                            resolution=resolution) for loss, o in objs.items()}
    slices = {loss: curve(o, fars[0], solution, resolution=2 * resolution)
              for loss, o in objs.items()}
    t = np.linspace(NEAR, 1.0, resolution)
    grads = {loss: np.linalg.norm([o.grad(solution + s * (fars[0] - solution)) for s in t],
                                  axis=1) for loss, o in objs.items()}
    grads = {loss: g / g[0] for loss, g in grads.items()}
    far_runs = {loss: best_run(o, fars[0], steps) for loss, o in objs.items()}
    control = {loss: best_run(o, start, steps) for loss, o in objs.items()}
    plot_planes(surfaces, out)
    plot_slice(slices, grads, t, out)
    plot_training(far_runs, control, out)

    numbers = {"n_samples": n_samples, "n_params": model.n_params, "steps": steps,
               "n_far_points": n_far, "far_norm": float(np.linalg.norm(fars[0])),
               "solution_norm": float(np.linalg.norm(solution)),
               "solution_accuracy": objs["cross_entropy"].accuracy(solution)}
    for loss in objs:
        far, ctrl = far_runs[loss], control[loss]
        numbers[loss] = {
            "far_over_near_grad_median": float(np.median(ratios[loss])),
            "far_over_near_grad": ratios[loss].tolist(),
            "far_best_lr": far.hyperparams["lr"], "far_final_loss": far.final_loss,
            "far_final_accuracy": float(far.metrics["accuracy"][-1]),
            "ordinary_init_final_accuracy": float(ctrl.metrics["accuracy"][-1]),
        }
    ce, mse = numbers["cross_entropy"], numbers["mse"]
    numbers["mse_over_ce_relative_grad"] = (mse["far_over_near_grad_median"]
                                            / ce["far_over_near_grad_median"])
    numbers["mse_at_ce_far_run_end"] = objs["mse"].loss(far_runs["cross_entropy"].final_theta)
    return {"conclusion": conclusion(numbers), "numbers": numbers}


def conclusion(n: dict) -> str:
    ce, mse = n["cross_entropy"], n["mse"]
    return (f"At {n['n_far_points']} far points (weights x{GAIN:g}, saturated softmax) the MSE "
            f"gradient norm is {mse['far_over_near_grad_median']:.3g} times its value near the "
            f"solution, the cross-entropy one {ce['far_over_near_grad_median']:.3g} times "
            f"(ratio {n['mse_over_ce_relative_grad']:.3g}); from the far point, {n['steps']} "
            f"gradient-descent steps at each loss's best learning rate reach training accuracy "
            f"{ce['far_final_accuracy']:.3f} with cross-entropy and "
            f"{mse['far_final_accuracy']:.3f} with MSE, which from an ordinary initialization "
            f"reaches {mse['ordinary_init_final_accuracy']:.3f}.")


if __name__ == "__main__":
    main(run, "loss")
