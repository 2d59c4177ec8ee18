"""The README's example runs as written and gives what it says."""

import re
import warnings
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import pytest

README = Path(__file__).parents[1] / "README.md"


def test_readme_example_runs_and_ends_in_a_picture(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the example saves its figure in the working folder
    code = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)[0]
    scope: dict = {}
    with warnings.catch_warnings():
        warnings.simplefilter("error", UserWarning)  # the path lies in its PCA plane: no warning
        exec(compile(code, "README.md", "exec"), scope)
    traj, surface, path = scope["traj"], scope["surface"], scope["path"]
    assert traj.final_loss < traj.loss[0]
    assert surface.values.shape == (41, 41)
    # the trajectory's last point is the plane's center: coordinates 0, residual 0
    np.testing.assert_allclose(path.coords[-1], 0.0, atol=1e-12)
    assert path.residual[-1] == 0.0
    # the span covers the path, and the center is the middle of the grid
    low, high = [a[0] for a in surface.axes], [a[-1] for a in surface.axes]
    assert np.all((path.coords >= low) & (path.coords <= high))
    np.testing.assert_allclose([a[20] for a in surface.axes], 0.0, atol=1e-12)
    assert surface.values[20, 20] == pytest.approx(scope["objective"].loss(traj.final_theta),
                                                   rel=1e-12)
    picture = tmp_path / "spirals_plane.png"
    assert picture.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert picture.stat().st_size > 10_000
    plt.close("all")


def test_readme_opens_with_the_two_commands():
    lines = README.read_text(encoding="utf-8").splitlines()
    commands = [line for line in lines[:6] if line.startswith("pip install")]
    assert len(commands) == 2
    assert "landscape run all" in commands[0] and "pytest" in commands[1]
    assert (Path(__file__).parents[1] / ".ci" / "run").read_text().count(
        commands[1].split("#")[0].strip()) == 1
