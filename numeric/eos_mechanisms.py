"""Edge-of-stability mechanisms run directly: GD on the minimalist loss, and the sharpness gradient of an MLP.

Independent of ``analytic``: nothing here knows a closed form.

* :func:`minimalist_gd`: GD on ``L(x, y) = (1 - x^2 y^2)^2 / 4`` (``jax.grad`` of the loss) from a
  batch of starting points and learning rates (``vmap``), the whole trajectory kept; the final
  sharpness is the top eigenvalue of ``jax.hessian`` at the last point.
* :func:`sharpness_gradient`: on a small tanh MLP (squared loss, fixed data), the top Hessian
  eigenpair ``(lam_max, u)`` from the full Hessian (``jax.hessian``, ``eigh``), the third
  derivative ``nabla^3 L[u, u]`` (``jax.grad`` of ``theta -> u . H(theta) u`` with the
  Hessian-vector product a ``jax.jvp`` of ``jax.grad``: nested forward-over-reverse), and
  central differences of ``lam_max`` along random unit directions at steps ``h`` and ``2h``.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

__all__ = ["MinimalistRun", "minimalist_loss", "minimalist_gd", "SharpnessGradient", "sharpness_gradient"]


def minimalist_loss(w):
    """``(1 - x^2 y^2)^2 / 4`` at ``w = (x, y)``."""
    return (1 - (w[0] * w[1]) ** 2) ** 2 / 4


class MinimalistRun(NamedTuple):
    """Trajectories ``x``, ``y`` (runs, steps + 1); the final Hessian's top eigenvalue; a divergence flag."""

    x: np.ndarray
    y: np.ndarray
    final_sharpness: np.ndarray
    diverged: np.ndarray


@functools.partial(jax.jit, static_argnames=("steps",))
def _gd(start, learning_rate, steps):
    grad = jax.grad(minimalist_loss)

    def one(w0, eta):
        def step(w, _):
            w = w - eta * grad(w)
            w = jnp.where(jnp.all(jnp.isfinite(w)) & (jnp.max(jnp.abs(w)) < 1e6), w, jnp.full_like(w, jnp.inf))
            return w, w

        _, path = jax.lax.scan(step, w0, None, length=steps)
        path = jnp.concatenate([w0[None], path])
        final = path[-1]
        top = jnp.linalg.eigvalsh(jax.hessian(minimalist_loss)(jnp.where(jnp.isfinite(final), final, 0.0)))[-1]
        return path, top

    return jax.vmap(one)(start, learning_rate)


def minimalist_gd(x0, y0, learning_rate, steps: int) -> MinimalistRun:
    """GD from ``(x0, y0)`` with ``learning_rate`` (arrays of one shape: one run each) for ``steps`` steps.

    A run whose weights leave ``|w| < 1e6`` is stopped and flagged ``diverged``.

    Example:
        >>> run = minimalist_gd([1.0], [1.0], [0.1], 3)   # a minimum: nothing moves
        >>> run.x.tolist(), round(float(run.final_sharpness[0]), 12)   # Hessian 2 grad(p) grad(p)^T: 2 (1 + 1)
        ([[1.0, 1.0, 1.0, 1.0]], 4.0)
    """
    x0, y0, rate = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (x0, y0, learning_rate)))
    if x0.ndim != 1:
        raise ValueError(f"x0, y0 and learning_rate must broadcast to one dimension, got shape {x0.shape}")
    if not np.all(rate > 0) or not np.all(np.isfinite(rate)):
        raise ValueError(f"learning_rate must be finite and > 0, got {learning_rate!r}")
    if isinstance(steps, bool) or int(steps) != steps or steps < 1:
        raise ValueError(f"steps must be a whole number >= 1, got {steps!r}")
    path, top = _gd(jnp.stack([jnp.asarray(x0), jnp.asarray(y0)], axis=-1), jnp.asarray(rate), int(steps))
    path = np.asarray(path)
    diverged = ~np.all(np.isfinite(path[:, -1]), axis=-1)
    return MinimalistRun(path[..., 0], path[..., 1], np.where(diverged, np.nan, np.asarray(top)), diverged)


