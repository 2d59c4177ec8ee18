"""Persistence and merge trees against independent answers: a hand-computed 1-D case,
Himmelblau's and the six-hump camel's analytic critical points to the grid's spacing (which
minima a saddle joins found by gradient flow from the saddle), gudhi's cubical persistence,
gradient descent's basins from many starts, and the documented treatment of NaN."""

import numpy as np
import pytest

from landscape import Surface, from_function, gd, grid_starts, line, plane, run, run_many
from landscape.functions import himmelblau, six_hump_camel
from landscape.topology import MergeTree, basins, merge_tree, persistence_diagram
from landscape.vocabulary import MINIMUM, SADDLE

KNOTS = np.array([5.0, 1.0, 4.0, 0.0, 6.0, 2.0, 7.0])  # a zig-zag through x = 0 .. 6


def zigzag(step=0.25):
    """The piecewise-linear function through ``KNOTS`` on a line whose grid holds the knots:
    minima 1, 0, 2 at x = 1, 3, 5; the 1 spills over x = 2 at 4, the 2 over x = 4 at 6."""
    f = from_function(lambda t: float(np.interp(t[0], np.arange(7.0), KNOTS)), 1)
    return line(f, np.zeros(1), [1.0], span=(0.0, 6.0), resolution=int(6 / step) + 1)


def test_a_hand_computed_line_with_three_minima():
    tree = merge_tree(zigzag())
    np.testing.assert_array_equal(tree.birth, [0.0, 1.0, 2.0])
    np.testing.assert_array_equal(tree.death, [np.inf, 4.0, 6.0])
    np.testing.assert_array_equal(tree.persistence, [np.inf, 3.0, 4.0])
    np.testing.assert_array_equal(tree.minima, [[3.0], [1.0], [5.0]])
    np.testing.assert_array_equal(tree.saddles, [[np.nan], [2.0], [4.0]])
    np.testing.assert_array_equal(tree.index, [[12], [4], [20]])
    np.testing.assert_array_equal(tree.saddle_index, [[-1], [8], [16]])
    np.testing.assert_array_equal(tree.joins, [-1, 0, 0])
    assert not np.any(tree.on_edge) and tree.shape == (25,)
    assert [tree.count(t) for t in (0.0, 2.9, 3.0, 3.5, 4.0, 1e9)] == [3, 3, 2, 2, 1, 1]
    np.testing.assert_array_equal(tree.survivors(0.0), [0, 1, 2])
    np.testing.assert_array_equal(tree.survivors(3.5), [0, 0, 2])
    np.testing.assert_array_equal(tree.survivors(5.0), [0, 0, 0])


def test_a_chain_of_joins_is_followed_when_simplifying():
    # 0 at x=1; 3 at x=3 joins it over 9; 1 at x=5 is elder to the 3: the 3 joins it over 4
    tree = merge_tree([10.0, 0.0, 9.0, 3.0, 4.0, 1.0, 10.0])
    np.testing.assert_array_equal(tree.birth, [0.0, 1.0, 3.0])
    np.testing.assert_array_equal(tree.death, [np.inf, 9.0, 4.0])
    np.testing.assert_array_equal(tree.joins, [-1, 0, 1])
    np.testing.assert_array_equal(tree.survivors(1.0), [0, 1, 1])
    np.testing.assert_array_equal(tree.survivors(8.5), [0, 0, 0])  # through row 1


def test_a_raw_array_has_its_grid_indices_as_coordinates():
    values = 10.0 + np.arange(20.0).reshape(4, 5)  # rising along both axes from (0, 0)
    values[1, 3], values[3, 0] = -1.0, 2.0
    tree = merge_tree(values)
    np.testing.assert_array_equal(tree.minima, [[1.0, 3.0], [3.0, 0.0], [0.0, 0.0]])
    np.testing.assert_array_equal(tree.birth, [-1.0, 2.0, 10.0])
    # (0, 0) spills over (0, 3) = 13 into the -1; (3, 0) over (2, 0) = 20
    np.testing.assert_array_equal(tree.death, [np.inf, 20.0, 13.0])
    np.testing.assert_array_equal(tree.saddle_index, [[-1, -1], [2, 0], [0, 3]])
    np.testing.assert_array_equal(tree.joins, [-1, 0, 0])
    np.testing.assert_array_equal(tree.on_edge, [False, True, True])
    assert tree.shape == (4, 5)
    assert tree.minima.dtype == np.float64 and tree.index.dtype == np.int64


