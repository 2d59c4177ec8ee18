"""Small data sets, IDX files (MNIST) and the helpers that prepare them for training.

Generators return ``(X, y)``: ``X`` float64, shape ``(N, d)``; ``y`` int64 labels of
shape ``(N,)`` for classification (classes balanced: label ``i % n_classes``) or float64
targets of shape ``(N, 1)`` for regression. Each takes the size ``n``, a ``noise`` level
and ``rng`` (int seed or Generator).
"""

from __future__ import annotations

import gzip
import os
from pathlib import Path
from typing import Literal, TypeAlias, get_args

import numpy as np
from numpy.typing import ArrayLike

from landscape._checks import as_rng, choice, finite_array, integer
from landscape.io import atomic_path
from landscape.vocabulary import RngLike

#: A data set: inputs ``X`` ``(N, d)`` and targets ``y`` (labels ``(N,)`` or values ``(N, 1)``).
Dataset: TypeAlias = tuple[np.ndarray, np.ndarray]
#: Which part of MNIST :func:`load_mnist` reads (``'test'`` and ``'t10k'`` are the same).
MnistKind: TypeAlias = Literal["train", "test", "t10k"]

# ---------------------------------------------------------------------------------
# Argument checks
# ---------------------------------------------------------------------------------


def _nonnegative(value: float, name: str) -> float:
    value = float(finite_array(value, name, ndim=0))
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return value


def _positive(value: float, name: str) -> float:
    value = float(finite_array(value, name, ndim=0))
    if value <= 0:
        raise ValueError(f"{name} must be > 0, got {value}")
    return value


def _start(n: int, noise: float, rng: RngLike, n_classes: int
           ) -> tuple[int, float, np.random.Generator, np.ndarray]:
    """Checked ``n``, ``noise``, a Generator and balanced labels ``i % n_classes``."""
    n = integer(n, "n", 1)
    return n, _nonnegative(noise, "noise"), as_rng(rng), np.arange(n) % n_classes


def _on_circle(angle: np.ndarray, radius: ArrayLike = 1.0) -> np.ndarray:
    """Points ``radius (cos angle, sin angle)``, shape ``(N, 2)``."""
    return np.asarray(radius)[..., None] * np.stack([np.cos(angle), np.sin(angle)], axis=-1)


def _jitter(X: np.ndarray, noise: float, rng: np.random.Generator) -> np.ndarray:
    return X + noise * rng.standard_normal(X.shape)


# ---------------------------------------------------------------------------------
# Synthetic data sets
# ---------------------------------------------------------------------------------


def xor(n: int = 200, noise: float = 0.1, rng: RngLike = None) -> Dataset:
    """Points uniform on ``[-1, 1]²``, labelled 1 where the signs of the coordinates differ.

    Each class fills its two quadrants uniformly; Gaussian noise of standard deviation
    ``noise`` is added after labelling. Returns ``X`` (n, 2), ``y`` (n,) in {0, 1}.
    """
    n, noise, rng, y = _start(n, noise, rng, 2)
    sign = rng.choice([-1.0, 1.0], size=n)
    X = rng.uniform(0.0, 1.0, size=(n, 2)) * np.stack([sign, np.where(y == 0, sign, -sign)], 1)
    return _jitter(X, noise, rng), y


def spirals(n: int = 200, noise: float = 0.05, rng: RngLike = None, turns: float = 1.5
            ) -> Dataset:
    """Two interleaved spirals, class 1 the class-0 spiral rotated by π.

    Radius ``t`` and angle ``2π turns t`` for ``t`` uniform on [0, 1]. Returns ``X``
    (n, 2) inside the unit disc before noise, ``y`` (n,) in {0, 1}.
    """
    n, noise, rng, y = _start(n, noise, rng, 2)
    turns = _positive(turns, "turns")
    t = rng.uniform(0.0, 1.0, size=n)
    X = _on_circle(2 * np.pi * turns * t + np.pi * y, t)
    return _jitter(X, noise, rng), y


