"""A training run from its saved checkpoints: :func:`from_checkpoints`.

A run trained elsewhere leaves a series of checkpoints; read them into a
:class:`~landscape.Trajectory` in the torch objective's layout of ``theta``, and every
analysis of the package's own runs applies: :func:`~landscape.pca_directions` and a plane
through the run with the path :func:`~landscape.project`-ed on it, its residual and
explained variance (Li et al. 2018, Sec. 7), metrics along the path, interpolations
between checkpoints.

Files:

- **PyTorch state dicts** (``torch.save(model.state_dict(), path)``; any suffix but
  ``.npz``), read with ``torch.load(path, map_location='cpu', weights_only=True)``: tensors
  only, no code runs. A dict that holds the state dict among other entries (the optimizer's
  state, the epoch) is read with ``key=`` naming the entry. Every trainable parameter of
  the module must be there with the module's shape; any other entry must be one of the
  module's buffers or frozen parameters (they are not part of ``theta``). Otherwise the
  file is refused with a ValueError naming the file and the parameter.
- **NumPy** ``.npz`` files with an entry ``theta`` of shape ``(dim,)`` (the objective's
  layout: :attr:`~landscape.torch.TorchObjective.names` in order, each flattened).

Order: by step, taken from the file names (the last integer in each name:
``step_1500.pt``, ``epoch=3-step=1500.ckpt`` and ``ckpt-001500.npz`` are step 1500) or
given with ``steps=``.

What the trajectory holds: ``thetas`` ``(k, n)`` and ``steps`` ``(k,)`` of the
checkpoints, ``loss`` the objective's loss at each, ``metrics`` (as :func:`~landscape.run`
computes them). The per-step fields a checkpoint does not know (``batch_loss``,
``grad_norm``, ``lr``, ``wall_time``, length ``steps[-1] + 1``) are NaN; ``status`` is
``'max_steps'``. The first record is the first checkpoint's step, not necessarily 0.
Buffers such as batch-norm running statistics are the objective's, not each
checkpoint's: measure a batch-norm run through :func:`~landscape.torch.recompute_batch_norm`
of the objective to give each checkpoint statistics of its own.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from landscape._checks import metric_functions, metric_values
from landscape.runner import Trajectory
from landscape.torch.adapter import TorchObjective
from landscape.vocabulary import MAX_STEPS, Metric

__all__ = ["from_checkpoints"]

#: The files a folder's checkpoints are taken from.
SUFFIXES = (".pt", ".pth", ".ckpt", ".npz")
_PathLike = str | os.PathLike


def _files(paths: _PathLike | Sequence[_PathLike]) -> list[Path]:
    """A folder's checkpoint files (by name), or the given files."""
    if isinstance(paths, (str, os.PathLike)):
        folder = Path(paths)
        if not folder.is_dir():
            raise ValueError(f"paths must be a folder of checkpoints or a sequence of files; "
                             f"{folder} is not a folder")
        found = sorted(p for p in folder.iterdir() if p.suffix in SUFFIXES and p.is_file())
        if not found:
            raise ValueError(f"{folder} holds no checkpoint files ({', '.join(SUFFIXES)})")
        return found
    files = [Path(p) for p in paths]
    if not files:
        raise ValueError("paths is empty: give a folder or checkpoint files")
    missing = [str(p) for p in files if not p.is_file()]
    if missing:
        raise ValueError(f"checkpoint files not found: {', '.join(missing)}")
    return files


def _step_of(path: Path) -> int:
    """The last integer in the file's name (without its suffix)."""
    numbers = re.findall(r"\d+", path.stem)
    if not numbers:
        raise ValueError(f"cannot read a step from the file name {path.name!r}: name the "
                         "checkpoints with their step (step_1500.pt) or pass steps=")
    return int(numbers[-1])


def _steps(files: list[Path], steps: Sequence[int] | None) -> np.ndarray:
    if steps is None:
        found = np.array([_step_of(p) for p in files], dtype=np.int64)
    else:
        found = np.asarray(steps)
        if found.shape != (len(files),) or found.dtype.kind not in "iu" or (found < 0).any():
            raise ValueError(f"steps must be {len(files)} non-negative integers, one per "
                             f"checkpoint, got {steps!r}")
    values, counts = np.unique(found, return_counts=True)
    if (counts > 1).any():
        twice = int(values[counts > 1][0])
        same = [p.name for p, s in zip(files, found) if s == twice]
        raise ValueError(f"two checkpoints have step {twice}: {', '.join(same)}")
    return found.astype(np.int64)


