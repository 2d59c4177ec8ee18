"""A table of bad inputs to the public API: each raises ValueError with the words it must contain.

Every row is ``(call, words)``: ``call()`` must raise ``ValueError`` (not TypeError,
IndexError, AttributeError, OverflowError or an error from inside a chunk of work) and its
message must contain each of ``words`` (the argument's name, and what is wrong with it).
"""

import numpy as np
import pytest

import landscape as ls
from landscape import functions as F
from landscape.data import blobs, one_hot, standardize, train_test_split, xor
from landscape.schedules import cosine, inverse_time, step_decay

X, Y = xor(16, rng=0)
CLASSIFIER = ls.MLP([2, 3, 2], output="softmax", loss="cross_entropy")
OBJ = CLASSIFIER.objective(X, Y)
THETA = CLASSIFIER.init(rng=0)
REGRESSOR = ls.MLP([2, 3, 1])
REG = REGRESSOR.objective(X, X[:, :1])
BOWL = F.quadratic([1.0, 2.0, 3.0], rotate=False)
Z3 = np.zeros(3)
E1, E2 = np.eye(3)[:2]
DIRS = ls.random_directions(OBJ.dim, rng=0)


def _mlp(**kw):
    return lambda: ls.MLP(**({"sizes": [2, 3, 1]} | kw))


def _run(**kw):
    args = {"objective": BOWL, "theta0": np.ones(3), "optimizer": ls.gd(0.1), "steps": 3} | kw
    return lambda: ls.run(**args)


def _plane(*args, **kw):
    return lambda: ls.plane(BOWL, Z3, *args, **({"resolution": 3} | kw))


def _accuracy(objective, theta):
    return objective.accuracy(theta)


