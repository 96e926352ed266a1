r"""Per-mode iteration matrices of five game dynamics on a bilinear game, and their radii.

Model statement. $f(x, y) = x^\top A y$ with $A = \sum_i \sigma_i u_i v_i^\top$; $x$
minimises, $y$ maximises, and the game's vector field is
$F(z) = (\nabla_x f, -\nabla_y f)$. In the coordinates $(u_i^\top x, v_i^\top y)$
every method below acts on each singular value separately, on the scalar game
$f = \sigma x y$. For each method sympy writes the update of the state, takes its
Jacobian in the state (the per-mode iteration matrix $M$), its characteristic
polynomial, and the largest root modulus (the spectral radius $\rho$, the per-step
growth of the error in the slowest mode), valid in every root regime
(:mod:`analytic.games._roots`).

Update rules, step $\eta$ (all derived, nothing typed from a paper):

* simultaneous GDA: $z \leftarrow z - \eta F(z)$;
* alternating GDA: $x' = x - \eta\nabla_x f(x, y)$, then $y' = y + \eta\nabla_y f(x', y)$;
* extragradient (Korpelevich 1976): $z \leftarrow z - \eta F(z - \eta F(z))$;
* optimistic GDA (Daskalakis et al. 2018, arXiv:1711.00141v2, eq. (4) in its GDA
  form): $z_{t+1} = z_t - 2\eta F(z_t) + \eta F(z_{t-1})$; state $(z_t, z_{t-1})$;
* alternating GDA with heavy-ball momentum $\beta$ (Gidel et al. 2019,
  arXiv:1807.04740v5, sec. 5, the alternating method with $\beta_1 = \beta_2$):
  $x' = x - \eta\nabla_x f(x, y) + \beta(x - x_{-})$, then
  $y' = y + \eta\nabla_y f(x', y) + \beta(y - y_{-})$; state $(x, y, x_{-}, y_{-})$.
  Negative momentum is $\beta < 0$.
"""

from __future__ import annotations

import functools

import sympy as sp

from analytic._registry import Formulas
from analytic.formula import Formula
from analytic.games._roots import momentum_half_radius, quadratic_radius
from analytic.games._symbols import momentum, sigma, z
from analytic.references import cite
from analytic.symbols import eta

FORMULAS = Formulas("games")
METHODS = ("simultaneous_gda", "alternating_gda", "extragradient", "optimistic_gda", "negative_momentum")
_x, _y, _x_prev, _y_prev = sp.symbols("x y x_prev y_prev", real=True)


def game_value(x: sp.Expr, y: sp.Expr) -> sp.Expr:
    """The per-mode bilinear game f = sigma x y (the model statement)."""
    return sigma * x * y


def _grad_x(x: sp.Expr, y: sp.Expr) -> sp.Expr:
    return sp.diff(game_value(_x, _y), _x).subs({_x: x, _y: y}, simultaneous=True)


def _grad_y(x: sp.Expr, y: sp.Expr) -> sp.Expr:
    return sp.diff(game_value(_x, _y), _y).subs({_x: x, _y: y}, simultaneous=True)


def update(method: str) -> tuple[tuple[sp.Expr, ...], tuple[sp.Symbol, ...]]:
    """(new state, state) of one step of ``method`` on the per-mode game."""
    x, y, xp, yp = _x, _y, _x_prev, _y_prev
    if method == "simultaneous_gda":
        return (x - eta * _grad_x(x, y), y + eta * _grad_y(x, y)), (x, y)
    if method == "alternating_gda":
        x_new = x - eta * _grad_x(x, y)
        return (x_new, y + eta * _grad_y(x_new, y)), (x, y)
    if method == "extragradient":
        x_half, y_half = x - eta * _grad_x(x, y), y + eta * _grad_y(x, y)
        return (x - eta * _grad_x(x_half, y_half), y + eta * _grad_y(x_half, y_half)), (x, y)
    if method == "optimistic_gda":
        x_new = x - 2 * eta * _grad_x(x, y) + eta * _grad_x(xp, yp)
        y_new = y + 2 * eta * _grad_y(x, y) - eta * _grad_y(xp, yp)
        return (x_new, y_new, x, y), (x, y, xp, yp)
    if method == "negative_momentum":
        x_new = x - eta * _grad_x(x, y) + momentum * (x - xp)
        y_new = y + eta * _grad_y(x_new, y) + momentum * (y - yp)
        return (x_new, y_new, x, y), (x, y, xp, yp)
    raise ValueError(f"unknown method {method!r}; methods are {METHODS}")


@functools.cache
def iteration_matrix(method: str) -> sp.Matrix:
    """Jacobian of the update in the state: the per-mode iteration matrix M."""
    new, state = update(method)
    return sp.Matrix(new).jacobian(state)


@functools.cache
def characteristic_polynomial(method: str) -> sp.Expr:
    """det(z I - M), expanded, in the complex variable ``z``."""
    return sp.expand(iteration_matrix(method).charpoly(z).as_expr())


@functools.cache
def quadratic_factor(method: str) -> tuple[sp.Expr, sp.Expr]:
    """(b, c) with z**2 - b z + c a factor carrying every root modulus of ``method``.

    2x2 methods: the characteristic polynomial itself. Optimistic GDA: its quartic
    factors over Q(i) into a quadratic and its complex conjugate (same moduli).
    """
    poly = characteristic_polynomial(method)
    if sp.degree(poly, z) == 4:
        factors = [f for f, _ in sp.factor_list(poly, extension=sp.I)[1] if sp.degree(f, z) == 2]
        if len(factors) != 2 or sp.expand(factors[0] * factors[1] - poly) != 0:
            raise ValueError(f"{method}: characteristic polynomial {poly} does not split into two quadratics")
        poly = factors[0]
    coeffs = sp.Poly(poly, z).all_coeffs()
    if len(coeffs) != 3 or coeffs[0] != 1:
        raise ValueError(f"{method}: expected a monic quadratic, got {poly}")
    return sp.simplify(-coeffs[1]), sp.simplify(coeffs[2])


