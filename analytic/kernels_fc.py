r"""Kernel matrices of deep fully-connected networks: :func:`fc_kernels`.

Conventions (public contract). ``depth`` = L is the number of hidden layers; the
returned kernels are those of the scalar output, $K^{L+1}$ and $\Theta^{L+1}$. The
input layer is $K^1 = \sigma_w^2\, x\cdot x'/d + \sigma_b^2 = \Theta^1$; ``sigma_w`` and
``sigma_b`` are standard deviations. Each layer applies
$$K^{l+1} = \sigma_w^2 E_{K^l}[\phi(u)\phi(v)] + \sigma_b^2,\qquad
\Theta^{l+1} = K^{l+1} + \sigma_w^2 E_{K^l}[\phi'(u)\phi'(v)]\,\Theta^l$$
(NTK parameterisation; Lee et al. 2019, arXiv:1902.06720v4, eq. (10) and App. E).

Standard parameterisation (weights $N(0, \sigma_w^2/n_{l})$, biases $N(0,\sigma_b^2)$,
all hidden widths n, one learning rate): the NNGP is the same, the empirical NTK grows
like n, and ``parameterization="standard"`` returns $\lim_n \Theta_{SP}/n$, the kernel
that governs training with learning rate $\eta/n$ (Sohl-Dickstein et al. 2020,
arXiv:2001.07301v1, sec. 2; Lee et al. 2019, App. D). Only the last-layer
weights survive the 1/n: $\tilde\Theta^1 = 0$,
$\tilde\Theta^{l+1} = E_{K^l}[\phi\phi] + \sigma_w^2 E_{K^l}[\phi'\phi']\,\tilde\Theta^l$.

Numerics (scale-free form). The state per layer is the standard deviation
$\sqrt{K_{ii}}$ of every point and the *angle* $\theta_{ij}$ between every pair, never
$K_{ij}$ recovered from a difference. The angle is
$\theta = 2\,\mathrm{atan2}(\sqrt{g}, \sqrt{p})$ with the gap $g = \sqrt{K_{ii}K_{jj}} - K_{ij}$
and $p = \sqrt{K_{ii}K_{jj}} + K_{ij}$ ($\tan^2(\theta/2) = g/p$), well conditioned at
$\theta = 0$ and $\pi$. For ReLU the next gap is formed without cancellation from
``kernels.relu_nngp_deficit`` ($1/2 - J(\theta)$) and
$\sqrt{(a_i^2+b)(a_j^2+b)} - a_ia_j - b = b(a_i-a_j)^2/(\sqrt{\cdot}+a_ia_j+b)$; erf keeps
$\sin^2\theta$ apart from $1-\cos^2\theta$. Products of variances are formed as
products of standard deviations (no overflow before the output itself overflows).
"""

from __future__ import annotations

import functools
import math
import numbers
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import sympy as sp

__all__ = ["Kernels", "fc_kernels", "variance_fixed_point", "PARAMETERIZATIONS"]

PARAMETERIZATIONS = ("ntk", "standard")
_HIGHEST = jax.lax.Precision.HIGHEST


class Kernels(NamedTuple):
    """NNGP and NTK matrices of the network output, each (n1, n2)."""

    nngp: jax.Array
    ntk: jax.Array


def _formula(name: str):
    from analytic import kernels

    return kernels.FORMULAS[name]()


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


def _half_angle(gap, plus):
    """theta = 2 atan2(sqrt(gap), sqrt(plus)), with theta = 0 where both vanish."""
    y, x = _safe_sqrt(gap), _safe_sqrt(plus)
    both_zero = (y == 0) & (x == 0)
    return 2 * jnp.arctan2(jnp.where(both_zero, 0, y), jnp.where(both_zero, 1, x))


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


@jax.custom_jvp
def _bias_angle(a, b):
    """atan2(b, a) for a, b >= 0; 0 at (0, 0)."""
    both_zero = (a == 0) & (b == 0)
    return jnp.arctan2(jnp.where(both_zero, 0, b), jnp.where(both_zero, 1, a))


@_bias_angle.defjvp
def _bias_angle_jvp(primals, tangents):
    a, b = primals
    da, db = tangents
    h = _hypot(a, b)
    safe = jnp.where(h > 0, h, 1)  # (a db - b da) / h^2, formed without squaring h
    return _bias_angle(a, b), jnp.where(h > 0, ((a / safe) * db - (b / safe) * da) / safe, 0)


def _points(a, sigma_b) -> _Points:
    sigma_b = jnp.broadcast_to(sigma_b, a.shape)
    phi = _bias_angle(a, sigma_b)
    return _Points(_hypot(a, sigma_b), jnp.cos(phi), jnp.sin(phi / 2), jnp.cos(phi / 2))


