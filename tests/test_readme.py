"""The README's example runs as written and gives what it says."""

import re
from pathlib import Path

import numpy as np

README = Path(__file__).parents[1] / "README.md"


def test_readme_example_runs():
    code = re.findall(r"```python\n(.*?)```", README.read_text(encoding="utf-8"), re.S)[0]
    scope: dict = {}
    exec(compile(code, "README.md", "exec"), scope)
    traj, surface, path = scope["traj"], scope["surface"], scope["path"]
    assert traj.final_loss < traj.loss[0]
    assert surface.values.shape == (41, 41)
    # the trajectory's last point is the plane's center: coordinates 0, residual 0
    np.testing.assert_allclose(path.coords[-1], 0.0, atol=1e-12)
    assert surface.values[20, 20] == scope["objective"].loss(traj.final_theta)


def test_readme_opens_with_the_two_commands():
    lines = README.read_text(encoding="utf-8").splitlines()
    commands = [line for line in lines[:6] if line.startswith("pip install")]
    assert len(commands) == 2
    assert "landscape run all" in commands[0] and "pytest" in commands[1]
    assert (Path(__file__).parents[1] / ".ci" / "run").read_text().count(
        commands[1].split("#")[0].strip()) == 1
