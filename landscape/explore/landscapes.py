"""The explorer's landscapes: objectives of two variables with a box and their critical points.

- the synthetic functions Himmelblau, Rosenbrock, the six-hump camel, the monkey saddle and
  Lee et al.'s saddle (:mod:`landscape.functions`, with all their critical points);
- a quadratic valley ``½ (x² / κ + y²)`` whose condition number ``κ`` the user sets;
- a small MLP trained on 2-D data (XOR or two spirals), seen on a plane through its trained
  solution: the plane of the training run's two principal components or two
  filter-normalized random directions (Li et al. 2018). The objective is the loss on that
  plane, ``(a, b) -> L(θ* + a d₁ + b d₂)``, a function of two variables (its gradient and
  Hessian are the network's projected on the plane), so the optimizers run *in the plane*
  and their trajectories stay on the picture. Its critical points are those of that
  restricted function, found by a multistart search over the box.

:func:`make_landscape` builds one (cached: the MLP is trained once per data set and plane).
"""

from __future__ import annotations

import functools
from typing import Literal, NamedTuple, TypeAlias, get_args

import numpy as np

from landscape import data
from landscape._checks import choice, real_in
from landscape.critical import critical_points_in_box
from landscape.critical_point import CriticalPoint
from landscape.directions import filter_normalized_directions, pca_directions
from landscape.functions import (
    himmelblau,
    lee_saddle,
    monkey_saddle,
    quadratic,
    rosenbrock,
    six_hump_camel,
)
from landscape.mlp import MLP
from landscape.objective import Objective, ObjectiveBase
from landscape.optim import adam
from landscape.runner import run
from landscape.settings import Execution
from landscape.vocabulary import Theta, Thetas

#: The landscapes by name.
LandscapeName: TypeAlias = Literal["himmelblau", "rosenbrock", "six_hump_camel",
                                   "monkey_saddle", "lee_saddle", "valley", "mlp"]
#: The MLP's data sets.
DataName: TypeAlias = Literal["xor", "spirals"]
#: The MLP's planes: principal components of the training run, or filter-normalized.
PlaneName: TypeAlias = Literal["pca", "filter"]
LANDSCAPES: tuple[LandscapeName, ...] = get_args(LandscapeName)
DATA_SETS: tuple[DataName, ...] = get_args(DataName)
PLANES: tuple[PlaneName, ...] = get_args(PlaneName)

#: What each landscape is called on screen.
TITLES: dict[LandscapeName, str] = {
    "himmelblau": "Himmelblau",
    "rosenbrock": "Rosenbrock",
    "six_hump_camel": "six-hump camel",
    "monkey_saddle": "monkey saddle",
    "lee_saddle": "Lee et al.'s saddle",
    "valley": "quadratic valley",
    "mlp": "MLP on 2-D data",
}
_SYNTHETIC = {"himmelblau": himmelblau, "rosenbrock": rosenbrock,
              "six_hump_camel": six_hump_camel, "monkey_saddle": monkey_saddle,
              "lee_saddle": lee_saddle}
#: Where the first run starts when a landscape is opened.
_FIRST_START: dict[LandscapeName, tuple[float, float]] = {
    "himmelblau": (-0.5, -4.0), "rosenbrock": (-1.5, 2.5), "six_hump_camel": (-1.5, 0.8),
    "monkey_saddle": (0.6, 0.3), "lee_saddle": (-1.5, 1e-3), "valley": (-1.8, 1.2)}
#: The MLP's network, training (Adam) and data size per data set: small, seconds at most.
_NETS: dict[DataName, tuple[list[int], float, int]] = {
    "xor": ([2, 8, 1], 0.05, 300), "spirals": ([2, 16, 16, 1], 0.02, 1500)}
_N_SAMPLES = 200
_QUIET = Execution(progress=False)


class Landscape(NamedTuple):
    """One landscape as the explorer shows it.

    key : tuple, what identifies it (name and the settings it depends on).
    title : str, its name on screen.
    objective : Objective of two variables.
    bounds : ndarray, shape ``(2, 2)``: the box ``[low, high]`` per coordinate.
    critical_points : tuple of :class:`~landscape.CriticalPoint` inside the box.
    labels : the two coordinates' names.
    first_start : ndarray, shape ``(2,)``: where the first run starts.
    note : str, a sentence on what is shown (empty for the synthetic functions).
    """

    key: tuple
    title: str
    objective: Objective
    bounds: np.ndarray
    critical_points: tuple[CriticalPoint, ...]
    labels: tuple[str, str]
    first_start: np.ndarray
    note: str


class PlaneObjective(ObjectiveBase):
    """The loss on a plane, ``c ↦ L(center + c @ directions)``, an objective of ``c`` ``(2,)``.

    Its gradient is ``directions @ ∇L`` and its Hessian ``D H Dᵀ`` (``D`` the directions
    ``(2, n)``): exact, from the objective's own gradient and Hessian-vector products.
    Grids of it use the objective's ``losses_in_span`` (the MLP's first layer is linear in
    the plane's coordinates).

    Parameters
    ----------
    objective : Objective of ``n`` parameters.
    center : ndarray, shape ``(n,)``.
    directions : ndarray, shape ``(2, n)``.
    """

    dim = 2

    def __init__(self, objective: Objective, center: Theta, directions: Thetas):
        self.objective, self.center, self.directions = objective, center, directions

    def _point(self, c: np.ndarray) -> np.ndarray:
        return self.center + c @ self.directions

    def _loss(self, c):
        return self.objective.loss(self._point(c))

    def _loss_and_grad(self, c):
        value, g = self.objective.loss_and_grad(self._point(c))
        return value, self.directions @ g

    def _hvp(self, c, v):
        return self.directions @ self.objective.hvp(self._point(c), v @ self.directions)

    def _losses(self, cs):
        return self.objective.losses_in_span(self.center, self.directions, cs)

    def _losses_in_span(self, center, directions, coords):
        return self._losses(center + coords @ directions)


