r"""The linear-iteration engine: update rule -> iteration matrix -> charpoly -> roots and edges.

Every family that studies a linear method on a quadratic (momentum, eos, games, Adam's
EMA momentum, user methods through :func:`analytic.linear_method`) derives its algebra
here, once:

1. the iteration matrix $M = \partial(\text{update})/\partial(\text{state})$ (sympy jacobian);
2. the characteristic polynomial $p(z) = \det(zI - M)$ (sympy charpoly, expanded);
3. its monic coefficients: $(b)$ of $z - b$, $(b, c)$ of $z^2 - bz + c$;
4. the spectral radius of a quadratic in every root regime,
   $\rho = (|b| + \sqrt D)/2$ for $D = b^2 - 4c > 0$ and $\sqrt c$ (Vieta) otherwise,
   with an overflow-safe form for evaluation (:func:`scaled_quadratic_radius`);
5. the stability edge $p(-1) = 0$ solved for one parameter (:func:`crossing`) and the
   regime boundaries $D = 0$ (:func:`double_root_values`).

All functions are pure functions of their (sympy) arguments; nothing runs at import.
The symbols of the derivation (``z``, ``mu``, ``L``) are created here once.

Sources: Jury 1964, "Theory and Application of the z-Transform Method" (stability
margins); Lessard, Recht, Packard 2016, arXiv:1408.3595v3, sec. 2 (the per-mode
reduction of a linear method on a quadratic).
"""

from __future__ import annotations

from collections.abc import Sequence

import jax
import jax.numpy as jnp
import sympy as sp
from sympy.utilities.lambdify import implemented_function

from analytic.symbols import L, lam, mu, z  # created once, in analytic.symbols

__all__ = ["L", "characteristic_polynomial", "crossing", "double_root_values", "iteration_matrix",
           "mode_gradient", "monic_coefficients", "mu", "quadratic_radius", "scaled_complex_quadratic_radius",
           "scaled_quadratic_radius", "z"]



def mode_gradient(point: sp.Expr, eigenvalue: sp.Expr = lam) -> sp.Expr:
    r"""The gradient of the one-mode loss $\tfrac12\lambda x^2$ at ``point`` (sympy diff)."""
    x = sp.Dummy("x", real=True)
    return sp.diff(eigenvalue * x**2 / 2, x).subs(x, point)


def iteration_matrix(updates: Sequence[sp.Expr], state: Sequence[sp.Symbol]) -> sp.Matrix:
    """$M_{ij} = \\partial\\,\\text{update}_i / \\partial\\,\\text{state}_j$ (sympy jacobian), expanded."""
    updates, state = tuple(updates), tuple(state)
    if len(updates) != len(state):
        raise ValueError(f"state does not close: {len(state)} state variables but {len(updates)} updates")
    return sp.Matrix([[sp.expand(sp.diff(u, s)) for s in state] for u in updates])


def characteristic_polynomial(matrix: sp.Matrix) -> sp.Expr:
    """$\\det(zI - M)$ as an expanded polynomial in :data:`z` (sympy charpoly)."""
    return sp.expand(matrix.charpoly(z).as_expr())


def monic_coefficients(polynomial: sp.Expr) -> tuple[sp.Expr, ...]:
    """(b,) of the monic $z - b$ or (b, c) of $z^2 - bz + c$, each factored; (b, c, ...) in general:
    the k-th is $(-1)^k$ times the coefficient of $z^{n-k}$."""
    lead, *rest = sp.Poly(polynomial, z).all_coeffs()
    if lead != 1:
        raise ValueError(f"characteristic polynomial {polynomial} is not monic in z")
    return tuple(sp.factor((-1) ** (k + 1) * a) for k, a in enumerate(rest))


def quadratic_radius(b: sp.Expr, c: sp.Expr) -> sp.Expr:
    r"""max |root| of $z^2 - bz + c$ (real b, c) in every regime, with no NaN value or gradient in JAX.

    Real roots ($D = b^2 - 4c > 0$): $(b \pm \sqrt D)/2$, the larger modulus
    $(|b| + \sqrt D)/2$. Complex or double roots ($D \le 0$): conjugates with
    $|z|^2 = z\bar z = c$ (Vieta). JAX evaluates both branches of a Piecewise, so the
    argument of each square root is replaced by 1 where its branch is not taken
    (``H = Heaviside(-D, 1)`` is 1 for $D \le 0$; a double root takes the complex
    branch, where $\sqrt c = |b|/2$ too): the double-``where`` idiom.
    """
    D = b**2 - 4 * c
    H = sp.Heaviside(-D, 1)
    return sp.Piecewise(((sp.Abs(b) + sp.sqrt(D * (1 - H) + H)) / 2, D > 0),
                        (sp.sqrt(c * H + (1 - H)), True))


