"""The starting point decides where gradient descent ends.

The notes (1.3) say gradient descent "depends on the initial point": it rolls into
whichever minimum (or saddle) lies downhill. Two pictures of that:

- Himmelblau's function, which has four minima of equal value 0, four saddles and a
  maximum, with GD started from every point of a grid over ``[-5, 5]^2``: each run is
  matched to the critical point it ends at (``Runs.basins``), giving a basin map whose
  boundaries are the stable curves of the saddles. An interactive 3-D surface shows a
  sample of the runs rolling down.
- A 2-2-1 tanh network on the four XOR points, trained by GD from many random
  initializations (``run_many`` with ``model.init``): the final losses are not one number
  but distinct levels: most runs solve XOR, the others stall where some points get
  probability 1/2.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap

from landscape import MLP, gd, grid_starts, run_many
from landscape.functions import himmelblau
from landscape.hessian import min_eigenvalue
from landscape.plot import (
    add_colorbar,
    plot_contour,
    plot_critical_points,
    plot_trajectories,
    surface_figure,
)
from landscape.studies._shared import main, progress, save_page, save_png
from landscape.surface import plane, project

TITLE = "Initialization: which Himmelblau basin each start reaches, and XOR nets from many seeds"
FIGURES = {
    "basins.png": "Which minimum of Himmelblau's function GD reaches from each start of a grid",
    "trajectories.png": "16 of the runs on the function's contours",
    "surface.html": "The same runs on the function's surface in 3-D (height log10 f)",
    "xor_final_losses.png": "Final losses of a 2-2-1 tanh XOR net trained by the same GD from "
                            "many initializations",
}
BASIN_TOL = 1e-3  # a run "reached" a critical point when it ends this close to it
XOR_X = np.array([[-1.0, -1.0], [-1.0, 1.0], [1.0, -1.0], [1.0, 1.0]])
XOR_Y = np.array([0, 1, 1, 0])
# the light shades of C0..C3 (matplotlib's tab20): basin j is coloured as the runs into it
LIGHT = ("#aec7e8", "#ffbb78", "#98df8a", "#ff9896")


# ---------------------------------------------------------------------------------
# Himmelblau
# ---------------------------------------------------------------------------------


def himmelblau_runs(objective, num: int, seed: int):
    """GD from a ``num x num`` grid over the function's box until the gradient vanishes."""
    starts = grid_starts(objective.bounds, num)
    return run_many(objective, starts, gd(0.005), 3000, rng=seed, grad_tol=1e-7)


def basin_map(objective, runs, basins, num: int, out: Path) -> None:
    """The start grid coloured by the critical point reached, all critical points marked."""
    axis = np.linspace(*objective.bounds[0], num)
    minima = [i for i, k in enumerate(basins.kinds) if k == "minimum"]
    colors = ListedColormap(LIGHT[:len(minima)])  # light: the kinds' markers stand out
    grid = basins.labels.reshape(num, num).astype(float)  # ij: grid[i, j] at (x_i, y_j)
    fig, ax = plt.subplots(figsize=(6, 5.2))
    ax.pcolormesh(axis, axis, grid.T, cmap=colors, shading="nearest",
                  vmin=-0.5, vmax=len(minima) - 0.5)
    plot_critical_points(basins.centers, basins.kinds, ax=ax)
    for j in minima:
        x, y = basins.centers[j]
        ax.annotate(f"{basins.counts[j] / len(runs):.0%}", (x, y), textcoords="offset points",
                    xytext=(0, 9), ha="center", fontsize=9, weight="bold")
    ax.set_xlabel("x (start)")
    ax.set_ylabel("y (start)")
    ax.set_title(f"Himmelblau: the minimum GD reaches from each of {len(runs)} starts\n"
                 "(colour = basin, label = share of starts)")
    ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), fontsize=8)
    save_png(fig, out / "basins.png")


