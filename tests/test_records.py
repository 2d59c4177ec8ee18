"""Saving and loading records: bit-identical round trips of every record type, one file
replaced atomically, damaged or foreign files refused with the file's name; short reprs."""

import dataclasses
import json
import math
import os
import pickle
import subprocess
import sys
import time
import zipfile
from collections.abc import Mapping

import numpy as np
import pytest

import landscape as ls
from landscape import functions as F
from landscape import records
from landscape.vocabulary import DIVERGED, SADDLE

# ---------------------------------------------------------------------------------
# Comparing records bit for bit
# ---------------------------------------------------------------------------------


def assert_identical(a, b, where="record"):
    """``a`` and ``b`` equal in type, shape, dtype and every bit (NaN equal to NaN)."""
    a, b = (x.item() if isinstance(x, np.generic) else x for x in (a, b))
    if isinstance(a, np.ndarray):
        assert isinstance(b, np.ndarray), where
        assert (a.dtype, a.shape) == (b.dtype, b.shape), where
        assert np.ascontiguousarray(a).tobytes() == np.ascontiguousarray(b).tobytes(), where
    elif isinstance(a, Mapping):
        assert isinstance(b, Mapping) and list(a) == list(b), where
        for k in a:
            assert_identical(a[k], b[k], f"{where}[{k!r}]")
    elif dataclasses.is_dataclass(a) or hasattr(a, "_fields"):
        assert type(a) is type(b), where
        for f in records._fields(type(a)):
            assert_identical(getattr(a, f), getattr(b, f), f"{where}.{f}")
    elif isinstance(a, (tuple, list)):
        assert type(a) is type(b) and len(a) == len(b), where
        for i, (x, y) in enumerate(zip(a, b)):
            assert_identical(x, y, f"{where}[{i}]")
    elif isinstance(a, float):
        assert isinstance(b, float), where
        assert (math.isnan(a) and math.isnan(b)) or (
            a == b and math.copysign(1, a) == math.copysign(1, b)), (where, a, b)
    else:
        assert type(a) is type(b) and a == b, (where, a, b)


def round_trip(value, tmp_path, name="record"):
    path = ls.save(value, tmp_path / name)
    assert path == tmp_path / f"{name}.npz" and path.is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]  # no temporary file
    back = ls.load(path)
    assert_identical(value, back)
    return back


# ---------------------------------------------------------------------------------
# Every registered record, filled from its annotations with awkward values
# ---------------------------------------------------------------------------------

AWKWARD_FLOATS = (float("nan"), float("inf"), -0.0, 1 / 3, -float("inf"), 1e-308)


def awkward_array(shape=(3, 2)) -> np.ndarray:
    a = np.arange(math.prod(shape), dtype=np.float64).reshape(shape) / 7
    a.flat[:3] = [np.nan, -np.inf, -0.0][: a.size]
    return a


def awkward_value(annotation: str, i: int, none: bool, shape=(3, 2), plain=False):
    """A value for a field annotated ``annotation`` (the ``i``-th field of its record);
    ``plain``: the numbers and dicts of everyday records, else awkward ones."""
    annotation = str(getattr(annotation, "__forward_arg__", annotation))
    if annotation.endswith("| None"):
        return None if none else awkward_value(annotation[:-6].strip(), i, none, shape, plain)
    container = annotation.split("[", 1)[0]  # tuple[...], dict[...], Mapping[...]: by container
    if container in ("tuple", "dict", "Mapping") and annotation.endswith("]"):
        annotation = "dict" if container == "Mapping" else container
    if annotation in ("np.ndarray", "Theta", "Thetas"):
        return awkward_array(shape)
    if plain and annotation in ("float", "int", "dict"):
        return {"float": 0.25, "int": 7, "dict": {"lr": 0.1, "beta": 0.9, "seed": 3}}[annotation]
    if annotation == "float":
        return AWKWARD_FLOATS[i % len(AWKWARD_FLOATS)]
    if annotation == "int":
        return 2**62 + i
    if annotation == "bool":
        return i % 2 == 0
    if annotation in ("str", "Kind", "Status", "DirectionKind", "Which | Literal['all']"):
        return {"Kind": SADDLE, "Status": DIVERGED}.get(annotation, "it's \"quoted\" é")
    if annotation == "dict":
        return {"counts": np.arange(4, dtype=np.int32), "mixed": [1.5, None, "x", float("nan")],
                "nested": {"pair": (2, np.float32(0.1)), "flag": np.array([True, False])}}
    if annotation == "tuple":
        return (awkward_array((2,)), np.array(["a", "bc"]), "label", None)
    raise AssertionError(f"no awkward value for annotation {annotation!r}: add one here")


