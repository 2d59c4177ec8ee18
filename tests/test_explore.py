"""The explorer (landscape explore): its computation against run(...), closed forms and finite
differences, its export, its command, and the page itself driven in headless Chromium.

The browser tests save their screenshots into a temporary folder, or into the folder named
by ``LANDSCAPE_EXPLORE_SCREENSHOTS`` (``docs/_static/explore`` makes the documentation's).
"""

import os
import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

import landscape as ls
from landscape import explore as ex
from landscape import functions
from landscape.explore.compute import shown_values, wants_log
from landscape.explore.jobs import Job
from landscape.objective import check_derivatives
from landscape.vocabulary import DIVERGED, MAXIMUM, MINIMUM, SADDLE

# Himmelblau's minima as published (Himmelblau 1972), to the published digits.
HIMMELBLAU_MINIMA = np.array([(3.0, 2.0), (-2.805118, 3.131312), (-3.779310, -3.283186),
                              (3.584428, -1.848127)])


def himmelblau_grad(x, y):
    """∇f of (x² + y − 11)² + (x + y² − 7)², written out here."""
    return np.array([4 * x * (x * x + y - 11) + 2 * (x + y * y - 7),
                     2 * (x * x + y - 11) + 4 * y * (x + y * y - 7)])


def himmelblau_hessian(x, y):
    return np.array([[12 * x * x + 4 * y - 42, 4 * x + 4 * y],
                     [4 * x + 4 * y, 4 * x + 12 * y * y - 26]])


# ---------------------------------------------------------------------------------
# What the page computes
# ---------------------------------------------------------------------------------


def test_runs_are_run_from_the_start_with_the_settings():
    land = ex.make_landscape("himmelblau")
    view = ex.compute_view(land, [(-0.5, -4.0), (1.2, 1.1)],
                           {"gd": {"lr": 0.01}, "momentum": {"lr": 0.005, "beta": 0.8}}, 120)
    assert [r.label for r in view.runs] == [
        "gradient descent, start 1", "heavy ball, start 1", "gradient descent, start 2",
        "heavy ball, start 2"]
    f = functions.himmelblau()
    expected = [ls.run(f, start, opt, 120) for start in [(-0.5, -4.0), (1.2, 1.1)]
                for opt in (ls.gd(0.01), ls.momentum(0.005, beta=0.8))]
    for got, want in zip(view.runs, expected):
        np.testing.assert_array_equal(got.trajectory.thetas, want.thetas)
        assert got.trajectory.hyperparams == want.hyperparams


def test_valley_is_a_quadratic_of_the_condition_number_and_gd_contracts_as_theory_says():
    kappa, lr, steps = 50.0, 0.5, 40
    land = ex.make_landscape("valley", condition=kappa)
    np.testing.assert_allclose(np.linalg.eigvalsh(land.objective.hessian([0.3, -0.2])),
                               [1 / kappa, 1.0], rtol=1e-14)
    start = np.array([-1.8, 1.2])
    tr = ex.trajectory(land, start, ex.make_optimizer("gd", {"lr": lr}), steps)
    factors = np.array([1 - lr / kappa, 1 - lr])  # GD on ½ λ x²: x ← (1 − lr λ) x
    np.testing.assert_allclose(tr.thetas, start * factors ** np.arange(steps + 1)[:, None],
                               rtol=1e-12, atol=1e-300)


def test_where_runs_end():
    himmelblau = ex.make_landscape("himmelblau")
    f = himmelblau.objective
    gd = ex.make_optimizer("gd", {"lr": 0.01})
    end = ex.ending(f, ex.trajectory(himmelblau, (-0.5, -4.0), gd, 200))
    assert end.kind == MINIMUM and end.critical and end.text == MINIMUM
    np.testing.assert_allclose(end.theta, HIMMELBLAU_MINIMA[2], atol=1e-6)
    # too large a step: the run diverges and says when
    tr = ex.trajectory(himmelblau, (-0.5, -4.0), ex.make_optimizer("gd", {"lr": 0.2}), 100)
    end = ex.ending(f, tr)
    assert tr.status == DIVERGED and end.kind is None and not end.critical
    assert end.text == f"diverged at step {tr.diverged_at}"
    # Lee et al.'s saddle: the origin is critical with Hessian diag(1, -1); GD stays there
    lee = ex.make_landscape("lee_saddle")
    end = ex.ending(lee.objective, ex.trajectory(lee, (0.0, 0.0), gd, 50))
    assert end.kind == SADDLE and end.critical
    # a slow run on Rosenbrock's valley is still moving: its gradient is far from zero
    rosen = ex.make_landscape("rosenbrock")
    end = ex.ending(rosen.objective, ex.trajectory(rosen, (-1.5, 2.5),
                                                   ex.make_optimizer("gd", {"lr": 1e-4}), 20))
    assert not end.critical and end.text.startswith("still moving")
    # the monkey saddle falls away to minus infinity: never a crash, a diverged run
    monkey = ex.make_landscape("monkey_saddle")
    tr = ex.trajectory(monkey, (0.6, 0.3), ex.make_optimizer("gd", {"lr": 0.05}), 2000)
    assert tr.status == DIVERGED