def trajectory_pictures(objective, runs, basins, resolution: int, out: Path) -> None:
    """A sample of runs on the function's surface: a contour PNG and an interactive HTML."""
    axes = np.eye(2)
    # a margin around the start grid's box, so the corner starts' markers are whole
    surface = plane(objective, np.zeros(2), axes, span=5.3, resolution=resolution)
    sample = np.linspace(0, len(runs) - 1, 16).astype(int)
    # ordered by basin, so the runs get the basin map's colours (C0, C1, ... by first label)
    sample = sample[np.argsort(basins.labels[sample], kind="stable")]
    projections = [project(runs[i], np.zeros(2), axes, label=_ending(basins, i))
                   for i in sample]
    fig, ax = plt.subplots(figsize=(6.6, 5.4))
    add_colorbar(plot_contour(surface, ax=ax, levels=30, log=True), label="f(x, y)")
    plot_trajectories(projections, ax=ax, linewidth=1.2)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=2, fontsize=8)
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title(f"Himmelblau: {len(sample)} GD runs (circle: start, star: end)")
    save_png(fig, out / "trajectories.png")
    figure = surface_figure(surface, projections, log=True,  # f spans four decades
                            title=f"Himmelblau's function and {len(sample)} GD runs")
    figure.update_layout(scene={"xaxis_title": "x", "yaxis_title": "y",
                                "zaxis_title": "log10 f"})
    save_page(figure, out / "surface.html")


def _ending(basins, i: int) -> str:
    """Where run ``i`` ended, for a legend."""
    j = basins.labels[i]
    if j < 0:
        return "to no critical point"
    return f"to the {basins.kinds[j]} at ({basins.centers[j][0]:.2f}, {basins.centers[j][1]:.2f})"


# ---------------------------------------------------------------------------------
# XOR networks
# ---------------------------------------------------------------------------------


def xor_runs(n_seeds: int, steps: int, seed: int):
    """GD on the four XOR points from ``n_seeds`` Glorot initializations of a 2-2-1 tanh net.

    Returns the runs, each run's final accuracy ``(m,)``, and for the runs that did not
    solve XOR the gradient norm and smallest Hessian eigenvalue where they stopped ``(s, 2)``.
    """
    model = MLP([2, 2, 1], activation="tanh", output="sigmoid", loss="cross_entropy")
    objective = model.objective(XOR_X, XOR_Y)
    runs = run_many(objective, n_seeds, gd(0.5), steps, init_fn=model.init, rng=seed,
                    record_every=steps)
    accuracy = np.array([objective.accuracy(theta) for theta in runs.final_thetas])
    stalled = [(float(np.linalg.norm(objective.grad(t))), min_eigenvalue(objective, t))
               for t, a in zip(runs.final_thetas, accuracy) if a < 1]
    return runs, accuracy, np.array(stalled).reshape(-1, 2)


def loss_histogram(losses, accuracy, out: Path) -> None:
    """Final losses on a log axis, stacked by final training accuracy."""
    bins = np.geomspace(losses.min() / 1.5, losses.max() * 1.5, 40)
    groups = sorted(set(accuracy.tolist()), reverse=True)
    fig, ax = plt.subplots(figsize=(6, 4))
    counts = [int(np.sum(accuracy == a)) for a in groups]
    ax.hist([losses[accuracy == a] for a in groups], bins=bins, stacked=True,
            label=[f"{c} run{'s' * (c != 1)} ending at accuracy {a:.2f}"
                   for c, a in zip(counts, groups)])
    ax.axvline(np.log(2) / 2, color="0.4", linestyle=":")
    ax.text(np.log(2) / 2 / 1.08, 0.7, "ln 2 / 2: two of the four\npoints at p = 1/2",
            transform=ax.get_xaxis_transform(), ha="right", va="top", fontsize=9)
    ax.set_xscale("log")
    ax.set_ylim(0, 1.45 * max(counts))
    ax.set_xlabel("final training loss (cross-entropy)")
    ax.set_ylabel("runs")
    ax.set_title(f"2-2-1 tanh net on XOR: {len(losses)} initializations, same GD")
    ax.legend(fontsize=9, loc="upper left")
    save_png(fig, out / "xor_final_losses.png")


# ---------------------------------------------------------------------------------
# The study
# ---------------------------------------------------------------------------------