def _pair_angle(p1: _Points, p2: _Points, one_minus_c, one_plus_c):
    r"""Angle of K_ij = a_i a_j c_ij + sigma_b^2, scale-free and without cancellation.

    With a_i = sd_i cos(phi_i), sigma_b = sd_i sin(phi_i):
    $1 - \cos\theta = 2\sin^2\frac{\phi_i-\phi_j}{2} + \cos\phi_i\cos\phi_j(1-c)$ and
    $1 + \cos\theta = 2\sin^2\frac{\phi_i+\phi_j}{2} + \cos\phi_i\cos\phi_j(1+c)$.
    """
    cross1 = p1.sin_half[:, None] * p2.cos_half[None, :]
    cross2 = p1.cos_half[:, None] * p2.sin_half[None, :]
    aa = p1.alpha[:, None] * p2.alpha[None, :]
    gap = 2 * (cross1 - cross2) ** 2 + aa * one_minus_c
    plus = 2 * (cross1 + cross2) ** 2 + aa * one_plus_c
    return _half_angle(gap, plus)


@functools.cache
def _angle_minus_sine_coefficients() -> tuple[float, ...]:
    """Taylor coefficients of a - sin(a) in powers of a^2 (times a^3), from sympy.series."""
    from analytic.symbols import angle

    series = sp.series(angle - sp.sin(angle), angle, 0, 23).removeO()
    return tuple(float(series.coeff(angle, 2 * k + 3)) for k in range(10))


def _angle_minus_sine(theta):
    """a - sin(a) without cancellation: a Taylor series below 1 (error < 1e-19 relative)."""
    coeffs = _angle_minus_sine_coefficients()
    small = jnp.minimum(theta, 1)
    t2 = small * small
    poly = jnp.zeros_like(theta)
    for c in reversed(coeffs):
        poly = poly * t2 + c
    return jnp.where(theta < 1, poly * small**3, theta - jnp.sin(theta))


def _relu_deficit(theta):
    """kernels.relu_nngp_deficit, 1/2 - J(theta), evaluated without cancellation."""
    return ((jnp.pi - theta) * jnp.sin(theta / 2) ** 2 + _angle_minus_sine(theta) / 2) / jnp.pi


# --- one layer of each activation ------------------------------------------------
def _relu_layer(sd1, sd2, theta, ntk, sigma_w, sigma_b, standard):
    dual = _formula("relu_nngp_angular").jax(theta)
    slope = _formula("relu_derivative_angular").jax(theta)
    s = sd1[:, None] * sd2[None, :]
    expectation = s * dual
    nngp = sigma_w**2 * expectation + sigma_b**2
    # sigma_w^2 E = a_i a_j (2 J): the "correlation" 2 J has 1 - 2J = 2 * deficit.
    p1 = _points(sigma_w * sd1 / math.sqrt(2), sigma_b)
    p2 = _points(sigma_w * sd2 / math.sqrt(2), sigma_b)
    deficit = _relu_deficit(theta)
    new_theta = _pair_angle(p1, p2, 2 * deficit, 2 - 2 * deficit)
    new_ntk = (expectation if standard else nngp) + sigma_w**2 * slope * ntk
    return p1.sd, p2.sd, new_theta, new_ntk, nngp


def _erf_layer(sd1, sd2, theta, ntk, sigma_w, sigma_b, standard):
    def per_point(sd):
        u = _hypot(jnp.ones_like(sd), math.sqrt(2) * sd)  # sqrt(1 + 2 q)
        root_r = math.sqrt(2) * sd / u  # sqrt(2 q / (1 + 2 q))
        return u, root_r, (2 / jnp.pi) * _safe_arcsin(root_r**2)  # E[erf(z)^2]

    u1, r1, e1 = per_point(sd1)
    u2, r2, e2 = per_point(sd2)
    rr = r1[:, None] * r2[None, :]
    expectation = (2 / jnp.pi) * _safe_arcsin(jnp.clip(rr * jnp.cos(theta), -1, 1))
    # (1+2q1)(1+2q2) - 4 k12^2 = u1^2 u2^2 (1 - r1 r2 cos^2) = u1^2 u2^2 [p1^2 + p2^2 - p1^2 p2^2
    # + r1 r2 sin^2] with p = 1/u; divided through by u_max^2 u_min^2 / u_min^2 so that no
    # term (nor its derivative) over- or underflows for huge q.
    u_max = jnp.maximum(u1[:, None], u2[None, :])
    u_min = jnp.minimum(u1[:, None], u2[None, :])
    rest = 1 + (u_min / u_max) ** 2 - 1 / u_max**2 + (rr * jnp.sin(theta) * u_min) ** 2
    slope = (4 / jnp.pi) / u_max * jax.lax.rsqrt(rest)
    nngp = sigma_w**2 * expectation + sigma_b**2
    root_e1, root_e2 = _safe_sqrt(e1), _safe_sqrt(e2)
    corr = _safe_div(expectation, root_e1[:, None] * root_e2[None, :])
    new1, new2 = _points(sigma_w * root_e1, sigma_b), _points(sigma_w * root_e2, sigma_b)
    new_theta = _pair_angle(new1, new2, 1 - corr, 1 + corr)
    new_ntk = (expectation if standard else nngp) + sigma_w**2 * slope * ntk
    return new1.sd, new2.sd, new_theta, new_ntk, nngp


