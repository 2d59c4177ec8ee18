"""The plotly HTML in a real headless Chromium, offline: no JavaScript errors, not blank."""

import numpy as np
from conftest import page_errors, pixel_std
from selenium.webdriver.support.ui import WebDriverWait

from landscape.functions import himmelblau
from landscape.io import save_figure
from landscape.plot import surface_figure
from landscape.surface import plane, project


def _figure_file(folder):
    f = himmelblau()
    s = plane(f, np.zeros(2), [1.0, 0.0], [0.0, 1.0], span=((-5, 5), (-4, 4)),
              resolution=(31, 25))
    s.values[:3, :3] = np.nan  # a gap must not break the page
    path = np.array([[-4.0, -3.0], [-2.0, 0.0], [0.5, 1.5], [3.0, 2.0]])
    run = project(path, s.center, s.directions, steps=[0, 10, 20, 30],
                  loss=[f.loss(p) for p in path], label="gd")
    return save_figure(surface_figure(s, [run]), folder / "surface.html")


def test_plotly_html_renders_offline_without_errors(tmp_path, browser):
    html_path = _figure_file(tmp_path)
    html = html_path.read_text(encoding="utf-8")
    assert '<script src="http' not in html  # plotly.js is embedded, no CDN
    browser.get(html_path.as_uri())
    WebDriverWait(browser, 60).until(lambda d: d.execute_script(
        "const gd = document.querySelector('.js-plotly-plot');"
        "return gd !== null && gd._fullLayout !== undefined && "
        "gd.querySelector('canvas') !== null;"))
    # Wait (bounded) until WebGL has painted something; a blank page never does.
    WebDriverWait(browser, 60, poll_frequency=0.5).until(lambda d: pixel_std(d) > 20)
    traces = browser.execute_script(
        "return document.querySelector('.js-plotly-plot').data.map(t => t.type);")
    assert page_errors(browser) == []
    assert traces == ["surface", "scatter3d"]