def awkward_record(cls, none: bool = False, shape=(3, 2), plain=False):
    """A ``cls`` whose first array has ``shape`` and whose other arrays ``shape[:1]``."""
    values = {}
    for i, f in enumerate(records._fields(cls)):
        first = not any(isinstance(v, np.ndarray) and v.ndim > 1 for v in values.values())
        values[f] = awkward_value(cls.__annotations__[f], i, none,
                                  shape if first else shape[:1], plain)
    return cls(**values)


@pytest.mark.parametrize("none", [False, True], ids=["values", "nones"])
@pytest.mark.parametrize("name", sorted(records._REGISTRY))
def test_every_record_type_round_trips_bit_identically(name, none, tmp_path):
    round_trip(awkward_record(records._REGISTRY[name], none), tmp_path)


def test_the_registry_holds_every_exported_record():
    not_results = {"Optimizer", "GradientTransformation", "ParameterBlock", "Execution"}
    exported = {name for name in ls.__all__ if dataclasses.is_dataclass(getattr(ls, name))
                or hasattr(getattr(ls, name), "_fields")} - not_results
    assert exported <= set(records._REGISTRY)
    assert {"Trajectory", "Runs", "Surface", "Curve", "Projection", "Spectrum", "CriticalPoint",
            "SpectralDensity", "TraceEstimate", "SaddleEpisode", "Basins"} <= set(
        records._REGISTRY)


# ---------------------------------------------------------------------------------
# Records as the package makes them
# ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def himmelblau():
    return F.himmelblau()


@pytest.fixture(scope="module")
def trajectory(himmelblau):
    return ls.run(himmelblau, [0.0, 0.0], ls.momentum(0.01, 0.9), 60, record_every=7,
                  metrics={"norm": lambda o, th: float(np.linalg.norm(th))})


def test_trajectories_round_trip(trajectory, himmelblau, tmp_path):
    back = round_trip(trajectory, tmp_path)
    assert back.final_loss == trajectory.final_loss and back.hyperparams == {"lr": 0.01,
                                                                           "beta": 0.9}
    diverged = ls.run(himmelblau, [4.0, 4.0], ls.gd(1.0), 50)
    assert diverged.status == DIVERGED
    round_trip(diverged, tmp_path, "diverged")


def test_runs_and_what_they_summarize_round_trip(himmelblau, tmp_path):
    runs = ls.run_many(himmelblau, ls.grid_starts(himmelblau.bounds, 3),
                       {"gd": ls.gd(0.01), "adam": ls.adam(0.05)}, 25)
    back = round_trip(runs, tmp_path, "runs")
    np.testing.assert_array_equal(back.basins(tol=0.5).labels, runs.basins(tol=0.5).labels)
    round_trip(runs.basins(himmelblau.critical_points), tmp_path, "basins")
    round_trip(runs.summary(), tmp_path, "summary")  # a dict of RunSummary


def test_a_sweep_is_a_handful_of_zip_members_however_many_runs(trajectory, tmp_path):
    runs = ls.Runs((trajectory,) * 500, ("gd",) * 500, np.arange(500), seed=3)
    path = ls.save(runs, tmp_path / "sweep")
    assert len(zipfile.ZipFile(path).namelist()) <= 4  # metadata, floats, ints
    assert_identical(runs, ls.load(path))


