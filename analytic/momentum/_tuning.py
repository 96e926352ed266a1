r"""Heavy-ball and Nesterov momentum on quadratics: spectral radii, regimes, tuning, rates.

Model statement. On $f(x) = \tfrac12 (x-x^*)^\top H (x-x^*)$ with Hessian eigenvalues
$\lambda \in [\mu, L]$ and $\kappa = L/\mu$, each method is linear and acts on each
eigen-direction separately, where the error $x_k$ sees the loss $\tfrac12\lambda x^2$:

* heavy ball (Polyak 1964): $x_{k+1} = x_k - \alpha\nabla f(x_k) + \beta(x_k - x_{k-1})$;
* Nesterov: $y_k = x_k + \beta(x_k - x_{k-1})$, $x_{k+1} = y_k - \alpha\nabla f(y_k)$;
* gradient descent is heavy ball at $\beta = 0$.

Per eigenvalue, :mod:`analytic.momentum_derivation` forms with sympy the 2x2
iteration matrix of $(x_k, x_{k-1})$, its characteristic polynomial $z^2 - bz + c$,
the roots and the discriminant $D = b^2 - 4c$: real roots for $D > 0$ (radius
$(|b| + \sqrt D)/2$), a double root at $D = 0$, complex roots of modulus $\sqrt c$ for
$D < 0$ ($\sqrt\beta$ for heavy ball). Tuning and worst-case rates follow.

Sources: Polyak 1964, "Some methods of speeding up the convergence of iteration
methods", USSR Comp. Math. Math. Phys. 4(5); Goh 2017, "Why Momentum Really Works",
Distill, "The Dynamics of Momentum"; Lessard, Recht, Packard 2016, "Analysis and
Design of Optimization Algorithms via Integral Quadratic Constraints",
arXiv:1408.3595v3, sec. 2 and Proposition 1; Nesterov 2004, "Introductory Lectures
on Convex Optimization", sec. 2.2.

Example:
    >>> from analytic import momentum
    >>> momentum.heavy_ball_spectral_radius(alpha=0.1, beta=0.5, lam=1.0)  # complex: sqrt(0.5)
    Array(0.70710677, dtype=float32)
    >>> momentum.heavy_ball_optimal_rate(kappa=100.0)                          # 9 / 11
    Array(0.8181818, dtype=float32)
    >>> momentum.steps_to_eps("heavy_ball", kappa=100.0, eps=1e-6)  # leading order: 68.8
    Array(95., dtype=float32)
"""

from __future__ import annotations

import sympy as sp

from analytic import momentum_derivation as derivation
from analytic.family import formula_builder, lazy_attributes
from analytic.formula import Formula
from analytic.momentum_composites import (  # noqa: F401  (public composites)
    METHODS, is_stable, regime, spectral_radius, steps_to_eps,
)
from analytic._legacy_symbols import L, alpha, beta, eps, kappa, lam, mu, t

FORMULAS: dict = {}

_POLYAK = "Polyak 1964, USSR Comp. Math. Math. Phys. 4(5); Goh 2017, Distill 'Why Momentum Really Works'"
_LRP = "Lessard, Recht, Packard 2016, arXiv:1408.3595v3, sec. 2 and Proposition 1"
_NESTEROV = "Nesterov 2004, Introductory Lectures on Convex Optimization, sec. 2.2"
_KAPPA = sp.Interval(1, sp.oo)
_POSITIVE_LAM = sp.Interval.open(0, sp.oo)
_PRETTY = {"heavy_ball": "heavy ball", "nesterov": "Nesterov"}


def _source(method: str) -> str:
    return _POLYAK if method == "heavy_ball" else _LRP


