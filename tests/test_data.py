"""Data sets: shapes, labels, geometry, determinism; IDX round trips; preparation helpers."""

import gzip
import sys

import numpy as np
import pytest

from landscape import data

CLASSIFIERS = {
    "xor": lambda **kw: data.xor(**kw),
    "spirals": lambda **kw: data.spirals(**kw),
    "moons": lambda **kw: data.moons(**kw),
    "circles": lambda **kw: data.circles(**kw),
    "blobs": lambda **kw: data.blobs(centers=4, dim=3, **kw),
}


@pytest.mark.parametrize("name", sorted(CLASSIFIERS))
def test_classification_shapes_labels_and_determinism(name):
    make = CLASSIFIERS[name]
    X, y = make(n=101, noise=0.1, rng=3)
    n_classes = 4 if name == "blobs" else 2
    assert X.dtype == np.float64 and X.shape == (101, 3 if name == "blobs" else 2)
    assert np.issubdtype(y.dtype, np.integer) and y.shape == (101,)
    np.testing.assert_array_equal(np.bincount(y), np.bincount(np.arange(101) % n_classes))
    X2, y2 = make(n=101, noise=0.1, rng=np.random.default_rng(3))
    np.testing.assert_array_equal(X, X2)
    np.testing.assert_array_equal(y, y2)
    assert not np.array_equal(X, make(n=101, noise=0.1, rng=4)[0])
    assert make(n=1, noise=0.0, rng=0)[0].shape[0] == 1


def test_noise_free_geometry():
    X, y = data.circles(n=60, noise=0.0, rng=0, factor=0.3)
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), np.where(y == 0, 1.0, 0.3))
    X, y = data.xor(n=200, noise=0.0, rng=0)
    np.testing.assert_array_equal(y, (np.sign(X[:, 0]) != np.sign(X[:, 1])).astype(int))
    assert np.all(np.abs(X) <= 1)
    X, y = data.moons(n=80, noise=0.0, rng=0)
    upper = X[y == 0] + [0.5, 0.25]
    lower = [1.0, 0.5] - (X[y == 1] + [0.5, 0.25])
    for arc in (upper, lower):
        np.testing.assert_allclose(np.linalg.norm(arc, axis=1), 1.0)
        assert np.all(arc[:, 1] >= -1e-12)
    X, y = data.spirals(n=50, noise=0.0, rng=0, turns=1.0)
    radius = np.linalg.norm(X, axis=1)
    angle = 2 * np.pi * radius + np.pi * y
    np.testing.assert_allclose(X, radius[:, None] * np.c_[np.cos(angle), np.sin(angle)],
                               atol=1e-12)


def test_noise_has_the_requested_spread():
    X, y = data.blobs(n=20000, centers=2, dim=2, noise=0.7, rng=1)
    for c in (0, 1):
        np.testing.assert_allclose(X[y == c].std(axis=0), 0.7, rtol=0.05)
    x0, _ = data.xor(n=500, noise=0.0, rng=2)
    x1, _ = data.xor(n=500, noise=0.3, rng=2)
    assert np.std(x1 - x0) == pytest.approx(0.3, rel=0.1)


def test_sine():
    X, y = data.sine(n=64, noise=0.0, rng=0, cycles=2.0)
    assert X.shape == (64, 1) and y.shape == (64, 1) and y.dtype == np.float64
    assert np.all(np.abs(X) <= 1)
    np.testing.assert_allclose(y, np.sin(4 * np.pi * X))
    _, noisy = data.sine(n=64, noise=0.5, rng=0, cycles=2.0)
    assert np.std(noisy - y) == pytest.approx(0.5, rel=0.3)


