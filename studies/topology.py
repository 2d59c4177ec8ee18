"""How many minima a loss landscape shows, how deep they are, and which of them are noise.

The notes (1.3) say gradient descent can stop in local minima. A contour plot shows bumps
but not which are basins and which are ripples; sublevel-set persistence says it: each
local minimum of the sampled loss is born at its loss and dies where its basin spills into
a deeper one, and its *persistence* (depth) is the difference. Here a 64-16-10 tanh network
is trained on 1,000 of the 8x8 digits, and its loss is sampled on planes through the
solution along random, filter-normalized (Li et al. 2018) and top-2 Hessian directions,
reaching about ten nats above the minimum at their edges (the Hessian plane far out, where
its curvature no longer rules), and on a grid in the top 3 Hessian directions over half
that span (its cost grows as the cube of the resolution) at two resolutions: a minimum the
finer grid does not confirm was the coarse grid's own.

The loss is a mean over samples, so it has a noise scale of its own: evaluated on two
random halves of the data, the two planes differ by ``L_A - L_B``, whose mean square over
the plane is about 4 var(L) (each half has twice the variance of the whole). A basin's
depth is a difference of two losses, each noisy by ``sigma = rms(L_A - L_B) / 2``; the
threshold is three standard deviations of such a difference, ``3 sqrt(2) sigma``, and a
basin counts when it is deeper.

The same rule on Himmelblau's function, where the answer is known (4 minima joined at the
saddle values 13.31, 67.72 and 104.02), sampled with Gaussian noise of known size in two
"halves": the count above the threshold must be 4, and the merge tree's deaths the saddles.
Last, the merge tree's basins of the noise-free function (steepest descent on the grid)
against the minimum that gradient descent reaches from a grid of starts (``run_many``).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import ListedColormap

from landscape import (
    MLP,
    adam,
    basins,
    eigenpairs,
    filter_normalized_directions,
    gd,
    grid,
    grid_starts,
    hessian_directions,
    hessian_operator,
    merge_tree,
    plane,
    random_directions,
    run_many,
    runner,
)
from landscape.data import digits
from landscape.functions import himmelblau
from landscape.plot import (
    add_colorbar,
    plot_contour,
    plot_merge_tree,
    plot_merge_tree_on_plane,
    plot_persistence_diagram,
)
from landscape.studies._shared import main, progress, save_png
from landscape.vocabulary import MINIMUM, SADDLE

TITLE = "Topology: how many minima planes through a digits MLP show, and which are noise"
FIGURES = {
    "contours.png": "Every sampled minimum of each plane (grey dots), the ones deeper than the "
                    "noise threshold and the saddles where their basins join, with its loss",
    "persistence.png": "Each basin as a point (birth, death): its depth is its height above the "
                       "diagonal; the dashed line is the noise threshold",
    "merge_trees.png": "Which basin joins which at what loss: the far Hessian plane's many "
                       "shallow minima, and Himmelblau's four under the noise",
    "basins.png": "Himmelblau: the merge tree's basins (steepest descent on the grid) and the "
                  "minimum gradient descent reached from each start",
}
NAMES = {"random": "random", "filter": "filter-normalized", "hessian": "top-2 Hessian"}
SPAN = {"random": 2.0, "filter": 2.0, "hessian": 8.0}  # in direction lengths (see below)
CUBE_SPAN = 4.0  # the grid in 3 Hessian directions: half the plane's span (cost r^3)
N_SAMPLES = 1000  # digits used (300 in the quick run)
HESSIAN_UNIT = 4.5  # the Hessian's unit length: lambda_1 alpha^2 / 2 rises this many nats
SIGMAS = 3.0  # a basin counts when deeper than this many sd of a difference of two losses
HIMMELBLAU_NOISE = 1.0  # sd of the noise added to Himmelblau's function
BASIN_COLORS = ("#aec7e8", "#ffbb78", "#98df8a", "#ff9896")  # light C0..C3


# ---------------------------------------------------------------------------------
# The digits network and its noise scale
# ---------------------------------------------------------------------------------


def train(quick: bool, seed: int):
    """The objective, its two halves (a random split of the samples) and the solution."""
    X, y = digits()
    X, y = X[:300 if quick else N_SAMPLES], y[:300 if quick else N_SAMPLES]
    model = MLP([64, 16, 10], activation="tanh", output="softmax", loss="cross_entropy")
    objective = model.objective(X, y)
    order = np.random.default_rng(seed).permutation(len(X))
    halves = (objective.subset(order[::2]), objective.subset(order[1::2]))
    theta = runner.run(objective, model.init(seed), adam(0.01), 150 if quick else 300).final_theta
    return objective, halves, theta


def make_directions(objective, theta, seed: int):
    """Two random (scaled to the filter-normalized lengths), two filter-normalized and the
    top 3 Hessian directions, with each kind's unit length."""
    spectrum = eigenpairs(hessian_operator(objective, theta), k=3, which="LA", rng=seed)
    hessian = hessian_directions(spectrum)
    filtered = filter_normalized_directions(objective, theta, k=2, rng=seed)
    lengths = np.linalg.norm(filtered.vectors, axis=1, keepdims=True)
    rand = random_directions(objective, theta, k=2, rng=seed)
    rand = rand._replace(vectors=rand.vectors * lengths,
                         meta={**rand.meta, "length": lengths.ravel().tolist()})
    unit = float(np.sqrt(2 * HESSIAN_UNIT / hessian.meta["eigenvalues"][0]))
    return {"random": (rand, 1.0), "filter": (filtered, 1.0), "hessian": (hessian, unit)}


