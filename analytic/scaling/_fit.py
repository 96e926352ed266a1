r"""Fitting $L(N, D) = E + A/N^\alpha + B/D^\beta$ to runs the way Hoffmann et al. did.

Hoffmann et al. 2022 (arXiv:2203.15556v1, sec. 3.3 and Appendix D.2) fit
$\log \hat L = \mathrm{LSE}(a - \alpha\log N,\ b - \beta\log D,\ e)$ with
$A = e^a$, $B = e^b$, $E = e^e$, minimising the Huber loss ($\delta = 10^{-3}$) of
$\log \hat L - \log L$ over the runs with L-BFGS, started from a grid of
initialisations, keeping the best. Besiroglu et al. 2024 (arXiv:2404.10102v2) show
that averaging the Huber loss (rather than summing) with default tolerances stops
L-BFGS early; here the loss is summed and scaled by $1/\delta^2$ and the tolerances
are tight. Uncertainty: nonparametric bootstrap over runs (each resample refitted
from the best point), percentile intervals.
"""

from __future__ import annotations

import contextlib
import ctypes
import itertools
from pathlib import Path
from typing import NamedTuple

import numpy as np
import scipy.optimize

__all__ = ["FitResult", "fit", "PAPER_GRID", "SMALL_GRID"]

NAMES = ("E", "A", "B", "alpha", "beta")
# Hoffmann et al. Appendix D.2's grid as this project reads it (not re-checked against the
# PDF in this session): alpha, beta in {0, 0.5, ..., 2}, e in {-1, -0.5, ..., 1},
# a, b in {0, 5, ..., 25}: 4500 starts.
PAPER_GRID = {"alpha": np.arange(0, 2.01, 0.5), "beta": np.arange(0, 2.01, 0.5),
              "e": np.arange(-1, 1.01, 0.5), "a": np.arange(0, 25.1, 5), "b": np.arange(0, 25.1, 5)}
# A CPU-sized corner of it: 32 starts.
SMALL_GRID = {"alpha": np.array([0.25, 1.0]), "beta": np.array([0.25, 1.0]), "e": np.array([-1.0, 0.5]),
              "a": np.array([5.0, 15.0]), "b": np.array([5.0, 15.0])}
_BOUNDS = [(-30.0, 60.0), (-30.0, 60.0), (-10.0, 10.0), (0.0, 5.0), (0.0, 5.0)]  # a, b, e, alpha, beta


class FitResult(NamedTuple):
    """Point estimates, bootstrap percentile intervals, and how the fit went."""

    E: float
    A: float
    B: float
    alpha: float
    beta: float
    intervals: dict  # name -> (low, high), the central `level` bootstrap percentile interval
    bootstrap: np.ndarray  # (resamples, 5): E, A, B, alpha, beta of each resample
    objective: float  # summed Huber loss at the optimum (in units of delta^2)
    starts: int  # initialisations tried
    level: float

    def params(self) -> dict[str, float]:
        """E, A, B, alpha, beta as keyword arguments of ``scaling.chinchilla_loss``."""
        return {n: getattr(self, n) for n in NAMES}


def _objective(theta, log_n, log_d, log_loss, delta):
    a, b, e, alpha, beta = theta
    terms = np.stack([a - alpha * log_n, b - beta * log_d, np.full_like(log_n, e)])
    top = terms.max(axis=0)
    predicted = top + np.log(np.exp(terms - top).sum(axis=0))  # log-sum-exp, stably
    weights = np.exp(terms - predicted)  # d predicted / d (each term): softmax
    r = predicted - log_loss
    huber = np.where(np.abs(r) <= delta, 0.5 * r**2, delta * (np.abs(r) - 0.5 * delta))
    psi = np.clip(r, -delta, delta)
    grad = np.array([psi @ weights[0], psi @ weights[1], psi @ weights[2],
                     -psi @ (weights[0] * log_n), -psi @ (weights[1] * log_d)])
    return huber.sum() / delta**2, grad / delta**2


@contextlib.contextmanager
def _single_threaded_blas():
    """Run scipy's L-BFGS-B with one OpenBLAS thread, then restore the setting.

    On 5 parameters BLAS threads gain nothing, and on a busy machine OpenBLAS's
    waiting threads made each L-BFGS-B iteration ~100x slower (measured: 9 ms vs
    0.1 ms). Where scipy's bundled OpenBLAS cannot be found this does nothing.
    """
    try:
        import scipy

        (path,) = sorted((Path(scipy.__file__).parent.parent / "scipy.libs").glob("libscipy_openblas*.so"))[:1]
        lib = ctypes.CDLL(str(path))
        get, set_ = lib.scipy_openblas_get_num_threads, lib.scipy_openblas_set_num_threads
    except (ValueError, OSError, AttributeError):
        yield
        return
    before = int(get())
    set_(1)
    try:
        yield
    finally:
        set_(before)


