"""Deep vs shallow: the same parameter budget spent on depth or on width, and vanishing gradients.

The notes (1.1.2) say that at the same number of parameters a deep network fits better than
a shallow one, and that very deep networks stop improving. Two measurements:

1. A ReLU network with one wide hidden layer and one with three narrow ones, of (almost) the
   same number of parameters (``MLP.n_params``), fit ``sin(5 pi x)`` on [-1, 1] (five
   periods) with Adam for the same number of steps from several seeds. A depth-k ReLU net
   can make exponentially many linear pieces (Montufar et al. 2014, Telgarsky 2016) while a
   one-hidden-layer net makes at most one per unit plus one; we count the pieces each
   trained network actually makes, as the changes of slope on a fine grid. Both nets start
   from the same init scheme (He weights), once with the library's zero biases (all of the
   shallow net's kinks then start at x = 0) and once with the first layer's biases drawn
   uniformly in [-1, 1] (kinks spread over the inputs), so the comparison does not hinge
   on that choice.
   Measured here: the deep net fits far better under both inits, yet with *fewer* linear
   pieces than the wide one (whose many kinks are mostly slight bends): trained deep nets
   do not use their exponential capacity for pieces (Hanin and Rolnick 2019); they place
   their pieces better. The advantage is not universal: in our sweeps at this budget with
   spread biases the wide net won on sin(8 pi x) and on Telgarsky's triangle wave composed
   four times, and narrow deep nets (width 4 to 8) often got stuck.
2. Sigmoid networks of 2 to 12 hidden layers at initialization: the gradient norm of each
   layer. Every sigmoid layer multiplies the backpropagated signal by ``sigma' <= 1/4``
   (times the weights), so the first layers' gradients vanish as depth grows.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from landscape import MLP, adam, kinks, layer_grad_norms, linear_pieces, runner
from landscape.schedules import cosine
from landscape.studies._shared import main, progress, save_png

TITLE = "Deep vs shallow at equal parameters, and vanishing gradients in deep sigmoid nets"
FIGURES = {
    "fits.png": "Deep-narrow and shallow-wide ReLU nets of (almost) equal size fitting the "
                "sine, with the kinks of each fit",
    "training.png": "Their training loss per seed, for each initialization of the biases",
    "vanishing_gradients.png": "The gradient norm of each layer of sigmoid nets of growing "
                               "depth at initialization",
}
PERIODS = 5  # the target is sin(PERIODS * pi * x) on [-1, 1]
SHALLOW, DEEP = [1, 198, 1], [1, 16, 16, 16, 1]  # 595 and 593 parameters
LR = 1e-2  # Adam's step, annealed to 0 by a cosine schedule
INITS = {"zero_bias": "zero biases", "spread_bias": "first-layer biases ~ U(-1, 1)"}
SIGMOID_DEPTHS, SIGMOID_WIDTH = (2, 4, 8, 12), 16
SLOPE_RTOL = 1e-6  # a slope change counts as a kink above this fraction of the largest slope
INTERVAL, RESOLUTION = (-1.0, 1.0), 20001  # the grid the pieces are counted (and drawn) on


def target(x: np.ndarray) -> np.ndarray:
    return np.sin(PERIODS * np.pi * x)


def initial(model: MLP, init: str, seed: int) -> np.ndarray:
    """He weights; zero biases, or first-layer biases uniform in [-1, 1] (``spread_bias``)."""
    rng = np.random.default_rng(seed)
    theta = model.init(rng=rng, scheme="he")
    if init == "spread_bias":
        first = model.blocks[0]
        theta[first.bias] = rng.uniform(-1.0, 1.0, first.n_filters)
    return theta


def fit(sizes, X, Y, init: str, seeds, steps: int) -> dict:
    """Train ``sizes`` from each seed; the runs, relative losses and pieces per seed."""
    progress(f"training {'-'.join(map(str, sizes))} ReLU nets ({INITS[init]}) from "
             f"{len(seeds)} seeds, {steps} steps")
    model = MLP(sizes, activation="relu")
    objective = model.objective(X, Y)
    runs = [runner.run(objective, initial(model, init, s), adam(cosine(LR, steps)), steps,
                       record_every=max(1, steps // 100)) for s in seeds]
    return {"model": model, "runs": runs,
            "loss": np.array([tr.final_loss for tr in runs]) / Y.var(),
            "pieces": np.array([linear_pieces(model, tr.final_theta, INTERVAL, RESOLUTION,
                                              SLOPE_RTOL) for tr in runs])}


def sigmoid_gradients(X, Y, seeds) -> dict:
    """Depth -> median over seeds of each layer's gradient norm at initialization."""
    out = {}
    for depth in SIGMOID_DEPTHS:
        model = MLP([1] + [SIGMOID_WIDTH] * depth + [1], activation="sigmoid")
        objective = model.objective(X, Y)
        norms = [layer_grad_norms(objective, model.init(rng=s)) for s in seeds]
        out[depth] = np.median(norms, axis=0)
    return out