@pytest.mark.parametrize("call, message", [
    (lambda: data.xor(n=0), "n must be"),
    (lambda: data.xor(n=2.5), "n must be"),
    (lambda: data.moons(noise=-0.1), "noise must be"),
    (lambda: data.circles(noise=np.nan), "noise contains"),
    (lambda: data.circles(factor=1.0), "factor"),
    (lambda: data.spirals(turns=0.0), "turns"),
    (lambda: data.blobs(centers=0), "centers"),
    (lambda: data.blobs(dim=0), "dim"),
    (lambda: data.sine(cycles=-1.0), "cycles"),
    (lambda: data.sine(rng="seed"), "rng"),
])
def test_generators_reject_bad_arguments(call, message):
    with pytest.raises(ValueError, match=message):
        call()


# --- IDX files -------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["", ".gz"])
@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32, np.float32,
                                   np.float64])
def test_idx_round_trip(tmp_path, suffix, dtype):
    array = (np.arange(24).reshape(2, 3, 4) - 5).astype(dtype)
    path = data.write_idx(tmp_path / f"a.idx{suffix}", array)
    raw = path.read_bytes()
    assert (raw[:2] == b"\x1f\x8b") == (suffix == ".gz")
    back = data.read_idx(path)
    assert back.dtype == array.dtype
    np.testing.assert_array_equal(back, array)


def test_idx_header_is_the_standard_layout(tmp_path):
    path = data.write_idx(tmp_path / "labels", np.array([7, 2, 1], dtype=np.uint8))
    assert path.read_bytes() == bytes([0, 0, 8, 1, 0, 0, 0, 3, 7, 2, 1])


def test_idx_rejects_bad_files(tmp_path):
    bad = tmp_path / "bad"
    bad.write_bytes(bytes([1, 2, 8, 1, 0, 0, 0, 1, 5]))
    with pytest.raises(ValueError, match="magic"):
        data.read_idx(bad)
    bad.write_bytes(bytes([0, 0, 0x42, 1, 0, 0, 0, 1, 5]))
    with pytest.raises(ValueError, match="magic"):
        data.read_idx(bad)
    short = tmp_path / "short.gz"
    short.write_bytes(gzip.compress(bytes([0, 0, 8, 2, 0, 0, 0, 2, 0, 0, 0, 2, 1, 2, 3])))
    with pytest.raises(ValueError, match="needs 16"):
        data.read_idx(short)
    ok = data.write_idx(tmp_path / "ok", np.zeros(3, np.uint8))
    with pytest.raises(ValueError, match="expected 2051"):
        data.read_idx(ok, magic=2051)
    with pytest.raises(ValueError, match="dtype"):
        data.write_idx(tmp_path / "x", np.zeros(3, dtype=np.int64))


def _fake_mnist(folder, prefix, n, gz, rng):
    images = rng.integers(0, 256, size=(n, 4, 3), dtype=np.uint8)
    labels = rng.integers(0, 10, size=n, dtype=np.uint8)
    ext = ".gz" if gz else ""
    data.write_idx(folder / f"{prefix}-images-idx3-ubyte{ext}", images)
    data.write_idx(folder / f"{prefix}-labels-idx1-ubyte{ext}", labels)
    return images, labels


@pytest.mark.parametrize("gz", [False, True])
def test_load_mnist(tmp_path, gz):
    rng = np.random.default_rng(0)
    images, labels = _fake_mnist(tmp_path, "train", 5, gz, rng)
    test_images, _ = _fake_mnist(tmp_path, "t10k", 2, not gz, rng)
    X, y = data.load_mnist(tmp_path)
    assert X.shape == (5, 12) and X.dtype == np.float64 and y.dtype == np.int64
    np.testing.assert_allclose(X * 255, images.reshape(5, 12))
    np.testing.assert_array_equal(y, labels)
    np.testing.assert_allclose(data.load_mnist(tmp_path, kind="test")[0] * 255,
                               test_images.reshape(2, 12))


