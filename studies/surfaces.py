"""What the loss surface of a trained digits classifier looks like around its minimum.

The notes (1.2-1.3) train a digit recognizer with a softmax output by gradient descent on
a very high-dimensional parameter set. Here a 64-32-10 tanh network (2,410 parameters) is
trained with Adam on the 8x8 digits, and its loss is drawn on planes through the solution:

- along two filter-normalized directions (Li et al. 2018): every neuron's incoming
  weights of a Gaussian direction get the norm of that neuron's weights at the solution,
  so the picture's scale follows the network's own (biases stay put);
- along the same Gaussian draw normalized as a whole instead (orthonormal, then scaled
  to the filter-normalized directions' length), so the two differ only in how the
  length is shared out;
- along the top two Hessian eigenvectors (Lanczos on the exact HVPs), the most curved
  plane there is.

The curvature each plane sees is measured exactly: the Rayleigh quotient ``d.H d / |d|^2``
of each direction against the top eigenvalue. The planes are drawn in parameter-space
distance (each axis times its direction's length) on one colour scale, and the loss along
each plane's first axis beside the second-order model its curvature gives. Then the
straight line from the
initialization to the solution (Goodfellow, Vinyals and Saxe 2015), with loss and
accuracy: does the loss fall monotonically along it?
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from landscape import MLP, adam, filter_norms, runner
from landscape.data import digits
from landscape.directions import (
    filter_normalized_directions,
    hessian_directions,
    random_directions,
)
from landscape.hessian import eigenpairs, hessian_operator
from landscape.plot import (
    add_colorbar,
    plot_contour,
    plot_line,
    plot_line_metric,
    surface_figure,
)
from landscape.studies._shared import accuracy_metric, main, progress, save_page, save_png
from landscape.surface import curve, line, plane

TITLE = "A digits MLP's loss around its minimum: random, filter-normalized, Hessian planes"
FIGURES = {
    "contours.png": "The loss on random, filter-normalized and top-Hessian planes through the "
                    "trained network, at parameter-space distance, on one colour scale",
    "slices.png": "The loss along each plane's first axis",
    "surface_filter.html": "The filter-normalized plane in 3-D",
    "surface_random.html": "The random plane in 3-D",
    "interpolation.png": "Loss and accuracy on the straight line from the initialization to "
                         "the solution",
}
NAMES = {"random": "random (same length)", "filter": "filter-normalized",
         "hessian": "top-2 Hessian eigenvectors"}
HESSIAN_RISE = 4.5  # the Hessian plane reaches where lambda_1 alpha^2 / 2 is this many nats


def train(quick: bool, seed: int):
    """The objective, the initialization and the trained parameters (Adam, full batch)."""
    X, y = digits()
    if quick:
        X, y = X[:300], y[:300]
    model = MLP([64, 32, 10], activation="tanh", output="softmax", loss="cross_entropy")
    objective = model.objective(X, y)
    theta0 = model.init(seed)
    trajectory = runner.run(objective, theta0, adam(0.01), 150 if quick else 500,
                            record_every=50)
    return objective, theta0, trajectory.final_theta


def make_directions(objective, theta, seed: int) -> dict:
    """Two directions of each kind; the random ones scaled to the filter-normalized lengths."""
    spectrum = eigenpairs(hessian_operator(objective, theta), k=2, which="LA", rng=seed)
    filtered = filter_normalized_directions(objective, theta, k=2, rng=seed)
    lengths = np.linalg.norm(filtered.vectors, axis=1, keepdims=True)
    rand = random_directions(objective, theta, k=2, rng=seed)  # the same Gaussian draw
    rand = rand._replace(vectors=rand.vectors * lengths,
                         meta={**rand.meta, "length": lengths.ravel().tolist()})
    return {"random": rand, "filter": filtered, "hessian": hessian_directions(spectrum)}


def rayleigh(objective, theta, d: np.ndarray) -> float:
    """The curvature along ``d``: ``d.H d / |d|^2`` (one exact HVP)."""
    return float(d @ objective.hvp(theta, d) / (d @ d))


def filter_norm_error(objective, theta, d: np.ndarray) -> float:
    """Largest relative gap between a filter's norm in ``d`` and at ``theta``, over all filters."""
    gaps = [np.abs(ours - theirs) / theirs
            for ours, theirs in zip(filter_norms(objective, d), filter_norms(objective, theta))]
    return float(np.max(np.concatenate(gaps)))


def planes(objective, theta, directions: dict, resolution: int) -> dict:
    """The loss on each kind's plane: span 1 (one direction length) for random and filter,
    out to a rise of ``HESSIAN_RISE`` nats along the top eigenvector for the Hessian."""
    top = directions["hessian"].meta["eigenvalues"][0]
    spans = {"random": 1.0, "filter": 1.0, "hessian": np.sqrt(2 * HESSIAN_RISE / top)}
    return {name: plane(objective, theta, d, span=spans[name], resolution=resolution)
            for name, d in directions.items()}


