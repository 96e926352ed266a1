"""The check machinery: a registry of checks, the rows they report, and the runner.

A *check* is a generator function registered with :func:`check`. It receives a
:class:`Context` (quick or full size, random keys, a sink for figure data) and
yields :class:`Row` objects, one per comparison of a prediction (from
``analytic``) with a measurement (from ``numeric``). Each row carries its
tolerance and the reason for that tolerance; a row passes when
``error <= tolerance``. Build rows with :func:`compare` (numbers) or
:func:`compare_outcome` (categorical outcomes such as converges / diverges).

Check functions take the Formula they test as a keyword argument with the
catalogue's Formula as default, so the tests can hand them a deliberately wrong
one and assert that the check rejects it (the negative control).
"""

from __future__ import annotations

import dataclasses
import fnmatch
import math
import time
import traceback
import zlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NamedTuple

import jax
import numpy as np

__all__ = [
    "Row", "Result", "Check", "Context", "Figure", "check", "compare", "compare_outcome", "inform",
    "registry", "select", "run",
]


class Row(NamedTuple):
    """One comparison of a prediction with a measurement."""

    label: str
    prediction: float | str
    measurement: float | str
    error: float
    tolerance: float
    reason: str

    @property
    def informational(self) -> bool:
        return self.tolerance == math.inf

    @property
    def passed(self) -> bool:
        return bool(np.isfinite(self.error) and self.error <= self.tolerance)


def compare(label: str, prediction, measurement, tolerance, reason: str,
            relative: bool = True) -> Row:
    """A numeric row: error is ``|m - p| / |p|`` (relative) or ``|m - p|``.

    For arrays, ``tolerance`` may be a scalar or an array broadcasting with them
    (e.g. a per-time Monte Carlo error); the row reports the element with the
    largest ``error / tolerance`` and passes only if every element is within its
    tolerance.
    """
    p = np.asarray(prediction, dtype=float)
    m = np.asarray(measurement, dtype=float)
    tol = np.asarray(tolerance, dtype=float)
    p, m, tol = np.broadcast_arrays(p, m, tol)
    err = np.abs(m - p)
    if relative:
        err = err / np.abs(p)
    err = np.where(np.isnan(err), np.inf, err)  # a NaN measurement never passes
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(err == 0, 0.0, err / tol)  # inf where tol = 0 < err
    i = np.unravel_index(int(np.argmax(ratio)), err.shape) if err.ndim else ()
    return Row(label, float(p[i]), float(m[i]), float(err[i]), float(tol[i]), reason)


def inform(label: str, reference, measurement, reason: str) -> Row:
    """An informational row: a measured deviation reported with no claim of a bound.

    Its tolerance is ``inf`` and the report shows it as INFO, never as PASS; it does
    not fail the run. Use it where the honest answer is a number, not a verdict.
    """
    ref, meas = float(reference), float(measurement)
    return Row(label, ref, meas, abs(meas - ref), math.inf, reason)


def compare_outcome(label: str, predicted: str, measured: str, reason: str) -> Row:
    """A categorical row (e.g. "converges" vs "diverges"): error 0 if equal, else 1."""
    return Row(label, predicted, measured, 0.0 if predicted == measured else 1.0, 0.0, reason)


class Figure(NamedTuple):
    """Figure data: named columns of equal length, plus how to plot them."""

    name: str
    columns: dict[str, np.ndarray]
    x: str
    ys: tuple[str, ...]
    logx: bool = False
    logy: bool = False
    title: str = ""
    grid_y: str = ""  # when set, (x, grid_y) is a 2-D grid and each of ys is a heatmap


@dataclasses.dataclass
class Context:
    """What a check gets: its size, its randomness, and where figure data goes."""

    quick: bool = True
    seed: int = 0
    figures: list[Figure] = dataclasses.field(default_factory=list)

    def key(self, salt: str) -> jax.Array:
        """A PRNG key determined by the seed and ``salt`` (use the check's name)."""
        return jax.random.fold_in(jax.random.key(self.seed), zlib.crc32(salt.encode()))

    def figure(self, name: str, columns: dict[str, Any], x: str, ys: Iterable[str],
               logx: bool = False, logy: bool = False, title: str = "", grid_y: str = "") -> None:
        """Record figure data: equal-length columns; ``ys`` against ``x`` (curves), or
        heatmaps over the grid ``(x, grid_y)`` when ``grid_y`` names a column."""
        cols = {k: np.asarray(v).ravel() for k, v in columns.items()}
        lengths = {len(v) for v in cols.values()}
        if len(lengths) != 1:
            raise ValueError(f"figure {name!r}: columns have different lengths {lengths}")
        missing = [c for c in (x, *ys, *([grid_y] if grid_y else [])) if c not in cols]
        if missing:
            raise ValueError(f"figure {name!r}: no columns {missing}; columns are {list(cols)}")
        self.figures.append(Figure(name, cols, x, tuple(ys), logx, logy, title, grid_y))


@dataclasses.dataclass(frozen=True)
class Check:
    name: str
    run: Callable[..., Iterator[Row]]
    cites: str
    description: str


_REGISTRY: dict[str, Check] = {}


def check(name: str, cites: str = "", description: str = ""):
    """Register a generator function ``fn(ctx, **formulas) -> Iterator[Row]``."""

    def register(fn):
        if name in _REGISTRY:
            raise ValueError(f"check {name!r} registered twice")
        doc = description or (fn.__doc__ or "").strip().split("\n")[0]
        _REGISTRY[name] = Check(name, fn, cites, doc)
        return fn

    return register


def registry() -> dict[str, Check]:
    """All registered checks (importing ``verify.checks`` registers the catalogue)."""
    import verify.checks  # noqa: F401  (registers on import)

    return dict(_REGISTRY)


def select(patterns: Iterable[str] = ()) -> list[Check]:
    """Checks whose name equals, starts with ``pattern + '.'``, or fnmatches a pattern."""
    checks = registry()
    patterns = list(patterns)
    if not patterns:
        return list(checks.values())
    chosen = []
    for pat in patterns:
        hits = [c for n, c in checks.items()
                if n == pat or n.startswith(pat + ".") or fnmatch.fnmatch(n, pat)]
        if not hits:
            raise ValueError(f"no check matches {pat!r}; see `python -m verify --list`")
        chosen += [c for c in hits if c not in chosen]
    return chosen


class Result(NamedTuple):
    """A row as reported: which check, the row, its pass/fail and its seconds."""

    check: str
    row: Row
    passed: bool
    seconds: float

    @property
    def name(self) -> str:
        return f"{self.check}[{self.row.label}]" if self.row.label else self.check

    @property
    def status(self) -> str:
        if self.row.informational and self.passed:
            return "INFO"
        return "PASS" if self.passed else "FAIL"


def run(checks: Iterable[Check], ctx: Context) -> Iterator[Result]:
    """Run checks, yielding each row as it is produced (for streaming output).

    A check that raises is reported as one failed row carrying the exception.
    """
    for chk in checks:
        start = time.perf_counter()
        try:
            for row in chk.run(ctx):
                now = time.perf_counter()
                yield Result(chk.name, row, row.passed, now - start)
                start = now
        except Exception as exc:  # noqa: BLE001 - reported, not swallowed
            last = traceback.format_exception_only(type(exc), exc)[-1].strip()
            row = Row("error", "-", "-", math.inf, 0.0, last)
            yield Result(chk.name, row, False, time.perf_counter() - start)
