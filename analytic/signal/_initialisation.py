r"""Initialisation as a solved equation: Kaiming, Glorot/Xavier, the order/chaos boundary, depth scales.

Conventions: ``sigma_w`` is the normalised weight scale of :func:`analytic.kernels.fc_kernels`
(per-weight variance $\sigma_w^2/\mathrm{fan\_in}$); the ``*_variance`` Formulas return the
per-weight variance. Forward: $q^{l+1} = \sigma_w^2 E[\phi(\sqrt{q^l}z)^2] + \sigma_b^2$
(Poole et al. 2016, arXiv:1606.05340v2, eq. (3); Schoenholz et al. 2017, arXiv:1611.01232v2,
eq. (3)); backward: a squared gradient norm gains $\chi_1 = \sigma_w^2 E[\phi'(\sqrt{q^*}z)^2]$
per layer (Schoenholz et al. sec. 5). Equation and section numbers here are unconfirmed (not checked
against the pinned arXiv versions).
"""

from __future__ import annotations

import sympy as sp

from analytic import kernels
from analytic._registry import Formulas
from analytic.formula import Formula
from analytic.symbols import q, sigma_b, sigma_w
from analytic.references import cite
from analytic.signal._symbols import chi, fan_in, fan_out, layers, slope0

FORMULAS = Formulas("signal")

_v = sp.Symbol("v", positive=True)  # per-weight variance, a solve variable only


def _forward_gain_sigma_w2(variance_map: sp.Expr) -> sp.Expr:
    """sigma_w^2 with q -> q (sigma_b = 0): the forward map preserves the variance."""
    s2 = sp.Symbol("s2", positive=True)
    (root,) = sp.solve(sp.Eq(variance_map.subs({sigma_b: 0, sigma_w: sp.sqrt(s2)}), q), s2)
    return sp.simplify(root)


@FORMULAS.register("kaiming_variance")
def _kaiming_variance() -> Formula:
    sigma_w2 = _forward_gain_sigma_w2(kernels.relu_variance_map.expr)  # = 2
    return Formula(
        expr=sigma_w2 / fan_in, params=(fan_in,),
        source=f"{cite('he2015', 'eq. (10), number unconfirmed')}; "
               f"{cite('schoenholz2017', 'eq. (3), number unconfirmed')}",
        derived=True,
        derivation="sympy.solve of kernels.relu_variance_map(q; sigma_w, sigma_b=0) = q for sigma_w^2 "
                   "(= 2), divided by fan_in (sigma_w^2 / fan_in is the per-weight variance)",
        description="per-weight variance that preserves the forward variance of a ReLU layer (Kaiming/He)")


def _glorot(gain_forward: sp.Expr, gain_backward: sp.Expr) -> sp.Expr:
    # forward: Var(h') = v fan_in g_f Var(h); backward: Var(dL/da) = v fan_out g_b Var(dL/dh').
    # Both = 1 needs fan_in g_f = fan_out g_b; Glorot's compromise averages the two conditions.
    (root,) = sp.solve(sp.Eq((_v * fan_in * gain_forward + _v * fan_out * gain_backward) / 2, 1), _v)
    return sp.simplify(root)


@FORMULAS.register("xavier_variance")
def _xavier_variance() -> Formula:
    return Formula(
        expr=_glorot(1, 1), params=(fan_in, fan_out),
        source=cite("glorot2010", "eq. (12), number unconfirmed"),
        derived=True,
        derivation="sympy.solve of (v fan_in + v fan_out)/2 = 1: the mean of the forward (v fan_in = 1) "
                   "and backward (v fan_out = 1) conditions of a layer with phi'(0) = 1 in its linear regime",
        description="Glorot/Xavier per-weight variance 2/(fan_in + fan_out) (phi'(0) = 1)")