def with_noise_scale(sampler, objective, halves) -> dict:
    """A surface of the whole objective, the noise sd ``sigma`` of its values from the two
    halves' surfaces, the threshold ``3 sqrt(2) sigma`` and the merge tree."""
    surface = sampler(objective)
    a, b = (sampler(h).values for h in halves)
    sigma = float(np.sqrt(np.nanmean((a - b) ** 2)) / 2)
    return {"surface": surface, "sigma": sigma, "threshold": SIGMAS * np.sqrt(2) * sigma,
            "tree": merge_tree(surface)}


def summary(part: dict) -> dict:
    """The numbers of one sampled surface."""
    tree, threshold = part["tree"], part["threshold"]
    finite = np.sort(tree.persistence[np.isfinite(tree.persistence)])[::-1]
    deep = tree.persistence > threshold
    return {"points": int(part["surface"].values.size), "minima": tree.count(0.0),
            "noise_sd": part["sigma"], "threshold": threshold,
            "above_threshold": int(deep.sum()),
            "above_threshold_inside": int(np.sum(deep & ~tree.on_edge)),
            "on_edge": int(np.sum(tree.on_edge & (tree.persistence > 0))),
            "deepest_finite": [float(p) for p in finite[:5]],
            "edge_loss": float(np.nanmax(part["surface"].values) - np.nanmin(
                part["surface"].values))}


def refined(part: dict) -> dict:
    """The counts of the same grid at a finer resolution, with the coarse one's threshold:
    minima of the coarse grid that were only its coarseness are gone."""
    tree, threshold = part["refined"], part["threshold"]
    deep = tree.persistence > threshold
    return {"resolution": int(tree.shape[0]), "minima": tree.count(0.0),
            "above_threshold": int(deep.sum()),
            "above_threshold_inside": int(np.sum(deep & ~tree.on_edge))}


# ---------------------------------------------------------------------------------
# Himmelblau, where the answer is known
# ---------------------------------------------------------------------------------


def noisy_himmelblau(resolution: int, seed: int) -> dict:
    """Himmelblau on [-5, 5]^2 as two noisy "halves" (noise sd ``HIMMELBLAU_NOISE sqrt 2``
    each) and their mean, with the noise scale and threshold estimated as for the network."""
    f = himmelblau()
    clean = plane(f, np.zeros(2), np.eye(2), span=5.0, resolution=resolution)
    rng = np.random.default_rng(seed)
    halves = [clean.values + rng.normal(0.0, HIMMELBLAU_NOISE * np.sqrt(2), clean.values.shape)
              for _ in range(2)]
    noisy = dataclasses.replace(clean, values=(halves[0] + halves[1]) / 2,
                                meta={**clean.meta, "noise_sd": HIMMELBLAU_NOISE})
    sigma = float(np.sqrt(np.mean((halves[0] - halves[1]) ** 2)) / 2)
    shifted = dataclasses.replace(clean, values=clean.values + 1.0)  # > 0 on a log scale
    return {"f": f, "clean": clean, "surface": noisy, "sigma": sigma,
            "drawn": (shifted, "f + 1 (the function without its noise)"),
            "threshold": SIGMAS * np.sqrt(2) * sigma, "tree": merge_tree(noisy)}


