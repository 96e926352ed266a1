"""Figures from ``ctx.figure(...)`` data: one plotting convention, CSV beside every image.

The convention, for every figure:

* a *prediction* (a series named ``predicted*``, ``prediction*``, ``theory*``) is a line;
  a *measurement* (``measured*``, ``trained*``, ``empirical*``, ``simulated*``, or any
  series of a figure that has no prediction) is markers, with error bars where a column
  ``<series>_se``, ``<series>_standard_error`` or (one measurement) ``standard_error``
  holds its Monte Carlo standard error;
* a prediction and a measurement that differ only by that word (``predicted_s1`` /
  ``trained_s1``, ``sgd_predicted`` / ``sgd_measured``) are one *pair* and share a
  colour; the legend says "predicted" (line) and "measured" (markers) once, then one
  entry per colour;
* other series (``leading_order``) are dashed lines in their own colour;
* axes are labelled with the quantity and its symbol (:data:`AXIS_LABELS`);
* reference lines where the claim is a line: ``reference={"slope": -0.5}`` on a log-log
  plot, ``{"hline": 1.0}``, ``{"vline": 2 / eta}`` (on curves and heatmaps), ``{"contour": 1.0}``
  on a heatmap;
  a heatmap of a *rate* (its name contains "rate") gets a colour map centred on 1 and
  the radius-1 contour without being told;
* heatmaps share one labelled colour bar; titles are wrapped to fit; tick labels that
  would overlap are thinned.

``Figure`` (``verify.core``) has no fields for the y-axis label and reference lines
yet; they are read with ``getattr(figure, "ylabel"/"reference", None)`` and, until the
checks declare them, from :data:`KNOWN` (keyed by figure-name pattern).

Example:
    >>> from verify.core import Figure
    >>> fig = Figure("f", {"x": [1, 2], "predicted_a": [1, 2], "trained_a": [1, 2.1]},
    ...              x="x", ys=("predicted_a", "trained_a"))
    >>> [(s.role, s.key) for s in series(fig)]
    [('predicted', 'a'), ('measured', 'a')]
"""

from __future__ import annotations

import base64
import csv
import fnmatch
import importlib.util
import io
import re
import textwrap
from pathlib import Path
from typing import Any, NamedTuple

import numpy as np

from verify.core import Figure

__all__ = ["AXIS_LABELS", "KNOWN", "FORMATS", "Series", "series", "references", "axis_label",
           "ylabel", "render", "write_csv", "write_image", "write_png", "write_all", "svg_data_uri",
           "to_record", "from_record"]

FORMATS = ("png", "pdf", "svg")

# Column name -> axis label (quantity, symbol). Unknown names are shown with "_" as spaces.
AXIS_LABELS: dict[str, str] = {
    "step": "step $t$",
    "steps": "steps",
    "t": r"time $t$ = learning rate $\times$ steps",
    "eta": r"learning rate $\eta$",
    "lr": r"learning rate $\eta$",
    "gamma": r"aspect ratio $\gamma = d/n$",
    "kappa": r"condition number $\kappa$",
    "width": "width $n$",
    "depth": "depth $L$",
    "alpha": r"step size $\alpha$",
    "beta": r"momentum $\beta$",
    "batch_size": "batch size $B$",
    "lam": r"eigenvalue $\lambda$",
    "eps": r"target error $\varepsilon$",
    "max_relative_gap": "max relative gap",
}

# Figure-name pattern -> what the check would declare (y label, reference lines), for the
# figures of the current catalogue. A Figure's own ``ylabel``/``reference`` take precedence.
KNOWN: dict[str, dict[str, Any]] = {
    "linreg_gd_loss_curve": {"ylabel": "training loss $L(t)$"},
    "linreg_gradient_flow_limit": {"ylabel": "max relative gap |GD - flow| / $L_0$",
                                   "reference": {"slope": 1.0}},
    "linreg_double_descent": {"ylabel": r"test risk $R(\gamma)$", "reference": {"vline": (1.0, r"interpolation threshold $\gamma = 1$")}},
    "kernels_error_vs_width_*": {"ylabel": "RMS normalised kernel error",
                                 "reference": {"slope": -0.5}},
    "kernels_training_*": {"ylabel": "ensemble-mean output $f(x_0)$"},
    "momentum_*_rate_heatmap": {"ylabel": r"worst-case rate over $\lambda$",
                                "reference": {"contour": 1.0}},
    "momentum_*_steps": {"ylabel": r"iterations to reach $\varepsilon$"},
    "nqm_steps_vs_batch": {"ylabel": "steps to target loss"},
    "deeplinear_modes_depth*": {"ylabel": r"mode strength $\sigma_\alpha(t)$"},
}

