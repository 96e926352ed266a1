r"""The characteristic polynomial of one eigen-mode, and the sympy algebra built on it.

No Formulas here: the Formula builders (``_iteration``, ``_tuning``, ``_step_counts``)
call these helpers.

Per eigen-direction (eigenvalue $\lambda$ of the Hessian), the update rule of heavy
ball or Nesterov is linear in the state $(x_k, x_{k-1})$. The linear-iteration engine
(:func:`analytic.linear_method`, :mod:`analytic._iteration_engine`) derives from that
update rule the 2x2 iteration matrix (a sympy Jacobian), the characteristic polynomial
$z^2 - b z + c$, the spectral radius in every root regime, the discriminant, the regime
boundaries and the stability edge. What is specific to momentum is here: the update
rules, the roots and Vieta's check, the heavy-ball optimum, the worst case of tuned
Nesterov, and exact slowest-mode errors (sympy ``rsolve``). The helpers are pure
functions of their arguments; those that are cached are cached per argument, and
nothing runs at import.
"""

from __future__ import annotations

import functools

import sympy as sp

from analytic import _iteration_engine as engine
from analytic._linear_method import LinearMethod, linear_method
from analytic.momentum._symbols import L, mu
from analytic.symbols import alpha, beta, kappa, lam

Z = engine.z  # root variable of the characteristic polynomial


def tidy(expr: sp.Expr, *positive: sp.Symbol) -> sp.Expr:
    """Simplify an expression with square roots of positive symbols.

    Each ``s`` in ``positive`` is written as ``r**2`` (``r`` positive), the result is
    simplified and factored, and ``r`` is put back as ``sqrt(s)``; this removes the
    nested radicals and spurious ``Abs`` sympy leaves otherwise.
    """
    reps = {s: sp.Dummy(s.name, positive=True) for s in positive}
    out = sp.factor(sp.simplify(sp.sympify(expr).subs({s: r**2 for s, r in reps.items()})))
    return out.subs({r: sp.sqrt(s) for s, r in reps.items()})


_gradient = engine.mode_gradient  # d/dx of the one-mode loss lam x^2 / 2 at a point


def update(method: str, x_now: sp.Expr, x_before: sp.Expr) -> sp.Expr:
    """x_{k+1} along one eigen-direction, read off the update rule (the model statement)."""
    if method == "heavy_ball":
        return x_now - alpha * _gradient(x_now) + beta * (x_now - x_before)
    if method == "nesterov":
        look_ahead = x_now + beta * (x_now - x_before)
        return look_ahead - alpha * _gradient(look_ahead)
    raise ValueError(f"method must be 'heavy_ball' or 'nesterov', got {method!r}")


@functools.cache
def derived(method: str) -> LinearMethod:
    """What the linear-iteration engine derives from ``method``'s update rule on the state
    $(x_k, x_{k-1})$ (``linear_method``: iteration matrix, charpoly, radius, discriminant, ...)."""
    x_now, x_before = sp.symbols("x_k x_km1", real=True)
    return linear_method({x_now: update(method, x_now, x_before), x_before: x_now},
                         params=(alpha, beta, lam), name=method)


def iteration_matrix(method: str) -> sp.Matrix:
    r"""$M$ with $(x_{k+1}, x_k)^\top = M (x_k, x_{k-1})^\top$ (sympy Jacobian of the update)."""
    return sp.Matrix(2, 2, derived(method).iteration_matrix.expr)


def characteristic_polynomial(method: str) -> sp.Expr:
    """det(z I - M) as a polynomial in the Symbol ``Z`` (sympy charpoly)."""
    return derived(method).characteristic_polynomial.expr


@functools.cache
def roots(method: str) -> tuple[sp.Expr, sp.Expr]:
    """The two roots of the characteristic polynomial (sympy solve), possibly complex."""
    found = sp.solve(characteristic_polynomial(method), Z)
    if len(found) != 2:
        raise AssertionError(f"{method}: expected two roots, sympy found {found}")
    return tuple(found)


@functools.cache
def coefficients(method: str) -> tuple[sp.Expr, sp.Expr]:
    """(b, c) of the monic z^2 - b z + c, checked against the roots (Vieta)."""
    b, c = derived(method).coefficients
    r1, r2 = roots(method)
    if sp.simplify(r1 + r2 - b) != 0 or sp.simplify(r1 * r2 - c) != 0:
        raise AssertionError(f"{method}: roots do not satisfy Vieta's relations")
    return b, c


spectral_radius = engine.quadratic_radius  # max |z| over the roots of z^2 - b z + c, safe for JAX


@functools.cache
def heavy_ball_optimum() -> tuple[sp.Expr, sp.Expr]:
    r"""(alpha*, sqrt(beta*)) from equalising the worst-case radius at mu and L.

    Since $|z_1 z_2| = c = \beta$, every mode has radius $\ge \sqrt\beta$, with
    equality exactly in the closed complex regime $(1-\sqrt\beta)^2 \le \alpha\lambda
    \le (1+\sqrt\beta)^2$. The worst case over $[\mu, L]$ is smallest when both ends
    sit on that regime's boundary with the same radius $\sqrt\beta$: double roots
    $+\sqrt\beta$ at $\mu$ and $-\sqrt\beta$ at $L$, i.e. $b(\mu) = 2\sqrt\beta$ and
    $b(L) = -2\sqrt\beta$. Solved by ``sympy.solve``; the root with
    $0 < \sqrt\beta < 1$ is kept.
    """
    s = sp.Symbol("s", positive=True)  # sqrt(beta)
    b = coefficients("heavy_ball")[0].subs(beta, s**2)
    solutions = sp.solve([sp.Eq(b.subs(lam, mu), 2 * s), sp.Eq(b.subs(lam, L), -2 * s)],
                         [alpha, s], dict=True)
    (best,) = [sol for sol in solutions if 0 < float(sol[s].subs({mu: 1, L: 4})) < 1]
    return tidy(best[alpha], mu, L), tidy(best[s], mu, L)