def test_surfaces_curves_and_projections_round_trip(himmelblau, trajectory, tmp_path):
    center = np.array([3.0, 2.0])
    metrics = {"norm": lambda o, th: float(np.linalg.norm(th))}
    plane = ls.plane(himmelblau, center, np.array([1.0, 0.0]), np.array([0.0, 1.0]), span=8.0,
                     resolution=(5, 4), metrics=metrics)
    round_trip(plane, tmp_path, "plane")
    round_trip(ls.line(himmelblau, center, np.array([1.0, 1.0]), resolution=7), tmp_path, "line")
    round_trip(ls.curve(himmelblau, center, -center, bend=np.zeros(2), resolution=9),
               tmp_path, "curve")
    round_trip(ls.project(trajectory, center, np.eye(2)), tmp_path, "projection")
    round_trip({"plane": plane}, tmp_path, "dict")


def test_critical_points_and_curvature_round_trip(himmelblau, tmp_path):
    found = ls.find_critical_points(himmelblau, ls.grid_starts(himmelblau.bounds, 3))
    assert len(found) > 1
    back = round_trip(found, tmp_path, "found")
    assert isinstance(back, tuple)
    round_trip(list(himmelblau.critical_points), tmp_path, "known")
    round_trip((), tmp_path, "none")
    a = np.diag([3.0, -1.0, 2.0, 0.5, 4.0, 1.0])
    round_trip(ls.eigenpairs(a, k=2), tmp_path, "spectrum")
    round_trip(ls.spectral_density(a, n_probes=2, m=4, rng=0), tmp_path, "density")
    round_trip(ls.hutchinson_trace(a, 5, rng=0), tmp_path, "trace")
    round_trip(ls.check_derivatives(himmelblau, [1.0, 2.0], rng=0), tmp_path, "check")
    round_trip(ls.random_directions(5, k=2, rng=0), tmp_path, "directions")


# ---------------------------------------------------------------------------------
# What cannot be saved, and saves that fail halfway
# ---------------------------------------------------------------------------------


@pytest.mark.parametrize("value, message", [
    (np.zeros(3), "a record"),
    ((1, 2), "a record"),
    ({"a": 1}, "a record"),
])
def test_only_records_are_saved(value, message, tmp_path):
    with pytest.raises(ValueError, match=message):
        ls.save(value, tmp_path / "x")
    assert list(tmp_path.iterdir()) == []