def run(out, quick: bool = False, seed: int = 0) -> dict:
    """Run both experiments, draw, and return the numbers."""
    out = Path(out)
    f = himmelblau()
    num = 9 if quick else 41
    progress(f"GD from {num * num} starts on Himmelblau's function")
    runs = himmelblau_runs(f, num, seed)
    basins = runs.basins(f.critical_points, tol=BASIN_TOL)
    basin_map(f, runs, basins, num, out)
    trajectory_pictures(f, runs, basins, 40 if quick else 80, out)

    progress("XOR nets from many initializations")
    xor, accuracy, stalled = xor_runs(16 if quick else 100, 800 if quick else 2000, seed)
    losses = xor.final_losses
    loss_histogram(losses, accuracy, out)
    groups = sorted(set(accuracy.tolist()), reverse=True)

    minima = [i for i, k in enumerate(basins.kinds) if k == "minimum"]
    ended_at = [basins.kinds[j] if j >= 0 else "none" for j in basins.labels]
    numbers = {
        "n_starts": len(runs),
        "minimum_share": [float(basins.counts[j] / len(runs)) for j in minima],
        "minima": basins.centers[minima].tolist(),
        "runs_at_a_minimum": int(sum(k == "minimum" for k in ended_at)),
        "runs_elsewhere": int(sum(k != "minimum" for k in ended_at)),
        "max_distance_to_reached_point": float(np.max(np.linalg.norm(
            runs.final_thetas - basins.centers[basins.labels], axis=1))),
        "himmelblau_max_final_loss": float(runs.final_losses.max()),
        "xor_n_seeds": len(losses),
        "xor_final_loss_range": [float(losses.min()), float(losses.max())],
        "xor_loss_ratio": float(losses.max() / losses.min()),
        "xor_accuracy_groups": groups,
        "xor_group_count": [int(np.sum(accuracy == a)) for a in groups],
        "xor_group_median_loss": [float(np.median(losses[accuracy == a])) for a in groups],
        "xor_solved_share": float(np.mean(accuracy == 1.0)),
        "xor_stalled_grad_norm": stalled[:, 0].tolist(),
        "xor_stalled_min_eigenvalue": stalled[:, 1].tolist(),
    }
    return {"headline": headline(numbers), "conclusion": conclusion(numbers), "numbers": numbers}


def headline(numbers: dict) -> str:
    """The finding in one short sentence."""
    shares = ", ".join(f"{s:.0%}" for s in numbers["minimum_share"])
    return (f"GD from {numbers['n_starts']} starts on Himmelblau's function reached a minimum "
            f"in {numbers['runs_at_a_minimum']} runs, the four taking {shares}; the same GD "
            f"solved XOR from {numbers['xor_solved_share']:.0%} of {numbers['xor_n_seeds']} "
            f"initializations.")


def conclusion(numbers: dict) -> str:
    """One sentence from the measured numbers."""
    groups = numbers["xor_accuracy_groups"]
    shares = ", ".join(f"{s:.0%}" for s in numbers["minimum_share"])
    groups_text = ", ".join(
        f"{c} at accuracy {a:.2f} with median loss {v:.3g}" for a, c, v in
        zip(groups, numbers["xor_group_count"], numbers["xor_group_median_loss"]))
    return (
        f"GD from {numbers['n_starts']} grid starts on Himmelblau's function ended at a "
        f"minimum in {numbers['runs_at_a_minimum']} runs (others: {numbers['runs_elsewhere']}), "
        f"within {numbers['max_distance_to_reached_point']:.1e} of it, the four minima taking "
        f"{shares} of the starts; the same GD on a 2-2-1 tanh XOR net from "
        f"{numbers['xor_n_seeds']} seeds ended in {len(groups)} groups ({groups_text}; final "
        f"losses max/min {numbers['xor_loss_ratio']:.0f}){_stalled_text(numbers)}."
    )


def _stalled_text(numbers: dict) -> str:
    """What the runs that did not solve XOR stopped at, from the numbers."""
    if not numbers["xor_stalled_grad_norm"]:
        return ""
    lowest = np.array(numbers["xor_stalled_min_eigenvalue"])
    saddles = int(np.sum(lowest < 0))
    valleys = f" (lambda_min >= {lowest[lowest >= 0].min():.1e})" if saddles < lowest.size else ""
    return (f"; of the {lowest.size} that did not solve it (gradient norm <= "
            f"{max(numbers['xor_stalled_grad_norm']):.1e} at the end), {lowest.size - saddles} "
            f"sit in a valley without negative curvature{valleys} and {saddles} at a saddle")


if __name__ == "__main__":
    main(run, "initialization")
