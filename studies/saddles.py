"""Saddle points: where gradient descent stalls, how the Hessian shows it, and how it escapes.

The notes (1.3) warn that gradient descent "can stop at local minima or saddle points".
This study trains a two-layer *linear* network ``x -> W2 W1 x`` (3-3-3, 18 parameters) on
a regression target ``y = A x`` with singular values ``s = (3, 1, 0.3)``, from a small
initialization (Saxe et al. 2014). Its critical points are known in closed form (Baldi and
Hornik 1989): the end-to-end map ``W2 W1`` has learned a subset ``S`` of the target's
singular modes, with loss ``1/2 sum_{i not in S} s_i^2``; only ``S = all`` is a minimum.

Along the gradient-descent run we record the loss, the gradient norm and the most negative
Hessian eigenvalue (a runner metric). Learning is a staircase: the run sits on a plateau
at each saddle ``S = {}, {1}, {1, 2}``, where the gradient is small and the Hessian has a
negative eigenvalue (``-s_{k+1}`` on the k-th plateau), then escapes along that negative
curvature; at the end no negative eigenvalue is left. ``escape.saddle_episodes`` finds
the plateaus from the record alone, with the eigenspace of ``lambda_min`` there (repeated:
multiplicity ``3 - k``) and the fraction of the escape move inside it. Then
Levenberg-Marquardt on ``|grad|^2`` from many starts (``critical.find_critical_points``)
finds the critical points, classified by their Hessian; their index against loss
reproduces Dauphin et al. (2014, Fig. 1): the higher the loss, the more directions lead
down, and the lowest critical points are the minima.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from landscape import gd, runner
from landscape.critical import find_critical_points, loss_and_index
from landscape.escape import saddle_episodes
from landscape.functions import deep_linear
from landscape.hessian import RTOL, min_eigenvalue, sharpness
from landscape.studies._shared import main, progress, save_png

TITLE = "Saddle points: a linear network's plateaus, their negative curvature, and escape"
FIGURES = {
    "training.png": "GD on a linear network: loss, gradient norm and the most negative Hessian "
                    "eigenvalue, the saddle episodes shaded",
    "index_vs_loss.png": "The critical points found: the fraction of negative eigenvalues "
                         "against the loss",
}
SINGULAR = np.array([3.0, 1.0, 0.3])  # the target's singular values
INIT_SCALE = 1e-4  # the small initialization that starts the run at the origin saddle
LR, STEPS = 0.05, 1500
PLATEAU_GRAD = 0.05  # "on a plateau": gradient norm below this fraction of its peak
NEGATIVE_RTOL = 1e-2  # a negative eigenvalue counts when below -1% of the top one


def make_objective(rng: np.random.Generator):
    """The 3-3-3 linear network's loss on 60 whitened inputs, ``y = A x``."""
    d, n = len(SINGULAR), 60
    X = np.sqrt(n) * np.linalg.qr(rng.standard_normal((n, d)))[0]  # X^T X / n = I
    U, V = (np.linalg.qr(rng.standard_normal((d, d)))[0] for _ in range(2))
    A = U @ np.diag(SINGULAR) @ V.T
    return deep_linear((d, d, d), X, X @ A.T)


def plateau_losses() -> np.ndarray:
    """Closed-form loss of the saddles the run visits: modes ``1..k`` learned, ``k = 0, 1, 2``."""
    tails = np.cumsum((SINGULAR**2)[::-1])[::-1]  # sum_{i >= k} s_i^2
    return 0.5 * tails


def train(objective, rng: np.random.Generator, record_every: int):
    """Gradient descent from a small random start, recording the extreme Hessian eigenvalues."""
    theta0 = INIT_SCALE * rng.standard_normal(objective.dim)
    return runner.run(objective, theta0, gd(LR), STEPS, record_every=record_every,
                      metrics={"min_eigenvalue": min_eigenvalue, "sharpness": sharpness})


def critical_starts(trajectory, n_random: int, rng: np.random.Generator) -> np.ndarray:
    """Starts for the critical-point search: random points of unit scale and points of the run."""
    along = trajectory.thetas[np.linspace(0, len(trajectory.thetas) - 1, 12).astype(int)]
    return np.concatenate([rng.standard_normal((n_random, trajectory.thetas.shape[1])), along])


