"""Atomic file writing: a reader sees the old file or the whole new one, never half of it.

Every writer here writes to a temporary file in the target's folder and then
``os.replace``-s it onto the target (atomic on POSIX within one file system). The writer
creates the temporary file itself with a plain ``open()``, so the file gets the permissions
any other file would (``0o666`` less the umask), and no empty placeholder is made first.
"""

from __future__ import annotations

import contextlib
import html
import json
import math
import os
import re
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike) -> Iterator[Path]:
    """Yield a fresh temporary path beside ``path``; on success move it onto ``path``.

    The temporary path is not yet a file: the caller creates it.

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


def write_json(path: str | os.PathLike, data: Any, digits: int | None = None) -> Path:
    """Write ``data`` as indented, standard JSON atomically.

    NumPy scalars and arrays become numbers and lists, tuples lists, paths strings, and
    NaN and infinities ``null`` (standard JSON has no token for them). With ``digits``,
    every float is rounded to that many significant digits (so that noise in the last
    digits, e.g. from another BLAS, does not change the file).
    """
    if digits is not None and (isinstance(digits, bool) or not isinstance(digits, int)
                               or not 1 <= digits <= 17):
        raise ValueError(f"digits must be an integer from 1 to 17 or None, got {digits!r}")
    text = json.dumps(_plain(data, digits), indent=2, allow_nan=False)
    return write_text(path, text + "\n")


def read_json(path: str | os.PathLike) -> Any:
    """Read a JSON file."""
    return json.loads(Path(path).read_text(encoding="utf-8"))


#: Metadata matplotlib would otherwise stamp with the date or its version, per format: left
#: out, so the same figure gives the same bytes on any day and any matplotlib release.
_FIXED_METADATA = {
    ".png": {"Software": None},
    ".svg": {"Date": None, "Creator": None},
    ".pdf": {"CreationDate": None, "Creator": None, "Producer": None},
}


#: A plotly page: the figure fills the window (no margins, so no scroll bar).
_PAGE = """<!doctype html>
<html>
<head><meta charset="utf-8"><title>{title}</title>
<style>html, body {{height: 100%; margin: 0}}</style></head>
<body>{div}</body>
</html>
"""


def save_figure(fig: Any, path: str | os.PathLike, *, plotlyjs: str = "embed",
                **kwargs: Any) -> Path:
    """Save a matplotlib figure (``savefig``) or a plotly figure (``.html``) atomically.

    The same figure gives the same bytes every time: a matplotlib PNG, SVG or PDF carries no
    date or software version (``metadata=`` entries of your own still apply), SVG element
    ids come from a fixed salt, and a plotly page's ``<div>`` id is the file's stem.

    Parameters
    ----------
    fig : matplotlib ``Figure`` or plotly ``Figure``.
    path : target file; for plotly, an ``.html`` page.
    plotlyjs : {'embed', 'directory'}, plotly only. Either way the page works offline.
        'embed' puts plotly.js (about 4.7 MB) inside the page; 'directory' loads it from
        ``plotly.min.js`` beside the page, written there (atomically) unless a copy with
        the same bytes is already there, so many pages in one folder share one copy.
    **kwargs : passed to ``savefig`` or plotly's ``to_html``.

    Returns
    -------
    Path
    """
    path = Path(path)
    if hasattr(fig, "savefig"):
        import matplotlib

        metadata = {**_FIXED_METADATA.get(path.suffix.lower(), {}), **kwargs.pop("metadata", {})}
        if metadata:
            kwargs["metadata"] = metadata
        with atomic_path(path) as tmp, matplotlib.rc_context({"svg.hashsalt": "landscape"}):
            fig.savefig(tmp, **kwargs)
        return path
    if plotlyjs not in ("embed", "directory"):
        raise ValueError(f"plotlyjs must be 'embed' or 'directory', got {plotlyjs!r}")
    if plotlyjs == "directory":
        _write_plotlyjs(path.parent / "plotly.min.js")
    div = fig.to_html(include_plotlyjs=True if plotlyjs == "embed" else "directory",
                      full_html=False, div_id=re.sub(r"[^A-Za-z0-9_-]", "_", path.stem),
                      **kwargs)
    title = html.escape(fig.layout.title.text or path.stem)
    return write_text(path, _PAGE.format(title=title, div=div))


def _write_plotlyjs(bundle: Path) -> None:
    """Write the installed plotly.js to ``bundle`` unless the file already holds it."""
    from plotly.offline import get_plotlyjs

    text = get_plotlyjs()
    if not (bundle.is_file() and bundle.read_text(encoding="utf-8") == text):
        write_text(bundle, text)


def _plain(obj: Any, digits: int | None = None) -> Any:
    """``obj`` with only JSON's types: dicts, lists, str, finite numbers, bool and None.

    Floats are rounded to ``digits`` significant digits unless it is None.
    """
    if isinstance(obj, (np.generic, np.ndarray)):
        obj = obj.tolist()
    if isinstance(obj, float):
        if not math.isfinite(obj):
            return None
        return obj if digits is None else float(f"{obj:.{digits}g}")
    if obj is None or isinstance(obj, (str, int)):
        return obj
    if isinstance(obj, dict):
        return {key: _plain(value, digits) for key, value in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_plain(value, digits) for value in obj]
    if isinstance(obj, Path):
        return str(obj)
    raise TypeError(f"cannot write {type(obj).__name__} as JSON")
