"""Input checks at the public boundary, and the one way to make a random generator.

Every check raises ``ValueError`` with a message that names the argument and the
problem; inner code trusts what passed them.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any, TypeVar

import numpy as np
from numpy.typing import ArrayLike, DTypeLike

from landscape.vocabulary import RngLike

_Name = TypeVar("_Name", bound=str)
#: A real number as the checks accept it: Python's or NumPy's.
_Real = float | np.floating | np.integer


def as_rng(rng: RngLike) -> np.random.Generator:
    """A ``numpy.random.Generator`` from an int seed, a Generator or None (fresh entropy)."""
    if isinstance(rng, np.random.Generator):
        return rng
    if rng is None or isinstance(rng, (int, np.integer)):
        return np.random.default_rng(rng)
    raise ValueError("rng must be an int seed or a numpy.random.Generator, "
                     f"got {type(rng).__name__}")


#: Array kinds taken as real numbers: signed and unsigned integers, floats, and objects
#: (converted one by one, so a list of Python numbers or Fractions passes). Booleans,
#: complex numbers and strings are refused: converting them would drop an imaginary part or
#: read text or truth values as numbers without a word.
_REAL_KINDS = "iufO"


def _as_array(x: ArrayLike, name: str, dtype: DTypeLike | None = None) -> np.ndarray:
    try:
        return np.asarray(x, dtype=dtype)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name} must be numeric: {err}") from None


def finite_array(x: ArrayLike, name: str, dtype: DTypeLike = np.float64,
                 ndim: int | None = None) -> np.ndarray:
    """``x`` as an array of ``dtype``, checked for kind, dimension and NaN / inf.

    Integers, floats and objects that convert to floats pass; booleans, complex numbers and
    strings raise ``ValueError`` naming ``name`` and the dtype.
    """
    a = _as_array(x, name)
    if a.dtype.kind not in _REAL_KINDS:
        hint = " (booleans: use .astype(float))" if a.dtype.kind == "b" else ""
        raise ValueError(f"{name} must be a real number array, got dtype {a.dtype}{hint}")
    a = _as_array(a, name, dtype)
    if ndim is not None and a.ndim != ndim:
        raise ValueError(f"{name} must have {ndim} dimension(s), got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} contains NaN or inf")
    return a


def returned(value: object, name: str, shape: tuple[int, ...]) -> np.ndarray:
    """What a user's function ``name`` returned, as a float64 array of ``shape``.

    Integers and floats of that shape pass (for ``shape == ()``, a real number or any
    one-element array); anything else raises ``ValueError`` naming the function, the shape
    it must return and what it returned. Values are not checked for NaN / inf here.
    """
    try:
        a = np.asarray(value)
    except ValueError:  # a ragged sequence
        a = np.asarray(None)
    if shape == () and a.size == 1:
        a = a.reshape(())
    if a.dtype.kind not in "iuf" or a.shape != shape:
        want = "a real number" if shape == () else f"a real array of shape {shape}"
        got = (type(value).__name__ if a.dtype.kind == "O"
               else f"dtype {a.dtype} of shape {a.shape}")
        raise ValueError(f"{name} must return {want}, got {got}")
    return a.astype(np.float64, copy=False)


def theta_vector(theta: ArrayLike, dim: int, name: str = "theta",
                 dtype: DTypeLike = np.float64) -> np.ndarray:
    """A finite parameter vector of shape ``(dim,)``."""
    a = finite_array(theta, name, dtype, ndim=1)
    if a.shape[0] != dim:
        raise ValueError(f"{name} must have length {dim}, got {a.shape[0]}")
    return a


def theta_matrix(thetas: ArrayLike, dim: int, name: str = "thetas",
                 dtype: DTypeLike = np.float64) -> np.ndarray:
    """Finite parameter vectors stacked as rows, shape ``(k, dim)``."""
    a = finite_array(thetas, name, dtype, ndim=2)
    if a.shape[1] != dim:
        raise ValueError(f"{name} must have shape (k, {dim}), got {a.shape}")
    return a


def choice(value: _Name, options: Collection[str], name: str) -> _Name:
    """``value`` if it is one of ``options``, else a ValueError listing them."""
    if value not in options:
        raise ValueError(f"unknown {name} {value!r}; choose one of {sorted(options)}")
    return value


def real_in(value: _Real, name: str, low: float = -np.inf, high: float = np.inf, *,
            open_low: bool = False, open_high: bool = False) -> float:
    """``value`` as a finite float between ``low`` and ``high`` (ends open as asked)."""
    ok = isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(
        value, (bool, np.bool_)) and bool(np.isfinite(value))
    ok = ok and bool(low < value if open_low else low <= value)
    ok = ok and bool(value < high if open_high else value <= high)
    if not ok:
        interval = f"{'(' if open_low else '['}{low}, {high}{')' if open_high else ']'}"
        raise ValueError(f"{name} must be a finite number in {interval}, got {value!r}")
    return float(value)


def positive(value: _Real, name: str) -> float:
    """``value`` as a float, checked to be positive and finite."""
    try:
        return real_in(value, name, 0.0, open_low=True)
    except ValueError:
        raise ValueError(f"{name} must be a positive finite number, got {value!r}") from None


def integer(value: int | np.integer, name: str, minimum: int = 0,
            maximum: int | None = None) -> int:
    """``value`` as an int, checked to be an integer in ``[minimum, maximum]``.

    ``maximum`` None means no upper bound. Booleans and floats (even ``2.0``) are refused.
    """
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or (
            value < minimum):
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be at most {maximum}, got {value!r}")
    return int(value)


def index_array(value: ArrayLike, size: int, name: str = "indices") -> np.ndarray:
    """``value`` as a non-empty 1-D integer array indexing ``size`` items.

    Negative entries count from the end, as in NumPy: every entry lies in ``[-size, size)``.
    """
    idx = np.asarray(value)
    if idx.ndim != 1 or idx.size == 0 or not np.issubdtype(idx.dtype, np.integer):
        raise ValueError(f"{name} must be a non-empty 1-D array of integers, got "
                         f"{idx.dtype} of shape {idx.shape}")
    if idx.min() < -size or idx.max() >= size:
        raise ValueError(f"{name} out of range for {size} items: entries must lie in "
                         f"[{-size}, {size}), got [{idx.min()}, {idx.max()}]")
    return idx


def seed_of(rng: RngLike) -> int | None:
    """The seed to record for ``rng``: the int itself; None for a Generator or fresh entropy."""
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, (bool, np.bool_)):
        return int(rng)
    return None


def metric_functions(metrics: Mapping[str, Callable[..., float]] | None,
                     name: str = "metrics") -> dict[str, Callable[..., float]]:
    """``metrics`` (None or a mapping name -> ``fn(objective, theta) -> float``) as a dict."""
    metrics = {} if metrics is None else metrics
    if not (isinstance(metrics, Mapping) and all(
            isinstance(k, str) and callable(fn) for k, fn in metrics.items())):
        raise ValueError(f"{name} must map names (str) to callables fn(objective, theta) -> "
                         f"float, got {metrics!r}")
    return dict(metrics)


def metric_values(metrics: Mapping[str, Callable[..., float]], objective: Any,
                  theta: np.ndarray) -> tuple[float, ...]:
    """Each metric's value ``fn(objective, theta)``, in order.

    One real number each (NaN and inf allowed), else a ValueError naming the metric.
    """
    return tuple(float(returned(fn(objective, theta), f"metric {name!r}", ()))
                 for name, fn in metrics.items())


def probed_metrics(metrics: Mapping[str, Callable[..., float]] | None, objective: Any,
                   theta: np.ndarray, name: str = "metrics") -> dict[str, Callable[..., float]]:
    """:func:`metric_functions` of ``metrics``, each tried once at ``theta``.

    ``theta`` is a grid's center or a curve's start: the metrics are tried before any work
    is split into chunks. A metric that fails there, or returns no real number, raises a
    ValueError naming it.
    """
    metrics = metric_functions(metrics, name)
    for key, fn in metrics.items():
        try:
            value = fn(objective, theta)
        except Exception as err:
            raise ValueError(f"metric {key!r} failed when tried at the center: "
                             f"{type(err).__name__}: {err}") from err
        returned(value, f"metric {key!r}", ())
    return metrics
