"""The base of the synthetic objectives: known critical points, a box, analytic derivatives.

A :class:`SyntheticObjective` carries a ``name``, a suggested plotting box ``bounds``
``(dim, 2)`` and its known ``critical_points``, a tuple of
:class:`~landscape.critical_point.CriticalPoint` records (the same record the critical-point
search returns). They are computed on first access, from points given exactly or to a few
published digits: Newton's method on the gradient polishes each to float64 precision, and
the Hessian's eigenvalues there classify it. :class:`AnalyticObjective` is a synthetic
objective from analytic value, gradient and Hessian functions.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike

from landscape._checks import finite_array
from landscape.critical_point import CriticalPoint
from landscape.objective import Objective, ObjectiveBase


def _frozen(a: ArrayLike) -> np.ndarray:
    """A read-only float64 copy of ``a``."""
    a = np.array(a, dtype=np.float64)
    a.setflags(write=False)
    return a


def _real(value: float, name: str) -> float:
    """``value`` as a finite float."""
    return float(finite_array(value, name, ndim=0))


def _polish(objective: Objective, theta0: np.ndarray, max_steps: int = 50) -> np.ndarray:
    """Newton's method on ``∇f = 0`` from ``theta0`` until the step is at rounding level.

    Near a nondegenerate critical point Newton converges quadratically, so the iterate
    after a step of relative size 1e-12 is exact to float64 precision. A point where the
    gradient is exactly zero (given exactly, or degenerate) is returned as it is.
    """
    x = np.array(theta0, dtype=np.float64)
    for _ in range(max_steps):
        g = objective.grad(x)
        if not np.any(g):
            return x
        step = np.linalg.solve(objective.hessian(x), g)
        x = x - step
        if np.linalg.norm(step) <= 1e-12 * max(1.0, float(np.linalg.norm(x))):
            return x
    raise RuntimeError(f"Newton's method did not converge from {theta0}")


class SyntheticObjective(ObjectiveBase):
    """An objective that knows its critical points and a box to look at.

    Attributes: ``name``; ``dim``; ``bounds`` ``(dim, 2)``, read-only, a suggested box
    ``[low, high]`` per coordinate; ``critical_points``, see below. A subclass sets them
    and ``_known``, ``(k, dim)``: the known critical points, exact or approximate.
    """

    name: str
    bounds: np.ndarray
    _known: np.ndarray
    _critical_points: tuple[CriticalPoint, ...] | None = None

    @property
    def critical_points(self) -> tuple[CriticalPoint, ...]:
        """The known critical points as :class:`~landscape.CriticalPoint` records.

        Computed on first access and kept: each known point polished by Newton's method on
        the gradient (unchanged where the gradient is exactly zero), ``theta`` read-only,
        ``eigenvalues`` those of the (analytic) Hessian there, classified with the default
        zero tolerance of :func:`landscape.critical_point.zero_tolerance`.
        """
        if self._critical_points is None:
            self._critical_points = tuple(self._classified(p) for p in self._known)
        return self._critical_points

    def _classified(self, theta0: np.ndarray) -> CriticalPoint:
        theta = _frozen(_polish(self, theta0))
        loss, g = self.loss_and_grad(theta)
        return CriticalPoint.from_eigenvalues(theta, loss, float(np.linalg.norm(g)),
                                              np.linalg.eigvalsh(self.hessian(theta)))

    def __getstate__(self):  # pickle the definition, not the points computed from it
        state = dict(self.__dict__)
        state.pop("_critical_points", None)
        return state


class AnalyticObjective(SyntheticObjective):
    """An objective given by analytic value, gradient and Hessian functions.

    Parameters
    ----------
    name : str
    dim : int, the number of parameters ``n``.
    value : callable, ``thetas (..., n) -> (...)``, vectorized over leading axes.
    grad : callable, ``theta (n,) -> (n,)``.
    hess : callable, ``theta (n,) -> (n, n)``, symmetric.
    known_points : array_like, shape ``(k, n)``: the known critical points, exact or to a
        few digits (polished on first access to ``critical_points``).
    bounds : array_like, shape ``(n, 2)``: a suggested box ``[low, high]`` per coordinate.
    hvp : optional callable ``(theta (n,), v (n,)) -> (n,)``; ``hess(theta) @ v`` otherwise.
    """

    def __init__(self, name: str, dim: int, value: Callable, grad: Callable, hess: Callable,
                 known_points: ArrayLike, bounds: ArrayLike, hvp: Callable | None = None):
        self.name, self.dim = name, dim
        self._value, self._gradient, self._hess, self._hvp_fn = value, grad, hess, hvp
        self._known = _frozen(np.reshape(known_points, (-1, dim)))
        self.bounds = _frozen(bounds)

    def _loss(self, theta):
        return float(self._value(theta))

    def _loss_and_grad(self, theta):
        return float(self._value(theta)), self._gradient(theta)

    def _hvp(self, theta, v):
        if self._hvp_fn is not None:
            return self._hvp_fn(theta, v)
        return self._hess(theta) @ v

    def _losses(self, thetas):
        return self._value(thetas)

    def hessian(self, theta: ArrayLike) -> np.ndarray:
        """The analytic Hessian, shape ``(dim, dim)``."""
        return self._hess(self._theta(theta))

    def _describe(self) -> dict:
        return {"name": self.name}
