"""Finished chunks of long work kept in a folder, so that an interrupted grid or sweep resumes.

A :class:`ChunkCache` holds one file per finished chunk, ``<folder>/<key>/chunk-<i>.npz``, in
the record file format of :mod:`landscape.records`: the chunk's arrays and JSON metadata in
an uncompressed ``.npz``, written atomically (a temporary file in the same folder, then
``os.replace``: a file is there whole or not at all) and read with ``allow_pickle=False``, so
a file planted in the folder never runs code. A chunk's result may be made of arrays,
numbers (NumPy scalars keep their dtype), str, None and records (``Trajectory``,
``SearchResult``, ...), in tuples, lists and dicts with str keys; anything else cannot be
kept (a ``ValueError``).

Each member of a chunk's file carries a CRC-32 checksum, checked as it is read, and the
metadata names the work's key and the chunk's index. A file that is empty, truncated,
garbled, foreign or another chunk's is not a finished chunk: it is computed again, with a
warning naming the file, and replaced.

The ``key`` is :func:`fingerprint` of the library's version (``landscape.__version__``), the
function and every chunk it is applied to, so work of another specification (another
objective, center, grid, seed, optimizer setting or chunking) or of another release never
reads these files, and a re-run of the same work finds the chunks an interrupted run
finished. The fingerprint covers data, not code: functions count by their importable name,
so delete the folder after changing the code that computes the chunks (between releases).
"""

from __future__ import annotations

import copyreg
import hashlib
import importlib
import json
import os
import sys
import types
import warnings
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import numpy as np

import landscape
from landscape import records

_PLAIN = (str, int, float, bool, type(None))


