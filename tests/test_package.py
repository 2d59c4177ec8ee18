"""The package's top level: subpackages load on first use, and the version is the project's."""

import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import landscape as ls

LAZY = ("data", "functions", "plot", "torch")


def _run(code: str) -> None:
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr


def test_import_loads_neither_torch_nor_the_plots():
    _run("import sys, landscape\n"
         "heavy = {'torch', 'matplotlib', 'landscape.torch', 'landscape.plot'}\n"
         "assert not heavy & set(sys.modules), heavy & set(sys.modules)")


def test_torch_is_imported_on_first_use_of_ls_torch():
    pytest.importorskip("torch")
    # Every sample is all ones with target 0: each output is sum(W) + b, the MSE its square.
    _run("import sys, numpy as np, landscape as ls\n"
         "assert 'torch' not in sys.modules\n"
         "import torch\n"
         "net = torch.nn.Linear(3, 1)\n"
         "data = (torch.ones(4, 3), torch.zeros(4, 1))\n"
         "obj = ls.torch.from_module(net, torch.nn.MSELoss(), data)\n"
         "W, b = net.weight.detach().double().numpy(), float(net.bias.detach())\n"
         "assert np.isclose(obj.loss(obj.theta0), (W.sum() + b) ** 2, rtol=1e-12)")


@pytest.mark.parametrize("name", LAZY)
def test_subpackages_are_attributes_and_listed(name):
    assert name in dir(ls)
    module = getattr(ls, name) if name != "torch" else pytest.importorskip("landscape.torch")
    assert module.__name__ == f"landscape.{name}" and sys.modules[module.__name__] is module


def test_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="no attribute 'tensorflow'"):
        ls.tensorflow  # noqa: B018


def test_version_is_the_one_in_pyproject():
    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    with pyproject.open("rb") as f:
        assert ls.__version__ == tomllib.load(f)["project"]["version"]