def test_a_flat_stretch_holds_one_minimum_and_ties_add_only_zero_persistence():
    tree = merge_tree([2.0, 0.0, 0.0, 0.0, 2.0])
    np.testing.assert_array_equal(tree.index, [[1]])
    values = np.full((4, 5), 9.0)
    values[1, 3] = -1.0
    tree = merge_tree(values)  # the plateau's first point in grid order is a minimum of depth 0
    np.testing.assert_array_equal(tree.index, [[1, 3], [0, 0]])
    np.testing.assert_array_equal(tree.persistence, [np.inf, 0.0])
    assert tree.count() == 1


# ---------------------------------------------------------------------------------
# Analytic critical points, to the grid's spacing
# ---------------------------------------------------------------------------------


def _axis_plane(f, spans, resolution):
    return plane(f, np.zeros(2), [1.0, 0.0], [0.0, 1.0], span=spans, resolution=resolution)


def _stencil_range(f, surface, point):
    """The loss's least and largest values at the grid points within one step (per axis)
    of ``point``: a grid can place a feature at ``point`` no closer than these."""
    steps = [a[1] - a[0] for a in surface.axes]
    near = [a[np.abs(a - p) <= h * (1 + 1e-9)] for a, p, h in zip(surface.axes, point, steps)]
    values = [f.loss([x, y]) for x in near[0] for y in near[1]]
    return min(values), max(values)


def _within_a_step(surface, coords, point):
    steps = np.array([a[1] - a[0] for a in surface.axes])
    return bool(np.all(np.abs(np.asarray(coords) - point) <= steps * (1 + 1e-9)))


def _flow_ends(f, saddle, minima):
    """The two minima that gradient flow reaches from a saddle, leaving it along its
    unstable eigenvector: the minima the saddle connects (an answer found without grids)."""
    w, v = np.linalg.eigh(f.hessian(saddle.theta))
    ends = []
    for sign in (1, -1):
        tr = run(f, saddle.theta + sign * 1e-4 * v[:, 0], gd(5e-3), 20_000, grad_tol=1e-8)
        ends.append(int(np.argmin([np.linalg.norm(tr.final_theta - m.theta) for m in minima])))
    return ends


def _component(tree, row, level):
    """The row whose basin holds minimum ``row`` just below ``level`` (joins followed)."""
    while tree.death[row] < level:
        row = tree.joins[row]
    return row


def _check_against_critical_points(f, surface, threshold):
    tree = merge_tree(surface)
    points = f.critical_points
    minima = [p for p in points if p.kind == MINIMUM]
    saddles = sorted((p for p in points if p.kind == SADDLE), key=lambda p: p.loss)
    keep = tree.persistence > threshold
    assert keep.sum() == len(minima) == tree.count(threshold)
    # each persistent minimum is a grid point next to one analytic minimum
    which = [int(np.argmin([np.linalg.norm(m - p.theta) for p in minima])) for m in
             tree.minima[keep]]
    assert sorted(which) == list(range(len(minima)))
    for row, j in zip(np.flatnonzero(keep), which):
        assert _within_a_step(surface, tree.minima[row], minima[j].theta)
        low, high = _stencil_range(f, surface, minima[j].theta)
        assert minima[j].loss <= tree.birth[row] <= high
    # each finite bar dies at a saddle that joins its minimum to an older basin
    used = set()
    for row in np.flatnonzero(keep & np.isfinite(tree.death)):
        candidates = [s for s in saddles if id(s) not in used
                      and _within_a_step(surface, tree.saddles[row], s.theta)]
        assert len(candidates) == 1, (tree.saddles[row], tree.death[row])
        s = candidates[0]
        used.add(id(s))
        low, high = _stencil_range(f, surface, s.theta)
        assert low <= tree.death[row] <= high
        assert abs(tree.death[row] - s.loss) <= high - low
        a, b = (keep.nonzero()[0][which.index(j)] for j in _flow_ends(f, s, minima))
        assert row in (a, b)
        other = b if row == a else a
        assert _component(tree, other, tree.death[row]) == tree.joins[row]
    return tree, saddles, used


def test_himmelblau_four_minima_die_at_the_saddles_that_join_them():
    f = himmelblau()
    surface = _axis_plane(f, 5.0, 201)
    tree, saddles, used = _check_against_critical_points(f, surface, threshold=1.0)
    # three of the four saddles join basins; the highest (178.34) closes a loop around the
    # maximum instead: a bar of dimension 1, not 0
    assert [s.loss for s in saddles if id(s) in used] == pytest.approx(
        [13.3119, 67.7192, 104.0152], abs=1e-3)
    loop = persistence_diagram(surface, dimension=1)
    assert loop.shape == (1, 2)
    low, high = _stencil_range(f, surface, saddles[-1].theta)
    assert low <= loop[0, 0] <= high
    maximum = next(p for p in f.critical_points if p.kind == "maximum")
    low, high = _stencil_range(f, surface, maximum.theta)
    assert low <= loop[0, 1] <= high


