r"""Dual maps of ReLU and erf, their Price's-theorem derivatives, and forms built from them.

For $(u, v) \sim N(0, [[k_{11}, k_{12}], [k_{12}, k_{22}]])$: the stated NNGP maps
$E[\phi(u)\phi(v)]$ (Cho and Saul 2009, eq. (6), n = 1; Williams 1997, eq. (11)), the
derivative kernels $E[\phi'(u)\phi'(v)] = \partial_{k_{12}}E[\phi(u)\phi(v)]$ derived by
``sympy.diff`` (Price 1958), the variance map, $\chi_1$ and the ReLU fixed point
(Schoenholz et al. 2017), scale-free angle forms used by :func:`fc_kernels`, and the
symbolic depth-1 and depth-2 kernels (Lee et al. 2019, eq. (10)).
"""

from __future__ import annotations

import sympy as sp

from analytic._registry import Formulas
from analytic.formula import Formula
from analytic.kernels._symbols import angle, k11, k12, k22, q, sigma_b, sigma_w
from analytic.references import cite

FORMULAS = Formulas("kernels")

_CHO_SAUL = cite("cho2009", "eq. (6), n = 1")
_WILLIAMS = cite("williams1997", "eq. (11)")
_PRICE = cite("price1958")
_ANGLE_DOMAIN = sp.Interval(0, sp.pi)
_PAIR_CONDITION = "k12**2 <= k11 * k22 (a covariance matrix)"
_PAIR = sp.Le(k12**2, k11 * k22)  # the same, enforced on keyword calls
_DISTINCT_PAIR = sp.Lt(k12**2, k11 * k22)  # two distinct points (the depth forms' derivative is 0/0 at k12^2 = k11 k22)

ACTIVATIONS = ("relu", "erf")


def _relu_dual() -> sp.Expr:
    """The stated arc-cosine kernel E[relu(u) relu(v)] (Cho and Saul 2009)."""
    s = sp.sqrt(k11 * k22)
    theta = sp.acos(k12 / s)
    return (sp.sqrt(k11 * k22 - k12**2) + (sp.pi - theta) * k12) / (2 * sp.pi)


def _erf_dual() -> sp.Expr:
    """The stated E[erf(u) erf(v)] (Williams 1997)."""
    return 2 / sp.pi * sp.asin(2 * k12 / sp.sqrt((1 + 2 * k11) * (1 + 2 * k22)))


_DUALS = {"relu": (_relu_dual, _CHO_SAUL), "erf": (_erf_dual, _WILLIAMS)}


@FORMULAS.register_variants("{activation}_nngp", activation=ACTIVATIONS)
def _nngp(activation: str) -> Formula:
    dual, source = _DUALS[activation]
    return Formula(
        expr=dual(),
        params=(k11, k22, k12),
        source=source,
        derived=False,
        derivation="stated from the paper; checked by quadrature, Monte Carlo and limits in the tests",
        conditions=(_PAIR_CONDITION,),
        constraints=(_PAIR,),
        description=f"E[{activation}(u) {activation}(v)] for (u, v) ~ N(0, [[k11, k12], [k12, k22]])",
    )


@FORMULAS.register_variants("{activation}_derivative", activation=ACTIVATIONS)
def _derivative(activation: str) -> Formula:
    nngp = FORMULAS[f"{activation}_nngp"]()
    return Formula(
        expr=sp.simplify(sp.diff(nngp.expr, k12)),
        params=(k11, k22, k12),
        source=f"{_PRICE}; {nngp.source}",
        derived=True,
        derivation=f"Price's theorem: sympy.diff of kernels.{activation}_nngp with respect to k12",
        conditions=(_PAIR_CONDITION,),
        constraints=(_PAIR,),
        description=f"E[{activation}'(u) {activation}'(v)] (derivative kernel of the NTK)",
    )


def _on_diagonal(expr: sp.Expr) -> sp.Expr:
    """A pair kernel at u = v ~ N(0, q): substitute k11 = k22 = k12 = q and simplify."""
    return sp.simplify(expr.subs({k11: q, k22: q, k12: q}))


