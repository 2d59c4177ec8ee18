"""Curvature seen through the network's outputs: ``(1/N) sum_i J_i^T C_i J_i``.

The Gauss-Newton matrix, the Fisher and the empirical Fisher share one form: the Jacobian
``J_i`` of sample ``i``'s outputs by ``theta``, applied forward and backward, around an
output-space curvature ``C_i`` (``m x m`` per sample). Only ``C_i`` differs:

- ``'ggn'``: the loss's Hessian in the outputs (the MLP's head: its positive semi-definite
  Gauss-Newton part; PyTorch: the exact Hessian of ``loss_fn`` by ``torch.func``);
- ``'fisher'``: the Fisher information of the predictive distribution in the outputs
  (:meth:`landscape.heads.SoftmaxCrossEntropy.fisher` and its siblings);
- ``'empirical_fisher'``: ``r_i r_i^T``, ``r_i`` the gradient of sample ``i``'s loss in its
  outputs, so that ``J_i^T r_i`` is the per-sample gradient.

A backend evaluates the form for one kind of objective: :class:`MLPOutputs` here (the
engine's :meth:`~landscape.MLPObjective.output_jvp` and ``output_vjp``), the PyTorch one
in :mod:`landscape.curvature._torch` (imported only for a torch objective).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, ClassVar, Literal, NamedTuple, TypeAlias

import numpy as np

from landscape._checks import positive, theta_vector
from landscape.hessian import SymmetricOperator
from landscape.mlp_objective import MLPObjective
from landscape.objective import Objective
from landscape.records import record
from landscape.vocabulary import Theta

if TYPE_CHECKING:
    from landscape.curvature._torch import TorchOutputs

#: Which output-space curvature: the Gauss-Newton matrix, the Fisher, the empirical Fisher.
OutputKind: TypeAlias = Literal["ggn", "fisher", "empirical_fisher"]


@record
class DiagonalEstimate(NamedTuple):
    """The diagonal of a symmetric ``n x n`` operator.

    ``diagonal`` ``(n,)``, its entrywise standard error ``stderr`` ``(n,)`` (zero for an
    exact diagonal) and the operator products ``n_hvp`` spent (zero when computed without
    products).
    """

    diagonal: np.ndarray
    stderr: np.ndarray
    n_hvp: int


def _rowdot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return np.sum(a * b, axis=-1, keepdims=True)


def noise_model(needs_noise: bool, noise_std: float | None, loss: str) -> float | None:
    """``noise_std`` checked against the likelihood.

    Required (positive) for a squared or absolute error (a Gaussian or a Laplace only with a
    stated noise), refused for cross-entropy.
    """
    if needs_noise:
        if noise_std is None:
            raise ValueError(f"the Fisher needs a likelihood, and the {loss} loss is one only "
                             "with a stated noise model: pass noise_std, the standard deviation "
                             "of the Gaussian (squared error) or Laplace (absolute error) "
                             "around the output that it is the negative log-likelihood of")
        return positive(noise_std, "noise_std")
    if noise_std is not None:
        raise ValueError(f"noise_std is for a Gaussian or Laplace likelihood (squared or "
                         f"absolute error); the {loss} loss's predictive distribution has no "
                         "noise parameter")
    return None


class MLPOutputs:
    """An MLP objective at ``theta`` through its logits: one kind of output curvature.

    ``product(v)`` is ``(1/N) J^T C J v`` (plus the weight decay's Hessian for the GGN,
    whose penalty is quadratic); ``diagonal()`` its exact diagonal from ``m`` backward
    passes (the per-sample square roots of ``C_i``).
    """

    def __init__(self, objective: MLPObjective, theta: np.ndarray, kind: OutputKind,
                 noise_std: float | None):
        model = objective.model
        self.objective, self.theta, self.kind = objective, theta, kind
        head, Y = model.head, objective.Y
        z = objective.logits(theta)
        o = head.output(z)
        self.scale = 1.0 / objective.n_samples
        if kind == "ggn":
            self.outer = lambda u: head.gauss_newton(z, Y, u, o)
        elif kind == "fisher":
            noise_std = noise_model(model.loss in ("mse", "mae"), noise_std, model.loss)
            self.outer = lambda u: head.fisher(u, o, noise_std)
        else:
            r = head.grad(z, Y, o)
            self.outer = lambda u: r * _rowdot(r, u)
        self.decay = model.weight_decay if kind == "ggn" else 0.0

    def _decay(self, v: np.ndarray) -> np.ndarray:
        """The weight decay's Hessian times ``v``: ``weight_decay`` on weights, 0 on biases."""
        out = np.zeros_like(v)
        for block in self.objective.blocks:
            out[block.weight] = self.decay * v[block.weight]
        return out

    def product(self, v: np.ndarray) -> np.ndarray:
        u = self.objective.output_jvp(self.theta, v)
        out = self.objective.output_vjp(self.theta, self.scale * self.outer(u))
        return out + self._decay(v) if self.decay else out

    def diagonal(self) -> np.ndarray:
        """The exact diagonal, from ``C_i = S_i S_i^T`` for each sample.

        ``eigh`` of each sample's ``m x m`` block (negative rounding clipped) gives ``S_i``,
        then the diagonal is ``sum_k sum_i (J_i^T S_i e_k)^2 / N``.
        """
        n, m = self.objective.n_samples, self.objective.model.sizes[-1]
        blocks = np.stack([self.outer(np.broadcast_to(e, (n, m))) for e in np.eye(m)], axis=-1)
        w, V = np.linalg.eigh(0.5 * (blocks + blocks.swapaxes(-1, -2)))
        roots = V * np.sqrt(np.clip(w, 0.0, None))[:, None, :]
        diag = sum(self.objective.per_sample_vjp_squares(self.theta, roots[:, :, k])
                   for k in range(m))
        v = np.ones(self.objective.dim)
        return self.scale * diag + (self._decay(v) if self.decay else 0.0)


