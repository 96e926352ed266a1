r"""Largest root modulus of a characteristic polynomial, in every root regime.

For a monic quadratic $z^2 - b z + c$ whose discriminant $D = b^2 - 4c$ is real
(true for every game iteration here, even when $b$ is complex), the roots are
$(b \pm \sqrt D)/2$. With $R = \sqrt{|D|}$ and $b = b_r + i b_i$:

* $D > 0$: $|b \pm R|^2 = (b_r \pm R)^2 + b_i^2$, largest for the sign of $b_r$;
* $D \le 0$: $|b \pm iR|^2 = b_r^2 + (b_i \pm R)^2$, largest for the sign of $b_i$.

sympy writes both moduli with $R$ a positive symbol, keeps the larger (the
difference of the squares is $\pm 4 b_r R$, resp. $\pm 4 b_i R$, whose sign sympy
decides from the assumptions where it can; otherwise $|b_r|$, $|b_i|$ are used),
simplifies, and only then puts back $R = \sqrt{\pm D}$. JAX evaluates both branches
of a ``Piecewise``, so each $\sqrt{\pm D}$ gets its argument replaced by 1 where its
branch is not taken (``Heaviside``), and neither values nor gradients see a NaN.

Polynomials of degree 4 without a factorisation have no useful radical form:
:func:`max_root_modulus` is a sympy function whose JAX evaluation finds the roots by
Durand-Kerner (Weierstrass) iteration in complex arithmetic. Negative momentum's quartic
has double roots at $\eta\sigma = 0$, which no root finder resolves beyond about 1e-8 (so
arrays and scalars, compiled differently, disagreed in the 9th digit);
:func:`momentum_half_radius` solves instead the quartic $q(w)$ with $P(w^2) = q(w)q(-w)$,
whose roots there are simple, in a form evaluated to full relative precision.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import sympy as sp
from sympy.utilities.lambdify import implemented_function

__all__ = ["quadratic_radius", "complex_quadratic_radius", "max_root_modulus", "durand_kerner_radius", "momentum_half_radius"]


def quadratic_radius(b: sp.Expr, c: sp.Expr, safe: bool = True) -> sp.Expr:
    """max |z| over the roots of ``z**2 - b z + c`` (D = b**2 - 4c real), as a Piecewise.

    ``safe=True`` blends each square root's argument for JAX (see the module
    docstring); ``safe=False`` leaves plain ``sqrt(D)`` and ``sqrt(-D)`` (for sympy.solve).
    """
    D = sp.expand(b**2 - 4 * c)
    if sp.simplify(sp.im(D)) != 0:
        raise ValueError(f"discriminant {D} is not real: quadratic_radius needs a real discriminant")
    D = sp.factor(sp.re(D))
    b_re, b_im = sp.simplify(sp.re(b)), sp.simplify(sp.im(b))
    R = sp.Symbol("R", positive=True)

    def larger(square_plus: sp.Expr, square_minus: sp.Expr) -> sp.Expr:
        diff = sp.simplify(square_plus - square_minus)
        if diff.is_nonnegative:
            return square_plus
        if diff.is_nonpositive:
            return square_minus
        return None

    # D > 0: real square root R = sqrt(D); D <= 0: imaginary, sqrt(D) = i R with R = sqrt(-D).
    real_sq = larger((b_re + R) ** 2 + b_im**2, (b_re - R) ** 2 + b_im**2)
    if real_sq is None:
        real_sq = (sp.Abs(b_re) + R) ** 2 + b_im**2
    imag_sq = larger(b_re**2 + (b_im + R) ** 2, b_re**2 + (b_im - R) ** 2)
    if imag_sq is None:
        imag_sq = b_re**2 + (sp.Abs(b_im) + R) ** 2
    real_branch = _modulus(real_sq, R, D)
    imag_branch = _modulus(imag_sq, R, -D)
    if not safe:
        return sp.Piecewise((real_branch.subs(R, sp.sqrt(D)), D > 0), (imag_branch.subs(R, sp.sqrt(-D)), True))
    complex_side = sp.Heaviside(-D, 1)  # 1 where D <= 0
    real_arg = D * (1 - complex_side) + complex_side
    imag_arg = -D * complex_side + (1 - complex_side)
    branches = [(real_branch.subs(R, sp.sqrt(real_arg)), D > 0),
                (imag_branch.subs(R, sp.sqrt(imag_arg)), True)]
    return sp.piecewise_fold(sp.Piecewise(*branches))


def complex_quadratic_radius(b: sp.Expr, c: sp.Expr) -> sp.Expr:
    r"""max |z| over the roots $(b \pm \sqrt D)/2$ of $z^2 - bz + c$, with $b$, $c$ complex.

    In real arithmetic: with $D = b^2 - 4c = p + iq$, the principal root is
    $s = \sqrt{(|D| + p)/2} + i\,\mathrm{sign}(q)\sqrt{(|D| - p)/2}$, and
    $|b \pm s|^2 = |b|^2 + |D| \pm 2\,\mathrm{Re}(\bar b s)$, so
    $\rho = \tfrac12\sqrt{|b|^2 + |D| + 2|\mathrm{Re}(\bar b s)|}$.
    """
    b_re, b_im = (sp.expand(part) for part in sp.expand(b).as_real_imag())
    p, q = (sp.expand(part) for part in sp.expand(b**2 - 4 * c).as_real_imag())
    size = sp.sqrt(p**2 + q**2)
    # Max(0, .): |D| -+ p can round to -1e-17 where q ~ 0; the exact value is >= 0
    s_re, s_im = sp.sqrt(sp.Max(0, (size + p) / 2)), sp.sign(q) * sp.sqrt(sp.Max(0, (size - p) / 2))
    return sp.sqrt(b_re**2 + b_im**2 + size + 2 * sp.Abs(b_re * s_re + b_im * s_im)) / 2


def _modulus(square: sp.Expr, R: sp.Symbol, R_squared: sp.Expr) -> sp.Expr:
    """sqrt(square) / 2, in the shorter of two forms: as it stands (a perfect square in
    R stays one), or with R**2 replaced by its value (which can cancel, e.g. |z|^2 = c)."""
    as_is = sp.simplify(sp.sqrt(sp.factor(square)) / 2)
    if as_is.is_polynomial(R) and sp.degree(as_is, R) <= 1:
        return as_is
    return sp.simplify(sp.sqrt(sp.factor(sp.expand(square).xreplace({R**2: R_squared}))) / 2)


def _durand_kerner(evaluate, n: int, bound, cdtype, iterations: int):
    """The n roots of the monic polynomial ``evaluate`` (batched), from the Cauchy ``bound``."""
    start = (0.4 + 0.9j) ** jnp.arange(n)
    roots = (bound * start / jnp.abs(start)).astype(cdtype) * jnp.exp(0.25j)

    def step(_, zs):
        differences = zs[..., :, None] - zs[..., None, :]
        differences = jnp.where(jnp.eye(n, dtype=bool), 1.0, differences)
        return zs - evaluate(zs) / jnp.prod(differences, axis=-1)

    return jax.lax.fori_loop(0, iterations, step, roots)


def durand_kerner_radius(*coefficients, iterations: int = 400):
    """max |z| over the roots of ``z**n + c[0] z**(n-1) + ... + c[-1]`` (JAX, broadcasting).

    Durand-Kerner (Weierstrass) iteration from the standard starting points
    ``(0.4 + 0.9i)**k`` scaled by the Cauchy root bound; converges quadratically to
    simple roots and linearly to multiple ones (whose moduli are then accurate to
    about the square root of float64 precision, as for any root finder).
    """
    coeffs = jnp.broadcast_arrays(*[jnp.asarray(c) for c in coefficients])
    real_dtype = jnp.result_type(*[jnp.real(c) for c in coeffs], float)  # complex coefficients allowed
    cdtype = jnp.result_type(real_dtype, jnp.complex64)
    coeffs = jnp.stack([c.astype(cdtype) for c in coeffs], axis=-1)  # (..., n)
    n = coeffs.shape[-1]
    bound = 1 + jnp.max(jnp.abs(coeffs), axis=-1, keepdims=True)  # Cauchy bound on |roots|

    def poly(zz):
        value = jnp.ones_like(zz)
        for k in range(n):
            value = value * zz + coeffs[..., k:k + 1]
        return value

    roots = _durand_kerner(poly, n, bound, cdtype, iterations)
    return jnp.max(jnp.abs(roots), axis=-1).astype(real_dtype)


def momentum_half_quartic_radius(coupling, momentum, damping=0.0, iterations: int = 400):
    r"""max |w| over the roots of $q(w) = (w^2 - 1)(w^2 - \beta) + c w^2 - i a w^3$ (JAX, broadcasting).

    ``coupling`` $= a = \eta\sigma$, ``momentum`` $= \beta$, ``damping`` $= c = \eta\mu$ (0 on
    a bilinear game). $q$ is evaluated as $d\,(d + (1 - \beta)) + c w^2 - i a w^3$ with
    $d = (w - 1)(w + 1)$: near the double root
    $w = 1$ of $\beta \to 1$, $a \to 0$ every term is then computed to relative float64
    precision, so close roots are separated as far as the data allow (the monomial form
    loses the digits a near-double root needs).
    """
    a, beta, c = jnp.broadcast_arrays(jnp.asarray(coupling), jnp.asarray(momentum), jnp.asarray(damping))
    real_dtype = jnp.result_type(a, beta, c, float)
    cdtype = jnp.result_type(real_dtype, jnp.complex64)
    a, c = a.astype(real_dtype)[..., None], c.astype(real_dtype)[..., None]
    gap = (1 - beta.astype(real_dtype))[..., None]

    def quartic(w):
        d = (w - 1) * (w + 1)
        return d * (d + gap) + c * w**2 - 1j * a * w**3

    bound = 1 + jnp.maximum(jnp.maximum(a, jnp.abs(2 - gap - c)), jnp.abs(1 - gap))  # Cauchy bound
    roots = _durand_kerner(quartic, 4, bound, cdtype, iterations)
    return jnp.max(jnp.abs(roots), axis=-1).astype(real_dtype)


max_root_modulus = implemented_function("max_root_modulus", durand_kerner_radius)
max_root_modulus.__doc__ = ("sympy function max_root_modulus(c1, ..., cn): the largest |z| over the "
                            "roots of z**n + c1 z**(n-1) + ... + cn, evaluated by Durand-Kerner in JAX")

momentum_half_radius = implemented_function("momentum_half_radius", momentum_half_quartic_radius)
momentum_half_radius.__doc__ = ("sympy function momentum_half_radius(a, beta, c): the largest |w| over the roots "
                                "of (w**2 - 1)(w**2 - beta) + c w**2 - I a w**3, evaluated by Durand-Kerner in JAX")
