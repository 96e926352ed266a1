r"""Step-size ranges and optimal steps, solved from the derived spectral radii.

* alternating GDA is bounded while its roots stay a complex pair on the unit circle:
  the boundary is where the discriminant of its characteristic polynomial vanishes;
* extragradient converges while $\rho < 1$: solve $\rho^2 = 1$;
* optimistic GDA: $\rho^2 = 1$ on its complex-discriminant branch;
* optimal steps: extragradient's $\rho^2$ is smooth in $\eta$ (solve
  $d\rho^2/d\eta = 0$); optimistic GDA's $\rho$ falls on the real-discriminant
  branch and rises on the other, so its minimum is the kink $D = 0$.

The published forms ($2/\sigma$, $1/\sigma$, $1/(\sqrt3\sigma)$, $1/(\sqrt2\sigma)$,
$1/(2\sigma)$) are assertions in ``tests/test_games.py``; cf. Zhang and Yu 2019,
arXiv:1908.05699v5, Theorems 3.1-3.3 (conditions for the bilinear case).
"""

from __future__ import annotations

import sympy as sp

from analytic._registry import Formulas
from analytic.formula import Formula
from analytic.games._iteration import quadratic_factor, radius_expression
from analytic.games._symbols import sigma
from analytic.references import cite
from analytic.symbols import eta

FORMULAS = Formulas("games")
_SOURCE = cite("zhang2019games", "sec. 3 (bilinear games: exact convergence conditions)")


def _discriminant(method: str) -> sp.Expr:
    b, c = quadratic_factor(method)
    return sp.factor(sp.simplify(sp.re(sp.expand(b**2 - 4 * c))))


def _positive_root(equation: sp.Expr, condition=None) -> sp.Expr:
    roots = [r for r in sp.solve(equation, eta) if r.is_positive]
    if condition is not None:
        roots = [r for r in roots if bool(condition.subs(eta, r))]
    if len(roots) != 1:
        raise ValueError(f"expected one positive root of {equation} = 0, got {roots}")
    return sp.simplify(roots[0])


def _branches(method: str):
    return radius_expression(method, safe=False).args if isinstance(
        radius_expression(method, safe=False), sp.Piecewise) else ((radius_expression(method, safe=False), True),)


@FORMULAS.register("alternating_gda_max_step")
def _alternating_gda_max_step() -> Formula:
    return Formula(
        expr=_positive_root(_discriminant("alternating_gda")),
        params=(sigma,), source=_SOURCE, derived=True,
        derivation="sympy.solve of disc(charpoly) = 0: below it the roots are a conjugate pair with "
                   "|z|^2 = det M = 1, above it real with one |z| > 1",
        conditions=("alternating GDA stays bounded (rotates) for eta < this, grows above",),
        description="largest step at which alternating GDA stays bounded on a mode sigma",
    )


@FORMULAS.register("extragradient_max_step")
def _extragradient_max_step() -> Formula:
    (expr, _), = _branches("extragradient")
    return Formula(
        expr=_positive_root(expr**2 - 1),
        params=(sigma,), source=_SOURCE, derived=True,
        derivation="sympy.solve of rho^2 = 1 for the extragradient radius",
        conditions=("extragradient converges for eta < this and diverges above",),
        description="largest convergent extragradient step on a mode sigma",
    )


@FORMULAS.register("optimistic_gda_max_step")
def _optimistic_gda_max_step() -> Formula:
    (_, _), (complex_branch, _) = _branches("optimistic_gda")
    D = _discriminant("optimistic_gda")
    return Formula(
        expr=_positive_root(complex_branch**2 - 1, condition=D < 0),
        params=(sigma,), source=_SOURCE, derived=True,
        derivation="sympy.solve of rho^2 = 1 on the complex-discriminant branch (D < 0) of the "
                   "optimistic GDA radius; the D > 0 branch is below 1 throughout",
        conditions=("optimistic GDA converges for eta < this and diverges above",),
        description="largest convergent optimistic GDA step on a mode sigma",
    )


@FORMULAS.register("extragradient_optimal_step")
def _extragradient_optimal_step() -> Formula:
    (expr, _), = _branches("extragradient")
    return Formula(
        expr=_positive_root(sp.diff(expr**2, eta)),
        params=(sigma,), source=_SOURCE, derived=True,
        derivation="sympy.solve of d(rho^2)/d(eta) = 0 for the extragradient radius",
        conditions=("rho at this step is sqrt(3)/2 for every sigma",),
        description="extragradient step minimising the radius of a mode sigma",
    )


@FORMULAS.register("optimistic_gda_optimal_step")
def _optimistic_gda_optimal_step() -> Formula:
    (real_branch, _), (complex_branch, _) = _branches("optimistic_gda")
    kink = _positive_root(_discriminant("optimistic_gda"))
    # The radius falls on the real branch and rises on the complex one: the minimum is the kink.
    below, above = kink / 2, kink * sp.Rational(11, 10)
    if not (sp.diff(real_branch, eta).subs(eta, below).is_negative
            and sp.diff(complex_branch, eta).subs(eta, above).is_positive):
        raise ValueError("optimistic GDA radius is not decreasing-then-increasing around D = 0")
    return Formula(
        expr=kink,
        params=(sigma,), source=_SOURCE, derived=True,
        derivation="sympy.solve of disc = 0 (the kink): d rho/d eta < 0 on the real-discriminant "
                   "branch, > 0 on the complex one (signs checked by sympy)",
        conditions=("rho at this step is 1/sqrt(2) for every sigma",),
        description="optimistic GDA step minimising the radius of a mode sigma",
    )