def test_point_info_is_the_closed_form_gradient_and_hessian():
    land = ex.make_landscape("himmelblau")
    for x, y in [(1.2, 1.1), (-0.270845, -0.923039), (2.0, -3.5)]:
        info = ex.point_info(land.objective, [x, y])
        np.testing.assert_allclose(info.grad, himmelblau_grad(x, y), rtol=1e-13)
        eigenvalues = np.linalg.eigvalsh(himmelblau_hessian(x, y))
        np.testing.assert_allclose(info.eigenvalues, eigenvalues, rtol=1e-12)
        signs = np.sign(eigenvalues)
        assert info.kind == {(1, 1): MINIMUM, (-1, -1): MAXIMUM}.get(tuple(signs), SADDLE)
    # Lee's saddle: ∇f = (x, y³ − y), H = diag(1, 3y² − 1)
    lee = ex.make_landscape("lee_saddle")
    info = ex.point_info(lee.objective, [0.5, 0.2])
    np.testing.assert_allclose(info.grad, [0.5, 0.2**3 - 0.2], rtol=1e-15)
    np.testing.assert_allclose(info.eigenvalues, sorted([1.0, 3 * 0.04 - 1]), rtol=1e-15)


def test_known_critical_points_are_marked_by_kind():
    land = ex.make_landscape("himmelblau")
    kinds = [p.kind for p in land.critical_points]
    assert (kinds.count(MINIMUM), kinds.count(SADDLE), kinds.count(MAXIMUM)) == (4, 4, 1)
    view = ex.compute_view(land, [], {}, 10)
    fig = ex.landscape_figure(view)
    marked = {t.name: np.column_stack([t.x, t.y]) for t in fig.data if t.name in kinds}
    found = marked[MINIMUM][np.lexsort(marked[MINIMUM].T)]
    np.testing.assert_allclose(found, HIMMELBLAU_MINIMA[np.lexsort(HIMMELBLAU_MINIMA.T)],
                               atol=1e-6)
    assert len(marked[SADDLE]) == 4 and len(marked[MAXIMUM]) == 1


def test_mlp_plane_is_the_network_loss_with_exact_derivatives():
    land = ex.make_landscape("mlp", data_name="xor", plane="pca")
    plane = land.objective
    network = plane.objective
    center, directions = plane.center, plane.directions
    assert ex.make_landscape("mlp", data_name="xor", plane="pca") is land  # trained once
    for c in [(0.0, 0.0), (-3.0, 1.5)]:
        assert plane.loss(c) == network.loss(center + np.array(c) @ directions)
        check = check_derivatives(plane, np.array(c), rng=0)
        assert check.grad_error < 1e-7 and check.hvp_error < 1e-5
    coords = np.array([[0.0, 0.0], [-3.0, 1.5], [2.0, -1.0]])
    np.testing.assert_allclose(plane.losses(coords),
                               [network.loss(center + c @ directions) for c in coords],
                               rtol=1e-12)
    # the trained solution sits at the origin of the plane and solves XOR
    X, y = ls.data.xor(200, rng=0)
    assert ls.MLP([2, 8, 1], output="sigmoid", loss="cross_entropy").accuracy(
        center, X, y) >= 0.9
    for point in land.critical_points:  # critical points of the loss on this plane
        assert np.linalg.norm(plane.grad(point.theta)) < 1e-6
        assert np.all(point.theta >= land.bounds[:, 0]) and np.all(point.theta <= land.bounds[:, 1])


