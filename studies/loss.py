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

Last, why the notes square the error rather than take its absolute value: near a solution.
A linear neuron (an MLP without hidden layer) fits targets it can fit exactly, so the
solution and its distance are known; fixed-step gradient descent starts near it under the
mean absolute error and under the mean squared error, at several learning rates. The
absolute error's gradient is the sign of the residuals, as large beside the solution as
far from it: GD chatters at a distance that grows with the step, where the squared
error's gradient shrinks with the residuals and GD settles. The engine's Hessian of the
absolute error there is exactly zero: the kink is not a curvature it can see.
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
from landscape.studies._shared import accuracy_metric, main, progress, save_png
from landscape.surface import curve, plane

TITLE = "MSE vs cross-entropy on softmax outputs: MSE's plateaus far from the solution"
FIGURES = {
    "planes.png": "MSE and cross-entropy on the same plane through the solution and a far point",
    "slice.png": "The loss and its gradient norm on the line from the solution to the far point",
    "training.png": "Gradient descent from the far point and from an ordinary start, each loss "
                    "at its best learning rate",
    "absolute_error.png": "Fixed-step GD near a linear neuron's solution under the absolute and "
                          "the squared error",
}
SIZES = (64, 16, 10)
GAIN = 10.0  # the far initialization's scale, in units of the Glorot scale
NEAR = 0.1  # the reference point: this fraction of the way from the solution to a far point
LRS = (0.3, 1.0, 3.0, 10.0, 30.0, 100.0, 300.0)  # the learning-rate grid, per loss and start
LOSSES = {"cross_entropy": "cross-entropy", "mse": "MSE"}
NEAR_LRS = (0.01, 0.03, 0.1)  # fixed steps of GD near the linear neuron's solution
NEAR_START = 0.2  # its start: this far from the solution, in a random direction


def near_solution_runs(steps: int, seed: int) -> tuple[dict, np.ndarray, dict]:
    """GD on a linear neuron (4 inputs, 64 samples, targets it fits exactly) from a point
    ``NEAR_START`` from its solution, under MAE and MSE at each of ``NEAR_LRS``.

    Returns ``{(loss, lr): trajectory}`` (every step recorded), the solution, and the
    objectives by loss.
    """
    rng = np.random.default_rng(seed)
    X = rng.standard_normal((64, 4))
    neuron = {loss: MLP([4, 1], output="linear", loss=loss) for loss in ("mae", "mse")}
    solution = neuron["mse"].init(rng=rng)
    y = neuron["mse"].predict(solution, X)  # fitted exactly at the solution
    objs = {loss: model.objective(X, y) for loss, model in neuron.items()}
    direction = rng.standard_normal(solution.size)
    start = solution + NEAR_START * direction / np.linalg.norm(direction)
    runs = {(loss, lr): runner.run(o, start, gd(lr), steps)
            for loss, o in objs.items() for lr in NEAR_LRS}
    return runs, solution, objs


