"""Gradient descent on scalar factorisation ``L(w1, w2) = (w1 w2 - y)^2``, run directly.

Independent of ``analytic``: the gradient is written by hand,
``dL/dw1 = 2 (w1 w2 - y) w2``, ``dL/dw2 = 2 (w1 w2 - y) w1``.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["FactorisationRun", "gd_factorisation"]


class FactorisationRun(NamedTuple):
    """``weights[t]`` = (w1, w2) for t = 0..steps, ``losses[t]``, ``balance[t]`` = w1^2 - w2^2."""

    weights: jax.Array
    losses: jax.Array
    balance: jax.Array
    diverged: jax.Array


@functools.partial(jax.jit, static_argnames="steps")
def _gd(w0, y, eta, steps):
    def step(w, _):
        residual = w[0] * w[1] - y
        w = w - eta * 2 * residual * jnp.stack([w[1], w[0]])
        return w, w

    _, path = jax.lax.scan(step, w0, None, length=steps)
    return jnp.concatenate([w0[None], path])


def gd_factorisation(w0, y, eta, steps: int) -> FactorisationRun:
    """GD with step ``eta`` from ``w0 = (w1, w2)`` on ``(w1 w2 - y)^2`` for ``steps`` steps."""
    w0 = jnp.asarray(w0, dtype=jnp.result_type(float))
    if w0.shape != (2,) or not np.all(np.isfinite(np.asarray(w0))):
        raise ValueError(f"w0 must be two finite numbers (w1, w2), got {w0!r}")
    for name, value, positive in (("eta", eta, True), ("y", y, False)):
        v = float(value)
        if not np.isfinite(v) or (positive and v <= 0):
            raise ValueError(f"{name} must be finite{' and > 0' if positive else ''}, got {value!r}")
    if int(steps) < 1:
        raise ValueError(f"steps must be >= 1, got {steps!r}")
    weights = _gd(w0, jnp.asarray(y, w0.dtype), jnp.asarray(eta, w0.dtype), int(steps))
    losses = (weights[:, 0] * weights[:, 1] - y) ** 2
    balance = weights[:, 0] ** 2 - weights[:, 1] ** 2
    diverged = ~jnp.all(jnp.isfinite(losses)) | (losses[-1] > 10 * losses[0])
    return FactorisationRun(weights, losses, balance, diverged)
