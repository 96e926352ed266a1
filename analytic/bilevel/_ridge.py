r"""Ridge regression as the inner problem: the hypergradient per eigen-mode, three ways.

Inner problem: $\hat w(\rho) = \arg\min_w \tfrac1{2n}\lVert Xw - y\rVert^2 + \tfrac\rho2\lVert w\rVert^2$
(``ridge`` $= \rho$). In the eigenbasis of $H = X^\top X/n$ (eigenvalue ``lam`` $=\lambda$) the
inner loss of one mode is $\tfrac{\lambda}{2}w^2 - b\,w + \tfrac{\rho}{2}w^2$ with
$b = v^\top X^\top y/n$; every mode moves on its own, with curvature $a = \lambda + \rho$
and GD factor $r = 1 - \eta a$. Outer problem: a validation loss $L_{\rm val}(w)$; the
hypergradient is $\frac{d}{d\rho}L_{\rm val}(w(\rho)) = \nabla L_{\rm val}(w)^\top \frac{dw}{d\rho}$,
so per mode it is the *sensitivity* $dw/d\rho$ that carries the method.

What sympy derives here, from the inner loss alone:

* ``ridge_weight``: $w^\star = b/a$ (``solve`` of the stationarity condition);
* ``ift_sensitivity``: the implicit function theorem,
  $dw^\star/d\rho = -(\partial_w^2 L)^{-1}\partial_w\partial_\rho L = -b/a^2$
  (Bengio 2000; also Pedregosa 2016, arXiv:1602.02355v6, the latest version (22 Nov 2022);
  no equation number cited);
* ``unrolled_weight``: $w_T = b/a + (w_0 - b/a)\,r^T$ (``rsolve`` of the GD recurrence);
* ``unrolled_sensitivity``: $dw_T/d\rho = -\tfrac{b}{a^2}(1 - r^T) - \eta T r^{T-1}(w_0 - b/a)$,
  whose bias against the IFT value, $\tfrac{b}{a^2}r^T - \eta T r^{T-1}(w_0 - b/a)$, decays
  as a power of $1 - \eta(\lambda + \rho)$;
* ``truncated_sensitivity``: backpropagation through the last $K$ of $T$ steps only (the
  iterate $w_{T-K}$ held constant),
  $-\tfrac{b}{a^2}(1 - r^K) - \eta K r^{T-1}(w_0 - b/a)$: its bias against the IFT value
  decays as $r^K$ once $T \gg K$ (Shaban, Cheng, Hatch, Boots 2019, AISTATS,
  arXiv:1810.10667v2, sec. 3, section number not checked against v2).

The derivation works with $a$ as a symbol ($\rho$ enters the recurrence only through
$a$, so $d/d\rho = d/da$) and writes $r$ back at the end.
"""

from __future__ import annotations

import sympy as sp
from sympy.codegen.cfunctions import expm1, log1p

from analytic._registry import Formulas
from analytic.bilevel._symbols import K, T, b, ridge, w0
from analytic.formula import Formula
from analytic.references import cite
from analytic.symbols import eta, lam

FORMULAS = Formulas("bilevel")

_w = sp.Symbol("w", real=True)  # the weight of one mode (a dummy of the derivation)
_a = sp.Symbol("a", positive=True)  # the mode's curvature lam + ridge
_r = sp.Symbol("r", real=True)  # the mode's GD factor 1 - eta (lam + ridge)
_start = sp.Symbol("start", real=True)  # the iterate truncated backprop holds constant


def _inner_loss(curvature) -> sp.Expr:
    """One mode of ``|Xw - y|^2/(2n) + ridge/2 |w|^2`` (up to a constant)."""
    return curvature / 2 * _w**2 - b * _w


def _gd_solution(steps, start) -> sp.Expr:
    """``w_steps`` of GD with step ``eta`` from ``start`` on one mode of curvature ``a`` (rsolve)."""
    n, f = sp.Symbol("n", integer=True, nonnegative=True), sp.Function("f")
    step = (_w - eta * sp.diff(_inner_loss(_a), _w)).subs(_w, f(n))
    return sp.rsolve(f(n + 1) - step, f(n), {f(0): start}).subs(n, steps)


def _in_lam_ridge(expr: sp.Expr) -> sp.Expr:
    """Write ``r`` and ``a`` back as ``1 - eta (lam + ridge)`` and ``lam + ridge``."""
    tidy = sp.powsimp(sp.expand(expr.subs(1 - _a * eta, _r)))
    tidy = sp.collect(tidy, [_r ** (T - 1), _r**T, _r**K], sp.factor)
    return tidy.subs({_r: 1 - eta * (lam + ridge), _a: lam + ridge})


_MODE = "per eigen-mode of H = X^T X / n (curvature lam, linear term b = v^T X^T y / n)"


@FORMULAS.register("ridge_weight")
def _ridge_weight() -> Formula:
    loss = _inner_loss(lam + ridge)
    (solution,) = sp.solve(sp.diff(loss, _w), _w)
    return Formula(
        expr=solution, params=(lam, ridge, b), source=cite("bengio2000", "sec. 3 (quadratic training criterion)"),
        derived=True, derivation="sympy solve of d/dw [lam/2 w^2 - b w + ridge/2 w^2] = 0",
        conditions=(_MODE,), description="ridge solution w* = b / (lam + ridge) of one mode",
    )


