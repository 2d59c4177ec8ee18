"""Every record a user keeps: one file format to save and load it, and a short ``repr``.

A record class (a frozen dataclass or a NamedTuple) is marked with :func:`record`, which
registers it by class name for :func:`load` and gives it a ``repr`` of a few lines: the
type, each field's value (scalars), shape and range (arrays) or count (collections), never
a whole array. :func:`save` writes a record, or a tuple, list or dict of records (the
critical points a search found), to one file; :func:`load` reads it back bit for bit.
One concept over 400 lines: the file format and the repr walk the same tree of fields.

The file (format version 1) is an uncompressed ``.npz`` (a zip of ``.npy`` members),
written through :func:`landscape.io.atomic_path`, so a reader sees the whole old file or
the whole new one, and read with ``allow_pickle=False``, so a file never runs code:

- ``__meta__``: a ``uint8`` array, the UTF-8 JSON ``{"format": "landscape.record",
  "version": 1, "library": <landscape version>, "type": <record class name, 'tuple',
  'list' or 'dict'>, "value": <node>}`` (a file that :func:`write` made for a value that
  is not a record, such as a chunk of work, adds its own entries; its type names the
  value's node, 'array' or 'float', say);
- ``pool<i>``: every array of the record of one dtype, raveled and concatenated, so a
  sweep of thousands of trajectories is a handful of members, not thousands.

A node is JSON null, bool, int, str, a finite float, or an object with one tag:
``{"float": "nan" | "inf" | "-inf"}``, ``{"array": [pool, start, shape]}`` (elements
``start:start + prod(shape)`` of ``pool<pool>``), ``{"tuple": [node, ...]}``,
``{"list": [node, ...]}``, ``{"dict": {str: node}}`` or
``{"record": name, "fields": {field: node}}``.
"""

from __future__ import annotations

import dataclasses
import importlib.metadata
import json
import math
import os
import zipfile
import zlib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np

from landscape.io import atomic_path

FORMAT = "landscape.record"
VERSION = 1
_META = "__meta__"
_DTYPE_KINDS = "biufcSUmM"  # numbers, strings, times: what .npy stores without pickle
_SCALARS = (type(None), bool, int, float, str)
_REGISTRY: dict[str, type] = {}
#: What reading a damaged or foreign file raises inside zipfile, zlib and numpy.
_READ_ERRORS = (ValueError, EOFError, OSError, KeyError, IndexError, TypeError,
                NotImplementedError, RecursionError, zipfile.BadZipFile, zlib.error)


def record(cls: type) -> type:
    """Register ``cls`` (a dataclass or NamedTuple) for :func:`load`; give it a short repr.

    Returns ``cls``. Apply it above ``@dataclass``.
    """
    if not (dataclasses.is_dataclass(cls) or hasattr(cls, "_fields")):
        raise TypeError(f"{cls.__name__} is neither a dataclass nor a NamedTuple")
    known = _REGISTRY.get(cls.__name__)
    if known is not None and (known.__module__, known.__qualname__) != (cls.__module__,
                                                                         cls.__qualname__):
        raise TypeError(f"two record classes are named {cls.__name__}")
    _REGISTRY[cls.__name__] = cls
    cls.__repr__ = short_repr  # type: ignore[method-assign, assignment]
    return cls


def _fields(cls: type) -> tuple[str, ...]:
    if dataclasses.is_dataclass(cls):
        return tuple(f.name for f in dataclasses.fields(cls) if f.init)
    return cls._fields  # type: ignore[attr-defined]


def _is_record(value: Any) -> bool:
    return _REGISTRY.get(type(value).__name__) is type(value)


# ---------------------------------------------------------------------------------
# Saving
# ---------------------------------------------------------------------------------