_PREDICTED = ("predicted", "prediction", "theory", "analytic")
_MEASURED = ("measured", "measurement", "trained", "empirical", "simulated", "sampled")
_SE_NAMES = ("standard_error", "se", "stderr", "sem")


class Series(NamedTuple):
    """One plotted column: its role (predicted / measured / other), pair key and error column."""

    name: str
    role: str
    key: str
    error: str | None


def _split_role(name: str) -> tuple[str, str]:
    """``("predicted", "s1")`` for ``predicted_s1``; ``("other", name)`` with no role word."""
    for role, words in (("predicted", _PREDICTED), ("measured", _MEASURED)):
        for word in words:
            pattern = rf"(^|_){word}(_|$)"
            if re.search(pattern, name):
                key = re.sub(pattern, lambda m: "_" if m.group(1) and m.group(2) else "", name, count=1)
                return role, key.strip("_")
    return "other", name


def series(figure: Figure) -> list[Series]:
    """The plotted series of a curve figure, with roles, pair keys and error-bar columns."""
    split = [(name, *_split_role(name)) for name in figure.ys]
    has_prediction = any(role == "predicted" for _, role, _ in split)
    measured = [name for name, role, _ in split if role == "measured" or not has_prediction]
    out = []
    for name, role, key in split:
        if not has_prediction:  # nothing predicted: every series is a measurement
            role = "measured"
        error = None
        if role == "measured":
            candidates = [f"{name}_{s}" for s in _SE_NAMES]
            if len(measured) == 1:
                candidates += list(_SE_NAMES)
            error = next((c for c in candidates if c in figure.columns), None)
        out.append(Series(name, role, key, error))
    return out


def _known(figure: Figure) -> dict[str, Any]:
    for pattern, info in KNOWN.items():
        if fnmatch.fnmatchcase(figure.name, pattern):
            return info
    return {}


def references(figure: Figure) -> dict[str, Any]:
    """The figure's reference lines: its own ``reference`` attribute, else :data:`KNOWN`'s.

    Keys: ``slope`` (a power law on log-log axes), ``hline``, ``vline``, ``contour``; each
    value a number, a ``(number, label)`` pair or a list of them. A rate heatmap gets
    ``contour = 1`` by default.
    """
    declared = getattr(figure, "reference", None)
    ref = dict(declared if declared is not None else _known(figure).get("reference", {}))
    if figure.grid_y and "rate" in figure.name and "contour" not in ref:
        ref["contour"] = 1.0
    return ref


def axis_label(column: str) -> str:
    """The label of an axis showing ``column`` (quantity and symbol where known)."""
    return AXIS_LABELS.get(column, column.replace("_", " "))


def ylabel(figure: Figure) -> str:
    """The y-axis (or colour-bar) label: declared, known, or built from the series names."""
    label = getattr(figure, "ylabel", None) or _known(figure).get("ylabel")
    if label:
        return label
    plotted = series(figure)
    keys = list(dict.fromkeys(s.key for s in plotted if s.role != "other")) if plotted else []
    if len(figure.ys) == 1 and (plotted[0].role == "other" or plotted[0].key):
        return axis_label(plotted[0].key if plotted[0].role != "other" else plotted[0].name)
    if len(keys) == 1 and keys[0] and all(s.role != "other" for s in plotted):
        return axis_label(keys[0])  # predicted_loss / measured_loss: "loss"
    # several quantities: the figure's subject, from its name without the family prefix
    return figure.name.split("_", 1)[-1].replace("_", " ") if "_" in figure.name else figure.name