def himmelblau_numbers(part: dict) -> dict:
    """The noisy tree's minima and deaths against the analytic ones, and the clean count."""
    f, tree = part["f"], part["tree"]
    keep = tree.persistence > part["threshold"]
    minima = np.array([p.theta for p in f.critical_points if p.kind == MINIMUM])
    saddles = sorted(p.loss for p in f.critical_points if p.kind == SADDLE)
    step = float(part["clean"].axes[0][1] - part["clean"].axes[0][0])
    distance = [float(np.min(np.linalg.norm(minima - m, axis=1))) for m in tree.minima[keep]]
    deaths = np.sort(tree.death[keep & np.isfinite(tree.death)])
    return {**summary(part), "grid_step": step, "clean_minima": merge_tree(part["clean"]).count(),
            "clean_above_threshold": merge_tree(part["clean"]).count(part["threshold"]),
            "minimum_distance_max": max(distance), "deaths": deaths.tolist(),
            "saddle_values": saddles[:len(deaths)], "highest_saddle": saddles[-1]}


def basin_shares(part: dict, num: int, seed: int) -> dict:
    """The clean function's merge-tree basins against the minima GD reaches from a grid of
    ``num x num`` starts: shares of each minimum (matched by position), and agreement."""
    f, clean = part["f"], part["clean"]
    found = basins(clean, threshold=part["threshold"])
    minima = [p for p in f.critical_points if p.kind == MINIMUM]
    runs = run_many(f, grid_starts(f.bounds, num), gd(0.005), 2000, rng=seed, grad_tol=1e-6)
    reached = runs.basins(minima, tol=1e-2)
    match = np.array([np.argmin([np.linalg.norm(c - m.theta) for m in minima])
                      for c in found.centers])
    tree_at_start = np.array([found.labels[np.argmin(np.linalg.norm(clean.coords() - s,
                                                                    axis=1))]
                              for s in runs.starts])
    return {"tree": found, "runs": runs, "reached": reached, "match": match,
            "tree_shares": (found.counts / found.counts.sum()).tolist(),
            "run_shares": (reached.counts[match] / len(runs)).tolist(),
            "agreement": float(np.mean(match[tree_at_start] == reached.labels)),
            "unreached": int(np.sum(reached.labels < 0))}


# ---------------------------------------------------------------------------------
# Figures
# ---------------------------------------------------------------------------------


def _all_minima(ax, tree) -> None:
    ax.scatter(tree.minima[:, 0], tree.minima[:, 1], s=6, c="0.85", edgecolors="0.3",
               linewidths=0.3, zorder=2, label="every sampled minimum")


def draw_contours(parts: dict, out: Path) -> None:
    """The four planes with every sampled minimum and the persistent ones with their
    saddles; one legend below."""
    fig, axes = plt.subplots(2, 2, figsize=(11, 9.6))
    for ax, part in zip(axes.ravel(), parts.values()):
        tree, count = part["tree"], part["tree"].count(0.0)
        drawn, label = part.get("drawn", (part["surface"], "loss"))
        add_colorbar(plot_contour(drawn, ax=ax, levels=30, log=True), label=label)
        _all_minima(ax, tree)
        plot_merge_tree_on_plane(tree, ax=ax, threshold=part["threshold"])
        ax.set_title(f"{part['title']}: {count} {'minimum' if count == 1 else 'minima'}, "
                     f"{tree.count(part['threshold'])} deeper than {part['threshold']:.2g}",
                     fontsize=10)
    handles, labels = axes[0, 0].get_legend_handles_labels()
    fig.legend(handles, ["every sampled minimum", "minimum deeper than the noise threshold",
                         "saddle where its basin joins a deeper one (loss)"][:len(labels)],
               loc="lower center", ncol=3)
    fig.suptitle("Local minima of the sampled loss and the saddles where their basins join")
    fig.tight_layout(rect=(0, 0.04, 1, 0.97))
    save_png(fig, out / "contours.png")


def draw_persistence(parts: dict, out: Path) -> None:
    """Each surface's persistence diagram with its noise threshold."""
    fig, axes = plt.subplots(2, 2, figsize=(10, 9))
    for ax, part in zip(axes.ravel(), parts.values()):
        plot_persistence_diagram(part["tree"], ax=ax, threshold=part["threshold"])
        ax.legend(loc="lower right", fontsize=9)
        ax.set_title(part["title"], fontsize=10)
    fig.suptitle("Persistence diagrams: a basin is a point, its depth the height above the\n"
                 "diagonal; grey ones are within the noise")
    fig.tight_layout()
    save_png(fig, out / "persistence.png")


