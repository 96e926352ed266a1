r"""Dual maps of any elementwise activation by quadrature.

For $(u, v) \sim N(0, [[k_{11}, k_{12}], [k_{12}, k_{22}]])$ write
$u = \sqrt{k_{11}}\,z_1$, $v = \sqrt{k_{22}}\,(c z_1 + \sqrt{1 - c^2}\,z_2)$ with
$c = k_{12}/\sqrt{k_{11}k_{22}}$ and $z_1, z_2$ independent standard normals; then
$E[\phi(u)\phi(v)] \approx \sum_{i,j} w_i w_{ij}\, \phi(u_i)\,\phi(v_{ij})$. The derivative
map $E[\phi'(u)\phi'(v)]$ uses $\phi' =$ ``jax.grad(phi)`` elementwise (the NTK needs it;
Price's theorem makes it the $k_{12}$-derivative of the NNGP map, which the tests confirm).

``order="accurate"``: the transition-adapted trapezoid rule of :mod:`._gauss`, 96 x 96
nodes whose spacing follows the steepness of $\phi(\sqrt{k}\,z)$ at its transition:
relative error < 1e-10 (of $\sqrt{E\phi(u)^2 E\phi(v)^2}$) for tanh, GELU, SiLU, softplus,
erf and their derivatives for variances 1e-3 to ``MAX_VARIANCE`` = 1e4, measured against
30-digit mpmath / 18-digit references in ``tests/test_quadrature_accuracy.py``.
:func:`quadrature_fc_kernels` refuses inputs whose layer variances exceed that bound
(ValueError) when they are concrete (not traced under ``jax.jit``). A kink at argument 0
(relu, abs, a step as callables) converges algebraically (README).

``order=m`` (an integer >= 2): the former $m$-point probabilists' Gauss-Hermite product
rule, kept as an explicit choice (exact for polynomials of degree $< 2m$ in each variable,
but for steep maps only ~1e-8 at k ~ 2 with m = 64 and ~3e-6 at k = 10 with m = 256).

Used by :func:`analytic.kernels.fc_kernels` when ``activation`` is a callable or a name
other than "relu"/"erf" (the closed-form fast path), and by the ``signal`` family.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import weakref
from collections.abc import Callable

import jax
import jax.numpy as jnp
import numpy as np

from analytic.kernels import _gauss

__all__ = ["ACCURATE", "NAMED_ACTIVATIONS", "activation_function", "activation_derivative", "gauss_hermite",
           "gaussian_expectation", "pair_expectation", "QuadratureMap", "check_layer_variances"]

ACCURATE = "accurate"  # order= spelling of the transition-adapted 1e-10 rule (_gauss)
# The default stays 64-node Gauss-Hermite: the 1e-10 rule costs ~40x more (fc_kernels, N = 64, depth 3,
# tanh, float64, 2-core CPU: 9.0 s against 0.22 s per call after compilation, measured 2026-12-07),
# too much to impose on every quadrature activation; pass order="accurate" where 1e-10 matters.
DEFAULT_ORDER = 64  # an int: Gauss-Hermite nodes per dimension; ACCURATE: the transition-adapted rule


def _gelu(z):
    return jax.nn.gelu(z, approximate=False)


def _linear(z):
    return z


# Names the quadrature path knows (relu and erf also have exact closed forms in fc_kernels).
NAMED_ACTIVATIONS: dict[str, Callable] = {
    "tanh": jnp.tanh, "gelu": _gelu, "silu": jax.nn.silu, "swish": jax.nn.silu, "sin": jnp.sin,
    "softplus": jax.nn.softplus, "sigmoid": jax.nn.sigmoid, "linear": _linear,
    "relu": jax.nn.relu, "erf": jax.scipy.special.erf,
}


def _probe_points() -> np.ndarray:
    return np.array([-7.0, -2.5, -1.0, -0.3, 0.0, 0.2, 0.7, 1.5, 3.0, 7.0])


def activation_function(activation) -> Callable:
    """The JAX function of ``activation`` (a name of :data:`NAMED_ACTIVATIONS` or a callable),
    checked to be elementwise and finite: ``phi(z)`` on a vector must equal ``phi`` applied to
    each entry (a ValueError otherwise, e.g. for softmax or ``z - z.mean()``), and ``phi`` and
    ``jax.grad(phi)`` must be finite on probe points in [-7, 7] (a ValueError names the point)."""
    if isinstance(activation, str):
        if activation not in NAMED_ACTIVATIONS:
            raise ValueError(f"activation = {activation!r} is unknown; valid names: "
                             f"{tuple(NAMED_ACTIVATIONS)}, or any elementwise JAX function")
        return NAMED_ACTIVATIONS[activation]
    if not callable(activation):
        raise TypeError(f"activation must be a name or a callable, got {activation!r}")
    if _already_checked(activation):
        return activation
    z = jnp.asarray(_probe_points())
    try:
        whole = jnp.asarray(activation(z))
        each = jnp.stack([jnp.asarray(activation(zi)) for zi in z])
        slopes = jnp.stack([jax.grad(activation)(zi) for zi in z])
    except Exception as error:  # noqa: BLE001 - re-raised with the contract
        raise ValueError(f"activation {activation!r} must map a scalar to a scalar, elementwise "
                         f"(failed on probe points: {error})") from error
    if whole.shape != z.shape or each.shape != z.shape:
        raise ValueError(f"activation {activation!r} is not elementwise: shape {z.shape} -> {whole.shape}")
    for name, values in (("phi", each), ("phi'", slopes)):
        bad = ~np.isfinite(np.asarray(values))
        if bad.any():
            raise ValueError(f"activation {activation!r}: {name}({float(z[bad][0])}) = "
                             f"{float(values[bad][0])} is not finite")
    if not np.allclose(np.asarray(whole), np.asarray(each), rtol=1e-5, atol=1e-6):
        raise ValueError(f"activation {activation!r} is not elementwise: phi(vector) differs from "
                         "phi applied to each entry")
    try:
        _CHECKED.add(activation)
    except TypeError:  # takes no weak reference (or is unhashable): checked again next time
        pass
    return activation


# Callables that passed the checks, kept while they live: callers that pass the same phi many
# times (signal.critical_init's grid, through kernels.variance_fixed_point) check it once.
_CHECKED: weakref.WeakSet = weakref.WeakSet()


def _already_checked(activation) -> bool:
    if any(activation is phi for phi in NAMED_ACTIVATIONS.values()):
        return True
    try:
        return activation in _CHECKED
    except TypeError:
        return False


@functools.cache
def gauss_hermite(order: int) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights (summing to 1) of the probabilists' rule: E f(z) ~ sum w_i f(z_i)."""
    if isinstance(order, bool) or not isinstance(order, int) or order < 2:
        raise ValueError(f"order = {order!r} must be an integer >= 2 (quadrature nodes)")
    nodes, weights = np.polynomial.hermite_e.hermegauss(order)
    return nodes, weights / math.sqrt(2 * math.pi)


