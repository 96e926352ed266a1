r"""Spectral filters of early-stopped gradient descent, gradient flow and ridge regression.

Least squares $\tfrac1{2n}\lVert y - X\beta\rVert^2$ from $\beta_0 = 0$; in the eigenbasis of
$X^\top X/n$ (eigenvalue ``lam`` $= s$) every estimator is $\hat\beta = \sum_i f(s_i)\,
v_i v_i^\top\hat\beta^{\rm ls}$ with a *filter* $f$ (Ali, Kolter & Tibshirani 2019,
arXiv:1810.10082v4, sec. 2-3). What sympy derives:

* ``gd_filter``: $1 - (1 - \eta s)^t$ (``rsolve`` of $\beta_{t+1} = \beta_t + \eta(b - s\beta_t)$,
  divided by the least-squares value $b/s$);
* ``gradient_flow_filter``: $1 - e^{-st}$ (``dsolve`` of $\dot\beta = b - s\beta$); $t$ is the
  flow time, $\eta t$ for $t$ GD steps;
* ``ridge_filter``: $s/(s + \rho)$ (``solve`` of the ridge stationarity condition);
* ``matched_ridge``: $\rho = 1/(\eta t)$, from matching the filters' slopes at $s = 0$
  (``series``): $\eta t\,s$ vs $s/\rho$; it is the paper's calibration $\lambda = 1/t$ with
  gradient-flow time $\eta t$.
"""

from __future__ import annotations

import sympy as sp
from sympy.codegen.cfunctions import expm1, log1p

from analytic._registry import Formulas
from analytic.early_stopping._symbols import ridge
from analytic.formula import Formula
from analytic.references import cite
from analytic.symbols import eta, lam, t

FORMULAS = Formulas("early_stopping")

_b = sp.Symbol("b", real=True)  # one mode's component of X^T y / n
_MODE = "one eigen-mode of X^T X / n (curvature lam), started at beta = 0"


@FORMULAS.register("gd_filter")
def _gd_filter() -> Formula:
    k, f = sp.Symbol("k", integer=True, nonnegative=True), sp.Function("f")
    solution = sp.rsolve(f(k + 1) - f(k) - eta * (_b - lam * f(k)), f(k), {f(0): 0}).subs(k, t)
    filt = sp.factor(sp.simplify(solution / (_b / lam)))
    stable = sp.Piecewise((-expm1(t * log1p(-eta * lam)), eta * lam < 1), (filt, True))
    return Formula(
        expr=filt, params=(eta, lam, t), evaluate_as=stable, domains={"t": sp.Naturals0},
        source=cite("ali2019", "sec. 2 (gradient descent iterates, Lemma 2)"), derived=True,
        derivation="sympy rsolve of beta_{t+1} = beta_t + eta (b - lam beta_t), beta_0 = 0, over b/lam",
        conditions=(_MODE, "t gradient-descent steps with learning rate eta"),
        description="GD filter: the fraction of the least-squares coefficient reached after t steps",
    )


@FORMULAS.register("gradient_flow_filter")
def _gradient_flow_filter() -> Formula:
    f = sp.Function("f")
    solution = sp.dsolve(sp.Eq(f(t).diff(t), _b - lam * f(t)), f(t), ics={f(0): 0}).rhs
    filt = sp.expand(sp.simplify(solution / (_b / lam)))
    return Formula(
        expr=filt, params=(lam, t), evaluate_as=-expm1(-lam * t),
        source=cite("ali2019", "sec. 2, Lemma 1 (gradient flow)"), derived=True,
        derivation="sympy dsolve of d beta/dt = b - lam beta, beta(0) = 0, over b/lam",
        conditions=(_MODE, "t is gradient-flow time (eta times the number of GD steps)"),
        description="gradient-flow filter 1 - exp(-lam t)",
    )


@FORMULAS.register("ridge_filter")
def _ridge_filter() -> Formula:
    w = sp.Symbol("w", real=True)
    (solution,) = sp.solve(sp.diff(lam / 2 * w**2 - _b * w + ridge / 2 * w**2, w), w)
    return Formula(
        expr=sp.simplify(solution / (_b / lam)), params=(lam, ridge),
        source=cite("ali2019", "sec. 2 (ridge regression)"), derived=True,
        derivation="sympy solve of d/dw [lam w^2/2 - b w + ridge w^2/2] = 0, over b/lam",
        conditions=(_MODE,), description="ridge filter lam / (lam + ridge)",
    )


@FORMULAS.register("matched_ridge")
def _matched_ridge() -> Formula:
    gd_slope = sp.series(_gd_filter().expr, lam, 0, 2).removeO().coeff(lam)
    ridge_slope = sp.series(_ridge_filter().expr, lam, 0, 2).removeO().coeff(lam)
    (matched,) = sp.solve(sp.Eq(gd_slope, ridge_slope), ridge)
    return Formula(
        expr=matched, params=(eta, t), domains={"t": sp.Interval.open(0, sp.oo)},
        source=cite("ali2019", "sec. 1 and Theorem 1 (calibration lambda = 1/t)"), derived=True,
        derivation="sympy series of both filters at lam = 0: eta t lam = lam / ridge, solved for ridge",
        conditions=("t > 0 GD steps with learning rate eta (gradient-flow time eta t)",),
        description="the ridge penalty whose filter matches t GD steps at small curvature",
    )
