"""The check machinery: a registry of checks, the rows they report, and the runner.

A *check* is a generator function registered with :func:`check`. It receives a
:class:`Context` (its size, random keys, devices, memoised results, a sink for
figure data) and the Formulas it declares in ``uses``, and yields :class:`Row`
objects, one per comparison of a prediction (from ``analytic``) with a measurement
(from ``numeric``). Each row carries its tolerance and the reason for that
tolerance; a row passes when ``error <= tolerance``. Build rows with
:func:`compare` (numbers) or :func:`compare_outcome` (categorical outcomes such as
converges / diverges).

Declaring the Formulas makes every check its own negative control: calling the
check with a deliberately wrong Formula for any of them (``chk(ctx, rate=wrong)``)
must fail a row, and ``tests/test_negative_controls.py`` does that for every check
and every Formula it uses, except those a check lists in ``blind`` with the reason
the perturbation cannot be seen.

Example:
    >>> from verify import core
    >>> chk = core.registry()["linreg.critical_lr"]
    >>> chk.uses
    (('threshold', 'linreg.critical_lr'),)
"""

from __future__ import annotations

import dataclasses
import functools
import fnmatch
import importlib
import pkgutil
import math
import signal
import threading
import time
import traceback
import zlib
from collections.abc import Callable, Iterable, Iterator
from typing import Any, NamedTuple

import jax
import numpy as np

from verify import _measure_cache

__all__ = [
    "Row", "Result", "Check", "Context", "Figure", "check", "compare", "compare_outcome", "inform",
    "not_reproduced", "tolerance_category", "registry", "select", "run", "SIZES", "STATUSES",
    "CATEGORIES", "NOT_REPRODUCED", "CheckTimeout",
]

SIZES = ("smoke", "quick", "full")

NOT_REPRODUCED = "NOT REPRODUCED"
STATUSES = ("PASS", "FAIL", NOT_REPRODUCED)  # (and "INFO" for rows made by the deprecated inform())

# Where a tolerance comes from. A row's category is given (``category=``) or read from the words of
# its reason; several join with "+" ("statistical+finite-size"). "exact" is a categorical row's
# (an outcome equal or not: no tolerance at all).
CATEGORIES = ("statistical", "finite-size", "discretisation", "round-off", "exact")
_CATEGORY_WORDS = {
    "statistical": ("standard error", "monte carlo", "bootstrap", "jackknife", " se ", " se)", "(se",
                    " sem", "seeds", "chains", "sampling", "binomial", "statistical", "fluctuat",
                    "noise"),
    "finite-size": ("finite-width", "finite width", "finite-size", "finite size", "1/sqrt",
                    "o(1/", "1/width", "1/n)", "finite horizon", "finite-d", "truncat",
                    "finite-t", "finite t", "large-width", "leading order", "finite time",
                    "horizon", "fitted log-slope", "window"),
    "discretisation": ("richardson", "step size", "discretis", "grid", "central difference",
                       "o(lr", "lr^2", "euler", "quadrature", "resolution", "bisection", "interpolat",
                       "records every", "o(eta", "two step sizes", "bracket", "rk4", "o(dt", "integer step",
                       "crossing-time", "step count"),
    "round-off": ("round-off", "roundoff", "float64", "float32", "machine epsilon", "exact identity",
                  "ulp"),
}


def tolerance_category(reason: str) -> str:
    """The categories of a tolerance read from its reason ("statistical+finite-size"), or "".

    Words count, not their order: "4 standard errors" is statistical, "O(1/sqrt(width))" or
    "finite horizon" finite-size, "Richardson" or "grid resolution" discretisation, "float64
    round-off" round-off. A reason that names none of them gives "" (uncategorised), which
    ``tests/test_tolerances.py`` rejects for every row of the catalogue.
    """
    text = " " + " ".join(str(reason).lower().split()) + " "
    return "+".join(c for c, words in _CATEGORY_WORDS.items() if any(w in text for w in words))


def _checked_category(category: str | None, reason: str) -> str:
    if category is None:
        return tolerance_category(reason)
    parts = category.split("+")
    if not category or any(p not in CATEGORIES for p in parts):
        raise ValueError(f"category must be one of {CATEGORIES} (several joined by '+'), got {category!r}")
    return category