@functools.cache
def gd_optimal_step() -> sp.Expr:
    """GD is heavy ball at beta = 0 (one root b = 1 - alpha lam): solve b(mu) = -b(L)."""
    b = coefficients("heavy_ball")[0].subs(beta, 0)
    (step,) = sp.solve(sp.Eq(b.subs(lam, mu), -b.subs(lam, L)), alpha)
    return sp.factor(step)


def nesterov_tuning() -> dict[sp.Symbol, sp.Expr]:
    r"""Standard strongly convex tuning $\alpha = 1/L$, $\beta = (\sqrt\kappa-1)/(\sqrt\kappa+1)$."""
    return {alpha: 1 / L, beta: (sp.sqrt(kappa) - 1) / (sp.sqrt(kappa) + 1)}


def in_kappa(expr: sp.Expr) -> sp.Expr:
    """An expression of (mu, L) written in kappa = L / mu (it must drop mu), simplified.

    Where sqrt(kappa) appears, kappa is written as (1 + w)^2 with w > 0 while
    simplifying (kappa >= 1), so that |sqrt(kappa) - 1| = sqrt(kappa) - 1 resolves.
    """
    out = tidy(sp.sympify(expr).subs(L, kappa * mu), mu)
    if mu in out.free_symbols:
        raise AssertionError(f"{expr} does not depend on mu and L through kappa only")
    if not any(isinstance(p, sp.Pow) and p.base == kappa and not p.exp.is_integer
               for p in out.atoms(sp.Pow)):
        return sp.factor(sp.simplify(out))
    w = sp.Dummy("w", positive=True)
    out = sp.factor(sp.simplify(out.subs(kappa, (1 + w) ** 2)))
    return out.subs(w, sp.sqrt(kappa) - 1)


@functools.cache
def nesterov_worst_case() -> sp.Expr:
    r"""Worst-case radius of tuned Nesterov over $[\mu, L]$ (derived; steps asserted).

    With $u = \alpha\lambda = \lambda/L \in [1/\kappa, 1]$ the discriminant vanishes at
    $u = 1/\kappa$ and $u = 1$ and is negative between (complex roots of modulus
    $\sqrt{c(u)} = \sqrt{\beta(1-u)}$, decreasing in $u$), so the worst mode is
    $\lambda = \mu$, a double root of modulus $b/2$.
    """
    u = sp.Symbol("u", positive=True)
    b, c = coefficients("nesterov")

    def along(e):
        return sp.simplify(e.subs(nesterov_tuning()).subs(lam, u * L))

    D, c_u, b_u = along(b**2 - 4 * c), along(c), along(b)
    zeros = {sp.simplify(z) for z in sp.solve(D, u)}
    if zeros != {sp.Integer(1), 1 / kappa}:
        raise AssertionError(f"tuned Nesterov: discriminant zeros {zeros}, expected {{1/kappa, 1}}")
    probe = {kappa: 9, u: sp.Rational(1, 2)}
    if not (D.subs(probe) < 0 and sp.diff(c_u, u).subs(probe) < 0):
        raise AssertionError("tuned Nesterov: expected complex roots of decreasing modulus inside")
    return tidy(b_u.subs(u, 1 / kappa) / 2, kappa)


def slowest_mode_modulus(method: str, eigenvalue: sp.Expr, tuning: dict, rate: sp.Expr,
                         steps: sp.Symbol) -> sp.Expr:
    r"""|x_t| of one mode started at rest ($x_{-1} = x_0 = 1$), by ``sympy.rsolve``.

    The tuned coefficients (b, c) at ``eigenvalue`` are written in terms of the
    mode's rate ``r`` (solving ``rate = r`` for kappa), the recurrence
    $x_{k+2} = b x_{k+1} - c x_k$ with $x_0 = 1$, $x_1 = b - c$ is solved, and the
    modulus is taken (the sign $(-1)^t$ of a negative root drops out).
    """
    r = sp.Symbol("r", positive=True)
    k = sp.Symbol("k", integer=True, nonnegative=True)
    x = sp.Function("x")
    root_kappa = sp.Symbol("root_kappa", positive=True)
    candidates = sp.solve(sp.Eq(rate.subs(kappa, root_kappa**2), r), root_kappa)
    (kappa_of_r,) = [s for s in candidates if s.subs(r, sp.Rational(1, 2)) > 1]
    b, c = (e.subs(tuning).subs(lam, eigenvalue) for e in coefficients(
        "heavy_ball" if method == "gd" else method))
    b, c = (sp.factor(sp.simplify(sp.refine(in_kappa(e).subs(kappa, kappa_of_r**2), sp.Q.lt(r, 1))))
            for e in (b, c))  # a rate r lies in (0, 1)
    solution = sp.rsolve(x(k + 2) - b * x(k + 1) + c * x(k), x(k), {x(0): 1, x(1): b - c})
    if solution is None:
        raise AssertionError(f"{method}: rsolve found no closed form for b={b}, c={c}")
    modulus = sp.refine(sp.simplify(sp.Abs(sp.factor(solution))), sp.Q.lt(r, 1))
    modulus = sp.factor(sp.simplify(modulus).subs(k, steps))
    modulus = modulus.subs(r, rate)
    # Drop an Abs whose argument is positive (checked after writing kappa as a square);
    # the rate**t form is kept so that large t neither overflows nor underflows early.
    return modulus.replace(lambda e: isinstance(e, sp.Abs) and tidy(e.args[0], kappa).is_positive,
                           lambda e: e.args[0])
