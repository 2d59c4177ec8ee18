"""Saddle-free Newton (Dauphin et al. 2014) as a gradient transformation.

With ``H = V Λ Vᵀ`` the Hessian at ``theta`` and ``u`` the incoming updates (the gradient),
:func:`scale_by_saddle_free_newton` outputs ``V (|Λ| + damping)⁻¹ Vᵀ u``; chained with
:func:`~landscape.optim.transforms.scale_by_learning_rate` it is the step
``-lr V (|Λ| + damping)⁻¹ Vᵀ g`` of :func:`saddle_free_newton`. Replacing ``Λ`` by ``|Λ|``
keeps Newton's rescaling of each direction but turns the step downhill along negative
curvature, so saddles repel instead of attract. A zero gradient gives a zero output, with
no Hessian-vector product spent.

The eigendecomposition is exact (``k=None``: ``n`` HVPs and ``eigh`` per update) or
Dauphin et al.'s approximation within the ``k``-dimensional Krylov subspace of ``H``
started from the gradient (Lanczos with full reorthogonalization, ``k`` HVPs per update).
"""

from __future__ import annotations

import dataclasses
from typing import Any, NamedTuple

import numpy as np

from landscape._checks import integer, real_in
from landscape.hessian import CountingOperator, full_spectrum, hessian_operator, lanczos, ritz
from landscape.optim.base import GradientTransformation, Optimizer, chain, optimizer
from landscape.optim.transforms import scale_by_learning_rate
from landscape.vocabulary import Schedule, Theta


class SaddleFreeState(NamedTuple):
    """``n_hvp``: the Hessian-vector products spent so far."""

    n_hvp: int


def _dense_eig(objective: Any, theta: Theta) -> tuple[np.ndarray, np.ndarray, int]:
    spectrum = full_spectrum(hessian_operator(objective, theta))
    return spectrum.eigenvalues, spectrum.eigenvectors, spectrum.n_hvp


def _krylov_eig(objective: Any, theta: Theta, grad: Theta,
                k: int) -> tuple[np.ndarray, np.ndarray, int]:
    op = CountingOperator(hessian_operator(objective, theta))
    result = lanczos(op, grad, k)
    w, u = ritz(result)
    return w, result.basis @ u, op.count


@dataclasses.dataclass(frozen=True)
class _SaddleFree:
    damping: float
    k: int | None

    def init(self, theta: Theta) -> SaddleFreeState:
        return SaddleFreeState(0)

    def update(self, updates: Theta, state: SaddleFreeState, theta: Theta,
               objective: Any) -> tuple[Theta, SaddleFreeState]:
        grad = np.asarray(updates, dtype=np.float64)
        if not np.any(grad):
            return np.zeros_like(grad), state
        if objective is None:
            raise ValueError("saddle-free Newton needs the objective for its Hessian")
        w, v, used = (_dense_eig(objective, theta) if self.k is None
                      else _krylov_eig(objective, theta, grad, self.k))
        return v @ ((v.T @ grad) / (np.abs(w) + self.damping)), SaddleFreeState(state.n_hvp + used)


def scale_by_saddle_free_newton(damping: float = 1e-3,
                                k: int | None = None) -> GradientTransformation:
    """Output ``V (|Λ| + damping)⁻¹ Vᵀ u`` with ``H = V Λ Vᵀ`` the Hessian at ``theta``.

    Parameters
    ----------
    damping : float >= 0, in curvature units; it bounds the output where ``|λ|`` is small
        (with 0, a singular Hessian gives a non-finite output).
    k : None (the exact eigendecomposition, small ``n``) or int >= 1 (the ``k``-dimensional
        Krylov subspace from ``u``; exact when ``u`` lies in an invariant subspace of
        dimension ``<= k``).

    Returns
    -------
    GradientTransformation
        Its state counts the HVPs spent (:class:`SaddleFreeState`).
    """
    damping = real_in(damping, "damping", 0.0)
    k = None if k is None else integer(k, "k", 1)
    impl = _SaddleFree(damping, k)
    return GradientTransformation(impl.init, impl.update, {"damping": damping, "k": k})


def saddle_free_newton(lr: float | Schedule = 1.0, damping: float = 1e-3,
                       k: int | None = None) -> Optimizer:
    """Saddle-free Newton: ``step = -lr V (|Λ| + damping)⁻¹ Vᵀ g``.

    Parameters
    ----------
    lr : float (positive) or a schedule ``t -> lr`` (:mod:`landscape.schedules`).
    damping, k : as in :func:`scale_by_saddle_free_newton`.

    Returns
    -------
    Optimizer
        Its state is ``(SaddleFreeState(n_hvp), ScheduleState(n_iter))``.
    """
    return optimizer(chain(scale_by_saddle_free_newton(damping, k), scale_by_learning_rate(lr)),
                     "saddle_free_newton")
