"""Output layer and loss together: the per-sample loss as a function of the logits ``z``.

A head maps the last pre-activation ``z`` (``(..., N, m)``, N samples, m outputs) and the
targets ``Y`` (``(N, m)``) to

- ``value(z, Y)``: the mean loss over the samples, shape ``z.shape[:-2]``;
- ``value_and_output(z, Y)``: the value and the outputs ``o`` together (softmax shares
  one ``exp`` between them);
- ``grad(z, Y, o)``: ``d loss_i / d z_i`` per sample, ``(N, m)`` (not divided by N);
- ``hvp(z, Y, u, o)``: ``(d^2 loss_i / d z_i^2) u_i`` per sample, ``(N, m)``: the exact
  output Hessian applied to ``u``, which the R-operator needs;
- ``output(z)``: the network's prediction ``o``;
- ``gauss_newton(z, Y, u, o)``: the positive semi-definite output curvature of the
  generalized Gauss-Newton matrix applied to ``u``, per sample, ``(N, m)``: the Hessian
  itself for cross-entropy (convex in the logits), ``2 c J_o^T J_o u`` for the squared
  error of an output ``o(z)`` with Jacobian ``J_o`` (its residual term dropped);
- ``fisher(u, o, noise_std)``: the Fisher information of the model's predictive
  distribution in the logits applied to ``u``, per sample, ``(N, m)``: categorical
  (softmax), independent Bernoullis (sigmoid) or, for the squared error, the Gaussian
  ``N(o, noise_std^2 I)`` (``noise_std`` is used by the squared error only).

Mean squared error is the mean over samples *and* outputs, ``mean((o - y)^2)`` (PyTorch's
``MSELoss``), times 1/2 when ``half=True``; mean absolute error likewise ``mean(|o - y|)``
(``L1Loss``), with the kink at a zero residual reported as it is (:class:`AbsoluteError`).
Cross-entropy is summed over outputs and averaged over samples; softmax cross-entropy uses
a stable log-sum-exp, sigmoid cross-entropy ``log(1 + e^z) - y z``.
"""

from __future__ import annotations

from typing import Literal, TypeAlias, get_args

import numpy as np

from landscape.activations import sigmoid

#: The network's output layer: ``'linear'``, ``'sigmoid'`` or ``'softmax'``.
OutputName: TypeAlias = Literal["linear", "sigmoid", "softmax"]
#: The loss: ``'mse'``, ``'mae'`` or ``'cross_entropy'``.
LossName: TypeAlias = Literal["mse", "mae", "cross_entropy"]


def _rowmax(z: np.ndarray) -> np.ndarray:
    """``z.max(axis=-1, keepdims=True)``, column by column when rows are short.

    NumPy reduces a short last axis row by row: on ``(1797, 10)`` that took 170 us, the
    loop over the 10 columns 13 us (the same numbers: a maximum is exact).
    """
    if z.shape[-1] > 64:
        return z.max(axis=-1, keepdims=True)
    out = z[..., 0].copy()
    for j in range(1, z.shape[-1]):
        np.maximum(out, z[..., j], out=out)
    return out[..., None]


def _rowsum(a: np.ndarray) -> np.ndarray:
    """Sums over the last axis of ``a`` ``(..., n)``, shape ``(...)``.

    A matrix-vector product (BLAS), not a reduction: on ``(1797, 10)`` 4 us against 27 us.
    """
    return a @ np.ones(a.shape[-1], a.dtype)


def _softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - _rowmax(z))
    e /= _rowsum(e)[..., None]
    return e