@FORMULAS.register_variants("{activation}_variance_map", activation=ACTIVATIONS)
def _variance_map(activation: str) -> Formula:
    dual = FORMULAS[f"{activation}_nngp"]()
    return Formula(
        expr=sigma_w**2 * _on_diagonal(dual.expr) + sigma_b**2,
        params=(q, sigma_w, sigma_b),
        source=f"{cite('schoenholz2017', 'eq. (3)')}; {dual.source}",
        derived=True,
        derivation=f"sigma_w^2 kernels.{activation}_nngp(q, q, q) + sigma_b^2 (sympy subs, simplify)",
        description="pre-activation variance of the next layer given this layer's variance q",
    )


@FORMULAS.register_variants("{activation}_chi1", activation=ACTIVATIONS)
def _chi1(activation: str) -> Formula:
    derivative = FORMULAS[f"{activation}_derivative"]()
    expr = sigma_w**2 * _on_diagonal(derivative.expr)
    return Formula(
        expr=expr,
        params=tuple(p for p in (q, sigma_w) if p in expr.free_symbols),
        source=cite("schoenholz2017", "eq. (5)"),
        derived=True,
        derivation=f"sigma_w^2 kernels.{activation}_derivative(q, q, q) (sympy subs, simplify)",
        conditions=("chi1 < 1: ordered phase (correlations -> 1); chi1 > 1: chaotic phase; "
                    "evaluate at the variance fixed point",),
        description="chi_1 = sigma_w^2 E[phi'(z)^2], z ~ N(0, q): slope of the correlation map at c = 1",
    )


@FORMULAS.register("relu_variance_fixed_point")
def _relu_variance_fixed_point() -> Formula:
    variance_map = FORMULAS["relu_variance_map"]()
    (root,) = sp.solve(sp.Eq(variance_map.expr, q), q)
    return Formula(
        expr=sp.simplify(root),
        params=(sigma_w, sigma_b),
        source=cite("schoenholz2017", "sec. 3 (fixed point q* of eq. (3))"),
        derived=True,
        derivation="sympy.solve of relu_variance_map(q) = q for q",
        conditions=("exists (and attracts) only for sigma_w**2 < 2; for sigma_w**2 >= 2 the variance "
                    "grows without bound unless sigma_b = 0 and sigma_w**2 = 2",),
        domains={"sigma_w": sp.Interval.Ropen(0, sp.sqrt(2))},
        description="fixed point q* of the ReLU variance map",
    )


# --- scale-free (angle) forms used by the depth recursion ---------------------------
def _relu_on_angle(expr: sp.Expr) -> sp.Expr:
    """Put k11 = k22 = 1, k12 = cos(angle); angle in [0, pi] so acos(cos a) = a, sqrt(1-cos^2 a) = sin a."""
    out = expr.subs({k11: 1, k22: 1, k12: sp.cos(angle)})
    out = out.subs(sp.acos(sp.cos(angle)), angle)
    out = out.subs(sp.sqrt(1 - sp.cos(angle) ** 2), sp.sin(angle))
    return sp.simplify(out)


@FORMULAS.register("relu_nngp_angular")
def _relu_nngp_angular() -> Formula:
    return Formula(
        expr=_relu_on_angle(FORMULAS["relu_nngp"]().expr),
        params=(angle,),
        source=_CHO_SAUL,
        derived=True,
        derivation="kernels.relu_nngp / sqrt(k11 k22) at k12 = sqrt(k11 k22) cos(angle) (homogeneity)",
        domains={"angle": _ANGLE_DOMAIN},
        description="J(angle) = E[relu(u) relu(v)] / sqrt(k11 k22); scale-free ReLU NNGP map",
    )


@FORMULAS.register("relu_derivative_angular")
def _relu_derivative_angular() -> Formula:
    return Formula(
        expr=_relu_on_angle(FORMULAS["relu_derivative"]().expr),
        params=(angle,),
        source=f"{_PRICE}; {_CHO_SAUL}",
        derived=True,
        derivation="kernels.relu_derivative at k12 = sqrt(k11 k22) cos(angle) (it is scale-free)",
        domains={"angle": _ANGLE_DOMAIN},
        description="E[relu'(u) relu'(v)] as a function of the angle between u and v",
    )