def rise_at_edge(surface) -> float:
    """Mean loss rise from the centre to the four ends of the axes (``+-span`` on each)."""
    mid = len(surface.axes[0]) // 2
    v = surface.values
    return float(np.mean([v[0, mid], v[-1, mid], v[mid, 0], v[mid, -1]]) - v[mid, mid])


def in_distance(surface):
    """``surface`` with its coordinates in parameter-space distance: each axis times the
    length of its direction (the random and filter directions are about 30 long, the
    Hessian's unit eigenvectors 1)."""
    lengths = np.linalg.norm(surface.directions, axis=1)
    return dataclasses.replace(surface, axes=tuple(a * n for a, n in zip(surface.axes, lengths)))


def draw_planes(surfaces: dict, curvature: dict, out: Path) -> None:
    """Contours of the three planes in parameter-space distance on one colour scale, each
    with the curvature along its axes; the interactive 3-D pages of random and filter."""
    values = np.concatenate([s.values.ravel() for s in surfaces.values()])
    levels = np.geomspace(np.nanmin(values), np.nanmax(values), 30)
    fig, axes = plt.subplots(1, 3, figsize=(13.5, 4.6), layout="constrained")
    for ax, (name, surface) in zip(axes, surfaces.items()):
        artist = plot_contour(in_distance(surface), ax=ax, levels=levels, log=True)
        ax.plot([0], [0], "r*", markersize=12)
        lengths = np.linalg.norm(surface.directions, axis=1)
        ax.set_xlabel(f"distance along {_axis_name(surface, 0, lengths[0])}")
        ax.set_ylabel(f"distance along {_axis_name(surface, 1, lengths[1])}")
        ax.set_title(f"{NAMES[name]}\ncurvature along the axes: "
                     + ", ".join(f"{c:.2g}" for c in curvature[name]), fontsize=11)
        ax.set_aspect("equal")
    add_colorbar(artist, ax=axes, label="training loss (one scale for all three)")
    fig.suptitle("Digits MLP 64-32-10: the loss on three planes through the solution (star); "
                 r"curvature: $d^T H d / |d|^2$")
    save_png(fig, out / "contours.png")
    for name in ("random", "filter"):
        save_page(surface_figure(surfaces[name], title=f"Digits MLP: {NAMES[name]} plane"),
                  out / f"surface_{name}.html")


def _axis_name(surface, i: int, length: float) -> str:
    """What axis ``i`` of a plane runs along, for a label."""
    eigenvalues = surface.meta.get("eigenvalues")
    if eigenvalues:
        return f"eigenvector {i + 1} (eigenvalue {eigenvalues[i]:.3g})"
    return f"direction {i + 1} (length {length:.1f})"


def draw_slices(objective, theta, surfaces: dict, curvature: dict, resolution: int,
                out: Path) -> None:
    """The loss along each plane's first axis (as far as the plane reaches) against distance
    from the solution, with the second-order model that the curvature along it gives."""
    loss, grad = objective.loss_and_grad(theta)
    fig, ax = plt.subplots(figsize=(6.8, 5), layout="constrained")
    for color, (name, surface) in zip(("C0", "C1", "C2"), surfaces.items()):
        d = surface.directions[0]
        along = line(objective, theta, d, span=surface.axes[0][-1], resolution=resolution)
        t = along.axes[0] * np.linalg.norm(d)
        ax.plot(t, along.values, color=color, label=NAMES[name])
        slope = grad @ d / np.linalg.norm(d)
        ax.plot(t, loss + slope * t + 0.5 * curvature[name][0] * t**2, ":", color=color,
                label=f"second order, curvature {curvature[name][0]:.2g}")
    ax.set(yscale="log", xlabel="distance from the solution along the plane's first axis",
           ylabel="training loss", ylim=(0.5 * loss, None),
           title="Loss along each plane's first axis: at the same distance,\n"
                 "far steeper along the top Hessian eigenvector")
    fig.legend(loc="outside lower center", ncols=3, fontsize=9)
    save_png(fig, out / "slices.png")


def draw_interpolation(path, out: Path) -> None:
    """Loss and accuracy along the straight line from the initialization to the solution."""
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    plot_line(path, ax=ax, log=True, color="C0", label="training loss")
    ax.set_xlabel("t: (1 - t) initialization + t solution")
    twin = ax.twinx()
    plot_line_metric(path, "accuracy", ax=twin, color="C1", label="training accuracy")
    twin.set_ylim(0, 1.02)
    ax.legend(handles=ax.lines + twin.lines, loc="lower center")
    ax.set_title("From initialization to solution in a straight line")
    save_png(fig, out / "interpolation.png")


