r"""Risk of early-stopped least squares: finite-sample, Marchenko-Pastur limit, and the 1.6862 ratio.

Model: $y = X\beta_0 + \varepsilon$, $\varepsilon \sim (0, \sigma^2 I_n)$, $n > p$ here. An estimator with filter
$f$ on the eigen-pairs $(s_i, v_i)$ of $X^\top X/n$ has estimation risk
$E\lVert\hat\beta - \beta_0\rVert^2 = \sum_i (1 - f(s_i))^2 (v_i^\top\beta_0)^2 + \tfrac{\sigma^2}{n}\sum_i f(s_i)^2/s_i$
(bias and variance per mode; Ali, Kolter & Tibshirani 2019, arXiv:1810.10082v4, sec. 3):
:func:`spectral_risk`.

Marchenko-Pastur limit (isotropic Gaussian features, $p/n \to \gamma$, $\lVert\beta_0\rVert^2 = r^2$ in a
uniformly random direction): $r^2\int(1 - f)^2\,dF_\gamma + \sigma^2\gamma\int f^2/s\,dF_\gamma$ (their
sec. 5). For ridge this has a closed form (``linreg.ridge_risk``); for gradient flow,
$f = 1 - e^{-st}$, it has none, and :func:`gradient_flow_risk_mp` integrates it numerically: with
$s = c + h\cos\theta$ ($c = 1 + \gamma$, $h = 2\sqrt\gamma$) the density
$\sqrt{(b - s)(s - a)}/(2\pi\gamma s)$ becomes $h^2\sin^2\theta/(2\pi\gamma s)$, smooth in $\theta$, and
Gauss-Legendre nodes in $\theta$ converge spectrally; for $\gamma > 1$ the atom $1 - 1/\gamma$ at $s = 0$
adds $r^2(1 - 1/\gamma)$ (its filter is 0).

The ratio bound (their Theorem 1, v4; number from memory, the constant as in the abstract, "1.69"):
at $\rho = 1/t$, per mode with $x = st$, the bias ratio is $(e^{-x}(1 + x))^2 \le 1$ and the variance
ratio $\big((1 - e^{-x})(1 + x)/x\big)^2$; the risk of gradient flow is at most
$\sup_x$ of the latter times the ridge risk, for every $X$, $\beta_0$, $\sigma$ and $t$.
``risk_ratio_constant`` finds that supremum: sympy ``diff`` and ``nsolve`` of the stationarity
condition (a transcendental equation, no closed form): 1.68617... at $x = 1.7933...$.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from analytic._registry import Formulas
from analytic.formula import Formula
from analytic.references import cite

FORMULAS = Formulas("early_stopping")

_x = sp.Symbol("x", positive=True)  # s t: curvature times gradient-flow time


def variance_ratio_per_mode() -> sp.Expr:
    """``(f_gf(s, t) / f_ridge(s, 1/t))^2`` as a function of ``x = s t`` (from the two filter Formulas)."""
    from analytic.early_stopping._filters import _gradient_flow_filter, _ridge_filter
    from analytic.early_stopping._symbols import ridge
    from analytic.symbols import lam, t

    ratio = (_gradient_flow_filter().expr / _ridge_filter().expr.subs(ridge, 1 / t)) ** 2
    return sp.simplify(ratio.subs(lam, _x / t))


@FORMULAS.register("risk_ratio_constant")
def _risk_ratio_constant() -> Formula:
    ratio = variance_ratio_per_mode()
    stationary = sp.nsolve(sp.diff(sp.sqrt(ratio), _x), _x, 1.8, prec=30)
    value = sp.Float(ratio.subs(_x, stationary).evalf(30), 30)
    return Formula(
        expr=value, params=(), source=cite("ali2019", "Theorem 1 (constant 1.6862)"), derived=True,
        derivation=f"sup over x = s t of ((1 - exp(-x))(1 + x)/x)^2: sympy diff, nsolve -> x = {float(stationary):.6f}",
        conditions=("gradient flow at time t vs ridge at penalty 1/t, any X, beta_0, sigma (estimation risk)",),
        description="the constant C in Risk(gradient flow, t) <= C Risk(ridge, 1/t)",
    )


def spectral_risk(filters, spectrum, signal, noise_variance, n):
    """``sum (1 - f)^2 signal^2 + noise_variance/n sum f^2/s`` over the last axis (``signal = V^T beta_0``; numpy).

    Example:
        >>> float(spectral_risk([0.5], [2.0], [1.0], 1.0, 4))
        0.28125
    """
    filters, spectrum, signal = (np.asarray(a, dtype=float) for a in (filters, spectrum, signal))
    bias = np.sum((1 - filters) ** 2 * signal**2, axis=-1)
    return bias + noise_variance / n * np.sum(filters**2 / spectrum, axis=-1)


def _check(name, value, low=0.0):
    value = np.asarray(value, dtype=float)
    if not np.all(np.isfinite(value)) or np.any(value < low) or (low == 0.0 and np.any(value <= 0) and name != "r2"):
        raise ValueError(f"{name} must be finite and {'positive' if low == 0.0 else f'>= {low}'}, got {value!r}")


def gradient_flow_risk_mp(t, gamma, r2, sigma2, filter=None, nodes: int = 200):
    r"""Marchenko-Pastur limit of gradient flow's estimation risk at time ``t`` (quadrature, see the module).

    ``filter`` is the ``gradient_flow_filter`` Formula (the default) or a replacement; ``t``
    broadcasts. Example:
        >>> round(float(gradient_flow_risk_mp(0.0, 0.5, 1.0, 1.0)), 12)  # t = 0: beta = 0, risk r2
        1.0
    """
    if filter is None:
        from analytic.early_stopping import gradient_flow_filter as filter
    for name, value in (("gamma", gamma), ("sigma2", sigma2)):
        _check(name, value)
    if not np.all(np.asarray(r2, dtype=float) >= 0) or not np.all(np.asarray(t, dtype=float) >= 0):
        raise ValueError(f"r2 and t must be >= 0, got r2={r2!r}, t={t!r}")
    theta, weights = np.polynomial.legendre.leggauss(nodes)
    theta, weights = (theta + 1) * np.pi / 2, weights * np.pi / 2
    centre, half = 1 + gamma, 2 * np.sqrt(gamma)
    s = centre + half * np.cos(theta)
    density = half**2 * np.sin(theta) ** 2 / (2 * np.pi * gamma * s) * weights  # dF on the nodes
    f = np.asarray(filter.jax(s, np.asarray(t, dtype=float)[..., None]))
    continuous = r2 * np.sum((1 - f) ** 2 * density, axis=-1) + sigma2 * gamma * np.sum(f**2 / s * density, axis=-1)
    return continuous + r2 * max(0.0, 1 - 1 / gamma)