def _net(f: dict) -> str:
    """``'1 x 198 ReLU'`` (hidden layers x width), for a legend."""
    hidden = f["model"].sizes[1:-1]
    return f"{len(hidden)} x {hidden[0]} ReLU"


def drawn_seed(f: dict) -> int:
    """The index of the run a figure shows: the one of median loss (the upper middle one
    for an even count)."""
    return int(np.argsort(f["loss"])[len(f["loss"]) // 2])


def plot_fits(fits: dict, X, Y, grid, seeds, out: Path) -> None:
    """The fit of the median-loss seed of each net, its kinks as ticks under the curves."""
    fig, axes = plt.subplots(1, len(INITS), figsize=(11, 5.2), layout="constrained",
                             sharey=True)
    for ax, (init, pair) in zip(axes, fits.items()):
        ax.plot(X[:, 0], Y[:, 0], "k.", markersize=3, label="training points")
        for k, (color, f) in enumerate(zip(("C0", "C1"), pair.values())):
            i = drawn_seed(f)
            theta = f["runs"][i].final_theta
            curve = f["model"].predict(theta, grid[:, None])[:, 0]
            ax.plot(grid, curve, color=color, label=f"{_net(f)} (seed {seeds[i]}): relative "
                    f"loss {f['loss'][i]:.3g}, {f['pieces'][i]} pieces")
            where = kinks(f["model"], theta, INTERVAL, RESOLUTION, SLOPE_RTOL)
            ax.plot(where, np.full(where.size, -1.35 - 0.12 * k), "|", color=color,
                    markersize=7)
        ax.set(xlabel="x", ylim=(-1.5, 1.3),
               title=f"{INITS[init]}\n(ticks below: where each fit's slope changes)")
        ax.legend(fontsize=9, loc="upper center", bbox_to_anchor=(0.5, -0.14))
    axes[0].set_ylabel(rf"$\sin({PERIODS}\pi x)$ and the fits")
    fig.suptitle(f"ReLU nets of (almost) equal size fitting sin({PERIODS}πx): the seed of "
                 f"median loss of {len(seeds)} (relative loss: MSE / variance of the target)")
    save_png(fig, out / "fits.png")


def plot_training(fits: dict, variance: float, out: Path) -> None:
    fig, axes = plt.subplots(1, len(INITS), figsize=(11, 4.4), layout="constrained",
                             sharey=True)
    for ax, (init, pair) in zip(axes, fits.items()):
        for color, (name, f) in zip(("C0", "C1"), pair.items()):
            for j, tr in enumerate(f["runs"]):
                label = f"{name}: {_net(f)}, {f['model'].n_params} parameters"
                ax.plot(tr.steps, tr.loss / variance, color=color, alpha=0.6,
                        label=label if j == 0 else None)
        ax.set(yscale="log", xlabel="Adam step", title=f"Training loss per seed, {INITS[init]}")
    axes[0].set_ylabel("MSE / variance of the target")
    fig.legend(handles=axes[0].lines[::len(fits["zero_bias"]["shallow"]["runs"])],
               loc="outside lower center", ncols=2, fontsize=9)
    save_png(fig, out / "training.png")


def plot_vanishing(grads: dict, n_points: int, n_seeds: int, out: Path) -> None:
    fig, ax = plt.subplots(figsize=(6.4, 4.4), layout="constrained")
    for depth, norms in grads.items():
        ax.plot(np.arange(1, len(norms) + 1), np.log10(norms), "o-", label=f"{depth} hidden layers")
    ax.set(xlabel="layer (1 = the first weights, from the input)",
           ylabel=r"$\log_{10}$ gradient norm of the layer",
           title=f"Sigmoid nets (width {SIGMOID_WIDTH}) at initialization:\n"
                 f"gradient of the MSE on the {n_points} points of sin({PERIODS}πx), "
                 f"median of {n_seeds} seeds")
    ax.legend(loc="lower right")
    save_png(fig, out / "vanishing_gradients.png")


def summarize(fits: dict, grads: dict, seeds) -> dict:
    numbers = {"shallow_sizes": SHALLOW, "deep_sizes": DEEP}
    for name, sizes in (("shallow", SHALLOW), ("deep", DEEP)):
        numbers[f"{name}_n_params"] = MLP(sizes).n_params
        numbers[f"{name}_hidden_units"] = sum(sizes[1:-1])
    numbers["param_difference"] = (abs(numbers["shallow_n_params"] - numbers["deep_n_params"])
                                   / numbers["deep_n_params"])
    for init, pair in fits.items():
        for name, f in pair.items():
            numbers[f"{init}_{name}_relative_loss"] = f["loss"].tolist()
            numbers[f"{init}_{name}_median_relative_loss"] = float(np.median(f["loss"]))
            numbers[f"{init}_{name}_pieces"] = f["pieces"].tolist()
            numbers[f"{init}_{name}_median_pieces"] = float(np.median(f["pieces"]))
            numbers[f"{init}_{name}_drawn_seed"] = seeds[drawn_seed(f)]
    numbers["sigmoid_depths"] = list(SIGMOID_DEPTHS)
    numbers["sigmoid_first_layer_grad"] = [float(grads[d][0]) for d in SIGMOID_DEPTHS]
    numbers["sigmoid_last_layer_grad"] = [float(grads[d][-1]) for d in SIGMOID_DEPTHS]
    first = numbers["sigmoid_first_layer_grad"]
    numbers["sigmoid_first_layer_deepest_over_shallowest"] = first[-1] / first[0]
    return numbers


def headline(n: dict) -> str:
    """The finding in one short sentence."""
    deep, shallow = (n[f"spread_bias_{k}_median_relative_loss"] for k in ("deep", "shallow"))
    return (f"At equal size the deep ReLU net leaves {deep:.2g} of the sine's variance "
            f"unexplained, the shallow one {shallow:.2g}; in sigmoid nets the first layer's "
            f"gradient with {SIGMOID_DEPTHS[-1]} hidden layers is "
            f"{n['sigmoid_first_layer_deepest_over_shallowest']:.1e} times that with "
            f"{SIGMOID_DEPTHS[0]}.")


def conclusion(n: dict) -> str:
    loss = {k: n[f"spread_bias_{k}_median_relative_loss"] for k in ("deep", "shallow")}
    zero = {k: n[f"zero_bias_{k}_median_relative_loss"] for k in ("deep", "shallow")}
    pieces = {k: n[f"spread_bias_{k}_median_pieces"] for k in ("deep", "shallow")}
    better = "below" if loss["deep"] < loss["shallow"] else "not below"
    more = "more" if pieces["deep"] > pieces["shallow"] else "fewer" if (
        pieces["deep"] < pieces["shallow"]) else "as many"
    first = n["sigmoid_first_layer_grad"]
    return (f"With {n['deep_n_params']} vs {n['shallow_n_params']} parameters, the median "
            f"unexplained variance of sin({PERIODS} pi x) after training is "
            f"{loss['deep']:.3g} for {len(DEEP) - 2} hidden layers of {DEEP[1]}, {better} "
            f"{loss['shallow']:.3g} for one of {n['shallow_hidden_units']} (with zero initial "
            f"biases {zero['deep']:.3g} vs {zero['shallow']:.3g}), while the deep net makes "
            f"{more} linear pieces ({pieces['deep']:g} vs {pieces['shallow']:g}, medians); in "
            f"sigmoid nets at initialization the first layer's gradient norm falls from "
            f"{first[0]:.2g} with {SIGMOID_DEPTHS[0]} hidden layers to {first[-1]:.2g} with "
            f"{SIGMOID_DEPTHS[-1]} ({n['sigmoid_first_layer_deepest_over_shallowest']:.1e} "
            f"times).")


def run(out, quick: bool = False, seed: int = 0) -> dict:
    """Fit the shallow and the deep net from several seeds; measure sigmoid gradients."""
    out = Path(out)
    n_points, steps, n_seeds = (100, 1500, 3) if quick else (200, 6000, 8)
    X = np.linspace(-1.0, 1.0, n_points)[:, None]
    Y = target(X)
    grid = np.linspace(*INTERVAL, RESOLUTION)
    seeds = [seed + i for i in range(n_seeds)]
    fits = {init: {name: fit(sizes, X, Y, init, seeds, steps)
                   for name, sizes in (("shallow", SHALLOW), ("deep", DEEP))}
            for init in INITS}
    progress("the layers' gradients in sigmoid nets at initialization")
    grads = sigmoid_gradients(X, Y, seeds)
    plot_fits(fits, X, Y, grid, seeds, out)
    plot_training(fits, float(Y.var()), out)
    plot_vanishing(grads, n_points, n_seeds, out)
    numbers = summarize(fits, grads, seeds)
    return {"headline": headline(numbers), "conclusion": conclusion(numbers), "numbers": numbers}


if __name__ == "__main__":
    main(run, "depth")
