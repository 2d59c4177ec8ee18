"""Atomic writers: the permissions of a plain open(), standard JSON, nothing left on failure."""

import json
import os
import stat

import matplotlib.pyplot as plt
import numpy as np
import pytest

import landscape as ls
from landscape import functions as F
from landscape.io import atomic_path, read_json, save_figure, write_json, write_text


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield
    os.umask(old)


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def test_files_get_the_mode_of_a_plain_open(tmp_path, umask_022):
    with open(tmp_path / "plain.txt", "w") as fh:
        fh.write("x")
    fig, _ = plt.subplots()
    written = [
        write_text(tmp_path / "a.txt", "x"),
        write_json(tmp_path / "a.json", {"x": 1}),
        save_figure(fig, tmp_path / "a.png"),
        ls.save(ls.run(F.himmelblau(), [0.0, 0.0], ls.gd(0.01), 3), tmp_path / "run"),
    ]
    plt.close(fig)
    assert _mode(tmp_path / "plain.txt") == 0o644
    assert {p.name: _mode(p) for p in written} == {p.name: 0o644 for p in written}
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_a_failed_write_leaves_the_target_and_no_temporary_file(tmp_path):
    target = write_text(tmp_path / "a.txt", "old")
    with pytest.raises(RuntimeError, match="halfway"), atomic_path(target) as tmp:
        tmp.write_text("new, half")
        raise RuntimeError("halfway")
    assert target.read_text() == "old" and list(tmp_path.iterdir()) == [target]


def test_write_json_writes_standard_json(tmp_path):
    data = {"nan": float("nan"), "inf": np.inf, "values": np.array([1.5, -np.inf, np.nan]),
            "scalar": np.float32(0.5), "count": np.int64(3), "pair": (1, None), "path": tmp_path}

    def refuse(token):
        raise ValueError(f"non-standard JSON token {token}")

    path = write_json(tmp_path / "a.json", data)
    assert json.loads(path.read_text(), parse_constant=refuse) == {
        "nan": None, "inf": None, "values": [1.5, None, None], "scalar": 0.5, "count": 3,
        "pair": [1, None], "path": str(tmp_path)}
    assert read_json(path)["values"] == [1.5, None, None]
    with pytest.raises(TypeError, match="object"):
        write_json(tmp_path / "b.json", {"x": object()})
    assert not (tmp_path / "b.json").exists()
