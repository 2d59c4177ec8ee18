"""Which curvature is sharp, and where? Hessian, Gauss-Newton, Fisher and empirical Fisher
during training, whole and layer by layer.

The other studies measure the sharpness, the top eigenvalue of the Hessian. Second-order
optimizers and much of the theory use other curvature matrices instead: the generalized
Gauss-Newton matrix ``G = J^T H_out J`` (the Hessian without the network's own second
derivatives), the Fisher of the model's predictive distribution (for softmax cross-entropy
it *is* ``G``: Martens 2020) and the empirical Fisher, the mean outer product of the
per-sample gradients (Kunstner et al. 2019 on why it is not the Fisher). This study
trains a 64-32-32-10 tanh MLP on the 8x8 digits with full-batch gradient descent and, at
every record, finds the top eigenvalue of each of the four (Lanczos on the exact operators
of :mod:`landscape.curvature`), and the top eigenvalue of the Hessian and of ``G``
restricted to each layer (:func:`landscape.curvature.block_operator`): which layer is the
sharpest. At the end it tabulates each layer's top eigenvalue and trace
(:func:`landscape.curvature.layer_curvature`, Hutch++ traces).

Run: ``landscape run curvature`` or ``python -m landscape.studies.curvature OUT_DIR [--quick]``.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.ticker import FormatStrFormatter, LogLocator, NullFormatter

from landscape import MLP, gd, runner
from landscape.curvature import (
    block_operator,
    empirical_fisher_operator,
    fisher_operator,
    ggn_operator,
    layer_curvature,
)
from landscape.data import digits
from landscape.hessian import eigenpairs, hessian_operator
from landscape.plot import plot_layer_curvature
from landscape.studies._shared import main, progress, save_png

TITLE = "Hessian vs Gauss-Newton vs Fisher: the sharpness during training, layer by layer"
FIGURES = {
    "top_eigenvalues.png": "The top eigenvalue of the Hessian, the Gauss-Newton matrix, the "
                           "Fisher (on the GGN: they are one matrix here) and the empirical "
                           "Fisher along full-batch GD, and the training loss",
    "layers.png": "Each layer's top eigenvalue along training (Hessian and GGN), and each "
                  "layer's top eigenvalue and trace at the end",
}
LR = 0.5
SIZES = (64, 32, 32, 10)
LAYERS = ("layer1", "layer2", "layer3")
OPERATORS = {"Hessian": hessian_operator, "GGN": ggn_operator, "Fisher": fisher_operator,
             "empirical Fisher": empirical_fisher_operator}
PER_LAYER = ("Hessian", "GGN")  # the operators measured per layer at every record


def digits_task(n: int, seed: int):
    """``n`` digits drawn at random, the MLP's objective on them and its initial point."""
    X, y = digits()
    rows = np.random.default_rng(seed).permutation(len(X))[:n]
    model = MLP(list(SIZES), activation="tanh", output="softmax", loss="cross_entropy")
    return model.objective(X[rows], y[rows]), model.init(seed)


def _top(op, seed: int) -> float:
    spectrum = eigenpairs(op, 1, "LA", rng=seed)
    return float(spectrum.eigenvalues[-1]) if spectrum.eigenvalues.size else float("nan")


def metrics(seed: int) -> dict:
    """Run metrics: the top eigenvalue of each operator, and of the Hessian and the GGN on
    each layer (``'<operator> <layer>'``)."""
    found = {name: (lambda o, t, make=make: _top(make(o, t), seed))
             for name, make in OPERATORS.items()}
    for name in PER_LAYER:
        for layer in LAYERS:
            found[f"{name} {layer}"] = (lambda o, t, make=OPERATORS[name], layer=layer:
                                        _top(block_operator(make(o, t), o, layer), seed))
    return found


def _table(layers) -> dict:
    return {"names": list(layers.names), "sizes": layers.sizes.tolist(),
            "top_eigenvalue": layers.top_eigenvalue.tolist(), "trace": layers.trace.tolist(),
            "trace_stderr": layers.trace_stderr.tolist()}


def final_layers(objective, theta, seed: int) -> dict:
    """Each layer's top eigenvalue and trace at ``theta``: operator name -> LayerCurvature
    (the Fisher left out: it is the GGN here)."""
    return {name: layer_curvature(make(objective, theta), objective, rng=seed)
            for name, make in OPERATORS.items() if name != "Fisher"}


def measure(trajectory, tables: dict) -> dict:
    """The curves from the run's metrics, and the final per-layer tables as numbers."""
    top = {name: trajectory.metrics[name].tolist() for name in OPERATORS}
    layers = {name: {layer: trajectory.metrics[f"{name} {layer}"].tolist() for layer in LAYERS}
              for name in PER_LAYER}
    ggn, fisher = np.array(top["GGN"]), np.array(top["Fisher"])
    sharpest = [max(LAYERS, key=lambda layer, i=i: layers["Hessian"][layer][i])
                for i in range(len(trajectory.steps))]
    return {
        "steps": trajectory.steps.tolist(), "loss": trajectory.loss.tolist(), "top": top,
        "layers": layers, "final_layers": {k: _table(t) for k, t in tables.items()},
        "fisher_ggn_max_relative_difference": float(np.max(np.abs(fisher - ggn) / ggn)),
        "ggn_over_hessian": (ggn / np.array(top["Hessian"])).tolist(),
        "empirical_fisher_over_ggn": (np.array(top["empirical Fisher"]) / ggn).tolist(),
        "sharpest_layer": sharpest,
    }


