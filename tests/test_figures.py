"""Figure lint over every study's quick-run PNGs, and the lint itself on figures with one
known defect each (so a clean study figure means the checks ran, not that they are blind)."""

import matplotlib.pyplot as plt
import numpy as np
import pytest
from conftest import study
from figure_lint import GALLERY_WIDTH, lint

from landscape.cli import find_studies


@pytest.mark.parametrize("name", sorted(find_studies()))
def test_study_figures_pass_the_lint(name, quick_run):
    run = quick_run(study(name))
    assert run.lint, f"{name} saved no PNG through save_png"
    defects = [f"{png}: {d}" for png, found in sorted(run.lint.items()) for d in found]
    assert not defects, "\n".join(defects)


def _drawn(fig, width_px=600, dpi=100):
    fig.canvas.draw()
    found = lint(fig, width_px, dpi)
    plt.close(fig)
    return found


def _clean_axes():
    fig, ax = plt.subplots(figsize=(6, 4))
    ax.set(xlabel="step", ylabel="loss")
    return fig, ax


def test_a_clean_figure_passes():
    fig, ax = _clean_axes()
    x = np.linspace(0, 1, 50)
    ax.plot(x, x**2, label="loss")
    ax.axhline(0.5, ls=":", label="threshold")
    ax.legend(loc="upper left")
    assert _drawn(fig) == []


def test_a_legend_over_a_point_or_a_line_is_a_defect():
    fig, ax = _clean_axes()
    ax.plot([0.0, 1.0], [1.0, 1.0], "o", label="points at the top")
    ax.plot([0.02, 0.98], [0.0, 0.0], label="crossing line")  # endpoints outside the legend
    ax.plot([0.5], [0.03], "s", label="a point")
    ax.set_ylim(-0.05, 1.1)
    ax.legend(loc="lower center")
    assert _drawn(fig) == ["legend of axes 1 ('loss') covers line 'crossing line' of axes 1 "
                           "('loss')", "legend of axes 1 ('loss') covers line 'a point' of "
                           "axes 1 ('loss')"]
    fig, ax = _clean_axes()
    ax.bar([0, 1, 2], [1, 5, 1], label="bars")  # the legend sits inside the middle bar
    ax.legend(loc="center")
    assert _drawn(fig) == ["legend of axes 1 ('loss') covers bar 'bars' of axes 1 ('loss')"]


def test_a_legend_covering_a_twin_axes_line_is_a_defect():
    fig, ax = _clean_axes()
    twin = ax.twinx()
    twin.set_ylabel("accuracy")
    twin.plot([0, 1], [0.5, 0.5], label="_hidden", lw=3)
    ax.plot([0, 1], [0, 1], label="loss")
    ax.legend(loc="center left")
    found = _drawn(fig)
    assert any("legend" in d and "accuracy" in d for d in found)


def test_every_axis_with_tick_labels_needs_a_label():
    fig, (top, bottom) = plt.subplots(2, 1, sharex=True)
    top.plot([1, 2])
    bottom.plot([1, 2])
    top.set_ylabel("loss")
    bottom.set_xlabel("step")  # top's x tick labels are hidden by sharex: no label needed
    image = bottom.imshow(np.eye(2))
    fig.colorbar(image, ax=bottom)
    assert _drawn(fig) == ["y axis of axes 2 has no label",
                           "y axis of axes 3 ('<colorbar>') has no label"]


def test_a_reference_line_needs_a_legend_entry_or_a_text_beside_it():
    fig, ax = _clean_axes()
    ax.plot([0, 1], [0, 1])
    ax.axhline(0.3, ls="--")
    ax.axvline(0.7, ls="--")
    ax.plot([0, 1], [0.9, 0.9], ":")
    found = _drawn(fig)
    assert [d.split(" of ")[0] for d in found] == [
        "reference line at y = 0.3", "reference line at x = 0.7", "reference line at y = 0.9"]
    fig, ax = _clean_axes()
    ax.plot([0, 1], [0, 1])
    ax.axhline(0.3, ls="--")
    ax.text(0.05, 0.31, "1% threshold", va="bottom")
    ax.axvline(0.7, ls="--", label="edge")
    ax.legend(loc="upper left")
    assert _drawn(fig) == []


def test_text_shown_below_seven_points_is_a_defect():
    fig, ax = _clean_axes()
    ax.plot([0, 1], [0, 1])
    ax.set_title("a title", fontsize=10)
    # 10 pt at 96 dpi shown at full size: 10 CSS points; shrunk to a quarter: 2.5
    assert _drawn(fig, width_px=GALLERY_WIDTH, dpi=96) == []
    fig, ax = _clean_axes()
    ax.plot([0, 1], [0, 1])
    found = _drawn(fig, width_px=4 * GALLERY_WIDTH, dpi=96)
    assert found and all("shows at" in d for d in found)


def test_texts_that_overlap_each_other_or_a_legend_are_a_defect():
    fig, ax = _clean_axes()
    ax.plot([0, 1], [0, 1], label="loss")
    ax.legend(loc="upper left")
    ax.text(0.02, 0.97, "a note", transform=ax.transAxes, va="top")  # under the legend
    ax.set_title("a title")
    assert _drawn(fig) == ["text 'a note' overlaps a legend of axes 1 ('a title')"]