def test_bad_input_is_a_message_naming_it():
    for key, text, words in [("gd.lr", "0", "lr must be a positive finite number, got 0"),
                             ("gd.lr", "nan", "lr must be a positive finite number, got nan"),
                             ("adam.lr", "fast", "'fast' is not a number"),
                             ("momentum.beta", "1", "beta must be a finite number in [0.0, 1.0)"),
                             ("valley.condition", "-1", "condition number must be"),
                             ("run.steps", "2.5", "steps must be a whole number")]:
        with pytest.raises(ValueError, match=re.escape(words)):
            ex.parse_field(key, text)
    assert ex.parse_field("run.steps", " 300 ") == 300
    land = ex.make_landscape("six_hump_camel")
    view = ex.compute_view(land, [(0.5, 0.5), (9.0, 0.0)],
                           {"gd": {"lr": 0.0}, "adam": {"lr": 0.05}}, 30)
    assert [r.optimizer for r in view.runs] == ["adam"]  # the rest still runs
    assert view.messages == (
        "gradient descent not run: lr must be a positive finite number, got 0.0",
        "start 2 not run: start (9, 0) lies outside the box [-2, 2] x [-1, 1]")


def test_name_arguments_accept_their_literal_and_refuse_others():
    import ast
    from typing import get_args

    from landscape.explore.compute import Mode, Scale
    from landscape.explore.landscapes import DataName, LandscapeName, PlaneName

    land = ex.make_landscape("lee_saddle")
    calls = {LandscapeName: lambda n: ex.make_landscape(n),
             DataName: lambda n: ex.make_landscape("mlp", data_name=n),
             PlaneName: lambda n: ex.make_landscape("mlp", plane=n),
             Mode: lambda n: ex.compute_view(land, [], {}, 1, mode=n),
             Scale: lambda n: ex.compute_view(land, [], {}, 1, scale=n)}
    for literal, call in calls.items():
        for name in get_args(literal):
            call(name)
        with pytest.raises(ValueError, match="choose one of") as err:
            call("bogus")
        assert ast.literal_eval(str(err.value).split("choose one of ", 1)[1]) == sorted(
            get_args(literal))


def test_colours_go_log_where_the_loss_spans_decades():
    def values(name):
        return ex.compute_view(ex.make_landscape(name), [], {}, 1).surface.values

    rosen, monkey = values("rosenbrock"), values("monkey_saddle")
    assert wants_log(rosen) and not wants_log(monkey)
    z, offset = shown_values(rosen, True)
    low, high = rosen.min(), rosen.max()
    assert z.min() == np.log10(offset) and offset == 1e-4 * (high - low)
    np.testing.assert_allclose(z.max(), np.log10(high - low + offset))


def test_basins_map_matches_each_run_and_can_be_cancelled():
    land = ex.make_landscape("himmelblau")
    gd = ex.make_optimizer("gd", {"lr": 0.01})
    told = []
    basins = ex.basins_map(land, gd, 150, resolution=4,
                           progress=lambda done, total: told.append((done, total)))
    assert told[-1] == (16, 16) and [d for d, _ in told] == sorted(d for d, _ in told)
    axes = np.linspace(-5, 5, 4)
    f = functions.himmelblau()
    for i, x in enumerate(axes):
        for j, y in enumerate(axes):
            end = ls.run(f, [x, y], ls.gd(0.01), 150).final_theta
            nearest = np.linalg.norm(HIMMELBLAU_MINIMA - end, axis=1)
            label = basins.labels[i, j]
            if nearest.min() < 1e-5:  # ended at a published minimum: that basin
                np.testing.assert_allclose(basins.centers[label], HIMMELBLAU_MINIMA[
                    nearest.argmin()], atol=1e-6)
    assert np.all(basins.labels >= 0)
    calls = []
    assert ex.basins_map(land, gd, 150, resolution=4,
                         cancelled=lambda: calls.append(1) or len(calls) > 2) is None
    assert len(calls) == 3  # stopped at the third check
    diverging = ex.basins_map(land, ex.make_optimizer("gd", {"lr": 0.5}), 20, resolution=3)
    assert np.all(diverging.labels == -2)


def test_a_job_reports_progress_and_stops_when_cancelled():
    def work(progress, cancelled):
        for i in range(10_000):
            if cancelled():
                return None
            progress(i + 1, 10_000)
            time.sleep(0.001)
        return "finished"

    job = Job(work)
    while job.done == 0:
        time.sleep(0.01)
    job.cancel()
    assert job.wait(10) and job.result is None and job.cancelled and 0 < job.done < 10_000
    failing = Job(lambda progress, cancelled: 1 / 0)
    assert failing.wait(10) and isinstance(failing.error, ZeroDivisionError)
    assert Job(lambda progress, cancelled: "done").wait(10)


