"""The figure convention, checked on matplotlib objects (no checks run here: synthetic data).

Prediction is a line, measurement markers (with error bars from a standard-error column),
one colour per predicted/measured pair, "predicted"/"measured" once in the legend,
labelled axes, reference lines, rate heatmaps centred on 1 with the radius-1 contour.
"""

import numpy as np
import pytest

from verify import figures
from verify.core import Figure

pytest.importorskip("matplotlib")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib import colors  # noqa: E402
from matplotlib.container import ErrorbarContainer  # noqa: E402


class DeclaredFigure(Figure):
    """A Figure carrying the proposed optional ``ylabel``/``reference`` (read with getattr)."""

    ylabel = "RMS error"
    reference = {"slope": -0.5, "hline": (0.05, "floor")}


def _pairs():
    t = np.linspace(0.0, 5.0, 200)
    cols = {"t": t}
    for s in (3.0, 1.0):
        cols[f"predicted_s{s:g}"] = s * (1 - np.exp(-s * t))
        cols[f"trained_s{s:g}"] = cols[f"predicted_s{s:g}"] * 1.001
    cols["leading_order"] = 3.0 * np.ones_like(t)
    return Figure("deeplinear_modes_depth2", cols, "t", tuple(cols)[1:],
                  title="depth 2: mode strengths, predicted vs trained, with a title long enough "
                        "that it has to be wrapped onto a second line to fit")


def _rendered(figure):
    fig = figures.render(figure)
    try:
        yield fig
    finally:
        plt.close(fig)


def test_series_roles_and_pairs():
    roles = {s.name: (s.role, s.key) for s in figures.series(_pairs())}
    assert roles["predicted_s3"] == ("predicted", "s3") and roles["trained_s3"] == ("measured", "s3")
    assert roles["leading_order"] == ("other", "leading_order")
    nqm = Figure("n", {"b": [1, 2], "sgd_predicted": [1, 2], "sgd_measured": [1, 2]}, "b",
                 ("sgd_predicted", "sgd_measured"))
    assert [(s.role, s.key) for s in figures.series(nqm)] == [("predicted", "sgd"), ("measured", "sgd")]
    alone = Figure("k", {"width": [1, 2], "ntk_depth1": [1, 2]}, "width", ("ntk_depth1",))
    assert figures.series(alone)[0].role == "measured"  # nothing predicted: data are markers


def test_pairs_share_a_colour_lines_and_markers_and_a_legend_that_says_it_once():
    figure = _pairs()
    for fig in _rendered(figure):
        ax = fig.axes[0]
        lines = [line for line in ax.get_lines() if line.get_linestyle() in ("-", "--")
                 and len(line.get_xdata()) == 200]
        bars = [c for c in ax.containers if isinstance(c, ErrorbarContainer)]
        assert len(lines) == 3 and len(bars) == 2  # 2 predictions + leading order; 2 measurements
        assert all(b.lines[0].get_marker() == "o" and b.lines[0].get_linestyle() == "None" for b in bars)
        assert colors.same_color(lines[0].get_color(), bars[0].lines[0].get_color())  # pair s3
        assert not colors.same_color(lines[0].get_color(), lines[1].get_color())
        legend = [t.get_text() for t in ax.get_legend().get_texts()]
        assert legend.count("predicted") == 1 and legend.count("measured") == 1
        assert {"s3", "s1", "leading order"} <= set(legend)
        assert ax.get_xlabel().startswith("time $t$") and ax.get_ylabel()
        assert all(len(line) <= 76 for line in ax.get_title().split("\n"))
        assert ax.get_title().count("\n") == 1


def test_error_bars_from_a_standard_error_column():
    figure = Figure("linreg_double_descent", {"gamma": [0.25, 0.5, 2.0], "predicted": [0.1, 0.3, 0.8],
                                              "measured": [0.11, np.nan, 0.79],
                                              "standard_error": [0.01, np.nan, 0.02]},
                    "gamma", ("predicted", "measured"), logx=True, logy=True)
    for fig in _rendered(figure):
        (bar,) = [c for c in fig.axes[0].containers if isinstance(c, ErrorbarContainer)]
        assert bar.has_yerr and len(bar.lines[0].get_xdata()) == 2  # the NaN point is left out
        assert fig.axes[0].get_ylabel() == r"test risk $R(\gamma)$"
        assert any("interpolation threshold" in t.get_text() for t in fig.axes[0].get_legend().get_texts())


def test_declared_reference_slope_and_labels_and_no_overlapping_ticks():
    widths = np.array([128.0, 256, 512, 1024, 2048])
    cols = {"width": widths, "nngp_depth1": 0.3 / np.sqrt(widths), "ntk_depth1": 0.5 / np.sqrt(widths)}
    figure = DeclaredFigure("custom", cols, "width", ("nngp_depth1", "ntk_depth1"), True, True, "errors")
    for fig in _rendered(figure):
        ax = fig.axes[0]
        labels = [t.get_text() for t in ax.get_legend().get_texts()]
        assert "slope -1/2" in labels and "floor" in labels
        (slope,) = [line for line in ax.get_lines() if line.get_label() == "slope -1/2"]
        x, y = slope.get_data()
        assert np.log(y[-1] / y[0]) / np.log(x[-1] / x[0]) == pytest.approx(-0.5)
        assert ax.get_ylabel() == "RMS error" and ax.get_xlabel() == "width $n$"
        assert [t.get_text() for t in ax.get_xticklabels()] == ["128", "256", "512", "1024", "2048"]
        fig.canvas.draw()
        renderer = fig.canvas.get_renderer()
        for axis in (ax.xaxis, ax.yaxis):
            assert not figures._overlaps(axis.get_ticklabels(which="both"), renderer)