def _values(spec) -> list[tuple[float, str]]:
    """A reference value, (value, label) pair, or a list of them -> [(value, label)]."""
    if isinstance(spec, (int, float, np.floating, np.integer)):
        return [(float(spec), "")]
    if isinstance(spec, (tuple, list)) and len(spec) == 2 and isinstance(spec[1], str):
        return [(float(spec[0]), spec[1])]
    return [v for item in spec for v in _values(item)]


def _fraction(value: float) -> str:
    from fractions import Fraction

    frac = Fraction(value).limit_denominator(12)
    return f"{frac.numerator}/{frac.denominator}" if frac.denominator != 1 and \
        abs(float(frac) - value) < 1e-9 else f"{value:g}"


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


# TrueType (Type 42) fonts in PDF and PostScript, text as text in SVG: matplotlib's default
# Type 3 fonts are refused by several venues' submission systems.
_SAVE_RC = {"pdf.fonttype": 42, "ps.fonttype": 42, "svg.fonttype": "none"}


def _wrap(text: str, width: int) -> str:
    return "\n".join(textwrap.wrap(text, width)) if text else ""


def render(figure: Figure):
    """The matplotlib Figure for ``figure`` (caller closes it); needs matplotlib."""
    plt = _pyplot()
    with plt.rc_context({"font.size": 9, "axes.titlesize": 9, "legend.fontsize": 8,
                         "axes.grid": True, "grid.alpha": 0.25, "svg.fonttype": "none",
                         "pdf.fonttype": 42}):
        if figure.grid_y:
            fig = _heatmaps(figure, plt)
        else:
            fig = _curves(figure, plt)
        _declutter(fig)
    return fig