def draw_trees(parts: dict, out: Path) -> None:
    """The merge trees of the far Hessian plane and of the noisy Himmelblau function."""
    fig, axes = plt.subplots(1, len(parts), figsize=(5 * len(parts), 4.8))
    for ax, part in zip(axes, parts.values()):
        plot_merge_tree(part["tree"], ax=ax, threshold=part["threshold"])
        ax.set_title(part["title"], fontsize=10)
    fig.legend(*axes[0].get_legend_handles_labels(), loc="lower center", ncol=2)
    fig.suptitle("Merge trees: which basin joins which, at what loss (grey: within the noise)")
    fig.tight_layout(rect=(0, 0.1, 1, 1))
    save_png(fig, out / "merge_trees.png")


def draw_basins(part: dict, shares: dict, out: Path) -> None:
    """The merge tree's basins of Himmelblau's function, the GD starts coloured by the
    minimum they reached."""
    clean, found, reached = part["clean"], shares["tree"], shares["reached"]
    fig, ax = plt.subplots(figsize=(6.6, 5.6))
    labels = found.labels.reshape(clean.values.shape).astype(float)
    ax.pcolormesh(clean.axes[0], clean.axes[1], labels.T, shading="nearest",
                  cmap=ListedColormap(BASIN_COLORS[:len(found.centers)]),
                  vmin=-0.5, vmax=len(found.centers) - 0.5)
    starts = shares["runs"].starts
    for j, c in enumerate(found.centers):
        mine = reached.labels == shares["match"][j]
        ax.scatter(starts[mine, 0], starts[mine, 1], s=9, color=f"C{j}",
                   label=f"GD reached ({c[0]:.1f}, {c[1]:.1f}): "
                         f"{shares['run_shares'][j]:.1%} (tree {shares['tree_shares'][j]:.1%})")
    ax.set_xlabel("x")
    ax.set_ylabel("y")
    ax.set_title(f"Himmelblau: merge-tree basins (shading) and {len(starts)} GD starts\n"
                 f"{shares['agreement']:.1%} of the starts end in their shading's minimum",
                 fontsize=10)
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncol=2, fontsize=8)
    save_png(fig, out / "basins.png")


# ---------------------------------------------------------------------------------
# The study
# ---------------------------------------------------------------------------------


def run_study(quick: bool, seed: int) -> tuple[dict, dict]:
    """Sample everything; return the parts (surfaces, trees, thresholds) and the shares."""
    progress("training the digits MLP")
    objective, halves, theta = train(quick, seed)
    directions = make_directions(objective, theta, seed)
    progress("sampling the planes and their halves")
    resolution = 21 if quick else 41
    parts = {}
    for name, (d, unit) in directions.items():
        two, span = d._replace(vectors=d.vectors[:2]), SPAN[name] * unit
        parts[name] = with_noise_scale(
            lambda o, two=two, span=span: plane(o, theta, two, span=span,
                                                resolution=resolution), objective, halves)
        parts[name]["title"] = f"{NAMES[name]} plane"
    d, unit = directions["hessian"]
    progress("sampling the grid in 3 Hessian directions at two resolutions")
    coarse, fine = (7, 11) if quick else (15, 23)
    cube = with_noise_scale(lambda o: grid(o, theta, d, span=CUBE_SPAN * unit,
                                           resolution=coarse), objective, halves)
    cube["refined"] = merge_tree(grid(objective, theta, d, span=CUBE_SPAN * unit,
                                      resolution=fine))
    progress("Himmelblau: the noisy samples and gradient descent from a grid of starts")
    himmel = noisy_himmelblau(resolution, seed)
    himmel["title"] = f"Himmelblau sampled with noise (sd {HIMMELBLAU_NOISE:g})"
    shares = basin_shares(himmel, 9 if quick else 21, seed)
    extra = {"objective": objective, "theta": theta, "cube": cube, "himmelblau": himmel,
             "eigenvalues": directions["hessian"][0].meta["eigenvalues"]}
    return {**parts, "extra": extra}, shares


