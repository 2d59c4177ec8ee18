"""What the explorer computes, apart from the page: every number it shows comes from here.

- :func:`trajectory` (:func:`landscape.run` from a start inside the box) and
  :func:`ending` (where a run ended: diverged, at a critical point of which kind by
  :func:`landscape.classify`, or still moving);
- :func:`point_info`: the loss, gradient, Hessian eigenvalues and kind at a point;
- :func:`landscape_surface`, :func:`wants_log` and :func:`shown_values`: the grid drawn
  and its colour scale (logarithmic where the values span decades);
- :func:`basins_map`: where a run from every start of a grid ends (:func:`landscape.run_many`
  in chunks, with progress and cancellation);
- :func:`compute_view`: all of it for one state of the page, as a :class:`View`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from typing import Literal, NamedTuple, TypeAlias, get_args

import numpy as np
from numpy.typing import ArrayLike

from landscape._checks import choice, integer, theta_vector
from landscape.critical import classify
from landscape.explore.fields import OPTIMIZERS, make_optimizer
from landscape.explore.landscapes import Landscape
from landscape.objective import Objective
from landscape.optim import Optimizer
from landscape.runner import Trajectory, run
from landscape.settings import Execution
from landscape.surface import Surface, plane
from landscape.sweep import grid_starts, run_many
from landscape.vocabulary import DIVERGED, Kind, Status, Theta

#: How the loss is drawn: contours or a 3-D surface.
Mode: TypeAlias = Literal["contour", "surface"]
#: The colour scale: chosen from the values, linear or logarithmic.
Scale: TypeAlias = Literal["auto", "linear", "log"]
#: Grid points per axis of the drawn landscape (clicks land on them).
RESOLUTION = 101
#: A run ended at a critical point when its final gradient norm is at most this.
GTOL = 1e-3
#: Colours go logarithmic when the box's highest value lies this many times above its
#: lowest tenth (both measured from the minimum): 1.5 decades.
LOG_RATIO = 30.0
_QUIET = Execution(progress=False)


def check_start(landscape: Landscape, start: ArrayLike) -> Theta:
    """``start`` as a point ``(2,)`` inside the landscape's box; else a ValueError saying so."""
    theta = theta_vector(start, 2, "start")
    low, high = landscape.bounds[:, 0], landscape.bounds[:, 1]
    if np.any(theta < low) or np.any(theta > high):
        box = " x ".join(f"[{lo:.3g}, {hi:.3g}]" for lo, hi in landscape.bounds)
        raise ValueError(f"start ({theta[0]:.4g}, {theta[1]:.4g}) lies outside the box {box}")
    return theta


def trajectory(landscape: Landscape, start: ArrayLike, optimizer: Optimizer,
               steps: int) -> Trajectory:
    """:func:`landscape.run` of ``optimizer`` for ``steps`` steps from ``start`` in the box.

    The run's defaults otherwise: full batch, every step recorded, a run diverges when its
    loss is not finite or exceeds a million times ``max(|loss at the start|, 1)``.
    """
    return run(landscape.objective, check_start(landscape, start), optimizer, steps)


class Ending(NamedTuple):
    """Where a run ended.

    status : the run's :data:`~landscape.vocabulary.Status`.
    kind : the :data:`~landscape.vocabulary.Kind` of the Hessian at the end point (None
        when the run diverged).
    critical : bool, the final gradient norm is at most :data:`GTOL`.
    theta : ndarray, shape ``(2,)``, the last recorded point.
    loss, grad_norm : float, there.
    text : str, all of it in a few words.
    """

    status: Status
    kind: Kind | None
    critical: bool
    theta: Theta
    loss: float
    grad_norm: float
    text: str


