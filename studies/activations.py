"""Activation functions: why a network of step units cannot be trained by gradient descent.

The notes (1.1.1) introduce the neuron with a step activation and replace it by the sigmoid
because the step's derivative is zero wherever it exists (and it has none at 0): gradient
descent gets no signal through it. This study trains the same network (2 - 16 hidden - 1
sigmoid output, cross-entropy) with a step, sigmoid, tanh and ReLU hidden layer from the
same initial weights, by full-batch gradient descent with the same learning rate and steps,
on the two-circles task (the classes differ in radius, so the hidden layer must learn).

It records the training loss and the gradient norm of each layer over training. The step
network's hidden-layer gradient is exactly zero at every recorded step (the engine's step
derivative is 0), so its hidden weights never move: its loss drops only through the output
layer, a logistic regression on 16 frozen random half-planes through the origin (the
initial biases are zero), which cannot tell an inner circle from an outer one. The smooth
activations train both layers and reach a far lower loss. Last, the loss along a random
direction in the hidden layer's parameters (output layer held) through the initial point
(``landscape.surface.line``): piecewise flat for the step network, a staircase whose
treads have zero slope, and smooth for the others.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from landscape import MLP, gd, layer_grad_metrics, runner
from landscape.data import circles
from landscape.directions import random_directions
from landscape.plot import plot_line
from landscape.studies._shared import main, save_png
from landscape.surface import line

TITLE = "Step vs sigmoid, tanh and ReLU: the step network gets no gradient and does not learn"
ACTIVATIONS = ("step", "sigmoid", "tanh", "relu")
HIDDEN, LR = 16, 1.0
ZOOM = 0.01  # the close-up line spans this fraction of the wide one


def train_all(X, y, steps: int, seed: int) -> dict:
    """One network per activation, trained from the same initial weights.

    Returns name -> ``(objective, trajectory)``; the trajectory records each layer's
    gradient norm (``grad_layer1`` hidden, ``grad_layer2`` output) at recorded steps.
    """
    runs = {}
    for name in ACTIVATIONS:
        model = MLP([2, HIDDEN, 1], activation=name, output="sigmoid", loss="cross_entropy")
        objective = model.objective(X, y)
        theta0 = model.init(rng=seed)  # the same draw for every activation
        trajectory = runner.run(objective, theta0, gd(LR), steps,
                                record_every=max(1, steps // 200),
                                metrics=layer_grad_metrics(objective))
        runs[name] = (objective, trajectory)
    return runs


def hidden_mask(objective) -> np.ndarray:
    """Shape ``(n,)``, bool: the entries of ``theta`` that are the hidden layer's parameters."""
    block = objective.blocks[0]
    hidden = np.zeros(objective.dim, dtype=bool)
    hidden[block.weight] = hidden[block.bias] = True
    return hidden


def hidden_direction(objective, seed: int) -> np.ndarray:
    """A random unit direction in the hidden layer's weights and biases, zero elsewhere."""
    hidden = hidden_mask(objective)
    d = np.zeros(objective.dim)
    d[hidden] = random_directions(int(hidden.sum()), k=1, rng=seed).vectors[0]
    return d


def flat_fraction(values: np.ndarray) -> float:
    """The fraction of grid intervals over which the loss does not change at all."""
    return float(np.mean(np.diff(values) == 0.0))


def lines(runs: dict, span: float, resolution: int, seed: int) -> dict:
    """Wide and close-up lines of each network's loss through its initial point."""
    out = {}
    for name, (objective, trajectory) in runs.items():
        d = hidden_direction(objective, seed)
        out[name] = [line(objective, trajectory.theta0, d, span=s, resolution=resolution)
                     for s in (span, ZOOM * span)]
    return out


