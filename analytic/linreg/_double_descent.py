r"""Asymptotic test risk of ridge and min-norm least squares (double descent).

Model statement: isotropic Gaussian features, $n, d \to \infty$ with $d/n \to \gamma$;
the spectrum of $X^\top X/n$ follows the Marchenko-Pastur law (Marchenko and Pastur
1967), whose Stieltjes transform sympy solves for. Source: Hastie, Montanari, Rosset,
Tibshirani 2019, arXiv:1903.08560v5, Theorem 1 and Theorem 5 / eq. (16).
"""

from __future__ import annotations

import sympy as sp
from sympy.codegen.cfunctions import hypot

from analytic._registry import Formulas
from analytic.formula import Formula
from analytic.linreg._symbols import gamma, r2, ridge, sigma2
from analytic.references import cite

FORMULAS = Formulas("linreg")


def _marchenko_pastur_stieltjes() -> tuple[sp.Expr, sp.Expr]:
    """m(-ridge) and m'(-ridge) of the Marchenko-Pastur law with ratio gamma.

    m(z) = int dF(s) / (s - z) solves gamma z m^2 - (1 - gamma - z) m + 1 = 0
    (Marchenko and Pastur 1967); the branch is the one positive on z < 0.
    """
    z, m = sp.symbols("z m")
    roots = sp.solve(gamma * z * m**2 - (1 - gamma - z) * m + 1, m)
    at = {gamma: sp.Rational(1, 2), z: -sp.Rational(1, 10)}
    (branch,) = [r for r in roots if r.subs(at).evalf() > 0]
    return branch.subs(z, -ridge), sp.diff(branch, z).subs(z, -ridge)


def _ridge_risk_stable() -> sp.Expr:
    r"""``ridge_risk`` in a form without cancellation or intermediate overflow.

    With $a = \gamma - 1$ and $D = \sqrt{(a + \lambda)^2 + 4\lambda}$ (a hypot: no overflow),
    sympy's form is $[r^2((a^2 + \lambda(\gamma + 1) + aD) + \sigma^2\gamma(\gamma + \lambda + 1 - D)]
    / (2\gamma D)$. Both brackets cancel for $\gamma < 1$ (0.32 relative at $\gamma = 10^{-15}$);
    rationalised with $D^2 - (a + \lambda)^2 = 4\lambda$, $D^2 - (\lambda - a)^2 = 4\lambda\gamma$ and
    $(\gamma + \lambda + 1)^2 - D^2 = 4\gamma$ every term is a sum of positives, and the powers are
    divided through ($a^2/\gamma$ as $a \cdot a/\gamma$) so that nothing overflows before the
    result does. Equal to the sympy form (checked in tests/test_accuracy.py at 60 digits).
    """
    g, lam = gamma, ridge
    ratio = sp.UnevaluatedExpr  # keeps x/y a ratio: sympy would recombine (x/y)*z into x*z/y, which overflows
    a = g - 1
    D = hypot(a + lam, 2 * sp.sqrt(lam))
    P = D + lam - a  # > 0 where a < 0
    bias = sp.Piecewise(
        # D - a - lam = 4 lam / (D + a + lam)
        (r2 * ratio(lam / D) * ratio((D + a + lam) / P), (g < 1) & (a + lam > 0)),
        (4 * r2 * ratio(lam / D) * ratio(lam / P) / (D - a - lam), g < 1),  # a + lam <= 0: no cancellation
        # a >= 0: all terms >= 0
        (r2 * ratio((a * ratio(a / g) + lam * (1 + 1 / g) + D * ratio(a / g)) / D) / 2, True))
    variance = 2 * sigma2 * ratio(g / D) / (g + lam + 1 + D)
    return bias + variance


@FORMULAS.register("ridge_risk")
def _ridge_risk() -> Formula:
    # Ridge estimate (X^T X/n + ridge I)^{-1} X^T y/n with isotropic beta (|beta|^2 = r2):
    #   bias^2   = r2 * ridge^2 int dF(s) / (s + ridge)^2             = r2 ridge^2 m'(-ridge)
    #   variance = sigma2 gamma int s dF(s) / (s + ridge)^2           = sigma2 gamma (m - ridge m')
    # where F is the limiting spectrum of X^T X/n (Marchenko-Pastur).
    m, m_prime = _marchenko_pastur_stieltjes()
    risk = r2 * ridge**2 * m_prime + sigma2 * gamma * (m - ridge * m_prime)
    return Formula(
        expr=sp.simplify(risk),
        evaluate_as=_ridge_risk_stable(),
        params=(gamma, r2, sigma2, ridge),
        source=cite("hmrt2019", "Theorem 5 / eq. (16) (isotropic features, ridge)"),
        derived=True,
        derivation="bias-variance split of the ridge estimator over the Marchenko-Pastur law; "
                   "m from sympy.solve of its self-consistent quadratic, m' by sympy.diff",
        conditions=("n, d -> oo with d/n -> gamma; isotropic Gaussian features; risk excludes the "
                    "irreducible noise sigma2",),
        description="asymptotic excess test risk of ridge regression",
    )


@FORMULAS.register("ridgeless_risk")
def _ridgeless_risk() -> Formula:
    risk = _ridge_risk().expr
    a = sp.Symbol("a", positive=True)
    branches = []
    for gamma_of_a in (1 / (1 + a), 1 + a):  # gamma < 1, then gamma > 1
        limit = sp.limit(risk.subs(gamma, gamma_of_a), ridge, 0, "+")
        (a_of_gamma,) = sp.solve(sp.Eq(gamma_of_a, gamma), a)
        branches.append(sp.factor(sp.simplify(limit.subs(a, a_of_gamma))))
    return Formula(
        expr=sp.Piecewise((branches[0], gamma < 1), (branches[1], True)),
        # The same branches without the cancellation of r2 (gamma - 1)^2 expanded near
        # gamma = 1, and the value at gamma = 1 itself: oo (the interpolation peak), or the
        # limit 0 of both sides when sigma2 = 0.
        evaluate_as=sp.Piecewise((sigma2 * gamma / (1 - gamma), gamma < 1),
                                 (r2 * (gamma - 1) / gamma, sp.Eq(sigma2, 0)),
                                 (r2 * (gamma - 1) / gamma + sigma2 / (gamma - 1), gamma > 1),
                                 (sp.oo, True)),
        params=(gamma, r2, sigma2),
        source=cite("hmrt2019", "Theorem 1 (isotropic features) and eq. (8)"),
        derived=True,
        derivation="sympy.limit of linreg.ridge_risk as ridge -> 0+, separately for gamma < 1 and gamma > 1",
        conditions=("min-norm least squares; n, d -> oo with d/n -> gamma; diverges at gamma = 1",),
        description="asymptotic excess test risk of min-norm least squares (double descent)",
    )