def _minimise(start, data, delta):
    out = scipy.optimize.minimize(_objective, start, args=(*data, delta), jac=True, method="L-BFGS-B",
                                  bounds=_BOUNDS, options={"maxiter": 1000, "ftol": 1e-12, "gtol": 1e-7})
    return out.x, float(out.fun)


def _natural(theta) -> np.ndarray:
    a, b, e, alpha, beta = theta
    return np.array([np.exp(e), np.exp(a), np.exp(b), alpha, beta])


def _validated(name, values) -> np.ndarray:
    a = np.asarray(values, dtype=float)
    if a.ndim != 1:
        raise ValueError(f"fit: {name} must be 1-D, got shape {a.shape}")
    bad = ~np.isfinite(a) | (a <= 0)
    if bad.any():
        i = int(np.argmax(bad))
        raise ValueError(f"fit: {name}[{i}] = {a[i]} is outside its valid range (0, oo) "
                         f"(every entry must be finite and > 0; NaN is not allowed)")
    return a


def fit(N, D, loss, *, delta: float = 1e-3, grid: str | dict = "small", resamples: int = 40,
        level: float = 0.95, seed: int = 0) -> FitResult:
    r"""Fit $E + A/N^\alpha + B/D^\beta$ to runs ``(N[i], D[i], loss[i])``.

    Huber loss (``delta``) on log losses, L-BFGS-B from every point of ``grid``
    (``"small"``: 32 starts; ``"paper"``: Hoffmann et al.'s 4500; or a dict of 1-D
    sequences for ``a, b, e, alpha, beta``), then ``resamples`` bootstrap refits for
    central ``level`` percentile intervals.

    Raises ``ValueError`` for arrays of different lengths, fewer than 6 runs, or an
    entry that is NaN, infinite or <= 0.

    Example:
        >>> import numpy as np
        >>> from analytic.scaling import fit
        >>> N, D = np.meshgrid(np.geomspace(1e7, 1e9, 5), np.geomspace(1e9, 1e11, 5))
        >>> L = 1.8 + 400 / N**0.35 + 2000 / D**0.37
        >>> result = fit(N.ravel(), D.ravel(), L.ravel(), resamples=5)
        >>> round(result.alpha, 3), round(result.beta, 3)
        (0.35, 0.37)
    """
    arrays = {"N": _validated("N", N), "D": _validated("D", D), "loss": _validated("loss", loss)}
    lengths = {k: v.size for k, v in arrays.items()}
    if len(set(lengths.values())) != 1:
        raise ValueError(f"fit: N, D and loss must have equal lengths, got {lengths}")
    if lengths["N"] < 6:
        raise ValueError(f"fit: need at least 6 runs for 5 parameters, got {lengths['N']}")
    if not (isinstance(delta, (int, float)) and np.isfinite(delta) and delta > 0):
        raise ValueError(f"fit: delta = {delta!r} must be finite and > 0")
    if int(resamples) < 2:
        raise ValueError(f"fit: resamples = {resamples!r} must be >= 2")
    if not 0 < level < 1:
        raise ValueError(f"fit: level = {level!r} must be in (0, 1)")
    if isinstance(grid, str):
        if grid not in ("small", "paper"):
            raise ValueError(f"fit: grid = {grid!r}; use 'small', 'paper' or a dict of start values")
        grid = SMALL_GRID if grid == "small" else PAPER_GRID
    missing = {"a", "b", "e", "alpha", "beta"} - set(grid)
    if missing:
        raise ValueError(f"fit: grid lacks start values for {sorted(missing)}")
    data = (np.log(arrays["N"]), np.log(arrays["D"]), np.log(arrays["loss"]))

    with _single_threaded_blas():
        return _fit(data, delta, grid, int(resamples), level, seed)


def _fit(data, delta, grid, resamples, level, seed) -> FitResult:
    best, best_value, starts = None, np.inf, 0
    for start in itertools.product(grid["a"], grid["b"], grid["e"], grid["alpha"], grid["beta"]):
        theta, value = _minimise(np.array(start, float), data, delta)
        starts += 1
        if value < best_value:
            best, best_value = theta, value

    rng = np.random.default_rng(seed)
    n = data[0].size
    boot = []
    for _ in range(resamples):
        idx = rng.integers(0, n, n)
        theta, _ = _minimise(best, tuple(x[idx] for x in data), delta)
        boot.append(_natural(theta))
    boot = np.array(boot)
    tail = 100 * (1 - level) / 2
    low, high = np.percentile(boot, [tail, 100 - tail], axis=0)
    point = _natural(best)
    intervals = {name: (float(lo), float(hi)) for name, lo, hi in zip(NAMES, low, high)}
    return FitResult(*map(float, point), intervals, boot, best_value, starts, float(level))
