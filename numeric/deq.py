"""Deep equilibrium layers run directly: fixed points, implicit (DEQ) gradients, unrolled gradients.

Independent of ``analytic``: nothing here knows a closed form.

A weight-tied scalar layer ``z <- layer(weight z + drive)`` with ``layer`` the identity
(``"linear"``) or ``tanh`` (``"tanh"``), applied elementwise, so ``weight``, ``drive`` and
``start`` may be arrays of cases (they broadcast). Three numerical answers to "dz/dweight":

* :func:`implicit_gradient`: the DEQ way (Bai, Kolter & Koltun 2019): the forward pass
  iterates the layer to its fixed point (``lax.while_loop``, no tape), a ``jax.custom_vjp``
  backward pass iterates the adjoint equation ``u = f_z u + v`` to its own fixed point and
  returns ``u f_weight``; ``jax.grad`` of the fixed point goes through it;
* :func:`unrolled_gradients`: ``jax.grad`` of ``z_k`` through ``k`` unrolled steps from
  ``start`` (a ``lax.scan`` of fixed length that freezes after ``k`` steps, so that a whole
  grid of ``k`` is one ``vmap``), ``start`` held constant;
* :func:`fixed_point_difference`: a central difference of the forward fixed point in ``weight``.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["LAYERS", "FixedPoint", "solve_fixed_point", "implicit_gradient", "unrolled_gradients",
           "fixed_point_difference"]

LAYERS = ("linear", "tanh")
_TOLERANCE = 1e-15  # the fixed-point iterations stop when a step changes z by less (relative + absolute)
_MAX_ITERATIONS = 20_000


class FixedPoint(NamedTuple):
    """The fixed point ``z*``, ``dz*/dweight`` by the implicit backward pass, and forward iterations used."""

    fixed_point: jax.Array
    gradient: jax.Array
    iterations: jax.Array


def _activation(layer: str):
    if layer not in LAYERS:
        raise ValueError(f"layer must be one of {LAYERS}, got {layer!r}")
    return (lambda u: u) if layer == "linear" else jnp.tanh


def _check_weight(weight):
    w = np.asarray(weight, dtype=float)
    if not np.all(np.isfinite(w)) or np.any(np.abs(w) >= 1):
        raise ValueError(f"weight must be finite with |weight| < 1 (a contraction), got {weight!r}")


def _check_finite(name, value):
    if not np.all(np.isfinite(np.asarray(value, dtype=float))):
        raise ValueError(f"{name} must be finite, got {value!r}")


def _iterate(update, z0):
    """Iterate ``z <- update(z)`` until it stops moving (or _MAX_ITERATIONS); returns (z, count)."""

    def moving(state):
        z, previous, count = state
        return jnp.any(jnp.abs(z - previous) > _TOLERANCE * (1 + jnp.abs(z))) & (count < _MAX_ITERATIONS)

    def step(state):
        z, _, count = state
        return update(z), z, count + 1

    z, _, count = jax.lax.while_loop(moving, step, (update(z0), z0, jnp.asarray(1)))
    return z, count


@functools.partial(jax.custom_vjp, nondiff_argnums=(0,))
def _deq(layer, weight, drive):
    act = _activation(layer)
    z, _ = _iterate(lambda z: act(weight * z + drive), jnp.zeros_like(drive))
    return z


def _deq_forward(layer, weight, drive):
    z = _deq(layer, weight, drive)
    return z, (weight, drive, z)


def _deq_backward(layer, residuals, cotangent):
    weight, drive, z = residuals
    act = _activation(layer)
    _, vjp = jax.vjp(lambda zz, w, x: act(w * zz + x), z, weight, drive)
    # adjoint fixed point u = (df/dz)^T u + cotangent, by iteration (the layer contracts)
    u, _ = _iterate(lambda u: vjp(u)[0] + cotangent, cotangent)
    _, d_weight, d_drive = vjp(u)
    return d_weight, d_drive


_deq.defvjp(_deq_forward, _deq_backward)


@functools.partial(jax.jit, static_argnames="layer")
def _implicit(layer, weight, drive):
    act = _activation(layer)
    _, count = _iterate(lambda z: act(weight * z + drive), jnp.zeros_like(drive))
    z = _deq(layer, weight, drive)
    gradient = jax.vmap(jax.grad(lambda w, x: _deq(layer, w, x)))(weight, drive)
    return FixedPoint(z, gradient, count)


def _cases(weight, drive, *more):
    _check_weight(weight)
    _check_finite("drive", drive)
    arrays = np.broadcast_arrays(*(np.asarray(v, dtype=float) for v in (weight, drive, *more)))
    return [jnp.asarray(a.ravel()) for a in arrays], arrays[0].shape


def solve_fixed_point(weight, drive, layer: str = "linear") -> jax.Array:
    """The fixed point z* of ``z <- layer(weight z + drive)`` by iteration from 0 (arrays broadcast)."""
    return implicit_gradient(weight, drive, layer).fixed_point


def implicit_gradient(weight, drive, layer: str = "linear") -> FixedPoint:
    """``z*`` and ``dz*/dweight`` by the DEQ implicit backward pass (``jax.grad`` through a custom_vjp).

    Example:
        >>> import jax; jax.config.update("jax_enable_x64", True)
        >>> from numeric import deq
        >>> out = deq.implicit_gradient(0.5, 1.0)   # z* = 2, dz*/dw = z* / (1 - w) = 4
        >>> round(float(out.fixed_point), 12), round(float(out.gradient), 12)
        (2.0, 4.0)
    """
    _activation(layer)
    (w, x), shape = _cases(weight, drive)
    out = _implicit(layer, w, x)
    return FixedPoint(*(v.reshape(shape) for v in out[:2]), out.iterations)


@functools.partial(jax.jit, static_argnames=("layer", "max_steps"))
def _unrolled(layer, weight, drive, start, steps, max_steps):
    act = _activation(layer)

    def z_k(w, x, z0, k):
        def step(z, j):
            return jnp.where(j < k, act(w * z + x), z), None

        z, _ = jax.lax.scan(step, z0, jnp.arange(max_steps))
        return z

    grad = jax.grad(z_k)  # start z0 is an argument, held constant
    per_case = jax.vmap(grad, in_axes=(None, None, None, 0))  # over steps k
    return jax.vmap(per_case, in_axes=(0, 0, 0, None))(weight, drive, start, steps)


def unrolled_gradients(weight, drive, start, steps, layer: str = "linear") -> jax.Array:
    """``jax.grad`` in ``weight`` of ``z_k`` after ``k`` unrolled steps from ``start``, for each k in ``steps``.

    ``weight``, ``drive`` and ``start`` broadcast into cases; the result has shape
    ``cases + (len(steps),)``. ``start`` is a constant (not a function of ``weight``).

    Example:
        >>> import jax; jax.config.update("jax_enable_x64", True)
        >>> from numeric import deq
        >>> deq.unrolled_gradients(0.5, 1.0, 0.0, [1, 2]).tolist()  # z_1 = 1, z_2 = 0.5 + 1
        [0.0, 1.0]
    """
    _activation(layer)
    _check_finite("start", start)
    steps = np.asarray(steps)
    if steps.ndim != 1 or np.any(steps < 0) or np.any(steps != np.round(steps)):
        raise ValueError(f"steps must be a 1-D array of non-negative integers, got {steps!r}")
    (w, x, z0), shape = _cases(weight, drive, start)
    out = _unrolled(layer, w, x, z0, jnp.asarray(steps.astype(int)), int(steps.max()))
    return out.reshape(shape + (steps.size,))


def fixed_point_difference(weight, drive, layer: str = "linear", step: float = 1e-5) -> jax.Array:
    """Central difference ``(z*(weight + step) - z*(weight - step)) / (2 step)`` of the forward fixed point."""
    _check_weight(np.asarray(weight) + step)
    _check_weight(np.asarray(weight) - step)
    up = solve_fixed_point(np.asarray(weight) + step, drive, layer)
    down = solve_fixed_point(np.asarray(weight) - step, drive, layer)
    return (up - down) / (2 * step)