def moons(n: int = 200, noise: float = 0.1, rng: RngLike = None) -> Dataset:
    """Two interleaved half circles of radius 1 (sklearn's layout), centred on the origin.

    Class 0 is ``(cos s, sin s)``, class 1 ``(1 − cos s, 1/2 − sin s)``, ``s`` uniform on
    [0, π], both shifted by ``(−1/2, −1/4)``. Returns ``X`` (n, 2), ``y`` (n,) in {0, 1}.
    """
    n, noise, rng, y = _start(n, noise, rng, 2)
    s = rng.uniform(0.0, np.pi, size=n)
    upper = _on_circle(s)
    X = np.where(y[:, None] == 0, upper, [1.0, 0.5] - upper) - [0.5, 0.25]
    return _jitter(X, noise, rng), y


def circles(n: int = 200, noise: float = 0.05, rng: RngLike = None, factor: float = 0.5
            ) -> Dataset:
    """Two concentric circles: class 0 of radius 1, class 1 of radius ``factor`` in (0, 1).

    Returns ``X`` (n, 2), ``y`` (n,) in {0, 1}.
    """
    n, noise, rng, y = _start(n, noise, rng, 2)
    factor = _positive(factor, "factor")
    if factor >= 1:
        raise ValueError(f"factor must be in (0, 1), got {factor}")
    X = _on_circle(rng.uniform(0.0, 2 * np.pi, size=n), np.where(y == 0, 1.0, factor))
    return _jitter(X, noise, rng), y


def blobs(n: int = 200, centers: int = 3, dim: int = 2, noise: float = 0.5,
          rng: RngLike = None, box: float = 3.0) -> Dataset:
    """Isotropic Gaussian clusters around ``centers`` centres drawn uniform on ``[-box, box]^dim``.

    ``noise`` is the clusters' standard deviation. Returns ``X`` (n, dim), ``y`` (n,) in
    ``{0, ..., centers - 1}``.
    """
    centers, dim = integer(centers, "centers", 1), integer(dim, "dim", 1)
    n, noise, rng, y = _start(n, noise, rng, centers)
    box = _positive(box, "box")
    middles = rng.uniform(-box, box, size=(centers, dim))
    return _jitter(middles[y], noise, rng), y


def sine(n: int = 200, noise: float = 0.1, rng: RngLike = None, cycles: float = 1.0
         ) -> Dataset:
    """1-D regression: ``x`` uniform on [-1, 1], ``y = sin(2π cycles x) + noise ε``.

    Returns ``X`` (n, 1) and float targets ``y`` (n, 1).
    """
    n, noise, rng, _ = _start(n, noise, rng, 1)
    cycles = _positive(cycles, "cycles")
    X = rng.uniform(-1.0, 1.0, size=(n, 1))
    return X, np.sin(2 * np.pi * cycles * X) + noise * rng.standard_normal((n, 1))


def digits() -> Dataset:
    """The 8x8 handwritten digits of scikit-learn: ``X`` (1797, 64) in [0, 1], ``y`` (1797,).

    Needs the optional extra ``data`` (scikit-learn).
    """
    try:
        from sklearn.datasets import load_digits
    except ImportError as err:
        raise ImportError(
            "digits() needs scikit-learn: pip install 'landscape[data]'") from err
    bunch = load_digits()
    return np.asarray(bunch.data, dtype=np.float64) / 16.0, np.asarray(bunch.target, np.int64)


# ---------------------------------------------------------------------------------
# IDX files (the MNIST format)
# ---------------------------------------------------------------------------------

# IDX type codes and their big-endian NumPy types.
_IDX_TYPES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
_IDX_CODES = {np.dtype(t).newbyteorder("="): code for code, t in _IDX_TYPES.items()}
_MNIST_MAGIC = {"images": 0x0803, "labels": 0x0801}
_GZIP_MAGIC = b"\x1f\x8b"


