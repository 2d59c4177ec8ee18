"""The benchmark models: the same networks, data and points in NumPy and in PyTorch.

Three tanh networks with a cross-entropy head:

- ``tiny``: 2-16-16-1 on 200 two-moons points. One output, so the head is sigmoid
  cross-entropy (softmax cross-entropy over one logit is identically zero; over the two
  logits ``(0, z)`` it is exactly this);
- ``digits``: 64-64-64-10 with softmax cross-entropy on scikit-learn's 1797 digits;
- ``mnist``: 784-256-256-10 with softmax cross-entropy on 512 samples of ten Gaussian
  blobs in 784 dimensions, standardized (MNIST itself cannot be downloaded here; the
  timings depend on the shapes, not on the pixels).

PyTorch's copy is what its users write: ``nn.Sequential`` of ``nn.Linear`` and ``nn.Tanh``
with ``nn.CrossEntropyLoss`` or ``nn.BCEWithLogitsLoss``. ``nn.Linear`` stores
``(weight (out, in), bias)`` per layer, the layout of ``theta`` in :class:`landscape.MLP`,
so ``vector_to_parameters`` puts the same ``theta`` into it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from landscape import data
from landscape.directions import filter_normalized_directions
from landscape.mlp import MLP


@dataclass(frozen=True)
class Spec:
    """A benchmark model.

    sizes : layer widths. data : ``() -> (X, y)``. grid : points per axis of the plane.
    k : points of the ``losses(thetas)`` row. power_cap : the most HVPs power iteration may
    spend on one eigenvalue before it is reported as not reaching the tolerance.
    """

    name: str
    sizes: tuple[int, ...]
    data: Callable[[], tuple[np.ndarray, np.ndarray]]
    grid: int
    k: int
    power_cap: int

    @property
    def output(self) -> str:
        return "sigmoid" if self.sizes[-1] == 1 else "softmax"

    def label(self) -> str:
        return f"{self.name} {'-'.join(map(str, self.sizes))}"


def _mnist_sized():
    X, y = data.blobs(512, centers=10, dim=784, rng=0)
    return data.standardize(X)[0], y


SPECS = {
    "tiny": Spec("tiny", (2, 16, 16, 1), lambda: data.moons(200, rng=0), 51, 1000, 20000),
    "digits": Spec("digits", (64, 64, 64, 10), data.digits, 51, 200, 4000),
    "mnist": Spec("mnist", (784, 256, 256, 10), _mnist_sized, 21, 40, 300),
}

TORCH_DTYPES = {np.dtype(np.float64): torch.float64, np.dtype(np.float32): torch.float32}


@dataclass
class Problem:
    """One model in one dtype, in both libraries.

    objective : the engine's :class:`landscape.mlp.MLPObjective`.
    thetas : ``(2, n)`` two parameter points; timed calls alternate between them, so no
        call is served from the engine's cache of the last point.
    vs : ``(2, n)`` two HVP directions (alternated for HVPs at one point).
    directions : ``(2, n)`` float64 filter-normalized plane directions.
    nets : one PyTorch copy of the network per row of ``thetas``.
    X, target, loss_fn : PyTorch's data and loss (mean over samples).
    """

    spec: Spec
    dtype: np.dtype
    objective: object
    thetas: np.ndarray
    vs: np.ndarray
    directions: np.ndarray
    nets: list
    X: torch.Tensor
    target: torch.Tensor
    loss_fn: nn.Module

    @property
    def n(self) -> int:
        return self.objective.dim

    @property
    def n_samples(self) -> int:
        return self.objective.n_samples

    def axis(self, points: int) -> np.ndarray:
        """The plane's coordinates along each direction: ``points`` values in [-1, 1]."""
        return np.linspace(-1.0, 1.0, points)

    def points(self, k: int) -> np.ndarray:
        """``k`` points scattered around ``thetas[0]``, ``(k, n)`` in the dtype (seeded)."""
        noise = np.random.default_rng(4).standard_normal((k, self.n))
        return (self.thetas[0] + 0.1 * noise).astype(self.dtype)

    def tensors(self, vector) -> list[torch.Tensor]:
        """``vector`` ``(n,)`` cut into tensors shaped like the network's parameters."""
        flat = torch.from_numpy(np.ascontiguousarray(vector, dtype=self.dtype))
        shapes = [p.shape for p in self.nets[0].parameters()]
        return [t.reshape(s) for t, s in zip(flat.split([s.numel() for s in shapes]), shapes)]


def torch_net(sizes, theta: np.ndarray) -> nn.Sequential:
    """``nn.Sequential`` of Linear and Tanh layers holding ``theta`` (dtype of ``theta``)."""
    dtype = TORCH_DTYPES[theta.dtype]
    layers = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(nn.Linear(fan_in, fan_out, dtype=dtype))
        if i < len(sizes) - 2:
            layers.append(nn.Tanh())
    net = nn.Sequential(*layers)
    nn.utils.vector_to_parameters(torch.from_numpy(theta.copy()), net.parameters())
    return net


def build(spec: Spec, dtype) -> Problem:
    """The model ``spec`` in ``dtype`` (float64 or float32), in both libraries, seeded."""
    dtype = np.dtype(dtype)
    X, y = spec.data()
    model = MLP(spec.sizes, activation="tanh", output=spec.output, loss="cross_entropy",
                dtype=dtype)
    objective = model.objective(X, y)
    thetas = np.stack([model.init(rng=seed) for seed in (0, 1)])
    vs = np.random.default_rng(2).standard_normal((2, model.n_params)).astype(dtype)
    directions = filter_normalized_directions(objective, thetas[0], 2, rng=3).vectors
    if spec.output == "sigmoid":
        target = torch.from_numpy(np.asarray(y, dtype=dtype)[:, None])
        loss_fn = nn.BCEWithLogitsLoss()
    else:
        target = torch.from_numpy(np.asarray(y, dtype=np.int64))
        loss_fn = nn.CrossEntropyLoss()
    return Problem(spec, dtype, objective, thetas, vs, directions,
                   [torch_net(spec.sizes, t) for t in thetas],
                   torch.from_numpy(np.asarray(X, dtype=dtype)), target, loss_fn)