_LAYERS = {"relu": _relu_layer, "erf": _erf_layer}


def _input_layer(x1, x2, sigma_w, sigma_b, symmetric):
    """Standard deviations and angles of K^1 = sigma_w^2 x.x'/d + sigma_b^2."""
    d = x1.shape[1]
    n1, u1 = _row_norms(x1)
    n2, u2 = (n1, u1) if symmetric else _row_norms(x2)
    cos = jnp.clip(jnp.matmul(u1, u2.T, precision=_HIGHEST), -1, 1)
    if symmetric:
        cos = jnp.where(jnp.eye(cos.shape[0], dtype=bool), 1, (cos + cos.T) / 2)
    a1, a2 = sigma_w * n1 / math.sqrt(d), sigma_w * n2 / math.sqrt(d)
    p1, p2 = _points(a1, sigma_b), _points(a2, sigma_b)
    theta = _pair_angle(p1, p2, 1 - cos, 1 + cos)
    return p1.sd, p2.sd, theta, a1[:, None] * a2[None, :] * cos + sigma_b**2


@functools.partial(jax.jit, static_argnames=("depth", "activation", "parameterization", "symmetric"))
def _fc_kernels(x1, x2, sigma_w, sigma_b, *, depth, activation, parameterization, symmetric):
    standard = parameterization == "standard"
    layer = _LAYERS[activation]
    sd1, sd2, theta, k1 = _input_layer(x1, x2, sigma_w, sigma_b, symmetric)
    ntk = jnp.zeros_like(k1) if standard else k1
    eye = jnp.eye(theta.shape[0], dtype=bool) if symmetric else None

    def step(carry, _):
        sd1, sd2, theta, ntk, _ = carry
        sd1, sd2, theta, ntk, nngp = layer(sd1, sd2, theta, ntk, sigma_w, sigma_b, standard)
        if symmetric:
            theta = jnp.where(eye, 0, theta)
        return (sd1, sd2, theta, ntk, nngp), None

    carry = (sd1, sd2, theta, ntk, k1)
    (_, _, _, ntk, nngp), _ = jax.lax.scan(step, carry, None, length=depth, unroll=min(depth, 8))
    return Kernels(nngp, ntk)


# --- argument checking -------------------------------------------------------------
def _traced(x) -> bool:
    return isinstance(x, jax.core.Tracer)


def _check_sigma(name: str, value) -> None:
    if _traced(value):
        return
    v = np.asarray(value)
    if v.shape != () or not np.issubdtype(v.dtype, np.number) or np.iscomplexobj(v):
        raise ValueError(f"{name} must be a real scalar, got {value!r}")
    v = float(v)
    if not math.isfinite(v) or v < 0:
        raise ValueError(f"{name} = {v!r} is outside its valid range [0, oo) (a standard deviation)")


def _check_inputs(name: str, x) -> jax.Array:
    a = jnp.asarray(x)
    if a.ndim != 2:
        raise ValueError(f"{name} must be 2-D (points, features), got shape {a.shape}")
    if a.shape[1] < 1:
        raise ValueError(f"{name} must have at least one feature, got shape {a.shape}")
    if not _traced(a) and not bool(jnp.all(jnp.isfinite(a))):
        bad = np.asarray(a)[~np.isfinite(np.asarray(a))].flat[0]
        raise ValueError(f"{name} contains a non-finite value ({bad}); inputs must be finite")
    return a


def check_arguments(x1, x2, depth, activation, sigma_w, sigma_b, parameterization) -> None:
    """Raise ValueError/TypeError naming the first bad argument (used by fc_kernels)."""
    from analytic.kernels import ACTIVATIONS

    if activation not in ACTIVATIONS:
        raise ValueError(f"activation = {activation!r} is unknown; valid: {ACTIVATIONS}")
    if parameterization not in PARAMETERIZATIONS:
        raise ValueError(f"parameterization = {parameterization!r} is unknown; valid: {PARAMETERIZATIONS}")
    if isinstance(depth, bool) or not isinstance(depth, numbers.Integral):
        raise TypeError(f"depth must be an integer number of hidden layers, got {depth!r}")
    if depth < 1:
        raise ValueError(f"depth = {depth} is outside its valid range (integers >= 1: hidden layers)")
    _check_sigma("sigma_w", sigma_w)
    _check_sigma("sigma_b", sigma_b)
    a1 = _check_inputs("x1", x1)
    if x2 is not None:
        a2 = _check_inputs("x2", x2)
        if a2.shape[1] != a1.shape[1]:
            raise ValueError(f"x2 has {a2.shape[1]} features but x1 has {a1.shape[1]}; they must match")


