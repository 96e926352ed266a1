r"""Kernel motion: the O(1/n) change of the NTK in training and the gap to the Taylor models.

**Model.** A two-layer network in NTK parameterisation trained on one datum $x$
($\lVert x\rVert^2 = d$) with target $y$ by gradient flow on $\tfrac12(f - y)^2$:
$f = n^{-1/2}\sum_i a_i\phi(w_i\cdot x/\sqrt d)$, $a_i, w_{ij} \sim N(0, 1)$, $\phi = \sin$. Only
$u_i = w_i\cdot x/\sqrt d \sim N(0, 1)$ and $a_i$ move (the gradient in $w_i$ is along $x$, of
norm 1 per unit of $u_i$), so each unit is a point $(a, u)$ with output $F = a\phi(u)$, gradient
flow $\dot{(a, u)} = -r\,\nabla F/\sqrt n$, $r = f - y$. For any per-unit function $h$,
$\tfrac{d}{dt}\sum_i h_i = -r\,n^{-1/2}\sum_i Dh_i$ with $D = \nabla F\cdot\nabla$. Hence the
hierarchy (Dyer & Gur-Ari 2019, arXiv:1909.11304v1, sec. 3.1; Huang & Yau 2019,
arXiv:1909.08156v1, the neural tangent hierarchy):
$$\Theta = \tfrac1n\sum_i g_i,\ g = DF = \lVert\nabla F\rVert^2,\qquad \dot\Theta = -O_3\,r,\
O_3 = n^{-3/2}\sum_i Dg_i,\qquad \dot O_3 = -O_4\,r,\ O_4 = n^{-2}\sum_i D^2g_i.$$

**Orders in $1/n$** (what sympy computes). $Dg = 2\nabla F^\top H\nabla F$ is odd in $a$, so
$E\,Dg = 0$ and $O_3$ is a sum of $n$ centred terms times $n^{-3/2}$: $O(n^{-1})$; $O_4$ has a
mean, $n^{-2}\cdot n$: $O(n^{-1})$. Both the NTK's change and the network's gap to its
linearised model are $O(1/n)$: the exponent $-1$ (``kernel_motion_exponent``). Lee et al.
(2019, arXiv:1902.06720v4, Thm 2.1) bound the change by $O(n^{-1/2})$, an upper bound.

**Coefficients** (leading order, gradient flow, at time $t$). With $\bar\Theta = E\,g$,
$q = E f_0^2$, $A = E[Dg\,F]$, $B = E[D^2g]$ (one unit; Gaussian expectations done exactly
by sympy: $\sin u = (z - z^{-1})/2i$, $E z^k = e^{-k^2/2}$), $r^{(0)}(s) = r_0e^{-\bar\Theta s}$
and $R(s) = \int_0^s r^{(0)} = r_0(1 - e^{-\bar\Theta s})/\bar\Theta$:
$\Theta_t - \Theta_0 = -O_3R + \tfrac12 O_4R^2$ and
$f_t - f^{\rm lin}_t = -\int_0^t e^{-\bar\Theta(t-s)}(\Theta_s - \Theta_0)\,r^{(0)}(s)\,ds$ (the
linearised model is $r^{\rm lin} = r_0e^{-\Theta_0 t}$ exactly), whose means need
$nE[O_3r_0] = A$, $nE[O_3r_0^2] = -2yA$, $nE[O_4r_0^2] = B(q + y^2)$,
$nE[O_4r_0^3] = -By(3q + y^2)$ (odd moments of the symmetric $f_0$ vanish; the fluctuations of
$\Theta_0$ enter at $O(n^{-3/2})$). For sin: $\bar\Theta = 1$, $q = (1 - e^{-2})/2$,
$A = -(1 - e^{-8})/4$, $B = -(1 + 2e^{-2} + e^{-8})/2$.

**The second-order Taylor model** has the network's $\nabla F$ and $H$ at initialisation, so the
same $\Theta_0$ and $O_3$, but no third derivative: its $D^2g = 4\nabla F^\top H^2\nabla F$ drops
the $2\,T(\nabla F, \nabla F, \nabla F)$ of the network ($T$ = third derivative of $F$), also
$O(1/n)$. So it removes the dNTK ($O_3$) part of the gap, not the $1/n$ term: what remains is
$(B - B_{\rm quad})$ from the ddNTK ($O_4$) term, $B - B_{\rm quad} = 2E\,T = -3(1 + e^{-2})$ for sin.

Derived here: every coefficient and exponent above, for sin. Not derived: tanh (its Gaussian
moments have no closed form) and ReLU (its $O_4$ is a delta function at the kink: activation
patterns flip, measured separately).
"""