def test_figure_draws_each_run_whole_and_animates_it():
    land = ex.make_landscape("himmelblau")
    view = ex.compute_view(land, [(-0.5, -4.0)], {"gd": {"lr": 0.01}, "adam": {"lr": 0.05}}, 90)
    fig = ex.landscape_figure(view)
    assert fig.data[0].type == "heatmap" and fig.data[0].opacity == 0  # catches every click
    assert np.shape(fig.data[0].z) == (101, 101)
    paths = [t for t in fig.data if getattr(t, "mode", None) == "lines+markers"]
    for path, r in zip(paths, view.runs):
        np.testing.assert_array_equal(np.column_stack([path.x, path.y]), r.trajectory.thetas)
    animation = fig.layout.meta["animation"]  # what the play button steps through
    thetas = view.runs[0].trajectory.thetas
    assert [fig.data[i].mode for i in animation["traces"]] == ["lines+markers", "lines"] * 2
    upto = animation["upto"]
    assert upto[0] == 1 and upto[-1] == len(thetas) == 91 and len(upto) == len(set(upto)) <= 60
    np.testing.assert_allclose(animation["x"][0], thetas[:, 0], rtol=1e-6)
    np.testing.assert_allclose(animation["y"][1], view.runs[0].trajectory.loss, rtol=1e-6)
    assert animation["steps"][-1] == 90 and fig.layout.annotations[0].text == "step 90"
    # a diverging run is drawn until it leaves the box widened by its size on each side
    wild = ex.compute_view(land, [(-0.5, -4.0)], {"gd": {"lr": 0.2}}, 50)
    path = next(t for t in ex.landscape_figure(wild).data
                if getattr(t, "mode", None) == "lines+markers")
    assert wild.runs[0].trajectory.status == DIVERGED
    assert np.all(np.abs(path.x) <= 15) and np.all(np.abs(path.y) <= 15)
    assert len(path.x) < len(wild.runs[0].trajectory.thetas)
    surface = ex.landscape_figure(ex.compute_view(land, [(1.0, 1.0)], {"gd": {}}, 20,
                                                  mode="surface"))
    assert surface.data[0].type == "surface" and surface.layout.scene.domain.x == (0.0, 0.55)


def test_export_html_and_png_with_matplotlib_where_kaleido_is_absent(tmp_path, monkeypatch):
    land = ex.make_landscape("lee_saddle")
    basins = ex.basins_map(land, ex.make_optimizer("gd", {"lr": 0.1}), 60, resolution=5)
    view = ex.compute_view(land, [(-1.5, 1e-3)], {"gd": {"lr": 0.1}}, 60, basins=basins)
    page = ex.export_view(view, tmp_path / "view.html").read_text(encoding="utf-8")
    assert "Plotly.newPlot" in page and '<script src="http' not in page
    monkeypatch.setitem(sys.modules, "kaleido", None)  # import kaleido fails
    png = ex.export_view(view, tmp_path / "view.png").read_bytes()
    assert png.startswith(b"\x89PNG\r\n\x1a\n")
    with pytest.raises(ValueError, match="must end in .html or .png"):
        ex.export_view(view, tmp_path / "view.pdf")


def test_command_prints_its_local_address_and_serves(tmp_path):
    pytest.importorskip("dash")
    import urllib.request

    process = subprocess.Popen([sys.executable, "-m", "landscape", "explore"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        line = process.stdout.readline()
        url = re.fullmatch(r"landscape explore: (http://127\.0\.0\.1:(\d+)/) \(Ctrl\+C to stop\)\n",
                           line)
        assert url, line
        with urllib.request.urlopen(url.group(1), timeout=30) as response:
            assert response.status == 200 and b"landscape explore" in response.read()
        taken = subprocess.run([sys.executable, "-m", "landscape", "explore", "--port",
                                url.group(2)], capture_output=True, text=True, timeout=120)
        assert taken.returncode == 2 and "--port" in taken.stderr
    finally:
        process.terminate()
        process.wait(30)


# ---------------------------------------------------------------------------------
# The page in headless Chromium
# ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def url():
    pytest.importorskip("dash")
    from landscape.explore.app import make_server

    server = make_server(0)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://localhost:{server.port}/"  # the resolver rule spares localhost
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="module")
def chrome(tmp_path_factory):
    from conftest import start_chromium

    driver = start_chromium(tmp_path_factory.mktemp("explore") / "profile")
    driver.set_window_size(1400, 950)
    yield driver
    driver.quit()


@pytest.fixture(scope="module")
def shots(tmp_path_factory):
    """Where the screenshots go."""
    folder = os.environ.get("LANDSCAPE_EXPLORE_SCREENSHOTS")
    path = Path(folder) if folder else tmp_path_factory.mktemp("screenshots")
    path.mkdir(parents=True, exist_ok=True)
    return path


def _wait(driver, condition, timeout=60):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.1).until(condition)


