"""Momentum as a rolling ball: GD, heavy ball, Nesterov and Adam in a valley and on an MLP.

The notes (1.3) picture momentum as a ball rolling downhill: it gathers speed on flat
ground, is held back where the slope keeps changing sign, and its oscillation is damped.
Two tests of the picture:

1. An ill-conditioned valley, the quadratic ``1/2 theta^T A theta`` in 2-D with eigenvalues
   ``mu = 1`` and ``L = 100`` (condition number ``kappa = 100``), rotated at random. Each
   optimizer runs at its textbook setting for this valley: GD at ``2 / (L + mu)``, heavy
   ball at Polyak's ``lr = 4 / (sqrt L + sqrt mu)^2``, ``beta = ((sqrt kappa - 1) /
   (sqrt kappa + 1))^2``, Nesterov at ``lr = 1/L``, ``beta = (sqrt kappa - 1) / (sqrt kappa
   + 1)``, Adam at a fixed step. Theory: GD needs ``O(kappa)`` steps per digit of accuracy,
   the momentum methods ``O(sqrt kappa)``. The zig-zag across the valley is measured along
   the steep eigenvector: how long the across-valley offset takes to die out and how far
   the path travels across the valley on the way. (GD's rate-optimal step is larger than
   ``1/L``, so it overshoots the valley floor on every step; at ``1/L`` it would not
   zig-zag, and would need twice as many steps. Nesterov at ``lr = 1/L`` removes the
   steep component in one step.)
2. A 2-16-16-2 tanh network on two spirals (full batch, cross-entropy): GD, heavy ball and
   Nesterov at one learning rate with ``beta = 0.9``, Adam at its usual step, and GD at the
   momentum methods' effective step ``lr / (1 - beta)`` as a control: is momentum more than
   a larger step?

Run: ``landscape run momentum`` or ``python -m landscape.studies.momentum OUT_DIR [--quick]``.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from landscape import MLP, adam, gd, momentum, nesterov, runner
from landscape.data import spirals
from landscape.functions import quadratic
from landscape.plot import add_colorbar, plot_contour, plot_trajectories
from landscape.studies._shared import main, progress, save_png
from landscape.surface import plane, project

TITLE = "Momentum in an ill-conditioned valley and on an MLP: fewer steps, damped zig-zag"
FIGURES = {
    "valley_paths.png": "GD, heavy ball, Nesterov and Adam from the same start in an "
                        "ill-conditioned valley",
    "valley_curves.png": "Their loss and the zig-zag across the valley against the step",
    "mlp.png": "The same optimizers training an MLP on spirals, and GD at momentum's effective "
               "step",
}
MU, L = 1.0, 100.0
VALLEY_TOL = 1e-8  # stop once the loss is this fraction of its start
SETTLED = 0.01  # the zig-zag has died out once the across-valley offset stays below this
LR, BETA, ADAM_LR = 0.3, 0.9, 0.01  # the MLP's settings
MLP_TOL = 0.15  # the loss the MLP runs are timed to


def valley(seed: int):
    """The rotated quadratic, its flat and steep unit eigenvectors, and a start balanced
    between them (equal loss along each)."""
    q = quadratic([MU, L], rng=seed)
    _, vectors = np.linalg.eigh(q.A)
    flat, steep = vectors[:, 0], vectors[:, 1]
    return q, flat, steep, 1.5 * flat + 1.5 * np.sqrt(MU / L) * steep


def valley_optimizers() -> dict:
    """Each optimizer at its theory-optimal setting for eigenvalues in ``[MU, L]``."""
    root = np.sqrt(L / MU)
    return {
        "gd": gd(2 / (L + MU)),
        "momentum": momentum(4 / (np.sqrt(L) + np.sqrt(MU)) ** 2, ((root - 1) / (root + 1)) ** 2),
        "nesterov": nesterov(1 / L, (root - 1) / (root + 1)),
        "adam": adam(0.1),
    }


def zigzag(trajectory, steep) -> dict:
    """How far the path swings across the valley: the step after which the across-valley
    offset (the steep coordinate) stays below ``SETTLED`` of its start, and the distance
    travelled across the valley in units of the starting offset."""
    offset = trajectory.thetas @ steep
    above = np.abs(offset) >= SETTLED * abs(offset[0])
    return {"settle_step": int(np.flatnonzero(above)[-1] + 1),
            "across_path": float(np.abs(np.diff(offset)).sum() / abs(offset[0]))}


def run_valley(seed: int) -> tuple[dict, dict]:
    """Run every optimizer in the valley to ``VALLEY_TOL``; trajectories and numbers."""
    q, _, steep, theta0 = valley(seed)
    tol = VALLEY_TOL * q.loss(theta0)
    runs = {name: runner.run(q, theta0, opt, 5000, loss_tol=tol)
            for name, opt in valley_optimizers().items()}
    numbers = {name: {"status": tr.status, "steps_to_tol": tr.n_steps if tr.status ==
                      "converged" else None, "log_rate": late_rate(tr), **zigzag(tr, steep)}
               for name, tr in runs.items()}
    return runs, numbers


def late_rate(trajectory) -> float:
    """The loss's mean log decrease per step over the second half of the run."""
    t, half = trajectory.n_steps, trajectory.n_steps // 2
    return float(np.log(trajectory.loss[half] / trajectory.loss[t]) / (t - half))