class _Writer:
    """Turns a record into JSON nodes, collecting its arrays into one pool per dtype."""

    def __init__(self) -> None:
        self.pools: dict[str, list[np.ndarray]] = {}
        self.sizes: dict[str, int] = {}

    def node(self, value: Any, where: str) -> Any:
        if isinstance(value, np.ndarray):
            return {"array": self.array(value, where)}
        if isinstance(value, np.generic) and value.dtype.kind in "biufU":
            value = value.item()
        if isinstance(value, float) and not math.isfinite(value):
            return {"float": str(value)}
        if isinstance(value, _SCALARS):
            return value
        if type(value) in (tuple, list):
            return {type(value).__name__: [self.node(v, f"{where}[{i}]")
                                           for i, v in enumerate(value)]}
        if _is_record(value):
            return {"record": type(value).__name__, "fields": {
                f: self.node(getattr(value, f), f"{where}.{f}") for f in _fields(type(value))}}
        if isinstance(value, Mapping):
            bad = [k for k in value if not isinstance(k, str)]
            if bad:
                raise ValueError(f"cannot save {where}: dict keys must be str, got {bad[0]!r}")
            return {"dict": {k: self.node(v, f"{where}[{k!r}]") for k, v in value.items()}}
        raise ValueError(f"cannot save {where}: a {type(value).__name__} is not a record, "
                         "array, number, str, None, tuple, list or dict with str keys")

    def array(self, a: np.ndarray, where: str) -> list:
        if a.dtype.kind not in _DTYPE_KINDS or a.dtype.fields is not None:
            raise ValueError(f"cannot save {where}: arrays of dtype {a.dtype} need pickle")
        key = a.dtype.str
        if key not in self.pools:
            self.pools[key], self.sizes[key] = [], 0
        start = self.sizes[key]
        self.pools[key].append(a.ravel())
        self.sizes[key] += a.size
        return [list(self.pools).index(key), start, list(a.shape)]


def save(value: Any, path: str | os.PathLike) -> Path:
    """Write a record, or a tuple, list or dict of records, to one ``.npz`` file, atomically.

    Parameters
    ----------
    value : a record (``Trajectory``, ``Runs``, ``Surface``, ``Curve``, ``Spectrum``,
        ``CriticalPoint``, ...) or a tuple, list or dict (str keys) of records.
    path : str or Path; ``.npz`` is appended when the name does not end with it (as
        ``numpy.savez`` does). Missing folders are made.

    Returns
    -------
    Path : the file written. A failed save leaves the file as it was.
    """
    top = value.values() if isinstance(value, Mapping) else value
    if not _is_record(value) and not (
            isinstance(value, (tuple, list, Mapping)) and all(_is_record(v) for v in top)):
        raise ValueError(f"value must be a record or a tuple, list or dict of records, got "
                         f"{type(value).__name__}")
    return write(value, _npz(path))


def write(value: Any, path: str | os.PathLike, **meta: Any) -> Path:
    """Write ``value`` to the file ``path`` (as named) in this format, atomically.

    What :func:`save` does for records, for any value made of records, arrays (of numbers,
    strings or times), numbers, str and None, in tuples, lists and dicts with str keys (the
    results of chunks of work, :mod:`landscape.cache`). ``meta`` (JSON values) is added to
    the file's metadata; :func:`read` gives it back. Returns ``path`` as a Path.
    """
    writer = _Writer()
    node = writer.node(value, type(value).__name__)
    kind = (node["record"] if _is_record(value) else
            next(iter(node)) if isinstance(node, dict) else type(node).__name__)
    header = {**meta, "format": FORMAT, "version": VERSION, "library": _library_version(),
              "type": kind, "value": node}
    text = json.dumps(header, allow_nan=False, separators=(",", ":"))
    members: dict[str, Any] = {_META: np.frombuffer(text.encode("utf-8"), dtype=np.uint8)}
    members.update({f"pool{i}": np.concatenate(arrays)
                    for i, arrays in enumerate(writer.pools.values())})
    path = Path(path)
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez(fh, **members)
    return path


def _npz(path: str | os.PathLike) -> Path:
    path = Path(path)
    return path if path.name.endswith(".npz") else path.with_name(path.name + ".npz")


def _library_version() -> str:
    try:
        return importlib.metadata.version("landscape-nn")
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


# ---------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------


class _Corrupt(Exception):
    """A problem with a file's content, turned into a ValueError naming the file."""


def load(path: str | os.PathLike) -> Any:
    """Read what :func:`save` wrote: the record (or tuple, list or dict of records).

    ``path`` as given to :func:`save` (``.npz`` appended when the file does not exist as
    named). Raises ``FileNotFoundError`` for a missing file and ``ValueError`` naming the
    file and the problem for one that is corrupt, truncated, empty or not a record, holds an
    unknown record type, or was written by a newer format version.
    """
    path = Path(path)
    return read(path if path.exists() else _npz(path))[0]