def test_six_hump_camel_six_minima_and_their_joining_saddles():
    f = six_hump_camel()
    surface = _axis_plane(f, ((-3.0, 3.0), (-2.0, 2.0)), (301, 201))
    tree, saddles, used = _check_against_critical_points(f, surface, threshold=0.05)
    # the two highest minima spill over the lower of their two nearby saddles (2.22936,
    # not 2.22947): 1e-4 apart, told apart on a grid of step 0.02
    assert sorted(round(s.loss, 4) for s in saddles if id(s) in used) == [
        0.0, 0.5437, 0.5437, 2.2294, 2.2294]
    assert all(abs(s.theta[1]) < 0.3 for s in saddles if id(s) in used and s.loss > 2)


# ---------------------------------------------------------------------------------
# gudhi's persistence and the union-find's merge tree agree
# ---------------------------------------------------------------------------------


def _bars(tree):
    keep = tree.persistence > 0
    bars = np.stack([tree.birth[keep], tree.death[keep]], axis=1)
    return bars[np.lexsort((bars[:, 1], bars[:, 0]))]


def _noisy(shape, seed, nan_fraction=0.0):
    rng = np.random.default_rng(seed)
    values = rng.standard_normal(shape)
    values[rng.random(shape) < nan_fraction] = np.nan
    return values


@pytest.mark.parametrize("values", [
    _noisy((500,), 0), _noisy((60, 45), 1), _noisy((13, 11, 9), 2), _noisy((5, 4, 6, 5), 3),
    _noisy((40, 40), 4, nan_fraction=0.3), _noisy((12, 12, 12), 5, nan_fraction=0.2),
    np.round(_noisy((50, 30), 6), 1),  # many ties
], ids=["1d", "2d", "3d", "4d", "2d-nan", "3d-nan", "2d-ties"])
def test_the_merge_tree_has_gudhis_bars(values):
    pytest.importorskip("gudhi")
    tree = merge_tree(values)
    np.testing.assert_array_equal(_bars(tree), persistence_diagram(values))
    assert len(tree.birth) > 10


def test_gudhis_bars_on_the_analytic_functions():
    pytest.importorskip("gudhi")
    for f, spans, res in ((himmelblau(), 5.0, 101), (six_hump_camel(), ((-3, 3), (-2, 2)), 81)):
        surface = _axis_plane(f, spans, res)
        np.testing.assert_array_equal(_bars(merge_tree(surface)), persistence_diagram(surface))


