"""Atomic file writing: a reader sees the old file or the whole new one, never half of it.

Every writer here writes to a temporary file in the target's folder and then
``os.replace``-s it onto the target (atomic on POSIX within one file system).
"""

from __future__ import annotations

import contextlib
import json
import os
import tempfile
from pathlib import Path

import numpy as np


@contextlib.contextmanager
def atomic_path(path):
    """Yield a temporary path beside ``path``; on success move it onto ``path``.

    On an exception the temporary file is removed and ``path`` is left untouched.
    The temporary name keeps ``path``'s suffix, so writers that infer the format
    from the suffix (matplotlib's ``savefig``, ``np.savez``) behave.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}.", suffix=path.suffix)
    os.close(fd)
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.remove(tmp)
        raise


def write_text(path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically; return the path."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_json(path, data) -> Path:
    """Write ``data`` as indented JSON atomically (NumPy scalars and arrays converted)."""
    return write_text(path, json.dumps(data, indent=2, default=_to_builtin) + "\n")


def read_json(path):
    """Read a JSON file."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


def write_npz(path, **arrays) -> Path:
    """Save arrays to a compressed ``.npz`` atomically."""
    with atomic_path(path) as tmp:
        with open(tmp, "wb") as fh:
            np.savez_compressed(fh, **arrays)
    return Path(path)


def save_figure(fig, path, **kwargs) -> Path:
    """Save a matplotlib figure (``savefig``) or a plotly figure (``.html``) atomically.

    Plotly HTML embeds plotly.js so the file works offline.
    """
    with atomic_path(path) as tmp:
        if hasattr(fig, "savefig"):
            fig.savefig(tmp, **kwargs)
        else:
            fig.write_html(tmp, include_plotlyjs=True, full_html=True, **kwargs)
    return Path(path)


def _to_builtin(obj):
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"cannot write {type(obj).__name__} as JSON")
