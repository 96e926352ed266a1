"""Run checks from Python (a notebook, a REPL) and get their rows and figures.

``python -m verify`` is the main job; this is the same machinery for one page of a
notebook: run a few checks at a chosen size, print their rows, draw their figures with
the figure conventions of :mod:`verify.figures`, and know whether every row held.

Example:
    >>> from verify import notebook
    >>> run = notebook.run("eos.quadratic_thresholds", size="smoke")
    >>> run.passed, len(run.results) > 0
    (True, True)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import NamedTuple

from verify import core, figures as _figures, report

__all__ = ["CheckRun", "run"]


class CheckRun(NamedTuple):
    """The rows (``verify.core.Result``) and figure data of a run of some checks."""

    results: list
    figures: list

    @property
    def passed(self) -> bool:
        """Every row held (PASS, or NOT REPRODUCED where the claim stays contradicted)."""
        return bool(self.results) and all(r.passed for r in self.results)

    def table(self, verbose: bool = True) -> str:
        """The rows as ``python -m verify`` prints them (with every row's reason), and the summary."""
        lines = [report.header(verbose=verbose)]
        lines += [report.format_row(r, verbose=verbose) for r in self.results]
        lines.append(report.summary(self.results, sum(r.seconds for r in self.results)))
        return "\n".join(lines)

    def verdict(self) -> str:
        """One sentence from the rows: how many held, and the one closest to its tolerance."""
        rows = [r for r in self.results if r.row.kind == "check" and r.row.tolerance > 0
                and r.row.tolerance != float("inf")]
        held = sum(r.passed for r in self.results)
        text = f"{held} of {len(self.results)} rows hold"
        not_reproduced = sum(r.status == "NOT REPRODUCED" for r in self.results)
        if not_reproduced:
            text += f" ({not_reproduced} of them claims that do not reproduce, as stated)"
        if rows:
            tightest = max(rows, key=lambda r: r.row.error / r.row.tolerance)
            text += (f"; the closest to its tolerance is {tightest.name} (error {tightest.row.error:.3g} "
                     f"= {tightest.row.error / tightest.row.tolerance:.0%} of {tightest.row.tolerance:.3g})")
        return text + "."

    def draw(self, directory: str | os.PathLike | None = None, fmt: str = "png"):
        """The figures as matplotlib Figures (a notebook shows the last expression's); with
        ``directory`` (default: ``$GALLERY_FIGURES`` when set) each is also written there
        with its CSV."""
        directory = directory or os.environ.get("GALLERY_FIGURES")
        if directory:
            Path(directory).mkdir(parents=True, exist_ok=True)
            _figures.write_all(self.figures, directory, fmt)
        return [_figures.render(f) for f in self.figures]


def run(*names: str, size: str = "quick", seed: int = 0) -> CheckRun:
    """Run the checks selected by ``names`` (families, check names or globs, as on the
    command line) at ``size`` ("smoke", "quick" or "full") in a fresh Context."""
    if not names:
        raise ValueError("run() needs at least one check name, family or glob")
    if size not in core.SIZES:
        raise ValueError(f"size must be one of {core.SIZES}, got {size!r}")
    import jax

    if not jax.config.jax_enable_x64:
        raise ValueError("switch float64 on first (jax.config.update('jax_enable_x64', True)): the "
                         "checks' tolerances assume it, as python -m verify does")
    ctx = core.Context(size=size, seed=seed)
    results = list(core.run(core.select(names), ctx))
    return CheckRun(results, list(ctx.figures))