def test_persistence_diagram_without_gudhi_says_what_to_install(monkeypatch):
    import builtins

    real = builtins.__import__

    def no_gudhi(name, *args, **kwargs):
        if name == "gudhi":
            raise ImportError("No module named 'gudhi'")
        return real(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", no_gudhi)
    with pytest.raises(ImportError, match=r"landscape-nn\[topology\]"):
        persistence_diagram(np.arange(3.0))
    assert merge_tree(np.arange(3.0)).count() == 1  # the merge tree needs no gudhi


# ---------------------------------------------------------------------------------
# Basins: steepest descent on the grid against gradient descent from many starts
# ---------------------------------------------------------------------------------


def test_merge_tree_basins_are_gradient_descents_basins():
    f = himmelblau()
    surface = _axis_plane(f, 5.0, 141)
    found = basins(surface, threshold=1.0)
    minima = [p for p in f.critical_points if p.kind == MINIMUM]
    starts = grid_starts([[-5, 5], [-5, 5]], 15)  # every 10th point of the plane's grid
    runs = run_many(f, starts, gd(0.005), 2000, grad_tol=1e-6)
    reached = runs.basins(minima, tol=1e-2)
    assert np.all(reached.labels >= 0)
    # the same minima: each center a grid point next to one analytic minimum
    match = [int(np.argmin([np.linalg.norm(c - m.theta) for m in minima]))
             for c in found.centers]
    assert sorted(match) == [0, 1, 2, 3]
    assert all(_within_a_step(surface, c, minima[j].theta)
               for c, j in zip(found.centers, match))
    assert found.kinds == (MINIMUM,) * 4 and found.counts.sum() == 141 * 141
    # the start of every run lies in the grid's basin of the minimum it reached, but for a
    # few starts on the basins' borders; the shares agree to the coarse grid's sampling
    on_grid = found.labels.reshape(141, 141)[::10, ::10].ravel()
    assert np.mean(np.array(match)[on_grid] == reached.labels) > 0.95
    shares = found.counts / found.counts.sum()
    np.testing.assert_allclose(shares, reached.counts[match] / len(runs), atol=0.03)
    np.testing.assert_allclose(shares, 0.25, atol=0.02)  # the function's near-symmetry


def test_basins_merge_shallow_ones_and_count_points():
    surface = zigzag(step=0.5)  # x = 0, 0.5, ..., 6: values 5 3 1 2.5 4 2 0 3 6 4 2 4.5 7
    b = basins(surface)  # x = 2 and 4 descend to their lower neighbours, both towards 3
    np.testing.assert_array_equal(b.labels, [1, 1, 1, 1, 0, 0, 0, 0, 0, 2, 2, 2, 2])
    np.testing.assert_array_equal(b.centers, [[3.0], [1.0], [5.0]])
    np.testing.assert_array_equal(b.counts, [5, 4, 4])
    merged = basins(surface, threshold=3.5)  # the basin of depth 3 joins the deepest
    np.testing.assert_array_equal(merged.labels, [0] * 9 + [1] * 4)
    np.testing.assert_array_equal(merged.centers, [[3.0], [5.0]])


def test_basins_of_a_grid_in_three_directions():
    x = np.linspace(-2, 2, 17)
    X, Y, Z = np.meshgrid(x, x, x, indexing="ij")
    values = (X**2 - 1) ** 2 + Y**2 + 2 * Z**2  # minima at x = +-1, a saddle at 0
    tree = merge_tree(values)
    assert tree.count(0.5) == 2
    np.testing.assert_array_equal(tree.minima[:2], [[4.0, 8.0, 8.0], [12.0, 8.0, 8.0]])
    np.testing.assert_array_equal(tree.death[:2], [np.inf, 1.0])
    b = basins(values, threshold=0.5, tree=tree)
    labels = b.labels.reshape(values.shape)
    assert np.all(labels[:8] == 0) and np.all(labels[9:] == 1)  # split at x = 0


# ---------------------------------------------------------------------------------
# NaN and bad input
# ---------------------------------------------------------------------------------


def test_nan_is_plus_infinity_never_a_minimum():
    tree = merge_tree([3.0, 1.0, np.nan, 2.0, 5.0, np.nan, np.nan])
    np.testing.assert_array_equal(tree.birth, [1.0, 2.0])
    np.testing.assert_array_equal(tree.death, [np.inf, np.inf])  # cut apart by the gap
    np.testing.assert_array_equal(tree.joins, [-1, -1])
    np.testing.assert_array_equal(tree.saddle_index, [[-1], [-1]])
    assert tree.count(1e6) == 2
    b = basins([3.0, 1.0, np.nan, 2.0, 5.0, np.nan, np.nan])
    np.testing.assert_array_equal(b.labels, [0, 0, -1, 1, 1, -1, -1])
    # a NaN hole where the lowest value would be is not a minimum: its rim is
    hole = np.array([[4.0, 3.0, 4.0], [3.0, np.nan, 3.0], [4.0, 3.0, 4.0]])
    assert set(map(tuple, merge_tree(hole).index)) <= {(0, 1), (1, 0), (1, 2), (2, 1)}
    assert persistence_diagram(hole).shape[0] == merge_tree(hole).count()


@pytest.mark.parametrize("values, message", [
    (np.full(4, np.nan), "no finite value"),
    ([1.0, -np.inf, 2.0], "-inf"),
    (np.array(3.0), "non-empty array"),
    (np.empty((0, 3)), "non-empty array"),
    (["a", "b"], "surface must be numeric"),
])
def test_bad_values_are_named(values, message):
    with pytest.raises(ValueError, match=message):
        merge_tree(values)
    with pytest.raises(ValueError, match=message):
        basins(values)


def test_a_negative_threshold_or_a_dimension_out_of_range_is_refused():
    tree = merge_tree(zigzag())
    for call in (lambda: tree.count(-0.1), lambda: tree.survivors(-1),
                 lambda: basins(zigzag(), threshold=-1e-9), lambda: tree.count(np.nan)):
        with pytest.raises(ValueError, match="threshold must be a finite number in"):
            call()
    pytest.importorskip("gudhi")
    with pytest.raises(ValueError, match="dimension"):
        persistence_diagram(np.zeros((3, 3)), dimension=2)
    with pytest.raises(ValueError, match="dimension"):
        persistence_diagram(np.zeros(3), dimension=-1)


def test_a_merge_tree_is_a_record():
    assert isinstance(merge_tree(zigzag()), MergeTree)
    assert "birth=" in repr(merge_tree(zigzag()))
    assert isinstance(zigzag(), Surface)
