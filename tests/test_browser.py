"""The plotly pages in a real headless Chromium, offline: no JavaScript errors, not blank, and
the 3-D scene framed (the whole surface and its box in view)."""

import io

import numpy as np
import pytest
from conftest import page_errors, pixel_std, study
from matplotlib.image import imread
from selenium.webdriver.support.ui import WebDriverWait

from landscape.functions import himmelblau
from landscape.io import save_figure
from landscape.plot import surface_figure
from landscape.plot.interactive import ASPECT, CAMERA
from landscape.surface import plane, project

#: The studies' interactive pages: study -> page files.
PAGES = {"initialization": ["surface.html"],
         "surfaces": ["surface_random.html", "surface_filter.html"]}


def _figure_file(folder):
    f = himmelblau()
    s = plane(f, np.zeros(2), [1.0, 0.0], [0.0, 1.0], span=((-5, 5), (-4, 4)),
              resolution=(31, 25))
    s.values[:3, :3] = np.nan  # a gap must not break the page
    path = np.array([[-4.0, -3.0], [-2.0, 0.0], [0.5, 1.5], [3.0, 2.0]])
    run = project(path, s.center, s.directions, steps=[0, 10, 20, 30],
                  loss=[f.loss(p) for p in path], label="gd")
    return save_figure(surface_figure(s, [run]), folder / "surface.html")


def _rendered(browser, path) -> None:
    """Open ``path`` and wait (bounded) until WebGL has painted; a blank page never does."""
    browser.get(path.as_uri())
    WebDriverWait(browser, 60).until(lambda d: d.execute_script(
        "const gd = document.querySelector('.js-plotly-plot');"
        "return gd !== null && gd._fullLayout !== undefined && "
        "gd.querySelector('canvas') !== null;"))
    WebDriverWait(browser, 60, poll_frequency=0.5).until(lambda d: pixel_std(d) > 20)


def test_plotly_html_renders_offline_without_errors(tmp_path, browser):
    html_path = _figure_file(tmp_path)
    html = html_path.read_text(encoding="utf-8")
    assert '<script src="http' not in html  # plotly.js is embedded, no CDN
    _rendered(browser, html_path)
    traces = browser.execute_script(
        "return document.querySelector('.js-plotly-plot').data.map(t => t.type);")
    assert page_errors(browser) == []
    assert traces == ["surface", "scatter3d"]


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    """The studies' pages, each study run quick (seed 0): a list of paths."""
    found = []
    for name, files in PAGES.items():
        out = tmp_path_factory.mktemp(name)
        study(name).run(out, quick=True, seed=0)
        found += [out / f for f in files]
    return found


def _scene_edges(browser) -> tuple[np.ndarray, np.ndarray]:
    """The screenshot's pixel rows (RGB, 0-255) at the top and bottom of the 3-D scene's
    area, over its middle 40% (left of the colour bar, right of a legend)."""
    box = browser.execute_script(
        "const L = document.querySelector('.js-plotly-plot')._fullLayout, s = L._size,"
        " d = L.scene.domain;"
        "return [s.l + d.x[0] * s.w, s.t + (1 - d.y[1]) * s.h, s.l + d.x[1] * s.w,"
        " s.t + (1 - d.y[0]) * s.h, window.devicePixelRatio];")
    x0, y0, x1, y1 = (round(v * box[4]) for v in box[:4])
    image = imread(io.BytesIO(browser.get_screenshot_as_png()))[..., :3] * 255
    middle = slice(x0 + (x1 - x0) * 3 // 10, x0 + (x1 - x0) * 7 // 10)
    return image[y0:y0 + 4, middle], image[y1 - 4:y1, middle]


@pytest.mark.parametrize("index", range(sum(map(len, PAGES.values()))))
def test_study_pages_frame_their_surface(pages, index, browser):
    page = pages[index]
    assert (page.parent / "plotly.min.js").is_file()  # written once beside, still offline
    _rendered(browser, page)
    assert page_errors(browser) == []
    scene = browser.execute_script(
        "const sc = document.querySelector('.js-plotly-plot')._fullLayout.scene;"
        "return [sc.aspectmode, sc.aspectratio, sc.camera.eye];")
    assert scene == ["manual", ASPECT, CAMERA["eye"]]
    top, bottom = _scene_edges(browser)
    # nothing drawn where the scene is cut off: the box, surface and labels are inside it
    assert top.min() > 250 and bottom.min() > 250
