"""Pictures: what was drawn is checked against the records it came from (data of the artists,
contour geometry on a non-square grid, counts of trajectories and markers, labels), and every
figure renders to PNG with Agg, NaN gaps included."""

import dataclasses
import io

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import plotly.graph_objects as go  # noqa: E402
import pytest  # noqa: E402
from matplotlib.colors import LogNorm, to_rgba  # noqa: E402

from landscape import from_function  # noqa: E402
from landscape.directions import pca_directions  # noqa: E402
from landscape.functions import himmelblau  # noqa: E402
from landscape.io import save_figure  # noqa: E402
from landscape.plot import (  # noqa: E402
    add_colorbar,
    plot_contour,
    plot_critical_points,
    plot_density,
    plot_eigenvalue_histogram,
    plot_line,
    plot_line_metric,
    plot_spectrum,
    plot_surface3d,
    plot_trajectories,
    surface_figure,
)
from landscape.plot._style import KIND_STYLE  # noqa: E402
from landscape.plot.interactive import LIFT  # noqa: E402
from landscape.surface import Projection, curve, line, plane, project  # noqa: E402
from landscape.vocabulary import KINDS  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _png(fig) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png")
    return buffer.getvalue()


def _axes_plane():
    """Himmelblau on a non-square grid along the coordinate axes."""
    return plane(himmelblau(), np.zeros(2), [1.0, 0.0], [0.0, 1.0], span=((-5, 5), (-4, 4)),
                 resolution=(41, 23))


def test_contour_lines_sit_where_the_function_has_that_value():
    # f(x, y) = x + 2: each contour line of level v is the vertical line x = v - 2.
    f = from_function(lambda t: float(t[0] + 2.0), 2)
    s = plane(f, np.zeros(2), [1.0, 0.0], [0.0, 1.0], span=((-1, 1), (-3, 3)),
              resolution=(11, 5))
    cs = plot_contour(s, levels=[1.5, 2.0, 2.5], filled=False)
    for level, segments in zip(cs.levels, cs.allsegs):
        points = np.concatenate(segments)
        np.testing.assert_allclose(points[:, 0], level - 2.0, atol=1e-12)
        assert np.ptp(points[:, 1]) == pytest.approx(6.0)


def test_contour_levels_labels_and_log_scale():
    s = _axes_plane()
    cs = plot_contour(s, levels=12)
    assert len(cs.levels) == 12 and np.all(np.diff(cs.levels) > 0)
    assert cs.levels[0] == pytest.approx(np.min(s.values))
    assert cs.levels[-1] == pytest.approx(np.max(s.values))
    assert cs.axes.get_xlabel() == "direction 1" and cs.axes.get_ylabel() == "direction 2"
    fig, ax = plt.subplots()
    logged = plot_contour(s, ax=ax, levels=10, log=True)
    assert logged.axes is ax and isinstance(logged.norm, LogNorm)
    ratios = logged.levels[1:] / logged.levels[:-1]
    np.testing.assert_allclose(ratios, ratios[0], rtol=1e-10)
    assert ratios[0] > 1
    assert _png(fig).startswith(b"\x89PNG")


def _bar_labels(bar) -> list[str]:
    bar.ax.figure.canvas.draw()
    return [t.get_text() for t in bar.long_axis.get_ticklabels()]


