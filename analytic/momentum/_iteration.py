r"""One eigen-mode under heavy ball or Nesterov: spectral radius, regimes, stability edge.

Model statement: along an eigenvector of $H$ with eigenvalue $\lambda$ the update
rule is linear in $(x_k, x_{k-1})$; the linear-iteration engine (``linear_method``,
called by ``_characteristic.derived``) forms its 2x2 iteration matrix, characteristic
polynomial $z^2 - bz + c$, radius, discriminant, regime boundaries and stability edge.
The Formulas here are those derivations with momentum's sources and conditions, one per
method (registered in one call each), and
:func:`spectral_radius`, :func:`is_stable`, :func:`regime` dispatch on the method.
"""

from __future__ import annotations

import jax.numpy as jnp
import sympy as sp

from analytic._registry import Formulas
from analytic.formula import Formula
from analytic.momentum import _characteristic as characteristic
from analytic.references import cite
from analytic.symbols import alpha, beta, lam

FORMULAS = Formulas("momentum")
MOMENTUM_METHODS = ("heavy_ball", "nesterov")

_POLYAK = f"{cite('polyak1964')}; {cite('goh2017', 'The Dynamics of Momentum')}"
_LRP = cite("lessard2016", "sec. 2 and Proposition 1")
_POSITIVE_LAM = sp.Interval.open(0, sp.oo)
_PRETTY = {"heavy_ball": "heavy ball", "nesterov": "Nesterov"}


def _source(method: str) -> str:
    return _POLYAK if method == "heavy_ball" else _LRP


@FORMULAS.register_variants("{method}_spectral_radius", method=MOMENTUM_METHODS)
def _spectral_radius(method: str) -> Formula:
    b, c = characteristic.coefficients(method)
    radius = characteristic.derived(method).spectral_radius
    return Formula(
        expr=radius.expr,
        evaluate_as=radius.evaluated_expr,  # overflow-safe: scaled by max(|b|, sqrt|c|)
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


@FORMULAS.register_variants("{method}_discriminant", method=MOMENTUM_METHODS)
def _discriminant(method: str) -> Formula:
    polynomial = characteristic.characteristic_polynomial(method)
    if sp.expand(characteristic.derived(method).discriminant.expr - sp.discriminant(polynomial, characteristic.Z)) != 0:
        raise AssertionError(f"{method}: b^2 - 4c is not the discriminant of {polynomial}")
    # heavy ball: c = beta >= 0, so b^2 - 4c = (b - 2 sqrt(beta)) (b + 2 sqrt(beta)) with
    # b = 1 + beta - alpha lam: two differences of order alpha lam, whose product overflows only
    # where the value does (the expanded form subtracts two overflows at alpha lam ~ 1e154+)
    root = sp.sqrt(beta)
    stable = (((1 - root) ** 2 - alpha * lam) * ((1 + root) ** 2 - alpha * lam)
              if method == "heavy_ball" else None)
    return Formula(
        expr=characteristic.derived(method).discriminant.expr,
        evaluate_as=stable,
        params=(alpha, beta, lam),
        source=_source(method),
        derived=True,
        derivation="b^2 - 4c of the characteristic polynomial z^2 - b z + c (the discriminant in z; "
                   f"checked against sympy.discriminant of {polynomial})",
        conditions=("> 0: two real roots; = 0: a double root; < 0: complex conjugate roots",),
        description="discriminant of the per-mode characteristic polynomial (regime indicator)",
    )


@FORMULAS.register_variants("{method}_regime_boundaries", method=MOMENTUM_METHODS)
def _regime_boundaries(method: str) -> Formula:
    probe = {beta: sp.Rational(1, 4), lam: 1}
    low, high = sorted(characteristic.derived(method).regime_boundaries(alpha).expr,
                       key=lambda a: float(a.subs(probe)))
    inside = ("heavy ball: complex roots of modulus sqrt(beta) strictly between"
              if method == "heavy_ball" else
              "Nesterov: complex roots strictly between; alpha_high = 1/lam is the double root z = 0")
    return Formula(
        expr=(low, high),
        params=(beta, lam),
        source=_source(method),
        derived=True,
        derivation="sympy.solve of discriminant = 0 for alpha, sorted",
        conditions=(inside, "double roots at both values (they coincide at beta = 0), real roots outside"),
        domains={"lam": _POSITIVE_LAM},
        description="(alpha_low, alpha_high): step sizes where the per-mode roots are double",
    )


@FORMULAS.register_variants("{method}_critical_alpha", method=MOMENTUM_METHODS)
def _critical_alpha(method: str) -> Formula:
    expr = characteristic.derived(method).critical(alpha).expr
    extra = ("heavy ball: stable iff beta < 1 and 0 < alpha < critical_alpha"
             if method == "heavy_ball" else
             "Nesterov: stable iff alpha < critical_alpha and beta (1 - alpha lam) < 1 (binds only "
             "for beta >= 1)")
    return Formula(
        expr=expr,
        params=(beta, lam),
        source=_source(method),
        derived=True,
        derivation="sympy.solve of charpoly(z = -1) = 0 for alpha: a root leaves the unit disc at -1",
        conditions=(extra, "Schur-Cohn for z^2 - b z + c: |c| < 1 and |b| < 1 + c"),
        domains={"lam": _POSITIVE_LAM},
        description="largest stable step size for one eigenvalue at momentum beta",
    )


def _check_method(method: str) -> None:
    if method not in MOMENTUM_METHODS:
        raise ValueError(f"method must be one of {MOMENTUM_METHODS}, got {method!r}")


def spectral_radius(method: str, alpha, beta, lam):
    r"""$\max|z|$ of the per-mode iteration matrix of ``method`` (checked inputs).

    Example:
        >>> spectral_radius("nesterov", alpha=0.5, beta=0.5, lam=1.0)  # complex: sqrt(0.25)
        Array(0.5, dtype=float64)
    """
    _check_method(method)
    return FORMULAS.get(f"{method}_spectral_radius")(alpha=alpha, beta=beta, lam=lam)


def is_stable(method: str, alpha, beta, lam):
    """True where every root lies strictly inside the unit disc (the mode converges)."""
    return spectral_radius(method, alpha, beta, lam) < 1


def regime(method: str, alpha, beta, lam):
    """+1 two real roots, 0 a double root, -1 complex roots (sign of the discriminant)."""
    _check_method(method)
    return jnp.sign(FORMULAS.get(f"{method}_discriminant")(alpha=alpha, beta=beta, lam=lam))
