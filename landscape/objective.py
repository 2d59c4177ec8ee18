"""The Objective protocol: a scalar loss on a flat parameter vector, with exact derivatives.

Every analysis in the package (optimizers, Hessian spectra, critical points, surfaces)
takes an object with this interface, whether it is an MLP bound to data
(:meth:`landscape.MLP.objective`), a synthetic test function
(:mod:`landscape.functions`) or a user's own function (:func:`from_function`).

Shapes: ``theta`` is ``(n,)``; many points ``thetas`` are ``(k, n)``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple, Protocol, runtime_checkable

import numpy as np
from numpy.typing import ArrayLike

from landscape._checks import (
    as_rng,
    finite_array,
    integer,
    returned,
    theta_matrix,
    theta_vector,
)
from landscape.records import record
from landscape.vocabulary import RngLike, Theta, Thetas


class ParameterBlock(NamedTuple):
    """Where one layer's parameters sit in ``theta``: the structure filter normalization needs.

    ``theta[weight].reshape(n_filters, -1)`` has one row per filter (a neuron's incoming
    weights; a convolution's output channel); ``theta[bias]`` (length ``n_filters``) holds
    the biases, or ``bias`` is None. Objectives with layers expose ``blocks``, a tuple of these.
    """

    name: str
    weight: slice
    n_filters: int
    bias: slice | None


@runtime_checkable
class Objective(Protocol):
    """A twice-differentiable scalar function of ``theta``, shape ``(dim,)``."""

    dim: int

    def loss(self, theta: Theta) -> float:
        """The loss at ``theta``."""
        ...

    def grad(self, theta: Theta) -> np.ndarray:
        """The gradient at ``theta``, shape ``(dim,)``."""
        ...

    def loss_and_grad(self, theta: Theta) -> tuple[float, np.ndarray]:
        """``(loss, grad)`` at ``theta`` in one pass."""
        ...

    def hvp(self, theta: Theta, v: Theta) -> np.ndarray:
        """The Hessian at ``theta`` times ``v`` (``(dim,)``), shape ``(dim,)``."""
        ...

    def hessian(self, theta: Theta) -> np.ndarray:
        """The dense Hessian at ``theta``, shape ``(dim, dim)``."""
        ...

    def losses(self, thetas: Thetas) -> np.ndarray:
        """The losses at the rows of ``thetas`` (``(k, dim)``), shape ``(k,)``."""
        ...

    def losses_in_span(self, center: Theta, directions: Thetas, coords: ArrayLike
                       ) -> np.ndarray:
        """The losses at ``center + coords @ directions`` (``coords`` ``(k, d)``), ``(k,)``."""
        ...


@runtime_checkable
class SampleObjective(Objective, Protocol):
    """An Objective that is a mean over ``n_samples`` samples; ``subset`` gives minibatches."""

    n_samples: int

    def subset(self, indices: ArrayLike) -> SampleObjective:
        """The mean over the samples ``indices`` (``(b,)`` ints): a minibatch."""
        ...


def check_objective(objective: Any, name: str = "objective") -> Objective:
    """``objective`` if it looks like an :class:`Objective`, else a ValueError naming ``name``.

    It looks like one with an integer ``dim``, which every function reads first (wrappers
    that define only the methods a function uses pass). The ValueError says what was given
    (None, an MLP before it is bound to data, a Directions record).
    """
    dim = getattr(objective, "dim", None)
    if isinstance(dim, (int, np.integer)) and not isinstance(dim, (bool, np.bool_)):
        return objective
    hint = (": bind a network to data first, model.objective(X, y)"
            if hasattr(objective, "objective") and hasattr(objective, "n_params") else "")
    raise ValueError(f"{name} must be an Objective (dim, loss, grad, hvp, ...: "
                     "model.objective(X, y), ls.functions.*, ls.from_function(f, dim)), got "
                     f"{type(objective).__name__}{hint}")


class ObjectiveBase:
    """Validation and defaults shared by every objective in the package.

    A subclass sets ``dim`` and implements ``_loss_and_grad(theta)`` and
    ``_hvp(theta, v)`` on checked inputs; it may override ``_loss``,
    ``_losses`` and ``_losses_in_span`` where it can do better than the defaults
    (a loop over points). The public methods check their inputs and raise
    ``ValueError`` naming the problem. The ``repr`` is one line: the class, ``dim``, what
    :meth:`_describe` says the objective is, ``n_samples`` and a dtype other than float64.
    """

    dim: int
    dtype: np.dtype = np.dtype(np.float64)

    def __repr__(self) -> str:
        items = {"dim": self.dim, **self._describe()}
        n_samples = getattr(self, "n_samples", None)  # sample means only
        if n_samples is not None:
            items["n_samples"] = n_samples
        if np.dtype(self.dtype) != np.float64:
            items["dtype"] = np.dtype(self.dtype).name
        text = ", ".join(f"{k}={v!r}" if isinstance(v, str) else f"{k}={v}"
                         for k, v in items.items())
        return f"{type(self).__name__}({text})"

    def _describe(self) -> dict[str, Any]:
        """What the objective is beyond its dimension, for the ``repr``: ``{name: value}``."""
        return {}

    # -- what a subclass provides -------------------------------------------------
    def _loss_and_grad(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        raise NotImplementedError

    def _hvp(self, theta: np.ndarray, v: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _loss(self, theta: np.ndarray) -> float:
        return self._loss_and_grad(theta)[0]

    def _losses(self, thetas: np.ndarray) -> np.ndarray:
        return np.array([self._loss(t) for t in thetas], dtype=np.float64)

    def _losses_in_span(self, center: np.ndarray, directions: np.ndarray, coords: np.ndarray
                        ) -> np.ndarray:
        return self._losses(center + coords @ directions)

    # -- the public, checked interface -----------------------------------------------
    def _theta(self, theta: ArrayLike, name: str = "theta") -> np.ndarray:
        return theta_vector(theta, self.dim, name, self.dtype)

    def loss(self, theta: Theta) -> float:
        """The loss at ``theta``, shape ``(dim,)``."""
        return float(self._loss(self._theta(theta)))

    def grad(self, theta: Theta) -> np.ndarray:
        """The gradient, shape ``(dim,)``."""
        return self._loss_and_grad(self._theta(theta))[1]

    def loss_and_grad(self, theta: Theta) -> tuple[float, np.ndarray]:
        """``(loss, grad)`` in one pass."""
        value, g = self._loss_and_grad(self._theta(theta))
        return float(value), g

    def hvp(self, theta: Theta, v: Theta) -> np.ndarray:
        """The exact Hessian-vector product ``H(theta) @ v``, shape ``(dim,)``."""
        return self._hvp(self._theta(theta), self._theta(v, "v"))

    def hessian(self, theta: Theta) -> np.ndarray:
        """The dense Hessian, shape ``(dim, dim)``, built from ``dim`` HVPs and symmetrized."""
        theta = self._theta(theta)
        eye = np.eye(self.dim, dtype=self.dtype)
        h = np.stack([self._hvp(theta, e) for e in eye], axis=1)
        return 0.5 * (h + h.T)

    def losses(self, thetas: Thetas) -> np.ndarray:
        """Losses at many points, ``thetas`` shape ``(k, dim)`` -> ``(k,)``."""
        thetas = theta_matrix(thetas, self.dim, "thetas", self.dtype)
        return np.asarray(self._losses(thetas), dtype=np.float64)

    def losses_in_span(self, center: Theta, directions: Thetas, coords: ArrayLike
                       ) -> np.ndarray:
        """Losses at ``center + coords @ directions``.

        ``center`` is ``(dim,)``, ``directions`` ``(d, dim)`` and ``coords`` ``(k, d)``;
        returns ``(k,)``. Objectives that can exploit the affine structure (the MLP's
        first layer is linear in the coordinates) override the private method; the
        default forms the points and calls :meth:`losses`.
        """
        center = self._theta(center, "center")
        directions = theta_matrix(directions, self.dim, "directions", self.dtype)
        coords = finite_array(coords, "coords", self.dtype, ndim=2)
        if coords.shape[1] != directions.shape[0]:
            raise ValueError(
                f"coords must have shape (k, {directions.shape[0]}) for {directions.shape[0]} "
                f"directions, got {coords.shape}"
            )
        return np.asarray(self._losses_in_span(center, directions, coords), dtype=np.float64)


# ---------------------------------------------------------------------------------
# A user's own function
# ---------------------------------------------------------------------------------


def _fd_step(theta: np.ndarray, order: int) -> float:
    """A central-difference step balancing truncation and rounding error."""
    eps = np.finfo(np.float64).eps
    return eps ** (1.0 / (order + 2)) * max(1.0, float(np.max(np.abs(theta))))


def fd_grad(f: Callable[[np.ndarray], float], theta: np.ndarray,
            h: float | None = None) -> np.ndarray:
    """Central finite-difference gradient of ``f`` at ``theta`` (``2 n`` evaluations)."""
    h = _fd_step(theta, 1) if h is None else h
    g = np.empty_like(theta, dtype=np.float64)
    for i in range(theta.size):
        e = np.zeros_like(theta)
        e[i] = h
        g[i] = (f(theta + e) - f(theta - e)) / (2 * h)
    return g


def fd_hvp(grad: Callable[[np.ndarray], np.ndarray], theta: np.ndarray, v: np.ndarray,
           h: float | None = None) -> np.ndarray:
    """Central finite difference of ``grad`` along ``v``: ``(g(θ+hv) - g(θ-hv)) / 2h`` scaled."""
    norm = float(np.linalg.norm(v))
    if norm == 0.0:
        return np.zeros_like(theta, dtype=np.float64)
    h = _fd_step(theta, 1) if h is None else h
    u = v / norm
    return (grad(theta + h * u) - grad(theta - h * u)) * (norm / (2 * h))


class FunctionObjective(ObjectiveBase):
    """An Objective from plain functions; missing derivatives come from finite differences.

    With only ``f``, the gradient costs ``2 n`` calls of ``f`` (accurate to about 1e-10
    relative) and the HVP differences that gradient (about 1e-5): fine for pictures,
    not for tight eigenvalue work. Give ``grad`` (and ``hvp``) for exact curvature.
    """

    def __init__(self, f: Callable[[Theta], float], dim: int,
                 grad: Callable[[Theta], ArrayLike] | None = None,
                 hvp: Callable[[Theta, Theta], ArrayLike] | None = None,
                 losses: Callable[[Thetas], ArrayLike] | None = None):
        if not callable(f):
            raise ValueError("f must be callable: f(theta) -> float")
        for fn, name in ((grad, "grad"), (hvp, "hvp"), (losses, "losses")):
            if fn is not None and not callable(fn):
                raise ValueError(f"{name} must be None or callable, got {type(fn).__name__}")
        self.dim = integer(dim, "dim", 1)
        self._f, self._g, self._h, self._batch = f, grad, hvp, losses

    def _describe(self) -> dict[str, Any]:
        given = {"grad": self._g, "hvp": self._h}
        return {"f": getattr(self._f, "__qualname__", type(self._f).__name__),
                **{k: "given" if fn is not None else "finite differences"
                   for k, fn in given.items()}}

    def _finite_where_f_is(self, values: np.ndarray, name: str, theta: np.ndarray,
                           loss: float | None = None) -> np.ndarray:
        """``values`` from the user's ``name``, checked finite where ``f`` is.

        NaN or inf pass only where ``f`` is not finite (a diverged point), else a ValueError
        names the function. ``loss``: ``f(theta)`` if known (evaluated only when ``values``
        are not finite).
        """
        if not np.all(np.isfinite(values)):
            loss = self._loss(theta) if loss is None else loss
            if np.isfinite(loss):
                raise ValueError(f"{name} returned NaN or inf at a point where f is finite "
                                 f"(f = {loss!r})")
        return values

    def _loss(self, theta: np.ndarray) -> float:
        return float(returned(self._f(theta), "f", ()))

    def _gradient(self, theta: np.ndarray) -> np.ndarray:
        if self._g is not None:
            return returned(self._g(theta), "grad", (self.dim,))
        return fd_grad(self._f, theta, _fd_step(theta, 1))

    def _loss_and_grad(self, theta: np.ndarray) -> tuple[float, np.ndarray]:
        loss = self._loss(theta)
        return loss, self._finite_where_f_is(self._gradient(theta), "grad", theta, loss)

    def _hvp(self, theta: np.ndarray, v: np.ndarray) -> np.ndarray:
        if self._h is not None:
            hv = returned(self._h(theta, v), "hvp", (self.dim,))
            return self._finite_where_f_is(hv, "hvp", theta)
        order = 1 if self._g is not None else 2
        return fd_hvp(self._gradient, theta, v, _fd_step(theta, order))

    def _losses(self, thetas: np.ndarray) -> np.ndarray:
        if self._batch is not None:
            return returned(self._batch(thetas), "losses", (len(thetas),))
        return super()._losses(thetas)


def from_function(f: Callable[[Theta], float], dim: int,
                  grad: Callable[[Theta], ArrayLike] | None = None,
                  hvp: Callable[[Theta, Theta], ArrayLike] | None = None,
                  losses: Callable[[Thetas], ArrayLike] | None = None) -> FunctionObjective:
    """Make an Objective from a user's ``f(theta) -> float``.

    Parameters
    ----------
    f : callable, ``f(theta) -> float`` with ``theta`` of shape ``(dim,)``.
    dim : the number of parameters.
    grad : optional ``grad(theta) -> (dim,)``; central differences of ``f`` otherwise.
    hvp : optional ``hvp(theta, v) -> (dim,)``; central differences of ``grad`` otherwise.
    losses : optional vectorized ``losses(thetas: (k, dim)) -> (k,)``.

    Raises
    ------
    ValueError
        When called, naming the function: ``f`` does not return one real number, or
        ``grad``, ``hvp`` or ``losses`` do not return real arrays of the shapes above, or
        ``grad`` or ``hvp`` return NaN or inf where ``f`` is finite (where ``f`` is not
        finite, a diverged point, they may).
    """
    return FunctionObjective(f, dim, grad, hvp, losses)


# ---------------------------------------------------------------------------------
# Checking an objective's derivatives
# ---------------------------------------------------------------------------------


@record
class DerivativeCheck(NamedTuple):
    """Relative errors of an objective's derivatives against central finite differences.

    ``grad_error``: ``|g - g_fd| / |g_fd|`` (full gradient for small ``dim``, else the
    largest error of directional derivatives along random unit vectors);
    ``hvp_error``: the largest ``|Hv - Hv_fd| / |Hv_fd|`` over random ``v``.
    """

    grad_error: float
    hvp_error: float
    n_directions: int


def _relative_error(a: ArrayLike, b: ArrayLike) -> float:
    scale = max(float(np.linalg.norm(a)), float(np.linalg.norm(b)), np.finfo(np.float64).tiny)
    return float(np.linalg.norm(np.asarray(a) - np.asarray(b))) / scale


def check_derivatives(objective: Objective, theta: Theta, rng: RngLike = None,
                      n_directions: int = 3, max_full: int = 400) -> DerivativeCheck:
    """Compare ``objective.grad`` and ``objective.hvp`` at ``theta`` with finite differences.

    The gradient is compared in full when ``dim <= max_full`` (``2 dim`` loss
    evaluations, batched through ``losses``), else along ``n_directions`` random unit
    vectors; the HVP along ``n_directions`` random vectors, against central
    differences of ``grad``. Use float64 objectives: float32 rounding (~1e-7) swamps
    the finite differences.
    """
    theta = theta_vector(theta, objective.dim)
    rng = as_rng(rng)
    n_directions = integer(n_directions, "n_directions", 1)
    max_full = integer(max_full, "max_full")
    n = objective.dim
    g = objective.grad(theta)
    h1 = _fd_step(theta, 1)
    if n <= max_full:
        steps = h1 * np.eye(n)
        values = objective.losses(np.concatenate([theta + steps, theta - steps]))
        grad_error = _relative_error(g, (values[:n] - values[n:]) / (2 * h1))
    else:
        errors = []
        for _ in range(n_directions):
            u = rng.standard_normal(n)
            u /= np.linalg.norm(u)
            fd = (objective.loss(theta + h1 * u) - objective.loss(theta - h1 * u)) / (2 * h1)
            errors.append(_relative_error([g @ u], [fd]))
        grad_error = max(errors)
    hvp_error = max(
        _relative_error(objective.hvp(theta, v), fd_hvp(objective.grad, theta, v, h1))
        for v in rng.standard_normal((n_directions, n))
    )
    return DerivativeCheck(grad_error, hvp_error, n_directions)
