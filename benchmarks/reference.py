"""PyTorch's ways to compute what the engine computes, and the check that they agree.

These are the references of the suite, written the way PyTorch's users and the existing
landscape tools (loss-landscape, PyHessian, hessian-eigenthings) write them: autograd for
the gradient, double backward (``create_graph=True``) and ``torch.func`` for the HVP, and
a loop over grid points that writes each point's weights into the network for a plane.
Results stay PyTorch tensors (no conversion to NumPy is timed).
"""

from __future__ import annotations

import copy

import numpy as np
import torch
from torch.func import functional_call, grad, jvp

from landscape.surface import plane

#: Relative agreement asked of the references, per dtype.
TOLERANCE = {np.dtype(np.float64): 1e-10, np.dtype(np.float32): 1e-4}


def loss(net, p) -> torch.Tensor:
    """The mean loss of ``net`` on ``p``'s data, without building a graph."""
    with torch.no_grad():
        return p.loss_fn(net(p.X), p.target)


def gradient(net, p) -> tuple:
    """Autograd's gradient: one tensor per parameter."""
    params = tuple(net.parameters())
    return torch.autograd.grad(p.loss_fn(net(p.X), p.target), params)


def hvp_double_backward(net, p, v) -> tuple:
    """``H v`` from scratch by double backward (``v`` a list of parameter-shaped tensors)."""
    params = tuple(net.parameters())
    g = torch.autograd.grad(p.loss_fn(net(p.X), p.target), params, create_graph=True)
    return torch.autograd.grad(g, params, grad_outputs=v)


class RetainedHVP:
    """PyHessian's HVP: the gradient graph is built once at the net's point and kept, so
    each product ``H v`` is one backward through it (``retain_graph=True``)."""

    def __init__(self, net, p):
        self.params = tuple(net.parameters())
        self.g = torch.autograd.grad(p.loss_fn(net(p.X), p.target), self.params,
                                     create_graph=True)

    def __call__(self, v) -> tuple:
        return torch.autograd.grad(self.g, self.params, grad_outputs=v, retain_graph=True)


def hvp_func(net, p, v) -> dict:
    """``H v`` from scratch by ``torch.func``: forward-mode over reverse-mode
    (``jvp(grad(f))``), the composable-transforms way."""
    params = {k: t.detach() for k, t in net.named_parameters()}
    tangents = dict(zip(params, v))

    def f(theta):
        return p.loss_fn(functional_call(net, theta, (p.X,)), p.target)

    return jvp(grad(f), (params,), (tangents,))[1]


def plane_loop(net, p, center, directions, axis) -> np.ndarray:
    """The loss on the grid ``axis x axis`` (``indexing='ij'``) point by point: for each
    ``(a, b)`` write ``center + a d1 + b d2`` into ``net`` and evaluate it, as
    loss-landscape does. ``center`` and ``directions`` are lists of parameter tensors.
    Writes into a copy of ``net``."""
    net = copy.deepcopy(net)
    params = list(net.parameters())
    values = np.empty((len(axis), len(axis)))
    with torch.no_grad():
        for i, a in enumerate(axis):
            for j, b in enumerate(axis):
                for w, c, d1, d2 in zip(params, center, *directions):
                    torch.add(c, d1, alpha=float(a), out=w)
                    w.add_(d2, alpha=float(b))
                values[i, j] = p.loss_fn(net(p.X), p.target).item()
    return values


def plane_args(p) -> tuple:
    """``(center, directions)`` of ``p``'s plane as parameter-shaped tensors."""
    return p.tensors(p.thetas[0]), [p.tensors(d) for d in p.directions]


def flat(tensors) -> np.ndarray:
    """Tensors (a sequence or a dict) as one float64 NumPy vector."""
    values = tensors.values() if isinstance(tensors, dict) else tensors
    return np.concatenate([t.detach().reshape(-1).double().numpy() for t in values])


def _error(a, b) -> float:
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), np.finfo(np.float64).tiny))


def agreement(p, points: int = 3) -> dict:
    """Relative differences between the engine and each reference at ``p.thetas[0]``.

    Raises RuntimeError when one exceeds :data:`TOLERANCE` for the dtype: a reference that
    computes other numbers must not be timed against the engine.
    """
    obj, theta, v, net = p.objective, p.thetas[0], p.vs[0], p.nets[0]
    v_t = p.tensors(v)
    hv = obj.hvp(theta, v)
    center, directions = plane_args(p)
    axis = p.axis(points)
    surface = plane(obj, theta, p.directions, span=1.0, resolution=points)
    errors = {
        "loss": _error(obj.loss(theta), loss(net, p).item()),
        "gradient": _error(obj.grad(theta), flat(gradient(net, p))),
        "hvp double backward": _error(hv, flat(hvp_double_backward(net, p, v_t))),
        "hvp retained graph": _error(hv, flat(RetainedHVP(net, p)(v_t))),
        "hvp torch.func": _error(hv, flat(hvp_func(net, p, v_t))),
        "plane": _error(surface.values, plane_loop(net, p, center, directions, axis)),
        "losses": _error(obj.losses(p.thetas), [obj.loss(t) for t in p.thetas]),
    }
    bad = {k: e for k, e in errors.items() if not e <= TOLERANCE[p.dtype]}
    if bad:
        raise RuntimeError(f"{p.spec.name} {p.dtype}: references disagree with the engine: {bad}")
    return errors