def _reason(err: Exception) -> str:
    """The line of a loading error that says what was wrong (torch's advice left out)."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    found = [line for line in lines if "Unsupported global" in line]
    return found[0].split(" Please use")[0] if found else (lines[0] if lines else repr(err))


def _state_dict(path: Path, key: str | None) -> Mapping[str, Any]:
    try:
        loaded = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # unpickling errors come in many types
        raise ValueError(f"cannot read checkpoint {path.name} as a PyTorch state dict "
                         f"(weights_only=True): {_reason(err)}") from None
    if key is not None:
        if not isinstance(loaded, Mapping) or key not in loaded:
            keys = list(loaded) if isinstance(loaded, Mapping) else type(loaded).__name__
            raise ValueError(f"checkpoint {path.name} has no entry key={key!r}: it holds {keys}")
        loaded = loaded[key]
    if not isinstance(loaded, Mapping) or not all(isinstance(v, torch.Tensor)
                                                  for v in loaded.values()):
        keys = list(loaded) if isinstance(loaded, Mapping) else type(loaded).__name__
        raise ValueError(f"checkpoint {path.name} is not a state dict of tensors (it holds "
                         f"{keys}): name the entry that is one with key=")
    return loaded


def _theta_from_state(path: Path, state: Mapping[str, Any], objective: TorchObjective
                      ) -> np.ndarray:
    """The checkpoint's parameters in the objective's layout, checked name by name."""
    others = set(objective._module.state_dict())
    extra = [name for name in state if name not in others]
    if extra:
        raise ValueError(f"checkpoint {path.name} has an entry {extra[0]!r} that is no "
                         f"parameter or buffer of the module ({type(objective._module).__name__})")
    pieces = []
    for name, shape in zip(objective.names, objective.shapes):
        if name not in state:
            raise ValueError(f"checkpoint {path.name} lacks the parameter {name!r}")
        tensor = state[name]
        if tensor.shape != shape:
            raise ValueError(f"checkpoint {path.name}: parameter {name!r} has shape "
                             f"{tuple(tensor.shape)}, the module's has {tuple(shape)}")
        pieces.append(tensor.detach().to(torch.float64).reshape(-1))
    return torch.cat(pieces).numpy()


def _theta_from_npz(path: Path, dim: int) -> np.ndarray:
    try:
        with np.load(path, allow_pickle=False) as archive:
            theta = archive["theta"] if "theta" in archive.files else None
    except (OSError, ValueError) as err:
        raise ValueError(f"cannot read checkpoint {path.name} as .npz: {err}") from None
    if theta is None:
        raise ValueError(f"checkpoint {path.name} has no entry 'theta'")
    if theta.shape != (dim,) or theta.dtype.kind not in "iuf":
        raise ValueError(f"checkpoint {path.name}: theta has shape {theta.shape} and dtype "
                         f"{theta.dtype}; the module has {dim} real parameters")
    return theta.astype(np.float64)


def _read(path: Path, objective: TorchObjective, key: str | None) -> np.ndarray:
    theta = (_theta_from_npz(path, objective.dim) if path.suffix == ".npz"
             else _theta_from_state(path, _state_dict(path, key), objective))
    if not np.all(np.isfinite(theta)):
        raise ValueError(f"checkpoint {path.name} has parameters that are NaN or inf")
    return theta


def from_checkpoints(objective: TorchObjective, paths: _PathLike | Sequence[_PathLike], *,
                     steps: Sequence[int] | None = None, key: str | None = None,
                     metrics: Mapping[str, Metric] | None = None,
                     optimizer: str = "checkpoints") -> Trajectory:
    """Read a series of checkpoints of ``objective``'s module into a Trajectory.

    Parameters
    ----------
    objective : a torch objective (:func:`~landscape.torch.from_module`) of the module
        the checkpoints were saved from: their layout in ``theta``, and the loss measured
        at each.
    paths : a folder (its ``.pt``, ``.pth``, ``.ckpt`` and ``.npz`` files) or a sequence of
        checkpoint files: state dicts, or ``.npz`` files with ``theta`` (module docstring).
    steps : None (the last integer in each file's name) or one int per file.
    key : None, or the entry of each (dict) checkpoint that holds the state dict, e.g.
        ``'model_state_dict'``.
    metrics : name -> ``fn(objective, theta) -> float``, evaluated at every checkpoint
        (as :func:`~landscape.run` does), e.g. ``{"sharpness": ls.sharpness}``.
    optimizer : str, the name the trajectory carries (a plot's label).

    Returns
    -------
    Trajectory
        Its records ordered by step: ``thetas`` ``(k, n)``, ``steps`` ``(k,)``, ``loss``
        ``(k,)`` and ``metrics``; per-step fields NaN.

    Raises
    ------
    ValueError
        Naming the file: a missing or unexpected parameter, a shape that is not the
        module's, a file that is no state dict, a step that cannot be read from a file
        name, two files of one step.
    """
    if not isinstance(objective, TorchObjective):
        raise ValueError("objective must be a torch objective (landscape.torch.from_module), "
                         f"got {type(objective).__name__}")
    measured = metric_functions(metrics)
    files = _files(paths)
    found = _steps(files, steps)
    order = np.argsort(found, kind="stable")
    thetas = np.stack([_read(files[i], objective, key) for i in order])
    rows = [metric_values(measured, objective, theta) for theta in thetas]
    table = np.array(rows, dtype=np.float64).reshape(len(thetas), len(measured))
    blank = np.full(int(found[order][-1]) + 1, np.nan)
    return Trajectory(
        thetas=thetas, steps=found[order], loss=objective.losses(thetas), batch_loss=blank,
        grad_norm=blank.copy(), lr=blank.copy(), wall_time=blank.copy(),
        metrics={name: table[:, j] for j, name in enumerate(measured)}, status=MAX_STEPS,
        diverged_at=None, optimizer=optimizer, hyperparams={})