def test_load_mnist_rejects_mismatches(tmp_path):
    rng = np.random.default_rng(1)
    _fake_mnist(tmp_path, "train", 5, False, rng)
    data.write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros(4, np.uint8))
    with pytest.raises(ValueError, match="5 images but 4 labels"):
        data.load_mnist(tmp_path)
    data.write_idx(tmp_path / "train-labels-idx1-ubyte", np.zeros((5, 1), np.uint8))
    with pytest.raises(ValueError, match="expected 2049"):
        data.load_mnist(tmp_path)
    with pytest.raises(ValueError, match="kind"):
        data.load_mnist(tmp_path, kind="validation")
    with pytest.raises(FileNotFoundError, match="t10k-images"):
        data.load_mnist(tmp_path, kind="t10k")


# --- digits ----------------------------------------------------------------------------------


def test_digits():
    pytest.importorskip("sklearn")
    X, y = data.digits()
    assert X.shape == (1797, 64) and X.dtype == np.float64
    assert X.min() == 0.0 and X.max() == 1.0
    np.testing.assert_array_equal(np.unique(y), np.arange(10))


def test_digits_without_sklearn(monkeypatch):
    monkeypatch.setitem(sys.modules, "sklearn.datasets", None)
    with pytest.raises(ImportError, match=r"pip install 'landscape\[data\]'"):
        data.digits()


# --- preparation helpers -----------------------------------------------------------------


def test_standardize():
    rng = np.random.default_rng(0)
    X = rng.normal([1.0, -3.0, 5.0], [2.0, 0.1, 1.0], size=(50, 3))
    X[:, 2] = 5.0
    Xs, mean, std = data.standardize(X)
    np.testing.assert_allclose(Xs.mean(axis=0), 0.0, atol=1e-14)
    np.testing.assert_allclose(Xs.std(axis=0), [1.0, 1.0, 0.0], atol=1e-14)
    assert std[2] == 1.0
    Z = rng.normal(size=(4, 3))
    np.testing.assert_allclose(data.standardize(Z, mean, std)[0], (Z - mean) / std)
    with pytest.raises(ValueError, match="std must be > 0"):
        data.standardize(Z, mean, np.zeros(3))
    with pytest.raises(ValueError, match="shape"):
        data.standardize(Z, mean[:2], std)
    with pytest.raises(ValueError, match="NaN"):
        data.standardize(np.full((2, 2), np.nan))


def test_one_hot_round_trip():
    y = np.array([2, 0, 1, 2, 4])
    Y = data.one_hot(y)
    assert Y.shape == (5, 5) and Y.dtype == np.float64
    np.testing.assert_array_equal(Y.argmax(axis=1), y)
    np.testing.assert_array_equal(Y.sum(axis=1), 1.0)
    assert data.one_hot(y, n_classes=7).shape == (5, 7)
    with pytest.raises(ValueError, match="too small"):
        data.one_hot(y, n_classes=3)
    with pytest.raises(ValueError, match=">= 0"):
        data.one_hot([1, -1])
    with pytest.raises(ValueError, match="integer labels"):
        data.one_hot([0.5, 1.0])


def test_train_test_split():
    X = np.arange(20.0).reshape(10, 2)
    y = np.arange(10)
    X_train, X_test, y_train, y_test = data.train_test_split(X, y, test_fraction=0.3, rng=0)
    assert len(X_test) == 3 and len(X_train) == 7
    np.testing.assert_array_equal(np.sort(np.concatenate([y_train, y_test])), y)
    np.testing.assert_array_equal(X_train[:, 0], 2 * y_train)
    np.testing.assert_array_equal(X_test[:, 0], 2 * y_test)
    again = data.train_test_split(X, y, test_fraction=0.3, rng=0)
    np.testing.assert_array_equal(again[3], y_test)
    assert len(data.train_test_split(X, y, test_fraction=0.01, rng=0)[1]) == 1
    for fraction in (0.0, 1.0, np.nan):
        with pytest.raises(ValueError, match="test_fraction"):
            data.train_test_split(X, y, test_fraction=fraction)
    with pytest.raises(ValueError, match="same length"):
        data.train_test_split(X, y[:5])
    with pytest.raises(ValueError, match="at least 2"):
        data.train_test_split(X[:1], y[:1])