from __future__ import annotations

import functools

import sympy as sp
from sympy.codegen.cfunctions import expm1

from analytic._registry import Formulas
from analytic.formula import Formula
from analytic.references import cite
from analytic.symbols import t
from analytic.width._symbols import target

FORMULAS = Formulas("width")

_a, _u, _z, _s = sp.Symbol("a", real=True), sp.Symbol("u", real=True), sp.Symbol("z"), sp.Symbol("s", nonnegative=True)
_SERIES_ORDER = 24  # Taylor terms in t for t < 1/2: the next, ~(3t)^24/24!, is below 1e-17 of the sum
_CONDITIONS = ("two-layer network f = n^-1/2 sum_i a_i sin(w_i . x / sqrt(d)), NTK parameterisation, a, w ~ N(0, 1)",
               "one training input with |x|^2 = d and target `target`; gradient flow on (f - target)^2 / 2",
               "leading order in 1/width: the value is lim width x (mean over initialisations)")


def _gaussian_mean(expr) -> sp.Expr:
    """E[expr] over independent a, u ~ N(0, 1) for expr polynomial in a and in sin u, cos u.

    sin u = (z - 1/z)/(2i), cos u = (z + 1/z)/2 with z = e^{iu}; E z^k = e^{-k^2/2}; E a^(2m) = (2m - 1)!!.
    """
    laurent = sp.expand(expr.subs({sp.sin(_u): (_z - 1 / _z) / (2 * sp.I), sp.cos(_u): (_z + 1 / _z) / 2}))
    total = sp.Integer(0)
    for term in sp.Add.make_args(laurent):
        powers = term.as_powers_dict()
        ka, kz = int(powers.get(_a, 0)), int(powers.get(_z, 0))
        coefficient = term / (_a**ka * _z**kz)
        moment = 0 if ka % 2 else sp.factorial2(ka - 1)
        total += coefficient * moment * sp.exp(-sp.Rational(kz**2, 2))
    total = sp.expand(total)
    assert not total.has(sp.I), total  # E z^k = E z^-k: the imaginary parts cancel
    return total


@functools.cache
def unit_constants() -> dict[str, sp.Expr]:
    """(Theta, q, A, B, B_quad, E Dg) of one sin unit F = a sin(u), by exact Gaussian expectations."""
    unit = _a * sp.sin(_u)
    grad = sp.Matrix([sp.diff(unit, _a), sp.diff(unit, _u)])
    hessian = sp.hessian(unit, (_a, _u))

    def along(h):  # D h = grad F . grad h
        return grad[0] * sp.diff(h, _a) + grad[1] * sp.diff(h, _u)

    g = sp.expand(along(unit))
    dg = sp.expand(along(g))
    assert sp.expand(dg - 2 * (grad.T * hessian * grad)[0]) == 0  # D g = 2 grad^T H grad
    return {"theta": _gaussian_mean(g), "q": _gaussian_mean(unit**2), "A": _gaussian_mean(dg * unit),
            "B": _gaussian_mean(along(dg)), "B_quad": _gaussian_mean(4 * (grad.T * hessian * hessian * grad)[0]),
            "mean_dg": _gaussian_mean(dg)}


_E = sp.Symbol("E", positive=True)  # e^{-s} (or e^{-t}) while integrating


def _relaxation(s_):
    """(1 - e^{-Theta s}) / Theta with Theta = 1 (sympy checks Theta = 1 for sin)."""
    assert unit_constants()["theta"] == 1
    return 1 - sp.exp(-s_)