def plot_training(runs: dict, out: Path) -> None:
    fig, axes = plt.subplots(1, 3, figsize=(14, 4), layout="constrained")
    for name, (objective, tr) in runs.items():
        acc = objective.accuracy(tr.final_theta)
        axes[0].plot(tr.steps, tr.loss, label=f"{name} (accuracy {acc:.2f})")
        for ax, key in zip(axes[1:], ("grad_layer1", "grad_layer2")):
            ax.plot(tr.steps, np.where(tr.metrics[key] > 0, tr.metrics[key], np.nan), label=name)
    step_hidden = runs["step"][1].metrics["grad_layer1"]
    if np.all(step_hidden == 0):
        axes[1].text(0.03, 0.04, "step: exactly 0 at every recorded step\n(not drawn on a log "
                     "axis)", transform=axes[1].transAxes, fontsize=9,
                     bbox={"facecolor": "white", "alpha": 0.85, "edgecolor": "none"})
    titles = ("training loss (cross-entropy)", "hidden-layer gradient norm",
              "output-layer gradient norm")
    for ax, title in zip(axes, titles):
        ax.set(yscale="log", xlabel="gradient-descent step", title=title)
        ax.legend(fontsize=8)
    axes[0].set_ylabel("loss")
    axes[1].set_ylabel(r"$\|\nabla_{W_1, b_1} L\|$")
    axes[2].set_ylabel(r"$\|\nabla_{W_2, b_2} L\|$")
    fig.suptitle("Same network, same initial weights, same gradient descent: only the hidden "
                 "activation differs")
    save_png(fig, out / "training.png")


def plot_lines(curves: dict, out: Path) -> None:
    fig, (wide, close) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
    for name, (far, near) in curves.items():
        style = {"drawstyle": "steps-mid"} if name == "step" else {}
        plot_line(far, ax=wide, label=name, **style)
        middle = near.values[len(near.values) // 2]
        close.plot(near.axes[0], near.values - middle, label=name, **style)
    wide.set(ylabel="training loss", title="Loss through the initial point")
    close.set(ylabel=r"loss $-$ loss at the initial point",
              title=f"Close-up: {ZOOM:g} of the span")
    for ax in (wide, close):
        ax.set_xlabel(r"$\alpha$ along a random hidden-layer direction (unit norm)")
        ax.legend(fontsize=8)
    save_png(fig, out / "loss_lines.png")


def summarize(runs: dict, curves: dict) -> dict:
    numbers = {"n_params": runs["step"][0].dim, "recorded_steps": len(runs["step"][1].steps)}
    for name, (objective, tr) in runs.items():
        hidden = hidden_mask(objective)
        numbers[name] = {
            "initial_loss": float(tr.loss[0]), "final_loss": tr.final_loss,
            "loss_drop": float(tr.loss[0] - tr.final_loss),
            "final_accuracy": objective.accuracy(tr.final_theta),
            "max_hidden_grad_norm": float(tr.metrics["grad_layer1"].max()),
            "min_output_grad_norm": float(tr.metrics["grad_layer2"].min()),
            "hidden_param_change": float(np.abs(tr.final_theta - tr.theta0)[hidden].max()),
            "line_flat_fraction": flat_fraction(curves[name][1].values),
        }
    return numbers


def conclusion(numbers: dict, n_samples: int, steps: int) -> str:
    step = numbers["step"]
    smooth = ", ".join(f"{numbers[a]['final_loss']:.3f} ({a})" for a in ACTIVATIONS[1:])
    zero = step["max_hidden_grad_norm"] == 0
    gradient = ("exactly 0" if zero else f"at most {step['max_hidden_grad_norm']:.3g}")
    moved = ("never move" if step["hidden_param_change"] == 0
             else f"move by at most {step['hidden_param_change']:.3g}")
    return (f"On {n_samples} two-circles points, {steps} gradient-descent steps from the same "
            f"initial weights reach losses {smooth} but only {step['final_loss']:.3f} for the "
            f"step network (from {step['initial_loss']:.3f}): its hidden-layer gradient norm "
            f"is {gradient} at all {numbers['recorded_steps']} recorded steps and its hidden "
            f"weights and biases {moved}, so its loss drop of {step['loss_drop']:.3f} comes "
            f"from the output layer alone; close up along a random hidden-layer direction its "
            f"loss is flat on {step['line_flat_fraction']:.0%} of the grid intervals (tanh: "
            f"{numbers['tanh']['line_flat_fraction']:.0%}).")


def run(out, quick: bool = False, seed: int = 0) -> dict:
    """Train the four networks, draw the training curves and the loss lines."""
    out = Path(out)
    n_samples, steps, resolution = (100, 1000, 101) if quick else (400, 3000, 401)
    X, y = circles(n_samples, noise=0.1, rng=seed)
    runs = train_all(X, y, steps, seed)
    span = float(np.linalg.norm(runs["step"][1].theta0[runs["step"][0].blocks[0].weight]))
    curves = lines(runs, span, resolution, seed)
    plot_training(runs, out)
    plot_lines(curves, out)
    numbers = summarize(runs, curves)
    return {"conclusion": conclusion(numbers, n_samples, steps), "numbers": numbers}


if __name__ == "__main__":
    main(run, "activations")