def _plain_log_labels(ax) -> None:
    """Log-axis ticks at 1, 2, 5 times powers of ten, as plain numbers (0.2, 5)."""
    ax.yaxis.set_major_locator(LogLocator(subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(FormatStrFormatter("%.2g"))
    ax.yaxis.set_minor_formatter(NullFormatter())


def plot_curves(numbers: dict, out: Path) -> None:
    """Top eigenvalue of each operator against steps, and the loss."""
    steps = numbers["steps"]
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.3), layout="constrained")
    styles = {"Hessian": dict(lw=2), "GGN": dict(lw=1, ls="--"),
              "Fisher": dict(ls="none", marker="x", ms=7),
              "empirical Fisher": dict(lw=1.5, ls=":")}
    for name, values in numbers["top"].items():
        left.plot(steps, values, label=name, **styles[name])
    left.set(yscale="log", xlabel="GD step", ylabel="top eigenvalue",
             title="Top eigenvalue of each curvature (Fisher = GGN here)")
    _plain_log_labels(left)
    right.plot(steps, numbers["loss"], color="0.3")
    right.set(yscale="log", xlabel="GD step", ylabel="training loss (cross-entropy)",
              title=f"Training loss (full-batch GD, lr {LR})")
    fig.legend(loc="outside right upper")
    save_png(fig, out / "top_eigenvalues.png")


def plot_layers(numbers: dict, final: dict, out: Path) -> None:
    """Per-layer top eigenvalues during training, and the final per-layer table as bars."""
    steps = numbers["steps"]
    fig, axes = plt.subplots(1, 3, figsize=(15, 4.3), layout="constrained")
    for layer, color in zip(LAYERS, ("C0", "C1", "C2")):
        axes[0].plot(steps, numbers["layers"]["Hessian"][layer], color=color, lw=2,
                     label=f"{layer}, Hessian")
        axes[0].plot(steps, numbers["layers"]["GGN"][layer], color=color, lw=1, ls="--",
                     label=f"{layer}, GGN")
    axes[0].set(yscale="log", xlabel="GD step", ylabel="top eigenvalue of the layer's block",
                title="Sharpness of each layer")
    _plain_log_labels(axes[0])
    axes[0].legend(loc="upper center", bbox_to_anchor=(0.5, -0.17), ncols=3)
    for ax, field in zip(axes[1:], ("top_eigenvalue", "trace")):
        plot_layer_curvature(final, ax=ax, field=field, log=True)
        ax.set_title(f"Each layer's {field.replace('_', ' ')} at the end")
    fig.legend(*axes[2].get_legend_handles_labels(), loc="outside right upper")
    save_png(fig, out / "layers.png")


def headline(numbers: dict) -> str:
    """The finding in one short sentence."""
    h, g, e = (numbers["top"][k][-1] for k in ("Hessian", "GGN", "empirical Fisher"))
    return (f"The Gauss-Newton matrix carries the sharpness (top eigenvalue {g:.3g} against the "
            f"Hessian's {h:.3g}), the Fisher equals it, the empirical Fisher's falls to "
            f"{e:.3g}; {numbers['sharpest_layer'][-1]} is the sharpest layer.")


def conclusion(numbers: dict) -> str:
    """One sentence from the measured numbers."""
    top, loss = numbers["top"], numbers["loss"]
    h, g, e = top["Hessian"], top["GGN"], top["empirical Fisher"]
    ratio, ef = numbers["ggn_over_hessian"], numbers["empirical_fisher_over_ggn"]
    sharpest = numbers["sharpest_layer"]
    final = numbers["final_layers"]["Hessian"]
    everywhere = len(set(sharpest)) == 1
    where = ("at every record" if everywhere
             else f"at the end (at the start: {sharpest[0]})")
    per_layer = ", ".join(f"{n} {v:.3g}" for n, v in zip(final["names"], final["top_eigenvalue"]))
    traces = ", ".join(f"{n} {v:.3g}" for n, v in zip(final["names"], final["trace"]))
    return (f"While GD took the loss from {loss[0]:.3g} to {loss[-1]:.3g}, the top eigenvalue "
            f"of the Hessian went from {h[0]:.3g} to {h[-1]:.3g} and the Gauss-Newton "
            f"matrix's from {g[0]:.3g} to {g[-1]:.3g} (GGN / Hessian {ratio[0]:.3f} at the "
            f"start, {ratio[-1]:.3f} at the end), the Fisher equalled the GGN to "
            f"{numbers['fisher_ggn_max_relative_difference']:.1e} (softmax cross-entropy), and "
            f"the empirical Fisher's top eigenvalue fell from {e[0]:.3g} "
            f"({ef[0]:.2f} x the GGN's) to {e[-1]:.3g} ({ef[-1]:.3f} x): it shrinks with the "
            f"per-sample gradients as the fit improves, the GGN does not; the sharpest layer "
            f"was {sharpest[-1]} {where} (final top Hessian eigenvalue per layer: {per_layer}; "
            f"traces: {traces}).")


def run(out, quick: bool = False, seed: int = 0) -> dict:
    """Train, measure the four curvatures along the way and per layer, draw."""
    out = Path(out)
    n, steps, every = (300, 200, 50) if quick else (1797, 1200, 100)
    objective, theta0 = digits_task(n, seed)
    progress(f"training on {n} digits for {steps} steps, the four top eigenvalues and each "
             f"layer's every {every} steps")
    trajectory = runner.run(objective, theta0, gd(LR), steps, record_every=every,
                            metrics=metrics(seed))
    progress("each layer's top eigenvalue and trace at the end")
    tables = final_layers(objective, trajectory.final_theta, seed)
    numbers = measure(trajectory, tables)
    plot_curves(numbers, out)
    plot_layers(numbers, tables, out)
    return {"headline": headline(numbers), "conclusion": conclusion(numbers),
            "numbers": {"n_samples": n, "steps": steps, "lr": LR, "sizes": list(SIZES),
                        **numbers}}


if __name__ == "__main__":
    main(run, "curvature")
