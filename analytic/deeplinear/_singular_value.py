r"""The depth-$N$ singular value $\sigma(t)$: the closed-form learning time, inverted in JAX.

A composite built from three Formulas (``linear_mode_strength`` for $N = 1$,
``saxe_mode_strength`` for $N = 2$, ``arora_learning_time`` for $N \ge 3$); they are
arguments, so a check can hand it the Formulas it was given.
"""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp
import numpy as np

from analytic.deeplinear._mode_dynamics import _arora_learning_time, _linear_mode_strength, _saxe_mode_strength
from analytic.formula import Formula, format_value, real_array

__all__ = ["arora_singular_value"]
_NAME = "deeplinear.arora_singular_value"  # messages name the function the user called


def arora_singular_value(N, s, sigma0, t, *, linear: Formula | None = None,
                         two_layer: Formula | None = None, learning_time: Formula | None = None):
    r"""Singular value $\sigma(t)$ of a depth-$N$ linear network's end-to-end map.

    Solves $\dot\sigma = N\sigma^{2-2/N}(s-\sigma)$, $\sigma(0) = \sigma_0$ (gradient flow,
    unit learning rate: $t = \eta\cdot\text{steps}$ for GD with step $\eta$). $N = 1$ and
    $N = 2$ use the closed forms ``linear_mode_strength`` and ``saxe_mode_strength``
    ($\tau = 1$). For $N \ge 3$ the closed-form time ``arora_learning_time``
    $T(\sigma_0 \to \sigma)$ is inverted in the log-odds $z = \log(\sigma/(s-\sigma))$,
    where $T$ is increasing and concave with $dT/dz = s^{2/N-2}(\sigma/s)^{2/N-1}/N
    \ge s^{2/N-2}/N$: bisection on $[z_0, z_0 + tNs^{2-2/N}]$, then one Newton step from
    the (gradient-stopped) bisection point, which makes the result differentiable in
    ``s``, ``sigma0`` and ``t`` with the implicit-function gradient.

    All four arguments broadcast (``N`` an integer or integer array, compiled once for
    all depths). Needs ``N >= 1``, ``0 < sigma0 < s`` and ``t >= 0``; float64 when enabled.
    ``linear``, ``two_layer`` and ``learning_time`` are the Formulas it is built from
    (default: the catalogue's ``deeplinear.linear_mode_strength``, ``saxe_mode_strength``
    and ``arora_learning_time``); a check passes its own so that a wrong one shows.

    Source: Arora, Cohen, Hazan 2018, arXiv:1802.06509v2 (Theorem 1 and its singular-value form).

    Example:
        >>> arora_singular_value(3, s=1.0, sigma0=0.01, t=[0.0, 1.0, 3.768])
        Array([0.01      , 0.02046349, 0.49997811], dtype=float64)
    """
    formulas = (linear or _linear_mode_strength(), two_layer or _saxe_mode_strength(),
                learning_time or _arora_learning_time())
    real_array(_NAME, "N", N)
    depth = np.asarray(N)
    if depth.dtype == bool or not np.issubdtype(depth.dtype, np.number) or np.iscomplexobj(depth) \
            or not np.all(np.isfinite(depth)) or not np.all(depth == np.round(depth)) or np.any(depth < 1):
        raise ValueError(f"{_NAME}: depth N must be an integer >= 1, got {format_value(N)}")
    for name, v in (("s", s), ("sigma0", sigma0), ("t", t)):
        if not isinstance(v, jax.core.Tracer):
            real_array(_NAME, name, v)  # bool, str, None, complex, ragged: a TypeError naming it
    s, sigma0, t = (jnp.asarray(v) for v in (s, sigma0, t))
    traced = any(isinstance(v, jax.core.Tracer) for v in (s, sigma0, t))
    if not traced:
        formulas[0].check_arguments(_NAME, s=s, sigma0=sigma0, t=t)
        a, b = np.broadcast_arrays(np.asarray(sigma0, float), np.asarray(s, float))
        if not np.all(a < b):
            i = int(np.argmax(~(a < b)))
            raise ValueError(f"{_NAME}: needs 0 < sigma0 < s, got sigma0 = "
                             f"{format_value(a.ravel()[i])}, s = {format_value(b.ravel()[i])}")
    depth = jnp.asarray(depth, jnp.result_type(s, sigma0, t, float))
    if traced:
        return _arora_singular_value(depth, s, sigma0, t, formulas=formulas)
    return _in_chunks(depth, s, sigma0, t, formulas=formulas)


_CHUNK = 2048


def _in_chunks(*args, formulas):
    """Evaluate concrete inputs in fixed-size chunks: one compilation serves every shape."""
    args = jnp.broadcast_arrays(*args)
    shape, size = args[0].shape, args[0].size
    padded = -(-max(size, 1) // _CHUNK) * _CHUNK
    # pad with a harmless point (N = 1, s = 1, sigma0 = 1/2, t = 0)
    flat = [jnp.concatenate([a.ravel(), jnp.full(padded - size, fill, a.dtype)])
            for a, fill in zip(args, (1.0, 1.0, 0.5, 0.0))]
    pieces = [_arora_singular_value(*(f[i:i + _CHUNK] for f in flat), formulas=formulas)
              for i in range(0, padded, _CHUNK)]
    return jnp.concatenate(pieces)[:size].reshape(shape)


@functools.partial(jax.jit, static_argnames="formulas")
def _arora_singular_value(depth, s, sigma0, t, formulas):
    linear, two_layer, learning_time = formulas
    depth, s, sigma0, t = jnp.broadcast_arrays(depth, s, sigma0, t)
    dtype = jnp.result_type(depth, s, sigma0, t, float)
    depth, s, sigma0, t = (x.astype(dtype) for x in (depth, s, sigma0, t))
    shallow = linear.jax(s, sigma0, t)
    two = two_layer.jax(s, sigma0, jnp.ones_like(s), t)
    deep = _invert_learning_time(learning_time.jax, jnp.where(depth >= 3, depth, 3.0), s, sigma0, t)
    return jnp.select([depth == 1, depth == 2], [shallow, two], deep)


def _invert_learning_time(time, depth, s, sigma0, t):
    """sigma with time(depth, s, sigma0, sigma) = t, for depth >= 3 (see arora_singular_value)."""
    c = 2.0 / depth - 1.0
    z0 = jnp.log(sigma0) - jnp.log(s - sigma0)

    def excess(z):  # T(sigma0 -> s sigmoid(z)) - t; +inf once sigmoid(z) rounds to 1
        return time(depth, s, sigma0, s * jax.nn.sigmoid(z)) - t

    def bisect(_, bracket):
        lo, hi = bracket
        mid = 0.5 * (lo + hi)
        above = ~(excess(mid) < 0)
        return jnp.where(above, lo, mid), jnp.where(above, mid, hi)

    hi0 = z0 + t * depth * s ** (1 - c) + 1.0  # dT/dz >= s^(c-1)/N bounds the root
    lo, hi = jax.lax.fori_loop(0, 100, bisect, (z0, hi0))
    z = jax.lax.stop_gradient(0.5 * (lo + hi))
    gap = excess(z)
    slope = s ** (c - 1) * jax.nn.sigmoid(z) ** c / depth  # dT/dz
    z = z - jnp.where(jnp.isfinite(gap), gap, 0.0) / slope
    return jnp.where(t == 0, sigma0, s * jax.nn.sigmoid(z))
