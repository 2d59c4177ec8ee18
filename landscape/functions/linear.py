"""Deep linear networks: the loss of ``x -> W_L ⋯ W_1 x``, with exact derivatives.

Their critical points are known in closed form (Baldi and Hornik 1989 for two layers) and
gradient descent from a small start visits saddles in turn (Saxe et al. 2014), which makes
them the package's test bed for saddles with repeated and zero eigenvalues.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike

from landscape._checks import finite_array, integer
from landscape.functions.analytic import SyntheticObjective, _frozen
from landscape.objective import ParameterBlock


def _layout(widths: tuple[int, ...]) -> tuple[ParameterBlock, ...]:
    """One block per layer: the layout of an :class:`~landscape.MLP` without biases.

    ``W_l`` row-major (one row, a filter, per output unit), no bias.
    """
    blocks, start = [], 0
    for i, (fan_in, fan_out) in enumerate(zip(widths[:-1], widths[1:])):
        blocks.append(ParameterBlock(f"layer{i + 1}", slice(start, start + fan_in * fan_out),
                                     fan_out, None))
        start += fan_in * fan_out
    return tuple(blocks)


class DeepLinear(SyntheticObjective):
    """``L = ½ mean_i ||y_i − W_L ⋯ W_1 x_i||²`` over flat ``θ = (vec W_1, ..., vec W_L)``.

    ``W_l`` has shape ``(widths[l], widths[l-1])`` and is stored row-major, as ``blocks``
    describe. The gradient is back-propagation through the chain and the HVP its
    R-operator (Pearlmutter 1994); the dense ``hessian`` is built from HVPs. See
    :func:`deep_linear`.

    Attributes: ``name``, ``widths``, ``X`` (N, widths[0]), ``Y`` (N, widths[-1]),
    ``blocks`` (one :class:`~landscape.ParameterBlock` per layer, as an MLP's, for filter
    normalization), ``critical_points`` (the origin), ``bounds`` (dim, 2).
    """

    def __init__(self, widths: tuple[int, ...], X: np.ndarray, Y: np.ndarray):
        self.name, self.widths = "deep_linear", widths
        self.X, self.Y = _frozen(X), _frozen(Y)
        self.blocks = _layout(widths)
        self.dim = self.blocks[-1].weight.stop
        self._known = _frozen(np.zeros((1, self.dim)))
        self.bounds = _frozen(np.tile([-2.0, 2.0], (self.dim, 1)))

    def unflatten(self, theta: ArrayLike) -> list[np.ndarray]:
        """The weight matrices ``[W_1, ..., W_L]`` as views of ``theta``, shape ``(..., dim)``.

        Leading axes are kept: ``W_l`` comes out ``(..., widths[l], widths[l-1])``.
        """
        theta = np.asarray(theta)
        if theta.ndim == 0 or theta.shape[-1] != self.dim:
            raise ValueError(f"theta must have shape (..., {self.dim}), got {theta.shape}")
        lead = theta.shape[:-1]
        return [theta[..., b.weight].reshape(lead + (b.n_filters, fan_in))
                for b, fan_in in zip(self.blocks, self.widths[:-1])]

    def _forward(self, ws):
        """Layer outputs ``H_0 = X, H_l = H_{l-1} W_lᵀ``, each ``(..., N, widths[l])``."""
        hs = [self.X]
        for w in ws:
            hs.append(hs[-1] @ np.swapaxes(w, -1, -2))
        return hs

    def _mean_square(self, err: np.ndarray) -> np.ndarray:
        return 0.5 * np.sum(err**2, axis=(-2, -1)) / len(self.X)

    def _losses(self, thetas):
        return self._mean_square(self._forward(self.unflatten(thetas))[-1] - self.Y)

    def _loss_and_grad(self, theta):
        ws = self.unflatten(theta)
        hs = self._forward(ws)
        err = hs[-1] - self.Y
        g, grads = err / len(self.X), []
        for w, h in zip(ws[::-1], hs[-2::-1]):
            grads.append(g.T @ h)
            g = g @ w
        return float(self._mean_square(err)), np.concatenate([d.ravel() for d in grads[::-1]])

    def _hvp(self, theta, v):
        ws, vs = self.unflatten(theta), self.unflatten(v)
        hs = self._forward(ws)
        rhs = [np.zeros_like(self.X)]
        for w, dw, h in zip(ws, vs, hs):
            rhs.append(rhs[-1] @ w.T + h @ dw.T)
        g, rg = (hs[-1] - self.Y) / len(self.X), rhs[-1] / len(self.X)
        out = []
        for w, dw, h, rh in zip(ws[::-1], vs[::-1], hs[-2::-1], rhs[-2::-1]):
            out.append(rg.T @ h + g.T @ rh)
            g, rg = g @ w, rg @ w + g @ dw
        return np.concatenate([d.ravel() for d in out[::-1]])

    def _describe(self) -> dict:
        return {"widths": self.widths, "n_samples": len(self.X)}


def deep_linear(widths: Sequence[int] = (1, 1, 1), X: ArrayLike | None = None,
                Y: ArrayLike | None = None) -> DeepLinear:
    """A deep linear network's loss ``½ mean_i ||y_i − W_L ⋯ W_1 x_i||²``.

    Parameters
    ----------
    widths : sequence of ``L + 1 >= 3`` positive ints ``(d_0, ..., d_L)``; ``W_l`` is
        ``(d_l, d_{l-1})`` and ``θ`` concatenates them row-major, ``W_1`` first.
    X : array_like, shape ``(N, d_0)``; default the identity ``I_{d_0}`` (N = d_0).
    Y : array_like, shape ``(N, d_L)``; default ``X`` times the rectangular identity
        (the target map is ``I_{d_L × d_0}``).

    With the defaults, ``widths=(1, 1, 1, 1)`` gives exactly ``½(1 − w_1 w_2 w_3)²`` and the
    default ``(1, 1, 1)`` gives ``½(1 − w_1 w_2)²``. The origin is listed as a critical
    point: "degenerate" for depth ``L >= 3`` (the Hessian vanishes there); for ``L = 2`` the
    Hessian's nonzero eigenvalues there are ``±σ_i(Yᵀ X / N)``, each ``widths[1]`` times, so
    it is a "saddle" unless ``Yᵀ X = 0``, with zero eigenvalues besides unless ``Yᵀ X`` is
    square of full rank.
    """
    try:
        widths = tuple(integer(w, "widths", 1) for w in widths)
    except TypeError:
        raise ValueError(f"widths must be a sequence of positive ints, got {widths!r}") from None
    if len(widths) < 3:
        raise ValueError(f"widths needs at least 3 entries (2 layers), got {widths}")
    X = np.eye(widths[0]) if X is None else finite_array(X, "X", ndim=2)
    if X.shape[1] != widths[0] or X.shape[0] == 0:
        raise ValueError(f"X must have shape (N >= 1, {widths[0]}), got {X.shape}")
    Y = X @ np.eye(widths[0], widths[-1]) if Y is None else finite_array(Y, "Y", ndim=2)
    if Y.shape != (X.shape[0], widths[-1]):
        raise ValueError(f"Y must have shape ({X.shape[0]}, {widths[-1]}), got {Y.shape}")
    return DeepLinear(widths, X, Y)
