"""Finished chunks of long work kept in a folder, so that an interrupted grid or sweep resumes.

A :class:`ChunkCache` holds one file per finished chunk, ``<folder>/<key>/chunk-<i>.pkl``,
each written atomically (a temporary file in the same folder, then ``os.replace``): a file
is there whole or not at all. The ``key`` is :func:`fingerprint` of the work, the function
and every chunk it is applied to, so work of another specification (another objective,
center, grid, seed, optimizer setting or chunking) never reads these files, and a re-run of
the same work finds the chunks an interrupted run finished.

The fingerprint covers data, not code: functions count by their importable name. Delete the
folder after changing the code that computes the chunks. Files are pickles: load a cache
folder only if you trust whoever wrote it, as you would a script.
"""

from __future__ import annotations

import copyreg
import hashlib
import importlib
import json
import os
import pickle
import types
from pathlib import Path

import numpy as np

from landscape.io import atomic_path

_PLAIN = (str, int, float, bool, type(None))


def fingerprint(obj) -> str:
    """A SHA-256 (hex) of ``obj``'s content, the same in every process and session.

    Arrays count by dtype, shape and bytes; numbers, strings and containers by value;
    functions and classes by their importable name; any other object by what pickle saves
    of it (its ``__reduce_ex__``): an MLP objective by its model's settings and its data
    ``X``, ``Y``, an analytic function by its name, dimension and parameters, an optimizer
    by its hyperparameters. Object identity and caches that ``__getstate__`` leaves out do
    not count.

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
        return self._reduced(obj)

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


def _text(described) -> str:
    return json.dumps(described, separators=(",", ":"))


def _global(obj, name: str) -> list:
    """``obj`` by its importable name, checked to lead back to ``obj`` (as pickle does)."""
    module = getattr(obj, "__module__", None)
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

    def __init__(self, folder, key: str):
        if not isinstance(folder, (str, os.PathLike)):
            raise ValueError(f"cache must be a folder path (str or os.PathLike), got {folder!r}")
        if Path(folder).is_file():
            raise ValueError(f"cache must be a folder, but {folder} is a file")
        self.path = Path(folder) / key

    @classmethod
    def of_work(cls, folder, fn, chunks) -> ChunkCache:
        """The cache of ``[fn(c) for c in chunks]``: keyed by the fingerprint of both."""
        return cls(folder, fingerprint([fn, list(chunks)]))

    def _file(self, index: int) -> Path:
        return self.path / f"chunk-{index}.pkl"

    def load(self, count: int) -> dict:
        """The finished chunks among ``0 .. count - 1``: ``{index: result}``."""
        done = {}
        for i in range(count):
            if self._file(i).is_file():
                with open(self._file(i), "rb") as fh:
                    done[i] = pickle.load(fh)
        return done

    def save(self, index: int, result) -> Path:
        """Keep chunk ``index``'s ``result`` (atomically); returns its file."""
        with atomic_path(self._file(index)) as tmp:
            with open(tmp, "wb") as fh:
                pickle.dump(result, fh, protocol=pickle.HIGHEST_PROTOCOL)
        return self._file(index)
