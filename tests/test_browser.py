"""The plotly HTML in a real headless Chromium, offline: no JavaScript errors, not blank.

Needs Debian's ``chromium`` and ``chromium-driver`` (``.ci/run`` installs them); skips,
saying so, where they are absent.
"""

import io
import os

import numpy as np
import pytest

CHROMIUM, DRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
pytestmark = pytest.mark.skipif(
    not (os.path.exists(CHROMIUM) and os.path.exists(DRIVER)),
    reason=f"no browser: {CHROMIUM} and {DRIVER} are needed "
           "(apt-get install chromium chromium-driver)",
)
webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")

from matplotlib.image import imread  # noqa: E402
from selenium.webdriver.support.ui import WebDriverWait  # noqa: E402

from landscape.functions import himmelblau  # noqa: E402
from landscape.io import save_figure  # noqa: E402
from landscape.plot import surface_figure  # noqa: E402
from landscape.surface import plane, project  # noqa: E402

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE localhost", "--window-size=900,700",
         # software WebGL without a GPU; newer Chromium wants it asked for (trusted local file)
         "--enable-unsafe-swiftshader"]
ERROR_HOOK = """
window.__errors = [];
window.addEventListener('error', e => window.__errors.push(String(e.message)));
window.addEventListener('unhandledrejection', e => window.__errors.push(String(e.reason)));
"""


def _figure_file(folder):
    f = himmelblau()
    s = plane(f, np.zeros(2), [1.0, 0.0], [0.0, 1.0], span=((-5, 5), (-4, 4)),
              resolution=(31, 25), progress=False)
    s.values[:3, :3] = np.nan  # a gap must not break the page
    path = np.array([[-4.0, -3.0], [-2.0, 0.0], [0.5, 1.5], [3.0, 2.0]])
    run = project(path, s.center, s.directions, steps=[0, 10, 20, 30],
                  loss=[f.loss(p) for p in path], label="gd")
    return save_figure(surface_figure(s, [run]), folder / "surface.html")


def _driver(profile):
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS + [f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return webdriver.Chrome(service=webdriver.ChromeService(DRIVER), options=options)


def _pixel_std(driver) -> float:
    return float(np.std(imread(io.BytesIO(driver.get_screenshot_as_png()))[..., :3] * 255))


def test_plotly_html_renders_offline_without_errors(tmp_path):
    html_path = _figure_file(tmp_path)
    html = html_path.read_text(encoding="utf-8")
    assert '<script src="http' not in html  # plotly.js is embedded, no CDN
    driver = _driver(tmp_path / "profile")
    try:
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": ERROR_HOOK})
        driver.get(html_path.as_uri())
        WebDriverWait(driver, 60).until(lambda d: d.execute_script(
            "const gd = document.querySelector('.js-plotly-plot');"
            "return gd !== null && gd._fullLayout !== undefined && "
            "gd.querySelector('canvas') !== null;"))
        # Wait (bounded) until WebGL has painted something; a blank page never does.
        WebDriverWait(driver, 60, poll_frequency=0.5).until(lambda d: _pixel_std(d) > 20)
        errors = driver.execute_script("return window.__errors;")
        severe = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
        traces = driver.execute_script(
            "return document.querySelector('.js-plotly-plot').data.map(t => t.type);")
    finally:
        driver.quit()
    assert errors == [] and severe == []
    assert traces == ["surface", "scatter3d"]
