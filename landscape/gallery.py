"""The figure gallery: one HTML page with every study's figures, conclusion and key numbers.

It reads the ``summary.json`` each study wrote into ``out/<study>/`` and links the
figures by relative path, so the folder can be moved or served as it is.

- A study's figures appear in its story order (``summary["figures"]``, see
  :func:`figure_files`), each with its caption (``summary["captions"]``).
- A PNG is shown at its own pixel size, up to the column's :data:`COLUMN_PX`; a wider one
  is scaled down to the column, and clicking any figure opens it at full size.
- An interactive page is shown as its still preview (:func:`preview_path`, drawn by
  :func:`landscape.plot.preview_figure`) linking to the page, with its caption.
- Nothing on the page depends on the clock: the same summaries give the same bytes.
"""

from __future__ import annotations

import html
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from landscape.io import read_json, write_text

#: The widest a figure is shown, in CSS pixels (the text column).
COLUMN_PX = 1068
#: How an interactive page's still preview is named: ``surface.html`` -> ``surface.preview.png``.
PREVIEW = ".preview.png"

_STYLE = f"""
body{{font-family:system-ui,sans-serif;max-width:{COLUMN_PX}px;margin:2em auto;padding:0 1em;
color:#222}}
section{{border-top:1px solid #ccc;padding:1em 0}}
.headline{{font-size:1.15em;font-weight:600}}
.conclusion{{background:#f4f7fb;padding:.6em .8em;border-left:4px solid #36c}}
figure{{margin:1.2em 0}}
figure img{{max-width:100%;height:auto;border:1px solid #eee}}
figcaption{{color:#444;font-size:.95em;margin-top:.2em}}
figure.page{{display:inline-block;vertical-align:top;max-width:460px;margin-right:1.5em}}
.page img{{border:1px solid #36c}}
.hint{{color:#36c}}
table{{border-collapse:collapse;font-size:.9em}}
td{{border:1px solid #ddd;padding:2px 8px;font-family:monospace}}
"""


def preview_path(page: str | os.PathLike[str]) -> Path:
    """Where the still preview of the interactive page ``page`` is.

    ``X.html`` -> ``X.preview.png``.
    """
    return Path(page).with_suffix(PREVIEW)


def figure_files(folder: str | os.PathLike[str], order: Iterable[str] = ()) -> list[str]:
    """The figures (``.png``, ``.html``) in ``folder``, in story order.

    The names in ``order`` that are there come first, in that order; the others follow
    in alphabetical order. Previews of pages (``*.preview.png``) and hidden files are
    not figures of their own.
    """
    names = {p.name for p in Path(folder).iterdir()
             if p.suffix in (".png", ".html") and not p.name.startswith(".")
             and not p.name.endswith(PREVIEW)}
    first = [name for name in order if name in names]
    return first + sorted(names - set(first))


def _png_size(path: Path) -> tuple[int, int]:
    """Width and height in pixels, from the PNG header."""
    head = path.read_bytes()[16:24]
    return int.from_bytes(head[:4], "big"), int.from_bytes(head[4:], "big")


def _flatten(numbers: dict[str, Any], prefix: str = "") -> Iterator[tuple[str, str]]:
    for key, value in numbers.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from _flatten(value, name + ".")
        elif isinstance(value, list) and len(value) > 8:
            yield name, f"[{len(value)} values]"
        elif isinstance(value, float):
            yield name, f"{value:.4g}"
        else:
            yield name, str(value)


def _figure(folder: Path, study: str, name: str, caption: str) -> str:
    """One figure with its caption.

    A PNG linking to itself, or a page's preview linking to the page.
    """
    src, text = html.escape(f"{study}/{name}"), html.escape(caption or name)
    if name.endswith(".html"):
        hint = "<span class='hint'>interactive 3-D: drag to turn, scroll to zoom</span>"
        preview = preview_path(folder / name)
        if not preview.is_file():
            return f'<figure class="page"><figcaption><a href="{src}">{text}</a> {hint}' \
                   "</figcaption></figure>"
        width, height = _png_size(preview)
        img = html.escape(f"{study}/{preview.name}")
        return (f'<figure class="page"><a href="{src}"><img src="{img}" width="{width}" '
                f'height="{height}" alt="{text}"></a><figcaption>{text} '
                f'(<a href="{src}">open</a>) {hint}</figcaption></figure>')
    if not name.endswith(".png"):
        return f'<figure><figcaption><a href="{src}">{text}</a></figcaption></figure>'
    width, height = _png_size(folder / name)
    return (f'<figure><a href="{src}" title="full size"><img src="{src}" width="{width}" '
            f'height="{height}" alt="{text}"></a><figcaption>{text}</figcaption></figure>')


def _section(out: Path, summary: dict[str, Any]) -> str:
    name = summary["name"]
    rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>"
                   for k, v in _flatten(summary.get("numbers", {})))
    captions = summary.get("captions", {})
    figures = "".join(_figure(out / name, name, fig, captions.get(fig, ""))
                      for fig in summary.get("figures", []))
    headline = summary.get("headline")
    lead = f'<p class="headline">{html.escape(headline)}</p>' if headline else ""
    mode = " (quick mode)" if summary.get("quick") else ""
    return (f'<section id="{html.escape(name)}"><h2>{html.escape(summary["title"])}</h2>{lead}'
            f'<p class="conclusion">{html.escape(summary["conclusion"])}</p>'
            f"{figures}<details><summary>key numbers{mode}, seed {summary.get('seed')}"
            f"</summary><table>{rows}</table></details></section>")


def write_gallery(out: str | os.PathLike[str]) -> Path:
    """Write ``out/index.html`` from the studies' summaries found in ``out``; return its path."""
    out = Path(out)
    summaries = [read_json(p) for p in sorted(out.glob("*/summary.json"))]
    body = "".join(_section(out, s) for s in summaries) or "<p>No studies have been run yet.</p>"
    toc = "".join(f'<li><a href="#{html.escape(s["name"])}">{html.escape(s["title"])}</a></li>'
                  for s in summaries)
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>landscape studies</title>"
            f"<style>{_STYLE}</style></head><body><h1>landscape: studies</h1>"
            f"<ul>{toc}</ul>{body}</body></html>\n")
    return write_text(out / "index.html", page)
