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

The notes also say a neuron is most activated by inputs that match its weights. A digits
classifier (64 - 16 sigmoid - 10 softmax, Adam) shows it: each hidden unit's incoming
weights as an 8x8 image beside the training digits of largest pre-activation ``w . x + b``,
and the cosine between those digits and the weights against random training digits and
uniform-noise images (for inputs of one norm, ``w . x`` is largest along ``w``).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from landscape import MLP, adam, gd, layer_grad_metrics, runner
from landscape.data import circles, digits
from landscape.directions import random_directions
from landscape.plot import plot_line
from landscape.studies._shared import main, progress, save_png
from landscape.surface import line

TITLE = "Step vs sigmoid, tanh and ReLU: the step network gets no gradient and does not learn"
FIGURES = {
    "training.png": "Training loss and the gradient norm of each layer for the four activations",
    "loss_lines.png": "The loss along a random hidden-layer direction through the initial point",
    "unit_weights.png": "A digits net's hidden units: each one's weights as an 8x8 image beside "
                        "the training digits that excite it most",
    "unit_alignment.png": "Cosine between a unit's weights and the inputs that excite it most, "
                          "against random digits and noise",
}
ACTIVATIONS = ("step", "sigmoid", "tanh", "relu")
HIDDEN, LR = 16, 1.0
ZOOM = 0.01  # the close-up line spans this fraction of the wide one
UNITS, TOP = 16, 3  # the digits net's hidden units; the inputs shown per unit
RANDOM_INPUTS = 200  # random inputs each unit's alignment is compared with


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
    fig, axes = plt.subplots(1, 3, figsize=(12.5, 4.3), layout="constrained")
    for name, (objective, tr) in runs.items():
        acc = objective.accuracy(tr.final_theta)
        axes[0].plot(tr.steps, tr.loss, label=f"{name} (final training accuracy {acc:.2f})")
        for ax, key in zip(axes[1:], ("grad_layer1", "grad_layer2")):
            ax.plot(tr.steps, np.where(tr.metrics[key] > 0, tr.metrics[key], np.nan))
    step_zero = np.all(runs["step"][1].metrics["grad_layer1"] == 0)
    titles = ("training loss (cross-entropy)", "hidden-layer gradient norm"
              + ("\n(step: exactly 0 at every recorded step, not drawn)" if step_zero else ""),
              "output-layer gradient norm")
    for ax, title in zip(axes, titles):
        ax.set(yscale="log", xlabel="gradient-descent step", title=title)
    fig.legend(handles=axes[0].lines, loc="outside lower center", ncols=len(runs), fontsize=9)
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


def digits_units(quick: bool, seed: int) -> tuple[dict, dict]:
    """A 64-16-10 sigmoid digits classifier (Adam): each hidden unit's incoming weights,
    the training inputs that excite it most, and their alignment with its weights.

    A unit's pre-activation ``w . x + b`` is, for inputs of a given norm, largest at
    ``x`` along ``w`` (Cauchy-Schwarz): the measure is the cosine between ``w`` and the
    ``TOP`` inputs of largest ``w . x``, against random training inputs and uniform-noise
    images of the same pixel range.

    Returns the arrays for the figures (weights ``(16, 64)``, top inputs ``(16, TOP, 64)``,
    cosines) and the numbers.
    """
    X, y = digits()
    if quick:
        X, y = X[:300], y[:300]
    model = MLP([64, UNITS, 10], activation="sigmoid", output="softmax", loss="cross_entropy")
    objective = model.objective(X, y)
    trajectory = runner.run(objective, model.init(rng=seed), adam(0.01), 100 if quick else 300,
                            record_every=50)
    (W, b), _ = model.unflatten(trajectory.final_theta)
    top = np.argsort(-(X @ W.T + b), axis=0, kind="stable")[:TOP].T  # (units, TOP)
    rng = np.random.default_rng(seed)
    baselines = {"random_training_input": X[rng.choice(len(X), RANDOM_INPUTS, replace=False)],
                 "uniform_noise_input": rng.uniform(0.0, 1.0, (RANDOM_INPUTS, X.shape[1]))}
    cosines = {"top_input": np.array([_cosines(X[top[j]], W[j]).mean() for j in range(UNITS)])}
    cosines.update({name: np.array([_cosines(A, W[j]).mean() for j in range(UNITS)])
                    for name, A in baselines.items()})
    numbers = {"n_samples": len(X), "accuracy": objective.accuracy(trajectory.final_theta),
               "top": TOP, "n_random_inputs": RANDOM_INPUTS,
               **{f"{name}_cosine": c.tolist() for name, c in cosines.items()},
               **{f"median_{name}_cosine": float(np.median(c)) for name, c in cosines.items()}}
    return {"weights": W, "top_inputs": X[top], "cosines": cosines}, numbers


def _cosines(A: np.ndarray, w: np.ndarray) -> np.ndarray:
    """The cosine between each row of ``A`` ``(k, n)`` and ``w`` ``(n,)``, shape ``(k,)``."""
    return A @ w / (np.linalg.norm(A, axis=1) * np.linalg.norm(w))