def read(path: str | os.PathLike) -> tuple[Any, dict]:
    """The value and the metadata (without ``value``) of the file ``path`` (as named).

    Reads what :func:`save` or :func:`write` wrote. Raises as :func:`load` does.
    """
    path = Path(path)
    try:
        meta, pools = _read(path)
        _check_meta(meta)
        return _decode(meta.pop("value"), pools), meta
    except (FileNotFoundError, IsADirectoryError, PermissionError):
        raise
    except (_Corrupt, *_READ_ERRORS) as exc:
        raise ValueError(f"cannot load {path}: {_reason(exc)}") from exc


def _read(path: Path) -> tuple[dict, list[np.ndarray]]:
    if path.stat().st_size == 0:
        raise _Corrupt("the file is empty")
    if not zipfile.is_zipfile(path):
        with open(path, "rb") as fh:
            zip_start = fh.read(4) == b"PK\x03\x04"
        raise _Corrupt("the file is corrupt or truncated (a zip without its end)" if zip_start
                       else "not a landscape record (not a zip/.npz file)")
    with np.load(path, allow_pickle=False) as npz:
        if _META not in npz.files:
            raise _Corrupt("not a landscape record (no __meta__ member)")
        members = {name: npz[name] for name in npz.files}
    meta = json.loads(members.pop(_META).tobytes().decode("utf-8"))
    pools = [members.pop(f"pool{i}") for i in range(len(members))]
    return meta, pools


def _check_meta(meta: Any) -> None:
    if not isinstance(meta, dict) or meta.get("format") != FORMAT:
        raise _Corrupt("not a landscape record (its metadata names no landscape format)")
    version = meta.get("version")
    if not isinstance(version, int) or version < 1:
        raise _Corrupt(f"format version {version!r} is not a version")
    if version > VERSION:
        raise _Corrupt(f"written in format version {version} by landscape "
                       f"{meta.get('library')}; this landscape reads up to version {VERSION}: "
                       "upgrade landscape")


def _decode(node: Any, pools: list[np.ndarray]) -> Any:
    if isinstance(node, list):
        raise _Corrupt("an untagged list in the metadata")
    if not isinstance(node, dict):
        return node
    if len(node) not in (1, 2):
        raise _Corrupt(f"malformed node with keys {sorted(node)}")
    tag, body = next(iter(node.items()))
    if tag == "float":
        return float(body)
    if tag == "array":
        return _array(body, pools)
    if tag in ("tuple", "list"):
        return (tuple if tag == "tuple" else list)(_decode(v, pools) for v in body)
    if tag == "dict":
        return {k: _decode(v, pools) for k, v in body.items()}
    if tag == "record":
        return _record(body, node.get("fields"), pools)
    raise _Corrupt(f"unknown tag {tag!r}")


def _array(body: Any, pools: list[np.ndarray]) -> np.ndarray:
    pool, start, shape = body
    if not all(isinstance(n, int) and n >= 0 for n in [pool, start, *shape]):
        raise _Corrupt(f"array {body} is not [pool, start, shape]")
    size = math.prod(shape)
    if not (pool < len(pools) and start + size <= pools[pool].size):
        raise _Corrupt(f"array {body} lies outside the stored arrays")
    return pools[pool][start:start + size].reshape(shape)


def _record(name: Any, fields: Any, pools: list[np.ndarray]) -> Any:
    cls = _REGISTRY.get(name)
    if cls is None:
        raise _Corrupt(f"unknown record type {name!r} (known: {', '.join(sorted(_REGISTRY))})")
    unknown = set(fields) - set(_fields(cls))
    if unknown:
        raise _Corrupt(f"{name} has no field(s) {sorted(unknown)}")
    return cls(**{k: _decode(v, pools) for k, v in fields.items()})


def _reason(exc: BaseException) -> str:
    if isinstance(exc, _Corrupt):
        return str(exc)
    if isinstance(exc, (zipfile.BadZipFile, zlib.error, EOFError)):
        return f"the file is corrupt or truncated ({type(exc).__name__}: {exc})"
    return f"malformed record ({type(exc).__name__}: {exc})"


# ---------------------------------------------------------------------------------
# The short repr
# ---------------------------------------------------------------------------------