def _radius_formula(method: str) -> Formula:
    b, c = derivation.coefficients(method)
    return Formula(
        name=f"momentum.{method}_spectral_radius",
        expr=derivation.spectral_radius(b, c),
        params=(alpha, beta, lam),
        source=_source(method),
        derived=True,
        derivation=f"2x2 iteration matrix of the {_PRETTY[method]} update (sympy jacobian); charpoly "
                   f"z^2 - ({b}) z + ({c}) and its roots (sympy); max |root| split on the "
                   "discriminant: (|b| + sqrt(D))/2 for real roots, sqrt(c) (Vieta) otherwise",
        conditions=("< 1: the mode converges; > 1: it diverges at this per-step rate",
                    "at a double root (D = 0) the error carries a t * rho^t prefactor",
                    "jax.grad is finite away from D = 0 and b = 0"),
        description=f"per-step asymptotic contraction of one eigen-mode under {_PRETTY[method]}",
    )


@formula_builder(FORMULAS, "heavy_ball_spectral_radius")
def _derive_heavy_ball_spectral_radius() -> Formula:
    return _radius_formula("heavy_ball")


@formula_builder(FORMULAS, "nesterov_spectral_radius")
def _derive_nesterov_spectral_radius() -> Formula:
    return _radius_formula("nesterov")


def _discriminant_formula(method: str) -> Formula:
    return Formula(
        name=f"momentum.{method}_discriminant",
        expr=sp.factor(sp.discriminant(derivation.characteristic_polynomial(method), derivation.Z)),
        params=(alpha, beta, lam),
        source=_source(method),
        derived=True,
        derivation="sympy.discriminant of the characteristic polynomial in z",
        conditions=("> 0: two real roots; = 0: a double root; < 0: complex conjugate roots",),
        description="discriminant of the per-mode characteristic polynomial (regime indicator)",
    )


@formula_builder(FORMULAS, "heavy_ball_discriminant")
def _derive_heavy_ball_discriminant() -> Formula:
    return _discriminant_formula("heavy_ball")


@formula_builder(FORMULAS, "nesterov_discriminant")
def _derive_nesterov_discriminant() -> Formula:
    return _discriminant_formula("nesterov")


def _boundaries_formula(method: str) -> Formula:
    D = sp.discriminant(derivation.characteristic_polynomial(method), derivation.Z)
    probe = {beta: sp.Rational(1, 4), lam: 1}
    low, high = sorted((sp.factor(sp.simplify(a)) for a in sp.solve(D, alpha)),
                       key=lambda a: float(a.subs(probe)))
    inside = ("heavy ball: complex roots of modulus sqrt(beta) strictly between"
              if method == "heavy_ball" else
              "Nesterov: complex roots strictly between; alpha_high = 1/lam is the double root z = 0")
    return Formula(
        name=f"momentum.{method}_regime_boundaries",
        expr=(low, high),
        params=(beta, lam),
        source=_source(method),
        derived=True,
        derivation="sympy.solve of discriminant = 0 for alpha, sorted",
        conditions=(inside, "double roots at both values (they coincide at beta = 0), real roots outside"),
        domains={"lam": _POSITIVE_LAM},
        description="(alpha_low, alpha_high): step sizes where the per-mode roots are double",
    )


@formula_builder(FORMULAS, "heavy_ball_regime_boundaries")
def _derive_heavy_ball_regime_boundaries() -> Formula:
    return _boundaries_formula("heavy_ball")


@formula_builder(FORMULAS, "nesterov_regime_boundaries")
def _derive_nesterov_regime_boundaries() -> Formula:
    return _boundaries_formula("nesterov")


def _critical_alpha_formula(method: str) -> Formula:
    (expr,) = sp.solve(derivation.characteristic_polynomial(method).subs(derivation.Z, -1), alpha)
    extra = ("heavy ball: stable iff beta < 1 and 0 < alpha < critical_alpha"
             if method == "heavy_ball" else
             "Nesterov: stable iff alpha < critical_alpha and beta (1 - alpha lam) < 1 (binds only "
             "for beta >= 1)")
    return Formula(
        name=f"momentum.{method}_critical_alpha",
        expr=sp.factor(expr),
        params=(beta, lam),
        source=_source(method),
        derived=True,
        derivation="sympy.solve of charpoly(z = -1) = 0 for alpha: a root leaves the unit disc at -1",
        conditions=(extra, "Schur-Cohn for z^2 - b z + c: |c| < 1 and |b| < 1 + c"),
        domains={"lam": _POSITIVE_LAM},
        description="largest stable step size for one eigenvalue at momentum beta",
    )