def _scaled_quadratic_radius_jax(b, c):
    """JAX: max |root| of z^2 - b z + c without squaring b (see :func:`scaled_quadratic_radius`)."""
    b, c = jnp.broadcast_arrays(jnp.asarray(b), jnp.asarray(c))
    dtype = jnp.result_type(b, c, float)
    b, c = b.astype(dtype), c.astype(dtype)
    # The radius is homogeneous in (b, sqrt|c|): any positive scale gives the same value, so the
    # scale carries no gradient (stop_gradient: no 0 * inf from sqrt|c| at c = 0).
    size = jax.lax.stop_gradient(jnp.maximum(jnp.abs(b), jnp.sqrt(jnp.abs(c))))
    size = jnp.where(size > 0, size, 1)
    b_hat, c_hat = b / size, c / size / size
    d_hat = b_hat * b_hat - 4 * c_hat  # D / size^2, in [-4, 5]
    real = d_hat > 0
    real_branch = size * ((jnp.abs(b_hat) + jnp.sqrt(jnp.where(real, d_hat, 1))) / 2)  # halved first: no overflow below the max
    complex_branch = jnp.sqrt(jnp.where(real, 1, c))  # D <= 0: c >= b^2/4 >= 0
    # b or c already overflowed (inf; c may be 0 * inf = NaN beside an infinite b): so does the
    # radius, which is at least max(|b|, sqrt|c|)/2
    overflowed = jnp.isinf(b) | jnp.isinf(c)
    return jnp.where(overflowed, jnp.inf, jnp.where(real, real_branch, complex_branch))


def _scaled_quadratic_radius_square_jax(b, r):
    """JAX: max |root| of z^2 - b z + r^2, never forming r^2 (it may overflow where the radius does not)."""
    b, r = jnp.broadcast_arrays(jnp.asarray(b), jnp.asarray(r))
    dtype = jnp.result_type(b, r, float)
    b, r = b.astype(dtype), r.astype(dtype)
    size = jax.lax.stop_gradient(jnp.maximum(jnp.abs(b), jnp.abs(r)))  # homogeneous in (b, r)
    size = jnp.where(size > 0, size, 1)
    b_hat, r_hat = b / size, r / size
    d_hat = b_hat * b_hat - 4 * r_hat * r_hat
    real = d_hat > 0
    real_branch = size * ((jnp.abs(b_hat) + jnp.sqrt(jnp.where(real, d_hat, 1))) / 2)
    return jnp.where(jnp.isinf(b) | jnp.isinf(r), jnp.inf, jnp.where(real, real_branch, jnp.abs(r)))


_scaled_radius = implemented_function("scaled_quadratic_radius", _scaled_quadratic_radius_jax)
_scaled_radius_square = implemented_function("scaled_quadratic_radius_square", _scaled_quadratic_radius_square_jax)


def scaled_quadratic_radius(b: sp.Expr, c: sp.Expr) -> sp.Expr:
    r""":func:`quadratic_radius` as an evaluation form that overflows only where the radius does.

    A sympy function evaluated in JAX: with $s = \max(|b|, \sqrt{|c|})$ (1 where both
    vanish), $\hat b = b/s$ and $\hat c = (c/s)/s$ lie in $[-1, 1]$ and
    $\hat D = \hat b^2 - 4\hat c = D/s^2$ in $[-4, 5]$, so nothing squares a large $b$
    (the plain form overflows for $|b| > 10^{154}$): the real branch is
    $s(|\hat b| + \sqrt{\hat D})/2$ (a sum of non-negative terms, no cancellation), the
    complex branch $\sqrt c$, chosen on the sign of $\hat D$ (the sign of $D$). Each step
    is a few roundings, so the relative error is a few ulps times the condition number of
    the root (unbounded only at $D = 0$). Use it as a Formula's ``evaluate_as`` beside
    the readable :func:`quadratic_radius`. Where $c = r^2$ factors as a square, $r$ is passed
    instead (``scaled_quadratic_radius_square(b, r)``): $c$ itself may overflow where the
    radius, of order $|r|$, does not.
    """
    factored = sp.factor(c)
    if factored.is_Pow and factored.exp.is_even and factored.exp.is_positive:
        return _scaled_radius_square(b, factored.base ** (factored.exp / 2))
    return _scaled_radius(b, c)