def test_log_colorbar_is_labelled_at_the_powers_of_ten_in_its_range():
    s = _axes_plane()  # Himmelblau over [-5, 5] x [-4, 4]
    fig, ax = plt.subplots()
    bar = add_colorbar(plot_contour(s, ax=ax, levels=30, log=True), label="f")
    low, high = bar.long_axis.get_view_interval()
    assert (low, high) == pytest.approx((np.min(s.values), np.max(s.values)))
    exponents = [e for e in range(-3, 4) if low <= 10.0**e <= high]
    assert bar.ax.get_ylabel() == "f" and len(exponents) >= 3
    np.testing.assert_array_equal(bar.get_ticks(), [10.0**e for e in exponents])
    assert _bar_labels(bar) == [rf"$\mathdefault{{10^{{{e}}}}}$" for e in exponents]
    # fewer than two decades inside: 1, 2 and 5 times them, each labelled; horizontal too
    narrow = plot_contour(s, ax=ax, levels=np.geomspace(20.0, 150.0, 8), log=True)
    bar = add_colorbar(narrow, ax, orientation="horizontal")
    np.testing.assert_array_equal(bar.get_ticks(), [20.0, 50.0, 100.0])
    assert all(_bar_labels(bar)) and len(_bar_labels(bar)) == 3
    # a linear bar keeps matplotlib's ticks, and so does log=False on a log artist
    assert len(add_colorbar(plot_contour(s, ax=ax, levels=10)).get_ticks()) > 3
    forced = add_colorbar(plot_contour(s, ax=ax, levels=10, log=True), log=False)
    assert len(forced.get_ticks()) != 3
    assert _png(fig).startswith(b"\x89PNG")


def test_one_colorbar_serves_several_panels():
    s = _axes_plane()
    fig, axes = plt.subplots(1, 2, layout="constrained")
    artists = [plot_contour(s, ax=ax, levels=np.geomspace(1e-2, 1e3, 16), log=True)
               for ax in axes]
    bar = add_colorbar(artists[-1], ax=axes, label="f")
    assert len(fig.axes) == 3 and bar.ax.get_ylabel() == "f"
    np.testing.assert_array_equal(bar.get_ticks(), [10.0**e for e in range(-2, 4)])
    # the bar takes room from both panels: it lies right of the second, both shrank alike
    fig.canvas.draw()
    left, right = (ax.get_position() for ax in axes)
    assert bar.ax.get_position().x0 > right.x1 and left.width == pytest.approx(right.width)


def test_pca_axes_are_labelled_with_their_variance():
    rng = np.random.default_rng(0)
    run = np.cumsum(rng.standard_normal((30, 2)) * [2.0, 0.5], axis=0)
    d = pca_directions(run)
    s = plane(from_function(lambda t: float(t @ t), 2), d.center, d, resolution=5)
    cs = plot_contour(s)
    assert cs.axes.get_xlabel() == f"PC1 ({d.explained_variance[0]:.1%} of variance)"
    assert cs.axes.get_ylabel().startswith("PC2 (")


def _runs():
    rng = np.random.default_rng(1)
    labels = ["gd", "adam", "gd", "momentum", "adam"]
    return [Projection(np.cumsum(rng.standard_normal((8, 2)), axis=0), np.zeros(8),
                       np.arange(8), rng.uniform(1, 2, 8), label) for label in labels]


def test_trajectories_one_line_per_run_a_colour_per_optimizer():
    runs = _runs()
    s = _axes_plane()
    cs = plot_contour(s)
    drawn = plot_trajectories(runs, ax=cs.axes)
    assert len(drawn.lines) == len(drawn.starts) == len(drawn.ends) == 5
    for artist, p in zip(drawn.lines, runs):
        np.testing.assert_array_equal(artist.get_xydata(), p.coords)
    for start, end, p in zip(drawn.starts, drawn.ends, runs):
        np.testing.assert_array_equal(start.get_xydata()[0], p.coords[0])
        np.testing.assert_array_equal(end.get_xydata()[0], p.coords[-1])
    colors = {p.label: set() for p in runs}
    for artist, p in zip(drawn.lines, runs):
        colors[p.label].add(artist.get_color())
    assert all(len(c) == 1 for c in colors.values())
    assert len({c.pop() for c in colors.values()}) == 3
    legend = [t.get_text() for t in cs.axes.get_legend().get_texts()]
    assert sorted(legend) == ["adam", "gd", "momentum"]
    assert _png(cs.axes.figure).startswith(b"\x89PNG")
    with pytest.raises(ValueError, match="plane"):
        plot_trajectories(Projection(np.zeros((3, 1)), np.zeros(3)))