@formula_builder(FORMULAS, "heavy_ball_critical_alpha")
def _derive_heavy_ball_critical_alpha() -> Formula:
    return _critical_alpha_formula("heavy_ball")


@formula_builder(FORMULAS, "nesterov_critical_alpha")
def _derive_nesterov_critical_alpha() -> Formula:
    return _critical_alpha_formula("nesterov")


_OPTIMUM = ("sympy.solve of b(mu) = 2 sqrt(beta), b(L) = -2 sqrt(beta): double roots +-sqrt(beta) "
            "at both ends, i.e. equal worst-case radius sqrt(beta) at mu and L (the smallest any mode "
            "can have, since |z1 z2| = beta)")


@formula_builder(FORMULAS, "heavy_ball_optimal_alpha")
def _derive_heavy_ball_optimal_alpha() -> Formula:
    return Formula(
        name="momentum.heavy_ball_optimal_alpha",
        expr=derivation.heavy_ball_optimum()[0],
        params=(mu, L),
        source=f"{_POLYAK}; {_LRP}",
        derived=True,
        derivation=_OPTIMUM + "; alpha of the solution",
        constraints=(sp.Ge(L, mu),),
        description="step size minimising heavy ball's worst-case spectral radius over [mu, L]",
    )


@formula_builder(FORMULAS, "heavy_ball_optimal_beta")
def _derive_heavy_ball_optimal_beta() -> Formula:
    return Formula(
        name="momentum.heavy_ball_optimal_beta",
        expr=derivation.in_kappa(derivation.heavy_ball_optimum()[1] ** 2),
        params=(kappa,),
        source=f"{_POLYAK}; {_LRP}",
        derived=True,
        derivation=_OPTIMUM + "; beta = sqrt(beta)^2 with L = kappa mu",
        domains={"kappa": _KAPPA},
        description="momentum minimising heavy ball's worst-case spectral radius over [mu, L]",
    )


@formula_builder(FORMULAS, "heavy_ball_optimal_rate")
def _derive_heavy_ball_optimal_rate() -> Formula:
    best_alpha, root_beta = derivation.heavy_ball_optimum()
    b, c = derivation.coefficients("heavy_ball")
    at_optimum = {alpha: best_alpha, beta: root_beta**2}
    for end in (mu, L):  # both ends are double roots, of modulus sqrt(c) = sqrt(beta)
        if sp.simplify((b**2 - 4 * c).subs(at_optimum).subs(lam, end)) != 0:
            raise AssertionError(f"heavy-ball optimum: lam = {end} is not a double root")
    return Formula(
        name="momentum.heavy_ball_optimal_rate",
        expr=derivation.in_kappa(sp.sqrt(c.subs(at_optimum))),
        params=(kappa,),
        source=f"{_POLYAK}; {_LRP}",
        derived=True,
        derivation="sqrt(det M) = sqrt(beta*) at the optimum (double roots at mu and L, complex "
                   "roots of that modulus between), written in kappa = L / mu",
        conditions=("every mode in [mu, L] has this radius; the modes at mu and L are defective "
                    "(t * rate^t prefactor)",),
        domains={"kappa": _KAPPA},
        description="worst-case per-step contraction of optimally tuned heavy ball",
    )


@formula_builder(FORMULAS, "gd_optimal_rate")
def _derive_gd_optimal_rate() -> Formula:
    b = derivation.coefficients("heavy_ball")[0].subs(beta, 0)
    return Formula(
        name="momentum.gd_optimal_rate",
        expr=derivation.in_kappa(b.subs(lam, mu).subs(alpha, derivation.gd_optimal_step())),
        params=(kappa,),
        source=f"{_NESTEROV}; {_LRP}",
        derived=True,
        derivation="heavy-ball trace at beta = 0 (GD); sympy.solve of b(mu) = -b(L) for alpha; "
                   "then b(mu) in kappa",
        conditions=("at the step 2 / (mu + L); equals linreg.optimal_rate",),
        domains={"kappa": _KAPPA},
        description="worst-case per-step contraction of GD at its optimal step size",
    )