class Row(NamedTuple):
    """One comparison of a prediction with a measurement.

    ``kind`` is "check" (passes when ``error <= tolerance``) or ``NOT_REPRODUCED`` (a paper's
    claim this setting contradicts: ``prediction`` is the claim, ``error`` the distance in
    standard errors, and the row holds while ``error >= tolerance``; it fails once the
    measurement comes to agree with the claim). ``category`` says where the tolerance comes
    from (:data:`CATEGORIES`).
    """

    label: str
    prediction: float | str
    measurement: float | str
    error: float
    tolerance: float
    reason: str
    category: str = ""
    kind: str = "check"

    @property
    def informational(self) -> bool:
        return self.tolerance == math.inf and self.kind == "check"

    @property
    def not_reproduced(self) -> bool:
        return self.kind == NOT_REPRODUCED

    @property
    def passed(self) -> bool:
        if self.kind == NOT_REPRODUCED:  # holds while the measurement stays k standard errors away
            return bool(not np.isnan(self.error) and self.error >= self.tolerance)
        return bool(np.isfinite(self.error) and self.error <= self.tolerance)


def compare(label: str, prediction, measurement, tolerance, reason: str,
            relative: bool = True, category: str | None = None) -> Row:
    """A numeric row: error is ``|m - p| / |p|`` (relative) or ``|m - p|``.

    For arrays, ``tolerance`` may be a scalar or an array broadcasting with them
    (e.g. a per-time Monte Carlo error); the row reports the element with the
    largest ``error / tolerance`` and passes only if every element is within its
    tolerance. ``category`` (see :data:`CATEGORIES`) defaults to the one the reason
    names (:func:`tolerance_category`).
    """
    category = _checked_category(category, reason)
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
    return Row(label, float(p[i]), float(m[i]), float(err[i]), float(tol[i]), reason, category)


def not_reproduced(label: str, claim, measurement, standard_error, why: str, *, k: float = 3.0,
                   category: str = "statistical", what: str = "standard errors") -> Row:
    """A paper's claim that this setting measurably contradicts: status NOT REPRODUCED.

    ``claim``: the paper's value; ``measurement`` with its ``standard_error`` (> 0; the
    uncertainty of the measurement or of the claim's quoted digits, whichever is larger, of
    the given ``category``). The row's error is the distance ``|m - claim| / standard_error``
    and it holds while that is at least ``k``: it FAILS when the measurement comes to agree
    with the claim, so it is falsifiable too. ``why`` says why the setting differs (the
    setting, a convention, an approximation of the paper). Arrays: the element nearest the
    claim (in standard errors) is reported.
    """
    c = np.asarray(claim, dtype=float)
    m = np.asarray(measurement, dtype=float)
    se = np.asarray(standard_error, dtype=float)
    c, m, se = np.broadcast_arrays(c, m, se)
    if not np.all(se > 0):
        raise ValueError(f"not_reproduced {label!r}: standard_error must be > 0, got {standard_error!r}")
    distance = np.abs(m - c) / se
    distance = np.where(np.isnan(distance), np.nan, distance)
    i = np.unravel_index(int(np.nanargmin(distance) if np.any(~np.isnan(distance)) else 0),
                         distance.shape) if distance.ndim else ()
    reason = (f"claim {float(c[i]):.4g}, measured {float(m[i]):.4g} +- {float(se[i]):.2g} ({category}): "
              f"{float(distance[i]):.3g} {what} apart (not reproduced while >= {k:g}). Why: {why}")
    return Row(label, float(c[i]), float(m[i]), float(distance[i]), float(k), reason,
               _checked_category(category, reason), NOT_REPRODUCED)


def inform(label: str, reference, measurement, reason: str) -> Row:
    """Deprecated: an informational row, a measured deviation with no claim of a bound.

    Its tolerance is ``inf`` and the report shows it as INFO; it does not fail the run.
    The catalogue uses none (``tests/test_tolerances.py``): every row there is a check or
    a :func:`not_reproduced` claim. Kept so that checks written outside the project still run.
    """
    ref, meas = float(reference), float(measurement)
    return Row(label, ref, meas, abs(meas - ref), math.inf, reason)