def _inside(points: tuple[CriticalPoint, ...], bounds: np.ndarray) -> tuple[CriticalPoint, ...]:
    return tuple(p for p in points
                 if np.all(p.theta >= bounds[:, 0]) and np.all(p.theta <= bounds[:, 1]))


def _synthetic(name: LandscapeName) -> Landscape:
    f = _SYNTHETIC[name]()
    bounds = np.array(f.bounds[:2])
    return Landscape((name,), TITLES[name], f, bounds, _inside(f.critical_points, bounds),
                     ("x", "y"), np.array(_FIRST_START[name]), "")


def _valley(condition: float) -> Landscape:
    f = quadratic([1.0 / condition, 1.0], rotate=False)
    bounds = np.array([[-2.0, 2.0], [-1.5, 1.5]])
    note = (f"½ (x² / κ + y²) with κ = {condition:g}: curvature 1/κ along x, 1 along y; "
            "gradient descent is stable for a learning rate below 2 and needs about κ "
            "steps per tenfold along the valley.")
    return Landscape(("valley", condition), f"{TITLES['valley']}, κ = {condition:g}", f, bounds,
                     f.critical_points, ("x", "y"), np.array(_FIRST_START["valley"]), note)


@functools.lru_cache(maxsize=4)
def trained_mlp(data_name: DataName) -> tuple[Objective, Thetas]:
    """The MLP objective on ``data_name`` and its training run's parameters ``(k, n)``.

    A tanh network with one sigmoid output and cross-entropy loss, trained by Adam from a
    Glorot initialization (seed 0) on 200 points (seed 0); cached.
    """
    sizes, lr, steps = _NETS[data_name]
    X, y = getattr(data, data_name)(_N_SAMPLES, rng=0)
    model = MLP(sizes, activation="tanh", output="sigmoid", loss="cross_entropy")
    objective = model.objective(X, y)
    return objective, run(objective, model.init(rng=0), adam(lr), steps).thetas


def _pca_box(thetas: Thetas, center: Theta, directions: Thetas) -> np.ndarray:
    """A box around the training run's coordinates on the plane, a quarter wider each way."""
    coords = (thetas - center) @ directions.T  # orthonormal directions: the projection
    low, high = coords.min(axis=0), coords.max(axis=0)
    pad = 0.25 * (high - low)
    return np.stack([low - pad, high + pad], axis=1)


@functools.lru_cache(maxsize=8)
def _mlp(data_name: DataName, plane_name: PlaneName) -> Landscape:
    objective, thetas = trained_mlp(data_name)
    center = thetas[-1]
    if plane_name == "pca":
        directions = pca_directions(thetas).vectors
        bounds = _pca_box(thetas, center, directions)
        axes = ("PC1", "PC2")
        how = "the training run's two principal components"
    else:
        directions = filter_normalized_directions(objective, center, rng=0).vectors
        bounds = np.array([[-1.0, 1.0], [-1.0, 1.0]])
        axes = ("filter direction 1", "filter direction 2")
        how = "two filter-normalized random directions (at 1, each filter moves by its norm)"
    f = PlaneObjective(objective, center, directions)
    points = critical_points_in_box(f, bounds, n_per_dim=6, execution=_QUIET)
    note = (f"The loss of the {'-'.join(map(str, _NETS[data_name][0]))} tanh network on "
            f"{data_name} on the plane of {how}, centred at the trained solution (0, 0). "
            "The optimizers run on this plane; the critical points are those of the loss "
            "restricted to it.")
    first = bounds[:, 0] + np.array([0.2, 0.8]) * (bounds[:, 1] - bounds[:, 0])
    return Landscape(("mlp", data_name, plane_name),
                     f"MLP on {data_name}, {'PCA' if plane_name == 'pca' else 'filter'} plane",
                     f, bounds, points, axes, first, note)


def make_landscape(name: LandscapeName, condition: float = 10.0, data_name: DataName = "xor",
                   plane: PlaneName = "pca") -> Landscape:
    """The landscape ``name`` with its settings.

    Parameters
    ----------
    name : one of :data:`LANDSCAPES`.
    condition : float >= 1, the valley's condition number ``κ`` (used by 'valley' only).
    data_name : 'xor' or 'spirals' (used by 'mlp' only).
    plane : 'pca' or 'filter' (used by 'mlp' only).

    Returns
    -------
    Landscape

    Raises
    ------
    ValueError
        Naming the setting that is not allowed.
    """
    choice(name, LANDSCAPES, "landscape")
    if name == "valley":
        return _valley(real_in(condition, "condition number", 1.0))
    if name == "mlp":
        return _mlp(choice(data_name, DATA_SETS, "data set"), choice(plane, PLANES, "plane"))
    return _synthetic(name)
