"""A PyTorch Lightning callback that records a run: :class:`RecorderCallback`.

Lightning owns the loop, so the callback calls the :class:`~landscape.torch.Recorder` for
it: the recorder is made at the start of ``fit`` (on the LightningModule, whatever device
Lightning put it on, with the trainer's first optimizer), steps in
``on_before_optimizer_step`` (after the backward pass, before the update, as in a plain
loop) and takes the step's loss from what ``training_step`` returned. Needs the
``lightning`` extra (``pip install 'landscape[lightning]'``); not imported by
``landscape.torch``.

Example::

    callback = RecorderCallback(torch.nn.CrossEntropyLoss(), (X_probe, y_probe), every=50)
    lightning.pytorch.Trainer(max_steps=2000, callbacks=[callback]).fit(model, loader)
    trajectory = callback.trajectory()
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

try:
    import lightning.pytorch as pl
except ImportError as err:  # pragma: no cover - exercised where lightning is missing
    raise ImportError("landscape.torch.lightning needs PyTorch Lightning; install it with: "
                      "pip install 'landscape[lightning]'") from err

from landscape.runner import Trajectory
from landscape.torch.adapter import LossFn
from landscape.torch.recorder import Recorder

__all__ = ["RecorderCallback"]


class RecorderCallback(pl.Callback):
    """Record a Lightning run with a :class:`~landscape.torch.Recorder`.

    Parameters
    ----------
    loss_fn : ``loss_fn(outputs, targets) -> scalar tensor`` for the probe set.
    probe : the fixed probe set, ``(inputs, targets)`` or a DataLoader.
    **options : the :class:`~landscape.torch.Recorder`'s keyword arguments (``every``,
        ``curvature``, ``lanczos_steps``, ...; not ``optimizer``, taken from the trainer).

    Attributes
    ----------
    recorder : the Recorder, once ``fit`` has started (None before).
    """

    def __init__(self, loss_fn: LossFn, probe: Any, **options: Any):
        if "optimizer" in options:
            raise ValueError("optimizer is the trainer's: do not pass it to RecorderCallback")
        self.loss_fn, self.probe, self.options = loss_fn, probe, options
        self.recorder: Recorder | None = None

    def on_fit_start(self, trainer: pl.Trainer, pl_module: pl.LightningModule) -> None:
        """Make the recorder on the module as Lightning placed it."""
        optimizer = trainer.optimizers[0] if trainer.optimizers else None
        self.recorder = Recorder(pl_module, self.loss_fn, self.probe, optimizer=optimizer,
                                 **self.options)

    def on_before_optimizer_step(self, trainer: pl.Trainer, pl_module: pl.LightningModule,
                                 optimizer: Any) -> None:
        """Note the step: the parameters the loss was computed at, and their gradient."""
        if self.recorder is not None:
            self.recorder.step()

    def on_train_batch_end(self, trainer: pl.Trainer, pl_module: pl.LightningModule,
                           outputs: Any, batch: Any, batch_idx: int) -> None:
        """Give the step its batch loss, the ``loss`` that ``training_step`` returned."""
        loss = outputs.get("loss") if isinstance(outputs, Mapping) else outputs
        if self.recorder is not None and loss is not None:
            self.recorder._note_loss(loss)

    def trajectory(self) -> Trajectory:
        """The run so far (:meth:`Recorder.trajectory`)."""
        if self.recorder is None:
            raise ValueError("nothing was recorded: fit a model with this callback first")
        return self.recorder.trajectory()