def test_critical_points_are_marked_by_kind():
    f = himmelblau()
    points = np.array([p.theta for p in f.critical_points])
    kinds = [p.kind for p in f.critical_points]
    drawn = plot_critical_points(points, kinds)
    assert set(drawn) == set(kinds)
    for kind, collection in drawn.items():
        expected = points[[k == kind for k in kinds]]
        np.testing.assert_array_equal(collection.get_offsets(), expected)
    with pytest.raises(ValueError, match="unknown critical-point kind"):
        plot_critical_points(points[:1], ["valley"])
    with pytest.raises(ValueError, match="one row per kind"):
        plot_critical_points(points, kinds[:-1])


def test_every_kind_has_its_own_style():
    assert list(KIND_STYLE) == list(KINDS)  # the vocabulary's kinds, in its order
    assert len({style.marker for style in KIND_STYLE.values()}) == len(KINDS)
    assert len({style.color for style in KIND_STYLE.values()}) == len(KINDS)
    drawn = plot_critical_points(np.eye(4, 2), list(KINDS))
    assert list(drawn) == list(KINDS)
    for kind, collection in drawn.items():
        assert collection.get_facecolor()[0] == pytest.approx(to_rgba(KIND_STYLE[kind].color))


def test_nan_gaps_do_not_break_any_picture():
    s = _axes_plane()
    values = s.values.copy()
    values[5:12, 3:9] = np.nan
    holey = type(s)(s.center, s.directions, s.axes, values, {}, s.meta)
    cs = plot_contour(holey, log=True)
    assert np.all(np.isfinite(cs.levels))
    ax3 = plt.figure().add_subplot(projection="3d")
    surface = plot_surface3d(holey, ax=ax3, log=True)
    assert surface.axes is ax3 and ax3.get_zlabel() == "log10 loss"
    assert _png(cs.axes.figure).startswith(b"\x89PNG")
    assert _png(ax3.figure).startswith(b"\x89PNG")
    with pytest.raises(ValueError, match="3-D Axes"):
        plot_surface3d(holey, ax=plt.subplots()[1])


def _first_coordinate(objective, theta) -> float:
    return float(theta[0])


def test_line_and_curve_plots_draw_their_values():
    f = from_function(lambda t: float(np.exp(t[0]) if t[0] < 1 else np.inf), 2)
    s = line(f, np.zeros(2), [1.0, 0.0], span=2.0, resolution=9)
    artist = plot_line(s, log=True, label="exp")
    np.testing.assert_array_equal(artist.get_xdata(), s.axes[0])
    np.testing.assert_array_equal(artist.get_ydata(), s.values)
    assert np.isnan(s.values[-1])  # inf became a gap
    assert artist.axes.get_yscale() == "log" and artist.axes.get_xlabel() == "direction 1"
    c = curve(f, np.zeros(2), np.ones(2), bend=np.array([0.0, 1.0]), resolution=5)
    drawn = plot_line(c)
    np.testing.assert_array_equal(drawn.get_xdata(), np.linspace(0, 1, 5))
    assert drawn.axes.get_xlabel() == "t"
    with pytest.raises(ValueError, match="no metric 'accuracy'"):
        plot_line_metric(s, "accuracy")
    measured = line(f, np.zeros(2), [1.0, 0.0], span=2.0, resolution=9,
                    metrics={"first": _first_coordinate})
    drawn = plot_line_metric(measured, "first")
    np.testing.assert_array_equal(drawn.get_ydata(), np.linspace(-2.0, 2.0, 9))
    assert drawn.axes.get_ylabel() == "first"
    assert _png(artist.axes.figure).startswith(b"\x89PNG")


def test_spectrum_histogram_and_density():
    eigenvalues = np.array([-0.5, 3.0, 0.01, 10.0, 0.2])
    dots = plot_spectrum(eigenvalues, symlog=True)
    np.testing.assert_array_equal(dots.get_offsets()[:, 1], np.sort(eigenvalues)[::-1])
    np.testing.assert_array_equal(dots.get_offsets()[:, 0], np.arange(1, 6))
    assert dots.axes.get_yscale() == "symlog"
    values = np.random.default_rng(0).standard_normal(500)
    bars = plot_eigenvalue_histogram(values, bins=20, log=False)
    area = sum(b.get_height() * b.get_width() for b in bars)
    assert area == pytest.approx(1.0)

    class Density:
        grid = np.linspace(-3, 3, 61)
        density = np.exp(-grid**2 / 2) / np.sqrt(2 * np.pi)

    curve_artist = plot_density(Density())
    np.testing.assert_array_equal(curve_artist.get_ydata(), Density.density)
    assert curve_artist.axes.get_yscale() == "log"
    assert _png(curve_artist.axes.figure).startswith(b"\x89PNG")