def write_idx(path: str | os.PathLike[str], array: ArrayLike) -> Path:
    """Write ``array`` as an IDX file, gzipped when ``path`` ends in ``.gz``; atomically.

    Supported dtypes: uint8, int8, int16, int32, float32, float64; 1 to 255 dimensions.
    Returns the path.
    """
    array = np.asarray(array)
    code = _IDX_CODES.get(array.dtype.newbyteorder("="))
    if code is None:
        raise ValueError(f"array dtype {array.dtype} has no IDX type code; "
                         f"use one of uint8, int8, int16, int32, float32, float64")
    if not 1 <= array.ndim <= 255:
        raise ValueError(f"array must have 1 to 255 dimensions, got {array.ndim}")
    header = bytes([0, 0, code, array.ndim]) + np.asarray(array.shape, ">u4").tobytes()
    payload = header + array.astype(_IDX_TYPES[code]).tobytes()
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_bytes(gzip.compress(payload, mtime=0) if path.suffix == ".gz" else payload)
    return path


def _idx_bytes(path: str | os.PathLike[str]) -> bytes:
    raw = Path(path).read_bytes()
    if raw[:2] != _GZIP_MAGIC:
        return raw
    try:
        return gzip.decompress(raw)
    except (OSError, EOFError) as err:
        raise ValueError(f"{path}: not a readable gzip file ({err})") from None


def read_idx(path: str | os.PathLike[str], magic: int | None = None) -> np.ndarray:
    """Read an IDX file (gzipped or not) as an array in native byte order.

    The magic number is ``type_code * 256 + ndim`` (2051 for MNIST images, 2049 for
    labels); when ``magic`` is given the file's must equal it. Raises ValueError for a
    bad or unexpected magic number or a size that disagrees with the header.
    """
    raw = _idx_bytes(path)
    if len(raw) < 4 or raw[:2] != b"\x00\x00" or raw[2] not in _IDX_TYPES or raw[3] == 0:
        raise ValueError(f"{path}: bad IDX magic number {raw[:4].hex() or 'empty file'}")
    code, ndim = raw[2], raw[3]
    if magic is not None and code * 256 + ndim != magic:
        raise ValueError(f"{path}: magic number {code * 256 + ndim}, expected {magic}")
    start = 4 + 4 * ndim
    if len(raw) < start:
        raise ValueError(f"{path}: header truncated ({len(raw)} bytes for {ndim} dimensions)")
    shape = tuple(int(s) for s in np.frombuffer(raw[4:start], ">u4"))
    dtype = np.dtype(_IDX_TYPES[code])
    expected = start + int(np.prod(shape)) * dtype.itemsize
    if len(raw) != expected:
        raise ValueError(f"{path}: {len(raw)} bytes, but the header {shape} of {dtype} "
                         f"needs {expected}")
    return np.frombuffer(raw, dtype, offset=start).reshape(shape).astype(dtype.newbyteorder("="))


def _mnist_file(folder: Path, prefix: str, part: str) -> Path:
    name = f"{prefix}-{part}-idx{3 if part == 'images' else 1}-ubyte"
    for candidate in (folder / name, folder / f"{name}.gz"):
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"no {name} or {name}.gz in {folder}")


def load_mnist(folder: str | os.PathLike[str], kind: MnistKind = "train") -> Dataset:
    """Read MNIST (or any data set in its IDX layout) from ``folder``.

    Parameters
    ----------
    folder : path holding ``{prefix}-images-idx3-ubyte`` and ``{prefix}-labels-idx1-ubyte``,
        each optionally gzipped (``.gz``).
    kind : "train" (prefix ``train``) or "test" / "t10k" (prefix ``t10k``).

    Returns
    -------
    X : ndarray, shape ``(N, rows * cols)``, float64 pixels scaled to [0, 1].
    y : ndarray, shape ``(N,)``, int64 labels.
    """
    prefix = {"train": "train", "test": "t10k", "t10k": "t10k"}[
        choice(kind, get_args(MnistKind), "kind")]
    folder = Path(folder)
    images, labels = (read_idx(_mnist_file(folder, prefix, part), magic)
                      for part, magic in _MNIST_MAGIC.items())
    if len(images) != len(labels):
        raise ValueError(f"{folder}: {len(images)} images but {len(labels)} labels")
    return images.reshape(len(images), -1) / 255.0, labels.astype(np.int64)


