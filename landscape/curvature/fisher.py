"""The Fisher information matrix and the empirical Fisher as operators.

The (true) Fisher is the covariance of the score under the model's own predictive
distribution ``p(y | x_i, theta)``, averaged over the samples:

    ``F = (1/N) sum_i E_{y ~ p(. | x_i)} [g_i(y) g_i(y)^T]``

with ``g_i(y) = d(-log p(y | x_i)) / dtheta``, so it needs the loss to be a negative
log-likelihood: softmax cross-entropy (categorical), sigmoid cross-entropy (independent
Bernoullis), or a squared or absolute error with a stated noise ``noise_std`` (the
Gaussian ``N(output, noise_std^2 I)``, the Laplace of that standard deviation); anything
else is refused. Since
``g_i(y) = J_i^T s(y)`` with ``s`` the score in the outputs, ``F = (1/N) sum_i J_i^T
E[s s^T] J_i``: a Gauss-Newton form whose output curvature is the distribution's Fisher
information. For an exponential family in its natural parameters (softmax and sigmoid
cross-entropy on the logits, one-hot targets) that equals the loss's Hessian in the
outputs, so the Fisher *is* the generalized Gauss-Newton matrix (Martens 2020, Sec. 9.2);
for a Gaussian it is the GGN of the squared error times ``1 / (2 c noise_std^2)``, and a
Laplace's is twice the Gaussian's of the same standard deviation (the absolute error's
GGN is zero: it has no curvature off its kink).

The empirical Fisher replaces the model's labels by the data's: ``(1/N) sum_i g_i g_i^T``
with ``g_i`` the gradient of sample ``i``'s loss (Kunstner et al. 2019 on how it differs).
It needs no likelihood. On an MLP its ``g_i`` are the rows of
:meth:`~landscape.MLPObjective.per_sample_grads` (weight decay left out).
"""

from __future__ import annotations

from typing import ClassVar

from landscape.curvature._outputs import OutputCurvature, OutputKind
from landscape.objective import Objective
from landscape.vocabulary import Theta


class FisherOperator(OutputCurvature):
    """The Fisher of the model's predictive distribution at ``theta``, ``(dim, dim)``.

    The output curvature is the distribution's Fisher information computed from its
    definition (the expectation of the score's outer product over the outcomes);
    ``noise_std`` (an attribute) is the noise's for a squared or absolute error, else None.
    """

    kind: ClassVar[OutputKind] = "fisher"

    def __init__(self, objective: Objective, theta: Theta, noise_std: float | None = None):
        super().__init__(objective, theta, noise_std)
        self.noise_std = noise_std


class EmpiricalFisherOperator(OutputCurvature):
    """The empirical Fisher ``(1/N) sum_i g_i g_i^T`` at ``theta``, ``(dim, dim)``.

    Rank at most ``N``, never formed (each product is one forward and one backward pass).
    """

    kind: ClassVar[OutputKind] = "empirical_fisher"

    def __init__(self, objective: Objective, theta: Theta):
        super().__init__(objective, theta)


def fisher_operator(objective: Objective, theta: Theta,
                    noise_std: float | None = None) -> FisherOperator:
    """The Fisher information matrix at ``theta`` (``(dim,)``) as a LinearOperator.

    Parameters
    ----------
    objective : an MLP objective or a torch objective whose loss is a negative
        log-likelihood (see the module notes).
    theta : ndarray, shape ``(dim,)``.
    noise_std : float, the standard deviation of the noise a squared-error (Gaussian) or
        absolute-error (Laplace) loss models: required for those, refused for cross-entropy.

    Returns
    -------
    FisherOperator
        Shape ``(dim, dim)``, positive semi-definite.

    Raises
    ------
    ValueError
        For a loss that is not a likelihood (a squared or absolute error without
        ``noise_std``, a torch loss other than cross-entropy, binary cross-entropy with
        logits, MSE or L1, a weighted or label-smoothed cross-entropy), ``noise_std`` with
        cross-entropy, or an objective without network outputs.
    """
    return FisherOperator(objective, theta, noise_std)


def empirical_fisher_operator(objective: Objective, theta: Theta) -> EmpiricalFisherOperator:
    """The empirical Fisher ``(1/N) sum_i g_i g_i^T`` at ``theta``, a LinearOperator.

    Shape ``(dim, dim)``; ``g_i`` is the gradient of sample ``i``'s loss (any loss).

    Raises ValueError for an objective without network outputs or a bad ``theta``.
    """
    return EmpiricalFisherOperator(objective, theta)