_WIDTH = 96  # characters per line of a repr
_ITEM = 160  # the longest one field may print


def short_repr(self: Any) -> str:
    """The ``repr`` of a record: its type and fields in a few lines.

    Scalars first, arrays by shape and range, collections by count.
    """
    values = [(f, getattr(self, f)) for f in _fields(type(self))]
    values.sort(key=lambda item: not isinstance(item[1], _SCALARS + (np.generic,)))
    items = [_clip(f"{f}={_short(v)}") for f, v in values]
    lines, line = [], ""
    for item in items:
        if line and 4 + len(line) + len(item) + 2 > _WIDTH:
            lines.append(line + ",")
            line = item
        else:
            line = f"{line}, {item}" if line else item
    lines.append(line)
    head = f"{type(self).__name__}("
    if len(lines) == 1 and len(head) + len(line) < _WIDTH:
        return f"{head}{line})"
    return head + "\n    " + "\n    ".join(lines) + ")"


def _clip(text: str) -> str:
    return text if len(text) <= _ITEM else text[:_ITEM - 3] + "..."


def _number(x: Any) -> str:
    if isinstance(x, (bool, np.bool_)):
        return str(bool(x))
    if isinstance(x, (int, np.integer)):
        return str(int(x))
    return f"{float(x):.4g}"


def _short(value: Any) -> str:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return _number(value)
    if isinstance(value, str):
        return repr(value) if len(value) <= 40 else repr(value[:37]) + "..."
    if isinstance(value, _SCALARS):
        return repr(value)
    if isinstance(value, np.ndarray):
        return _array_summary(value)
    if _is_record(value):
        text = short_repr(value)
        return text if "\n" not in text and len(text) <= 80 else f"{type(value).__name__}(...)"
    if isinstance(value, Mapping):
        if len(value) > 6:
            return f"{{{len(value)} keys: {', '.join(map(str, list(value)[:4]))}, ...}}"
        return "{" + ", ".join(f"{k}: {_short(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (tuple, list)):
        return _sequence(value)
    return f"<{type(value).__name__}>"


def _sequence(items: tuple | list) -> str:
    """A tuple or list: its items when few, else a count by type (records) or by value."""
    o, c = ("(", ")") if isinstance(items, tuple) else ("[", "]")
    if len(items) <= 4:
        return o + ", ".join(_short(v) for v in items) + c
    if all(isinstance(v, (int, float, np.number)) and not isinstance(v, bool) for v in items):
        return o + _array_summary(np.asarray(items)) + c
    names = [repr(v) if isinstance(v, str) else type(v).__name__ for v in items]
    counts = {n: names.count(n) for n in dict.fromkeys(names)}
    shown = [f"{n} x{k}" if len(counts) > 1 or isinstance(items[0], str) else f"{k} {n}"
             for n, k in list(counts.items())[:4]]
    return o + ", ".join(shown) + (", ..." if len(counts) > 4 else "") + c


def _array_summary(a: np.ndarray) -> str:
    """``(shape) [dtype] values``: an array described in one line.

    The values: all when at most 8 (1-D), ``first -> last`` for 1-D, ``in [min, max]`` of
    the finite values otherwise, and the count of non-finite ones.
    """
    shape = "(" + ", ".join(map(str, a.shape)) + ("," if a.ndim == 1 else "") + ")"
    dtype = "" if a.dtype == np.float64 else f" {a.dtype}"
    if a.dtype.kind in "SU" and 0 < a.size <= 8:
        return f"{shape}{dtype} {a.ravel().tolist()}"
    if a.size == 0 or a.dtype.kind not in "biuf":
        return f"{shape}{dtype}"
    if a.dtype.kind == "b":
        return f"{shape}{dtype} {int(a.sum())} true"
    if a.ndim <= 1 and a.size <= 8:
        return f"{shape}{dtype} [{', '.join(_number(x) for x in a.ravel())}]"
    finite = a[np.isfinite(a)]
    if a.ndim == 1:
        values = f"{_number(a[0])} -> {_number(a[-1])}"
    else:
        values = f"in [{_number(finite.min())}, {_number(finite.max())}]" if finite.size else ""
    bad = a.size - finite.size
    return f"{shape}{dtype} {values}" + (f" ({bad} non-finite)" if bad else "")