def compare_outcome(label: str, predicted: str, measured: str, reason: str) -> Row:
    """A categorical row (e.g. "converges" vs "diverges"): error 0 if equal, else 1."""
    return Row(label, predicted, measured, 0.0 if predicted == measured else 1.0, 0.0, reason, "exact")


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
    ylabel: str = ""  # y-axis (or colour-bar) label; default from the column names
    reference: dict | None = None  # lines the claim predicts: {"slope": -0.5}, {"hline": y or
    # (y, label) or a list}, {"vline": x or (x, label)}, {"contour": 1.0} on heatmaps


@dataclasses.dataclass
class Context:
    """What a check gets: its size, randomness, devices, memo, and where figure data goes.

    ``size`` is "quick" (CPU-sized, the CI run; the default), "full" (paper-sized, for a
    GPU) or "smoke" (the smallest size that still exercises every row; the
    negative-control tests use it where a check declares it supports it). ``quick`` is a
    read-only property, True for "quick" and "smoke"; the legacy keyword
    ``Context(quick=False)`` still means ``size="full"``. ``num_devices`` devices of the
    default platform form ``mesh``, a one-axis ``jax.sharding.Mesh`` (axis ``"batch"``)
    for sharding ensembles and kernel rows. ``memo`` holds results that several checks of
    one run share; it lives and dies with the Context (no module-level caches).
    """

    size: str = "quick"
    seed: int = 0
    figures: list[Figure] = dataclasses.field(default_factory=list)
    num_devices: int | None = 1  # None: every device of the default platform
    devices: tuple | None = None  # explicit devices (overrides num_devices)
    memo: dict = dataclasses.field(default_factory=dict, repr=False)
    time_limit: float | None = None  # seconds per check (run() reports a hang as a failed row)

    def __post_init__(self) -> None:
        if self.size not in SIZES:
            raise ValueError(f"Context size must be one of {SIZES}, got {self.size!r}")
        if self.num_devices is not None and (not isinstance(self.num_devices, int)
                                             or self.num_devices < 1):
            raise ValueError(f"num_devices must be a positive integer or None (all), "
                             f"got {self.num_devices!r}")

    @property
    def quick(self) -> bool:
        """True for the "quick" and "smoke" sizes (read-only: set ``size``)."""
        return self.size != "full"

    @property
    def smoke(self) -> bool:
        return self.size == "smoke"

    def key(self, salt: str) -> jax.Array:
        """A PRNG key determined by the seed and ``salt`` (use the check's name)."""
        return jax.random.fold_in(jax.random.key(self.seed), zlib.crc32(salt.encode()))

    @property
    def mesh(self) -> jax.sharding.Mesh:
        """A one-axis device mesh (axis name ``"batch"``) over this run's devices."""
        if "_mesh" not in self.memo:
            devices = list(self.devices) if self.devices is not None else jax.devices()
            if self.num_devices is not None and self.devices is None:
                if self.num_devices > len(devices):
                    raise ValueError(f"num_devices = {self.num_devices} but only {len(devices)} "
                                     f"{devices[0].platform} device(s) are visible to JAX")
                devices = devices[: self.num_devices]
            self.memo["_mesh"] = jax.sharding.Mesh(np.array(devices), ("batch",))
        return self.memo["_mesh"]

    def batch_mesh(self, batch: int | None = None) -> jax.sharding.Mesh | None:
        """The mesh to pass as ``mesh=`` to an ensemble (``numeric.sharding``), or None (the
        unsharded default) when the run has one device or ``batch`` does not split evenly."""
        mesh = self.mesh
        if mesh.size == 1 or (batch is not None and batch % mesh.size):
            return None
        return mesh

    def memoise(self, key: Any, compute: Callable[[], Any]) -> Any:
        """``compute()`` once per Context and ``key`` (shared by the checks of one run)."""
        if key not in self.memo:
            self.memo[key] = compute()
        return self.memo[key]

    def measure(self, simulate: Callable[..., Any], *args, **kwargs) -> Any:
        """``simulate(*args, **kwargs)``, memoised in this Context by the function and the
        values of its arguments (arrays and PRNG keys by content).

        Checks call their ``numeric`` simulations through it. A measurement depends only
        on its arguments (``numeric`` never sees a Formula), so a Context shared by several
        runs of one check, as the negative-control tests share one per check, simulates
        once; an argument computed from a Formula (a step size at the predicted optimum)
        is part of the key, so a wrong Formula gets its own simulation. Where
        ``TDTK_MEASURE_CACHE_DIR`` names a folder, measurements are shared with later processes
        through it (``verify/_measure_cache.py``: the tests load what the main job measured).
        """
        key = ("measure", getattr(simulate, "__module__", ""), getattr(simulate, "__qualname__",
                                                                       repr(simulate)),
               _frozen(args), _frozen(tuple(sorted(kwargs.items()))))
        if "_measure_folder" not in self.memo:
            self.memo["_measure_folder"] = _measure_cache.folder()
        # a closure or lambda may hold values its key does not show: never shared across processes
        where = None if "<" in key[2] else self.memo["_measure_folder"]
        return self.memoise(key, lambda: _measure_cache.measured(where, key, lambda: simulate(*args, **kwargs)))

    def figure(self, name: str, columns: dict[str, Any], x: str, ys: Iterable[str],
               logx: bool = False, logy: bool = False, title: str = "", grid_y: str = "",
               ylabel: str = "", reference: dict | None = None) -> None:
        """Record figure data: equal-length columns; ``ys`` against ``x`` (curves), or
        heatmaps over the grid ``(x, grid_y)`` when ``grid_y`` names a column.
        ``reference`` draws the lines a claim predicts (keys slope, hline, vline, contour)."""
        unknown = set(reference or {}) - {"slope", "hline", "vline", "contour"}
        if unknown:
            raise ValueError(f"figure {name!r}: unknown reference keys {sorted(unknown)}; "
                             f"use slope, hline, vline or contour")
        cols = {k: np.asarray(v).ravel() for k, v in columns.items()}
        lengths = {len(v) for v in cols.values()}
        if len(lengths) != 1:
            raise ValueError(f"figure {name!r}: columns have different lengths {lengths}")
        missing = [c for c in (x, *ys, *([grid_y] if grid_y else [])) if c not in cols]
        if missing:
            raise ValueError(f"figure {name!r}: no columns {missing}; columns are {list(cols)}")
        self.figures.append(Figure(name, cols, x, tuple(ys), logx, logy, title, grid_y, ylabel,
                                   dict(reference) if reference else None))