def fingerprint(obj: Any) -> str:
    """A SHA-256 (hex) of ``obj``'s content, the same in every process and session.

    Arrays count by dtype, shape and bytes, PyTorch tensors (parameters, buffers, data) by
    their class, dtype, shape, ``requires_grad`` and values; numbers, strings and containers
    by value; functions and classes by their importable name; any other object by what
    pickle saves of it (its ``__reduce_ex__``): an MLP objective by its model's settings and
    its data ``X``, ``Y``, a PyTorch objective (:func:`landscape.torch.from_module`) by its
    module's structure, parameters and buffers, its data, loss function, dtype and mode, an
    analytic function by its name, dimension and parameters, an optimizer by its
    hyperparameters. Object identity and caches that ``__getstate__`` leaves out do not
    count.

    Raises
    ------
    ValueError
        For what has no stable name or content: lambdas and functions defined inside
        other functions, open files, modules.
    """
    text = json.dumps(_Canonical().of(obj), separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()


class _Canonical:
    """A JSON-able description of an object graph; cycles become back references."""

    def __init__(self):
        self.stack: list[int] = []  # ids of the objects being described, outermost first
        # array id -> (array, digest): the array is kept, so that its id is not reused for a
        # temporary array made while describing (by a __reduce_ex__, say)
        self.digests: dict[int, tuple[np.ndarray, str]] = {}

    def of(self, obj):
        kind = type(obj)
        if kind in _PLAIN:
            return obj
        if kind is np.ndarray and not obj.dtype.hasobject:
            return ["array", obj.dtype.str, list(obj.shape), self._digest(obj)]
        if isinstance(obj, np.generic) and not obj.dtype.hasobject:
            return ["scalar", obj.dtype.str, obj.tobytes().hex()]
        if kind in (bytes, bytearray):
            return [kind.__name__, hashlib.sha256(obj).hexdigest()]
        if kind in (list, tuple):
            return [kind.__name__, [self.of(x) for x in obj]]
        if kind is dict:
            return ["dict", sorted(([self.of(k), self.of(v)] for k, v in obj.items()), key=_text)]
        if kind in (set, frozenset):
            return [kind.__name__, sorted((self.of(x) for x in obj), key=_text)]
        if isinstance(obj, (type, types.FunctionType)):
            return _global(obj, obj.__qualname__)
        torch = sys.modules.get("torch")  # imported wherever a tensor exists
        if torch is not None and isinstance(obj, torch.Tensor):
            return self._tensor(obj, torch)
        return self._reduced(obj)

    def _tensor(self, t: Any, torch: Any) -> list:
        """A tensor by its values (pickle's bytes of a tensor differ from run to run)."""
        try:
            raw = t.detach().cpu().contiguous().reshape(-1).view(torch.uint8).numpy()
        except (RuntimeError, TypeError) as err:
            raise ValueError(f"cannot fingerprint the tensor {t!r}: {err}") from err
        return ["tensor", self.of(type(t)), str(t.dtype), list(t.shape), t.requires_grad,
                hashlib.sha256(raw.data).hexdigest()]

    def _digest(self, a: np.ndarray) -> str:
        if id(a) not in self.digests:
            self.digests[id(a)] = a, hashlib.sha256(np.ascontiguousarray(a).data).hexdigest()
        return self.digests[id(a)][1]

    def _reduced(self, obj):
        """What pickle would save of ``obj``: a global name or its reduce tuple, described."""
        if id(obj) in self.stack:
            return ["cycle", self.stack.index(id(obj))]
        reduce = copyreg.dispatch_table.get(type(obj))
        try:
            rv = reduce(obj) if reduce is not None else obj.__reduce_ex__(4)
        except Exception as err:
            raise ValueError(f"cannot fingerprint {type(obj).__name__} {obj!r}: {err}") from err
        if isinstance(rv, str):
            return _global(obj, rv)
        parts = list(rv)
        parts[3:5] = [None if items is None else list(items) for items in parts[3:5]]
        self.stack.append(id(obj))
        try:
            return ["object", [self.of(x) for x in parts]]
        finally:
            self.stack.pop()


def _text(described: Any) -> str:
    return json.dumps(described, separators=(",", ":"))


def _global(obj: Any, name: str) -> list[Any]:
    """``obj`` by its importable name, checked to lead back to ``obj`` (as pickle does)."""
    module: Any = getattr(obj, "__module__", None)  # None fails the import: a TypeError
    found = None
    try:
        found = importlib.import_module(module)
        for part in name.split("."):
            found = getattr(found, part)
    except (ImportError, AttributeError, TypeError):
        pass
    if found is not obj:
        raise ValueError(f"cannot fingerprint {obj!r}: it cannot be found by its name "
                         f"{module}.{name} (a lambda or a function defined inside another "
                         "function?); use functions defined at module level")
    return ["global", module, name]


class ChunkCache:
    """Finished chunks of one piece of work, in ``<folder>/<key>/``.

    Parameters
    ----------
    folder : str or os.PathLike, the cache folder (created when the first chunk is saved).
    key : str, the work's :func:`fingerprint`; see :meth:`of_work`.
    """

    def __init__(self, folder: str | os.PathLike, key: str) -> None:
        if not isinstance(folder, (str, os.PathLike)):
            raise ValueError(f"cache must be a folder path (str or os.PathLike), got {folder!r}")
        if Path(folder).is_file():
            raise ValueError(f"cache must be a folder, but {folder} is a file")
        self.key = key
        self.path = Path(folder) / key

    @classmethod
    def of_work(cls, folder: str | os.PathLike, fn: Callable[[Any], Any],
                chunks: Iterable[Any]) -> ChunkCache:
        """Get the cache of ``[fn(c) for c in chunks]`` by this library version."""
        return cls(folder, fingerprint([landscape.__version__, fn, list(chunks)]))

    def _file(self, index: int) -> Path:
        return self.path / f"chunk-{index}.npz"

    def load(self, count: int) -> dict[int, Any]:
        """Get the finished chunks among ``0 .. count - 1`` as ``{index: result}``.

        A damaged file is left out with a warning naming it (its chunk is computed again).
        """
        done = {}
        for i in range(count):
            if self._file(i).is_file():
                try:
                    done[i] = self._read(i)
                except ValueError as err:
                    warnings.warn(f"{err}; chunk {i} is computed again", stacklevel=2)
        return done

    def _read(self, index: int) -> Any:
        value, meta = records.read(self._file(index))
        if meta.get("work") != self.key or meta.get("chunk") != index:
            raise ValueError(f"cannot load {self._file(index)}: not chunk {index} of this "
                             f"work (it says chunk {meta.get('chunk')!r} of "
                             f"{meta.get('work')!r})")
        scalars = {tuple(where) for where in meta.get("scalars", [])}
        return _each_item(value, (), lambda x, where: x[()] if where in scalars else x)

    def save(self, index: int, result: Any) -> Path:
        """Keep chunk ``index``'s ``result`` (atomically); returns its file."""
        scalars: list[tuple] = []

        def as_array(x: Any, where: tuple) -> Any:
            if isinstance(x, np.generic):
                scalars.append(where)
                return np.asarray(x)
            return x

        stored = _each_item(result, (), as_array)
        try:
            return records.write(stored, self._file(index), work=self.key, chunk=index,
                                 scalars=scalars)
        except ValueError as err:
            raise ValueError(f"cache: chunk {index}'s result cannot be kept without pickle "
                             f"(arrays, numbers, str, None and records in tuples, lists and "
                             f"dicts with str keys can): {err}") from err


def _each_item(value: Any, where: tuple, visit: Callable[[Any, tuple], Any]) -> Any:
    """``value`` with every item that is not a tuple, list or dict replaced.

    Each item becomes ``visit(item, where)``, ``where`` the indices and keys that lead to it.
    """
    if type(value) in (tuple, list):
        return type(value)(_each_item(v, (*where, i), visit) for i, v in enumerate(value))
    if type(value) is dict:
        return {k: _each_item(v, (*where, k), visit) for k, v in value.items()}
    return visit(value, where)
