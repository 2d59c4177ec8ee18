"""Pictures of persistence: what was drawn is checked against the tree and the bars it came
from (segment ends, point positions, colours above and below the threshold, where bars that
never die go), the merge tree's lines never cross, and each figure renders with Agg."""

import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import to_rgba  # noqa: E402

from landscape import merge_tree, plane  # noqa: E402
from landscape.functions import himmelblau  # noqa: E402
from landscape.plot import (  # noqa: E402
    plot_barcode,
    plot_contour,
    plot_merge_tree,
    plot_merge_tree_on_plane,
    plot_persistence_diagram,
)
from landscape.plot.topology import NOISE, PERSISTENT  # noqa: E402

#: minima 0 (x=3), 1 (x=1), 2 (x=5), 0.5 (x=7): the 2 dies at 2.5 into the 0.5, the 1 at 4
#: into the 0, the 0.5 at 6 into the 0
VALUES = [5.0, 1.0, 4.0, 0.0, 6.0, 2.0, 2.5, 0.5, 9.0]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _renders(fig):
    fig.savefig(io.BytesIO(), format="png")


def test_the_barcode_draws_each_bar_from_birth_to_death_the_deepest_on_top():
    tree = merge_tree(VALUES)
    fig, ax = plt.subplots()
    lines = plot_barcode(tree, ax=ax, threshold=2.5)
    segments = lines.get_segments()
    top = 6.0 * 1.08  # bars that never die reach just above the highest finite value, 6
    ends = [(s[0][0], s[1][0]) for s in segments]
    assert ends == [(2.0, 2.5), (1.0, 4.0), (0.5, 6.0), (0.0, pytest.approx(top))]
    np.testing.assert_array_equal([s[0][1] for s in segments], [0, 1, 2, 3])
    colors = [tuple(c) for c in lines.get_colors()]
    assert colors == [to_rgba(NOISE), to_rgba(PERSISTENT), to_rgba(PERSISTENT),
                      to_rgba(PERSISTENT)]  # persistence 0.5 <= 2.5 < 3 < 5.5 < inf
    _renders(fig)


def test_the_diagram_puts_each_bar_at_birth_death_and_the_immortal_at_the_top():
    bars = np.array([[0.0, np.inf], [1.0, 4.0], [2.0, 6.0], [0.5, 2.5]])
    fig, ax = plt.subplots()
    points = plot_persistence_diagram(bars, ax=ax, threshold=3.0)
    # the immortal bar at the top: above the highest death by 1.5 thresholds (> 8% of 6)
    np.testing.assert_allclose(points.get_offsets(), [[0, 6 + 1.5 * 3], [1, 4], [2, 6],
                                                      [0.5, 2.5]])
    face = [tuple(c) for c in points.get_facecolors()]
    assert face == [to_rgba(c) for c in (PERSISTENT, NOISE, PERSISTENT, NOISE)]
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels == ["death = birth", "persistence = 3", "+inf (never dies)"]
    _renders(fig)


def test_the_merge_tree_branches_stand_on_the_minima_and_join_without_crossing():
    tree = merge_tree(VALUES)
    fig, ax = plt.subplots()
    drawn = plot_merge_tree(tree, ax=ax)
    x = drawn.minima.get_offsets()[:, 0]
    np.testing.assert_array_equal(drawn.minima.get_offsets()[:, 1], tree.birth)
    segments = drawn.lines.get_segments()
    k = len(tree.birth)
    for i, s in enumerate(segments[:k]):  # one vertical branch per minimum, birth to death
        assert s[0][0] == s[1][0] == x[i] and s[0][1] == tree.birth[i]
    joined = np.flatnonzero(tree.joins >= 0)
    for i, s in zip(joined, segments[k:]):  # and a level line at its death to its elder
        assert s[0][1] == s[1][1] == tree.death[i]
        assert {s[0][0], s[1][0]} == {x[i], x[tree.joins[i]]}
    np.testing.assert_array_equal(drawn.saddles.get_offsets(),
                                  np.stack([x[joined], tree.death[joined]], 1))
    # no level line crosses a branch: a branch at x strictly between its ends stops below
    for i, s in zip(joined, segments[k:]):
        lo, hi = sorted((s[0][0], s[1][0]))
        between = (x > lo) & (x < hi)
        assert np.all(np.where(np.isfinite(tree.death[between]), tree.death[between], 1e9)
                      < tree.death[i])
    _renders(fig)


def test_a_noisy_trees_lines_do_not_cross_either():
    values = np.random.default_rng(0).standard_normal(200).cumsum()
    tree = merge_tree(values)
    fig, ax = plt.subplots()
    drawn = plot_merge_tree(tree, ax=ax, threshold=1.0)
    x = drawn.minima.get_offsets()[:, 0]
    assert sorted(x) == list(range(len(x)))
    for i in np.flatnonzero(tree.joins >= 0):
        lo, hi = sorted((x[i], x[tree.joins[i]]))
        between = (x > lo) & (x < hi)
        assert np.all(tree.death[between] < tree.death[i])


def test_the_merge_tree_on_a_plane_marks_minima_and_saddles_with_their_losses():
    f = himmelblau()
    surface = plane(f, np.zeros(2), [1.0, 0.0], [0.0, 1.0], span=5.0, resolution=101)
    tree = merge_tree(surface)
    fig, ax = plt.subplots()
    plot_contour(surface, ax=ax, levels=20)
    drawn = plot_merge_tree_on_plane(tree, ax=ax, threshold=1.0)
    keep = tree.persistence > 1.0
    joined = keep & (tree.joins >= 0)
    np.testing.assert_array_equal(drawn.minima.get_offsets(), tree.minima[keep])
    np.testing.assert_array_equal(drawn.saddles.get_offsets(), tree.saddles[joined])
    assert len(drawn.minima.get_offsets()) == 4 and len(drawn.saddles.get_offsets()) == 3
    assert [t.get_text() for t in drawn.labels] == [f"{d:.3g}" for d in tree.death[joined]]
    assert [tuple(t.xy) for t in drawn.labels] == [tuple(p) for p in tree.saddles[joined]]
    assert drawn.lines is None
    assert plot_merge_tree_on_plane(tree, ax=ax, labels=False).labels == []
    _renders(fig)


def test_bad_input_is_named():
    tree = merge_tree(VALUES)
    with pytest.raises(ValueError, match="threshold"):
        plot_barcode(tree, threshold=-1.0)
    with pytest.raises(ValueError, match="threshold"):
        plot_merge_tree_on_plane(merge_tree(np.zeros((3, 3))), threshold=-1.0)
    with pytest.raises(ValueError, match=r"bars must be a MergeTree or an array of shape"):
        plot_persistence_diagram(np.zeros((3, 3)))
    with pytest.raises(ValueError, match="bars must be"):
        plot_barcode([[np.nan, 1.0]])
    with pytest.raises(ValueError, match="2-D surface"):
        plot_merge_tree_on_plane(tree)
