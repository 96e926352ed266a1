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