def _rows(driver) -> list[dict]:
    """The table of runs: each row's cells by class."""
    return driver.execute_script(
        "return [...document.querySelectorAll('#ends tr.run')].map(r => Object.fromEntries("
        "[...r.children].map(c => [c.className, c.innerText])));")


def _paths(driver) -> list[list]:
    """The runs' paths drawn on the landscape, as [[x...], [y...]] (plotly's decoded data)."""
    return driver.execute_script(
        "return document.querySelector('#graph .js-plotly-plot')._fullData"
        ".filter(t => t.mode === 'lines+markers').map(t => [Array.from(t.x), Array.from(t.y)]);")


def _open(driver, url):
    from conftest import page_errors

    driver.get(url)
    _wait(driver, lambda d: len(_rows(d)) == 1 and d.find_elements(
        "css selector", '#graph .nsewdrag[data-subplot="xy"]'))
    assert page_errors(driver) == []


def _point(text: str) -> np.ndarray:
    return np.array([float(v) for v in text.strip("()").split(",")])


def _show(v: np.ndarray) -> str:
    return f"({v[0]:.6g}, {v[1]:.6g})"


def _type(driver, selector: str, text: str) -> None:
    """Replace the text of the input ``selector`` and press Enter."""
    from selenium.webdriver.common.keys import Keys

    box = driver.find_element("css selector", selector)
    box.send_keys(Keys.CONTROL, "a")
    box.send_keys(text, Keys.ENTER)


def _element(driver, field: str, kind: str):
    """The element of a field (Dash writes a dict id as JSON with sorted keys)."""
    return driver.execute_script("return document.getElementById(arguments[0]);",
                                 f'{{"field":"{field}","type":"{kind}"}}')


def test_page_click_runs_as_run_does_and_settings_change_the_run(chrome, url, shots):
    from conftest import page_errors
    from selenium.webdriver.common.action_chains import ActionChains

    _open(chrome, url)
    # play: the run grows step by step over the contours; pause: it stays where it is
    whole = len(_paths(chrome)[0][0])
    buttons = {e.text.split()[-1]: e for e in chrome.find_elements(
        "css selector", "#graph .updatemenu-button")}
    buttons["play"].click()
    _wait(chrome, lambda d: 1 < len(_paths(d)[0][0]) < whole)
    assert chrome.execute_script("return document.querySelectorAll('#graph .contour').length")
    buttons["pause"].click()
    paused = len(_paths(chrome)[0][0])
    time.sleep(0.5)
    assert len(_paths(chrome)[0][0]) == paused < whole
    landscape = chrome.find_element("css selector", '#graph .nsewdrag[data-subplot="xy"]')
    ActionChains(chrome).move_to_element_with_offset(landscape, 80, -60).perform()
    _wait(chrome, lambda d: "Hessian eigenvalues" in d.find_element("id", "readout").text)
    ActionChains(chrome).click().perform()
    _wait(chrome, lambda d: len(_rows(d)) == 2)
    row = _rows(chrome)[1]
    start = _point(row["start"])
    end = ls.run(functions.himmelblau(), start, ls.gd(0.01), 200).final_theta
    assert row["run"].endswith("gradient descent, start 2") and row["end"] == _show(end)
    paths = _paths(chrome)
    assert len(paths) == 2 and _show(np.array(paths[1])[:, -1]) == _show(end)
    # another optimizer: heavy ball from both starts, its own paths
    chrome.find_element("css selector", '#optimizers input[value="momentum"]').click()
    _wait(chrome, lambda d: len(_rows(d)) == 4)
    gd_paths, heavy = _paths(chrome)[0::2], _paths(chrome)[1::2]
    assert all(np.shape(a) != np.shape(b) or not np.allclose(a, b)
               for a, b in zip(gd_paths, heavy))
    # the learning-rate slider of gradient descent, clicked at 45% of its track
    track = _element(chrome, "gd.lr", "slider").find_element("css selector",
                                                             ".dash-slider-root")
    width = track.size["width"]
    ActionChains(chrome).move_to_element_with_offset(track, -int(0.05 * width), 0).click().perform()
    _wait(chrome, lambda d: d.find_element("css selector", 'input[name="gd.lr"]')
          .get_attribute("value") != "0.01")
    lr = float(chrome.find_element("css selector", 'input[name="gd.lr"]').get_attribute("value"))
    assert 0.002 < lr < 0.01  # 45% of the way from 1e-4 to 1 in powers of ten: about 0.006
    _wait(chrome, lambda d: _paths(d)[0] != gd_paths[0])
    slower = ls.run(functions.himmelblau(), [-0.5, -4.0], ls.gd(lr), 200)
    np.testing.assert_allclose(np.transpose(_paths(chrome)[0]), slower.thetas, rtol=1e-12)
    assert _rows(chrome)[0]["end"] == _show(slower.final_theta)
    chrome.save_screenshot(str(shots / "explore_runs.png"))
    assert page_errors(chrome) == []