def half_polynomial(method: str = "negative_momentum") -> tuple[sp.Expr, sp.Symbol]:
    r"""(q, w): a quartic q(w) whose roots squared, $z = w^2$, are the roots of ``method``'s charpoly.

    The negative-momentum characteristic polynomial is $P(z) = p(z)^2 + (\eta\sigma)^2 z^3$
    with $p = P|_{\eta\sigma = 0}$ a perfect square's root (sympy: ``factor`` of the
    $\eta\sigma$-free part). Hence $P(w^2) = q(w)\,\bar q(w)$ with
    $q(w) = p(w^2) - i\eta\sigma w^3$, $\bar q(w) = q(-w)$, and the roots of $P$ are the
    squares of the roots of $q$. Near $\eta\sigma = 0$ the roots of $P$ are double
    (at 1 and at the momentum), which no root finder resolves beyond about 1e-8; the
    roots of $q$ there ($\pm1$, $\pm\sqrt{\beta}$) are simple, so their moduli come out to
    float64 precision.
    """
    if method != "negative_momentum":
        raise ValueError(f"half_polynomial is derived for 'negative_momentum' only, got {method!r}")
    w = sp.Symbol("w")
    poly = characteristic_polynomial(method)
    coupling = sp.expand(poly - poly.subs(sigma, 0))
    square = sp.factor(poly.subs(sigma, 0))
    root = sp.sqrt(square)  # (z - 1)(z - momentum), up to sign
    if not (square.is_Pow and square.exp == 2) and not all(
            e % 2 == 0 for _, e in sp.factor_list(square)[1]):
        raise ValueError(f"{method}: the sigma-free part {square} is not a perfect square")
    root = sp.Mul(*[f ** (e // 2) for f, e in sp.factor_list(square)[1]])
    rest = sp.cancel(coupling / z**3)  # (eta sigma)^2
    amplitude = sp.sqrt(sp.factor(rest))
    half = sp.expand(root.subs(z, w**2) - sp.I * amplitude * w**3)
    if sp.expand(half * half.subs(w, -w) - poly.subs(z, w**2)) != 0:
        raise ValueError(f"{method}: P(w^2) does not split as q(w) q(-w) with q = {half}")
    evaluated = (w**2 - 1) * (w**2 - momentum) - sp.I * eta * sigma * w**3  # what momentum_half_radius solves
    if sp.expand(half - evaluated) != 0 and sp.expand(half.subs(w, -w) - evaluated) != 0:
        raise ValueError(f"{method}: q = {half} is not the quartic momentum_half_radius evaluates")
    return half, w


def radius_expression(method: str, safe: bool = True) -> sp.Expr:
    """The spectral radius of ``method`` as a sympy expression in eta, sigma (and momentum)."""
    if method == "negative_momentum":
        half_polynomial(method)  # derives and checks the split P(w^2) = q(w) q(-w)
        return momentum_half_radius(eta * sigma, momentum) ** 2
    b, c = quadratic_factor(method)
    return quadratic_radius(b, c, safe=safe)


_SOURCES = {
    "simultaneous_gda": cite("gidel2019", "sec. 3 (simultaneous updates diverge on bilinear games)"),
    "alternating_gda": cite("gidel2019", "sec. 3 (alternating updates stay bounded)"),
    "extragradient": cite("korpelevich1976"),
    "optimistic_gda": cite("daskalakis2018", "sec. 3, bilinear games"),
    "negative_momentum": cite("gidel2019", "sec. 5 (alternating updates with momentum)"),
}

_CONDITIONS = {
    "simultaneous_gda": "rho^2 = 1 + (eta sigma)^2 > 1: diverges for every step size",
    "alternating_gda": "rho = 1 (a bounded rotation, det M = 1) for eta sigma < 2; rho > 1 above",
    "extragradient": "rho < 1 (converges) exactly for eta sigma < 1",
    "optimistic_gda": "rho < 1 (converges) exactly for eta sigma < 1/sqrt(3)",
    "negative_momentum": "momentum in (-1, 1); the radius is the largest squared root modulus of the "
                         "quartic q(w) with P(w^2) = q(w) q(-w) (simple roots where P has double ones), "
                         "found by Durand-Kerner iteration in JAX",
}


def _radius(method: str) -> Formula:
    expr = radius_expression(method)
    params = (eta, momentum, sigma) if method == "negative_momentum" else (eta, sigma)
    derivation = ("sympy: Jacobian of the update in the state (iteration matrix), charpoly"
                  + (", factored over Q(i) into conjugate quadratics" if method == "optimistic_gda" else "")
                  + ("; P(w^2) split as q(w) q(-w) (the sigma-free part is a square), the coefficients "
                     "of q handed to a JAX root finder" if method == "negative_momentum"
                     else "; largest root modulus in each discriminant regime"))
    return Formula(
        expr=expr,
        params=params,
        source=_SOURCES[method],
        derived=True,
        derivation=derivation,
        conditions=(_CONDITIONS[method], "per singular value sigma of A in f(x, y) = x^T A y"),
        domains={"momentum": sp.Interval.open(-1, 1)} if method == "negative_momentum" else {},
        description=f"spectral radius of {method.replace('_', ' ')} on one mode of a bilinear game",
    )


FORMULAS.register_variants("{method}_radius", method=METHODS)(_radius)