def _curves(figure: Figure, plt):
    fig, ax = plt.subplots(figsize=(5.6, 3.9), layout="constrained")
    x = np.asarray(figure.columns[figure.x], dtype=float)
    plotted = series(figure)
    keys = list(dict.fromkeys(s.key for s in plotted))
    cycle = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    colour = {k: cycle[i % len(cycle)] for i, k in enumerate(keys)}
    has_pairs = any(s.role == "predicted" for s in plotted)
    n_measured = sum(s.role == "measured" for s in plotted)
    for s in plotted:
        y = np.asarray(figure.columns[s.name], dtype=float)
        c = colour[s.key]
        if s.role == "measured":
            keep = np.isfinite(x) & np.isfinite(y)
            if figure.logy:
                keep &= y > 0
            every = max(1, int(keep.sum()) // 30)
            xs, ys = x[keep][::every], y[keep][::every]
            err = None
            if s.error is not None:
                err = np.asarray(figure.columns[s.error], dtype=float)[keep][::every]
                err = np.where(np.isfinite(err), err, 0.0)
            ax.errorbar(xs, ys, yerr=err, fmt="o", markersize=4.5, markerfacecolor="white" if has_pairs else c,
                        markeredgewidth=1.2, color=c, ecolor=c, elinewidth=1, capsize=2, zorder=2,
                        linestyle="none" if has_pairs or n_measured > 1 and len(xs) > 12 else ":",
                        linewidth=0.8)
        else:
            keep = np.isfinite(x)  # NaN in y breaks the curve (a pole), as it should
            style = "-" if s.role == "predicted" else "--"
            ax.plot(x[keep], y[keep], style, color=c, linewidth=1.6, zorder=3)
    ax.set_xscale("log" if figure.logx else "linear")
    ax.set_yscale("log" if figure.logy else "linear")
    if figure.logy:
        _round_off_floor(ax, figure, plotted)
    ax.set_xlabel(axis_label(figure.x))
    ax.set_ylabel(ylabel(figure))
    _data_ticks(ax, x, figure.logx)
    _reference_lines(ax, figure, x)
    _legend(ax, plotted, colour, has_pairs, plt)
    ax.set_title(_wrap(figure.title or figure.name, 76))
    return fig


def _round_off_floor(ax, figure: Figure, plotted) -> None:
    """Where a measurement flattens at float64 round-off (its smallest value below 1e-12 of
    its largest) while the prediction goes on falling, cut the axis a little below the
    measured floor and say so, instead of stretching the axis over decades nothing measures."""
    def positive(role):
        values = [np.asarray(figure.columns[s.name], dtype=float) for s in plotted if s.role == role]
        values = np.concatenate(values) if values else np.array([])
        return values[np.isfinite(values) & (values > 0)]

    measured, predicted = positive("measured"), positive("predicted")
    if not measured.size or not predicted.size:
        return
    floor, top = float(measured.min()), float(measured.max())
    if floor > 1e-12 * top or float(predicted.min()) > floor / 100:
        return
    ax.set_ylim(bottom=floor / 30)
    ax.annotate(f"measured values stop at float64 round-off (~{floor:.0e});\n"
                f"the prediction goes on to {float(predicted.min()):.0e}, below this axis",
                (0.98, 0.04), xycoords="axes fraction", ha="right", va="bottom", fontsize=7,
                color="0.25")


def _data_ticks(ax, x: np.ndarray, log: bool) -> None:
    """On a log axis over few x values (widths, batch sizes), tick exactly those values."""
    from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator

    values = np.unique(x[np.isfinite(x) & (x > 0)])
    if not log or not 2 <= values.size <= 12 or values[-1] / values[0] > 1e4 \
            or np.any(values != np.round(values)):  # integers only (widths, batch sizes)
        return
    ax.xaxis.set_major_locator(FixedLocator(values))
    ax.xaxis.set_major_formatter(lambda v, pos: f"{v:g}")
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_minor_formatter(NullFormatter())


def _legend(ax, plotted, colour, has_pairs, plt) -> None:
    from matplotlib.lines import Line2D

    handles = []
    if has_pairs:
        handles.append(Line2D([], [], color="0.2", linestyle="-", label="predicted"))
        handles.append(Line2D([], [], color="0.2", marker="o", markerfacecolor="white",
                              linestyle="none", label="measured"))
    for key in colour:
        roles = {s.role for s in plotted if s.key == key}
        if has_pairs and not key and roles <= {"predicted", "measured"}:
            continue  # one unnamed pair: the style entries say it all
        if "other" in roles:
            handles.append(Line2D([], [], color=colour[key], linestyle="--", label=key.replace("_", " ")))
        elif has_pairs:
            handles.append(Line2D([], [], color=colour[key], linewidth=6, alpha=0.8,
                                  label=key.replace("_", " ")))
        else:
            handles.append(Line2D([], [], color=colour[key], marker="o", linestyle="none",
                                  label=key.replace("_", " ")))
    handles += [h for h in ax.get_lines() if not h.get_label().startswith("_")]
    if len(handles) > 4:  # a long legend would cover data: beside the axes instead
        ax.legend(handles=handles, loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0,
                  framealpha=0.85)
    elif handles:
        ax.legend(handles=handles, framealpha=0.85)


_REFERENCE_STYLES = [(":", "0.35"), ((0, (6, 2, 1, 2)), "0.15"), ((0, (2, 2)), "0.55"),
                     ((0, (8, 3)), "0.45")]


def _reference_lines(ax, figure: Figure, x: np.ndarray) -> None:
    ref = references(figure)
    styles = iter(_REFERENCE_STYLES * 4)  # each reference line its own dash pattern and grey
    for value, label in _values(ref.get("hline", [])):
        dash, grey = next(styles)
        ax.axhline(value, color=grey, linestyle=dash, linewidth=1.3, label=label or f"y = {value:g}")
    for value, label in _values(ref.get("vline", [])):
        dash, grey = next(styles)
        ax.axvline(value, color=grey, linestyle=dash, linewidth=1.3,
                   label=label or f"{figure.x} = {value:g}")
    for slope, label in _values(ref.get("slope", [])):
        # A power law through the geometric middle of the measured data, over its x range.
        ys = [np.asarray(figure.columns[s.name], dtype=float) for s in series(figure)
              if s.role == "measured"] or [np.asarray(figure.columns[figure.ys[0]], dtype=float)]
        ys = np.stack(ys)
        ok = np.isfinite(x) & (x > 0) & np.all(np.isfinite(ys) & (ys > 0), axis=0)
        if ok.sum() < 2:
            continue
        xr = x[ok]
        x0 = float(np.exp(np.mean(np.log(xr))))
        y0 = float(np.exp(np.mean(np.log(ys[:, ok]))))
        grid = np.geomspace(xr.min(), xr.max(), 50)
        ax.plot(grid, y0 * (grid / x0) ** slope, color="0.3", linestyle=(0, (6, 3)), linewidth=1.2,
                zorder=1, label=label or f"slope {_fraction(slope)}")


def _heatmaps(figure: Figure, plt):
    """One panel per column of ``ys`` over the (x, grid_y) grid, one shared, labelled colour bar."""
    from matplotlib import colors

    xs = np.unique(figure.columns[figure.x])
    ys = np.unique(figure.columns[figure.grid_y])
    ix = np.searchsorted(xs, figure.columns[figure.x])
    iy = np.searchsorted(ys, figure.columns[figure.grid_y])
    panels = []
    for name in figure.ys:
        image = np.full((ys.size, xs.size), np.nan)
        image[iy, ix] = figure.columns[name]
        panels.append(np.where(np.isfinite(image), image, np.nan))
    finite = np.concatenate([p[np.isfinite(p)] for p in panels])
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    ref = references(figure)
    contours = [v for v, _ in _values(ref.get("contour", []))]
    if contours and lo < contours[0] < hi:
        norm, cmap = colors.TwoSlopeNorm(vcenter=contours[0], vmin=lo, vmax=hi), "RdBu_r"
    else:
        norm, cmap = colors.Normalize(vmin=lo, vmax=hi), "viridis"
    fig, axes = plt.subplots(1, len(panels), figsize=(3.3 * len(panels) + 1.3, 3.6),
                             layout="constrained", squeeze=False, sharey=True)
    drawn: set[float] = set()  # contour levels some panel crosses (and so draws)
    for i, (ax, name, image) in enumerate(zip(axes[0], figure.ys, panels)):
        mesh = ax.pcolormesh(xs, ys, image, shading="nearest", cmap=cmap, norm=norm, rasterized=True)
        for level in contours:
            if np.nanmin(image) < level < np.nanmax(image):
                ax.contour(xs, ys, image, levels=[level], colors="k", linewidths=1.3)
                drawn.add(level)
        for value, label in _values(ref.get("vline", [])):  # a predicted boundary in x
            ax.axvline(value, color="k", linestyle="--", linewidth=1.3)
            if label:
                ax.annotate(label, (value, 1.0), xycoords=("data", "axes fraction"), xytext=(3, -3),
                            textcoords="offset points", ha="left", va="top", fontsize=7, rotation=90)
        ax.set_xlabel(axis_label(figure.x))
        if i == 0:
            ax.set_ylabel(axis_label(figure.grid_y))
        role, _ = _split_role(name)
        ax.set_title(role if role != "other" else name.replace("_", " "))
        ax.grid(False)
    bar = fig.colorbar(mesh, ax=axes[0].tolist(), shrink=0.95)
    label = ylabel(figure)
    if contours and contours[0] in drawn:  # name the line only where it is drawn
        label += f"  (black line: {_fraction(contours[0])})"
    elif contours:
        label += f"  (every value {'below' if hi < contours[0] else 'above'} {_fraction(contours[0])})"
    bar.set_label(label)
    fig.suptitle(_wrap(figure.title or figure.name, int(14 * fig.get_figwidth())), fontsize=9)
    return fig


def _overlaps(labels, renderer) -> bool:
    boxes = [t.get_window_extent(renderer) for t in labels if t.get_visible() and t.get_text()]
    return any(a.overlaps(b) for i, a in enumerate(boxes) for b in boxes[i + 1:])


def _declutter(fig) -> None:
    """Hide minor tick labels, then every other major one, where tick labels would overlap."""
    from matplotlib.ticker import NullFormatter

    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            labels = [t for t in axis.get_ticklabels(which="both")]
            if not _overlaps(labels, renderer):
                continue
            axis.set_minor_formatter(NullFormatter())
            fig.canvas.draw()
            step = 2
            while _overlaps(axis.get_ticklabels(), renderer) and step <= 8:
                ticks = axis.get_majorticklocs()
                axis.set_ticks(ticks[::step])
                fig.canvas.draw()
                step *= 2


def write_csv(figure: Figure, directory: Path) -> Path:
    path = Path(directory) / f"{figure.name}.csv"
    path.write_text(csv_text(figure))
    return path


def csv_text(figure: Figure) -> str:
    """The figure's columns as CSV text (full float64 precision, ``nan`` where missing)."""
    handle = io.StringIO()
    writer = csv.writer(handle, lineterminator="\n")
    names = list(figure.columns)
    writer.writerow(names)
    for values in zip(*(figure.columns[n] for n in names)):
        writer.writerow([f"{float(v):.17g}" for v in values])
    return handle.getvalue()


def has_matplotlib() -> bool:
    return importlib.util.find_spec("matplotlib") is not None


def write_image(figure: Figure, directory: Path, fmt: str = "png") -> Path | None:
    """Render ``figure`` to ``directory/<name>.<fmt>``; None when matplotlib is not installed."""
    if fmt not in FORMATS:
        raise ValueError(f"format must be one of {FORMATS}, got {fmt!r}")
    if not has_matplotlib():
        return None
    plt = _pyplot()
    fig = render(figure)
    path = Path(directory) / f"{figure.name}.{fmt}"
    with plt.rc_context(_SAVE_RC):  # font embedding is decided when saving, not when drawing
        fig.savefig(path, dpi=150, format=fmt)
    plt.close(fig)
    return path


def write_png(figure: Figure, directory: Path) -> Path | None:
    """The PNG of ``figure`` (see :func:`write_image`)."""
    return write_image(figure, directory, "png")


def write_all(figures: list[Figure], directory: str | Path, fmt: str = "png") -> list[Path]:
    """A CSV and (with matplotlib) an image in ``fmt`` for every figure, in ``directory``."""
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for figure in figures:
        written.append(write_csv(figure, directory))
        image = write_image(figure, directory, fmt)
        if image is not None:
            written.append(image)
    return written


def svg_data_uri(figure: Figure) -> str:
    """The figure as an SVG ``data:`` URI (for a self-contained HTML page); "" without matplotlib."""
    if not has_matplotlib():
        return ""
    plt = _pyplot()
    fig = render(figure)
    buffer = io.BytesIO()
    with plt.rc_context({"svg.fonttype": "none", "svg.hashsalt": figure.name}):
        fig.savefig(buffer, format="svg", dpi=110)
    plt.close(fig)
    return "data:image/svg+xml;base64," + base64.b64encode(buffer.getvalue()).decode("ascii")


def _number(v) -> float | None:
    v = float(v)
    return v if np.isfinite(v) else None


def to_record(figure: Figure, check: str = "") -> dict:
    """A JSON-ready dict of ``figure`` (NaN/inf as null), which :func:`from_record` reads back."""
    record = {"name": figure.name, "check": check, "x": figure.x, "ys": list(figure.ys),
              "logx": figure.logx, "logy": figure.logy, "title": figure.title, "grid_y": figure.grid_y,
              "columns": {k: [_number(v) for v in np.asarray(col, dtype=float)]
                          for k, col in figure.columns.items()}}
    for extra in ("ylabel", "reference"):
        value = getattr(figure, extra, None)
        if value is not None:
            record[extra] = value
    return record


class _RecordFigure(NamedTuple):
    name: str
    columns: dict
    x: str
    ys: tuple
    logx: bool = False
    logy: bool = False
    title: str = ""
    grid_y: str = ""
    ylabel: str | None = None
    reference: dict | None = None


def from_record(record: dict):
    """A Figure-like object (with ``ylabel``/``reference`` when recorded) from :func:`to_record`."""
    columns = {k: np.array([np.nan if v is None else v for v in col], dtype=float)
               for k, col in record["columns"].items()}
    return _RecordFigure(record["name"], columns, record["x"], tuple(record["ys"]),
                         bool(record.get("logx")), bool(record.get("logy")), record.get("title", ""),
                         record.get("grid_y", ""), record.get("ylabel"), record.get("reference"))