def _scaled_complex_quadratic_radius_jax(b_re, b_im, c_re, c_im, d_re, d_im):
    """JAX: max |b +- sqrt(D)| / 2 for complex b, c and D = b^2 - 4c (real and imaginary parts)."""
    parts = jnp.broadcast_arrays(*(jnp.asarray(v) for v in (b_re, b_im, c_re, c_im, d_re, d_im)))
    dtype = jnp.result_type(*parts, float)
    parts = [v.astype(dtype) for v in parts]
    overflowed = jnp.isinf(parts[0]) | jnp.isinf(parts[1]) | jnp.isinf(parts[2]) | jnp.isinf(parts[3])
    b = jax.lax.complex(parts[0], parts[1])  # not re + 1j * im: 1j * inf is NaN
    c = jax.lax.complex(parts[2], parts[3])
    D = jax.lax.complex(parts[4], parts[5])
    size = jax.lax.stop_gradient(jnp.maximum(jnp.abs(b), jnp.sqrt(jnp.abs(c))))  # homogeneous: no gradient
    size = jnp.where(size > 0, size, 1)
    b_hat = b / size
    # D / size^2 from the simplified D (exact at a double root); where D itself overflowed (it
    # grows like b^2), from the scaled coefficients, far from any double root there
    d_lost = jnp.isinf(parts[4]) | jnp.isinf(parts[5])
    d_hat = jnp.where(d_lost, b_hat * b_hat - 4 * (c / size / size), D / size / size)
    root = jnp.sqrt(d_hat)  # principal square root, |.| <= 3
    # the larger of |b + root| and |b - root| has no cancellation (their squares sum to 2|b|^2 + 2|root|^2)
    radius = (size * (jnp.maximum(jnp.abs(b_hat + root), jnp.abs(b_hat - root)) / 2)).astype(dtype)
    return jnp.where(overflowed, jnp.inf, radius)  # b or c overflowed: so does the radius


_scaled_complex_radius = implemented_function("scaled_complex_quadratic_radius",
                                              _scaled_complex_quadratic_radius_jax)


def scaled_complex_quadratic_radius(b: sp.Expr, c: sp.Expr) -> sp.Expr:
    r"""max |root| of $z^2 - bz + c$ with complex $b$, $c$, as an overflow-safe evaluation form.

    The roots are $(b \pm \sqrt D)/2$ with $D = b^2 - 4c$ simplified by sympy first (its
    real and imaginary parts factored: where $D$ is real, as for optimistic GDA, the
    imaginary part is exactly 0 and a double root stays exact, where a float $b^2 - 4c$
    would leave a $\sqrt{\varepsilon}$ error; where that $D$ overflows, $\hat b^2 - 4\hat c$).
    Scaled by $s = \max(|b|, \sqrt{|c|})$ as in :func:`scaled_quadratic_radius`, in complex
    arithmetic:
    $\rho = s\max(|\hat b + \sqrt{\hat D}|, |\hat b - \sqrt{\hat D}|)/2$.
    """
    b_re, b_im = (sp.factor(sp.expand(part)) for part in sp.expand(b).as_real_imag())
    c_re, c_im = (sp.factor(sp.expand(part)) for part in sp.expand(c).as_real_imag())
    d_re, d_im = (sp.factor(sp.expand(part)) for part in sp.expand(b**2 - 4 * c).as_real_imag())
    return _scaled_complex_radius(b_re, b_im, c_re, c_im, d_re, d_im)


def crossing(polynomial: sp.Expr, parameter: sp.Symbol, at: sp.Expr = -1, solve=sp.solve) -> sp.Expr:
    """The one value of ``parameter`` at which a root of ``polynomial`` sits at ``z = at``
    (sympy.solve of p(at) = 0, factored): at -1, the stability edge where a real root leaves
    the unit disc. Raises ValueError unless there is exactly one solution. ``solve(equation,
    unknown)`` may be a bounded solver (:func:`analytic._sympy_worker.solve_within`)."""
    solutions = solve(polynomial.subs(z, at), parameter)
    if len(solutions) != 1:
        raise ValueError(f"p({at}) = 0 has {len(solutions)} solutions for {parameter} ({solutions}); "
                         "expected exactly one")
    return sp.factor(solutions[0])


def double_root_values(discriminant: sp.Expr, parameter: sp.Symbol, solve=sp.solve) -> list[sp.Expr]:
    """The values of ``parameter`` at which the discriminant vanishes (sympy.solve; simplified,
    factored), in sympy's order: where the roots are double and change regime."""
    return [sp.factor(sp.simplify(s)) for s in solve(discriminant, parameter)]
