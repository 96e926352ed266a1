r"""Gradient descent on least squares, one Hessian eigen-direction at a time.

Model statement: along an eigenvector of $H$ with eigenvalue $\lambda$ the error
$e$ sees the loss $\tfrac12\lambda e^2$; GD is $e \leftarrow e - \eta\,\partial_e$,
gradient flow $\dot e = -\partial_e$. Every Formula here is derived from that.
"""

from __future__ import annotations

import sympy as sp
from sympy.codegen.cfunctions import log1p

from analytic._registry import Formulas
from analytic.formula import Formula
from analytic.linreg._symbols import lam_max, lam_min, rho, scale
from analytic.references import cite
from analytic.symbols import e0, eps, eta, kappa, lam, t

FORMULAS = Formulas("linreg")
_GD = cite("nesterov2004", "sec. 1.2.3")


def _mode_loss(error: sp.Expr, eigenvalue: sp.Expr) -> sp.Expr:
    """The one-mode excess loss 1/2 lam e^2 (the model statement)."""
    return eigenvalue * error**2 / 2


def _gd_factor(step: sp.Expr, eigenvalue: sp.Expr) -> sp.Expr:
    """The per-step multiplier of a mode error under GD, read off the update rule."""
    e = sp.Symbol("e", real=True)
    updated = e - step * sp.diff(_mode_loss(e, eigenvalue), e)
    return sp.simplify(updated / e)


@FORMULAS.register("gd_mode_error")
def _gd_mode_error() -> Formula:
    k = sp.Symbol("k", integer=True, nonnegative=True)
    e = sp.Function("e")
    grad = sp.diff(_mode_loss(e(k), lam), e(k))
    solution = sp.rsolve(e(k + 1) - (e(k) - eta * grad), e(k), {e(0): e0})
    return Formula(
        expr=solution.subs(k, t),
        params=(eta, lam, t, e0),
        source=_GD,
        derived=True,
        derivation="sympy.rsolve of e[k+1] = e[k] - eta d/de(lam e^2/2), e[0] = e0",
        conditions=("t counts GD steps; |1 - eta lam| > 1 means the mode diverges (still exact)",),
        domains={"t": sp.Naturals0},
        description="error along one Hessian eigen-direction after t GD steps",
    )


@FORMULAS.register("gf_mode_error")
def _gf_mode_error() -> Formula:
    e = sp.Function("e")
    ode = sp.Eq(e(t).diff(t), -sp.diff(_mode_loss(e(t), lam), e(t)))
    solution = sp.dsolve(ode, e(t), ics={e(0): e0}).rhs
    return Formula(
        expr=solution,
        params=(lam, t, e0),
        source=_GD,
        derived=True,
        derivation="sympy.dsolve of de/dt = -d/de(lam e^2/2), e(0) = e0",
        conditions=("gradient flow is the eta -> 0 limit of GD at time t = eta * steps",),
        description="error along one eigen-direction under gradient flow at time t",
    )


@FORMULAS.register("critical_lr")
def _critical_lr() -> Formula:
    roots = sp.solve(sp.Eq(_gd_factor(eta, lam_max), -1), eta)
    (expr,) = roots
    return Formula(
        expr=expr,
        params=(lam_max,),
        source=_GD,
        derived=True,
        derivation="sympy.solve of 1 - eta lam_max = -1 (the stiffest mode's multiplier reaches -1)",
        conditions=("GD converges for 0 < eta < critical_lr and diverges above it",),
        description="largest stable GD learning rate",
    )


@FORMULAS.register("optimal_lr")
def _optimal_lr() -> Formula:
    # The worst-case multiplier max(|1 - eta lam_min|, |1 - eta lam_max|) is minimised
    # where the two extreme modes contract equally fast with opposite signs.
    (expr,) = sp.solve(sp.Eq(_gd_factor(eta, lam_min), -_gd_factor(eta, lam_max)), eta)
    return Formula(
        expr=expr,
        params=(lam_min, lam_max),
        source=_GD,
        derived=True,
        derivation="sympy.solve of 1 - eta lam_min = -(1 - eta lam_max)",
        conditions=("0 < lam_min <= lam_max",),
        description="learning rate minimising the worst-case GD contraction",
    )