@FORMULAS.register("relu_nngp_deficit")
def _relu_nngp_deficit() -> Formula:
    # 1/2 - J(a), regrouped so that no two large terms cancel for small a:
    # (pi - a)(1 - cos a) = 2 (pi - a) sin(a/2)^2 >= 0 and a - sin(a) >= 0.
    one_minus_j = sp.Rational(1, 2) - FORMULAS["relu_nngp_angular"]().expr
    grouped = (2 * (sp.pi - angle) * sp.sin(angle / 2) ** 2 + (angle - sp.sin(angle))) / (2 * sp.pi)
    if sp.simplify(sp.expand_trig(one_minus_j - grouped)) != 0:
        raise AssertionError("relu_nngp_deficit: regrouping changed the expression")
    return Formula(
        expr=grouped,
        params=(angle,),
        source=_CHO_SAUL,
        derived=True,
        derivation="1/2 - relu_nngp_angular, regrouped into two nonnegative terms (sympy-verified)",
        domains={"angle": _ANGLE_DOMAIN},
        description="1/2 - J(angle): the normalised gap sqrt(k11 k22) - k12 after one ReLU layer",
    )


@FORMULAS.register("erf_nngp_angular")
def _erf_nngp_angular() -> Formula:
    expr = FORMULAS["erf_nngp"]().expr.subs(k12, sp.sqrt(k11 * k22) * sp.cos(angle))
    return Formula(
        expr=expr,
        params=(k11, k22, angle),
        source=_WILLIAMS,
        derived=True,
        derivation="kernels.erf_nngp at k12 = sqrt(k11 k22) cos(angle)",
        domains={"angle": _ANGLE_DOMAIN},
        description="E[erf(u) erf(v)] in terms of the variances and the angle",
    )


@FORMULAS.register("erf_derivative_angular")
def _erf_derivative_angular() -> Formula:
    expr = sp.simplify(FORMULAS["erf_derivative"]().expr.subs(k12, sp.sqrt(k11 * k22) * sp.cos(angle)))
    return Formula(
        expr=expr,
        params=(k11, k22, angle),
        source=f"{_PRICE}; {_WILLIAMS}",
        derived=True,
        derivation="kernels.erf_derivative at k12 = sqrt(k11 k22) cos(angle)",
        domains={"angle": _ANGLE_DOMAIN},
        description="E[erf'(u) erf'(v)] in terms of the variances and the angle",
    )


# --- symbolic depth-1 and depth-2 kernels (for display) ------------------------------
def _symbolic_layers(activation: str, depth: int) -> tuple[sp.Expr, sp.Expr]:
    """(K^{depth+1}_{12}, Theta^{depth+1}_{12}) with K^1 = Theta^1 = [[k11, k12], [k12, k22]]."""
    dual = FORMULAS[f"{activation}_nngp"]().expr
    deriv = FORMULAS[f"{activation}_derivative"]().expr
    a, b, c, ntk = k11, k22, k12, k12
    for _ in range(depth):
        at = {k11: a, k22: b, k12: c}
        new_a = sigma_w**2 * _on_diagonal(dual).subs(q, a) + sigma_b**2
        new_b = sigma_w**2 * _on_diagonal(dual).subs(q, b) + sigma_b**2
        new_c = sigma_w**2 * dual.subs(at, simultaneous=True) + sigma_b**2
        ntk = new_c + sigma_w**2 * deriv.subs(at, simultaneous=True) * ntk
        a, b, c = new_a, new_b, new_c
    return c, ntk


@FORMULAS.register_variants("{activation}_fc_depth{depth}", activation=ACTIVATIONS, depth=(1, 2))
def _fc_symbolic(activation: str, depth: int) -> Formula:
    nngp, ntk = _symbolic_layers(activation, depth)
    return Formula(
        expr=(nngp, ntk),
        params=(k11, k22, k12, sigma_w, sigma_b),
        source=f"{cite('lee2019', 'eq. (10) and Appendix E')}; {cite('jacot2018', 'Theorem 1')}",
        derived=True,
        derivation=f"{depth} step(s) of K' = sigma_w^2 E[phi phi] + sigma_b^2, "
                   f"Theta' = K' + sigma_w^2 E[phi' phi'] Theta (sympy subs of the dual maps)",
        conditions=("k11, k22, k12: the input-layer kernel K^1 = sigma_w^2 x.x'/d + sigma_b^2 = Theta^1",
                    "NTK parameterisation, scalar output", _PAIR_CONDITION,
                    "off-diagonal: k12**2 < k11 k22 strictly (coincident points are fc_kernels' diagonal)"),
        constraints=(_DISTINCT_PAIR,),
        description=f"(NNGP, NTK) of a depth-{depth} {activation} network, off-diagonal entry",
    )

