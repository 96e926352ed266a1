r"""Tuned step size and momentum over a spectrum $[\mu, L]$, and the worst-case rates.

Model statement: the per-mode characteristic polynomial $z^2 - bz + c$ of
``_characteristic``; a tuning is good when the largest root modulus over
$\lambda \in [\mu, L]$ is small. Heavy ball's optimum and GD's (heavy ball at
$\beta = 0$) are solved for by sympy; Nesterov's standard tuning is stated and its
worst case derived.
"""

from __future__ import annotations

import sympy as sp

from analytic._registry import Formulas
from analytic.formula import Formula
from analytic.momentum import _characteristic as characteristic
from analytic.momentum._symbols import L, mu
from analytic.references import cite
from analytic.symbols import alpha, beta, kappa, lam

FORMULAS = Formulas("momentum")

_POLYAK = f"{cite('polyak1964')}; {cite('goh2017', 'The Dynamics of Momentum')}"
_LRP = cite("lessard2016", "sec. 2 and Proposition 1")
_NESTEROV = cite("nesterov2004", "sec. 2.2")
_KAPPA = sp.Interval(1, sp.oo)
_OPTIMUM = ("sympy.solve of b(mu) = 2 sqrt(beta), b(L) = -2 sqrt(beta): double roots +-sqrt(beta) "
            "at both ends, i.e. equal worst-case radius sqrt(beta) at mu and L (the smallest any mode "
            "can have, since |z1 z2| = beta)")


@FORMULAS.register("heavy_ball_optimal_alpha")
def _heavy_ball_optimal_alpha() -> Formula:
    return Formula(
        expr=characteristic.heavy_ball_optimum()[0],
        params=(mu, L),
        source=f"{_POLYAK}; {_LRP}",
        derived=True,
        derivation=_OPTIMUM + "; alpha of the solution",
        constraints=(sp.Ge(L, mu),),
        description="step size minimising heavy ball's worst-case spectral radius over [mu, L]",
    )


@FORMULAS.register("heavy_ball_optimal_beta")
def _heavy_ball_optimal_beta() -> Formula:
    return Formula(
        expr=characteristic.in_kappa(characteristic.heavy_ball_optimum()[1] ** 2),
        params=(kappa,),
        source=f"{_POLYAK}; {_LRP}",
        derived=True,
        derivation=_OPTIMUM + "; beta = sqrt(beta)^2 with L = kappa mu",
        domains={"kappa": _KAPPA},
        description="momentum minimising heavy ball's worst-case spectral radius over [mu, L]",
    )


@FORMULAS.register("heavy_ball_optimal_rate")
def _heavy_ball_optimal_rate() -> Formula:
    best_alpha, root_beta = characteristic.heavy_ball_optimum()
    b, c = characteristic.coefficients("heavy_ball")
    at_optimum = {alpha: best_alpha, beta: root_beta**2}
    for end in (mu, L):  # both ends are double roots, of modulus sqrt(c) = sqrt(beta)
        if sp.simplify((b**2 - 4 * c).subs(at_optimum).subs(lam, end)) != 0:
            raise AssertionError(f"heavy-ball optimum: lam = {end} is not a double root")
    return Formula(
        expr=characteristic.in_kappa(sp.sqrt(c.subs(at_optimum))),
        params=(kappa,),
        source=f"{_POLYAK}; {_LRP}",
        derived=True,
        derivation="sqrt(det M) = sqrt(beta*) at the optimum (double roots at mu and L, complex "
                   "roots of that modulus between), written in kappa = L / mu",
        conditions=("every mode in [mu, L] has this radius; the modes at mu and L are defective "
                    "(t * rate^t prefactor)",),
        domains={"kappa": _KAPPA},
        description="worst-case per-step contraction of the ERROR ||x_t - x*|| of optimally tuned "
                    "heavy ball, (sqrt(kappa)-1)/(sqrt(kappa)+1) = 9/11 at kappa = 100 (the loss "
                    "contracts by its square: heavy_ball_optimal_loss_rate)",
    )


@FORMULAS.register("heavy_ball_optimal_loss_rate")
def _heavy_ball_optimal_loss_rate() -> Formula:
    rate = _heavy_ball_optimal_rate()
    return Formula(
        expr=sp.factor(rate.expr**2),
        params=(kappa,),
        source=rate.source,
        derived=True,
        derivation="heavy_ball_optimal_rate squared: the excess loss (x - x*)^T H (x - x*) / 2 is "
                   "quadratic in the error, so it contracts by the square of the error's rate",
        conditions=("equals heavy_ball_optimal_beta (|z|^2 = beta at the optimum's double roots)",),
        domains={"kappa": _KAPPA},
        description="worst-case per-step contraction of the excess LOSS of optimally tuned heavy ball, "
                    "((sqrt(kappa)-1)/(sqrt(kappa)+1))^2 = 81/121 = 0.669 at kappa = 100",
    )


@FORMULAS.register("gd_optimal_rate")
def _gd_optimal_rate() -> Formula:
    b = characteristic.coefficients("heavy_ball")[0].subs(beta, 0)
    return Formula(
        expr=characteristic.in_kappa(b.subs(lam, mu).subs(alpha, characteristic.gd_optimal_step())),
        params=(kappa,),
        source=f"{_NESTEROV}; {_LRP}",
        derived=True,
        derivation="heavy-ball trace at beta = 0 (GD); sympy.solve of b(mu) = -b(L) for alpha; "
                   "then b(mu) in kappa",
        conditions=("at the step 2 / (mu + L); equals linreg.optimal_rate",),
        domains={"kappa": _KAPPA},
        description="worst-case per-step contraction of GD at its optimal step size",
    )


@FORMULAS.register("nesterov_rate")
def _nesterov_rate() -> Formula:
    return Formula(
        expr=characteristic.nesterov_worst_case(),
        params=(kappa,),
        source=_LRP,
        derived=True,
        derivation="max over lam in [mu, L] of nesterov_spectral_radius at alpha = 1/L, beta = "
                   "(sqrt(kappa)-1)/(sqrt(kappa)+1): the discriminant vanishes at lam = mu and "
                   "lam = L (sympy.solve), modes between are complex with modulus decreasing in lam, "
                   "so the worst is the double root at lam = mu, of modulus b/2",
        conditions=("the worst mode lam = mu is defective (t * rate^t prefactor)",),
        domains={"kappa": _KAPPA},
        description="worst-case spectral radius of standard-tuned Nesterov over [mu, L]",
    )


@FORMULAS.register("nesterov_textbook_bound")
def _nesterov_textbook_bound() -> Formula:
    return Formula(
        expr=1 - 1 / sp.sqrt(kappa),
        params=(kappa,),
        source=f"{_NESTEROV} (constant-step scheme); {_LRP}",
        derived=False,
        derivation="stated: the textbook linear rate 1 - 1/sqrt(kappa) of Nesterov's method with "
                   "alpha = 1/L, beta = (sqrt(kappa)-1)/(sqrt(kappa)+1); on quadratics it equals "
                   "nesterov_rate exactly (asserted symbolically in the tests)",
        domains={"kappa": _KAPPA},
        description="textbook rate bound of Nesterov's method",
    )