_SLOPES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # entries die with their phi


def activation_derivative(phi):
    """phi' elementwise: one object per live phi, so that jitted callers hit their cache
    (kept only while phi itself lives; a phi that takes no weak reference is not kept)."""
    try:
        return _SLOPES[phi]
    except (KeyError, TypeError):
        slope = jnp.vectorize(jax.grad(phi))
    try:
        _SLOPES[phi] = slope
    except TypeError:
        pass
    return slope


def _checked_order(order):
    """``"accurate"`` (the transition-adapted rule) or a valid Gauss-Hermite order (a ValueError
    otherwise)."""
    if order != ACCURATE:
        if isinstance(order, str):
            raise ValueError(f"order = {order!r} must be {ACCURATE!r} or an integer >= 2 (Gauss-Hermite nodes)")
        gauss_hermite(order)
    return order


def gaussian_expectation(f: Callable, q, order: int | str = DEFAULT_ORDER):
    """E[f(sqrt(q) z)], z ~ N(0, 1), broadcast over q: the transition-adapted rule
    (``order="accurate"``) or Gauss-Hermite with ``order`` nodes."""
    if _checked_order(order) == ACCURATE:
        return _gauss.expectation(f, q)
    nodes, weights = gauss_hermite(order)
    q = jnp.asarray(q)
    z = jnp.asarray(nodes, q.dtype)
    values = f(jnp.sqrt(q)[..., None] * z)
    return jnp.sum(values * jnp.asarray(weights, q.dtype), axis=-1)


def pair_expectation(f: Callable, k11, k22, k12, order: int | str = DEFAULT_ORDER):
    """E[f(u) f(v)] for the Gaussian pair: :func:`._gauss.pair_expectation` (``order="accurate"``)
    or the ``order``-node Gauss-Hermite product rule."""
    if order == ACCURATE:
        return _gauss.pair_expectation(f, k11, k22, k12)
    return _hermite_pair_expectation(f, k11, k22, k12, order)


