r"""The ridge hypergradient on data: the per-mode Formulas of ``_ridge`` summed over eigen-modes.

With $H = X^\top X/n = V\,\mathrm{diag}(\lambda)\,V^\top$, $b = V^\top X^\top y/n$ and the
starting point $w_0$ in the same basis, every method gives the weights
$w = V w_{\rm modes}$ and the sensitivity $dw/d\rho = V s_{\rm modes}$ from its per-mode
Formulas; the hypergradient is
$$\frac{d}{d\rho}L_{\rm val} = \nabla L_{\rm val}(w)^\top \frac{dw}{d\rho},\qquad
L_{\rm val}(w) = \tfrac1{2 n_v}\lVert X_v w - y_v\rVert^2 .$$
"""

from __future__ import annotations

import numpy as np

from analytic.bilevel._ridge import FORMULAS
from analytic.formula import Formula

METHODS = ("implicit", "unrolled", "truncated")


def _matrix(name: str, value) -> np.ndarray:
    array = np.asarray(value, dtype=float)
    if array.ndim != 2 or array.shape[0] < 1 or not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be a finite 2-D array (examples x features), got shape {array.shape}")
    return array


def _targets(name: str, value, rows: int) -> np.ndarray:
    array = np.asarray(value, dtype=float)
    if array.shape != (rows,) or not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be a finite 1-D array of length {rows}, got shape {array.shape}")
    return array


def ridge_hypergradient(x_train, y_train, x_val, y_val, ridge, method: str = "implicit", *, eta=None,
                        steps=None, truncate=None, w0=None, formulas: dict[str, Formula] | None = None):
    r"""$dL_{\rm val}/d\rho$ of ridge regression with penalty ``ridge`` (float64 numpy).

    ``method``: ``"implicit"`` (exact, implicit function theorem), ``"unrolled"``
    (backpropagation through ``steps`` GD steps of size ``eta`` from ``w0``, zeros by
    default) or ``"truncated"`` (through the last ``truncate`` of them). ``steps`` and
    ``truncate`` may be arrays (they broadcast; the result has their shape).
    ``formulas`` overrides catalogue Formulas by short name (``{"ift_sensitivity": f}``).

    Example:
        >>> import numpy as np
        >>> from analytic import bilevel
        >>> x, y = np.eye(2), np.array([1.0, 2.0])
        >>> # H = I/2, w* = y / (1 + 2 ridge) = y/2: dL_val/dridge = (w* - y).(-2y/4)/2 = |y|^2/8
        >>> float(bilevel.ridge_hypergradient(x, y, x, y, 0.5))
        0.625
    """
    if method not in METHODS:
        raise ValueError(f"method must be one of {METHODS}, got {method!r}")
    x = _matrix("x_train", x_train)
    xv = _matrix("x_val", x_val)
    if xv.shape[1] != x.shape[1]:
        raise ValueError(f"x_val has {xv.shape[1]} features but x_train has {x.shape[1]}")
    y, yv = _targets("y_train", y_train, x.shape[0]), _targets("y_val", y_val, xv.shape[0])
    chosen = {short: FORMULAS[short]() for short in FORMULAS}
    chosen.update(formulas or {})
    curvatures, basis = np.linalg.eigh(x.T @ x / x.shape[0])
    curvatures = np.clip(curvatures, 0.0, None)  # round-off can make a zero eigenvalue -1e-17
    linear = basis.T @ (x.T @ y) / x.shape[0]
    mode = {"lam": curvatures, "ridge": ridge, "b": linear}
    if method == "implicit":
        if any(v is not None for v in (eta, steps, truncate, w0)):
            raise ValueError("method='implicit' takes no eta, steps, truncate or w0")
        weights = np.asarray(chosen["ridge_weight"](**mode))
        sensitivity = np.asarray(chosen["ift_sensitivity"](**mode))
    else:
        if eta is None or steps is None:
            raise ValueError(f"method={method!r} needs eta and steps")
        start = np.zeros(x.shape[1]) if w0 is None else _targets("w0", w0, x.shape[1])
        steps = np.asarray(steps, dtype=float)[..., None]
        unrolled = dict(mode, eta=eta, w0=basis.T @ start, T=steps)
        weights = np.asarray(chosen["unrolled_weight"](**unrolled))
        if method == "unrolled":
            if truncate is not None:
                raise ValueError("method='unrolled' takes no truncate (use method='truncated')")
            sensitivity = np.asarray(chosen["unrolled_sensitivity"](**unrolled))
        else:
            if truncate is None:
                raise ValueError("method='truncated' needs truncate (the K last steps)")
            unrolled["K"] = np.asarray(truncate, dtype=float)[..., None]
            sensitivity = np.asarray(chosen["truncated_sensitivity"](**unrolled))
    weights, sensitivity = weights @ basis.T, sensitivity @ basis.T  # modes -> features (last axis)
    outer_gradient = (weights @ xv.T - yv) @ xv / xv.shape[0]
    return np.sum(outer_gradient * sensitivity, axis=-1)