def test_save_figure_writes_png_atomically(tmp_path):
    cs = plot_contour(_axes_plane())
    path = save_figure(cs.axes.figure, tmp_path / "contour.png")
    assert path.read_bytes().startswith(b"\x89PNG")
    assert list(tmp_path.iterdir()) == [path]


def test_plotly_surface_with_trajectories():
    s = _axes_plane()
    runs = _runs()
    fig = surface_figure(s, runs, title="himmelblau")
    assert isinstance(fig, go.Figure)
    surfaces = [t for t in fig.data if isinstance(t, go.Surface)]
    paths = [t for t in fig.data if isinstance(t, go.Scatter3d)]
    assert len(surfaces) == 1 and len(paths) == 5
    np.testing.assert_allclose(np.asarray(surfaces[0].z), s.values.T, rtol=1e-6)
    np.testing.assert_array_equal(surfaces[0].x, s.axes[0])
    assert surfaces[0].contours.z.project.z is True
    lift = LIFT * (np.max(s.values) - np.min(s.values))  # above the surface, by the same height
    for trace, p in zip(paths, runs):
        np.testing.assert_allclose(trace.z, p.loss + lift, rtol=1e-12)
        assert f"step {p.steps[3]:g}" in trace.hovertext[3]
        assert f"loss {p.loss[3]:.6g}" in trace.hovertext[3]
    assert sum(bool(t.showlegend) for t in paths) == 3
    no_loss = project(np.zeros((3, 2)), np.zeros(2), np.eye(2))
    with pytest.raises(ValueError, match="losses"):
        surface_figure(s, [no_loss])


def test_plotly_colours_match_matplotlib_and_log_heights_keep_the_loss_in_hover():
    s, runs = _axes_plane(), _runs()
    for given in (None, {"adam": "black"}):
        lines = plot_trajectories(runs, colors=given).lines
        paths = surface_figure(s, runs, colors=given).data[1:]
        assert [t.line.color for t in paths] == [line.get_color() for line in lines]
        assert [t.marker.color for t in paths] == [line.get_color() for line in lines]
    assert [t.line.color for t in paths] == ["#1f77b4", "black", "#1f77b4", "#2ca02c", "black"]
    values = s.values.copy()
    values[0, 0] = 0.0  # log10(0): a hole
    zeroed = dataclasses.replace(s, values=values)
    fig = surface_figure(zeroed, runs, log=True)
    surface, paths = fig.data[0], fig.data[1:]
    z = np.asarray(surface.z, dtype=np.float64)
    assert np.isnan(z[0, 0])
    np.testing.assert_allclose(10.0 ** z.ravel()[1:], values.T.ravel()[1:], rtol=1e-6)
    np.testing.assert_allclose(np.asarray(surface.customdata), values.T, rtol=1e-6)
    assert "loss: %{customdata:.4g}" in surface.hovertemplate
    assert fig.layout.scene.zaxis.title.text == "log10 loss"
    heights = np.log10(values.ravel()[1:])
    lift = LIFT * (heights.max() - heights.min())
    for trace, p in zip(paths, runs):
        np.testing.assert_allclose(trace.z, np.log10(p.loss) + lift, rtol=1e-12)
        assert f"loss {p.loss[3]:.6g}" in trace.hovertext[3]
    # a run reaching a zero loss is drawn at the surface's lowest positive value, in the box
    to_zero = runs[0]._replace(loss=np.r_[runs[0].loss[:-1], 0.0])
    end = surface_figure(zeroed, [to_zero], log=True).data[1].z[-1]
    assert end == pytest.approx(heights.min() + lift)
    linear = surface_figure(s)
    assert linear.data[0].customdata is None and "%{z:.4g}" in linear.data[0].hovertemplate
