"""Pages written from the code and the study results at build time (into ``docs/generated``).

- ``api.rst``: an autosummary table of every name in ``landscape.__all__``, grouped by the
  module that defines it, then of every public submodule's own public names. The reference
  follows the code: a name added to ``__all__`` (or to a submodule) gets its page.
- ``studies.rst``: each study's question (its docstring), figures and computed conclusion
  (``figures/<name>/summary.json``, written by ``landscape run``).
"""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import pkgutil
import re
from pathlib import Path

import landscape

ROOT = Path(__file__).resolve().parents[1]
# The command line's machinery and the studies are not a library interface (the guide's
# command-line page and the studies page document them); nor is the explorer's web page
# (Dash, extra 'explore'; the guide's explorer page documents it).
NOT_API = ("landscape.cli", "landscape.gallery", "landscape.__main__", "landscape.studies",
           "landscape.explore.app", "landscape.explore.callbacks", "landscape.explore.layout")


def _write(path: Path, text: str) -> None:
    """Write ``text`` unless the file already holds it (keeps Sphinx's rebuilds incremental)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not path.exists() or path.read_text(encoding="utf-8") != text:
        path.write_text(text, encoding="utf-8")


def _summary_line(module) -> str:
    doc = inspect.getdoc(module) or module.__name__
    return doc.strip().splitlines()[0].rstrip(".")


def _table(module: str, names: list[str]) -> list[str]:
    lines = [f".. currentmodule:: {module}", "", ".. autosummary::", "   :toctree: .", ""]
    return lines + [f"   {name}" for name in names] + [""]


def _heading(text: str, char: str) -> list[str]:
    return [text, char * len(text), ""]


def public_modules() -> list[str]:
    """Every module of the package whose name has no part starting with ``_``."""
    found = [info.name for info in pkgutil.walk_packages(landscape.__path__, "landscape.")]
    return sorted(name for name in found
                  if not any(name == hidden or name.startswith(hidden + ".") for hidden in NOT_API)
                  and not any(part.startswith("_") for part in name.split(".")))


def own_names(module) -> list[str]:
    """A module's public names: its ``__all__``, else the functions and classes it defines."""
    if hasattr(module, "__all__"):
        return list(module.__all__)
    return sorted(name for name, obj in vars(module).items()
                  if not name.startswith("_") and (inspect.isfunction(obj) or inspect.isclass(obj))
                  and getattr(obj, "__module__", "").startswith(module.__name__))


def api_page() -> str:
    lines = [".. _api:", ""] + _heading("API reference", "=")
    lines += ["Every public name, generated from the docstrings. ``import landscape as ls``",
              "gives the names of the first part; the submodules of the second part are",
              "imported by name (``from landscape import functions``).", ""]
    lines += _heading("The top-level namespace", "-")
    groups: dict[str, list[str]] = {}
    for name in landscape.__all__:
        obj = getattr(landscape, name)
        home = getattr(obj, "__module__", None) if not inspect.ismodule(obj) else None
        groups.setdefault(home or "landscape", []).append(name)
    for home, names in groups.items():
        lines += _heading(f"``{home}``", "~")
        if home != "landscape":
            lines += [_summary_line(importlib.import_module(home)) + ".", ""]
        lines += _table("landscape", names)
    top = set(landscape.__all__)
    lines += _heading("Submodules", "-")
    for name in public_modules():
        module = importlib.import_module(name)
        extra = [n for n in own_names(module)
                 if n not in top or getattr(landscape, n, None) is not getattr(module, n, None)]
        if extra:
            lines += _heading(f"``{name}``", "~") + [_summary_line(module) + ".", ""]
            lines += _table(name, extra)
    return "\n".join(lines)


def _plain(text: str) -> str:
    """Plain text made safe for reStructuredText (no markup characters take effect)."""
    return re.sub(r"([\\`*_|])", r"\\\1", text)


def _docstring(path: Path) -> tuple[str, str]:
    """A study file's docstring and ``TITLE``, read without running the study."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    titles = [ast.literal_eval(node.value) for node in tree.body
              if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") == "TITLE"]
    title = titles[0] if titles else path.stem
    return ast.get_docstring(tree) or "", title


def studies_page() -> str:
    lines = [".. _studies:", ""] + _heading("The studies", "=")
    lines += ["Each study is a script in ``studies/`` that asks one question about the loss",
              "landscape, answers it with the package and writes its figures and a",
              "``summary.json`` of the numbers it measured. The conclusions below are",
              "computed by the studies from those numbers (``landscape run all``, seed 0),",
              "not written by hand. Run one with ``landscape run NAME`` (``--quick`` takes",
              "seconds); the :doc:`../guide/cli` page explains the command.", ""]
    for summary_path in sorted((ROOT / "figures").glob("*/summary.json")):
        summary = json.loads(summary_path.read_text(encoding="utf-8"))
        name = summary["name"]
        doc, title = _docstring(ROOT / "studies" / f"{name}.py")
        question, _, setup = doc.partition("\n\n")
        lines += [f".. _study-{name}:", ""] + _heading(title, "-")
        lines += [f"**Question.** {' '.join(question.split())}", ""]
        first = setup.split("\n\n")[0].replace("|", "\\|")  # rst, but no substitutions
        lines += [f"**Setup.** {first}", ""] if setup else []
        for figure in summary.get("figures", []):
            if figure.endswith(".png"):
                lines += [f".. image:: ../../figures/{name}/{figure}",
                          f"   :alt: {name}: {figure}", "   :width: 100%", ""]
        lines += [f"**Conclusion** (computed). {_plain(summary['conclusion'])}", ""]
        lines += [f"Source: ``studies/{name}.py``; run it with ``landscape run {name}``.", ""]
    return "\n".join(lines)


def write_pages(docs: Path) -> None:
    """Write the generated pages into ``docs / 'generated'``, and remove the pages of names
    that are no longer public (autosummary adds pages but never removes one)."""
    folder = docs / "generated"
    api = api_page()
    _write(folder / "api.rst", api)
    _write(folder / "studies.rst", studies_page())
    current, names = None, {"api", "studies"}
    for line in api.splitlines():
        if line.startswith(".. currentmodule:: "):
            current = line.split()[-1]
        elif line.startswith("   ") and line.strip() and not line.strip().startswith(":"):
            names.add(f"{current}.{line.strip()}")
    for page in folder.glob("*.rst"):
        if page.stem not in names:
            page.unlink()


# The gallery's order: from the first picture to the more specialized questions.
EXAMPLES = ["plot_first_picture", "plot_own_function", "plot_torch_plane", "plot_streaming",
            "plot_step_activation", "plot_momentum_valley", "plot_optimizer_basins",
            "plot_explore",
            "plot_critical_points", "plot_topology", "plot_saddle_plateaus",
            "plot_digits_spectrum",
            "plot_edge_of_stability", "plot_training_recorder", "plot_hessian_plane",
            "plot_pca_plane", "plot_checkpoints",
            "plot_interpolation", "plot_bezier_path", "plot_batchnorm_path"]


class ExampleOrder:
    """sphinx-gallery's sort key: the examples listed in ``EXAMPLES`` first, in that order,
    then any other by file name."""

    def __init__(self, src_dir: str):
        self.src_dir = src_dir

    def __call__(self, filename: str) -> tuple:
        stem = Path(filename).stem
        return (EXAMPLES.index(stem) if stem in EXAMPLES else len(EXAMPLES), stem)