def _legacy_quick_init(init):
    """``Context(quick=...)``, the keyword of the old two-field Context, maps onto ``size``."""
    @functools.wraps(init)
    def __init__(self, *args, quick: bool | None = None, **kwargs):
        if quick is not None:
            legacy = "quick" if quick else "full"
            size = kwargs.get("size", legacy)
            if size != legacy and not (quick and size == "smoke"):
                raise ValueError(f"Context: quick={quick!r} contradicts size={size!r}; give size alone")
            kwargs["size"] = size
        init(self, *args, **kwargs)

    return __init__


Context.__init__ = _legacy_quick_init(Context.__init__)


def _frozen(value: Any) -> Any:
    """A hashable stand-in for a simulation argument: arrays and PRNG keys by content."""
    if isinstance(value, (tuple, list)):
        return (type(value).__name__, tuple(_frozen(v) for v in value))
    if isinstance(value, dict):
        return ("dict", tuple((k, _frozen(v)) for k, v in sorted(value.items())))
    if isinstance(value, jax.Array) and jax.dtypes.issubdtype(value.dtype, jax.dtypes.prng_key):
        value = jax.random.key_data(value)
    if isinstance(value, (jax.Array, np.ndarray, np.generic)):
        a = np.asarray(value)
        return ("array", a.shape, str(a.dtype), a.tobytes())
    try:
        hash(value)
    except TypeError:
        raise TypeError(f"Context.measure: cannot key a {type(value).__name__} argument; pass "
                        f"numbers, strings, arrays, keys, or tuples/dicts of them") from None
    return value


