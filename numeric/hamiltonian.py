"""Hamiltonian descent run directly, beside gradient descent and heavy ball (baselines).

Independent of ``analytic``: nothing here knows a rate. Objective ``f(x) = curvature |x|^exponent /
exponent`` and kinetic energy ``k(p) = |p|^kinetic_exponent / kinetic_exponent``, both taken
coordinate by coordinate: every input broadcasts to one shape and each element is its own
one-dimensional problem (a batch of frictions, learning rates or curvatures is one call).
The explicit discretisations of conformal Hamiltonian dynamics ``x' = grad k(p), p' = -grad f(x)
- friction p`` (Maddison et al. 2018, arXiv:1809.05042v1, sec. 3), with
``delta = 1 / (1 + learning_rate friction)``:

* ``method="first"``: ``p <- delta (p - learning_rate grad f(x))``, then ``x <- x + learning_rate grad k(p)``;
* ``method="second"``: ``x <- x + learning_rate grad k(p)``, then ``p <- delta (p - learning_rate grad f(x))``.

Gradient descent ``x <- x - learning_rate grad f(x)``; heavy ball
``x_{t+1} = x_t - learning_rate grad f(x_t) + momentum (x_t - x_{t-1})`` from rest. Each is a
``lax.scan`` that records the loss (and for Hamiltonian descent the energy ``f + k``) at every step,
the start included. Divergence is a result (``diverged``: the last loss above the first, or NaN), not an error.

Example:
    >>> import jax; jax.config.update("jax_enable_x64", True)
    >>> run = hamiltonian_descent(1.0, 0.0, friction=1.0, learning_rate=0.1, steps=3)
    >>> run.loss.shape, bool(run.loss[-1] < run.loss[0])
    ((4,), True)
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["HamiltonianRun", "BaselineRun", "hamiltonian_descent", "gradient_descent", "heavy_ball"]

METHODS = ("first", "second")


class HamiltonianRun(NamedTuple):
    """Per step (leading axis, ``steps + 1`` long, the start first): loss ``f(x)``, energy ``f + k``,
    position and momentum; ``diverged`` where the last loss is above the first (or NaN)."""

    loss: jax.Array
    energy: jax.Array
    position: jax.Array
    momentum: jax.Array
    diverged: jax.Array


class BaselineRun(NamedTuple):
    """Per step (``steps + 1`` long, the start first): loss ``f(x)`` and position; ``diverged`` as above."""

    loss: jax.Array
    position: jax.Array
    diverged: jax.Array


def _power_gradient(x, scale, power):
    """grad of scale |x|^power / power: scale sign(x) |x|^(power - 1)."""
    return scale * jnp.sign(x) * jnp.abs(x) ** (power - 1)


def _power_value(x, scale, power):
    return scale * jnp.abs(x) ** power / power


def _positive(caller, name, value, above=0.0):
    v = np.asarray(value, dtype=float)
    if v.size == 0 or not np.all(np.isfinite(v)) or np.any(v <= above):
        raise ValueError(f"{caller}: {name} must be finite and > {above:g}, got {value!r}")


def _steps(caller, steps):
    if isinstance(steps, bool) or not isinstance(steps, (int, np.integer)) or steps < 1:
        raise ValueError(f"{caller}: steps must be an integer >= 1, got {steps!r}")
    return int(steps)


def _finite(caller, name, value):
    if not np.all(np.isfinite(np.asarray(value, dtype=float))):
        raise ValueError(f"{caller}: {name} must be finite, got {value!r}")


def _broadcast(*values):
    """numpy arrays of the default float type broadcast to one shape (no eager JAX work before the jit)."""
    dtype = np.dtype(jnp.result_type(float))
    return [np.array(v, dtype=dtype) for v in np.broadcast_arrays(*(np.asarray(v) for v in values))]


@functools.partial(jax.jit, static_argnames=("steps",))
def _hamiltonian_scan(x, p, friction, learning_rate, curvature, exponent, kinetic_exponent, second, steps):
    delta = 1 / (1 + learning_rate * friction)

    def kick(x, p):
        return delta * (p - learning_rate * _power_gradient(x, curvature, exponent))

    def drift(x, p):
        return x + learning_rate * _power_gradient(p, 1.0, kinetic_exponent)

    def step(state, _):  # both orders, one selected: the two methods share one compiled program
        x, p = state
        p_first = kick(x, p)
        x_first = drift(x, p_first)
        x_second = drift(x, p)
        p_second = kick(x_second, p)
        x, p = jnp.where(second, x_second, x_first), jnp.where(second, p_second, p_first)
        return (x, p), (x, p)

    _, (xs, ps) = jax.lax.scan(step, (x, p), None, length=steps)
    xs, ps = jnp.concatenate([x[None], xs]), jnp.concatenate([p[None], ps])
    loss = _power_value(xs, curvature, exponent)
    return loss, loss + _power_value(ps, 1.0, kinetic_exponent), xs, ps, ~(loss[-1] <= loss[0])


def hamiltonian_descent(position, momentum, friction, learning_rate, steps: int, *, exponent=2.0, curvature=1.0,
                        kinetic_exponent=None, method: str = "first") -> HamiltonianRun:
    """``steps`` explicit Hamiltonian descent steps from ``(position, momentum)``.

    ``kinetic_exponent`` defaults to 2 (the classical ``p^2/2``); every numeric argument
    broadcasts. ``method`` is "first" or "second" (see the module docstring).
    """
    caller = "hamiltonian_descent"
    steps = _steps(caller, steps)
    if method not in METHODS:
        raise ValueError(f"{caller}: method must be one of {METHODS}, got {method!r}")
    kinetic_exponent = 2.0 if kinetic_exponent is None else kinetic_exponent
    _finite(caller, "position", position)
    _finite(caller, "momentum", momentum)
    _positive(caller, "friction", friction)
    _positive(caller, "learning_rate", learning_rate)
    _positive(caller, "curvature", curvature)
    _positive(caller, "exponent", exponent, above=1.0)
    _positive(caller, "kinetic_exponent", kinetic_exponent, above=1.0)
    args = _broadcast(position, momentum, friction, learning_rate, curvature, exponent, kinetic_exponent)
    return HamiltonianRun(*_hamiltonian_scan(*args, np.bool_(method == "second"), steps=steps))


@functools.partial(jax.jit, static_argnames=("steps",))
def _heavy_ball_scan(x, learning_rate, momentum, curvature, exponent, steps):
    def step(state, _):
        x, previous = state
        new = x - learning_rate * _power_gradient(x, curvature, exponent) + momentum * (x - previous)
        return (new, x), new

    _, xs = jax.lax.scan(step, (x, x), None, length=steps)
    xs = jnp.concatenate([x[None], xs])
    loss = _power_value(xs, curvature, exponent)
    return loss, xs, ~(loss[-1] <= loss[0])


def _baseline(caller, position, learning_rate, momentum, steps, exponent, curvature) -> BaselineRun:
    steps = _steps(caller, steps)
    _finite(caller, "position", position)
    _positive(caller, "learning_rate", learning_rate)
    _positive(caller, "curvature", curvature)
    _positive(caller, "exponent", exponent, above=1.0)
    m = np.asarray(momentum, dtype=float)
    if not np.all(np.isfinite(m)) or np.any(m < 0) or np.any(m >= 1):
        raise ValueError(f"{caller}: momentum must be in [0, 1), got {momentum!r}")
    args = _broadcast(position, learning_rate, momentum, curvature, exponent)
    return BaselineRun(*_heavy_ball_scan(*args, steps=steps))


def gradient_descent(position, learning_rate, steps: int, *, exponent=2.0, curvature=1.0) -> BaselineRun:
    """``steps`` gradient-descent steps on ``curvature |x|^exponent / exponent`` (broadcasting)."""
    return _baseline("gradient_descent", position, learning_rate, 0.0, steps, exponent, curvature)


def heavy_ball(position, learning_rate, momentum, steps: int, *, exponent=2.0, curvature=1.0) -> BaselineRun:
    """``steps`` heavy-ball steps from rest on ``curvature |x|^exponent / exponent`` (broadcasting)."""
    return _baseline("heavy_ball", position, learning_rate, momentum, steps, exponent, curvature)