def _integrate_in_time(integrand) -> sp.Expr:
    """int_0^t integrand(s) ds for an integrand polynomial in e^{-s}: term by term, e^{-ks} -> (1 - e^{-kt})/k.

    (Equal to sympy.integrate, which tests/test_width.py checks; this is faster.) The result is
    written with e^{-kt}, k >= 0 only, so that it neither overflows nor cancels at large t.
    """
    poly = sp.Poly(sp.expand(integrand.subs(sp.exp(-_s), _E)), _E)
    total = sp.Integer(0)
    for (k,), coefficient in poly.terms():
        total += coefficient * (t if k == 0 else (1 - _E**k) / k)
    return total


def _numeric(coefficient) -> sp.Float:
    """An exact constant (rationals and e^-k) as a 25-digit Float: the evaluated form stays short."""
    coefficient = sp.expand(coefficient)  # exact cancellation first: a symbolic zero must stay exactly 0
    return sp.Integer(0) if coefficient == 0 else sp.Float(sp.N(coefficient, 25), 25)


def _stable(in_e) -> sp.Expr:
    """``in_e`` (a polynomial in t, E = e^{-t} and target) for t >= 1/2, and its Taylor polynomial in t below.

    The Taylor coefficient of t^p is sum_{j,k} c_jk (-k)^(p-j)/(p-j)! over the terms c_jk t^j E^k, so the
    small-t branch has no cancellation (the closed form loses digits as t -> 0). Constants are rounded to
    25 digits (far below float64's 16).
    """
    poly = sp.Poly(in_e, t, _E, target)
    closed = sum(_numeric(c) * t**j * sp.exp(-k * t) * target**m for (j, k, m), c in poly.terms())
    series: dict[tuple[int, int], sp.Expr] = {}
    for (j, k, m), c in poly.terms():
        for p in range(j, _SERIES_ORDER):
            series[p, m] = series.get((p, m), 0) + c * sp.Integer(-k) ** (p - j) / sp.factorial(p - j)
    horner = sp.Integer(0)
    for p in reversed(range(_SERIES_ORDER)):
        coefficient = sum(_numeric(series.get((p, m), 0)) * target**m for m in sorted({m for _, m in series}))
        horner = coefficient + t * horner
    return sp.Piecewise((horner, t < sp.Rational(1, 2)), (closed, True))


@FORMULAS.register("ntk_change_coefficient_sin")
def _ntk_change() -> Formula:
    c = unit_constants()
    R = _relaxation(t)
    stable = _ntk_stable(-expm1(-t))  # 1 - e^-t without cancellation
    expr = sp.collect(sp.expand(-c["A"] * R + c["B"] * (c["q"] + target**2) * R**2 / 2), target)
    expr, stable = _zero_at_start(expr), _zero_at_start(stable)
    return Formula(
        expr=expr, params=(target, t), derived=True,
        source=cite("dyer_gurari2019", "sec. 3.1 (dTheta/dt = -O_3 r, O_3 = O(1/n)); coefficient derived here"),
        derivation=f"hierarchy Theta' = -O_3 r, O_3' = -O_4 r with r = r_0 e^(-t): Theta_t - Theta_0 = -O_3 R + O_4 R^2/2; "
                   f"n E[O_3 r_0] = A = {c['A']}, n E[O_4] = B = {c['B']}, E f_0^2 = q = {c['q']}, E Theta_0 = 1 "
                   "(exact Gaussian expectations of one sin unit)",
        conditions=_CONDITIONS,
        description="lim width x E[Theta_t(x, x) - Theta_0(x, x)] / E[Theta_0(x, x)]: the mean relative change of "
                    "the empirical NTK at the training input after gradient-flow time t, times width",
        evaluate_as=stable,
    )


def _zero_at_start(expr) -> sp.Expr:
    """``expr`` with its value at t = 0 (exactly 0: nothing has moved yet) written as 0, not a cancellation."""
    return sp.Piecewise((0, sp.Eq(t, 0)), (expr, True))


def _ntk_stable(R) -> sp.Expr:
    c = unit_constants()
    return -c["A"] * R + c["B"] * (c["q"] + target**2) * R**2 / 2