def network_outputs(objective: Objective, theta: np.ndarray, kind: OutputKind,
                    noise_std: float | None) -> MLPOutputs | TorchOutputs:
    """The backend of ``objective``: :class:`MLPOutputs` or the PyTorch one.

    A ValueError for an objective without network outputs.
    """
    if isinstance(objective, MLPObjective):
        return MLPOutputs(objective, theta, kind, noise_std)
    adapter = sys.modules.get("landscape.torch")  # loaded if the objective is a torch one
    if adapter is not None and isinstance(objective, adapter.TorchObjective):
        from landscape.curvature._torch import TorchOutputs

        return TorchOutputs(objective, theta, kind, noise_std)
    raise ValueError("objective must be a network with outputs: an MLP objective "
                     "(MLP(...).objective(X, y)) or a torch objective "
                     "(landscape.torch.from_module); Gauss-Newton and Fisher matrices are "
                     f"built from the outputs' Jacobian, got {type(objective).__name__}")


class OutputCurvature(SymmetricOperator):
    """``(1/N) sum_i J_i^T C_i J_i`` at ``theta`` as a LinearOperator ``(dim, dim)``.

    Subclasses name the curvature ``C_i`` (``kind``). Attributes: ``objective``, ``theta``
    (a private copy). Products are exact (forward and backward Jacobian products, no finite
    differences); every spectral tool of the package takes the operator as it is.
    """

    kind: ClassVar[OutputKind]

    def __init__(self, objective: Objective, theta: Theta, noise_std: float | None = None):
        theta = theta_vector(theta, objective.dim).copy()
        self._outputs = network_outputs(objective, theta, self.kind, noise_std)
        super().__init__(objective.dim)
        self.objective, self.theta = objective, theta

    def _matvec(self, v: np.ndarray) -> np.ndarray:
        return np.asarray(self._outputs.product(np.ravel(v)), dtype=np.float64)

    def diagonal(self) -> DiagonalEstimate:
        """The exact diagonal, ``(dim,)``, for an MLP objective.

        ``m`` backward passes (``m`` outputs), no operator products; ``stderr`` is zero.

        Raises ValueError for a torch objective (estimate it with
        :func:`~landscape.curvature.hutchinson_diagonal`).
        """
        if not isinstance(self._outputs, MLPOutputs):
            raise ValueError("the exact diagonal is computed for MLP objectives; estimate a "
                             "torch objective's with hutchinson_diagonal(operator)")
        diag = np.asarray(self._outputs.diagonal(), dtype=np.float64)
        return DiagonalEstimate(diag, np.zeros_like(diag), 0)
