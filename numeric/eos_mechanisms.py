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
* :func:`self_stabilisation`: full-batch GD on a small tanh MLP (squared loss, fixed data) run
  through progressive sharpening into the edge of stability; along the run, at every step of a
  window after the sharpness first crosses ``2/learning_rate``, the quantities of Damian, Nichani
  & Lee's self-stabilisation picture measured by autodiff (see :class:`SelfStabilisation`).
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
from jax.flatten_util import ravel_pytree

__all__ = ["MinimalistRun", "minimalist_loss", "minimalist_gd", "SharpnessGradient", "sharpness_gradient",
           "SelfStabilisation", "self_stabilisation"]


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


class SelfStabilisation(NamedTuple):
    """GD at the edge of stability on a small MLP, measured step by step (float64 under x64).

    ``iterate_sharpness`` (steps + 1,): ``lam_max`` of the Hessian at every iterate. ``crossing``:
    the first step whose sharpness reaches ``2/learning_rate`` (-1 if none). The other arrays
    cover the steps ``start .. start + window - 1``, placed ``lead`` steps before the first
    return of the sharpness below ``2/learning_rate`` after the crossing (the self-stabilisation
    event). For each window step ``t`` the *centre* ``c_t`` is the midpoint
    ``(theta_t + theta_{t+1})/2`` moved along the top eigenvector ``u`` until the gradient has no
    ``u`` component (Newton steps along ``u``): the point the period-2 oscillation straddles. At
    the centre: ``centre_sharpness`` ``S = lam_max``, ``eigen_gap``, and, with
    ``grad S = nabla^3 L[u, u]`` and its part ``grad S_perp`` orthogonal to ``u``,
    ``sharpening_rate`` ``-grad L . grad S_perp`` and ``stabilisation_strength`` ``|grad S_perp|^2``.
    ``displacement`` ``x_t = u . (theta_t - c_t)`` (``u`` with the sign ``eigh`` gives it at that
    step), ``next_displacement`` ``u . (theta_{t+1} - c_t)`` (the next iterate in the same frame)
    and ``sharpness_direction_step`` ``grad S_perp . (theta_{t+1} - theta_t)``: GD's step in the
    coordinates (x, y) of the self-stabilisation model with its reference at ``c_t``.

    Probes of the loss along ``u`` at two distances ``h = |x_t|`` and ``2 |x_t|`` (index 0, 1),
    with ``g = grad L``, ``g+ = g(c + h u)``, ``g- = g(c - h u)``: ``even_rate[k]``
    ``= -grad S_perp . (g+ + g-) / 2`` and ``odd_rate[k]`` ``= -sign(x) grad S_perp . (g+ - g-) / 2``
    (the parts of ``-grad S_perp . g(c + x u)`` even and odd in ``x``),
    ``secant_curvature[k]`` ``= u . (g+ - g-) / (2 h)`` and ``even_gradient_along_u[k]``
    ``= u . (g+ + g-) / 2``. ``offset_gradient_along_u`` and ``offset_rate``: ``u .`` and
    ``-grad S_perp .`` of ``g(theta_t) - g(c + x_t u)``, the force from the iterate's offset
    from the line ``c + R u``.
    """

    learning_rate: float
    crossing: int
    start: int
    iterate_sharpness: np.ndarray
    centre_sharpness: np.ndarray
    eigen_gap: np.ndarray
    sharpening_rate: np.ndarray
    stabilisation_strength: np.ndarray
    displacement: np.ndarray
    next_displacement: np.ndarray
    sharpness_direction_step: np.ndarray
    even_rate: np.ndarray
    odd_rate: np.ndarray
    secant_curvature: np.ndarray
    even_gradient_along_u: np.ndarray
    offset_gradient_along_u: np.ndarray
    offset_rate: np.ndarray