@FORMULAS.register("relu_xavier_variance")
def _relu_xavier_variance() -> Formula:
    half = kernels.relu_chi1.expr.subs(sigma_w, 1)  # E[relu'(z)^2] = 1/2 = E[relu(z)^2]/q
    return Formula(
        expr=_glorot(half, half), params=(fan_in, fan_out),
        source=f"{cite('glorot2010', 'eq. (12), number unconfirmed')}; "
               f"{cite('he2015', 'sec. 2.2, number unconfirmed')}",
        derived=True,
        derivation="as signal.xavier_variance with forward and backward gains 1/2 (kernels.relu_chi1 "
                   "at sigma_w = 1; E[relu(z)^2]/q = 1/2)",
        description="ReLU analogue of Glorot/Xavier: 4/(fan_in + fan_out)")


@FORMULAS.register("relu_critical_sigma_w")
def _relu_critical_sigma_w() -> Formula:
    roots = sp.solve(sp.Eq(kernels.relu_chi1.expr, 1), sigma_w)
    (root,) = [r for r in roots if r.is_positive]
    return Formula(
        expr=root, params=(),
        source=cite("schoenholz2017", "eq. (5), number unconfirmed"), derived=True,
        derivation="sympy.solve of kernels.relu_chi1 = sigma_w^2/2 = 1 (independent of q and sigma_b)",
        conditions=("for sigma_b > 0 the variance grows without bound (q^{l+1} = q^l + sigma_b^2): no q*; "
                    "chi_1 = chi_c = 1 exactly, so xi_c = oo and correlations approach 1 polynomially",),
        description="normalised sigma_w on the ReLU order/chaos boundary chi_1 = 1 (sqrt 2, Kaiming)")


@FORMULAS.register("zero_bias_critical_sigma_w")
def _zero_bias_critical_sigma_w() -> Formula:
    # phi(0) = 0 and sigma_b = 0: q* = 0 is a fixed point, where chi_1 = sigma_w^2 phi'(0)^2.
    (root,) = [r for r in sp.solve(sp.Eq(sigma_w**2 * slope0**2, 1), sigma_w) if r.is_positive]
    return Formula(
        expr=root, params=(slope0,),
        source=f"{cite('glorot2010', 'sec. 4.2.1, number unconfirmed')}; "
               f"{cite('schoenholz2017', 'eq. (5), number unconfirmed')}",
        derived=True,
        derivation="sympy.solve of chi_1(q* = 0) = sigma_w^2 phi'(0)^2 = 1",
        conditions=("odd activations with phi(0) = 0 and sigma_b = 0 (tanh, erf, sin, linear), where q* = 0 "
                    "is the attracting fixed point for sigma_w <= 1/phi'(0)",),
        description="critical sigma_w at sigma_b = 0: 1 for tanh and linear (Xavier), sqrt(pi)/2 for erf")


def _erf_boundary_stable() -> sp.Expr:
    r"""The boundary without $\sigma_w^4$ (NaN for $\sigma_w > 10^{77}$, inf/inf): with
    $v = \pi/(4\sigma_w^2) \le 1$ and $\arcsin\frac{1 - v^2}{1 + v^2} = \frac\pi2 - 2\arctan v$,
    $\sigma_b = \frac{2\sigma_w^2}\pi\sqrt{1 - v^2 - \pi v + 4 v \arctan v}$. The root still cancels
    like $(1 - v)^3$ at the edge $\sigma_w = \sqrt\pi/2$ (there the value is known only to
    $\epsilon/(1 - v)^3$ relative)."""
    v = sp.pi / (4 * sigma_w**2)
    inside = 1 - v**2 - sp.pi * v + 4 * v * sp.atan(v)
    # Near the edge, with delta = 1 - v: h(1) = h'(1) = 0 and h''(v) = 2 (3 + v^2)(1 - v^2)/(1 + v^2)^2,
    # so h(1 - delta) = sum_m a_m delta^(m+2) / ((m+1)(m+2)), a_m the Taylor coefficients of h''(1 - t)
    # (a rational function: its series by the recurrence of num/den). Radius sqrt(2): 32 terms reach
    # round-off for delta <= 0.2, where the direct form has lost ~3 digits.
    t = sp.Symbol("t")
    w = 1 - t
    num = sp.Poly(sp.expand(2 * (3 + w**2) * (1 - w**2)), t).all_coeffs()[::-1]
    den = sp.Poly(sp.expand((1 + w**2) ** 2), t).all_coeffs()[::-1]
    a: list = []
    for m in range(32):
        known = (num[m] if m < len(num) else 0) - sum(den[i] * a[m - i] for i in range(1, min(m, len(den) - 1) + 1))
        a.append(sp.Rational(known) / den[0])
    delta = (4 * sigma_w**2 - sp.pi) / (4 * sigma_w**2)
    near_edge = sum(a[m] / ((m + 1) * (m + 2)) * delta ** (m + 2) for m in range(32))
    h = sp.Piecewise((near_edge, delta <= sp.Rational(1, 5)), (sp.Max(inside, 0), True))
    return sigma_w * sp.UnevaluatedExpr(sigma_w * 2 / sp.pi * sp.sqrt(h))


