"""AdaGrad and RMSprop run directly on a diagonal quadratic, in JAX.

Independent of ``analytic``: nothing here knows a closed form. One coordinate per curvature of
``sum_i curvature_i x_i^2 / 2``; the gradient is ``curvature * x``.

* :func:`adagrad_run`: ``G <- G + g^2``, ``x <- x - learning_rate g / sqrt(G)`` (the accumulator includes
  the current gradient, as in Duchi, Hazan & Singer 2011), from ``G = accumulator0``.
* :func:`rmsprop_run`: ``v <- decay v + (1 - decay) g^2``, ``x <- x - learning_rate g / (sqrt(v) + offset)``
  from ``v = 0``.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np


class AdaGradRun(NamedTuple):
    positions: jax.Array  # (steps + 1, d)
    accumulator_roots: jax.Array  # (steps + 1, d): sqrt(G_k)


def _check(curvature, start, learning_rate, steps):
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"steps must be a positive integer, got {steps!r}")
    if not float(learning_rate) > 0:
        raise ValueError(f"learning_rate must be > 0, got {learning_rate!r}")
    if np.any(~(np.asarray(curvature, dtype=float) > 0)):
        raise ValueError(f"curvature must be > 0, got {curvature!r}")
    return jnp.asarray(curvature, dtype=float), jnp.asarray(start, dtype=float)


@functools.partial(jax.jit, static_argnums=4)
def _adagrad(curvature, start, learning_rate, accumulator0, steps):
    def step(carry, _):
        x, g2 = carry
        g = curvature * x
        g2 = g2 + g**2
        x = x - learning_rate * g / jnp.sqrt(g2)
        return (x, g2), (x, jnp.sqrt(g2))

    g0 = jnp.full_like(start, accumulator0)
    _, (xs, roots) = jax.lax.scan(step, (start, g0), None, length=steps)
    return jnp.concatenate([start[None], xs]), jnp.concatenate([jnp.sqrt(g0)[None], roots])


def adagrad_run(curvature, start, learning_rate: float, accumulator0: float, steps: int) -> AdaGradRun:
    """``steps`` AdaGrad steps on each coordinate (curvature and start broadcast).

    Example:
        >>> run = adagrad_run([1.0], [1.0], 0.5, 0.0, 1)  # G_1 = 1, x_1 = 1 - 0.5
        >>> float(run.positions[1, 0]), float(run.accumulator_roots[1, 0])
        (0.5, 1.0)
    """
    curvature, start = _check(curvature, start, learning_rate, steps)
    if not float(accumulator0) >= 0:
        raise ValueError(f"accumulator0 must be >= 0, got {accumulator0!r}")
    curvature, start = jnp.broadcast_arrays(curvature, start)
    return AdaGradRun(*_adagrad(curvature, start, float(learning_rate), float(accumulator0), steps))


@functools.partial(jax.jit, static_argnums=5)
def _rmsprop(curvature, start, learning_rate, decay, offset, steps):
    def step(carry, _):
        x, v = carry
        g = curvature * x
        v = decay * v + (1 - decay) * g**2
        x = x - learning_rate * g / (jnp.sqrt(v) + offset)
        return (x, v), x

    _, xs = jax.lax.scan(step, (start, jnp.zeros_like(start)), None, length=steps)
    return jnp.concatenate([start[None], xs])


def rmsprop_run(curvature, start, learning_rate: float, decay: float, offset: float, steps: int) -> jax.Array:
    """``steps`` RMSprop steps on each coordinate: positions (steps + 1, d).

    Example:
        >>> [round(float(v), 6) for v in rmsprop_run([1.0], [1.0], 0.1, 0.0, 0.0, 2)[:, 0]]  # sign steps
        [1.0, 0.9, 0.8]
    """
    curvature, start = _check(curvature, start, learning_rate, steps)
    if not 0.0 <= float(decay) < 1.0 or not float(offset) >= 0:
        raise ValueError(f"decay must lie in [0, 1) and offset be >= 0, got {decay!r}, {offset!r}")
    curvature, start = jnp.broadcast_arrays(curvature, start)
    return _rmsprop(curvature, start, float(learning_rate), float(decay), float(offset), steps)


class OnlineRegret(NamedTuple):
    rounds: np.ndarray  # (k,): the horizons T at which the run is read
    regret: jax.Array  # (runs, k): sum_t g_t . x_t - min over the box of sum_t g_t . x
    gradient_norm_sums: jax.Array  # (runs, k): sum_i |g_{1:T,i}|_2
    max_distance: jax.Array  # (runs, k): max_{t <= T} |x_t - x*_T|_inf, x*_T the best corner in hindsight


@functools.partial(jax.jit, static_argnums=(3,))
def _online(gradients, radius, learning_rate, block):
    runs, dim = gradients.shape[1:]

    def one_block(carry, g_block):
        def step(state, g):
            x, g2, loss, total, far_lo, far_hi = state
            loss = loss + jnp.sum(g * x, -1)
            g2 = g2 + g**2
            total = total + g
            far_lo, far_hi = jnp.maximum(far_lo, radius + x), jnp.maximum(far_hi, radius - x)  # |x - (-R)|, |x - R|
            x = jnp.clip(x - learning_rate * g / jnp.sqrt(jnp.where(g2 > 0, g2, 1.0)), -radius, radius)
            return (x, g2, loss, total, far_lo, far_hi), None

        carry, _ = jax.lax.scan(step, carry, g_block)
        x, g2, loss, total, far_lo, far_hi = carry
        regret = loss + radius * jnp.sum(jnp.abs(total), -1)  # the best fixed point: the corner -R sign(S_T)
        best_is_low = total > 0  # x* = -R where S_T > 0
        distance = jnp.max(jnp.where(best_is_low, far_lo, far_hi), -1)
        return carry, (regret, jnp.sum(jnp.sqrt(g2), -1), distance)

    zeros = jnp.zeros((runs, dim), gradients.dtype)
    start = (zeros, zeros, jnp.zeros(runs, gradients.dtype), zeros, zeros, zeros)
    blocks = gradients.reshape(-1, block, runs, dim)
    _, out = jax.lax.scan(one_block, start, blocks)
    return out


def adagrad_online_linear(seed: int, gradient_scales, radius: float, learning_rate: float, rounds: int, runs: int,
                          block: int = 8) -> OnlineRegret:
    """Diagonal AdaGrad on online linear losses ``g_t . x`` over the box ``[-radius, radius]^d``.

    ``g_{t,i} ~ N(0, gradient_scales_i^2)`` (numpy, ``seed``), independent over rounds and ``runs``; the learner
    starts at 0, plays ``x_t``, then ``s_t = |g_{1:t}|_2`` per coordinate (the accumulator includes ``g_t``) and
    ``x_{t+1} = clip(x_t - learning_rate g_t / s_t, -radius, radius)`` (the projection in the diag(s_t) metric
    is the coordinatewise clip). The run is read every ``block`` rounds (``rounds`` a multiple of it).
    ``max_distance`` measures the diameter term of the bound: the largest ``|x_t - x*|_inf`` so far against
    the best corner ``x*`` in hindsight at T (``|x_t - x*|_inf <= 2 radius`` always).

    Example:
        >>> run = adagrad_online_linear(0, [1.0], 1.0, 1.0, 16, 4)
        >>> run.rounds.tolist()[:2], run.regret.shape
        ([8, 16], (4, 2))
    """
    scales = np.asarray(gradient_scales, dtype=float)
    if scales.ndim != 1 or np.any(~(scales > 0)):
        raise ValueError(f"gradient_scales must be a 1-d array of positive numbers, got {gradient_scales!r}")
    if not float(radius) > 0 or not float(learning_rate) > 0:
        raise ValueError(f"radius and learning_rate must be > 0, got {radius!r}, {learning_rate!r}")
    for name, value in (("rounds", rounds), ("runs", runs), ("block", block)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if rounds % block:
        raise ValueError(f"rounds must be a multiple of block = {block}, got {rounds}")
    g = np.random.default_rng(seed).standard_normal((rounds, runs, scales.size)) * scales
    regret, sums, distance = _online(jnp.asarray(g), float(radius), float(learning_rate), int(block))
    return OnlineRegret(np.arange(block, rounds + 1, block), regret.T, sums.T, distance.T)
