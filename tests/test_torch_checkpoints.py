"""A trajectory from checkpoints against what was saved: the parameters vector by vector,
the NumPy MLP's loss and sharpness on the same weights, the principal components from an
eigendecomposition of the points' covariance, and refusals naming file and parameter."""

import numpy as np
import pytest
import torch

from landscape import MLP, pca_directions, project
from landscape.hessian import sharpness
from landscape.torch import from_checkpoints, from_module

torch.set_num_threads(1)
nn = torch.nn
STEPS = (0, 7, 15, 30, 60, 100)


def _net():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(4, 6), nn.Tanh(), nn.Linear(6, 3))


def _data():
    rng = np.random.default_rng(1)
    return rng.standard_normal((60, 4)), rng.integers(0, 3, 60)


def _train_and_save(folder, kind="pt", wrap=None):
    """SGD on the torch net, a checkpoint at each of STEPS (written out of order of step).

    Returns the saved parameter vectors by step."""
    X, y = (torch.as_tensor(a) for a in _data())
    net = _net()
    optimizer = torch.optim.SGD(net.parameters(), lr=0.3, momentum=0.9)
    saved = {}
    for t in range(STEPS[-1] + 1):
        if t in STEPS:
            saved[t] = torch.nn.utils.parameters_to_vector(net.parameters()).detach().double()
        optimizer.zero_grad()
        nn.functional.cross_entropy(net(X.float()), y).backward()
        optimizer.step()
    for t in reversed(STEPS):
        if kind == "npz":
            np.savez(folder / f"run-{t:06d}.npz", theta=saved[t].numpy())
        else:
            torch.nn.utils.vector_to_parameters(saved[t].float(), net.parameters())
            state = net.state_dict() if wrap is None else {wrap: net.state_dict(), "step": t}
            torch.save(state, folder / f"epoch=1-step={t}.pt")
    return {t: v.numpy() for t, v in saved.items()}, net


@pytest.mark.parametrize("kind", ["pt", "npz"])
def test_checkpoints_read_back_in_order_with_the_losses_of_their_weights(tmp_path, kind):
    saved, net = _train_and_save(tmp_path, kind)
    X, y = _data()
    objective = from_module(net, nn.CrossEntropyLoss(), (X, y))
    trajectory = from_checkpoints(objective, tmp_path, metrics={"sharpness": sharpness})
    np.testing.assert_array_equal(trajectory.steps, STEPS)
    np.testing.assert_array_equal(trajectory.thetas, np.stack([saved[t] for t in STEPS]))
    engine = MLP([4, 6, 3], activation="tanh", output="softmax",
                 loss="cross_entropy").objective(X, y)
    np.testing.assert_allclose(trajectory.loss, engine.losses(trajectory.thetas), rtol=1e-12)
    np.testing.assert_allclose(trajectory.metrics["sharpness"],
                               [np.linalg.eigvalsh(engine.hessian(t))[-1]
                                for t in trajectory.thetas], rtol=1e-8)
    assert trajectory.loss[-1] < trajectory.loss[0]
    assert len(trajectory.grad_norm) == STEPS[-1] + 1 and np.isnan(trajectory.grad_norm).all()
    assert trajectory.status == "max_steps" and trajectory.optimizer == "checkpoints"


def test_the_pca_plane_of_a_checkpointed_run(tmp_path):
    """Li et al.'s plane through the run: components and explained variance from the
    eigenvectors of the points' covariance; the path projected with its residual."""
    saved, net = _train_and_save(tmp_path)
    objective = from_module(net, nn.CrossEntropyLoss(), _data())
    trajectory = from_checkpoints(objective, sorted(tmp_path.iterdir()))
    directions = pca_directions(trajectory)
    points = np.stack([saved[t] for t in STEPS])
    deviations = points - points.mean(axis=0)
    values, vectors = np.linalg.eigh(deviations.T @ deviations)
    np.testing.assert_allclose(directions.explained_variance, values[::-1][:2] / values.sum(),
                               rtol=1e-9)
    for row, vector in zip(directions.vectors, vectors.T[::-1]):
        np.testing.assert_allclose(abs(row @ vector), 1.0, rtol=1e-9)
    projection = project(trajectory, directions.center, directions)
    offsets = points - points[-1]
    in_plane = offsets @ directions.vectors.T @ directions.vectors
    miss = np.linalg.norm(offsets - in_plane, axis=1)
    norms = np.linalg.norm(offsets, axis=1)
    np.testing.assert_allclose(projection.residual[:-1], miss[:-1] / norms[:-1], atol=1e-12)
    assert projection.residual[-1] == 0 and projection.loss is not None


