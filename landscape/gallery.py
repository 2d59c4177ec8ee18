"""The figure gallery: one HTML page with every study's figures, conclusion and key numbers.

It reads the ``summary.json`` each study wrote into ``out/<study>/`` and links the
figures by relative path, so the folder can be moved or served as it is.
"""

from __future__ import annotations

import html
import os
from pathlib import Path

from landscape.io import read_json, write_text

_STYLE = """
body{font-family:system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
section{border-top:1px solid #ccc;padding:1em 0}
.conclusion{font-size:1.1em;background:#f4f7fb;padding:.6em .8em;border-left:4px solid #36c}
img{max-width:100%;border:1px solid #eee;margin:.4em 0}
table{border-collapse:collapse;font-size:.9em}
td{border:1px solid #ddd;padding:2px 8px;font-family:monospace}
"""


def _flatten(numbers, prefix=""):
    for key, value in numbers.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from _flatten(value, name + ".")
        elif isinstance(value, list) and len(value) > 8:
            yield name, f"[{len(value)} values]"
        elif isinstance(value, float):
            yield name, f"{value:.6g}"
        else:
            yield name, str(value)


def _section(summary: dict) -> str:
    name = summary["name"]
    rows = "".join(f"<tr><td>{html.escape(k)}</td><td>{html.escape(v)}</td></tr>"
                   for k, v in _flatten(summary.get("numbers", {})))
    figures = []
    for fig in summary.get("figures", []):
        src = html.escape(f"{name}/{fig}")
        if fig.endswith(".png"):
            figures.append(f'<img src="{src}" alt="{html.escape(fig)}">')
        else:
            figures.append(f'<p><a href="{src}">{html.escape(fig)} (interactive 3-D)</a></p>')
    mode = " (quick mode)" if summary.get("quick") else ""
    return (f'<section id="{html.escape(name)}"><h2>{html.escape(summary["title"])}</h2>'
            f'<p class="conclusion">{html.escape(summary["conclusion"])}</p>'
            f"{''.join(figures)}<details><summary>key numbers{mode}, seed "
            f"{summary.get('seed')}, {summary.get('seconds')} s</summary><table>{rows}</table>"
            "</details></section>")


def write_gallery(out: str | os.PathLike[str]) -> Path:
    """Write ``out/index.html`` from the studies' summaries found in ``out``; return its path."""
    out = Path(out)
    summaries = [read_json(p) for p in sorted(out.glob("*/summary.json"))]
    body = "".join(_section(s) for s in summaries) or "<p>No studies have been run yet.</p>"
    toc = "".join(f'<li><a href="#{html.escape(s["name"])}">{html.escape(s["title"])}</a></li>'
                  for s in summaries)
    page = (f"<!doctype html><html><head><meta charset='utf-8'><title>landscape studies</title>"
            f"<style>{_STYLE}</style></head><body><h1>landscape: studies</h1>"
            f"<ul>{toc}</ul>{body}</body></html>")
    return write_text(out / "index.html", page)
