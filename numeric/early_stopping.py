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


def _linear_estimator_risk(design, maps, r2, noise_variance):
    """Risk of beta = A y averaged over isotropic beta_0 (|beta_0|^2 = r2) and noise: with M = A X,
    r2/p |M - I|_F^2 + noise_variance |A|_F^2 (``maps`` A: (designs, times, p, n), ``design`` X:
    (designs, n, p); the products as one (times p, n) x (n, p) matrix product per design)."""
    designs, times, p, n = maps.shape
    mixing = (np.ascontiguousarray(maps).reshape(designs, times * p, n) @ design).reshape(designs, times, p, p)
    return (r2 / p * np.sum((mixing - np.eye(p)) ** 2, axis=(-2, -1))
            + noise_variance * np.sum(maps**2, axis=(-2, -1)))


def flow_and_ridge_risks(x, times, r2: float, noise_variance: float) -> np.ndarray:
    """Exact risks of gradient flow at each time and of ridge at penalty 1/time, for each design.

    Gradient flow from 0 on |y - X beta|^2/(2n) solves to ``beta(t) = int_0^t exp(-(t - u) G) du X^T y / n``
    (G = X^T X / n), computed here from the eigen-decomposition of G (numpy ``eigh``); ridge is
    ``(G + I / t)^{-1} X^T y / n`` (numpy ``solve``). Both are linear maps A of y, whose risk averaged over
    an isotropic beta_0 and white noise is exact (``_linear_estimator_risk``). Returns (2, designs, times).

    Example:
        >>> x = np.eye(2)[None] * np.sqrt(2.0)  # G = I
        >>> [round(float(v), 6) for v in flow_and_ridge_risks(x, np.array([1.0]), 1.0, 0.0)[:, 0, 0]]
        [0.135335, 0.25]
    """
    x, times = np.asarray(x, dtype=float), np.asarray(times, dtype=float)
    if x.ndim != 3 or np.any(~(times > 0)):
        raise ValueError(f"x must be (designs, n, p) and times > 0, got {x.shape} and {times!r}")
    designs, n, p = x.shape
    gram = np.einsum("dni,dnj->dij", x, x) / n
    values, vectors = np.linalg.eigh(gram)
    integral = -np.expm1(-times[None, :, None] * values[:, None, :]) / values[:, None, :]  # int_0^t e^{-(t-u) s} du
    rotated = np.swapaxes(vectors, 1, 2) @ np.swapaxes(x, 1, 2) / n  # V^T X^T / n: (designs, p, n)
    scaled = (integral[..., None] * rotated[:, None]).swapaxes(1, 2).reshape(designs, p, -1)  # (designs, p, times n)
    flow_maps = (vectors @ scaled).reshape(designs, p, times.size, n).swapaxes(1, 2)  # V diag(integral) V^T X^T / n
    systems = gram[:, None] + np.eye(p) / times[None, :, None, None]
    ridge_maps = np.linalg.solve(systems, np.broadcast_to(np.swapaxes(x, 1, 2)[:, None] / n,
                                                          systems.shape[:2] + (p, n)))  # (designs, times, p, n)
    return np.stack([_linear_estimator_risk(x, maps, r2, noise_variance) for maps in (flow_maps, ridge_maps)])