def fc_kernels(x1, x2, depth, activation, sigma_w, sigma_b, parameterization="ntk") -> Kernels:
    r"""NNGP and NTK matrices $K^{L+1}(x_1, x_2)$, $\Theta^{L+1}(x_1, x_2)$ of a deep FC network.

    Args:
        x1: (n1, d) inputs. x2: (n2, d) inputs, or None (or x1 itself) for K(x1, x1);
            then the norms are computed once, the input Gram is symmetrised, the diagonal
            angles are exactly 0, and the result is symmetric to within an ulp (vectorised
            and scalar loop tails may round differently; symmetrising the output costs a
            transpose that XLA:CPU fuses badly).
        depth: number of hidden layers L >= 1. activation: "relu" or "erf".
        sigma_w, sigma_b: weight and bias standard deviations (>= 0).
        parameterization: "ntk" (default) or "standard" (see the module docstring).

    Returns ``Kernels(nngp, ntk)``, each (n1, n2), in the floating dtype of the inputs
    (float32 stays float32). Built from ``kernels.relu_nngp_angular``,
    ``kernels.relu_derivative_angular`` and ``kernels.relu_nngp_deficit`` (ReLU) and the
    scale-free form of ``kernels.erf_nngp`` / ``kernels.erf_derivative`` (erf, tested
    equal), applied by a ``lax.scan`` over layers inside one ``jax.jit``.
    Differentiable in x1, x2, sigma_w, sigma_b (finite gradients at coincident points).

    Example:
        >>> x = jax.random.normal(jax.random.key(0), (4, 10))
        >>> nngp, ntk = fc_kernels(x, None, depth=3, activation="relu", sigma_w=1.4, sigma_b=0.1)
    """
    check_arguments(x1, x2, depth, activation, sigma_w, sigma_b, parameterization)
    symmetric = x2 is None or x2 is x1
    x1 = jnp.asarray(x1)
    x2 = x1 if symmetric else jnp.asarray(x2)
    dtype = jnp.result_type(x1, x2)
    if not jnp.issubdtype(dtype, jnp.floating):
        dtype = jnp.result_type(float)
    x1, x2 = x1.astype(dtype), x2.astype(dtype)
    sigma_w = jnp.asarray(sigma_w, dtype)
    sigma_b = jnp.asarray(sigma_b, dtype)
    return _fc_kernels(x1, x2, sigma_w, sigma_b, depth=int(depth), activation=activation,
                       parameterization=parameterization, symmetric=symmetric)


def variance_fixed_point(activation: str, sigma_w, sigma_b):
    r"""Fixed point $q^* = \sigma_w^2 E_{z\sim N(0,q^*)}[\phi(z)^2] + \sigma_b^2$ of the variance map.

    ReLU: ``kernels.relu_variance_fixed_point`` (exists for $\sigma_w^2 < 2$; a
    ValueError otherwise). erf: the map is increasing, concave and bounded by
    $\sigma_w^2 + \sigma_b^2$, so Newton's method from that bound converges monotonically
    to the largest fixed point (0 when $\sigma_b = 0$ and $\sigma_w^2 \le \pi/4$).
    Schoenholz et al. 2017, arXiv:1611.01232v2, sec. 3.
    """
    from analytic.kernels import ACTIVATIONS

    if activation not in ACTIVATIONS:
        raise ValueError(f"activation = {activation!r} is unknown; valid: {ACTIVATIONS}")
    _check_sigma("sigma_w", sigma_w)
    _check_sigma("sigma_b", sigma_b)
    if activation == "relu":
        return _formula("relu_variance_fixed_point")(sigma_w=sigma_w, sigma_b=sigma_b)
    return _erf_fixed_point(jnp.asarray(sigma_w, float), jnp.asarray(sigma_b, float))


@jax.jit
def _erf_fixed_point(sigma_w, sigma_b):
    variance_map = _formula("erf_variance_map").jax

    def residual(q):
        return variance_map(q, sigma_w, sigma_b) - q

    def newton(_, q):
        slope = jax.grad(residual)(q)
        step = _safe_div(residual(q), slope)
        return jnp.maximum(q - step, 0)

    return jax.lax.fori_loop(0, 200, newton, sigma_w**2 + sigma_b**2)
