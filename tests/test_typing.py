"""The Literal aliases of name arguments agree with the names the code accepts at run time.

A name the Literal lists but the code refuses would pass the type checker and fail at run
time; a name the code accepts but the Literal lacks would be refused by the type checker
though it works. So for each name argument: every name of its Literal is accepted, and an
unknown name is refused with a ValueError that offers exactly the Literal's names.
"""

import ast
from typing import get_args

import numpy as np
import pytest

import landscape as ls
from landscape.activations import ACTIVATIONS, ActivationName
from landscape.critical import SolveMethod
from landscape.data import MnistKind, load_mnist
from landscape.directions import BiasMode
from landscape.heads import LossName, OutputName
from landscape.hessian import EigenMethod, Which
from landscape.mlp import InitScheme
from landscape.runner import OnDivergence, Sampling
from landscape.sweep import BoxMethod


def _offered(err: pytest.ExceptionInfo) -> list[str]:
    """The names a refusal offers: its message ends ``choose one of [...]``."""
    return ast.literal_eval(str(err.value).split("choose one of ", 1)[1])


def test_activation_names_are_the_table_in_order():
    assert get_args(ActivationName) == tuple(ACTIVATIONS)


def _mlp(**kwargs):
    return ls.MLP([2, 3, 2], **{"output": "softmax", "loss": "cross_entropy", **kwargs})


def _samples():
    X = np.array([[0.0, 1.0], [1.0, 0.0], [1.0, 1.0]])
    return ls.MLP([2, 2, 1]).objective(X, np.array([0.0, 1.0, 1.0]))


QUADRATIC = ls.from_function(lambda t: float(t @ t), 2, grad=lambda t: 2 * t,
                             hvp=lambda t, v: 2 * v)

#: Each name argument: its Literal and a call that passes it one name.
NAME_ARGUMENTS = {
    "activation": (ActivationName, lambda a: _mlp(activation=a)),
    "output": (OutputName, lambda o: _mlp(output=o, loss="mse")),
    "loss": (LossName, lambda loss: _mlp(loss=loss)),
    "init scheme": (InitScheme, lambda s: _mlp().init(rng=0, scheme=s)),
    "sampling": (Sampling, lambda s: ls.run(_samples(), np.zeros(9), ls.gd(0.1), 1,
                                            batch_size=2, sampling=s, rng=0)),
    "on_divergence": (OnDivergence, lambda d: ls.run(QUADRATIC, np.ones(2), ls.gd(0.1), 1,
                                                     on_divergence=d)),
    "which": (Which, lambda w: ls.eigenpairs(np.diag([1.0, 2.0, 3.0]), 1, which=w)),
    "eigen method": (EigenMethod, lambda m: ls.eigenpairs(np.diag([1.0, 2.0, 3.0]), 1,
                                                          method=m)),
    "solve method": (SolveMethod, lambda m: ls.find_critical_point(QUADRATIC, np.ones(2),
                                                                   method=m)),
    "box method": (BoxMethod, lambda m: ls.box_starts([[0.0, 1.0]], 3, rng=0, method=m)),
    "bias mode": (BiasMode, lambda b: ls.filter_normalize(np.ones(2), np.ones(2), bias=b)),
}


@pytest.mark.parametrize("argument", NAME_ARGUMENTS)
def test_every_name_of_the_literal_is_accepted(argument):
    literal, call = NAME_ARGUMENTS[argument]
    for name in get_args(literal):
        call(name)


@pytest.mark.parametrize("argument", NAME_ARGUMENTS)
def test_an_unknown_name_is_refused_offering_the_literal(argument):
    literal, call = NAME_ARGUMENTS[argument]
    with pytest.raises(ValueError, match="choose one of") as err:
        call("bogus")
    assert _offered(err) == sorted(get_args(literal))


def test_mnist_kinds(tmp_path):
    for kind in get_args(MnistKind):  # a name it knows: it looks for the files
        with pytest.raises(FileNotFoundError):
            load_mnist(tmp_path, kind)
    with pytest.raises(ValueError, match="choose one of") as err:
        load_mnist(tmp_path, "bogus")
    assert _offered(err) == sorted(get_args(MnistKind))


def test_torch_modes():
    torch = pytest.importorskip("torch")
    from landscape.torch import TorchMode, from_module

    data = (torch.ones(3, 2), torch.zeros(3, 1))
    for mode in get_args(TorchMode):
        from_module(torch.nn.Linear(2, 1), torch.nn.MSELoss(), data, mode=mode)
    with pytest.raises(ValueError, match="choose one of") as err:
        from_module(torch.nn.Linear(2, 1), torch.nn.MSELoss(), data, mode="bogus")
    assert _offered(err) == sorted(get_args(TorchMode))


def test_recorder_curvature_names():
    torch = pytest.importorskip("torch")
    from landscape.torch.recorder import CurvatureName, Recorder

    net, data = torch.nn.Linear(2, 1), (torch.ones(3, 2), torch.zeros(3, 1))
    for name in get_args(CurvatureName):
        Recorder(net, torch.nn.MSELoss(), data, curvature=(name,))
    with pytest.raises(ValueError, match="choose one of") as err:
        Recorder(net, torch.nn.MSELoss(), data, curvature=("bogus",))
    assert _offered(err) == sorted(get_args(CurvatureName))
