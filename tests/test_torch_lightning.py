"""The Lightning callback against the recorder in a plain loop on the same network, data
and optimizer: the same records, and the exact sharpness (dense eigh of the NumPy MLP)."""

import warnings

import numpy as np
import pytest
import torch

from landscape import MLP
from landscape.torch import Recorder

pl = pytest.importorskip("lightning.pytorch", reason="the lightning extra is not installed")
from landscape.torch.lightning import RecorderCallback  # noqa: E402

torch.set_num_threads(1)
nn = torch.nn
STEPS = 12


def _start(seed=0, n=30):
    rng = np.random.default_rng(seed)
    X, y = rng.standard_normal((n, 4)), rng.integers(0, 3, n)
    model = MLP([4, 5, 3], activation="tanh", output="softmax", loss="cross_entropy")
    theta0 = model.init(rng, gain=1.5)
    net = nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 3)).double()
    torch.nn.utils.vector_to_parameters(torch.tensor(theta0), net.parameters())
    return net, model.objective(X, y), torch.as_tensor(X), torch.as_tensor(y)


class _Module(pl.LightningModule):
    def __init__(self, net):
        super().__init__()
        self.net = net

    def forward(self, x):
        return self.net(x)

    def training_step(self, batch, batch_idx):
        x, y = batch
        return nn.functional.cross_entropy(self(x), y)

    def configure_optimizers(self):
        return torch.optim.SGD(self.parameters(), lr=0.5)


def test_the_callback_records_what_the_recorder_records_in_a_plain_loop():
    net, engine, X, y = _start()
    options = dict(every=4, lanczos_steps=engine.dim)
    # the plain loop
    plain_net, _, _, _ = _start()
    optimizer = torch.optim.SGD(plain_net.parameters(), lr=0.5)
    recorder = Recorder(plain_net, nn.CrossEntropyLoss(), (X, y), optimizer=optimizer, **options)
    for _ in range(STEPS):
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(plain_net(X), y)
        loss.backward()
        recorder.step(loss)
        optimizer.step()
    expected = recorder.trajectory()
    # Lightning: full-batch steps on the same data
    callback = RecorderCallback(nn.CrossEntropyLoss(), (X, y), **options)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(X, y), batch_size=30)
    trainer = pl.Trainer(max_steps=STEPS, callbacks=[callback], logger=False,
                         enable_checkpointing=False, enable_progress_bar=False,
                         enable_model_summary=False, accelerator="cpu", devices=1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Lightning's advice on workers and logging
        trainer.fit(_Module(net), loader)
    ours = callback.trajectory()
    np.testing.assert_array_equal(ours.steps, [0, 4, 8, 12])
    np.testing.assert_allclose(ours.thetas, expected.thetas, rtol=0, atol=1e-13)
    for field in ("loss", "batch_loss", "grad_norm", "lr"):
        np.testing.assert_allclose(getattr(ours, field), getattr(expected, field), rtol=1e-12)
    assert ours.optimizer == "SGD" and ours.hyperparams["lr"] == 0.5
    exact = [np.linalg.eigvalsh(engine.hessian(t))[-1] for t in ours.thetas]
    np.testing.assert_allclose(ours.metrics["sharpness"], exact, rtol=1e-9)


def test_the_callback_refuses_an_optimizer_and_an_empty_run():
    with pytest.raises(ValueError, match="optimizer is the trainer's"):
        RecorderCallback(nn.MSELoss(), (torch.zeros(2, 1), torch.zeros(2, 1)), optimizer=None)
    with pytest.raises(ValueError, match="fit a model with this callback first"):
        RecorderCallback(nn.MSELoss(), (torch.zeros(2, 1), torch.zeros(2, 1))).trajectory()