def plot_training(trajectory, episodes, gtol: float, out: Path) -> None:
    """Loss, gradient norm and most negative eigenvalue against the step, episodes shaded.

    The loss and gradient axes stop at the plateaus' scale: past the last saddle the run
    falls geometrically, off the axis, to the final loss written at the bottom.
    """
    steps = trajectory.steps
    fig, axes = plt.subplots(3, 1, figsize=(7, 7.5), sharex=True)
    series = [(trajectory.loss, "loss", (1e-3, 30)),
              (trajectory.grad_norm[steps], "gradient norm", (1e-4, 30)),
              (trajectory.metrics["min_eigenvalue"], r"$\lambda_{\min}$ of the Hessian", None)]
    for ax, (values, name, limits) in zip(axes, series):
        ax.plot(steps, values, color="C0", label=name)
        if limits is None:
            ax.set_yscale("symlog", linthresh=1e-3)
        else:
            ax.set(yscale="log", ylim=limits)
        ax.set_ylabel(name)
        for i, e in enumerate(episodes):
            ax.axvspan(e.start, e.end, color="C1", alpha=0.25,
                       label=r"saddle episode: gradient $\leq$ 5% of its peak, "
                             r"$\lambda_{\min} < 0$" if i == 0 else None)
    modes = ["{}", "{1}", "{1,2}"]
    for level, learned in zip(plateau_losses(), modes):
        axes[0].axhline(level, color="0.5", linestyle=":", linewidth=1)
        axes[0].text(steps[-1], level * 1.15, f"saddle {learned}: {level:.4g}", ha="right",
                     va="bottom", fontsize=9, color="0.3")
    axes[0].text(steps[-1], 1.3e-3, f"falls to {trajectory.final_loss:.1e} "
                 f"by step {steps[-1]}", ha="right", va="bottom", fontsize=9)
    axes[1].axhline(gtol, color="C1", linestyle="--", linewidth=1,
                    label=f"5% of the peak gradient norm ({gtol:.2g})")
    axes[1].legend(loc="upper right", fontsize=9)
    for i, s in enumerate(SINGULAR):
        axes[2].axhline(-s, color="0.5", linestyle=":", linewidth=1)
        axes[2].text(steps[-1], -s / 1.15, rf"$-s_{i + 1}$ = {-s:g}", ha="right", va="bottom",
                     fontsize=9, color="0.3")
    axes[2].set_ylim(-2 * SINGULAR[0], None)
    axes[0].set_title("GD on a 3-3-3 linear network from a small init\n"
                      "(dotted: the closed-form saddles the run passes)")
    axes[-1].set_xlabel("step")
    fig.tight_layout()
    save_png(fig, out / "training.png")


def learned_modes(loss: float) -> str:
    """The subset of singular modes whose closed-form critical loss is nearest ``loss``."""
    subsets = list(itertools.product([0, 1], repeat=len(SINGULAR)))
    values = [0.5 * np.sum(SINGULAR**2 * (1 - np.array(s))) for s in subsets]
    best = subsets[int(np.argmin(np.abs(np.array(values) - loss)))]
    return "{" + ",".join(str(i + 1) for i, b in enumerate(best) if b) + "}"