def ending(objective: Objective, trajectory: Trajectory, gtol: float = GTOL) -> Ending:
    """Where ``trajectory`` ended on ``objective``.

    Diverged (at step ``s``); a minimum, saddle, maximum or degenerate critical point when
    the final gradient norm is at most ``gtol`` (the kind from :func:`landscape.classify`);
    else still moving, with the kind of curvature where it stopped.
    """
    theta = trajectory.final_theta
    if trajectory.status == DIVERGED:
        return Ending(trajectory.status, None, False, theta, trajectory.final_loss, math.inf,
                      f"diverged at step {trajectory.diverged_at}")
    point = classify(objective, theta)
    critical = point.grad_norm <= gtol
    text = point.kind if critical else (f"still moving (|∇f| = {point.grad_norm:.2g}, "
                                        f"curvature of a {point.kind})")
    return Ending(trajectory.status, point.kind, critical, theta, point.loss, point.grad_norm,
                  text)


class PointInfo(NamedTuple):
    """The local picture at one point.

    theta : ndarray, shape ``(2,)``; loss : float; grad : ndarray, shape ``(2,)``;
    grad_norm : float; eigenvalues : ndarray, shape ``(2,)``, the Hessian's, ascending;
    kind : the :data:`~landscape.vocabulary.Kind` those eigenvalues give (a critical point
    of that kind if the gradient vanished there).
    """

    theta: Theta
    loss: float
    grad: np.ndarray
    grad_norm: float
    eigenvalues: np.ndarray
    kind: Kind


def point_info(objective: Objective, theta: ArrayLike) -> PointInfo:
    """The loss, gradient, Hessian eigenvalues and their kind at ``theta`` (``(2,)``)."""
    point = classify(objective, np.asarray(theta, dtype=np.float64))
    return PointInfo(point.theta, point.loss, objective.grad(point.theta), point.grad_norm,
                     point.eigenvalues, point.kind)


_SURFACES: dict[tuple, Surface] = {}


def landscape_surface(landscape: Landscape, resolution: int = RESOLUTION) -> Surface:
    """The loss on a ``resolution x resolution`` grid over the box (kept per landscape)."""
    key = (landscape.key, resolution)
    if key not in _SURFACES:
        _SURFACES[key] = plane(landscape.objective, np.zeros(2), [1.0, 0.0], [0.0, 1.0],
                               span=landscape.bounds, resolution=resolution, execution=_QUIET)
    return _SURFACES[key]


def wants_log(values: np.ndarray) -> bool:
    """Whether colours should be logarithmic: the values span decades above their minimum.

    True when the highest finite value, measured from the lowest, is more than
    :data:`LOG_RATIO` times the lowest tenth of them (the tenth of the box nearest the
    minimum would otherwise get one colour).
    """
    finite = values[np.isfinite(values)]
    above = finite - finite.min()
    tenth = float(np.quantile(above, 0.1))
    return bool(above.max() > 0 and (tenth == 0 or above.max() > LOG_RATIO * tenth))


def shown_values(values: np.ndarray, log: bool) -> tuple[np.ndarray, float]:
    """``(z, offset)``: what the colours show, and the offset of the log.

    Linear: the values, offset 0. Log: ``log10(values - min + offset)`` with the offset
    ``1e-4 (max - min)``, so four decades below the top are told apart.
    """
    if not log:
        return values, 0.0
    low, high = float(np.nanmin(values)), float(np.nanmax(values))
    offset = 1e-4 * (high - low) if high > low else 1.0
    return np.log10(values - low + offset), offset


class BasinMap(NamedTuple):
    """Where a run from each start of a grid ended.

    axes : the grid's two coordinate arrays, ``(r,)`` each.
    labels : ndarray, shape ``(r, r)``, ``indexing="ij"``: the index of the critical
        point the run from ``(axes[0][i], axes[1][j])`` ended within ``tol`` of, -1 for
        none, -2 when it diverged.
    centers : ndarray, shape ``(c, 2)``; kinds : their kinds.
    optimizer : str, the optimizer's name; steps : int.
    """

    axes: tuple[np.ndarray, np.ndarray]
    labels: np.ndarray
    centers: np.ndarray
    kinds: tuple[Kind | None, ...]
    optimizer: str
    steps: int