@FORMULAS.register("erf_order_chaos_boundary")
def _erf_order_chaos_boundary() -> Formula:
    chi1 = kernels.erf_chi1.expr  # (q, sigma_w)
    (q_c,) = sp.solve(sp.Eq(chi1, 1), q)
    dual = kernels.erf_variance_map.expr.subs(sigma_b, 0)  # sigma_w^2 E[erf^2] at q
    sigma_b2 = sp.simplify(q_c - dual.subs(q, q_c))
    return Formula(
        expr=sp.sqrt(sigma_b2), params=(sigma_w,),
        evaluate_as=_erf_boundary_stable(),
        source=f"{cite('schoenholz2017', 'eqs. (3), (5), number unconfirmed')}; "
               f"{cite('williams1997', 'eq. (11), number unconfirmed')}",
        derived=True,
        derivation="sympy.solve of kernels.erf_chi1(q, sigma_w) = 1 for q, then sigma_b^2 = q - "
                   "sigma_w^2 E[erf(sqrt(q) z)^2] from the fixed point of kernels.erf_variance_map",
        domains={"sigma_w": sp.Interval(sp.sqrt(sp.pi) / 2, sp.oo)},
        description="the erf order/chaos boundary chi_1 = 1 as sigma_b(sigma_w)")


@FORMULAS.register("depth_scale")
def _depth_scale() -> Formula:
    xi = sp.Symbol("xi", positive=True)
    (root,) = sp.solve(sp.Eq(sp.log(chi), -1 / xi), xi)  # chi^l = exp(-l / xi)
    return Formula(
        expr=root, params=(chi,),
        source=cite("schoenholz2017", "eqs. (7)-(9), number unconfirmed"), derived=True,
        derivation="sympy.solve of chi^l = exp(-l/xi) for xi (a deviation shrinking by chi per layer)",
        domains={"chi": sp.Interval.open(0, 1)},
        description="depth scale xi = -1/log(chi): xi_q with chi_q, xi_c with chi_c")


@FORMULAS.register("gradient_growth")
def _gradient_growth() -> Formula:
    n = sp.Symbol("n", integer=True, nonnegative=True)
    g = sp.Function("g")
    solution = sp.rsolve(g(n + 1) - chi * g(n), g(n), {g(0): 1})
    return Formula(
        expr=solution.subs(n, layers), params=(chi, layers),
        source=cite("schoenholz2017", "sec. 5 (eq. (15)), number unconfirmed"), derived=True,
        derivation="sympy.rsolve of g(n+1) = chi_1 g(n), g(0) = 1 (mean-field backpropagation)",
        description="ratio of squared gradient norms |dL/dh^l|^2 / |dL/dh^L|^2 = chi_1^(L-l)")