def plot_valley(runs: dict, numbers: dict, seed: int, out: Path) -> None:
    """The valley's contours with each optimizer's path (one panel each), then the loss and
    the across-valley offset against steps."""
    q, _, steep, theta0 = valley(seed)
    surface = plane(q, np.zeros(2), np.eye(2)[0], np.eye(2)[1], span=1.1 * np.abs(theta0).max(),
                    resolution=120)
    fig, axes = plt.subplots(2, 2, figsize=(9, 8.6), sharex=True, sharey=True,
                             layout="constrained")
    for ax, (name, tr) in zip(axes.ravel(), runs.items()):
        artist = plot_contour(surface, ax=ax, levels=10.0 ** np.arange(-3, 2.75, 0.25), log=True)
        plot_trajectories(project(tr, np.zeros(2), np.eye(2)), ax=ax, legend=False,
                          colors={name: "C3"}, lw=1, marker=".", markersize=3)
        ax.set(xlabel=r"$\theta_1$", ylabel=r"$\theta_2$", aspect="equal",
               title=f"{name}: {tr.n_steps} steps,\nacross-valley travel "
                     f"{numbers[name]['across_path']:.1f}x the start offset")
    add_colorbar(artist, ax=axes, label="loss", shrink=0.8)
    fig.suptitle(rf"Valley with $\kappa$ = {L / MU:.0f}: paths from the circle to the minimum")
    save_png(fig, out / "valley_paths.png")

    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for name, tr in runs.items():
        left.plot(tr.steps, tr.loss, label=f"{name} ({tr.n_steps} steps)")
        offset = np.abs(tr.thetas @ steep) / abs(theta0 @ steep)
        right.plot(tr.steps, np.where(offset > 0, offset, np.nan), label=name)
    left.set(yscale="log", xlabel="step", ylabel="loss", title="Loss in the valley")
    right.axhline(SETTLED, color="gray", lw=0.8, ls="--",
                  label=f"{SETTLED:.0%} of the start: settled below")
    fast = runs["nesterov"]
    right.plot(fast.steps, np.finfo(float).eps * np.linalg.norm(fast.thetas, axis=1)
               / abs(theta0 @ steep), ":", color="0.4", lw=1,
               label=r"rounding level along nesterov's run: $\epsilon\,|\theta|$")
    right.set(yscale="log", ylim=(1e-21, 10), xlabel="step",
              ylabel="|offset across the valley| / start",
              title="Across-valley offset (steep eigenvector)")
    left.legend()
    right.legend(loc="center right")
    fig.tight_layout()
    save_png(fig, out / "valley_curves.png")