@FORMULAS.register("optimal_rate")
def _optimal_rate() -> Formula:
    best = _optimal_lr().expr
    rate = sp.simplify(_gd_factor(best, lam_min).subs(lam_max, kappa * lam_min))
    return Formula(
        expr=rate,
        params=(kappa,),
        source=_GD,
        derived=True,
        derivation="1 - eta* lam_min at eta* = optimal_lr, with lam_max = kappa lam_min, simplified",
        domains={"kappa": sp.Interval(1, sp.oo)},
        description="per-step contraction of the worst mode at the optimal learning rate",
    )


@FORMULAS.register("optimal_steps")
def _optimal_steps() -> Formula:
    steps = sp.Symbol("steps", positive=True)
    (expr,) = sp.solve(sp.Eq(_optimal_rate().expr ** steps, eps), steps)
    expr = sp.simplify(expr)
    # log((kappa - 1)/(kappa + 1)) = log1p(-2/(kappa + 1)): the ratio rounds to 1 for kappa near
    # 1/eps (8e-4 off at kappa = 1e15, -inf from 1e16). log1p is used where 2/(kappa + 1) <= 1/2 (no
    # cancellation in its argument); below that, kappa - 1 is exact (Sterbenz) and the ratio is fine.
    ratio_log = sp.log((kappa - 1) / (kappa + 1))
    if not expr.has(ratio_log):
        raise AssertionError(f"optimal_steps: expected log((kappa - 1)/(kappa + 1)) in {expr}")
    stable = expr.subs(ratio_log, sp.Piecewise((log1p(-2 / (kappa + 1)), kappa >= 3), (ratio_log, True)))
    return Formula(
        expr=expr,
        evaluate_as=stable,
        params=(kappa, eps),
        source=_GD,
        derived=True,
        derivation="sympy.solve of optimal_rate**steps = eps for steps",
        conditions=("steps to shrink the worst-mode error by eps at the optimal learning rate; "
                    "round up for an integer count",),
        domains={"kappa": sp.Interval.open(1, sp.oo), "eps": sp.Interval.open(0, 1)},
        description="GD steps to reach relative error eps at the optimal learning rate",
    )


@FORMULAS.register("two_feature_kappa")
def _two_feature_kappa() -> Formula:
    # Two zero-mean features: x1 with standard deviation `scale`, x2 with 1, correlation rho.
    hessian = sp.Matrix([[scale**2, rho * scale], [rho * scale, 1]])
    small, big = sorted(hessian.eigenvals(), key=lambda ev: ev.subs({scale: 2, rho: sp.Rational(1, 3)}))
    return Formula(
        expr=sp.simplify(big / small),
        # lambda_+ / lambda_- = lambda_+^2 / det with det = scale^2 (1 - rho^2), divided through
        # by scale^2: no inf/inf overflow for large or tiny scale, no cancellation in lambda_-.
        evaluate_as=(scale + 1 / scale + sp.sqrt((scale - 1 / scale) ** 2 + 4 * rho**2)) ** 2
        / (4 * (1 - rho) * (1 + rho)),
        params=(scale, rho),
        source=f"{cite('goh2017', 'elongated quadratics')}; "
               f"{cite('lecun1998', 'sec. 4.3 (normalising and decorrelating inputs)')}",
        derived=True,
        derivation="ratio of the eigenvalues of H = [[scale^2, rho scale], [rho scale, 1]] (sympy eigenvals)",
        conditions=("scale = 1 is the standardised design: (1 + |rho|) / (1 - |rho|); "
                    "after whitening kappa = 1",),
        domains={"rho": sp.Interval.open(-1, 1)},
        description="condition number of the population Hessian of two scaled, correlated features",
    )
