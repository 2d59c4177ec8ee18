"""The gallery page: every study's figures, conclusion and numbers, opened in Chromium."""

from conftest import page_errors

from landscape.cli import main

STUDY = '''
import matplotlib.pyplot as plt
import numpy as np
import plotly.graph_objects as go
from landscape.io import save_figure

TITLE = "{title}"

def run(out, quick, seed):
    x = np.linspace(0, 1, 20) ** {power}
    fig, ax = plt.subplots()
    ax.plot(x)
    save_figure(fig, out / "curve.png")
    plt.close(fig)
    save_figure(go.Figure(go.Scatter(y=x)), out / "curve.html")
    return {{"conclusion": f"the second value is {{x[1]:.4f}}", "numbers": {{"power": {power}}}}}
'''


def test_gallery_shows_every_study_in_a_browser(tmp_path, browser):
    folder, out = tmp_path / "studies", tmp_path / "figures"
    folder.mkdir()
    for name, power in [("linear", 1), ("square", 2)]:
        (folder / f"{name}.py").write_text(STUDY.format(title=f"{name} study", power=power))
    assert main(["--studies", str(folder), "run", "all", "--out", str(out)]) == 0
    browser.get((out / "index.html").as_uri())
    sections = browser.execute_script(
        "return [...document.querySelectorAll('section')].map(s => [s.id,"
        " s.querySelector('.conclusion').textContent]);")
    loaded = browser.execute_script(
        "return [...document.images].map(i => i.complete && i.naturalWidth > 0);")
    links = browser.execute_script(
        "return [...document.querySelectorAll('section a')].map(a => a.getAttribute('href'));")
    assert page_errors(browser) == []
    assert sections == [["linear", f"the second value is {1 / 19:.4f}"],
                        ["square", f"the second value is {1 / 19 ** 2:.4f}"]]
    assert loaded == [True, True]
    assert links == ["linear/curve.html", "square/curve.html"]
