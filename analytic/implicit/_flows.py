"""Gradient flows of loss Formulas, integrated accurately in JAX (classical RK4)."""

from __future__ import annotations

import functools

import jax
import jax.numpy as jnp

from analytic.formula import Formula

__all__ = ["gradient_flow"]


def gradient_flow(formula: Formula, wrt, start, time: float, steps: int, **constants):
    r"""Solve $\dot\theta = -\nabla_\theta\,$``formula`` from ``start`` to ``time`` by RK4.

    ``wrt``: the parameter names that flow (in the order of ``start``); ``constants``:
    values of the formula's other parameters (``eta`` of a modified loss, a target).
    Returns the states at the ``steps + 1`` times ``linspace(0, time, steps + 1)``,
    shape (steps + 1, len(wrt)). RK4's error is O((time/steps)^4).
    """
    wrt = tuple(wrt)
    names = formula.param_names
    unknown = [n for n in wrt if n not in names]
    missing = [n for n in names if n not in wrt and n not in constants]
    if unknown or missing or len(set(wrt)) != len(wrt):
        raise ValueError(f"{formula.name}: wrt {wrt} and constants {sorted(constants)} must split its "
                         f"parameters {names} (unknown {unknown}, missing {missing})")
    start = jnp.asarray(start, dtype=jnp.result_type(float))
    if start.shape != (len(wrt),):
        raise ValueError(f"start must have shape ({len(wrt)},), got {start.shape}")
    if not time > 0 or int(steps) < 1:
        raise ValueError(f"time must be > 0 and steps >= 1, got time={time!r}, steps={steps!r}")
    formula.check_arguments(**dict(zip(wrt, start)), **constants)
    position = {n: i for i, n in enumerate(wrt)}

    def loss(theta, fixed):
        args = [theta[position[n]] if n in position else fixed[n] for n in names]
        return formula.jax(*args)

    fixed = {k: jnp.asarray(v, start.dtype) for k, v in constants.items()}
    return _rk4(loss, start, fixed, jnp.asarray(time / int(steps), start.dtype), int(steps))


@functools.partial(jax.jit, static_argnames=("loss", "steps"))
def _rk4(loss, start, fixed, dt, steps):
    def field(theta):
        return -jax.grad(loss)(theta, fixed)

    def advance(theta, _):
        k1 = field(theta)
        k2 = field(theta + dt / 2 * k1)
        k3 = field(theta + dt / 2 * k2)
        k4 = field(theta + dt * k3)
        theta = theta + dt / 6 * (k1 + 2 * k2 + 2 * k3 + k4)
        return theta, theta

    _, path = jax.lax.scan(advance, start, None, length=steps)
    return jnp.concatenate([start[None], path])
