r"""Per-mode iteration matrices of five game dynamics on a bilinear game, and their radii.

Model statement. $f(x, y) = x^\top A y$ with $A = \sum_i \sigma_i u_i v_i^\top$; $x$
minimises, $y$ maximises, and the game's vector field is
$F(z) = (\nabla_x f, -\nabla_y f)$. In the coordinates $(u_i^\top x, v_i^\top y)$
every method below acts on each singular value separately, on the scalar game
$f = \sigma x y$. For each method sympy writes the update of the state, takes its
Jacobian in the state (the per-mode iteration matrix $M$, by the linear-iteration engine
:mod:`analytic._iteration_engine`), its characteristic polynomial, and the largest root
modulus (the spectral radius $\rho$, the per-step
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

import jax.numpy as jnp
import sympy as sp
from sympy.utilities.lambdify import implemented_function

from analytic import _iteration_engine as engine
from analytic._registry import Formulas
from analytic.formula import Formula
from analytic.games._roots import complex_quadratic_radius, momentum_half_radius, quadratic_radius
from analytic.games._symbols import momentum, mu, sigma, z
from analytic.references import cite
from analytic.symbols import eta

FORMULAS = Formulas("games")
METHODS = ("simultaneous_gda", "alternating_gda", "extragradient", "optimistic_gda", "negative_momentum")
_x, _y, _x_prev, _y_prev = sp.symbols("x y x_prev y_prev", real=True)


def game_value(x: sp.Expr, y: sp.Expr, monotone: bool = False) -> sp.Expr:
    """The per-mode game: bilinear f = sigma x y, or (``monotone``) mu/2 x^2 + sigma x y - mu/2 y^2."""
    return sigma * x * y + (mu / 2 * (x**2 - y**2) if monotone else 0)


def update(method: str, monotone: bool = False) -> tuple[tuple[sp.Expr, ...], tuple[sp.Symbol, ...]]:
    """(new state, state) of one step of ``method`` on the per-mode game (strongly monotone if asked)."""
    x, y, xp, yp = _x, _y, _x_prev, _y_prev

    def _grad_x(u, v):
        return sp.diff(game_value(_x, _y, monotone), _x).subs({_x: u, _y: v}, simultaneous=True)

    def _grad_y(u, v):
        return sp.diff(game_value(_x, _y, monotone), _y).subs({_x: u, _y: v}, simultaneous=True)

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
def iteration_matrix(method: str, monotone: bool = False) -> sp.Matrix:
    """Jacobian of the update in the state: the per-mode iteration matrix M (the engine's)."""
    new, state = update(method, monotone)
    return engine.iteration_matrix(new, state)


@functools.cache
def characteristic_polynomial(method: str, monotone: bool = False) -> sp.Expr:
    """det(z I - M), expanded, in the complex variable ``z`` (the engine's charpoly)."""
    return engine.characteristic_polynomial(iteration_matrix(method, monotone))


def optimistic_monotone_factor() -> tuple[sp.Expr, sp.Expr]:
    r"""(b, c) of $z^2 - bz + c$ carrying the root moduli of optimistic GDA on the monotone game.

    The field is linear, $F = Jz$ with $J = [[\mu, \sigma], [-\sigma, \mu]]$, so along an
    eigenvector of $J$ (eigenvalue $\lambda$, from sympy) the method is the scalar
    recursion $z_{t+1} = (1 - 2\eta\lambda)z_t + \eta\lambda z_{t-1}$. The product over
    the two (conjugate) eigenvalues is checked to be the characteristic polynomial.
    """
    field = sp.Matrix([sp.diff(game_value(_x, _y, True), _x), -sp.diff(game_value(_x, _y, True), _y)])
    jacobian = field.jacobian([_x, _y])
    eigenvalues = sorted(jacobian.eigenvals(), key=lambda e: sp.default_sort_key(sp.im(e)))
    factors = [(1 - 2 * eta * lam_, -eta * lam_) for lam_ in eigenvalues]
    product = sp.expand(sp.Mul(*[z**2 - b * z + c for b, c in factors]))
    if sp.expand(product - characteristic_polynomial("optimistic_gda", True)) != 0:
        raise ValueError("optimistic GDA: the eigenvalue factors do not multiply to the characteristic polynomial")
    return factors[-1]


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


def half_polynomial(method: str = "negative_momentum", monotone: bool = False) -> tuple[sp.Expr, sp.Symbol]:
    r"""(q, w): a quartic q(w) whose roots squared, $z = w^2$, are the roots of ``method``'s charpoly.

    The negative-momentum characteristic polynomial is $P(z) = p(z)^2 + (\eta\sigma)^2 z^3$
    with $p = P|_{\eta\sigma = 0}$ a perfect square's root (sympy: ``factor`` of the
    $\eta\sigma$-free part). Hence $P(w^2) = q(w)\,\bar q(w)$ with
    $q(w) = p(w^2) - i\eta\sigma w^3$, $\bar q(w) = q(-w)$, and the roots of $P$ are the
    squares of the roots of $q$. Near $\eta\sigma = 0$ the roots of $P$ are double
    (at 1 and at the momentum), which no root finder resolves beyond about 1e-8; the
    roots of $q$ there ($\pm1$, $\pm\sqrt{\beta}$) are simple, so their moduli come out to
    float64 precision. On the strongly monotone game (``monotone``) the same split holds,
    with $p$ the heavy-ball polynomial $z^2 - (1 + \beta - \eta\mu)z + \beta$.
    """
    if method != "negative_momentum":
        raise ValueError(f"half_polynomial is derived for 'negative_momentum' only, got {method!r}")
    w = sp.Symbol("w")
    poly = characteristic_polynomial(method, monotone)
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
    evaluated = ((w**2 - 1) * (w**2 - momentum) + (eta * mu * w**2 if monotone else 0)
                 - sp.I * eta * sigma * w**3)  # what momentum_half_radius solves
    if sp.expand(half - evaluated) != 0 and sp.expand(half.subs(w, -w) - evaluated) != 0:
        raise ValueError(f"{method}: q = {half} is not the quartic momentum_half_radius evaluates")
    return half, w


def radius_expression(method: str, safe: bool = True, monotone: bool = False) -> sp.Expr:
    """The spectral radius of ``method`` as a sympy expression in eta, sigma (momentum, mu)."""
    if method == "negative_momentum":
        half_polynomial(method, monotone)  # derives and checks the split P(w^2) = q(w) q(-w)
        return momentum_half_radius(eta * sigma, momentum, eta * mu if monotone else 0) ** 2
    if monotone:
        if method == "optimistic_gda":
            return complex_quadratic_radius(*optimistic_monotone_factor())
        coeffs = sp.Poly(characteristic_polynomial(method, True), z).all_coeffs()
        return quadratic_radius(-coeffs[1], coeffs[2], safe=safe)
    b, c = quadratic_factor(method)
    return quadratic_radius(b, c, safe=safe)


_hypot = implemented_function("hypot", jnp.hypot)  # sqrt(a^2 + b^2) without overflow (JAX)
# a product kept whole (sympy expands powers of eta*sigma), real for sympy's as_real_imag
_times = implemented_function(sp.Function("times", real=True), lambda a, b: a * b)


def _in_products(expr: sp.Expr) -> sp.Expr:
    """``expr`` (a polynomial in eta, sigma, mu whose terms pair every eta with a sigma or a mu)
    written in the products eta sigma and eta mu, each evaluated once: eta^2 sigma^2 at eta = 1e-300,
    sigma = 1e300 is 0 * inf = NaN, (eta sigma)^2 is 1."""
    a, u = sp.Dummy("a"), sp.Dummy("u")
    out = sp.expand(sp.sympify(expr).subs({sigma: a / eta, mu: u / eta}, simultaneous=True))
    if eta in out.free_symbols:
        raise ValueError(f"{expr} does not depend on eta through eta sigma and eta mu only")
    return sp.factor(out).subs({a: _times(eta, sigma), u: _times(eta, mu)}, simultaneous=True)


def _multiplier_along_field(method: str, monotone: bool):
    """(Re k, Im k) with M v = k v for an eigenvector v of the field's Jacobian, or None.

    For a method whose iteration matrix is a polynomial in the field's Jacobian J (simultaneous
    GDA: I - eta J; extragradient: I - eta J + eta^2 J^2), the eigenvectors of J are those of M,
    and the radius is the modulus |k| of the multiplier along the eigenvalue mu + i sigma.
    """
    new, state = update(method, monotone)
    if len(state) != 2:
        return None
    field = sp.Matrix([sp.diff(game_value(_x, _y, monotone), _x), -sp.diff(game_value(_x, _y, monotone), _y)])
    matrix = iteration_matrix(method, monotone)
    for _, _, vectors in field.jacobian([_x, _y]).eigenvects():
        v = vectors[0]
        lead = 0 if v[0] != 0 else 1
        image = matrix * v
        k = sp.simplify(image[lead] / v[lead])
        if all(sp.simplify(image[i] - k * v[i]) == 0 for i in range(2)):
            return tuple(sp.expand(part) for part in sp.expand(k).as_real_imag())
    return None


def stable_radius(method: str, monotone: bool = False) -> sp.Expr | None:
    r"""An overflow-safe evaluation form of ``radius_expression(method)`` (a Formula's
    ``evaluate_as``), or None (negative momentum: already a JAX root finder).

    * M a polynomial in the field's Jacobian (simultaneous GDA, extragradient): $\rho = |k|$,
      $k$ the multiplier along an eigenvector of the Jacobian, evaluated as ``hypot(Re k, Im k)``
      (the expanded $\sqrt{\cdot}$ overflows for $\eta\sigma > 10^{77}$ and cancels near
      $\eta\mu = 1$); checked: $(\mathrm{Re}\,k)^2 + (\mathrm{Im}\,k)^2$ is the squared radius;
    * alternating GDA: the engine's scaled radius of the real $z^2 - bz + c$;
    * optimistic GDA: the engine's scaled radius of its complex quadratic factor.
    """
    if method == "negative_momentum":
        return None
    along = _multiplier_along_field(method, monotone)
    if along is not None:
        expr = radius_expression(method, monotone=monotone)
        if not (expr.is_Pow and expr.exp == sp.Rational(1, 2)) or sp.expand(
                along[0] ** 2 + along[1] ** 2 - expr.base) != 0:
            raise ValueError(f"{method}: |k|^2 = {along} is not the squared radius {expr}**2")
        return _hypot(*map(_in_products, along))
    if method == "optimistic_gda":
        b, c = optimistic_monotone_factor() if monotone else quadratic_factor(method)
        return engine.scaled_complex_quadratic_radius(_in_products(b), _in_products(c))
    if monotone:
        coeffs = sp.Poly(characteristic_polynomial(method, True), z).all_coeffs()
        return engine.scaled_quadratic_radius(_in_products(-coeffs[1]), _in_products(coeffs[2]))
    b, c = quadratic_factor(method)
    if sp.im(b) != 0 or sp.im(c) != 0:
        raise ValueError(f"{method}: expected a real quadratic factor, got b = {b}, c = {c}")
    return engine.scaled_quadratic_radius(_in_products(b), _in_products(c))


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
        evaluate_as=stable_radius(method),
        params=params,
        source=_SOURCES[method],
        derived=True,
        derivation=derivation,
        conditions=(_CONDITIONS[method], "per singular value sigma of A in f(x, y) = x^T A y"),
        domains={"momentum": sp.Interval.open(-1, 1)} if method == "negative_momentum" else {},
        description=f"spectral radius of {method.replace('_', ' ')} on one mode of a bilinear game",
    )


