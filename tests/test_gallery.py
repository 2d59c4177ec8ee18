"""The gallery and the run: story order, captions, readable sizes, page thumbnails, progress
lines, and the same files, byte for byte, from the same seed."""

import json

import numpy as np
from conftest import page_errors

from landscape.cli import SUMMARY_DIGITS, main
from landscape.gallery import COLUMN_PX, figure_files

STUDY = '''
import matplotlib.pyplot as plt
import numpy as np
from landscape.functions import himmelblau
from landscape.plot import surface_figure
from landscape.studies._shared import progress, save_page, save_png
from landscape.surface import plane

TITLE = "{title}"
FIGURES = {{"wide.png": "first in the story: a wide figure", "surface.html": "the 3-D page",
            "never_drawn.png": "declared, not drawn"}}

def run(out, quick, seed):
    x = np.linspace(0, 1, 20) ** {power}
    progress("drawing the curves")
    for name, size in (("narrow.png", (3, 2)), ("wide.png", (15, 3))):
        fig, ax = plt.subplots(figsize=size)
        ax.plot(x)
        save_png(fig, out / name)
    progress("drawing the page")
    s = plane(himmelblau(), np.zeros(2), np.eye(2), span=4.0, resolution=9)
    save_page(surface_figure(s, title="Himmelblau"), out / "surface.html")
    return {{"headline": f"x[1] = {{x[1]:.2f}}", "conclusion": f"the second value is {{x[1]:.6g}}",
             "numbers": {{"power": {power}, "second": x[1]}}}}
'''


def test_gallery_tells_each_study_in_story_order_in_a_browser(tmp_path, browser, capsys):
    folder, out = tmp_path / "studies", tmp_path / "figures"
    folder.mkdir()
    for name, power in [("linear", 1), ("square", 2)]:
        (folder / f"{name}.py").write_text(STUDY.format(title=f"{name} study", power=power))
    assert main(["--studies", str(folder), "run", "all", "--out", str(out)]) == 0
    printed = capsys.readouterr().out.splitlines()
    assert printed[:2] == ["  linear: drawing the curves", "  linear: drawing the page"]
    assert printed[2].startswith("[1/2] linear: done in ") and printed[2].endswith(": x[1] = 0.05")

    summary = json.loads((out / "square" / "summary.json").read_text())
    second = 1 / 19**2
    assert summary["numbers"]["second"] == float(f"{second:.{SUMMARY_DIGITS}g}") != second
    assert "seconds" not in summary  # no timings: the same seed gives the same file
    assert summary["figures"] == ["wide.png", "surface.html", "narrow.png"]
    assert summary["captions"] == {"wide.png": "first in the story: a wide figure",
                                   "surface.html": "the 3-D page"}

    browser.set_window_size(1400, 900)
    browser.get((out / "index.html").as_uri())
    assert page_errors(browser) == []
    sections = browser.execute_script(
        "return [...document.querySelectorAll('section')].map(s => [s.id,"
        " s.querySelector('.headline').textContent, s.querySelector('.conclusion').textContent,"
        " [...s.querySelectorAll('figure')].map(f => f.querySelector('a').getAttribute('href'))"
        "]);")
    assert sections == [
        [name, f"x[1] = {x:.2f}", f"the second value is {x:.6g}",
         [f"{name}/wide.png", f"{name}/surface.html", f"{name}/narrow.png"]]
        for name, x in (("linear", 1 / 19), ("square", second))]
    images = browser.execute_script(
        "return [...document.querySelectorAll('#linear figure img')].map(i => [i.src.split('/')"
        ".pop(), i.complete && i.naturalWidth > 0, i.naturalWidth,"
        " i.clientWidth, i.closest('figure').textContent]);")
    (wide, *wide_rest), (thumb, *thumb_rest), (narrow, *narrow_rest) = images
    assert [wide, thumb, narrow] == ["wide.png", "surface.preview.png", "narrow.png"]
    # the wide figure fills the column; the others show at their own pixel size
    assert wide_rest[0] and wide_rest[1] > COLUMN_PX and wide_rest[2] == COLUMN_PX
    for loaded, natural, shown, _ in (thumb_rest, narrow_rest):
        assert loaded and natural == shown < COLUMN_PX
    assert wide_rest[3] == "first in the story: a wide figure"
    assert thumb_rest[3].startswith("the 3-D page") and "interactive 3-D" in thumb_rest[3]


def test_figure_files_go_in_the_given_order_then_alphabetically(tmp_path):
    for name in ("b.png", "a.png", "page.html", "page.preview.png", ".hidden.png", "notes.txt"):
        (tmp_path / name).write_bytes(b"")
    assert figure_files(tmp_path) == ["a.png", "b.png", "page.html"]
    assert figure_files(tmp_path, ["page.html", "missing.png", "b.png"]) == [
        "page.html", "b.png", "a.png"]


def _files(folder):
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def test_the_same_seed_gives_the_same_files_byte_for_byte(tmp_path):
    # batch drew a wall-clock axis; initialization writes an interactive page and its preview
    for run in ("first", "second"):
        assert main(["run", "batch", "initialization", "--quick", "--out",
                     str(tmp_path / run)]) == 0
    first, second = _files(tmp_path / "first"), _files(tmp_path / "second")
    assert sorted(first) == sorted(second)
    assert {"index.html", "batch/curves.png", "batch/summary.json", "initialization/surface.html",
            "initialization/surface.preview.png", "initialization/plotly.min.js"} <= set(first)
    differ = [name for name in first if first[name] != second[name]]
    assert differ == []
    assert np.all([len(data) > 0 for data in first.values()])
