"""The generalized Gauss-Newton matrix ``G = (1/N) sum_i J_i^T H_i J_i`` as an operator.

``J_i`` is the Jacobian of sample ``i``'s network outputs by ``theta`` and ``H_i`` the
loss's Hessian in those outputs (Schraudolph 2002; Martens 2020). ``G`` is the Hessian
without the terms that carry the network's own second derivatives, so it is positive
semi-definite whenever the loss is convex in the outputs (cross-entropy in the logits,
squared error), and it equals the Hessian where those terms vanish: a linear network, or
zero residuals.

- On an MLP (:class:`~landscape.MLPObjective`) the outputs are the logits and ``H_i`` is
  the head's Gauss-Newton curvature (:meth:`landscape.heads.SquaredError.gauss_newton`: the
  Hessian for cross-entropy, ``2c J_o^T J_o`` for the squared error of a sigmoid or softmax
  output ``o``); the weight decay's Hessian is added (the penalty is quadratic, its own
  Gauss-Newton matrix).
- On a PyTorch objective (:func:`landscape.torch.from_module`) the outputs are the
  module's and ``H_i`` is the exact Hessian of ``loss_fn`` in them (``torch.func``), the
  convention of curvlinops' ``GGNLinearOperator``.
"""

from __future__ import annotations

from typing import ClassVar

from landscape.curvature._outputs import OutputCurvature, OutputKind
from landscape.objective import Objective
from landscape.vocabulary import Theta


class GGNOperator(OutputCurvature):
    """The generalized Gauss-Newton matrix of ``objective`` at ``theta``, ``(dim, dim)``.

    Each product is one forward Jacobian product, the output curvature and one backward
    product: cheaper than a Hessian-vector product (no second derivatives of the
    activations). :meth:`diagonal` is exact for an MLP.
    """

    kind: ClassVar[OutputKind] = "ggn"

    def __init__(self, objective: Objective, theta: Theta):
        super().__init__(objective, theta)


def ggn_operator(objective: Objective, theta: Theta) -> GGNOperator:
    """The generalized Gauss-Newton matrix at ``theta`` (``(dim,)``) as a LinearOperator.

    Parameters
    ----------
    objective : an MLP objective or a torch objective (the matrix needs the network's
        outputs).
    theta : ndarray, shape ``(dim,)``.

    Returns
    -------
    GGNOperator
        Shape ``(dim, dim)``, symmetric positive semi-definite for a convex loss; takes
        :func:`~landscape.eigenpairs`, :func:`~landscape.spectral_density`, the trace
        estimators and :func:`~landscape.curvature.block_operator` as it is.

    Raises
    ------
    ValueError
        For an objective without network outputs, or a bad ``theta``.

    Examples
    --------
    >>> import numpy as np, landscape as ls
    >>> model = ls.MLP([3, 5, 2], activation="tanh", output="softmax", loss="cross_entropy")
    >>> objective = model.objective(np.eye(3), [0, 1, 1])
    >>> G = ls.ggn_operator(objective, model.init(rng=0))
    >>> G.shape
    (32, 32)
    """
    return GGNOperator(objective, theta)