@FORMULAS.register("ift_sensitivity")
def _ift_sensitivity() -> Formula:
    loss = _inner_loss(lam + ridge)
    mixed, curvature = sp.diff(loss, _w, ridge), sp.diff(loss, _w, 2)
    sensitivity = sp.simplify((-mixed / curvature).subs(_w, _ridge_weight().expr))
    return Formula(
        expr=sensitivity, params=(lam, ridge, b), source=cite("bengio2000", "sec. 3 (implicit differentiation)"),
        derived=True,
        derivation="implicit function theorem: dw*/dridge = -(d2L/dw2)^-1 d2L/(dw dridge) at w* (sympy diff)",
        conditions=(_MODE, "the hypergradient is grad L_val(w*) . V dw*/dridge summed over modes"),
        description="exact sensitivity dw*/dridge of the ridge solution (implicit differentiation)",
    )


def _stable_unrolled(expr: sp.Expr, kind: str, k: sp.Symbol) -> sp.Expr:
    r"""The unrolled forms without cancellation for small $\eta s$ ($s = \lambda + \text{ridge}$).

    With $L = \log(1 - \eta s)$ (log1p) and $q^k = e^{kL}$: the weight $w_0 q^T + b(1 - q^T)/s$
    and the sensitivity $-k\eta(w_0 - b/s) q^{T-1} + (b/s)(q^k - 1)/s$ ($k = T$ unrolled, $k = K$
    truncated), where $q^k - 1 = \mathrm{expm1}(kL)$ keeps the digits that $1 - \eta s$ rounds
    away (2e-4 relative at $\eta s = 4\cdot10^{-15}$, 0 instead of the value at $10^{-300}$). For
    $\eta s \ge 1$ ($q \le 0$, no logarithm) the sympy form is evaluated. Checked equal to ``expr``
    at 50 digits in tests/test_accuracy.py.
    """
    s = lam + ridge
    L = log1p(-eta * s)
    ratio = sp.UnevaluatedExpr
    if kind == "weight":
        stable = w0 * sp.exp(T * L) - b * ratio(expm1(T * L) / s)
        return sp.Piecewise((stable, eta * s < 1), (expr, True))
    stable = -k * eta * (w0 - ratio(b / s)) * sp.exp((T - 1) * L) + ratio(b / s) * ratio(expm1(k * L) / s)
    # The b terms still cancel to O(T^2 u^2) (u = eta s): their bracket k u q^(T-1) + q^k - 1 is, by the
    # binomial theorem, sum_{j>=2} (-1)^j [C(k, j) - k C(T-1, j-1)] u^j; its terms shrink like T u / j,
    # so 14 of them reach round-off for T u <= 1e-2.
    u = eta * s

    def choose(n, j):
        return sp.Mul(*[(n - i) for i in range(j)]) / sp.factorial(j)

    bracket = sum((-1) ** j * (choose(k, j) - k * choose(T - 1, j - 1)) * u**j for j in range(2, 16))
    series = -k * eta * w0 * sp.exp((T - 1) * L) + ratio(b / s) * ratio(bracket / s)
    return sp.Piecewise((series, (T * u <= sp.Rational(1, 100)) & (u < 1)), (stable, u < 1), (expr, True))


@FORMULAS.register("unrolled_weight")
def _unrolled_weight() -> Formula:
    return Formula(
        expr=_in_lam_ridge(_gd_solution(T, w0)), params=(eta, lam, ridge, b, w0, T),
        evaluate_as=_stable_unrolled(_in_lam_ridge(_gd_solution(T, w0)), "weight", T),
        source=cite("shaban2019", "sec. 3 (unrolled GD on a quadratic)"), derived=True,
        derivation="sympy rsolve of w_{t+1} = w_t - eta ((lam + ridge) w_t - b), w_0 = w0",
        conditions=(_MODE, "GD from w0 with step eta for T steps"),
        description="w_T of T inner GD steps on one ridge mode",
    )


@FORMULAS.register("unrolled_sensitivity")
def _unrolled_sensitivity() -> Formula:
    return Formula(
        expr=_in_lam_ridge(sp.diff(_gd_solution(T, w0), _a)), params=(eta, lam, ridge, b, w0, T),
        evaluate_as=_stable_unrolled(_in_lam_ridge(sp.diff(_gd_solution(T, w0), _a)), "sensitivity", T),
        source=cite("shaban2019", "sec. 3 (full backpropagation through T steps)"), derived=True,
        derivation="sympy: d/dridge of the rsolve solution w_T (ridge enters through a = lam + ridge only)",
        conditions=(_MODE, "what jax.grad through the T-step loop computes; -> ift_sensitivity as "
                    "T -> oo when |1 - eta (lam + ridge)| < 1"),
        description="sensitivity dw_T/dridge of T unrolled GD steps (full backpropagation)",
    )


@FORMULAS.register("truncated_sensitivity")
def _truncated_sensitivity() -> Formula:
    last_k = sp.diff(_gd_solution(K, _start), _a)  # the K-step map, differentiated with its start fixed
    return Formula(
        expr=_in_lam_ridge(last_k.subs(_start, _gd_solution(T - K, w0))), params=(eta, lam, ridge, b, w0, T, K),
        evaluate_as=_stable_unrolled(_in_lam_ridge(last_k.subs(_start, _gd_solution(T - K, w0))),
                                     "sensitivity", K),
        source=cite("shaban2019", "sec. 3 (K-step truncated backpropagation)"), derived=True,
        derivation="sympy: d/dridge of the K-step rsolve map with its start w_{T-K} held constant, "
                   "then w_{T-K} substituted from rsolve",
        conditions=(_MODE, "K <= T; K = T is full backpropagation"),
        constraints=(sp.Le(K, T),),
        description="sensitivity dw_T/dridge of K-step truncated backpropagation through T GD steps",
    )