def plot_units(units: dict, out: Path) -> None:
    """Each hidden unit's weights as an 8x8 image beside the inputs that excite it most, and
    the alignment of those inputs against random ones."""
    W, inputs = units["weights"], units["top_inputs"]
    rows, cols = UNITS // 2, 2 * (1 + TOP)
    fig, axes = plt.subplots(rows, cols, figsize=(1.05 * cols, 1.2 * rows),
                             layout="constrained")
    for j in range(UNITS):
        row, first = j % rows, (j // rows) * (1 + TOP)
        scale = np.abs(W[j]).max()
        axes[row, first].imshow(W[j].reshape(8, 8), cmap="RdBu_r", vmin=-scale, vmax=scale)
        axes[row, first].set_title(f"unit {j + 1}: weights", fontsize=9)
        for k in range(TOP):
            axes[row, first + 1 + k].imshow(inputs[j, k].reshape(8, 8), cmap="gray_r",
                                            vmin=0.0, vmax=1.0)
            cosine = _cosines(inputs[j, k][None], W[j])[0]
            axes[row, first + 1 + k].set_title(f"cos {cosine:.2f}", fontsize=9)
    for ax in axes.ravel():
        ax.set_axis_off()
    fig.suptitle(f"Digits net 64-{UNITS}-10 (sigmoid): each hidden unit's incoming weights "
                 f"(red +, blue -)\nbeside the {TOP} training digits that excite it most "
                 "(largest w . x + b), with their cosine to the weights")
    save_png(fig, out / "unit_weights.png")

    fig, ax = plt.subplots(figsize=(7, 4.2), layout="constrained")
    units_axis = np.arange(1, UNITS + 1)
    styles = {"top_input": ("o", f"the {TOP} inputs that excite it most"),
              "random_training_input": ("s", "random training inputs"),
              "uniform_noise_input": ("^", "uniform-noise inputs")}
    for name, (marker, label) in styles.items():
        ax.plot(units_axis, units["cosines"][name], marker, label=label)
    ax.axhline(0.0, color="0.5", lw=0.8, label="no alignment")
    ax.set(xlabel="hidden unit", ylabel="mean cosine between input and weights",
           title="Cosine between inputs and each unit's weights\n"
                 "(1: an input shaped exactly like the weights)")
    ax.set_xticks(units_axis)
    fig.legend(loc="outside lower center", ncols=2, fontsize=9)
    save_png(fig, out / "unit_alignment.png")


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


def headline(numbers: dict) -> str:
    """The finding in one short sentence."""
    step = numbers["step"]
    gradient = ("no gradient" if step["max_hidden_grad_norm"] == 0
                else f"a gradient of at most {step['max_hidden_grad_norm']:.2g}")
    others = ", ".join(f"{numbers[a]['final_loss']:.3f} ({a})" for a in ACTIVATIONS[1:])
    return (f"The step network's hidden layer gets {gradient}: its loss ends at "
            f"{step['final_loss']:.3f}, against {others}.")


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
            f"{numbers['tanh']['line_flat_fraction']:.0%}); {_units_sentence(numbers)}.")


def _units_sentence(numbers: dict) -> str:
    """What the digits net's hidden units respond to, from the numbers."""
    u = numbers["digits_units"]
    return (f"in a 64-{UNITS}-10 sigmoid digits net (training accuracy {u['accuracy']:.3f}) "
            f"the {u['top']} training inputs that excite a hidden unit most have a mean cosine "
            f"of {u['median_top_input_cosine']:.2f} with its weights (median over the "
            f"{UNITS} units), against {u['median_random_training_input_cosine']:.2f} for "
            f"random training inputs and {u['median_uniform_noise_input_cosine']:.2f} for "
            f"uniform-noise images")


def run(out, quick: bool = False, seed: int = 0) -> dict:
    """Train the four networks, draw the training curves and the loss lines."""
    out = Path(out)
    n_samples, steps, resolution = (100, 1000, 101) if quick else (400, 3000, 401)
    X, y = circles(n_samples, noise=0.1, rng=seed)
    progress(f"training the {len(ACTIVATIONS)} networks, {steps} steps each")
    runs = train_all(X, y, steps, seed)
    span = float(np.linalg.norm(runs["step"][1].theta0[runs["step"][0].blocks[0].weight]))
    progress("the loss along a random hidden-layer direction")
    curves = lines(runs, span, resolution, seed)
    plot_training(runs, out)
    plot_lines(curves, out)
    progress("the digits net's hidden units")
    units, unit_numbers = digits_units(quick, seed)
    plot_units(units, out)
    numbers = {**summarize(runs, curves), "digits_units": unit_numbers}
    return {"headline": headline(numbers), "conclusion": conclusion(numbers, n_samples, steps),
            "numbers": numbers}


if __name__ == "__main__":
    main(run, "activations")