@formula_builder(FORMULAS, "nesterov_rate")
def _derive_nesterov_rate() -> Formula:
    return Formula(
        name="momentum.nesterov_rate",
        expr=derivation.nesterov_worst_case(),
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


@formula_builder(FORMULAS, "nesterov_textbook_bound")
def _derive_nesterov_textbook_bound() -> Formula:
    return Formula(
        name="momentum.nesterov_textbook_bound",
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


def _steps_formula(method: str, rate: Formula) -> Formula:
    n = sp.Symbol("n", positive=True)
    (expr,) = sp.solve(sp.Eq(n * sp.log(rate.expr), sp.log(eps)), n)
    return Formula(
        name=f"momentum.{method}_steps",
        expr=expr,
        params=(kappa, eps),
        source=rate.source,
        derived=True,
        derivation=f"sympy.solve of {rate.name}**n = eps for n",
        conditions=("leading order: ignores the prefactor of the slowest mode (1 + a t for a "
                    "double root); momentum.steps_to_eps counts exactly from *_slowest_mode_error",),
        domains={"kappa": sp.Interval.open(1, sp.oo), "eps": sp.Interval.open(0, 1)},
        description=f"iterations for tuned {method} to reach relative error eps (leading order)",
    )


@formula_builder(FORMULAS, "gd_steps")
def _derive_gd_steps() -> Formula:
    return _steps_formula("gd", _derive_gd_optimal_rate())


@formula_builder(FORMULAS, "heavy_ball_steps")
def _derive_heavy_ball_steps() -> Formula:
    return _steps_formula("heavy_ball", _derive_heavy_ball_optimal_rate())


@formula_builder(FORMULAS, "nesterov_steps")
def _derive_nesterov_steps() -> Formula:
    return _steps_formula("nesterov", _derive_nesterov_rate())


def _slowest_mode_formula(method: str, eigenvalue, tuning: dict, rate: Formula) -> Formula:
    return Formula(
        name=f"momentum.{method}_slowest_mode_error",
        expr=derivation.slowest_mode_modulus(method, eigenvalue, tuning, rate.expr, t),
        params=(kappa, t),
        source=rate.source,
        derived=True,
        derivation=f"sympy.rsolve of x[k+2] = b x[k+1] - c x[k] at the tuned parameters and "
                   f"lam = {eigenvalue}, x[0] = x[-1] = 1 (started at rest); modulus",
        conditions=(f"|relative error| after t steps of the eigen-mode lam = {eigenvalue}, the "
                    "slowest one under this tuning",),
        domains={"kappa": sp.Interval.open(1, sp.oo), "t": sp.Naturals0},
        description=f"exact relative error of tuned {method}'s slowest mode after t steps",
    )


@formula_builder(FORMULAS, "gd_slowest_mode_error")
def _derive_gd_slowest_mode_error() -> Formula:
    return _slowest_mode_formula("gd", mu, {alpha: derivation.gd_optimal_step(), beta: 0},
                                 _derive_gd_optimal_rate())


@formula_builder(FORMULAS, "heavy_ball_slowest_mode_error")
def _derive_heavy_ball_slowest_mode_error() -> Formula:
    best_alpha, root_beta = derivation.heavy_ball_optimum()
    return _slowest_mode_formula("heavy_ball", L, {alpha: best_alpha, beta: root_beta**2},
                                 _derive_heavy_ball_optimal_rate())


@formula_builder(FORMULAS, "nesterov_slowest_mode_error")
def _derive_nesterov_slowest_mode_error() -> Formula:
    return _slowest_mode_formula("nesterov", mu, derivation.nesterov_tuning(), _derive_nesterov_rate())


__getattr__ = lazy_attributes(__name__, FORMULAS)
