"""Figure data: one CSV per figure, and a PNG beside it when matplotlib is installed."""

from __future__ import annotations

import csv
import importlib.util
from pathlib import Path

import numpy as np

from verify.core import Figure


def write_csv(figure: Figure, directory: Path) -> Path:
    path = directory / f"{figure.name}.csv"
    names = list(figure.columns)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(names)
        for values in zip(*(figure.columns[n] for n in names)):
            writer.writerow([f"{float(v):.17g}" for v in values])
    return path


def write_png(figure: Figure, directory: Path) -> Path | None:
    """Plot ``figure.ys`` against ``figure.x``; None when matplotlib is not installed."""
    if importlib.util.find_spec("matplotlib") is None:
        return None
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    if figure.grid_y:
        return _write_heatmaps(figure, directory, plt)
    fig, ax = plt.subplots(figsize=(5, 3.5), constrained_layout=True)
    x = np.asarray(figure.columns[figure.x], dtype=float)
    for i, name in enumerate(figure.ys):
        y = np.asarray(figure.columns[name], dtype=float)
        if name.startswith("measured"):  # markers, thinned on long series, only where measured
            keep = np.isfinite(y)
            ax.plot(x[keep], y[keep], "o", markersize=4, label=name, zorder=1,
                    markevery=max(1, int(keep.sum()) // 40))
        else:  # a curve; NaN entries break it (e.g. at a pole)
            keep = np.isfinite(x)
            ax.plot(x[keep], y[keep], linestyle="--" if i else "-", label=name, zorder=2)
    ax.set_xscale("log" if figure.logx else "linear")
    ax.set_yscale("log" if figure.logy else "linear")
    ax.set_xlabel(figure.x)
    ax.set_title(figure.title or figure.name, fontsize=9)
    ax.legend(fontsize=8)
    path = directory / f"{figure.name}.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def _write_heatmaps(figure: Figure, directory: Path, plt) -> Path:
    """One panel per column of ``ys`` over the (x, grid_y) grid, sharing a colour scale."""
    xs = np.unique(figure.columns[figure.x])
    ys = np.unique(figure.columns[figure.grid_y])
    ix = np.searchsorted(xs, figure.columns[figure.x])
    iy = np.searchsorted(ys, figure.columns[figure.grid_y])
    panels = []
    for name in figure.ys:
        image = np.full((ys.size, xs.size), np.nan)
        image[iy, ix] = figure.columns[name]
        panels.append(image)
    finite = np.concatenate([p[np.isfinite(p)] for p in panels])
    lo, hi = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    fig, axes = plt.subplots(1, len(panels), figsize=(4.2 * len(panels), 3.5), constrained_layout=True,
                             squeeze=False)
    for ax, name, image in zip(axes[0], figure.ys, panels):
        shown = ax.imshow(image, origin="lower", aspect="auto", vmin=lo, vmax=hi,
                          extent=(xs[0], xs[-1], ys[0], ys[-1]))
        ax.set_xlabel(figure.x)
        ax.set_ylabel(figure.grid_y)
        ax.set_title(name, fontsize=9)
    fig.colorbar(shown, ax=axes[0].tolist())
    fig.suptitle(figure.title or figure.name, fontsize=9)
    path = directory / f"{figure.name}.png"
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path


def write_all(figures: list[Figure], directory: str | Path) -> list[Path]:
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for figure in figures:
        written.append(write_csv(figure, directory))
        png = write_png(figure, directory)
        if png is not None:
            written.append(png)
    return written