def _gap(A_weight, B) -> sp.Expr:
    c = unit_constants()
    R = _relaxation(_s)
    integrand = A_weight * 2 * target * c["A"] * R - B * target * (3 * c["q"] + target**2) * R**2 / 2
    return sp.expand(-_E * _integrate_in_time(integrand))  # e^{-t} int_0^t ..., a polynomial in t and E = e^{-t}


@FORMULAS.register("linearisation_gap_coefficient_sin")
def _linearisation_gap() -> Formula:
    c = unit_constants()
    in_e = _gap(1, c["B"])
    expr, stable = sp.collect(in_e, target).subs(_E, sp.exp(-t)), _stable(in_e)
    expr, stable = _zero_at_start(expr), _zero_at_start(stable)
    return Formula(
        expr=expr, params=(target, t), derived=True,
        source=cite("dyer_gurari2019", "sec. 3.1 and app. E.4 (higher-order network evolution); coefficient derived here"),
        derivation="f_t - f_lin_t = -int_0^t e^(-(t-s)) (Theta_s - Theta_0) r(s) ds (sympy integrate) with "
                   f"n E[O_3 r_0^2] = -2 target A, n E[O_4 r_0^3] = -B target (3q + target^2), A = {c['A']}, B = {c['B']}",
        conditions=_CONDITIONS,
        description="lim width x E[f_t(x) - f_lin_t(x)]: the mean gap between the trained network and its "
                    "linearised model at the training input after gradient-flow time t, times width",
        evaluate_as=stable,
    )


@FORMULAS.register("quadratic_gap_coefficient_sin")
def _quadratic_gap() -> Formula:
    c = unit_constants()
    in_e = _gap(0, c["B"] - c["B_quad"])
    expr, stable = sp.collect(in_e, target).subs(_E, sp.exp(-t)), _stable(in_e)
    expr, stable = _zero_at_start(expr), _zero_at_start(stable)
    return Formula(
        expr=expr, params=(target, t), derived=True,
        source=cite("dyer_gurari2019", "sec. 3.1 (the O_4 term); coefficient derived here"),
        derivation="the second-order Taylor model has the network's O_3 at init and O_4 = 4 grad^T H^2 grad (no third "
                   f"derivative): the gap keeps the ddNTK term with B - B_quad = 2 E T(grad, grad, grad) = "
                   f"{sp.simplify(c['B'] - c['B_quad'])}",
        conditions=_CONDITIONS,
        description="lim width x E[f_t(x) - f_quad_t(x)]: the mean gap between the trained network and its "
                    "second-order Taylor model at the training input after gradient-flow time t, times width",
        evaluate_as=stable,
    )


@FORMULAS.register("kernel_motion_exponent")
def _exponent() -> Formula:
    c = unit_constants()
    n = sp.Symbol("n", positive=True)
    # O_3 = n^(-3/2) x (sum of n terms): centred terms add up to n^(1/2), terms with a mean to n
    o3 = n ** sp.Rational(-3, 2) * (sp.sqrt(n) if c["mean_dg"] == 0 else n)
    o4_mean = n**-2 * n  # E D^2 g = B != 0
    assert c["B"] != 0
    exponent = sp.limit(sp.log(sp.Max(o3, o4_mean)) / sp.log(n), n, sp.oo)
    return Formula(
        expr=exponent, params=(), derived=True,
        source=cite("lee2019", "Thm 2.1 (O(n^-1/2), an upper bound); the order 1/n: Dyer & Gur-Ari, arXiv:1909.11304v1"),
        derivation="E Dg = 0 (sympy: Dg odd in the readout) so O_3 = n^(-3/2) x O(n^(1/2)); O_4 = n^-2 x O(n); "
                   "Theta_t - Theta_0 and f_t - f_lin_t are linear in O_3 and O_4 at leading order",
        conditions=("smooth activation (sin derived), two-layer network in NTK parameterisation, fixed training time",),
        description="width exponent of the NTK's change over training and of the network-linearised gap (smooth activations)",
    )
