"""Your model and your training run: PyTorch modules, checkpoints and training loops.

- :func:`from_module` makes a PyTorch module, its loss and data (tensors, or a DataLoader
  held or streamed) an Objective of a flat float64 ``theta``, so every tool of the package
  works on it (:mod:`~landscape.torch.adapter`, :mod:`~landscape.torch.streaming`);
- :func:`from_checkpoints` reads a series of saved checkpoints into a
  :class:`~landscape.Trajectory` (:mod:`~landscape.torch.checkpoints`);
- :class:`Recorder` records a run from inside the user's own training loop: parameters,
  probe-set loss and curvature at a chosen interval, a :class:`~landscape.Trajectory` in
  the end (:mod:`~landscape.torch.recorder`; a PyTorch Lightning callback in
  :mod:`landscape.torch.lightning`, extra ``lightning``);
- :func:`recompute_batch_norm` evaluates a batch-norm network at every point of a line,
  plane or curve with statistics recomputed there (:mod:`~landscape.torch.batchnorm`).

What runs where: the module's copy and the data stay on the module's device and in the
objective's dtype; only flat vectors cross to and from NumPy (float64, on the CPU), where
Lanczos, directions, planes and records live. The recorder reads the parameters off the
training module (any device and dtype) once per record.

Needs PyTorch (the ``torch`` extra); ``import landscape`` does not import it, ``ls.torch``
does on first use. The modules sit at two levels of the package's flow: the adapter, its
data and batch normalization beside the other objectives; checkpoints and the recorder
beside the runner (they make Trajectories and use Lanczos and Hutch++).
"""

try:
    import torch  # noqa: F401  (the message below, before any submodule fails)
except ImportError as err:  # pragma: no cover - exercised in a subprocess without torch
    raise ImportError(
        "landscape.torch needs PyTorch; install it with: pip install 'landscape[torch]'"
    ) from err

from landscape.torch.adapter import DTYPES as DTYPES
from landscape.torch.adapter import MODES as MODES
from landscape.torch.adapter import LossFn as LossFn
from landscape.torch.adapter import TorchMode as TorchMode
from landscape.torch.adapter import TorchObjective, from_module
from landscape.torch.batchnorm import recompute_batch_norm
from landscape.torch.checkpoints import from_checkpoints
from landscape.torch.recorder import Recorder, WarmLanczos
from landscape.torch.streaming import Batch as Batch

# The functions and classes (the aliases and constants above are importable too).
__all__ = [
    "Recorder",
    "TorchObjective",
    "WarmLanczos",
    "from_checkpoints",
    "from_module",
    "recompute_batch_norm",
]
