r"""Mean-field signal propagation for any elementwise activation (plain JAX, Gauss-Hermite).

Variance map $V(q) = \sigma_w^2 E[\phi(\sqrt q z)^2] + \sigma_b^2$ and its fixed point $q^*$;
$\chi_1 = \sigma_w^2 E[\phi'(\sqrt{q^*} z)^2]$; correlation map
$c \mapsto (\sigma_w^2 E[\phi(u)\phi(v)] + \sigma_b^2)/q^*$ with $(u, v)$ of variance $q^*$ and
correlation $c$, its stable fixed point $c^*$, $\chi_c = \sigma_w^2 E[\phi'(u)\phi'(v)]$ at $c^*$,
$\chi_q = V'(q^*)$, and the depth scales $\xi = -1/\log\chi$ (``signal.depth_scale``).
Poole et al. 2016, arXiv:1606.05340v2, eqs. (3)-(5); Schoenholz et al. 2017,
arXiv:1611.01232v2, eqs. (3)-(9) (equation numbers unconfirmed). ReLU and erf have closed forms (``kernels.relu_*``,
``kernels.erf_*``, ``signal.relu_critical_sigma_w``, ``signal.erf_order_chaos_boundary``);
everything else is numerical (Gauss-Hermite with ``ORDER`` nodes, bisection); the fixed point
$q^*$ is :func:`analytic.kernels.variance_fixed_point` iterated from ``q0`` (for ReLU and erf too).
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from analytic import kernels
from analytic.formula import Formula
from analytic.kernels import activation_derivative, activation_function, gaussian_expectation, pair_expectation

__all__ = ["DepthScales", "variance_map", "variance_fixed_point", "chi1", "depth_scales",
           "critical_init", "order_chaos_boundary", "init_variance"]

ORDER = 200  # one-dimensional nodes: kernels.variance_fixed_point's (cheap; accurate for steep saturating
# maps up to q ~ 30), so that variance_map and chi_1 are those of the map whose fixed point is q*
PAIR_ORDER = 64
_CHI_AT_INFINITY = 1e8  # chi_1 where q* = inf: its limit, evaluated at the variance that counts as runaway


class DepthScales(NamedTuple):
    """Fixed points, per-layer multipliers and depth scales at one (activation, sigma_w, sigma_b)."""

    q_star: float
    chi_1: float
    c_star: float
    chi_c: float
    chi_q: float
    xi_q: float
    xi_c: float


def _check_positive(name, value, allow_zero=False):
    v = float(value)
    if not math.isfinite(v) or v < 0 or (v == 0 and not allow_zero):
        raise ValueError(f"{name} = {value!r} is outside its valid range "
                         f"{'[0, oo)' if allow_zero else '(0, oo)'}")
    return v


def variance_map(activation, q, sigma_w, sigma_b):
    """$V(q) = \\sigma_w^2 E[\\phi(\\sqrt q z)^2] + \\sigma_b^2$ (broadcasts over q)."""
    return _variance_map(activation_function(activation), jnp.asarray(q, float), sigma_w, sigma_b)


def _variance_map(phi, q, sigma_w, sigma_b):
    return sigma_w**2 * gaussian_expectation(lambda u: phi(u) ** 2, q, ORDER) + sigma_b**2


@functools.partial(jax.jit, static_argnames=("phi",))
def _chi1_at(phi, sigma_w, q):
    """sigma_w^2 E[phi'(sqrt(q) z)^2]."""
    return sigma_w**2 * gaussian_expectation(lambda u: activation_derivative(phi)(u) ** 2, q, ORDER)


def _fixed_point_and_chi1(phi, sigma_w, sigma_b, q0=1.0):
    """(q*, chi_1) for a validated phi: q* from :func:`analytic.kernels.variance_fixed_point`
    (iterated from q0; inf where q runs away or still drifts), chi_1 at q* (at q = oo: its limit
    evaluated at q = _CHI_AT_INFINITY)."""
    q = float(kernels.variance_fixed_point(phi, sigma_w, sigma_b, q0=q0))
    chi = _chi1_at(phi, jnp.asarray(sigma_w, float), jnp.asarray(min(q, _CHI_AT_INFINITY), float))
    return q, float(chi)


def variance_fixed_point(activation, sigma_w, sigma_b, q0: float = 1.0):
    """$q^*$ reached from $q^0$ by iterating the variance map (inf where q runs away, e.g. ReLU
    with $\\sigma_w^2 \\ge 2$ and $\\sigma_b > 0$): :func:`analytic.kernels.variance_fixed_point`
    with ``q0`` (for ReLU and erf too, so that q0 picks the fixed point and no fixed point is inf;
    ``kernels.variance_fixed_point("relu" or "erf", ...)`` without q0 gives the closed forms)."""
    phi = activation_function(activation)
    _check_positive("sigma_w", sigma_w)
    _check_positive("sigma_b", sigma_b, allow_zero=True)
    return _fixed_point_and_chi1(phi, sigma_w, sigma_b, q0)[0]


def chi1(activation, sigma_w, sigma_b, q0: float = 1.0):
    """$\\chi_1 = \\sigma_w^2 E[\\phi'(\\sqrt{q^*}z)^2]$ at the fixed point reached from q0 (at
    q = oo: the limit is evaluated at q = 1e8)."""
    phi = activation_function(activation)
    _check_positive("sigma_w", sigma_w)
    _check_positive("sigma_b", sigma_b, allow_zero=True)
    return _fixed_point_and_chi1(phi, sigma_w, sigma_b, q0)[1]


def depth_scales(activation, sigma_w, sigma_b, *, depth_scale: Formula | None = None) -> DepthScales:
    """q*, chi_1, c*, chi_c, chi_q and xi_q = -1/log chi_q, xi_c = -1/log chi_c (inf where chi >= 1,
    e.g. on the boundary: correlations then approach c* slower than exponentially)."""
    from analytic.signal._initialisation import FORMULAS

    depth_scale = FORMULAS["depth_scale"]() if depth_scale is None else depth_scale
    phi = activation_function(activation)
    _check_positive("sigma_w", sigma_w)
    _check_positive("sigma_b", sigma_b, allow_zero=True)
    q, chi_1 = _fixed_point_and_chi1(phi, sigma_w, sigma_b)
    if not math.isfinite(q):
        return DepthScales(q, chi_1, 1.0, math.nan, math.inf, math.inf, math.inf)
    qa = jnp.asarray(q)
    chi_q = float(_variance_slope(phi, qa, jnp.asarray(sigma_w, float), jnp.asarray(sigma_b, float)))

    if chi_1 <= 1:  # ordered phase (or its edge): c* = 1 attracts and chi_c = chi_1
        c_star, chi_c = 1.0, chi_1
    else:
        c = _correlation_fixed_point(phi, qa, jnp.asarray(sigma_w, float), jnp.asarray(sigma_b, float))
        c_star = float(c)
        chi_c = float(sigma_w**2 * pair_expectation(activation_derivative(phi), qa, qa, c * qa, PAIR_ORDER))

    def xi(x):
        return float(depth_scale(chi=x)) if 0 < x < 1 else math.inf

    return DepthScales(q, chi_1, c_star, chi_c, chi_q, xi(chi_q), xi(chi_c))


@functools.partial(jax.jit, static_argnames=("phi",))
def _variance_slope(phi, q, sigma_w, sigma_b):
    """chi_q = V'(q)."""
    return jax.grad(lambda x: _variance_map(phi, x, sigma_w, sigma_b))(q)


@functools.partial(jax.jit, static_argnames=("phi",))
def _correlation_fixed_point(phi, q, sigma_w, sigma_b):
    """The stable c* < 1 of the chaotic phase, iterating the correlation map from c = 0."""
    def step(_, c):
        return jnp.clip((sigma_w**2 * pair_expectation(phi, q, q, c * q, PAIR_ORDER) + sigma_b**2) / q, -1, 1)

    return jax.lax.fori_loop(0, 300, step, jnp.asarray(0.0, q.dtype))


def _bisect(fn, lo, hi, iterations=60):
    flo = fn(lo)
    for _ in range(iterations):
        mid = 0.5 * (lo + hi)
        fm = fn(mid)
        if (fm > 0) == (flo > 0):
            lo, flo = mid, fm
        else:
            hi = mid
    return 0.5 * (lo + hi)


def critical_init(activation, sigma_b=0.0, *, relu_critical: Formula | None = None,
                  erf_boundary: Formula | None = None, zero_bias: Formula | None = None) -> float:
    """The normalised sigma_w on the order/chaos boundary chi_1(q*) = 1 at this sigma_b.

    ReLU: ``signal.relu_critical_sigma_w`` = sqrt(2) at every sigma_b (where q* diverges for
    sigma_b > 0). sigma_b = 0 and phi(0) = 0 (tanh, sin, linear, GELU, SiLU):
    ``signal.zero_bias_critical_sigma_w`` = 1/|phi'(0)|, where the fixed point q* = 0 loses
    stability (1 for tanh: Xavier; 2 for GELU and SiLU, whose q* may run away from q = 1 before). erf: the inverse of ``signal.erf_order_chaos_boundary`` (bisection). Any other
    activation: the first sigma_w of a log grid on (0.05, 20) where chi_1(q*(sigma_w)) >= 1 (q* reached
    from q = 1), refined by bisection; where q* runs away at the crossing (GELU, SiLU, Mish at small
    sigma_b) the result is the edge of that jump, not a point with chi_1 = 1.
    """
    from analytic.signal._initialisation import FORMULAS

    sigma_b = _check_positive("sigma_b", sigma_b, allow_zero=True)
    if activation == "relu":
        return float((FORMULAS["relu_critical_sigma_w"]() if relu_critical is None else relu_critical)())
    phi = activation_function(activation)
    zero = jnp.asarray(0.0)
    if sigma_b == 0 and float(phi(zero)) == 0 and float(jax.grad(phi)(zero)) != 0:
        # q* = 0 is a fixed point; it loses stability where chi_1(0) = sigma_w^2 phi'(0)^2 = 1
        zero_bias = FORMULAS["zero_bias_critical_sigma_w"]() if zero_bias is None else zero_bias
        return float(zero_bias(slope0=abs(float(jax.grad(phi)(zero)))))
    if activation == "erf":
        boundary = FORMULAS["erf_order_chaos_boundary"]() if erf_boundary is None else erf_boundary
        lo = math.sqrt(math.pi) / 2
        return _bisect(lambda s: float(boundary.jax(s)) - sigma_b, lo, 50.0)
    # the first crossing from below on a log grid, then bisection inside it (chi_1 need not be
    # monotone where q* runs away: ReLU-like activations)
    def chi(s):
        return _fixed_point_and_chi1(phi, s, sigma_b)[1]

    grid = np.geomspace(0.05, 20.0, 80)
    for lo, hi in zip(grid[:-1], grid[1:]):
        if chi(hi) >= 1:
            return _bisect(lambda s: chi(s) - 1, float(lo), float(hi), iterations=40)
    raise ValueError(f"no sigma_w in (0.05, 20) has chi_1 >= 1 for this activation at sigma_b = {sigma_b}")


def order_chaos_boundary(activation, sigma_w, *, erf_boundary: Formula | None = None) -> float:
    """sigma_b on chi_1 = 1 at this sigma_w (nan below the zero-bias critical sigma_w)."""
    from analytic.signal._initialisation import FORMULAS

    sigma_w = _check_positive("sigma_w", sigma_w)
    if activation == "erf":
        boundary = FORMULAS["erf_order_chaos_boundary"]() if erf_boundary is None else erf_boundary
        return float(boundary.jax(sigma_w)) if sigma_w >= math.sqrt(math.pi) / 2 else math.nan
    phi = activation_function(activation)

    def chi(b):
        return _fixed_point_and_chi1(phi, sigma_w, b)[1]

    if chi(0.0) < 1:
        return math.nan
    return _bisect(lambda b: chi(b) - 1, 0.0, 10.0, iterations=40)


def init_variance(activation, fan_in, fan_out=None, q: float = 1.0) -> float:
    """Per-weight variance for any activation, at pre-activation variance q (sigma_b = 0).

    ``fan_out=None``: preserve the forward variance (Kaiming's rule): $q / (\\mathrm{fan\\_in}\\,
    E[\\phi(\\sqrt q z)^2])$, 2/fan_in for ReLU. With ``fan_out``: Glorot's compromise between the
    forward gain $g_f = E[\\phi^2]/q$ and the backward gain $g_b = E[\\phi'^2]$,
    $2/(\\mathrm{fan\\_in}\\,g_f + \\mathrm{fan\\_out}\\,g_b)$: 2/(fan_in + fan_out) when both are 1
    (linear, tanh near 0), 4/(fan_in + fan_out) for ReLU.
    """
    phi = activation_function(activation)
    for name, value in (("fan_in", fan_in), ("fan_out", fan_out)):
        if value is not None and (isinstance(value, bool) or int(value) != value or value < 1):
            raise ValueError(f"{name} = {value!r} is outside its valid range (integers >= 1)")
    q = _check_positive("q", q)
    qa = jnp.asarray(q, float)
    forward = float(gaussian_expectation(lambda u: phi(u) ** 2, qa, ORDER)) / q
    if fan_out is None:
        return 1 / (fan_in * forward)
    backward = float(gaussian_expectation(lambda u: activation_derivative(phi)(u) ** 2, qa, ORDER))
    return 2 / (fan_in * forward + fan_out * backward)