def _tanh_mlp_loss(theta, x, y, width):
    """Squared loss (halved mean) of ``w2 . tanh(W1 x + b1)`` with ``theta = (W1, b1, w2)`` flat."""
    in_dim = x.shape[1]
    w1 = theta[: in_dim * width].reshape(in_dim, width)
    b1 = theta[in_dim * width: (in_dim + 1) * width]
    w2 = theta[(in_dim + 1) * width:]
    return 0.5 * jnp.mean((jnp.tanh(x @ w1 + b1) @ w2 - y) ** 2)


@functools.partial(jax.jit, static_argnames=("width", "steps"))
def _gd_path(theta, x, y, learning_rate, width, steps):
    grad = jax.grad(functools.partial(_tanh_mlp_loss, x=x, y=y, width=width))

    def step(point, _):
        point = point - learning_rate * grad(point)
        return point, point

    _, path = jax.lax.scan(step, theta, None, length=steps)
    return jnp.concatenate([theta[None], path])


@functools.partial(jax.jit, static_argnames=("width",))
def _hessians_and_gradients(points, x, y, width):
    loss = functools.partial(_tanh_mlp_loss, x=x, y=y, width=width)
    return jax.vmap(lambda p: (jax.hessian(loss)(p), jax.grad(loss)(p)))(points)


def _top_eigenpairs(points, x, y, width, chunk):
    """(lam_max, lam_max - lam_2, u, grad L) at each point: jitted Hessians in chunks of one size
    (one compilation), numpy's eigh (nothing to compile)."""
    points = np.asarray(points)
    pad = -len(points) % chunk
    padded = np.concatenate([points, np.repeat(points[-1:], pad, axis=0)]) if pad else points
    out = [_hessians_and_gradients(jnp.asarray(padded[k: k + chunk]), x, y, width)
           for k in range(0, len(padded), chunk)]
    hessians = np.concatenate([np.asarray(h) for h, _ in out])[: len(points)]
    gradients = np.concatenate([np.asarray(g) for _, g in out])[: len(points)]
    values, vectors = np.linalg.eigh(hessians)
    return values[:, -1], values[:, -1] - values[:, -2], vectors[:, :, -1], gradients


@functools.partial(jax.jit, static_argnames=("width",))
def _model_probes(centre, iterate, following, u, x_data, y_data, width):
    """At each centre with top eigenvector u: grad S_perp, alpha, beta and the probes along u."""
    grad = jax.grad(functools.partial(_tanh_mlp_loss, x=x_data, y=y_data, width=width))

    def one(centre, iterate, following, u):
        # grad S = nabla^3 L[u, u]: grad of u . H u, H u a jvp of grad (forward over reverse)
        grad_s = jax.grad(lambda p: u @ jax.jvp(grad, (p,), (u,))[1])(centre)
        perp = grad_s - u * (u @ grad_s)
        x = u @ (iterate - centre)
        h = jnp.abs(x)
        points = jnp.stack([centre, iterate, centre + x * u, centre + h * u, centre - h * u,
                            centre + 2 * h * u, centre - 2 * h * u])
        g = jax.vmap(grad)(points)  # one traced gradient for all seven points
        probes = [(-perp @ (plus + minus) / 2, -perp @ (plus - minus) / 2 * jnp.sign(x),
                   u @ (plus - minus) / (2 * dist), u @ (plus + minus) / 2)
                  for plus, minus, dist in ((g[3], g[4], h), (g[5], g[6], 2 * h))]
        offset = g[1] - g[2]
        return (-g[0] @ perp, perp @ perp, x, u @ (following - centre), perp @ (following - iterate),
                jnp.asarray(probes), u @ offset, -perp @ offset)

    return jax.vmap(one)(centre, iterate, following, u)