CASES = {
    # -- MLP construction -------------------------------------------------------------
    "sizes a bare int": (lambda: ls.MLP(3), ["sizes", "sequence"]),
    "sizes None": (lambda: ls.MLP(None), ["sizes", "sequence"]),
    "sizes one layer": (lambda: ls.MLP([3]), ["sizes", "at least two"]),
    "sizes with None": (_mlp(sizes=[2, None, 1]), ["sizes[1]", "integer"]),
    "sizes with inf": (_mlp(sizes=[2, np.inf, 1]), ["sizes[1]", "integer"]),
    "sizes with complex": (_mlp(sizes=[2, 2j, 1]), ["sizes[1]", "integer"]),
    "sizes with a float": (_mlp(sizes=[2, 3.0, 1]), ["sizes[1]", "integer"]),
    "sizes with zero": (_mlp(sizes=[2, 0, 1]), ["sizes[1]", ">= 1"]),
    "sizes with a bool": (_mlp(sizes=[2, True, 1]), ["sizes[1]", "integer"]),
    "sizes a string": (_mlp(sizes="231"), ["sizes", "sequence", "'231'"]),
    "activation None": (_mlp(activation=None), ["activation", "None"]),
    "activation unknown": (_mlp(activation="gelu"), ["activation", "gelu", "relu"]),
    "activation too many": (_mlp(activation=["tanh", "relu"]), ["activation", "1 entries"]),
    "activation a number": (_mlp(activation=3), ["activation", "3"]),
    "output unknown": (_mlp(output="tanh"), ["output", "softmax"]),
    "loss unknown": (_mlp(loss="hinge"), ["loss", "mse"]),
    "cross-entropy of a linear output": (_mlp(loss="cross_entropy"), ["cross_entropy", "linear"]),
    "bias None": (_mlp(bias=None), ["bias", "None"]),
    "bias 'no'": (_mlp(bias="no"), ["bias", "'no'"]),
    "bias 0": (_mlp(bias=0), ["bias", "True or False"]),
    "bias too few": (_mlp(bias=[True]), ["bias", "2 entries"]),
    "bias list with a string": (_mlp(bias=[True, "no"]), ["bias[1]", "'no'"]),
    "half_mse 'yes'": (_mlp(half_mse="yes"), ["half_mse", "'yes'"]),
    "weight_decay None": (_mlp(weight_decay=None), ["weight_decay", "None"]),
    "weight_decay negative": (_mlp(weight_decay=-1.0), ["weight_decay", "-1.0"]),
    "weight_decay nan": (_mlp(weight_decay=np.nan), ["weight_decay", "nan"]),
    "weight_decay a string": (_mlp(weight_decay="0.1"), ["weight_decay", "'0.1'"]),
    "dtype 'foo'": (_mlp(dtype="foo"), ["dtype", "'foo'", "float64"]),
    "dtype int": (_mlp(dtype=np.int64), ["dtype", "int64"]),
    "dtype float16": (_mlp(dtype=np.float16), ["dtype", "float16"]),
    # -- MLP parameters and data -------------------------------------------------------
    "init scheme unknown": (lambda: CLASSIFIER.init(scheme="xavier"), ["init scheme", "he"]),
    "init gain None": (lambda: CLASSIFIER.init(gain=None), ["gain", "None"]),
    "init gain per layer too few": (lambda: CLASSIFIER.init(gain=[1.0]), ["gain", "2 entries"]),
    "init rng a string": (lambda: CLASSIFIER.init(rng="0"), ["rng", "str"]),
    "X one-dimensional": (lambda: CLASSIFIER.objective(X[:, 0], Y), ["X", "2 dimension"]),
    "X wrong width": (lambda: CLASSIFIER.objective(X[:, :1], Y), ["X", "2 columns"]),
    "X empty": (lambda: CLASSIFIER.objective(np.zeros((0, 2)), []), ["X", "empty"]),
    "X with nan": (lambda: CLASSIFIER.objective(np.full((16, 2), np.nan), Y), ["X", "NaN"]),
    "X complex": (lambda: CLASSIFIER.objective(X + 1j, Y), ["X", "complex128"]),
    "X bool": (lambda: CLASSIFIER.objective(X > 0, Y), ["X", "bool"]),
    "X strings": (lambda: CLASSIFIER.objective(X.astype(str), Y), ["X", "dtype <U"]),
    "X ragged": (lambda: CLASSIFIER.objective([[1.0, 2.0], [3.0]], [0, 1]), ["X", "numeric"]),
    "y 0-d": (lambda: CLASSIFIER.objective(X, 1), ["y", "one entry per sample"]),
    "y wrong length": (lambda: CLASSIFIER.objective(X, Y[:5]), ["y", "16", "5"]),
    "y labels out of range": (lambda: CLASSIFIER.objective(X, Y + 2), ["labels", "[0, 2)"]),
    "y labels not integers": (lambda: CLASSIFIER.objective(X, Y + 0.5), ["labels", "integers"]),
    "y wrong width": (lambda: REGRESSOR.objective(X, np.ones((16, 3))), ["y", "(16, 1)"]),
    "y bool": (lambda: CLASSIFIER.objective(X, Y > 0), ["y", "bool"]),
    "y complex": (lambda: REGRESSOR.objective(X, X[:, :1] + 0j), ["y", "complex"]),
    "y with inf": (lambda: REGRESSOR.objective(X, np.full(16, np.inf)), ["y", "inf"]),
    "cross-entropy target above 1": (
        lambda: ls.MLP([2, 2], output="sigmoid", loss="cross_entropy").objective(
            X, np.full((16, 2), 2.0)), ["cross-entropy targets", "[0, 1]"]),
    "accuracy of a regression": (lambda: REG.accuracy(np.zeros(REG.dim)), ["accuracy",
                                                                         "classifier"]),
    "subset out of range": (lambda: OBJ.subset([0, 16]), ["indices", "out of range"]),
    "subset of floats": (lambda: OBJ.subset([0.5]), ["indices", "integers"]),
    "subset empty": (lambda: OBJ.subset([]), ["indices", "non-empty"]),
    # -- Objective methods -----------------------------------------------------------
    "theta too short": (lambda: OBJ.loss(THETA[:-1]), ["theta", f"length {OBJ.dim}"]),
    "theta 2-d": (lambda: OBJ.grad(THETA[None]), ["theta", "1 dimension"]),
    "theta with nan": (lambda: OBJ.grad(np.full(OBJ.dim, np.nan)), ["theta", "NaN"]),
    "theta complex": (lambda: OBJ.loss(THETA + 0j), ["theta", "complex128"]),
    "theta bool": (lambda: OBJ.loss(THETA > 0), ["theta", "bool"]),
    "theta numeric strings": (lambda: OBJ.loss(THETA.astype(str)), ["theta", "dtype <U"]),
    "theta None": (lambda: OBJ.loss(None), ["theta", "shape ()"]),
    "hvp v wrong length": (lambda: OBJ.hvp(THETA, THETA[:3]), ["v", "length"]),
    "hvp v complex": (lambda: OBJ.hvp(THETA, THETA + 1j), ["v", "complex"]),
    "losses thetas 1-d": (lambda: OBJ.losses(THETA), ["thetas", "2 dimension"]),
    "losses thetas wrong width": (lambda: OBJ.losses(np.ones((2, 3))), ["thetas", "(k, "]),
    "span coords wrong width": (lambda: OBJ.losses_in_span(THETA, DIRS.vectors, np.ones((4, 3))),
                                ["coords", "(k, 2)"]),
    "span directions wrong width": (lambda: OBJ.losses_in_span(THETA, np.ones((2, 3)),
                                                               np.ones((4, 2))), ["directions"]),
    # -- from_function -----------------------------------------------------------------
    "from_function f not callable": (lambda: ls.from_function(3.0, 2), ["f", "callable"]),
    "from_function dim zero": (lambda: ls.from_function(np.sum, 0), ["dim", ">= 1"]),
    "from_function dim float": (lambda: ls.from_function(np.sum, 2.0), ["dim", "integer"]),
    "from_function grad not callable": (lambda: ls.from_function(np.sum, 2, grad=1),
                                        ["grad", "callable"]),
    "from_function grad wrong length": (
        lambda: ls.from_function(np.sum, 3, grad=lambda t: t[:2]).grad(Z3),
        ["grad", "shape (3,)", "(2,)"]),
    "from_function hvp complex": (
        lambda: ls.from_function(np.sum, 3, hvp=lambda t, v: v + 1j).hvp(Z3, Z3),
        ["hvp", "complex128"]),
    "from_function losses wrong shape": (
        lambda: ls.from_function(np.sum, 3, losses=lambda ts: ts).losses(np.ones((2, 3))),
        ["losses", "shape (2,)"]),
    "from_function f returns a vector": (lambda: ls.from_function(lambda t: t, 3).loss(Z3),
                                         ["f", "real number", "(3,)"]),
    "check_derivatives n_directions 0": (lambda: ls.check_derivatives(BOWL, Z3, n_directions=0),
                                         ["n_directions", ">= 1"]),
    # -- run ---------------------------------------------------------------------------
    "run optimizer a string": (_run(optimizer="gd"), ["optimizer", "'gd'", "ls.gd("]),
    "run optimizer uncalled": (_run(optimizer=ls.momentum), ["optimizer", "momentum", "call"]),
    "run optimizer a transform": (_run(optimizer=ls.scale_by_adam()),
                                  ["optimizer", "ls.optimizer("]),
    "run objective None": (_run(objective=None), ["objective", "NoneType"]),
    "run objective an MLP": (_run(objective=CLASSIFIER), ["objective", "model.objective(X, y)"]),
    "run steps negative": (_run(steps=-1), ["steps", ">= 0"]),
    "run steps float": (_run(steps=1e3), ["steps", "integer"]),
    "run steps None": (_run(steps=None), ["steps", "None"]),
    "run theta0 wrong length": (_run(theta0=[1.0]), ["theta0", "length 3"]),
    "run theta0 complex": (_run(theta0=np.ones(3) + 1j), ["theta0", "complex"]),
    "run record_every 0": (_run(record_every=0), ["record_every", ">= 1"]),
    "run max_records 1": (_run(max_records=1), ["max_records", ">= 2"]),
    "run loss_tol nan": (_run(loss_tol=np.nan), ["loss_tol", "nan"]),
    "run grad_tol negative": (_run(grad_tol=-1.0), ["grad_tol", "-1.0"]),
    "run diverge_factor 0": (_run(diverge_factor=0.0), ["diverge_factor", "positive"]),
    "run on_divergence unknown": (_run(on_divergence="warn"), ["on_divergence", "raise"]),
    "run batch_size without samples": (_run(batch_size=2), ["batch_size", "samples"]),
    "run batch_size too large": (lambda: ls.run(OBJ, THETA, ls.gd(0.1), 2, batch_size=17),
                                 ["batch_size", "16"]),
    "run sampling unknown": (lambda: ls.run(OBJ, THETA, ls.gd(0.1), 2, batch_size=4,
                                            sampling="random"), ["sampling", "shuffle"]),
    "run metrics a list": (_run(metrics=[1]), ["metrics", "[1]"]),
    "run metric not callable": (_run(metrics={"x": 3}), ["metrics", "callables"]),
    "run metric returns an array": (_run(metrics={"x": lambda o, t: t}),
                                    ["metric 'x'", "real number", "(3,)"]),
    "run metric returns a string": (_run(metrics={"x": lambda o, t: "1"}),
                                    ["metric 'x'", "<U1"]),
    "run rng a float": (lambda: ls.run(OBJ, THETA, ls.gd(0.1), 2, batch_size=4, rng=0.5),
                        ["rng", "float"]),
    "run schedule negative": (_run(optimizer=ls.gd(lambda t: -1.0)), ["schedule", "-1.0"]),
    # -- optimizers and schedules -----------------------------------------------------------
    "gd lr zero": (lambda: ls.gd(0.0), ["lr", "positive"]),
    "gd lr None": (lambda: ls.gd(None), ["lr", "None"]),
    "gd lr a string": (lambda: ls.gd("0.1"), ["lr", "'0.1'"]),
    "momentum beta 1": (lambda: ls.momentum(0.1, beta=1.0), ["beta", "1.0"]),
    "adam b2 negative": (lambda: ls.adam(0.1, b2=-0.5), ["b2", "-0.5"]),
    "adam eps zero": (lambda: ls.adam(0.1, eps=0.0), ["eps", "positive"]),
    "rmsprop decay 2": (lambda: ls.rmsprop(0.1, decay=2.0), ["decay", "2.0"]),
    "clip_by_global_norm 0": (lambda: ls.clip_by_global_norm(0.0), ["max_norm"]),
    "perturbed radius 0": (lambda: ls.perturbed_gd(0.1, radius=0.0), ["radius"]),
    "cosine steps 0": (lambda: cosine(0.1, 0), ["steps", ">= 1"]),
    "step_decay every 0": (lambda: step_decay(0.1, every=0), ["every", ">= 1"]),
    "inverse_time decay negative": (lambda: inverse_time(0.1, decay=-1.0), ["decay"]),
    # -- directions ------------------------------------------------------------------
    "random_directions dim None": (lambda: ls.random_directions(None), ["dim", "None"]),
    "random_directions the old positional k": (lambda: ls.random_directions(OBJ.dim, 2),
                                               ["center", "pass k by name", "k=2"]),
    "random_directions k 0": (lambda: ls.random_directions(5, k=0), ["k", ">= 1"]),
    "random_directions k above dim": (lambda: ls.random_directions(3, k=4), ["k", "at most 3"]),
    "filter normalization at a zero center": (
        lambda: ls.filter_normalized_directions(OBJ, np.zeros(OBJ.dim), rng=0),
        ["center", "zero"]),
    "filter_normalize at a zero center": (
        lambda: ls.filter_normalize(np.ones((2, OBJ.dim)), np.zeros(OBJ.dim), OBJ.blocks),
        ["center", "zero"]),
    "filter_normalize bias mode": (lambda: ls.filter_normalize(np.ones(3), np.ones(3), bias="x"),
                                   ["bias mode", "copy"]),
    "filter_normalize shapes differ": (lambda: ls.filter_normalize(np.ones(4), np.ones(3)),
                                       ["directions", "(3,)"]),
    "pca_directions of one point": (lambda: ls.pca_directions(np.ones((1, 3))), ["trajectory"]),
    "interpolation of equal points": (lambda: ls.interpolation(np.ones(3), np.ones(3)),
                                      ["same"]),
    "hessian_directions k too large": (lambda: ls.hessian_directions(np.eye(3)[:, :2], k=3),
                                       ["k"]),
    # -- surfaces ----------------------------------------------------------------------
    "plane parallel directions": (_plane([1.0, 0, 0], [2.0, 0, 0]), ["d1", "d2", "parallel"]),
    "plane identical directions": (_plane(E1, E1), ["d1", "d2", "parallel"]),
    "plane opposite directions": (_plane(E1, -E1), ["parallel"]),
    "plane a zero direction": (_plane(E1, Z3), ["direction", "zero"]),
    "plane one direction only": (_plane(E1), ["2 direction"]),
    "plane span negative": (_plane(E1, E2, span=-1.0), ["span", "positive"]),
    "plane span reversed": (_plane(E1, E2, span=(1.0, -1.0)), ["span", "low < high"]),
    "plane resolution 1": (_plane(E1, E2, resolution=1), ["resolution", ">= 2"]),
    "plane resolution float": (_plane(E1, E2, resolution=5.0), ["resolution", "integer"]),
    "plane center wrong length": (lambda: ls.plane(BOWL, np.zeros(2), E1, E2), ["center"]),
    "plane objective None": (lambda: ls.plane(None, Z3, E1, E2), ["objective", "NoneType"]),
    "plane metric returns an array": (_plane(E1, E2, metrics={"m": lambda o, t: t}),
                                      ["metric 'm'", "(3,)"]),
    "plane accuracy of a regression model": (
        lambda: ls.plane(REG, np.zeros(REG.dim), ls.random_directions(REG.dim, rng=0),
                         resolution=3, metrics={"accuracy": _accuracy}),
        ["metric 'accuracy'", "classifier"]),
    "plane execution a dict": (_plane(E1, E2, execution={"executor": 2}), ["execution"]),
    "line zero direction": (lambda: ls.line(BOWL, Z3, Z3), ["direction", "zero"]),
    "curve start equals end": (lambda: ls.curve(BOWL, np.ones(3), np.ones(3)),
                               ["start", "end", "same"]),
    "curve bezier span": (lambda: ls.curve(BOWL, Z3, np.ones(3), bend=E1, span=(-1.0, 2.0)),
                          ["span"]),
    "project wrong width": (lambda: ls.project(np.ones((4, 2)), Z3, np.eye(3)[:2]),
                            ["center", "length 2"]),
    # -- execution settings -----------------------------------------------------------
    "memory_budget a string": (lambda: ls.Execution(memory_budget="1"), ["memory_budget", "'1'"]),
    "memory_budget inf": (lambda: ls.Execution(memory_budget=np.inf), ["memory_budget", "inf"]),
    "memory_budget zero": (lambda: ls.Execution(memory_budget=0), ["memory_budget"]),
    "executor zero": (lambda: ls.Execution(executor=0), ["executor", ">= 1"]),
    "executor a string": (lambda: ls.Execution(executor="dask"), ["executor", "'dask'"]),
    "progress a string": (lambda: ls.Execution(progress="yes"), ["progress", "'yes'"]),
    "cache a number": (lambda: ls.Execution(cache=3), ["cache", "3"]),
    "execution unknown field": (lambda: ls.execution(workers=2).__enter__(), ["workers"]),
    # -- curvature --------------------------------------------------------------------
    "eigenpairs of an objective": (lambda: ls.eigenpairs(OBJ), ["H", "hessian_operator"]),
    "eigenpairs non-square": (lambda: ls.eigenpairs(np.ones((2, 3))), ["H", "square"]),
    "eigenpairs asymmetric": (lambda: ls.eigenpairs(np.triu(np.ones((3, 3)))), ["symmetric"]),
    "eigenpairs k 0": (lambda: ls.eigenpairs(np.eye(3), k=0), ["k", ">= 1"]),
    "eigenpairs k above n": (lambda: ls.eigenpairs(np.eye(3), k=4), ["k", "at most"]),
    "eigenpairs which": (lambda: ls.eigenpairs(np.eye(3), which="LM"), ["which", "LA"]),
    "eigenpairs method": (lambda: ls.eigenpairs(np.eye(3), method="qr"), ["method", "dense"]),
    "eigenpairs complex": (lambda: ls.eigenpairs(np.eye(3) * 1j), ["H", "complex"]),
    "hessian_operator theta wrong length": (lambda: ls.hessian_operator(OBJ, Z3), ["theta"]),
    "hessian_operator objective None": (lambda: ls.hessian_operator(None, Z3), ["objective"]),
    "sharpness theta nan": (lambda: ls.sharpness(BOWL, [np.nan, 0, 0]), ["theta", "NaN"]),
    "condition_number empty": (lambda: ls.condition_number([]), ["eigenvalues"]),
    "spectral_density m 0": (lambda: ls.spectral_density(np.eye(3), m=0), ["m"]),
    "hutchinson n_probes 0": (lambda: ls.hutchinson_trace(np.eye(3), n_probes=0),
                              ["n_probes"]),
    "classify theta wrong length": (lambda: ls.classify(BOWL, [0.0]), ["theta"]),
    "critical_points_in_box bad bounds": (
        lambda: ls.critical_points_in_box(BOWL, np.ones((3, 3))), ["bounds"]),
    # -- sweeps ----------------------------------------------------------------------
    "run_many optimizers a string": (lambda: ls.run_many(BOWL, np.ones((2, 3)), "gd", 3),
                                     ["optimizers"]),
    "run_many steps negative": (lambda: ls.run_many(BOWL, np.ones((2, 3)), ls.gd(0.1), -1),
                                ["steps"]),
    "grid_starts reversed bounds": (lambda: ls.grid_starts([[1.0, 0.0]], 3), ["bounds"]),
    "box_starts method": (lambda: ls.box_starts([[0.0, 1.0]], 3, method="sobol2"), ["method"]),
    # -- data ------------------------------------------------------------------------
    "xor n 0": (lambda: xor(0), ["n", ">= 1"]),
    "xor noise negative": (lambda: xor(10, noise=-1.0), ["noise"]),
    "blobs centers 0": (lambda: blobs(10, centers=0), ["centers"]),
    "one_hot labels not integers": (lambda: one_hot([0.5, 1.0]), ["labels"]),
    "standardize X 1-d": (lambda: standardize(np.ones(3)), ["X", "2 dimension"]),
    "train_test_split fraction 1": (lambda: train_test_split(X, Y, test_fraction=1.0),
                                    ["test_fraction"]),
    # -- functions --------------------------------------------------------------------
    "quadratic eigenvalues complex": (lambda: F.quadratic([1.0 + 1j, 2.0]),
                                      ["eigenvalues", "complex"]),
    "quadratic eigenvalues 2-d": (lambda: F.quadratic(np.eye(2)), ["eigenvalues", "1 dimension"]),
    "rosenbrock n 1": (lambda: F.rosenbrock(1), ["n", ">= 2"]),
    "rastrigin n 0": (lambda: F.rastrigin(0), ["n"]),
    # -- records ------------------------------------------------------------------------
    "save something that is not a record": (lambda: ls.save({"a": 1}, "x.npz"), ["record"]),
}


@pytest.mark.parametrize("name", CASES)
def test_bad_input_raises_value_error_with_words(name):
    call, words = CASES[name]
    with pytest.raises(ValueError) as err:
        call()
    missing = [w for w in words if w not in str(err.value)]
    assert not missing, f"message {str(err.value)!r} lacks {missing}"


def test_the_table_is_long():
    assert len(CASES) >= 100