class SharpnessGradient(NamedTuple):
    """At one point: ``lam_max``, the third-derivative prediction ``v . nabla^3 L[u, u]`` for each
    direction ``v``, and the central differences of ``lam_max`` at steps ``h`` and ``2 h``."""

    top_eigenvalue: float
    eigen_gap: float
    predicted: np.ndarray
    difference_h: np.ndarray
    difference_2h: np.ndarray


def _mlp_loss(flat, unravel, x, y):
    params = unravel(flat)
    hidden = jnp.tanh(x @ params["w1"] + params["b1"])
    out = hidden @ params["w2"]
    return 0.5 * jnp.mean((out[:, 0] - y) ** 2)


def sharpness_gradient(key, width: int = 6, samples: int = 12, in_dim: int = 3, directions: int = 4,
                       step: float = 1e-3) -> SharpnessGradient:
    """``nabla lam_max`` two ways on a random tanh MLP (float64 under ``jax_enable_x64``).

    Example:
        >>> import jax
        >>> g = sharpness_gradient(jax.random.PRNGKey(0), width=3, samples=4, in_dim=2, directions=1)
        >>> g.predicted.shape, g.difference_h.shape
        ((1,), (1,))
    """
    if not (isinstance(width, int) and width >= 1):
        raise ValueError(f"width must be an integer >= 1, got {width!r}")
    if not step > 0:
        raise ValueError(f"step must be > 0, got {step!r}")
    # numpy's PCG64 seeded by the key's bits draws the network, data and directions (no XLA
    # compilation of the random-bit generator); float64 when jax_enable_x64 is on
    words = np.asarray(jax.random.key_data(key) if jnp.issubdtype(key.dtype, jax.dtypes.prng_key) else key)
    rng = np.random.default_rng(words.astype(np.uint64).ravel().tolist())
    dtype = jnp.asarray(0.0).dtype
    params = {"w1": jnp.asarray(rng.standard_normal((in_dim, width)) / np.sqrt(in_dim), dtype),
              "b1": jnp.asarray(0.1 * rng.standard_normal(width), dtype),
              "w2": jnp.asarray(rng.standard_normal((width, 1)) / np.sqrt(width), dtype)}
    x = jnp.asarray(rng.standard_normal((samples, in_dim)), dtype)
    y = jnp.sin(2 * x[:, 0]) + x[:, 1]
    flat, unravel = ravel_pytree(params)

    def loss(theta):
        return _mlp_loss(theta, unravel, x, y)

    hessian = jax.jit(jax.hessian(loss))

    def top(theta):  # numpy's eigh of the jitted Hessian: one compilation serves every point
        values, vectors = np.linalg.eigh(np.asarray(hessian(theta)))
        return values[-1], vectors[:, -1], values[-1] - values[-2]

    @jax.jit
    def third_derivative(theta, u):  # nabla^3 L[u, u] = grad of u . H(theta) u, H u = jvp of grad
        return jax.grad(lambda point: u @ jax.jvp(jax.grad(loss), (point,), (u,))[1])(theta)

    lam, u, gap = top(flat)
    third = np.asarray(third_derivative(flat, jnp.asarray(u, flat.dtype)))
    dirs = rng.standard_normal((directions, flat.size))
    dirs = dirs / np.linalg.norm(dirs, axis=1, keepdims=True)
    base = np.asarray(flat)
    central = np.array([[(top(jnp.asarray(base + h * v))[0] - top(jnp.asarray(base - h * v))[0]) / (2 * h)
                         for v in dirs] for h in (step, 2 * step)])
    return SharpnessGradient(float(lam), float(gap), dirs @ third, central[0], central[1])
