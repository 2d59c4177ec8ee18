"""Atomic file writing: a reader sees the old file or the whole new one, never half of it.

Every writer here writes to a temporary file in the target's folder and then
``os.replace``-s it onto the target (atomic on POSIX within one file system). The writer
creates the temporary file itself with a plain ``open()``, so the file gets the permissions
any other file would (``0o666`` less the umask), and no empty placeholder is made first.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a fresh temporary path beside ``path`` (not yet a file: the caller creates it);
    on success move it onto ``path``.

    On an exception the temporary file is removed and ``path`` is left untouched.
    The temporary name (hidden, random) keeps ``path``'s suffix, so writers that infer
    the format from the suffix (matplotlib's ``savefig``, ``np.savez``) behave.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.stem}.{secrets.token_hex(8)}{path.suffix}")
    try:
        yield tmp
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` atomically; return the path."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_json(path: str | os.PathLike, data: Any) -> Path:
    """Write ``data`` as indented, standard JSON atomically.

    NumPy scalars and arrays become numbers and lists, tuples lists, paths strings, and
    NaN and infinities ``null`` (standard JSON has no token for them).
    """
    return write_text(path, json.dumps(_plain(data), indent=2, allow_nan=False) + "\n")


def read_json(path: str | os.PathLike) -> Any:
    """Read a JSON file."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def save_figure(fig: Any, path: str | os.PathLike, **kwargs: Any) -> Path:
    """Save a matplotlib figure (``savefig``) or a plotly figure (``.html``) atomically.

    Plotly HTML embeds plotly.js so the file works offline.
    """
    with atomic_path(path) as tmp:
        if hasattr(fig, "savefig"):
            fig.savefig(tmp, **kwargs)
        else:
            fig.write_html(tmp, include_plotlyjs=True, full_html=True, **kwargs)
    return Path(path)


def _plain(obj: Any) -> Any:
    """``obj`` with only JSON's types: dicts, lists, str, finite numbers, bool and None."""
    if isinstance(obj, (np.generic, np.ndarray)):
        obj = obj.tolist()
    if isinstance(obj, float):
        return obj if math.isfinite(obj) else None
    if obj is None or isinstance(obj, (str, int)):
        return obj
    if isinstance(obj, dict):
        return {key: _plain(value) for key, value in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(value) for value in obj]
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"cannot write {type(obj).__name__} as JSON")