def plot_index_loss(points, plateaus, out: Path) -> None:
    """Fraction of negative eigenvalues against loss; marker area = how often each was found,
    label = the modes learned there; rings: the saddles the training run sat on."""
    li = loss_and_index(points)
    levels, first, counts = np.unique(np.round(li.loss, 6), return_index=True, return_counts=True)
    fraction = li.fraction[first]
    fig, ax = plt.subplots(figsize=(6.4, 4.6))
    minimum = li.index[first] == 0
    for mask, label, color in [(minimum, "index 0 (minimum)", "C2"),
                               (~minimum, "saddle", "C1")]:
        ax.scatter(fraction[mask], levels[mask], s=30 + 10 * counts[mask], c=color,
                   edgecolors="k", label=label, zorder=3)
    visited = [np.argmin(np.abs(levels - p)) for p in plateaus]
    ax.scatter(fraction[visited], levels[visited], s=400, facecolors="none", edgecolors="C3",
               linewidths=1.5, label="plateau of the GD run", zorder=4)
    for x, y in zip(fraction, levels):
        ax.annotate(learned_modes(y), (x, y), textcoords="offset points", xytext=(0, 12),
                    ha="center", fontsize=8)
    ax.set_yscale("symlog", linthresh=1e-2)
    ax.set_xlim(-0.03, 0.6)
    ax.set_ylim(-2e-3, 20)
    ax.set_xlabel("index: fraction of negative Hessian eigenvalues")
    ax.set_ylabel("loss at the critical point")
    ax.set_title(f"{len(points)} critical points of the linear network\n"
                 "(Dauphin et al. 2014, Fig. 1: higher loss, more directions down)")
    ax.legend(loc="lower right", fontsize=8,
              title="label: modes learned; area: times found", title_fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    save_png(fig, out / "index_vs_loss.png")


def run_study(out: Path, quick: bool, seed: int) -> dict:
    rng = np.random.default_rng(seed)
    objective = make_objective(rng)
    progress("gradient descent from a small initialization")
    trajectory = train(objective, rng, record_every=10 if quick else 4)
    grad_norms = trajectory.grad_norm[trajectory.steps]
    gtol = PLATEAU_GRAD * grad_norms.max()
    progress("the Hessian along the plateaus")
    episodes = saddle_episodes(objective, trajectory.thetas, trajectory.steps, grad_norms,
                               gtol=gtol, rtol=NEGATIVE_RTOL, rng=seed)
    progress("searching for critical points")
    points = find_critical_points(objective, critical_starts(trajectory, 8 if quick else 40, rng))
    plot_training(trajectory, episodes, gtol, out)
    numbers = numbers_of(trajectory, episodes, points)
    plot_index_loss(points, numbers["plateau_loss"], out)
    return numbers


def numbers_of(trajectory, episodes, points) -> dict:
    li = loss_and_index(points)
    steps = np.array([(e.start + e.end) // 2 for e in episodes], dtype=int)
    at = np.searchsorted(trajectory.steps, steps)
    minima = li.index == 0
    return {
        "plateau_loss": trajectory.loss[at].tolist(),
        "closed_form_saddle_loss": plateau_losses().tolist(),
        "episodes": [[e.start, e.end] for e in episodes],
        "episode_min_eigenvalue": [e.min_eigenvalue for e in episodes],
        "closed_form_min_eigenvalue": (-SINGULAR).tolist(),
        "escape_in_eigenspace": [e.in_eigenspace for e in episodes],
        "min_eigenvalue_multiplicity": [e.multiplicity for e in episodes],
        "final_loss": trajectory.final_loss,
        "final_min_eigenvalue": float(trajectory.metrics["min_eigenvalue"][-1]),
        "final_sharpness": float(trajectory.metrics["sharpness"][-1]),
        "zero_tolerance": RTOL * float(trajectory.metrics["sharpness"][-1]),
        "n_critical_points": len(points),
        "critical_loss": li.loss.tolist(),
        "critical_index": li.index.tolist(),
        "n_minima": int(minima.sum()),
        "max_minimum_loss": float(li.loss[minima].max()) if minima.any() else None,
        "min_saddle_loss": float(li.loss[~minima].min()) if (~minima).any() else None,
        "index_loss_correlation": float(np.corrcoef(li.loss, li.index)[0, 1]),
    }


def run(out, quick: bool = False, seed: int = 0) -> dict:
    """Train, find the saddle episodes and the critical points, draw; return the numbers."""
    n = run_study(Path(out), quick, seed)
    return {"headline": headline(n), "conclusion": conclusion(n), "numbers": n}


def headline(n: dict) -> str:
    """The finding in one short sentence."""
    losses = ", ".join(f"{v:.3g}" for v in n["plateau_loss"])
    return (f"GD on a linear network stalled at {len(n['episodes'])} saddles (losses {losses}) "
            f"and left each within its negative-curvature eigenspace (at least "
            f"{min(n['escape_in_eigenspace'], default=float('nan')):.2%} of the move).")


def conclusion(n: dict) -> str:
    """One sentence from the measured numbers."""
    listed = lambda key, fmt: ", ".join(format(v, fmt) for v in n[key])
    return (
        f"Gradient descent from a small init stalled in {len(n['episodes'])} saddle episodes "
        f"at losses {listed('plateau_loss', '.4g')} (closed form "
        f"{listed('closed_form_saddle_loss', '.4g')}) where the most negative Hessian "
        f"eigenvalue was {listed('episode_min_eigenvalue', '.3g')} (closed form "
        f"{listed('closed_form_min_eigenvalue', '.3g')}; multiplicities "
        f"{listed('min_eigenvalue_multiplicity', 'd')}), escaped inside that eigenspace "
        f"(fraction of the move {listed('escape_in_eigenspace', '.4f')}) and ended at loss "
        f"{n['final_loss']:.1e} with lambda_min {n['final_min_eigenvalue']:.1e} "
        f"(zero tolerance {n['zero_tolerance']:.0e}); of {n['n_critical_points']} critical "
        f"points found, the index-0 ones ({n['n_minima']}) have loss "
        f"<= {n['max_minimum_loss']:.2g}, below every saddle (>= {n['min_saddle_loss']:.3g}), "
        f"and index correlates with loss (r = {n['index_loss_correlation']:.2f})."
    )


if __name__ == "__main__":
    main(run, "saddles")