def run(out, quick: bool = False, seed: int = 0) -> dict:
    """Train, evaluate the planes and the interpolation, draw; return the numbers."""
    out = Path(out)
    progress("training the digits MLP")
    objective, theta0, theta = train(quick, seed)
    progress("directions and the loss on three planes")
    directions = make_directions(objective, theta, seed)
    surfaces = planes(objective, theta, directions, 11 if quick else 31)
    curvature = {n: [rayleigh(objective, theta, v) for v in d.vectors]
                 for n, d in directions.items()}
    draw_planes(surfaces, curvature, out)
    draw_slices(objective, theta, surfaces, curvature, 41 if quick else 101, out)
    path = curve(objective, theta0, theta, resolution=21 if quick else 51,
                 metrics={"accuracy": accuracy_metric})
    draw_interpolation(path, out)

    center = float(objective.loss(theta))
    lambdas = directions["hessian"].meta["eigenvalues"]
    numbers = {
        "n_params": objective.dim,
        "center_loss": center,
        "center_accuracy": objective.accuracy(theta),
        "center_grad_norm": float(np.linalg.norm(objective.grad(theta))),
        "plane_min_minus_center": {n: float(np.nanmin(s.values)) - center
                                   for n, s in surfaces.items()},
        "plane_argmin_is_center": {n: bool(np.nanargmin(s.values) == s.values.size // 2)
                                   for n, s in surfaces.items()},
        "direction_length": float(np.linalg.norm(directions["filter"].vectors[0])),
        "theta_weight_norm": float(np.sqrt(sum(np.sum(theta[b.weight] ** 2)
                                               for b in objective.blocks))),
        "rise_at_edge": {n: rise_at_edge(s) for n, s in surfaces.items()},
        "hessian_span": float(surfaces["hessian"].axes[0][-1]),
        "curvature_along": curvature,
        "top_eigenvalues": lambdas,
        "filter_norm_max_relative_error": max(filter_norm_error(objective, theta, v)
                                              for v in directions["filter"].vectors),
        "filter_bias_entries_max": float(max(np.abs(v[b.bias]).max()
                                             for v in directions["filter"].vectors
                                             for b in objective.blocks)),
        "interpolation_loss": [float(path.values[0]), float(path.values[-1])],
        "interpolation_accuracy": [float(path.metrics["accuracy"][i]) for i in (0, -1)],
        "interpolation_increases": int(np.sum(np.diff(path.values) > 0)),
        "interpolation_points": int(path.values.size),
        "interpolation_barrier": path.barrier,
    }
    return {"headline": headline(numbers), "conclusion": conclusion(numbers), "numbers": numbers}


def headline(n: dict) -> str:
    """The finding in one short sentence."""
    lowest = sum(n["plane_argmin_is_center"].values())
    curvature = max(np.mean(n["curvature_along"][k]) for k in ("random", "filter"))
    return (f"The trained digits MLP is the lowest point of {lowest} of the 3 planes; random "
            f"and filter-normalized directions see 1/{n['top_eigenvalues'][0] / curvature:.0f} "
            f"or less of the top Hessian eigenvalue {n['top_eigenvalues'][0]:.2g}.")


def conclusion(n: dict) -> str:
    """The finding, from the measured numbers."""
    lowest = [k for k, v in n["plane_argmin_is_center"].items() if v]
    where = (f"the lowest grid point of {len(lowest)} of the 3 planes ({', '.join(lowest)})"
             if lowest else "the lowest grid point of none of the planes")
    curv = {k: np.mean(v) for k, v in n["curvature_along"].items()}
    return (
        f"The trained {n['n_params']}-parameter digits MLP (loss {n['center_loss']:.2g}, "
        f"accuracy {n['center_accuracy']:.3f}) is {where}; "
        f"at one direction length ({n['direction_length']:.1f}) the loss rises by "
        f"{n['rise_at_edge']['random']:.2f} along random and "
        f"{n['rise_at_edge']['filter']:.2f} along filter-normalized directions, whose "
        f"curvatures d.Hd/|d|^2 ({curv['random']:.2g} and {curv['filter']:.2g}) are "
        f"1/{n['top_eigenvalues'][0] / max(curv['random'], curv['filter']):.0f} or less of the "
        f"top Hessian eigenvalue {n['top_eigenvalues'][0]:.3g} that the eigenvector plane "
        f"shows; the straight line from initialization to solution takes the loss from "
        f"{n['interpolation_loss'][0]:.2f} to {n['interpolation_loss'][1]:.2g} with "
        f"{n['interpolation_increases']} increases in {n['interpolation_points'] - 1} steps "
        f"(accuracy {n['interpolation_accuracy'][0]:.2f} to {n['interpolation_accuracy'][1]:.2f})."
    )


if __name__ == "__main__":
    main(run, "surfaces")
