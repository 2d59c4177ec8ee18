"""Session-wide test settings, the study fixtures and the headless-browser fixture.

BLAS is limited to one thread: the test models are small, and on a 2-core machine
multi-threaded BLAS on small matrices mostly fights the other test processes.

``quick_run(module)`` runs a study once per session (quick, seed 0) and lints each PNG it
saves (:mod:`figure_lint`); ``result`` is that run for a test module's ``STUDY``, so the
study tests and the figure lint (``test_figures.py``) share one run of each study.

In CI (``CI`` set, as ``.ci/run`` runs) a test that skips for a missing package or browser
fails instead: ``.ci/run`` installs everything the suite uses, so such a skip would hide an
untested part. Skips for what no install brings (a GPU) stay skips.

``browser`` is a headless Chromium (Debian's ``chromium`` and ``chromium-driver``, which
``.ci/run`` installs) with a hook collecting JavaScript errors in ``window.__errors``; a
test using it skips, saying why, only where no browser is installed.
"""

import io
import os
from pathlib import Path
from typing import NamedTuple

import matplotlib
import numpy as np
import pytest
from figure_lint import lint
from threadpoolctl import threadpool_limits

from landscape.cli import find_studies, load_study
from landscape.io import save_figure

matplotlib.use("Agg")

PNG = b"\x89PNG\r\n\x1a\n"  # the first bytes of every PNG file
CHROMIUM, DRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"
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


#: Words of the skip messages that mean "not installed" (pytest.importorskip's and ours).
MISSING = ("could not import", "is not installed", "no browser")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """In CI, turn a skip for something ``.ci/run`` could have installed into a failure."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") and report.skipped and any(
            word in str(report.longrepr) for word in MISSING):
        report.outcome = "failed"
        report.longrepr = f"skipped in CI for a missing dependency: {report.longrepr}"


@pytest.hookimpl(hookwrapper=True)
def pytest_make_collect_report(collector):
    """The same for a whole test file skipped at import (a module-level importorskip)."""
    outcome = yield
    report = outcome.get_result()
    if os.environ.get("CI") and report.skipped and any(
            word in str(report.longrepr) for word in MISSING):
        report.outcome = "failed"


@pytest.fixture(autouse=True, scope="session")
def _one_blas_thread():
    with threadpool_limits(1):
        yield


def study(name: str):
    """The installed study ``landscape.studies.<name>``, found and loaded as the ``landscape``
    command finds and loads it."""
    return load_study(find_studies()[name])


class QuickRun(NamedTuple):
    """A study's quick run (seed 0): its folder, what ``run`` returned, and the figure lint's
    findings for each PNG it saved (file name -> defects, :mod:`figure_lint`)."""

    out: Path
    returned: dict
    lint: dict


@pytest.fixture(scope="session")
def quick_run(tmp_path_factory):
    """``quick_run(module)``: the study ``module`` run once per session, quick, seed 0, each
    PNG linted as it is saved (before the study closes its figure)."""
    import landscape.studies._shared as shared

    runs: dict = {}

    def get(module) -> QuickRun:
        if module.__name__ not in runs:
            out, findings = tmp_path_factory.mktemp(module.__name__.rpartition(".")[2]), {}

            def save_and_lint(fig, path, **kwargs):
                saved = save_figure(fig, path, **kwargs)
                if hasattr(fig, "savefig") and Path(path).suffix == ".png":
                    width = int.from_bytes(Path(saved).read_bytes()[16:20], "big")  # IHDR
                    findings[Path(path).name] = lint(fig, width, kwargs.get("dpi", fig.dpi))
                return saved

            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(shared, "save_figure", save_and_lint)
                returned = module.run(out, quick=True, seed=0)
            runs[module.__name__] = QuickRun(out, returned, findings)
        return runs[module.__name__]

    return get


@pytest.fixture(scope="module")
def result(request, quick_run):
    """``(out, returned dict)``: the test module's ``STUDY`` run once, quick, seed 0."""
    run = quick_run(request.module.STUDY)
    return run.out, run.returned


def start_chromium(profile: Path):
    """A headless Chromium driver with a fresh ``profile`` folder, recording page errors
    (the caller quits it); skips the test where no browser or selenium is installed."""
    if not (os.path.exists(CHROMIUM) and os.path.exists(DRIVER)):
        pytest.skip(f"no browser: {CHROMIUM} and {DRIVER} are needed "
                    "(apt-get install chromium chromium-driver)")
    webdriver = pytest.importorskip("selenium.webdriver", reason="selenium is not installed")
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in FLAGS + [f"--user-data-dir={profile}"]:
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=webdriver.ChromeService(DRIVER), options=options)
    driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": ERROR_HOOK})
    return driver


@pytest.fixture
def browser(tmp_path):
    """A headless Chromium driver that records page errors; quits after the test."""
    driver = start_chromium(tmp_path / "profile")
    try:
        yield driver
    finally:
        driver.quit()


def page_errors(driver) -> list:
    """JavaScript errors caught on the page plus SEVERE console entries."""
    severe = [e for e in driver.get_log("browser") if e["level"] == "SEVERE"]
    return driver.execute_script("return window.__errors;") + severe


def pixel_std(driver) -> float:
    """Spread of the screenshot's pixel values: about 0-10 for a blank page."""
    from matplotlib.image import imread

    return float(np.std(imread(io.BytesIO(driver.get_screenshot_as_png()))[..., :3] * 255))