def test_a_wrapped_state_dict_and_given_steps(tmp_path):
    saved, net = _train_and_save(tmp_path, wrap="model_state_dict")
    objective = from_module(net, nn.CrossEntropyLoss(), _data())
    files = [tmp_path / f"epoch=1-step={t}.pt" for t in STEPS]
    with pytest.raises(ValueError, match="name the entry that is one with key="):
        from_checkpoints(objective, files)
    given = [3 * t for t in STEPS]
    trajectory = from_checkpoints(objective, files, key="model_state_dict", steps=given)
    np.testing.assert_array_equal(trajectory.steps, given)
    np.testing.assert_array_equal(trajectory.final_theta, saved[STEPS[-1]])


def _state(**changes):
    """The net's state dict with entries changed (None: removed)."""
    state = dict(_net().state_dict())
    for name, value in changes.items():
        if value is None:
            del state[name]
        else:
            state[name] = value
    return state


class _NotATensor:
    pass


BAD_FILES = {
    "lacks the parameter '2.bias'": _state(**{"2.bias": None}),
    r"parameter '0.weight' has shape \(6, 5\), the module's has \(6, 4\)": _state(
        **{"0.weight": torch.zeros(6, 5)}),
    "has an entry 'head.weight' that is no parameter or buffer": _state(
        **{"head.weight": torch.zeros(2)}),
    "NaN or inf": _state(**{"0.bias": torch.full((6,), float("nan"))}),
    r"cannot read checkpoint step_5.pt .*\(weights_only=True\): .*Unsupported global: "
    r"GLOBAL test_torch_checkpoints._NotATensor was not an allowed global by default\.$": {
        "model": _NotATensor()},
}


@pytest.mark.parametrize("message", BAD_FILES)
def test_a_mismatched_checkpoint_is_refused_naming_the_file_and_parameter(tmp_path, message):
    objective = from_module(_net(), nn.CrossEntropyLoss(), _data())
    torch.save(_net().state_dict(), tmp_path / "step_0.pt")
    torch.save(BAD_FILES[message], tmp_path / "step_5.pt")
    with pytest.raises(ValueError, match="step_5.pt" if "read" not in message else message):
        from_checkpoints(objective, tmp_path)
    with pytest.raises(ValueError, match=message):
        from_checkpoints(objective, tmp_path)


def test_bad_series_are_refused(tmp_path):
    objective = from_module(_net(), nn.CrossEntropyLoss(), _data())
    torch.save(_net().state_dict(), tmp_path / "final.pt")
    with pytest.raises(ValueError, match="cannot read a step from the file name 'final.pt'"):
        from_checkpoints(objective, tmp_path)
    (tmp_path / "final.pt").rename(tmp_path / "a_10.pt")
    torch.save(_net().state_dict(), tmp_path / "b_10.pt")
    with pytest.raises(ValueError, match="two checkpoints have step 10: a_10.pt, b_10.pt"):
        from_checkpoints(objective, tmp_path)
    with pytest.raises(ValueError, match="steps must be 2 non-negative integers"):
        from_checkpoints(objective, tmp_path, steps=[1])
    np.savez(tmp_path / "c_11.npz", theta=np.zeros(objective.dim + 1))
    with pytest.raises(ValueError, match=f"c_11.npz: theta has shape \\({objective.dim + 1},\\)"):
        from_checkpoints(objective, [tmp_path / "c_11.npz"])
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="holds no checkpoint files"):
        from_checkpoints(objective, empty)
    with pytest.raises(ValueError, match="not found"):
        from_checkpoints(objective, [tmp_path / "missing_3.pt"])
    with pytest.raises(ValueError, match="objective must be a torch objective"):
        from_checkpoints(MLP([4, 3], output="softmax", loss="cross_entropy").objective(*_data()),
                         tmp_path)
