r"""Safe elementwise maths for :func:`analytic.kernels.fc_kernels`: finite values and gradients
at the edges (zero norms, correlation exactly +-1), and arctan / arcsin / a - sin(a)
from +, *, / and sqrt alone (on XLA:CPU the library's arctan2 and arcsin are scalar
loops, 10-60x dearer than a division). Series coefficients come from ``sympy.series``
on first use (cached), not at import.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import sympy as sp

from analytic.kernels._symbols import angle


# --- safe elementwise helpers (finite values and gradients at 0) ------------------
def _safe_sqrt(x):
    positive = x > 0
    return jnp.where(positive, jnp.sqrt(jnp.where(positive, x, 1)), 0)


@jax.custom_jvp
def _safe_div(num, den):
    """num / den, 0 where den = 0; the tangent is (dnum - q dden) / den (no den**2 underflow)."""
    nonzero = den != 0
    return jnp.where(nonzero, num / jnp.where(nonzero, den, 1), 0)


@_safe_div.defjvp
def _safe_div_jvp(primals, tangents):
    num, den = primals
    dnum, dden = tangents
    quotient = _safe_div(num, den)
    return quotient, _safe_div(dnum - quotient * dden, den)


@jax.custom_jvp
def _hypot(a, b):
    """sqrt(a^2 + b^2) without overflow or underflow; gradient (a, b) / hypot, 0 at (0, 0)."""
    big = jnp.maximum(jnp.abs(a), jnp.abs(b))
    small = jnp.minimum(jnp.abs(a), jnp.abs(b))
    ratio = small / jnp.where(big > 0, big, 1)
    return jnp.where(big > 0, big * jnp.sqrt(1 + ratio**2), 0)


@_hypot.defjvp
def _hypot_jvp(primals, tangents):
    a, b = primals
    da, db = tangents
    h = _hypot(a, b)
    safe = jnp.where(h > 0, h, 1)
    return h, jnp.where(h > 0, (a / safe) * da + (b / safe) * db, 0)


def _row_norms(x):
    """Row norms and unit rows, via rows rescaled to max |entry| = 1 (no over/underflow)."""
    scale = jax.lax.stop_gradient(jnp.max(jnp.abs(x), axis=-1, keepdims=True))
    scaled = x / jnp.where(scale > 0, scale, 1)
    length = _safe_sqrt(jnp.sum(scaled**2, axis=-1))
    unit = scaled / jnp.where(length > 0, length, 1)[:, None]
    return scale[:, 0] * length, unit


def _safe_arcsin(z):
    """arcsin on [-1, 1] with a finite (zero) gradient at the end points."""
    inside = jnp.abs(z) < 1
    return jnp.where(inside, jnp.arcsin(jnp.where(inside, z, 0)), jnp.sign(z) * jnp.pi / 2)


class _Points(NamedTuple):
    """Per point: sd = sqrt(K_ii) = hypot(a, sigma_b), alpha = a / sd, and sin, cos of phi/2,
    where phi = atan2(sigma_b, a) is the angle the bias adds (K_ij = a_i a_j c_ij + sigma_b^2)."""

    sd: jax.Array
    alpha: jax.Array
    sin_half: jax.Array
    cos_half: jax.Array


def _points(a, sigma_b) -> _Points:
    r"""Algebraically (square roots and divisions only; no per-point sin/cos/atan2, which XLA
    would otherwise fuse into, and repeat in, the N x N loops): with $h = \mathrm{hypot}(a, b)$,
    $\cos\phi = a/h$, $\cos(\phi/2) = \sqrt{(1 + \cos\phi)/2}$ and
    $\sin(\phi/2) = (b/h) / (2\cos(\phi/2))$, no cancellation for $a, b \ge 0$; at
    $a = b = 0$ the angle is taken as 0."""
    sigma_b = jnp.broadcast_to(sigma_b, a.shape)
    h = _hypot(a, sigma_b)
    alpha = jnp.where(h > 0, _safe_div(a, h), 1)  # (_safe_div: no h^2 in the tangent)
    cos_half = jnp.sqrt((1 + alpha) / 2)
    sin_half = _safe_div(sigma_b, h) / (2 * cos_half)
    return _Points(h, alpha, sin_half, cos_half)


def _outer(v1, v2):
    """v1_i v2_j for every pair, batched over leading (block) axes."""
    return v1[..., :, None] * v2[..., None, :]


def _pair_gap(p1: _Points, p2: _Points, one_minus_c, one_plus_c):
    r"""Gap $g = 1 - \cos\theta$ and $p = 1 + \cos\theta$ of K_ij = a_i a_j c_ij + sigma_b^2.

    Scale-free and without cancellation: with a_i = sd_i cos(phi_i), sigma_b = sd_i sin(phi_i),
    $1 - \cos\theta = 2\sin^2\frac{\phi_i-\phi_j}{2} + \cos\phi_i\cos\phi_j(1-c)$ and
    $1 + \cos\theta = 2\sin^2\frac{\phi_i+\phi_j}{2} + \cos\phi_i\cos\phi_j(1+c)$.
    """
    cross1 = _outer(p1.sin_half, p2.cos_half)
    cross2 = _outer(p1.cos_half, p2.sin_half)
    aa = _outer(p1.alpha, p2.alpha)
    gap = 2 * (cross1 - cross2) ** 2 + aa * one_minus_c
    plus = 2 * (cross1 + cross2) ** 2 + aa * one_plus_c
    return gap, plus


@functools.cache
def _series_coefficients(name: str, terms: int) -> tuple[float, ...]:
    """Taylor coefficients from sympy.series, in powers of a^2: atan(a) = a sum c_k a^2k,
    a - sin(a) = a^3 sum c_k a^2k."""
    expr, lead = {"atan": (sp.atan(angle), 1), "angle_minus_sine": (angle - sp.sin(angle), 3)}[name]
    series = sp.series(expr, angle, 0, lead + 2 * terms).removeO()
    return tuple(float(series.coeff(angle, 2 * k + lead)) for k in range(terms))


# Terms for a relative truncation error below the dtype's epsilon on the reduced range
# (float64, float32): atan on |v| <= 1/4, a - sin(a) on a < 1.
_TERMS = {"atan": (12, 6), "angle_minus_sine": (10, 6)}


def _even_poly(name: str, t2, float64: bool):
    """sum_k c_k t2^k by Horner's rule, with the dtype's number of terms."""
    *rest, last = _series_coefficients(name, _TERMS[name][not float64])
    out = jnp.full_like(t2, last)
    for c in reversed(rest):
        out = out * t2 + c
    return out


@functools.cache
def _atan_half() -> float:
    return float(sp.atan(sp.Rational(1, 2)))


def _arctan_unit(t, float64: bool):
    r"""$\arctan t$ for $|t| \le 1$: $\arctan c + \arctan\frac{t - c}{1 + tc}$ with c in
    {0, +-1/2, +-1} nearest t, so the odd Taylor series runs on $|v| \le 1/4$ (12 terms in
    float64, 6 in float32). Only +, *, / (jnp.arctan2 and arcsin are scalar loops on
    XLA:CPU, 10-60x dearer than a division); odd in t, derivative exact at 0."""
    size = jnp.abs(t)
    sign = jnp.where(t < 0, -1, 1).astype(t.dtype)
    c = sign * jnp.where(size < 0.25, 0, jnp.where(size < 0.75, 0.5, 1)).astype(t.dtype)
    base = sign * jnp.where(size < 0.25, 0, jnp.where(size < 0.75, _atan_half(), jnp.pi / 4)).astype(t.dtype)
    v = (t - c) / (1 + t * c)
    return base + v * _even_poly("atan", v * v, float64)


def _quarter_tangent(gap, plus):
    r"""State of a pair: $w = \tan(\theta/4) \in [0, 1]$ from $g = 1 - \cos\theta$ and
    $p = 1 + \cos\theta$ (half-angle formula on $\tan(\theta/2) = \sqrt{g/p}$), relative
    accuracy kept at 0 and pi; zero gradient of the square root at g = 0."""
    return _safe_sqrt(gap) / (_safe_sqrt(plus) + jnp.sqrt(gap + plus))


def _angle(w, float64: bool):
    """theta, sin(theta/2), cos(theta/2) from w = tan(theta/4): rational, plus one arctan."""
    denominator = 1 + w * w
    sin_half = 2 * w / denominator
    cos_half = (1 - w) * (1 + w) / denominator
    return 4 * _arctan_unit(w, float64), sin_half, cos_half


def _safe_arcsin_pairs(z, float64: bool):
    r"""$\arcsin z = 2\arctan\big(z / (1 + \sqrt{(1-z)(1+z)})\big)$ for z in [-1, 1]; zero
    gradient of the square root at |z| = 1."""
    return 2 * _arctan_unit(z / (1 + _safe_sqrt((1 - z) * (1 + z))), float64)


def _angle_minus_sine(theta, sin_theta, float64: bool):
    """a - sin(a) without cancellation: the Taylor series below 1 (truncation < eps relative)."""
    small = jnp.minimum(theta, 1)
    return jnp.where(theta < 1, _even_poly("angle_minus_sine", small * small, float64) * small**3,
                     theta - sin_theta)


def _relu_deficit(theta, sin_theta, sin2_half, float64: bool):
    """kernels.relu_nngp_deficit, 1/2 - J(theta), without cancellation, from sin(theta), sin^2(theta/2)."""
    return ((jnp.pi - theta) * sin2_half + _angle_minus_sine(theta, sin_theta, float64) / 2) / jnp.pi
