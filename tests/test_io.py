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


def test_write_json_rounds_floats_to_significant_digits(tmp_path):
    data = {"x": [np.pi, -2 / 3 * 1e-9, 123456.7], "n": 123456789, "flag": True, "y": 0.0}
    rounded = read_json(write_json(tmp_path / "a.json", data, digits=4))
    assert rounded == {"x": [3.142, -6.667e-10, 123500.0], "n": 123456789, "flag": True,
                       "y": 0.0}
    for digits in (0, 18, 2.5, True):
        with pytest.raises(ValueError, match="digits"):
            write_json(tmp_path / "b.json", data, digits=digits)


def _drawing():
    fig, ax = plt.subplots()
    ax.plot([0.0, 1.0, 4.0], label="x squared")
    ax.legend()
    return fig


def test_a_figure_saved_twice_gives_the_same_bytes_without_date_or_version(tmp_path):
    def twice(make, name):
        first, second = (save_figure(make(), tmp_path / run / name).read_bytes()
                         for run in ("first", "second"))
        same = first == second  # not asserted directly: pytest would diff 5 MB of bytes
        assert same, name
        return first

    for suffix in (".png", ".svg", ".pdf"):
        data = twice(_drawing, f"figure{suffix}")
        assert b"atplotlib v" not in data and b"Date" not in data, suffix
    plt.close("all")
    go = pytest.importorskip("plotly.graph_objects")
    page = twice(lambda: go.Figure(go.Scatter(y=[1, 4, 9]), layout={"title": "squares"}),
                 "page.html")
    assert b"<title>squares</title>" in page


def test_plotly_pages_can_share_one_plotly_js_beside_them(tmp_path):
    go = pytest.importorskip("plotly.graph_objects")
    from plotly.offline import get_plotlyjs

    bundle = tmp_path / "plotly.min.js"
    bundle.write_text("half a file")  # e.g. left by a killed run: replaced
    pages = [save_figure(go.Figure(go.Scatter(y=[k, 1])), tmp_path / f"p{k}.html",
                         plotlyjs="directory") for k in range(2)]
    assert bundle.read_text(encoding="utf-8") == get_plotlyjs()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p0.html", "p1.html", "plotly.min.js"]
    for page in pages:
        text = page.read_text()
        assert '<script charset="utf-8" src="plotly.min.js"></script>' in text
        assert len(text) < len(get_plotlyjs()) / 100  # the library is not inside
    with pytest.raises(ValueError, match="plotlyjs"):
        save_figure(go.Figure(), tmp_path / "c.html", plotlyjs="cdn")