@dataclasses.dataclass(frozen=True)
class Check:
    """A registered check: call it as ``chk(ctx, **formula_overrides)`` to get its rows.

    ``uses`` pairs each keyword argument of the check function with the catalogue
    name of the Formula it receives; ``blind`` maps an argument to the reason a
    wrong Formula there cannot make a row fail; ``smoke`` says the check honours
    ``ctx.size == "smoke"``.
    """

    name: str
    run: Callable[..., Iterator[Row]]
    declared_cites: str  # what the check cites beyond its Formulas' sources ("" for none)
    description: str
    uses: tuple[tuple[str, str], ...] = ()
    blind: tuple[tuple[str, str], ...] = ()
    smoke: bool = False
    no_formula: str = ""  # why a claim of this check involves no Formula (a conservation law, say)

    @property
    def cites(self) -> str:
        """``declared_cites``, else the sources of the Formulas it uses (derived on first access)."""
        if self.declared_cites:
            return self.declared_cites
        if "_cites" not in self.__dict__:
            object.__setattr__(self, "_cites", _cites_of(dict(self.uses)))
        return self.__dict__["_cites"]

    def formulas(self, **overrides) -> dict[str, Any]:
        """The Formulas this check uses, from the catalogue unless overridden by keyword."""
        import analytic

        unknown = sorted(set(overrides) - {arg for arg, _ in self.uses})
        if unknown:
            raise TypeError(f"check {self.name} uses {[a for a, _ in self.uses]}; "
                            f"unknown formula arguments {unknown}")
        return {arg: overrides[arg] if overrides.get(arg) is not None else analytic.get(name)
                for arg, name in self.uses}

    def __call__(self, ctx: Context, **overrides) -> Iterator[Row]:
        return self.run(ctx, **self.formulas(**overrides))


_REGISTRY: dict[str, Check] = {}
_SYMBOLIC_ONLY: dict[str, str] = {}


def symbolic_only(reasons: dict[str, str]) -> None:
    """Declare catalogue Formulas that no numeric row compares, each with the reason.

    For display-only forms (a depth-2 kernel written out symbolically, say) that the
    tests check symbolically against a Formula that *is* verified. Every other
    Formula must be used by a check (``tests/test_negative_controls.py``).
    """
    for name, reason in reasons.items():
        if not reason.strip():
            raise ValueError(f"symbolic_only: {name} needs a reason")
        _SYMBOLIC_ONLY[name] = reason


def symbolic_only_formulas() -> dict[str, str]:
    """The Formulas declared by :func:`symbolic_only` (after importing the catalogue)."""
    registry()
    return dict(_SYMBOLIC_ONLY)


def _cites_of(uses: dict[str, str]) -> str:
    """The distinct sources of the Formulas a check uses, in order, joined by '; '."""
    import analytic

    seen: list[str] = []
    for name in uses.values():
        source = analytic.get(name).source
        if source and source not in seen:
            seen.append(source)
    return "; ".join(seen)


def check(name: str, uses: dict[str, str] | None = None, cites: str = "", description: str = "",
          blind: dict[str, str] | None = None, smoke: bool = False, no_formula: str = ""):
    """Register a generator function ``fn(ctx, **formulas) -> Iterator[Row]`` as a check.

    ``uses={"rate": "momentum.nesterov_rate"}`` hands ``fn`` the catalogue Formula
    as ``rate`` (or an override, for negative controls). ``cites`` defaults to the
    sources of those Formulas; give it to add a claim's own paper. ``blind`` lists
    arguments whose perturbation the check cannot see, each with the reason.
    ``no_formula`` says why a check whose failing rows involve no Formula (a
    conservation law measured on the simulation itself) is still a check; such a check
    needs a ``cites``. Returns the :class:`Check`, which is callable as ``chk(ctx, **overrides)``.
    """
    uses = dict(uses or {})
    blind = dict(blind or {})
    if not blind.keys() <= uses.keys():
        raise ValueError(f"check {name!r}: blind names {sorted(set(blind) - set(uses))} "
                         f"that are not in uses")

    def register(fn):
        if not uses and not cites:
            raise ValueError(f"check {name!r} uses no Formula, so it must say what it cites (cites=...)")
        if name in _REGISTRY:
            raise ValueError(f"check {name!r} registered twice")
        doc = description or " ".join((fn.__doc__ or "").strip().split("\n\n")[0].split())
        chk = Check(name, fn, cites, doc, tuple(uses.items()),
                    tuple(blind.items()), smoke, no_formula)
        _REGISTRY[name] = chk
        return chk

    return register


def registry() -> dict[str, Check]:
    """All registered checks (importing ``verify.checks`` registers the catalogue)."""
    import verify.checks

    for info in pkgutil.iter_modules(verify.checks.__path__):
        if not info.name.startswith("_"):
            _register_module_checks(importlib.import_module(f"verify.checks.{info.name}"))
    # Checks outside the project: a package declares [project.entry-points."tdtk.checks"]
    # name = "its_checks_module"; importing that module (once, cached) registers its checks.
    from importlib.metadata import entry_points

    for entry in entry_points(group="tdtk.checks"):
        _register_module_checks(entry.load())
    return dict(_REGISTRY)


