"""The built documentation site in headless Chromium, served over HTTP on the loopback.

Not part of the default suite (the file name does not match ``test_*.py``): it needs the
built site, so ``.ci/run`` runs it by path after building.

Run after building the site (``sphinx-build -W -b html docs docs/_build/html``) with
``python -m pytest tests/docs/check_site.py`` (``LANDSCAPE_DOCS_SITE`` points elsewhere). The
index, an API page, a gallery page and the search page load without JavaScript errors and
without fetching anything from outside, their images load, the search finds ``plane``, and
every public name has its API page.
"""

import functools
import http.server
import os
import sys
import threading
from pathlib import Path

import pytest
from conftest import page_errors
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

import landscape

DOCS = Path(__file__).resolve().parents[2] / "docs"
SITE = Path(os.environ.get("LANDSCAPE_DOCS_SITE", DOCS / "_build" / "html"))
PAGES = ["index.html", "generated/landscape.plane.html",
         "auto_examples/plot_first_picture.html", "generated/api.html"]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def site():
    """The site's base URL, served from ``SITE`` by a thread on 127.0.0.1."""
    if not (SITE / "index.html").exists():
        pytest.fail(f"no built site at {SITE}: run sphinx-build -W -b html docs {SITE} first")
    server = http.server.ThreadingHTTPServer(
        ("127.0.0.1", 0), functools.partial(_Quiet, directory=str(SITE)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://localhost:{server.server_address[1]}"  # the browser resolves only localhost
    server.shutdown()
    server.server_close()


def _loaded(driver) -> bool:
    return driver.execute_script("return document.readyState") == "complete"


def _broken_images(driver) -> list:
    return driver.execute_script(
        "return Array.from(document.images)"
        ".filter(i => !(i.complete && i.naturalWidth > 0)).map(i => i.src);")


def _outside_requests(driver, base: str) -> list:
    return driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
        ".filter(n => !n.startsWith(arguments[0]) && !n.startsWith('data:'));", base)


@pytest.mark.parametrize("page", PAGES)
def test_page_loads_without_errors(site, browser, page):
    browser.get(f"{site}/{page}")
    WebDriverWait(browser, 30).until(_loaded)
    assert browser.find_elements(By.CSS_SELECTOR, "article h1"), "no page title"
    assert page_errors(browser) == []
    assert _broken_images(browser) == []
    assert _outside_requests(browser, site) == []


def test_gallery_page_has_its_figure_and_downloads(site, browser):
    browser.get(f"{site}/auto_examples/plot_first_picture.html")
    WebDriverWait(browser, 30).until(_loaded)
    figures = browser.find_elements(By.CSS_SELECTOR, "img.sphx-glr-single-img")
    assert figures and all(f.get_property("naturalWidth") > 100 for f in figures)
    links = [a.get_attribute("href") for a in browser.find_elements(By.CSS_SELECTOR, "a")]
    assert any(link.endswith("plot_first_picture.py") for link in links if link)
    assert any(link.endswith("plot_first_picture.ipynb") for link in links if link)


def test_search_finds_plane(site, browser):
    browser.get(f"{site}/search.html?q=plane")
    WebDriverWait(browser, 60).until(lambda d: d.find_elements(
        By.CSS_SELECTOR, "#search-results ul.search li"))
    hits = [a.get_attribute("href") for a in browser.find_elements(
        By.CSS_SELECTOR, "#search-results ul.search li a")]
    assert any("landscape.plane.html" in hit for hit in hits), hits[:10]
    assert page_errors(browser) == []
    assert _outside_requests(browser, site) == []


def test_every_public_name_has_an_api_page():
    sys.path.insert(0, str(DOCS))
    try:
        import _pages
    finally:
        sys.path.remove(str(DOCS))
    pages = {f"landscape.{name}": [f"landscape.{name}"] for name in landscape.__all__}
    for module_name in _pages.public_modules():
        module = __import__(module_name, fromlist=["_"])
        for name in _pages.own_names(module):
            # a name exported at the top level too is documented there, once
            same = getattr(landscape, name, None) is getattr(module, name)
            pages[f"{module_name}.{name}"] = [f"{module_name}.{name}"] + (
                [f"landscape.{name}"] if same else [])
    missing = [name for name, files in pages.items()
               if not any((SITE / "generated" / f"{file}.html").exists() for file in files)]
    assert len(pages) > len(landscape.__all__)
    assert missing == []
