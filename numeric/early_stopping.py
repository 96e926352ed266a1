"""Early-stopped gradient descent and ridge regression on least squares, run directly in JAX.

Independent of ``analytic``: nothing here knows a filter or a risk formula.

* :func:`gd_estimates`: gradient descent ``beta <- beta + lr X^T (y - X beta) / n`` from 0 (the gradient
  through the Gram matrix ``X^T X / n``), the iterate after each of ``steps`` (a ``lax.scan``, vmapped
  over draws);
* :func:`ridge_estimates`: ``(X^T X / n + ridge I)^{-1} X^T y / n`` by a linear solve per ridge penalty
  (numpy: a direct solve, not a training loop, and no compilation).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np


@jax.jit
def _gd_batched(x, y, learning_rate, record):
    n = x.shape[1]
    gram = jnp.einsum("dni,dnj->dij", x, x) / n  # (1 or draws, p, p): the gradient is gram beta - X^T y / n
    xty = jnp.einsum("dni,dn->di", jnp.broadcast_to(x, (y.shape[0],) + x.shape[1:]), y) / n

    def step(beta, _):
        beta = beta + learning_rate * (xty - jnp.einsum("dij,dj->di", gram, beta))
        return beta, beta

    _, path = jax.lax.scan(step, jnp.zeros_like(xty), None, length=record.shape[0])
    return jnp.swapaxes(path, 0, 1)


def gd_estimates(x, y, learning_rate: float, steps) -> jax.Array:
    """GD iterates after each number of ``steps`` (positive integers): (draws, len(steps), p).

    ``x`` is (draws, n, p), or (1, n, p) for one design shared by every draw of ``y`` (draws, n).

    Example:
        >>> x = jnp.eye(2)[None] * jnp.sqrt(2.0)  # X^T X / n = I
        >>> [round(float(v), 6) for v in gd_estimates(x, jnp.ones((1, 2)), 0.5, [1, 2])[0, :, 0]]
        [0.353553, 0.53033]
    """
    steps = np.asarray(steps)
    if steps.ndim != 1 or steps.size == 0 or np.any(steps < 1) or np.any(steps != np.round(steps)):
        raise ValueError(f"steps must be a non-empty list of positive integers, got {steps!r}")
    if not float(learning_rate) > 0:
        raise ValueError(f"learning_rate must be > 0, got {learning_rate!r}")
    length = max(1024, 1 << int(steps.max() - 1).bit_length())  # few distinct scan lengths: few compilations
    path = _gd_batched(jnp.asarray(x), jnp.asarray(y), float(learning_rate), jnp.zeros(length))
    return path[:, steps.astype(int) - 1]


def ridge_estimates(x, y, ridges) -> jax.Array:
    """Ridge solutions for each penalty in ``ridges`` (> 0): (draws, len(ridges), p); ``x`` (1 or draws, n, p).

    Example:
        >>> x = np.eye(2)[None] * np.sqrt(2.0)  # X^T X / n = I
        >>> [round(float(v), 6) for v in ridge_estimates(x, np.ones((1, 2)), [1.0])[0, 0]]  # (1/sqrt 2) / 2
        [0.353553, 0.353553]
    """
    ridges = np.atleast_1d(np.asarray(ridges, dtype=float))
    if np.any(~(ridges > 0)):
        raise ValueError(f"ridges must be > 0, got {ridges!r}")
    x, y = np.asarray(x, dtype=float), np.asarray(y, dtype=float)
    n, p = x.shape[1], x.shape[2]
    gram = np.einsum("dni,dnj->dij", x, x) / n  # (1 or draws, p, p)
    xty = np.einsum("dni,dn->di", np.broadcast_to(x, (y.shape[0],) + x.shape[1:]), y) / n
    systems = gram[:, None] + ridges[None, :, None, None] * np.eye(p)  # (1 or draws, R, p, p)
    if x.shape[0] == 1:  # one design: one factorisation per penalty, every draw a right-hand side
        return np.einsum("rpd->drp", np.linalg.solve(systems[0], np.broadcast_to(xty.T, (ridges.size,) + xty.T.shape)))
    return np.linalg.solve(systems, np.broadcast_to(xty[:, None], systems.shape[:3])[..., None])[..., 0]
