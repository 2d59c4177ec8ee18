"""Curvature beyond the full Hessian: blocks, Gauss-Newton, Fisher, trace and diagonal.

Every curvature here is a SciPy ``LinearOperator`` of exact matrix-free products, built on
:class:`~landscape.krylov.SymmetricOperator` like the Hessian
(:func:`~landscape.hessian_operator`), so :func:`~landscape.eigenpairs`,
:func:`~landscape.spectral_density`, the trace estimators and :func:`block_operator` take
any of them as they are (the design of curvlinops):

- :func:`ggn_operator` (:mod:`~landscape.curvature.ggn`): the generalized Gauss-Newton
  matrix ``J^T H_out J``;
- :func:`fisher_operator`, :func:`empirical_fisher_operator`
  (:mod:`~landscape.curvature.fisher`): the Fisher of the model's predictive distribution
  (equal to the GGN for softmax cross-entropy) and the empirical Fisher;
- :func:`block_operator`, :func:`layer_curvature` (:mod:`~landscape.curvature.blocks`):
  any of these, or the Hessian, restricted to a layer or a named group of parameters, and
  a per-layer table of top eigenvalues and traces;
- :func:`hutchpp_trace`, :func:`hutchinson_diagonal`
  (:mod:`~landscape.curvature.estimators`): Hutch++ and Hutchinson's diagonal, each with
  its standard error; the GGN and Fisher operators of an MLP have an exact ``diagonal()``.

They work on an MLP objective (the engine's forward and backward Jacobian products,
:meth:`~landscape.MLPObjective.output_jvp` and ``output_vjp``) and on a PyTorch objective
(``torch.func``), which is imported only when such an objective is given.
"""

from landscape.curvature._outputs import DiagonalEstimate, OutputCurvature
from landscape.curvature.blocks import (
    BlockOperator,
    LayerCurvature,
    block_operator,
    layer_curvature,
    parameter_groups,
)
from landscape.curvature.estimators import hutchinson_diagonal, hutchpp_trace
from landscape.curvature.fisher import (
    EmpiricalFisherOperator,
    FisherOperator,
    empirical_fisher_operator,
    fisher_operator,
)
from landscape.curvature.ggn import GGNOperator, ggn_operator

__all__ = [
    "BlockOperator",
    "DiagonalEstimate",
    "EmpiricalFisherOperator",
    "FisherOperator",
    "GGNOperator",
    "LayerCurvature",
    "OutputCurvature",
    "block_operator",
    "empirical_fisher_operator",
    "fisher_operator",
    "ggn_operator",
    "hutchinson_diagonal",
    "hutchpp_trace",
    "layer_curvature",
    "parameter_groups",
]