# ---------------------------------------------------------------------------------
# Preparing data
# ---------------------------------------------------------------------------------


def standardize(X: ArrayLike, mean: ArrayLike | None = None, std: ArrayLike | None = None
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Centre and scale the columns of ``X`` (N, d): ``(X − mean) / std``.

    ``mean`` and ``std`` (each (d,)) default to the column statistics of ``X``; columns with
    zero spread get ``std = 1``. Pass the returned pair to standardize test data alike.

    Returns
    -------
    Xs : ndarray (N, d); mean : ndarray (d,); std : ndarray (d,), all > 0.
    """
    X = finite_array(X, "X", ndim=2)
    d = X.shape[1]
    if mean is None:
        mean = X.mean(axis=0)
    if std is None:
        spread = X.std(axis=0)
        std = np.where(spread > 0, spread, 1.0)
    mean, std = finite_array(mean, "mean", ndim=1), finite_array(std, "std", ndim=1)
    if mean.shape != (d,) or std.shape != (d,):
        raise ValueError(f"mean and std must have shape ({d},), got {mean.shape} and {std.shape}")
    if np.any(std <= 0):
        raise ValueError("std must be > 0 everywhere")
    return (X - mean) / std, mean, std


def _labels(y: ArrayLike) -> np.ndarray:
    y = np.asarray(y)
    if y.ndim != 1 or not (np.issubdtype(y.dtype, np.integer) or y.size == 0):
        raise ValueError(f"y must be a 1-D array of integer labels, got {y.dtype} {y.shape}")
    if y.size and y.min() < 0:
        raise ValueError(f"labels must be >= 0, got {y.min()}")
    return y.astype(np.int64)


def one_hot(y: ArrayLike, n_classes: int | None = None) -> np.ndarray:
    """Integer labels ``y`` (N,) as rows of the identity, float64 ``(N, n_classes)``.

    ``n_classes`` defaults to ``max(y) + 1``.
    """
    y = _labels(y)
    needed = int(y.max()) + 1 if y.size else 0
    n_classes = needed if n_classes is None else integer(n_classes, "n_classes", 1)
    if n_classes < needed:
        raise ValueError(f"n_classes={n_classes} is too small for label {needed - 1}")
    return np.eye(n_classes)[y]


def train_test_split(X: ArrayLike, y: ArrayLike, test_fraction: float = 0.2,
                     rng: RngLike = None
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Shuffle and split ``X`` (N, ...) and ``y`` (N, ...) into train and test parts.

    The test part has ``round(test_fraction N)`` rows, at least 1 and at most ``N − 1``.

    Returns
    -------
    X_train, X_test, y_train, y_test
    """
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim == 0 or y.ndim == 0 or len(X) != len(y):
        raise ValueError(f"X and y must have the same length, got shapes {X.shape} and {y.shape}")
    if len(X) < 2:
        raise ValueError(f"need at least 2 rows to split, got {len(X)}")
    test_fraction = _positive(test_fraction, "test_fraction")
    if test_fraction >= 1:
        raise ValueError(f"test_fraction must be in (0, 1), got {test_fraction}")
    n_test = min(max(round(test_fraction * len(X)), 1), len(X) - 1)
    order = as_rng(rng).permutation(len(X))
    test, train = order[:n_test], order[n_test:]
    return X[train], X[test], y[train], y[test]