def checks_named(names: Iterable[str]) -> dict[str, Check]:
    """The checks ``names`` (``{name: Check}``), importing only the check modules named after
    their families (``verify/checks/<family>.py``) where those register them all: what a worker
    process of ``--jobs`` needs, without importing the whole catalogue (about 5 s of a worker's
    start on a 2-core machine). Anything else (a check from an entry point) takes the whole registry."""
    names = list(names)
    for family in dict.fromkeys(name.split(".", 1)[0] for name in names):
        try:
            _register_module_checks(importlib.import_module(f"verify.checks.{family}"))
        except ModuleNotFoundError:
            break
    if not set(names) <= _REGISTRY.keys():
        registry()
    unknown = sorted(set(names) - _REGISTRY.keys())
    if unknown:
        raise ValueError(f"names: no registered check is called {unknown}")
    return {name: _REGISTRY[name] for name in names}


def _register_module_checks(module) -> None:
    """Register the module-level checks of a checks module that are not registered yet (a
    ``claim(...)`` assigned to a name: claims do not register themselves by default)."""
    for value in vars(module).values():
        if isinstance(value, Check) and value.name not in _REGISTRY:
            _REGISTRY[value.name] = value


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
        if self.row.kind == NOT_REPRODUCED and self.passed:
            return NOT_REPRODUCED
        return "PASS" if self.passed else "FAIL"


class CheckTimeout(Exception):
    """A check ran past the Context's per-check time limit."""


class _Deadline:
    """Raise :class:`CheckTimeout` in the main thread after ``seconds`` (SIGALRM timer).

    Only the time spent inside the check counts: the timer is stopped while a row is
    handed to the caller. Where no POSIX interval timer is available (another thread,
    Windows), there is no limit. A hang inside compiled code (an XLA compilation) is
    interrupted when control returns to Python.
    """

    def __init__(self, name: str, seconds: float | None) -> None:
        self.name, self.limit, self.used = name, seconds, 0.0
        self.enabled = bool(seconds) and hasattr(signal, "setitimer") and \
            threading.current_thread() is threading.main_thread()

    def call(self, fn, *args):
        if not self.enabled:
            return fn(*args)
        remaining = self.limit - self.used
        if remaining <= 0:
            raise CheckTimeout(f"{self.name} exceeded its time limit of {self.limit:g} s")

        def expire(signum, frame):
            raise CheckTimeout(f"{self.name} exceeded its time limit of {self.limit:g} s")

        previous = signal.signal(signal.SIGALRM, expire)
        start = time.perf_counter()
        signal.setitimer(signal.ITIMER_REAL, remaining)
        try:
            return fn(*args)
        finally:
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, previous)
            self.used += time.perf_counter() - start


def _exception_line(exc: BaseException) -> str:
    """The last line of ``Type: message``, without the notes attached to it (JAX adds one about
    traceback filtering to any exception that passes through its frames, a time limit's too)."""
    text = "".join(traceback.format_exception_only(type(exc), exc))
    for note in getattr(exc, "__notes__", None) or ():
        text = text.replace(str(note), "")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else type(exc).__name__


def run(checks: Iterable[Check], ctx: Context, **overrides) -> Iterator[Result]:
    """Run checks, yielding each row as it is produced (for streaming output).

    A check that raises is reported as one failed row carrying the exception; one that
    runs past ``ctx.time_limit`` seconds (deriving its Formulas included) as a failed
    row saying so. ``overrides`` (formula arguments) go to every check: for one check.
    """
    for chk in checks:
        deadline = _Deadline(chk.name, ctx.time_limit)
        start = time.perf_counter()
        try:
            rows = deadline.call(lambda: iter(chk(ctx, **overrides)))
            while True:
                row = deadline.call(next, rows, None)
                if row is None:
                    break
                now = time.perf_counter()
                yield Result(chk.name, row, row.passed, now - start)
                start = now
        except Exception as exc:  # noqa: BLE001 - reported, not swallowed
            last = _exception_line(exc)
            label = "time limit" if isinstance(exc, CheckTimeout) else "error"
            row = Row(label, "-", "-", math.inf, 0.0, last)
            yield Result(chk.name, row, False, time.perf_counter() - start)