def test_page_bad_input_messages_and_basins_map(chrome, url, shots):
    from conftest import page_errors, pixel_std

    _open(chrome, url)
    lr = 'input[name="gd.lr"]'
    _type(chrome, lr, "0")
    message = _element(chrome, "gd.lr", "msg")
    _wait(chrome, lambda d: "lr must be a positive finite number, got 0" in message.text)
    _wait(chrome, lambda d: "gradient descent not run" in d.find_element("id", "run-msg").text)
    assert _rows(chrome) == []  # the page keeps working, with nothing to run
    _type(chrome, lr, "nan")
    _wait(chrome, lambda d: "got nan" in message.text)
    _type(chrome, "#start-text", "20, 20")
    chrome.find_element("id", "start-add").click()
    _wait(chrome, lambda d: "outside the box" in d.find_element("id", "start-msg").text)
    _type(chrome, lr, "0.01")
    _wait(chrome, lambda d: message.text == "" and len(_rows(d)) == 1)
    # the basins map of gradient descent (15 x 15 starts)
    chrome.find_element("id", "basins-go").click()
    _wait(chrome, lambda d: d.execute_script(
        "return document.querySelector('#graph .js-plotly-plot').data"
        ".some(t => t.name === 'basins');"), timeout=120)
    assert "basins map of 225 runs" in chrome.find_element("id", "basins-msg").text
    chrome.save_screenshot(str(shots / "explore_basins.png"))
    chrome.find_element("css selector", '#mode input[value="surface"]').click()
    _wait(chrome, lambda d: d.execute_script(
        "const gd = document.querySelector('#graph .js-plotly-plot');"
        "return gd.data[0].type === 'surface' && gd.querySelector('canvas') !== null;"))
    _wait(chrome, lambda d: pixel_std(d) > 20)
    time.sleep(1)  # the WebGL scene's first paint
    chrome.save_screenshot(str(shots / "explore_surface.png"))
    assert page_errors(chrome) == []


def _choose(driver, dropdown: str, label: str) -> None:
    """Pick the option starting with ``label`` of a Dash dropdown."""
    driver.find_element("id", dropdown).click()
    _wait(driver, lambda d: [o for o in d.find_elements("css selector", '[role="option"]')
                             if o.text.startswith(label)])[0].click()


def test_page_mlp_plane_and_a_cancelled_basins_map(chrome, url, shots):
    from conftest import page_errors

    _open(chrome, url)
    _choose(chrome, "landscape", "MLP")
    _wait(chrome, lambda d: d.execute_script(
        "return document.querySelector('#graph .js-plotly-plot').layout.xaxis.title.text")
        == "PC1")
    _wait(chrome, lambda d: _rows(d) and _rows(d)[0]["run"].endswith("start 1"))
    assert "trained solution" in chrome.find_element("id", "landscape-note").text
    chrome.find_element("css selector", '#optimizers input[value="adam"]').click()
    _wait(chrome, lambda d: len(_rows(d)) == 2)
    chrome.save_screenshot(str(shots / "explore_mlp.png"))
    # the long work: 41 x 41 runs on the network's plane, with progress, then cancelled
    _choose(chrome, "basins-resolution", "41")
    chrome.find_element("id", "basins-go").click()
    message = chrome.find_element("id", "basins-msg")
    _wait(chrome, lambda d: re.fullmatch(r"([1-9]\d*) of 1681 runs done", message.text))
    chrome.find_element("id", "basins-cancel").click()
    _wait(chrome, lambda d: message.text == "basins map cancelled")
    assert page_errors(chrome) == []