def _rowdot(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return _rowsum(a * b)[..., None]


def _softmax_jvp(p: np.ndarray, u: np.ndarray) -> np.ndarray:
    """``J u`` for the softmax Jacobian ``J = diag(p) - p p^T`` (symmetric)."""
    return p * (u - _rowdot(p, u))


def _softmax_jvp_change(p: np.ndarray, r: np.ndarray, rp: np.ndarray) -> np.ndarray:
    """``R{J} r``: how ``J r`` changes (``r`` held) when ``p`` moves by ``rp = J u``."""
    return rp * (r - _rowdot(p, r)) - p * _rowdot(rp, r)


def _output_gram(kind: str, u: np.ndarray, o: np.ndarray) -> np.ndarray:
    """``J_o^T J_o u``, ``(N, m)``, with ``J_o`` the Jacobian of the output ``o(z)``.

    ``J_o`` (symmetric) is that of the output of kind ``kind``.
    """
    if kind == "linear":
        return u
    if kind == "sigmoid":
        s1 = o * (1.0 - o)
        return s1 * s1 * u
    return _softmax_jvp(o, _softmax_jvp(o, u))


def _through_output(kind: str, o: np.ndarray, r: np.ndarray) -> np.ndarray:
    """``J_o^T r``, ``(N, m)``: a gradient ``r`` in the outputs ``o = o(z)`` carried to the logits.

    ``kind`` is the output (``'linear'``, ``'sigmoid'`` or ``'softmax'``).
    """
    if kind == "linear":
        return r
    if kind == "sigmoid":
        return r * o * (1.0 - o)
    return _softmax_jvp(o, r)


class SoftmaxCrossEntropy:
    """Softmax output with cross-entropy ``-sum_j Y_j log p_j``; ``Y`` one-hot or soft.

    Soft target rows need not sum to one (label smoothing rounds, multi-label rows): with
    ``s = sum_j Y_j`` the loss is ``s lse(z) - Y . z``, its gradient ``s p - Y`` and its
    Hessian ``s (diag(p) - p p^T)``. For one-hot rows ``s = 1`` and these are the usual
    ``lse(z) - z_y``, ``p - Y`` and ``diag(p) - p p^T`` bit for bit.
    """

    def output(self, z: np.ndarray) -> np.ndarray:
        """The probabilities ``softmax(z)``, shape of ``z``."""
        return _softmax(z)

    def value_and_output(self, z: np.ndarray, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The mean loss and the probabilities, from one ``exp`` (stable log-sum-exp)."""
        zmax = _rowmax(z)
        e = np.exp(z - zmax)
        total = _rowsum(e)
        lse = np.log(total) + zmax[..., 0]
        e /= total[..., None]
        return (lse * _rowsum(Y) - _rowsum(Y * z)).mean(axis=-1), e

    def value(self, z: np.ndarray, Y: np.ndarray) -> np.ndarray:
        """The mean loss over the samples, shape ``z.shape[:-2]``."""
        return self.value_and_output(z, Y)[0]

    def grad(self, z: np.ndarray, Y: np.ndarray, o: np.ndarray) -> np.ndarray:
        """``s p - Y`` per sample, ``(N, m)``."""
        return o * _rowsum(Y)[..., None] - Y

    def hvp(self, z: np.ndarray, Y: np.ndarray, u: np.ndarray, o: np.ndarray) -> np.ndarray:
        """``s (diag(p) - p p^T) u`` per sample, ``(N, m)``."""
        return _rowsum(Y)[..., None] * _softmax_jvp(o, u)

    gauss_newton = hvp  # convex in the logits: the Hessian is the Gauss-Newton curvature

    def fisher(self, u: np.ndarray, o: np.ndarray, noise_std: float | None = None
               ) -> np.ndarray:
        """``E_y[s s^T] u`` by its definition, per sample, ``(N, m)``.

        Outcome ``k`` (probability ``p_k``) has the score ``s_k = p - e_k`` in the logits.
        """
        scores = o[..., None, :] - np.eye(o.shape[-1])  # (N, m, m): row k is p - e_k
        return np.einsum("nk,nkj->nj", o * np.einsum("nkj,nj->nk", scores, u), scores)


class SigmoidCrossEntropy:
    """Independent sigmoid outputs with binary cross-entropy per output."""

    def output(self, z: np.ndarray) -> np.ndarray:
        """The probabilities ``sigmoid(z)``, shape of ``z``."""
        return sigmoid(z)

    def value_and_output(self, z: np.ndarray, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The mean loss (``z.shape[:-2]``) and the probabilities (shape of ``z``)."""
        return self.value(z, Y), sigmoid(z)

    def value(self, z: np.ndarray, Y: np.ndarray) -> np.ndarray:
        """The mean loss over the samples, shape ``z.shape[:-2]``."""
        return _rowsum(np.logaddexp(0.0, z) - Y * z).mean(axis=-1)

    def grad(self, z: np.ndarray, Y: np.ndarray, o: np.ndarray) -> np.ndarray:
        """``o - Y`` per sample, ``(N, m)``."""
        return o - Y

    def hvp(self, z: np.ndarray, Y: np.ndarray, u: np.ndarray, o: np.ndarray) -> np.ndarray:
        """``o (1 - o) u`` per sample, ``(N, m)``."""
        return o * (1.0 - o) * u

    gauss_newton = hvp  # convex in the logits: the Hessian is the Gauss-Newton curvature

    def fisher(self, u: np.ndarray, o: np.ndarray, noise_std: float | None = None
               ) -> np.ndarray:
        """``E_y[s s^T] u`` by its definition for independent Bernoulli outputs, ``(N, m)``.

        Outcome 1 (probability ``o``) has the score ``o - 1``, outcome 0 the score ``o``; the
        scores of different outputs are independent with mean zero, so no cross terms.
        """
        return (o * (o - 1.0) ** 2 + (1.0 - o) * o * o) * u


class SquaredError:
    """Mean squared error of a linear, sigmoid or softmax output."""

    def __init__(self, output: OutputName, n_outputs: int, half: bool):
        self.kind = output
        self.scale = (0.5 if half else 1.0) / n_outputs

    def output(self, z: np.ndarray) -> np.ndarray:
        """The network's output ``o(z)``, shape of ``z``."""
        if self.kind == "linear":
            return z
        return sigmoid(z) if self.kind == "sigmoid" else _softmax(z)

    def value_and_output(self, z: np.ndarray, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The mean loss (``z.shape[:-2]``) and the outputs (shape of ``z``)."""
        o = self.output(z)
        r = o - Y
        return self.scale * np.einsum("...nm,...nm->...n", r, r).mean(axis=-1), o

    def value(self, z: np.ndarray, Y: np.ndarray) -> np.ndarray:
        """The mean loss over the samples, shape ``z.shape[:-2]``."""
        return self.value_and_output(z, Y)[0]

    def grad(self, z: np.ndarray, Y: np.ndarray, o: np.ndarray) -> np.ndarray:
        """``2 c J_o^T (o - Y)`` per sample, ``(N, m)``."""
        return _through_output(self.kind, o, 2.0 * self.scale * (o - Y))

    def hvp(self, z: np.ndarray, Y: np.ndarray, u: np.ndarray, o: np.ndarray) -> np.ndarray:
        """The exact output Hessian applied to ``u``, residual term included, ``(N, m)``."""
        c = 2.0 * self.scale
        if self.kind == "linear":
            return c * u
        if self.kind == "sigmoid":
            s1 = o * (1.0 - o)
            return c * (s1 * s1 + (o - Y) * s1 * (1.0 - 2.0 * o)) * u
        # softmax: g = J r with r = c (o - Y); R{g} = R{J} r + J R{r}, R{o} = J u.
        r = c * (o - Y)
        ro = _softmax_jvp(o, u)
        return _softmax_jvp_change(o, r, ro) + _softmax_jvp(o, c * ro)

    def gauss_newton(self, z: np.ndarray, Y: np.ndarray, u: np.ndarray, o: np.ndarray
                     ) -> np.ndarray:
        """``2 c J_o^T J_o u``, ``(N, m)``: the Hessian without the residual term.

        It is the Hessian itself for a linear output.
        """
        return 2.0 * self.scale * _output_gram(self.kind, u, o)

    def fisher(self, u: np.ndarray, o: np.ndarray, noise_std: float | None = None
               ) -> np.ndarray:
        """The Fisher of the Gaussian ``N(o, noise_std^2 I)`` in the logits, ``(N, m)``.

        ``J_o^T J_o u / noise_std^2``; ``noise_std`` is required.
        """
        if noise_std is None:
            raise ValueError("the squared error's Fisher needs noise_std, the standard "
                             "deviation of its Gaussian")
        return _output_gram(self.kind, u, o) / noise_std**2


class AbsoluteError:
    """Mean absolute error of a linear, sigmoid or softmax output.

    ``mean(|o - Y|)`` over samples and outputs (PyTorch's ``L1Loss``).

    Kept honest, as the step activation is: ``|r|`` has no derivative at ``r = 0`` and a
    second derivative of zero wherever it has one.

    - The gradient is ``J_o^T sign(o - Y) / m``, with ``sign(0) = 0`` where a residual is
      exactly zero (a subgradient; PyTorch's ``L1Loss`` returns the same). Its size does not
      shrink as the residuals do: fixed-step gradient descent chatters around a minimum
      instead of settling into it, as it does with the squared error's shrinking gradient.
    - The Hessian-vector product is the Hessian where it exists: the output's own curvature
      ``R{J_o^T} sign(o - Y) / m`` and nothing from the kink, so it is exactly zero for a
      linear output and the Gauss-Newton curvature is zero for every output. Curvature
      measured through it (sharpness, Lanczos, the Gauss-Newton matrix) says nothing about
      how sharp an absolute-error minimum is: its kink is infinitely sharp.
    - It is the negative log-likelihood (up to a constant) of a Laplace distribution
      centred at ``o``; :meth:`fisher` is that distribution's Fisher.
    """

    def __init__(self, output: OutputName, n_outputs: int):
        self.kind = output
        self.scale = 1.0 / n_outputs

    def output(self, z: np.ndarray) -> np.ndarray:
        """The network's output ``o(z)``, shape of ``z``."""
        if self.kind == "linear":
            return z
        return sigmoid(z) if self.kind == "sigmoid" else _softmax(z)

    def value_and_output(self, z: np.ndarray, Y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The mean loss (``z.shape[:-2]``) and the outputs (shape of ``z``)."""
        o = self.output(z)
        return self.scale * _rowsum(np.abs(o - Y)).mean(axis=-1), o

    def value(self, z: np.ndarray, Y: np.ndarray) -> np.ndarray:
        """The mean loss over the samples, shape ``z.shape[:-2]``."""
        return self.value_and_output(z, Y)[0]

    def grad(self, z: np.ndarray, Y: np.ndarray, o: np.ndarray) -> np.ndarray:
        """``c J_o^T sign(o - Y)`` per sample, ``(N, m)`` (``sign(0) = 0``)."""
        return _through_output(self.kind, o, self.scale * np.sign(o - Y))

    def hvp(self, z: np.ndarray, Y: np.ndarray, u: np.ndarray, o: np.ndarray) -> np.ndarray:
        """``R{J_o^T} c sign(o - Y)``: the Hessian off the kinks applied to ``u``, ``(N, m)``.

        Zero for a linear output.
        """
        r = self.scale * np.sign(o - Y)
        if self.kind == "linear":
            return np.zeros_like(u)
        if self.kind == "sigmoid":
            return r * o * (1.0 - o) * (1.0 - 2.0 * o) * u
        return _softmax_jvp_change(o, r, _softmax_jvp(o, u))

    def gauss_newton(self, z: np.ndarray, Y: np.ndarray, u: np.ndarray, o: np.ndarray
                     ) -> np.ndarray:
        """Zero, ``(N, m)``: ``|r|`` has no curvature in the outputs off its kink."""
        return np.zeros_like(u)

    def fisher(self, u: np.ndarray, o: np.ndarray, noise_std: float | None = None
               ) -> np.ndarray:
        """The Fisher of the Laplace distribution centred at ``o``, in the logits, ``(N, m)``.

        Of standard deviation ``noise_std``: ``2 J_o^T J_o u / noise_std^2``.

        The Laplace of scale ``b`` (standard deviation ``sqrt(2) b``) has the score
        ``sign(y - o) / b``, whose square is ``1 / b^2`` for every ``y``.
        """
        if noise_std is None:
            raise ValueError("the absolute error's Fisher needs noise_std, the standard "
                             "deviation of its Laplace distribution")
        return 2.0 * _output_gram(self.kind, u, o) / noise_std**2


OUTPUTS: tuple[OutputName, ...] = get_args(OutputName)
LOSSES: tuple[LossName, ...] = get_args(LossName)
#: A head: the output layer and the loss of an MLP.
Head: TypeAlias = SoftmaxCrossEntropy | SigmoidCrossEntropy | SquaredError | AbsoluteError


def make_head(output: OutputName, loss: LossName, n_outputs: int, half_mse: bool = False
              ) -> Head:
    """The head for an ``output`` / ``loss`` pair (names already checked)."""
    if loss == "mse":
        return SquaredError(output, n_outputs, half_mse)
    if loss == "mae":
        return AbsoluteError(output, n_outputs)
    if output == "softmax":
        return SoftmaxCrossEntropy()
    if output == "sigmoid":
        return SigmoidCrossEntropy()
    raise ValueError(
        "loss 'cross_entropy' needs output 'softmax' or 'sigmoid', not 'linear' "
        "(use output='softmax' for class logits)"
    )
