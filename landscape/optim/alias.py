"""The named optimizers, each a short chain of :mod:`~landscape.optim.transforms`.

With ``g`` the gradient at ``theta_t`` and ``lr`` a number or a schedule ``t -> lr``:

- ``gd``: ``step = -lr g``.
- ``momentum`` (Polyak's heavy ball): ``v = beta v + g``, ``step = -lr v``; with a
  constant ``lr`` this is ``theta_{t+1} = theta_t - lr g + beta (theta_t - theta_{t-1})``.
- ``nesterov``: ``v = beta v + g``, ``step = -lr (g + beta v)``.
- ``adagrad``: ``s = s + g**2``, ``step = -lr g / (sqrt(s) + eps)``.
- ``rmsprop``: ``s = decay s + (1 - decay) g**2``, ``step = -lr g / (sqrt(s) + eps)``.
- ``adam``: ``step = -lr m_hat / (sqrt(s_hat) + eps)`` (bias-corrected moments).
- ``perturbed(inner)``: ``inner`` with Jin et al.'s kicks; ``perturbed_gd`` wraps ``gd``.

Their ``hyperparams`` list the learning rate first, then the transforms' settings.
"""

from __future__ import annotations

from landscape.optim.base import Optimizer, chain, optimizer
from landscape.optim.transforms import (
    add_perturbation,
    scale_by_adagrad,
    scale_by_adam,
    scale_by_learning_rate,
    scale_by_momentum,
    scale_by_nesterov,
    scale_by_rms,
)
from landscape.vocabulary import RngLike, Schedule

LearningRate = float | Schedule


def gd(lr: LearningRate) -> Optimizer:
    """Gradient descent, ``step = -lr g``.

    Parameters
    ----------
    lr : float (positive, finite) or a schedule ``t -> lr``.
    """
    return optimizer(scale_by_learning_rate(lr), "gd")


def momentum(lr: LearningRate, beta: float = 0.9) -> Optimizer:
    """Heavy-ball momentum (Polyak 1964): ``v = beta v + g``, ``step = -lr v``.

    Parameters
    ----------
    lr : float (positive) or a schedule.
    beta : float in [0, 1).
    """
    return optimizer(chain(scale_by_momentum(beta), scale_by_learning_rate(lr)), "momentum")


def nesterov(lr: LearningRate, beta: float = 0.9) -> Optimizer:
    """Nesterov momentum: ``v = beta v + g``, ``step = -lr (g + beta v)``.

    Parameters
    ----------
    lr : float (positive) or a schedule.
    beta : float in [0, 1).
    """
    return optimizer(chain(scale_by_nesterov(beta), scale_by_learning_rate(lr)), "nesterov")


def adagrad(lr: LearningRate, eps: float = 1e-8) -> Optimizer:
    """AdaGrad: ``s = s + g**2``, ``step = -lr g / (sqrt(s) + eps)``.

    Parameters
    ----------
    lr : float (positive) or a schedule.
    eps : float, positive.
    """
    return optimizer(chain(scale_by_adagrad(eps), scale_by_learning_rate(lr)), "adagrad")


def rmsprop(lr: LearningRate, decay: float = 0.9, eps: float = 1e-8) -> Optimizer:
    """RMSProp: ``s = decay s + (1 - decay) g**2``, ``step = -lr g / (sqrt(s) + eps)``.

    Parameters
    ----------
    lr : float (positive) or a schedule.
    decay : float in [0, 1).
    eps : float, positive.
    """
    return optimizer(chain(scale_by_rms(decay, eps), scale_by_learning_rate(lr)), "rmsprop")


def adam(lr: LearningRate, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8) -> Optimizer:
    """Adam with bias-corrected moments.

    Parameters
    ----------
    lr : float (positive) or a schedule.
    b1, b2 : float in [0, 1).
    eps : float, positive.
    """
    return optimizer(chain(scale_by_adam(b1, b2, eps), scale_by_learning_rate(lr)), "adam")


def perturbed(inner: Optimizer, radius: float = 0.1, g_threshold: float = 1e-3,
              t_thres: int = 50, rng: RngLike = None) -> Optimizer:
    """``inner`` with Jin et al.'s random kicks, named ``perturbed_<inner.name>``.

    Parameters
    ----------
    inner : Optimizer
    radius, g_threshold, t_thres, rng : as in
        :func:`~landscape.optim.transforms.add_perturbation`.
    """
    if not isinstance(inner, Optimizer):
        raise ValueError(f"inner must be an Optimizer, got {type(inner).__name__}")
    return optimizer(add_perturbation(inner, radius, g_threshold, t_thres, rng),
                     f"perturbed_{inner.name}")


def perturbed_gd(lr: LearningRate, radius: float = 0.1, g_threshold: float = 1e-3,
                 t_thres: int = 50, rng: RngLike = None) -> Optimizer:
    """Perturbed gradient descent (Jin et al. 2017): :func:`perturbed` around :func:`gd`."""
    return perturbed(gd(lr), radius, g_threshold, t_thres, rng)