def run_mlp(steps: int, seed: int) -> dict:
    """Train the spiral MLP with each optimizer from one start; name -> trajectory."""
    X, y = spirals(200, rng=seed)
    model = MLP([2, 16, 16, 2], activation="tanh", output="softmax", loss="cross_entropy")
    objective, theta0 = model.objective(X, y), model.init(seed)
    optimizers = {"gd": gd(LR), "momentum": momentum(LR, BETA), "nesterov": nesterov(LR, BETA),
                  "adam": adam(ADAM_LR), f"gd lr {LR / (1 - BETA):g}": gd(LR / (1 - BETA))}
    return {name: runner.run(objective, theta0, opt, steps, record_every=max(1, steps // 200))
            for name, opt in optimizers.items()}


def mlp_numbers(runs: dict) -> dict:
    """Final and largest loss, and the first step at which the loss reached ``MLP_TOL`` (None
    if never)."""
    numbers = {}
    for name, tr in runs.items():
        below = np.flatnonzero(tr.batch_loss <= MLP_TOL)  # full batch: the loss at every step
        numbers[name] = {"final_loss": tr.final_loss, "peak_loss": float(tr.batch_loss.max()),
                         "steps_to_tol": int(below[0]) if below.size else None}
    return numbers


def plot_mlp(runs: dict, out: Path) -> None:
    """The MLP's training loss against steps: the four optimizers, then the control (GD at
    momentum's effective step) beside GD and heavy ball."""
    control = next(name for name in runs if name.startswith("gd lr"))
    fig, axes = plt.subplots(1, 2, figsize=(11.5, 4.4), sharey=True, layout="constrained")
    panels = ([name for name in runs if name != control], ["gd", "momentum", control])
    titles = ("Four optimizers", f"Is momentum a larger step? GD at lr {LR / (1 - BETA):g} "
              f"= lr / (1 - beta)")
    for ax, names, title in zip(axes, panels, titles):
        for name in names:
            color = f"C{list(runs).index(name)}"
            style = {"lw": 0.7, "alpha": 0.8} if name == control else {}
            ax.plot(np.arange(runs[name].batch_loss.size), runs[name].batch_loss, color=color,
                    label=name, **style)
        ax.axhline(MLP_TOL, color="gray", lw=0.8, ls="--",
                   label=f"loss {MLP_TOL}: steps to it counted")
        ax.set(yscale="log", xlabel="step", title=title)
    axes[0].set_ylabel("training loss (cross-entropy)")
    fig.legend(handles=axes[0].lines + [line for line in axes[1].lines
                                        if line.get_label() == control],
               loc="outside lower center", ncols=6, fontsize=9)
    fig.suptitle(f"2-16-16-2 tanh MLP on spirals (lr {LR}, beta {BETA}, Adam lr {ADAM_LR})")
    save_png(fig, out / "mlp.png")


def _steps(entry: dict) -> str:
    return "never" if entry["steps_to_tol"] is None else str(entry["steps_to_tol"])


def _zigzag(valley_numbers: dict, key: str, fmt: str) -> str:
    return ", ".join(f"{valley_numbers[name][key]:{fmt}}"
                     for name in ("gd", "momentum", "nesterov", "adam"))


def headline(valley: dict, mlp: dict, steps: int) -> str:
    """The finding in one short sentence."""
    return (f"In the kappa = {L / MU:.0f} valley heavy ball reached the tolerance in "
            f"{_steps(valley['momentum'])} steps against GD's {_steps(valley['gd'])}; on the "
            f"spiral MLP after {steps} steps it reached loss "
            f"{mlp['momentum']['final_loss']:.2g} against GD's {mlp['gd']['final_loss']:.2g}.")


def conclusion(valley_numbers: dict, ratios: tuple, mlp: dict, steps: int) -> str:
    """One sentence from the measured numbers."""
    v, m = valley_numbers, mlp
    control = next(name for name in m if name.startswith("gd lr"))
    return (f"In the kappa = {L / MU:.0f} valley heavy ball reached the tolerance in "
            f"{_steps(v['momentum'])} steps against GD's {_steps(v['gd'])} (ratio "
            f"{ratios[0]:.1f}; ratio of late per-step rates {ratios[1]:.1f}, theory's "
            f"sqrt(kappa) = {np.sqrt(L / MU):.0f}; Nesterov {_steps(v['nesterov'])}, "
            f"Adam {_steps(v['adam'])}); the zig-zag across the valley died out (below "
            f"{SETTLED:.0%} of the start) after {_zigzag(v, 'settle_step', 'd')} steps and "
            f"travelled {_zigzag(v, 'across_path', '.1f')} times the starting offset across it "
            f"(GD, heavy ball, Nesterov, Adam); on the spiral MLP after {steps} steps GD "
            f"reached loss {m['gd']['final_loss']:.3g}, heavy ball "
            f"{m['momentum']['final_loss']:.3g}, Nesterov {m['nesterov']['final_loss']:.3g}, "
            f"Adam {m['adam']['final_loss']:.3g}, and GD at the effective step "
            f"{control.split()[-1]} {m[control]['final_loss']:.3g} (its loss having jumped to "
            f"{m[control]['peak_loss']:.3g} on the way, against at most "
            f"{max(m[k]['peak_loss'] for k in ('momentum', 'nesterov')):.3g} with momentum).")


def run(out, quick: bool = False, seed: int = 0) -> dict:
    """The valley and the MLP: run, measure, draw."""
    out = Path(out)
    progress("the optimizers in the valley")
    valley_runs, valley_numbers = run_valley(seed)
    plot_valley(valley_runs, valley_numbers, seed, out)
    gd_steps, hb_steps = (valley_numbers[k]["steps_to_tol"] for k in ("gd", "momentum"))
    ratios = (gd_steps / hb_steps if gd_steps and hb_steps else float("nan"),
              valley_numbers["momentum"]["log_rate"] / valley_numbers["gd"]["log_rate"])
    steps = 400 if quick else 3000
    progress(f"the optimizers on the spiral MLP, {steps} steps")
    mlp_runs = run_mlp(steps, seed)
    plot_mlp(mlp_runs, out)
    mlp = mlp_numbers(mlp_runs)
    numbers = {"kappa": L / MU, "valley": valley_numbers, "gd_over_momentum_steps": ratios[0],
               "momentum_over_gd_rate": ratios[1],
               "sqrt_kappa": float(np.sqrt(L / MU)), "mlp": mlp, "mlp_tol": MLP_TOL}
    return {"headline": headline(valley_numbers, mlp, steps),
            "conclusion": conclusion(valley_numbers, ratios, mlp, steps), "numbers": numbers}


if __name__ == "__main__":
    main(run, "momentum")