FORMULAS.register_variants("{method}_radius", method=METHODS)(_radius)


_MONOTONE_CONDITIONS = {
    "simultaneous_gda": "converges exactly for eta < 2 mu / (mu^2 + sigma^2)",
    "alternating_gda": "every root regime of the 2 x 2 iteration matrix",
    "extragradient": "every root regime of the 2 x 2 iteration matrix",
    "optimistic_gda": "the larger root modulus of the factor along one eigenvalue mu + i sigma of the field",
    "negative_momentum": "momentum in (-1, 1); largest squared root modulus of the half quartic q(w), "
                         "Durand-Kerner in JAX",
}


def _monotone_radius(method: str) -> Formula:
    params = (eta, momentum, mu, sigma) if method == "negative_momentum" else (eta, mu, sigma)
    return Formula(
        expr=radius_expression(method, monotone=True), evaluate_as=stable_radius(method, monotone=True),
        params=params, source=_SOURCES[method], derived=True,
        derivation="sympy: the update on mu/2 x^2 + sigma x y - mu/2 y^2, its Jacobian in the state, charpoly, "
                   "largest root modulus" + {"optimistic_gda": " (factor along an eigenvalue of the field)",
                                             "negative_momentum": " (P(w^2) = q(w) q(-w), q to a JAX root finder)"
                                             }.get(method, " in each discriminant regime"),
        conditions=(_MONOTONE_CONDITIONS[method],
                    "per singular value sigma of A in f = mu/2 |x|^2 + x^T A y - mu/2 |y|^2"),
        domains={"momentum": sp.Interval.open(-1, 1)} if method == "negative_momentum" else {},
        description=f"spectral radius of {method.replace('_', ' ')} on one mode of a strongly monotone game",
    )


FORMULAS.register_variants("{method}_monotone_radius", method=METHODS)(_monotone_radius)