def test_rate_heatmap_centred_on_one_with_contour_and_labelled_colour_bar():
    a, b = np.meshgrid(np.linspace(0.1, 1.0, 6), np.linspace(0.0, 0.9, 5), indexing="ij")
    rate = 0.5 + a + 0.3 * b
    figure = Figure("momentum_heavy_ball_rate_heatmap", {"alpha": a, "beta": b, "predicted": rate,
                                                         "measured": rate * 1.001},
                    "alpha", ("predicted", "measured"), grid_y="beta", title="rate")
    for fig in _rendered(figure):
        panels, bar = fig.axes[:2], fig.axes[2]
        assert [p.get_title() for p in panels] == ["predicted", "measured"]
        assert panels[0].get_xlabel() == r"step size $\alpha$" and panels[0].get_ylabel() == r"momentum $\beta$"
        mesh = panels[0].collections[0]
        assert isinstance(mesh.norm, colors.TwoSlopeNorm) and mesh.norm.vcenter == 1.0
        assert len(panels[0].collections) == 2  # the mesh and the rate = 1 contour
        assert "worst-case rate" in bar.get_ylabel()


def test_write_all_pdf_and_csv_and_record_round_trip(tmp_path):
    figure = _pairs()
    written = figures.write_all([figure], tmp_path, "pdf")
    assert {p.suffix for p in written} == {".csv", ".pdf"}
    assert (tmp_path / "deeplinear_modes_depth2.pdf").read_bytes().startswith(b"%PDF")
    with pytest.raises(ValueError, match="format must be one of"):
        figures.write_image(figure, tmp_path, "gif")
    nan = Figure("n", {"x": [1.0, 2.0], "measured": [np.nan, 1.0]}, "x", ("measured",))
    record = figures.to_record(nan, "linreg.x")
    assert record["columns"]["measured"] == [None, 1.0] and record["check"] == "linreg.x"
    back = figures.from_record(record)
    assert np.isnan(back.columns["measured"][0]) and back.ys == ("measured",)
    assert figures.svg_data_uri(back).startswith("data:image/svg+xml;base64,")


def test_pdf_embeds_truetype_not_type3_fonts(tmp_path):
    """Several venues refuse Type 3 fonts: the PDF's font dictionaries are TrueType (Type 42)."""
    fig = Figure("fam_fonts", {"eta": np.array([0.1, 0.2]), "predicted_loss": np.array([1.0, 2.0]),
                               "measured_loss": np.array([1.1, 2.1])}, x="eta",
                 ys=("predicted_loss", "measured_loss"), title=r"fonts: $\eta^2$ and text")
    path = figures.write_image(fig, tmp_path, "pdf")
    raw = path.read_bytes()
    assert b"/Subtype /TrueType" in raw or b"/Subtype /Type0" in raw
    assert b"/Subtype /Type3" not in raw


def test_heatmap_names_the_contour_only_where_it_is_drawn():
    grid = np.array([(x, y) for x in (0.1, 0.2, 0.3) for y in (0.0, 0.5)])
    below = Figure("games_rate_map", {"eta": grid[:, 0], "beta": grid[:, 1],
                                      "measured_rate": np.array([0.5, 0.6, 0.7, 0.8, 0.85, 0.9])},
                   x="eta", ys=("measured_rate",), grid_y="beta")
    crossing = below._replace(columns=dict(below.columns, measured_rate=np.array([0.5, 0.9, 1.1, 1.2,
                                                                                  0.7, 1.3])))
    labels = []
    for f in (below, crossing):
        rendered = figures.render(f)
        labels.append(rendered.axes[-1].get_ylabel())
        plt.close(rendered)
    assert "black line" not in labels[0] and "every value below 1" in labels[0]
    assert "black line: 1" in labels[1]


def test_round_off_floor_is_said_and_the_axis_is_not_stretched():
    t = np.arange(0, 60.0)
    predicted = 0.1 ** t  # to 1e-59
    measured = np.maximum(predicted, 1e-30)  # flattens at round-off
    fig = figures.render(Figure("fam_loss", {"step": t, "predicted_loss": predicted, "measured_loss": measured},
                                x="step", ys=("predicted_loss", "measured_loss"), logy=True))
    ax = fig.axes[0]
    assert ax.get_ylim()[0] == pytest.approx(1e-30 / 30)
    assert any("round-off" in text.get_text() for text in ax.texts)
    assert ax.get_ylabel() == "loss"  # the pair's quantity, not "value"
    plt.close(fig)
    clean = figures.render(Figure("fam_loss", {"step": t[:10], "predicted_loss": predicted[:10],
                                               "measured_loss": predicted[:10]},
                                  x="step", ys=("predicted_loss", "measured_loss"), logy=True))
    assert not clean.axes[0].texts  # nothing to say where the measurement follows the prediction
    plt.close(clean)