def self_stabilisation(key, learning_rate: float = 0.5, width: int = 8, samples: int = 8, in_dim: int = 2,
                       steps: int = 500, window: int = 80, lead: int = 40, init_scale: float = 0.5,
                       target_scale: float = 2.0, newton_steps: int = 2) -> SelfStabilisation:
    """Full-batch GD with ``learning_rate`` on a random tanh MLP through the edge of stability.

    The MLP (``width`` tanh units, ``in_dim`` inputs, weights ``init_scale / sqrt(fan-in)``, zero
    biases; numpy's PCG64 seeded by the key's bits draws it and the data) fits
    ``target_scale (sin 2 x_1 + x_last)`` on ``samples`` standard Gaussian inputs (squared loss,
    halved mean). Its sharpness rises while it fits (progressive sharpening) until it crosses
    ``2/learning_rate``; GD then oscillates along the top eigenvector and, in Damian et al.'s
    picture, the oscillation itself pulls the sharpness back. The window of :class:`SelfStabilisation`
    is measured around the first such return (window arrays are empty when the sharpness never
    crossed, or never came back below the edge, within ``steps``).

    Example:
        >>> import jax
        >>> run = self_stabilisation(jax.random.PRNGKey(0), steps=30, window=4, lead=2)
        >>> run.iterate_sharpness.shape
        (31,)
    """
    if not (isinstance(learning_rate, (int, float)) and np.isfinite(learning_rate) and learning_rate > 0):
        raise ValueError(f"learning_rate must be a finite number > 0, got {learning_rate!r}")
    for name, value, low in (("width", width, 1), ("samples", samples, 1), ("in_dim", in_dim, 1),
                             ("steps", steps, 2), ("window", window, 1), ("lead", lead, 0),
                             ("newton_steps", newton_steps, 0)):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < low:
            raise ValueError(f"{name} must be a whole number >= {low}, got {value!r}")
    if window >= steps:
        raise ValueError(f"window must be smaller than steps = {steps}, got {window!r}")
    if not (init_scale > 0 and target_scale > 0):
        raise ValueError(f"init_scale and target_scale must be > 0, got {init_scale!r}, {target_scale!r}")
    words = np.asarray(jax.random.key_data(key) if jnp.issubdtype(key.dtype, jax.dtypes.prng_key) else key)
    rng = np.random.default_rng(words.astype(np.uint64).ravel().tolist())
    dtype = jnp.asarray(0.0).dtype
    theta = np.concatenate([init_scale * rng.standard_normal(in_dim * width) / np.sqrt(in_dim), np.zeros(width),
                            init_scale * rng.standard_normal(width) / np.sqrt(width)])
    x = rng.standard_normal((samples, in_dim))
    y = target_scale * (np.sin(2 * x[:, 0]) + x[:, -1])
    x, y, theta = (jnp.asarray(v, dtype) for v in (x, y, theta))
    path = np.asarray(_gd_path(theta, x, y, jnp.asarray(learning_rate, dtype), width, int(steps)))
    top = _top_eigenpairs(path, x, y, width, window)[0]
    above = top >= 2 / learning_rate
    crossing = int(np.argmax(above)) if above.any() else -1
    back = np.nonzero(~above[max(crossing, 0):])[0] if crossing >= 0 else np.array([], int)
    empty = np.zeros(0)
    if crossing < 0 or back.size == 0:
        return SelfStabilisation(float(learning_rate), crossing, -1, top, *([empty] * 7),
                                 *([np.zeros((2, 0))] * 4), empty, empty)
    start = int(np.clip(crossing + back[0] - lead, 0, steps - window))
    here = path[start: start + window + 1]
    centre = (here[:-1] + here[1:]) / 2
    for _ in range(newton_steps):  # move along u until u . grad L = 0: the centre of the oscillation
        s, _, u, g = _top_eigenpairs(centre, x, y, width, window)
        centre = centre - u * (np.einsum("ti,ti->t", u, g) / s)[:, None]
    s, gap, u, _ = _top_eigenpairs(centre, x, y, width, window)
    rate, strength, *rest, probes, offset_u, offset_rate = (np.asarray(v) for v in _model_probes(
        *(jnp.asarray(v, dtype) for v in (centre, here[:-1], here[1:], u)), x, y, width))
    return SelfStabilisation(float(learning_rate), crossing, start, top, s, gap, rate, strength, *rest,
                             *(probes[:, :, k].T for k in range(4)), offset_u, offset_rate)