def basins_map(landscape: Landscape, optimizer: Optimizer, steps: int, resolution: int = 25,
               progress: Callable[[int, int], None] | None = None,
               cancelled: Callable[[], bool] | None = None, chunks: int = 50
               ) -> BasinMap | None:
    """Run ``optimizer`` from every start of a ``resolution x resolution`` grid over the box.

    Each run is matched to the landscape's critical points (:meth:`landscape.Runs.basins`,
    within 2% of the box's diagonal). The runs go in ``chunks`` parts through
    :func:`landscape.run_many`; after each, ``progress(done, total)`` is told the number
    of runs done, and before each ``cancelled()`` is asked: when it says True, the work
    stops and None is returned.

    Returns
    -------
    BasinMap, or None when cancelled.
    """
    resolution = integer(resolution, "resolution", 2, 201)
    starts = grid_starts(landscape.bounds, resolution)
    tol = 0.02 * float(np.linalg.norm(np.diff(landscape.bounds, axis=1)))
    points = landscape.critical_points
    labels = np.full(len(starts), -1)
    parts = np.array_split(np.arange(len(starts)), min(chunks, len(starts)))
    for part in parts:
        if cancelled is not None and cancelled():
            return None
        runs = run_many(landscape.objective, starts[part], optimizer, steps, rng=0,
                        record_every=max(steps, 1), execution=_QUIET)
        if points:
            labels[part] = runs.basins(points, tol).labels
        labels[part[runs.statuses == DIVERGED]] = -2
        if progress is not None:
            progress(int(part[-1]) + 1, len(starts))
    centers = np.array([p.theta for p in points]).reshape(-1, 2)
    axes = tuple(np.linspace(lo, hi, resolution) for lo, hi in landscape.bounds)
    return BasinMap((axes[0], axes[1]), labels.reshape(resolution, resolution), centers,
                    tuple(p.kind for p in points), optimizer.name, steps)


class RunView(NamedTuple):
    """One run on the page: ``optimizer`` name, ``label``, ``trajectory``, ``ending``."""

    optimizer: str
    label: str
    trajectory: Trajectory
    ending: Ending


class View(NamedTuple):
    """Everything one state of the page shows.

    landscape : Landscape; surface : its grid (:func:`landscape_surface`);
    mode : 'contour' or 'surface'; log : bool, the colour scale;
    runs : tuple of RunView, start by start, optimizer by optimizer;
    basins : BasinMap or None; messages : tuple of str, what could not be run and why.
    """

    landscape: Landscape
    surface: Surface
    mode: Mode
    log: bool
    runs: tuple[RunView, ...]
    basins: BasinMap | None
    messages: tuple[str, ...]


def compute_view(landscape: Landscape, starts: Sequence[ArrayLike],
                 optimizers: Mapping[str, Mapping[str, float]], steps: int,
                 mode: Mode = "contour", scale: Scale = "auto",
                 basins: BasinMap | None = None) -> View:
    """Run every optimizer from every start and gather what the page shows.

    Parameters
    ----------
    landscape : Landscape.
    starts : sequence of points ``(2,)``; those outside the box are left out, with a message.
    optimizers : name -> settings (keyword -> value) for each optimizer to run; one whose
        settings it refuses is left out, with its message.
    steps : int >= 1.
    mode : 'contour' or 'surface'.
    scale : 'auto' (:func:`wants_log`), 'linear' or 'log'.
    basins : a BasinMap to show, or None.

    Returns
    -------
    View
    """
    choice(mode, get_args(Mode), "mode")
    choice(scale, get_args(Scale), "scale")
    steps = integer(steps, "steps", 1)
    surface = landscape_surface(landscape)
    messages, built = [], {}
    for name, settings in optimizers.items():
        try:
            built[name] = make_optimizer(name, settings)
        except ValueError as err:
            messages.append(f"{OPTIMIZERS[name].label} not run: {err}")
    runs = []
    for i, start in enumerate(starts, 1):
        try:
            theta = check_start(landscape, start)
        except ValueError as err:
            messages.append(f"start {i} not run: {err}")
            continue
        for name, opt in built.items():
            tr = trajectory(landscape, theta, opt, steps)
            runs.append(RunView(name, f"{OPTIMIZERS[name].label}, start {i}", tr,
                                ending(landscape.objective, tr)))
    log = wants_log(surface.values) if scale == "auto" else scale == "log"
    return View(landscape, surface, mode, log, tuple(runs), basins, tuple(messages))