def test_a_failed_save_leaves_the_old_file_whole_and_no_temporary_file(trajectory, tmp_path,
                                                                        monkeypatch):
    path = ls.save(trajectory, tmp_path / "run")
    before = path.read_bytes()
    for hyperparams, message in [({"schedule": print}, r"Trajectory\.hyperparams\['schedule'\]"),
                                 ({1: 0.1}, "keys must be str"),
                                 ({"x": np.array([{}])}, "need pickle")]:
        with pytest.raises(ValueError, match=message):
            ls.save(dataclasses.replace(trajectory, hyperparams=hyperparams), path)
    assert path.read_bytes() == before

    def disk_full(file, **arrays):  # writes part of a zip, then fails
        file.write(before[: len(before) // 2])
        raise OSError("No space left on device")

    monkeypatch.setattr(np, "savez", disk_full)
    with pytest.raises(OSError, match="No space"):
        ls.save(dataclasses.replace(trajectory, optimizer="other"), path)
    assert path.read_bytes() == before and sorted(tmp_path.iterdir()) == [path]
    monkeypatch.undo()
    assert_identical(ls.load(path), trajectory)


KILLED_WRITER = """
import sys
import numpy as np
import landscape as ls

def trajectory(value):  # every array filled with value: a mix of two records shows
    big, steps = np.full((20_000, 50), value), np.full(20_000, int(value))
    return ls.Trajectory(big, steps, *[np.full(20_000, value)] * 5, metrics={}, status="converged",
                         diverged_at=None, optimizer=str(value), hyperparams={"lr": value})

records = [trajectory(1.0), trajectory(2.0)]
ls.save(records[0], sys.argv[1])
print("ready", flush=True)
i = 0
while True:
    i += 1
    ls.save(records[i % 2], sys.argv[1])
"""


@pytest.mark.parametrize("delay", [0.05, 0.23])
def test_a_writer_killed_while_saving_leaves_a_whole_record(delay, tmp_path):
    path = tmp_path / "run.npz"
    writer = subprocess.Popen([sys.executable, "-c", KILLED_WRITER, str(path)],
                              stdout=subprocess.PIPE, text=True)
    try:
        assert writer.stdout.readline().strip() == "ready"
        time.sleep(delay)
    finally:
        writer.kill()
        writer.wait()
        writer.stdout.close()
    back = ls.load(path)
    value = float(back.optimizer)
    assert back.hyperparams == {"lr": value} and np.all(back.steps == int(value))
    for field in ("thetas", "loss", "batch_loss", "grad_norm", "lr", "wall_time"):
        assert np.all(getattr(back, field) == value), field


# ---------------------------------------------------------------------------------
# Damaged and foreign files
# ---------------------------------------------------------------------------------


def _member_offset(path, name: str) -> int:
    info = zipfile.ZipFile(path).getinfo(name)
    return info.header_offset + 100  # inside the member's data


def _rewrite_meta(path, change):
    with np.load(path) as f:
        members = {k: f[k] for k in f.files}
    meta = json.loads(members["__meta__"].tobytes())
    change(meta)
    members["__meta__"] = np.frombuffer(json.dumps(meta).encode(), dtype=np.uint8)
    np.savez(path, **members)


def _save_npy(path, array):
    with open(path, "wb") as fh:  # np.save(path) would append .npy
        np.save(fh, array, allow_pickle=True)


def _flip(path, offset):
    raw = bytearray(path.read_bytes())
    raw[offset] ^= 0xFF
    path.write_bytes(bytes(raw))


DAMAGE = {
    "empty": (lambda p: p.write_bytes(b""), "empty"),
    "truncated": (lambda p: p.write_bytes(p.read_bytes()[: p.stat().st_size // 2]), "corrupt"),
    "header only": (lambda p: p.write_bytes(p.read_bytes()[:60]), "corrupt"),
    "random bytes": (lambda p: p.write_bytes(np.random.default_rng(0).bytes(5000)), "not a"),
    "text": (lambda p: p.write_text("hello"), "not a"),
    "bit flip in the data": (lambda p: _flip(p, _member_offset(p, "pool0.npy")), "corrupt"),
    "bit flip in the metadata": (lambda p: _flip(p, _member_offset(p, "__meta__.npy")),
                                 "corrupt"),
    "foreign npz": (lambda p: np.savez(p, x=np.arange(3)), "no __meta__"),
    "pickled npy": (lambda p: _save_npy(p, np.array([{}], dtype=object)), "not a"),
    "pickled member": (lambda p: np.savez(p, __meta__=np.array([{}], dtype=object)),
                       "pickle"),
    "not JSON": (lambda p: np.savez(p, __meta__=np.frombuffer(b"{nope", np.uint8)),
                 "malformed"),
    "another format": (lambda p: _rewrite_meta(p, lambda m: m.update(format="other")),
                       "no landscape format"),
    "a newer version": (lambda p: _rewrite_meta(p, lambda m: m.update(version=2)),
                        "version 2.*upgrade"),
    "an unknown type": (lambda p: _rewrite_meta(p, lambda m: m["value"].update(record="Nope")),
                        "unknown record type 'Nope'"),
    "an unknown field": (lambda p: _rewrite_meta(
        p, lambda m: m["value"]["fields"].update(extra=1)), "no field"),
    "an array out of range": (lambda p: _rewrite_meta(
        p, lambda m: m["value"]["fields"]["loss"].update(array=[0, 10**9, [3]])), "outside"),
    "a negative shape": (lambda p: _rewrite_meta(
        p, lambda m: m["value"]["fields"]["loss"].update(array=[0, 0, [-1]])), "not \\[pool"),
    "an unknown tag": (lambda p: _rewrite_meta(
        p, lambda m: m["value"]["fields"].update(loss={"set": [1]})), "unknown tag"),
}


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_damaged_or_foreign_files_raise_value_error_naming_the_file(damage, trajectory,
                                                                    tmp_path):
    path = ls.save(trajectory, tmp_path / "run.npz")
    spoil, message = DAMAGE[damage]
    spoil(path)
    with pytest.raises(ValueError, match=message) as err:
        ls.load(path)
    assert str(path) in str(err.value)


class _Planted:
    """Unpickling it makes a folder: the code a planted file would run."""

    def __init__(self, target):
        self.target = str(target)

    def __reduce__(self):
        return os.mkdir, (self.target,)


def test_a_planted_pickle_never_runs(tmp_path):
    path, target = tmp_path / "planted.npz", tmp_path / "planted-by-a-pickle"
    np.savez(path, __meta__=np.array([_Planted(target)], dtype=object))
    pickle.loads(pickle.dumps(_Planted(target)))  # the payload works when unpickled ...
    target.rmdir()
    with pytest.raises(ValueError, match="pickle"):
        ls.load(path)
    assert not target.exists()  # ... and load never unpickles it


def test_a_missing_file_is_file_not_found(tmp_path):
    with pytest.raises(FileNotFoundError):
        ls.load(tmp_path / "nothing.npz")


# ---------------------------------------------------------------------------------
# Short reprs
# ---------------------------------------------------------------------------------


@pytest.mark.parametrize("name", sorted(records._REGISTRY))
def test_reprs_stay_short_whatever_the_arrays(name):
    cls = records._REGISTRY[name]
    text = repr(awkward_record(cls, shape=(1000, 500), plain=True))
    assert text.startswith(f"{name}(")
    assert "(1000, 500)" in text or "ndarray" not in str(cls.__annotations__)
    assert len(text.splitlines()) <= 10 and len(text) <= 600, text


def test_reprs_show_the_key_numbers(trajectory, himmelblau):
    text = repr(trajectory)
    for part in (f"status={trajectory.status!r}", f"0 -> {trajectory.n_steps}",
                 f"-> {trajectory.final_loss:.4g}", "optimizer='momentum'", "beta: 0.9",
                 f"thetas=({len(trajectory.steps)}, 2)"):
        assert part in text, (part, text)
    values = np.linspace(-7.0, 5.0, 500_000).reshape(1000, 500)
    values[3, 4] = np.nan
    surface = dataclasses.replace(awkward_record(records._REGISTRY["Surface"], plain=True),
                                  values=values)
    assert "values=(1000, 500) in [-7, 5] (1 non-finite)" in repr(surface)
    runs = ls.Runs((trajectory,) * 30 + (trajectory,) * 20, ("gd",) * 30 + ("adam",) * 20,
                   np.arange(50), seed=5)
    assert "(50 Trajectory)" in repr(runs) and "'gd' x30, 'adam' x20" in repr(runs)


def test_objectives_say_what_they_are():
    assert repr(F.himmelblau()) == "AnalyticObjective(dim=2, name='himmelblau')"
    model = ls.MLP([2, 8, 3], activation="relu", output="softmax", loss="cross_entropy",
                   dtype=np.float32)
    X, y = np.zeros((10, 2)), np.eye(3)[np.arange(10) % 3]
    assert repr(model.objective(X, y)) == (
        "MLPObjective(dim=51, sizes=[2, 8, 3], activation='relu', output='softmax', "
        "loss='cross_entropy', n_samples=10, dtype='float32')")

    def bowl(theta):
        return float(theta @ theta)

    assert repr(ls.from_function(bowl, 3, grad=lambda t: 2 * t)) == (
        "FunctionObjective(dim=3, f='test_objectives_say_what_they_are.<locals>.bowl', "
        "grad='given', hvp='finite differences')")


def test_torch_objectives_say_what_they_are():
    torch = pytest.importorskip("torch")
    from landscape.torch import from_module

    module = torch.nn.Sequential(torch.nn.Linear(3, 4), torch.nn.Tanh(), torch.nn.Linear(4, 1))
    X, y = torch.zeros(6, 3), torch.zeros(6, 1)
    text = repr(from_module(module, torch.nn.functional.mse_loss, (X, y)))
    assert text.startswith("TorchObjective(dim=21, module='Sequential', loss='mse_loss'")
    assert "n_samples=6" in text and "torch_dtype='float64'" in text


def test_every_record_is_exported():
    """Every registered record class (what exported functions return) is a public name."""
    missing = sorted(name for name in records._REGISTRY if name not in ls.__all__)
    assert missing == []
    assert all(getattr(ls, name) is cls for name, cls in records._REGISTRY.items())