def near_solution_numbers(runs: dict, solution: np.ndarray, objs: dict) -> dict:
    """Per loss and step: the final distance to the solution and gradient norm, the range
    of the distance over the second half, the share of second-half steps that raised the
    loss; the largest |Hessian entry| of MAE and the top eigenvalue of MSE at their ends."""
    numbers: dict = {"lrs": list(NEAR_LRS), "start_distance": NEAR_START}
    for loss in ("mae", "mse"):
        distance, grad, late, rises = [], [], [], []
        for lr in NEAR_LRS:
            tr = runs[loss, lr]
            d = np.linalg.norm(tr.thetas - solution, axis=1)[tr.n_steps // 2:]
            distance.append(float(d[-1]))
            grad.append(float(tr.grad_norm[tr.n_steps]))
            late.append([float(d.min()), float(d.max())])
            rises.append(float(np.mean(np.diff(tr.loss[tr.n_steps // 2:]) > 0)))
        numbers[loss] = {"final_distance": distance, "final_grad_norm": grad,
                         "late_distance_range": late, "late_rise_fraction": rises}
    end = runs["mae", NEAR_LRS[-1]].final_theta
    numbers["mae"]["hessian_max_abs_at_end"] = float(np.abs(objs["mae"].hessian(end)).max())
    numbers["mse"]["top_eigenvalue"] = float(np.linalg.eigvalsh(objs["mse"].hessian(solution))[-1])
    return numbers


def plot_near_solution(runs: dict, solution: np.ndarray, out: Path) -> None:
    """Distance to the solution and gradient norm against the step, MAE solid, MSE dashed."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.6), layout="constrained")
    for (loss, lr), tr in runs.items():
        style = {"color": f"C{NEAR_LRS.index(lr)}", "ls": "-" if loss == "mae" else "--"}
        name = f"{'MAE' if loss == 'mae' else 'MSE'}, lr {lr:g}"
        distance = np.linalg.norm(tr.thetas - solution, axis=1)
        left.plot(tr.steps, np.where(distance > 0, distance, np.nan), label=name, **style)
        right.plot(np.arange(tr.n_steps + 1), tr.grad_norm, **style)
    left.set(yscale="log", xlabel="gradient-descent step", ylabel="distance to the solution",
             title="MAE chatters at a distance that grows with lr;\nMSE settles (to rounding)")
    right.set(yscale="log", xlabel="gradient-descent step", ylabel="gradient norm",
              title="MAE's gradient (the residuals' sign) does not shrink;\n"
                    "MSE's shrinks with the residuals")
    half = len(left.lines) // 2  # MAE's lines, then MSE's: one column per learning rate
    fig.legend(handles=[h for pair in zip(left.lines[:half], left.lines[half:]) for h in pair],
               loc="outside lower center", ncols=half, fontsize=9)
    fig.suptitle("Fixed-step gradient descent from near the solution of a linear neuron "
                 "(exact targets)")
    save_png(fig, out / "absolute_error.png")


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
    fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 4.6), layout="constrained")
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
    fig.legend(handles=ax_loss.lines, loc="outside lower center", ncols=2, fontsize=9)
    save_png(fig, out / "training.png")


def run(out, quick: bool = False, seed: int = 0) -> dict:
    """Train, measure the gradients far and near, draw the planes, the slice and the runs."""
    out = Path(out)
    n_samples, steps, n_far, resolution = (200, 200, 5, 21) if quick else (400, 500, 5, 41)
    objs = objectives(n_samples)
    model = objs["cross_entropy"].model
    start = model.init(rng=seed)
    progress("training to a solution")
    solution = train(objs["cross_entropy"], start, 1.0, steps).final_theta
    fars = [model.init(rng=seed + 1 + i, gain=GAIN) for i in range(n_far)]
    ratios = {loss: gradient_ratios(o, solution, fars) for loss, o in objs.items()}

    progress("both losses on a plane and a line through a far point")
    directions = plane_directions(solution, fars[0], seed)
    surfaces = {loss: plane(o, solution, directions, span=((-0.25, 1.25), (-0.75, 0.75)),
                            resolution=resolution) for loss, o in objs.items()}
    slices = {loss: curve(o, fars[0], solution, resolution=2 * resolution)
              for loss, o in objs.items()}
    t = np.linspace(NEAR, 1.0, resolution)
    grads = {loss: np.linalg.norm([o.grad(solution + s * (fars[0] - solution)) for s in t],
                                  axis=1) for loss, o in objs.items()}
    grads = {loss: g / g[0] for loss, g in grads.items()}
    progress("gradient descent from the far point at each loss's best learning rate")
    far_runs = {loss: best_run(o, fars[0], steps) for loss, o in objs.items()}
    control = {loss: best_run(o, start, steps) for loss, o in objs.items()}
    plot_planes(surfaces, out)
    plot_slice(slices, grads, t, out)
    plot_training(far_runs, control, out)
    progress("fixed-step GD near a linear neuron's solution")
    near, near_solution, near_objs = near_solution_runs(600 if quick else 3000, seed)
    plot_near_solution(near, near_solution, out)

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
    numbers["near_solution"] = near_solution_numbers(near, near_solution, near_objs)
    return {"headline": headline(numbers), "conclusion": conclusion(numbers), "numbers": numbers}


def headline(n: dict) -> str:
    """The finding in one short sentence."""
    ce, mse = n["cross_entropy"], n["mse"]
    return (f"From a far, saturated start GD reaches training accuracy "
            f"{ce['far_final_accuracy']:.2f} with cross-entropy and "
            f"{mse['far_final_accuracy']:.2f} with MSE, whose gradient there is "
            f"{n['mse_over_ce_relative_grad']:.2g} times as large relative to the solution's.")


def conclusion(n: dict) -> str:
    ce, mse = n["cross_entropy"], n["mse"]
    return (f"At {n['n_far_points']} far points (weights x{GAIN:g}, saturated softmax) the MSE "
            f"gradient norm is {mse['far_over_near_grad_median']:.3g} times its value near the "
            f"solution, the cross-entropy one {ce['far_over_near_grad_median']:.3g} times "
            f"(ratio {n['mse_over_ce_relative_grad']:.3g}); from the far point, {n['steps']} "
            f"gradient-descent steps at each loss's best learning rate reach training accuracy "
            f"{ce['far_final_accuracy']:.3f} with cross-entropy and "
            f"{mse['far_final_accuracy']:.3f} with MSE, which from an ordinary initialization "
            f"reaches {mse['ordinary_init_final_accuracy']:.3f}; {_near_sentence(n)}.")


def _near_sentence(n: dict) -> str:
    """What fixed-step GD did near the linear neuron's solution, from the numbers."""
    near = n["near_solution"]
    mae, mse = near["mae"], near["mse"]
    listed = lambda values, fmt: ", ".join(format(v, fmt) for v in values)
    return (f"near a linear neuron's exact solution, fixed-step GD under the absolute error "
            f"ended {listed(mae['final_distance'], '.2g')} from it at lr "
            f"{listed(near['lrs'], 'g')} (gradient norm still "
            f"{listed(mae['final_grad_norm'], '.2g')}; the loss rose on "
            f"{listed(mae['late_rise_fraction'], '.0%')} of the late steps) and under the "
            f"squared error {listed(mse['final_distance'], '.1g')}; the engine's Hessian of the "
            f"absolute error there is exactly {mae['hessian_max_abs_at_end']:g} (the kink is "
            f"no curvature it can see)")


if __name__ == "__main__":
    main(run, "loss")
