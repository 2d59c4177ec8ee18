"""Sphinx configuration of the landscape documentation.

Build (offline, warnings as errors): ``sphinx-build -W -b html docs docs/_build/html``.
Doctests of the guide: ``sphinx-build -W -b doctest -D plot_gallery=0 docs docs/_build/doctest``.

No intersphinx and no CDN: the site must build and work without a network (the theme and
the search serve everything locally; MathJax would come from a CDN, so the pages use no math).
"""

import os
import re
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
os.environ.setdefault("TQDM_DISABLE", "1")

DOCS = Path(__file__).resolve().parent
sys.path.insert(0, str(DOCS))

import _pages  # noqa: E402  (needs DOCS on the path)

import landscape  # noqa: E402

_pages.write_pages(DOCS)

project = "landscape"
author = "The landscape developers"
copyright = "2026, The landscape developers"
release = landscape.__version__ if hasattr(landscape, "__version__") else "0.1.0"
version = release

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.doctest",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "**/*.ipynb", "**/*.md5", "**/*.zip", "**/*.py", "**/*.json"]
templates_path = ["_templates"]  # autosummary/class.rst: members inline, no tables

# Autosummary and numpydoc: one page per public name, generated from the docstrings.
autosummary_generate = True
autosummary_imported_members = True
autodoc_default_options = {"members": False}
autodoc_typehints = "none"  # numpydoc's Parameters sections carry the types and shapes
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_validation_checks = set()

# MyST: the user guide and the other prose pages are Markdown.
myst_enable_extensions = ["colon_fence", "deflist"]
myst_heading_anchors = 3

# The guide's code runs as doctests (sphinx.ext.doctest's testcode blocks, one namespace per
# page); each page starts from the same seed and settings.
doctest_global_setup = """
import matplotlib
matplotlib.use("Agg")
import numpy as np
np.set_printoptions(precision=4, suppress=True)
"""
doctest_test_doctest_blocks = ""

# The examples gallery: every examples/plot_*.py is executed at build time.
sphinx_gallery_conf = {
    "examples_dirs": str(DOCS.parent / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/plot_",
    "within_subsection_order": "_pages.ExampleOrder",
    "write_computation_times": False,  # its page loads jQuery and DataTables from CDNs
    "download_all_examples": False,
    "remove_config_comments": True,
    "image_scrapers": ("matplotlib",),
    "reset_modules": ("matplotlib",),
    "show_memory": False,
    "min_reported_time": 10**9,
    "default_thumb_file": None,
}

html_theme = "pydata_sphinx_theme"
html_title = "landscape"
html_context = {"default_mode": "auto"}  # a fresh browser profile otherwise logs an error
html_theme_options = {
    "navigation_with_keys": False,
    "show_toc_level": 2,
    "navbar_align": "left",
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
    "secondary_sidebar_items": ["page-toc"],
}
html_sidebars = {"index": [], "compare": [], "changelog": [], "citation": []}
html_show_sourcelink = False
html_static_path = ["_static"]
html_favicon = "_static/logo.svg"
html_logo = "_static/logo.svg"


# The package's docstrings often write an item's type and meaning on one line
# (``center : array_like, shape (n,), the point``) where numpydoc expects the type alone.
# Such a line is made the item's description, so it reads as text, not as a long type.
# Records list their fields right after the summary line: that list is read as the
# "Attributes" section, and a paragraph after it as "Notes".
_ITEM = re.compile(r"^(\*{0,2}[A-Za-z_]\w*(?:, \*{0,2}[A-Za-z_]\w*)*) : (.+)$")
_FIELD = re.compile(r"^[A-Za-z_]\w*(, [A-Za-z_]\w*)* :( |$)")
_ITEM_SECTIONS = {"Parameters", "Other Parameters", "Attributes", "Keyword Arguments"}


def _is_prose(text: str) -> bool:
    return text.endswith(".") or ";" in text or ": " in text or len(text.split()) > 5


def _record_fields_as_attributes(lines: list) -> None:
    if any(re.fullmatch(r"-{3,}", line.strip()) for line in lines):
        return
    start = next((i for i in range(1, len(lines))
                  if not lines[i - 1].strip() and _FIELD.match(lines[i])), None)
    if start is None:
        return
    end = next((j + 1 for j in range(start + 1, len(lines) - 1)
                if not lines[j].strip() and lines[j + 1].strip()
                and not lines[j + 1].startswith(" ") and not _FIELD.match(lines[j + 1])), None)
    if end is not None:
        lines[end:end] = ["Notes", "-----", ""]
    lines[start:start] = ["Attributes", "----------"]


def _items_as_prose(lines: list) -> None:
    section, out = None, []
    for i, line in enumerate(lines):
        following = lines[i + 1] if i + 1 < len(lines) else ""
        if line.strip() and re.fullmatch(r"-{3,}", following.strip()):
            section = line.strip()
        match = _ITEM.match(line) if section in _ITEM_SECTIONS else None
        if match and _is_prose(match.group(2)):
            out += [match.group(1), "    " + match.group(2)]
        else:
            out.append(line)
    lines[:] = out


def _numpydoc_style(app, what, name, obj, options, lines):
    if what == "class":
        _record_fields_as_attributes(lines)
    _items_as_prose(lines)


def _skip_named_tuple_fields(app, what, name, obj, skip, options):
    """A named tuple's fields are documented in its Attributes, not as members."""
    if (getattr(obj, "__doc__", None) or "").startswith("Alias for field number"):
        return True
    return None


def setup(app):
    app.connect("autodoc-process-docstring", _numpydoc_style, priority=100)
    app.connect("autodoc-skip-member", _skip_named_tuple_fields)