def run(out, quick: bool = False, seed: int = 0) -> dict:
    """Train, sample, compute the trees, draw; return the numbers."""
    out = Path(out)
    sampled, shares = run_study(quick, seed)
    extra = sampled.pop("extra")
    himmel = extra["himmelblau"]
    progress("drawing")
    draw_contours({**sampled, "himmelblau": himmel}, out)
    draw_persistence({**sampled, "himmelblau": himmel}, out)
    draw_trees({"hessian": sampled["hessian"], "himmelblau": himmel}, out)
    draw_basins(himmel, shares, out)
    objective, theta = extra["objective"], extra["theta"]
    numbers = {
        "n_params": objective.dim,
        "n_samples": objective.n_samples,
        "center_loss": float(objective.loss(theta)),
        "center_accuracy": objective.accuracy(theta),
        "top_eigenvalues": extra["eigenvalues"],
        "planes": {name: summary(part) for name, part in sampled.items()},
        "hessian_grid_3d": {**summary(extra["cube"]), "refined": refined(extra["cube"])},
        "himmelblau": {**himmelblau_numbers(himmel), "noise_sd_true": HIMMELBLAU_NOISE},
        "basins": {k: shares[k] for k in ("tree_shares", "run_shares", "agreement",
                                          "unreached")} | {"starts": len(shares["runs"])},
    }
    return {"headline": headline(numbers), "conclusion": conclusion(numbers), "numbers": numbers}


def headline(n: dict) -> str:
    """The finding in one short sentence."""
    shown = ", ".join(str(p["minima"]) for p in n["planes"].values())
    kept = [p["above_threshold"] for p in n["planes"].values()]
    h = n["himmelblau"]
    planes = (f"only the solution is deeper than the loss's own noise on each plane through a "
              f"digits MLP (of {shown} sampled minima)" if kept == [1] * len(kept) else
              f"planes through a digits MLP show {shown} sampled minima, "
              f"{', '.join(map(str, kept))} deeper than the loss's own noise")
    return (f"{planes[0].upper()}{planes[1:]}; the same rule keeps {h['above_threshold']} of "
            f"{h['minima']} on a noisy Himmelblau, which has 4.")


def _refinement(coarse: int, fine: dict) -> str:
    """What the finer grid says of the coarse grid's count."""
    if fine["above_threshold"] < coarse:
        return f" ({coarse - fine['above_threshold']} were the coarse grid's own)"
    return "" if fine["above_threshold"] == coarse else " (finer sampling found more)"


def conclusion(n: dict) -> str:
    """The finding, from the measured numbers."""
    planes = n["planes"]
    shown = ", ".join(f"{planes[k]['minima']} ({NAMES[k]})" for k in planes)
    kept = ", ".join(f"{planes[k]['above_threshold']}" for k in planes)
    cube, h, b = n["hessian_grid_3d"], n["himmelblau"], n["basins"]
    fine = cube["refined"]
    saddles = ", ".join(f"{d:.2f}" for d in h["deaths"])
    truth = ", ".join(f"{s:.2f}" for s in h["saddle_values"])
    return (
        f"Planes through the trained {n['n_params']}-parameter digits MLP (loss "
        f"{n['center_loss']:.2g}) show {shown} local minima of the sampled loss; deeper than "
        f"the loss's own noise threshold (3 sd of a difference of two losses, "
        f"{min(p['threshold'] for p in planes.values()):.2g} to "
        f"{max(p['threshold'] for p in planes.values()):.2g} nats) are {kept}, and "
        f"{cube['above_threshold']} of the {cube['minima']} minima of a grid in the top 3 "
        f"Hessian directions at {round(cube['points'] ** (1 / 3))} points per axis "
        f"({cube['above_threshold_inside']} inside it, "
        f"{cube['above_threshold'] - cube['above_threshold_inside']} on its edge, where the "
        f"loss may go on down) and {fine['above_threshold']} of {fine['minima']} at "
        f"{fine['resolution']} points per axis{_refinement(cube['above_threshold'], fine)}; "
        f"on Himmelblau's function with noise of sd "
        f"{h['noise_sd_true']:g} "
        f"the same rule keeps {h['above_threshold']} of {h['minima']} sampled minima (the "
        f"function has 4), within {h['minimum_distance_max']:.2f} of the true minima, "
        f"joining at {saddles} (saddles {truth}); its merge-tree basins hold "
        f"{', '.join(f'{s:.0%}' for s in b['tree_shares'])} of the plane where gradient "
        f"descent from {b['starts']} starts reaches each minimum "
        f"{', '.join(f'{s:.0%}' for s in b['run_shares'])} of the time, agreeing at "
        f"{b['agreement']:.0%} of the starts."
    )


if __name__ == "__main__":
    main(run, "topology")