@functools.partial(jax.jit, static_argnames=("f", "order"))
def _hermite_pair_expectation(f: Callable, k11, k22, k12, order: int):
    """Gauss-Hermite product rule, summing over z_1 in a scan (memory ~ pairs x order)."""
    nodes, weights = gauss_hermite(order)
    k11, k22, k12 = jnp.broadcast_arrays(*(jnp.asarray(k) for k in (k11, k22, k12)))
    # E[f(u) f(v)] is symmetric in (k11, k22) but the rule is not (u is integrated outside):
    # the smaller variance always goes outside, so K(x_i, x_j) = K(x_j, x_i) exactly.
    k11, k22 = jnp.minimum(k11, k22), jnp.maximum(k11, k22)
    dtype = jnp.result_type(k11, float)
    s1, s2 = jnp.sqrt(k11), jnp.sqrt(k22)
    c = jnp.clip(k12 / jnp.where(s1 * s2 > 0, s1 * s2, 1), -1, 1)
    s = jnp.sqrt(jnp.maximum((1 - c) * (1 + c), 0))
    z = jnp.asarray(nodes, dtype)
    w = jnp.asarray(weights, dtype)

    def add(total, node):
        z1, w1 = node
        inner = jnp.sum(w * f(s2[..., None] * (c[..., None] * z1 + s[..., None] * z)), axis=-1)
        return total + w1 * f(s1 * z1) * inner, None

    total, _ = jax.lax.scan(add, jnp.zeros(k11.shape, dtype), (z, w))
    return total


@dataclasses.dataclass(frozen=True)
class QuadratureMap:
    """E[f(u) f(v)] in (k11, k22, k12) by quadrature, f = phi or phi' (``order``: None for
    the transition-adapted rule, an integer for that many Gauss-Hermite nodes).

    Hashable (a static argument of ``jax.jit``), with ``.jax(k11, k22, k12)`` like a
    Formula's evaluator, so :func:`fc_kernels` applies it as it applies dual Formulas."""

    phi: Callable
    derivative: bool = False
    order: int | str = DEFAULT_ORDER

    def jax(self, k11, k22, k12):
        f = activation_derivative(self.phi) if self.derivative else self.phi
        return pair_expectation(f, k11, k22, k12, self.order)

    __call__ = jax


def check_layer_variances(x1, x2, depth, activation, sigma_w, sigma_b, *, phi: Callable | None = None):
    r"""Raise a ValueError if a pre-activation variance $K^l_{ii}$, l = 1..depth, of a point
    of x1 or x2 exceeds :data:`._gauss.MAX_VARIANCE`, the largest at which the default
    quadrature dual maps are tested to 1e-10. $K^1_{ii} = \sigma_w^2 |x_i|^2/d + \sigma_b^2$,
    $K^{l+1}_{ii} = \sigma_w^2 E[\phi(\sqrt{K^l_{ii}} z)^2] + \sigma_b^2$ (the diagonal of the
    recursion, n x 64 evaluations per layer). Inputs traced under ``jax.jit`` cannot be
    checked: then this returns without checking (the maps stay finite; their error grows
    slowly beyond the bound, ~1e-9 at 1e5)."""
    arrays = [a for a in (x1, x2, sigma_w, sigma_b) if a is not None]
    if any(isinstance(a, jax.core.Tracer) for a in arrays):
        return
    phi = activation_function(activation) if phi is None else phi  # (phi: already validated)
    sigma_w, sigma_b = float(sigma_w), float(sigma_b)
    rows = [np.asarray(x, dtype=float) for x in (x1, x2) if x is not None]
    q = np.concatenate([sigma_w**2 * np.sum(x**2, axis=1) / x.shape[1] for x in rows]) + sigma_b**2
    for layer in range(1, int(depth) + 1):
        if not np.all(q <= _gauss.MAX_VARIANCE):
            worst = float(np.max(q))
            raise ValueError(
                f"the pre-activation variance of layer {layer} reaches {worst:.4g} > {_gauss.MAX_VARIANCE:g}, "
                f"the largest at which the default quadrature dual maps of {activation!r} are accurate "
                "to 1e-10; scale the inputs or sigma_w down, or pass order= (Gauss-Hermite nodes, "
                "accuracy not guaranteed)")
        if layer < depth:
            q = sigma_w**2 * np.asarray(_gauss.second_moment(phi, jnp.asarray(q))) + sigma_b**2


# the names these helpers had before they were public (kept: older code imports them)
_slope = activation_derivative
_pair_expectation = pair_expectation
