r"""Run any linear method, given as one JAX step function, on random quadratics.

The user writes one step of the method once, as a function
``step(state, grad, **params) -> new state`` (``state`` a tuple of arrays, ``grad`` the
gradient function), using plain arithmetic. Here it runs on $f(x) = \tfrac12 x^\top H x$
with $H = Q\,\mathrm{diag}(\lambda)\,Q^\top$ ($Q$ Haar-random), so ``grad(x) = H x``.
Nothing here knows the method's iteration matrix: the rate is measured from the
trajectory. Because the method is linear, the state is renormalised every step and the
log-norms accumulated, so neither a fast contraction nor a divergence under- or
overflows, and the per-step rate is read from the slope of the accumulated log-norm
(:func:`numeric.momentum.contraction_rate`, whose $\log(1+t)$ term absorbs the $t\rho^t$
prefactor of a double root). Divergence is a result (``diverged``), not an error.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp

from numeric.momentum import contraction_rate

__all__ = ["MethodRun", "random_hessian", "run_linear_method"]


class MethodRun(NamedTuple):
    """log_norms: (..., steps + 1) log ||state_t|| (state_0 normalised); rate: fitted
    per-step factor of the state norm; diverged: rate > 1."""

    log_norms: jax.Array
    rate: jax.Array
    diverged: jax.Array


def random_hessian(key, eigenvalues) -> jax.Array:
    """``Q diag(eigenvalues) Q^T`` with ``Q`` Haar-random orthogonal (QR of a Gaussian)."""
    lams = jnp.asarray(eigenvalues)
    d = lams.shape[-1]
    g = jax.random.normal(key, (d, d), dtype=lams.dtype)
    q, r = jnp.linalg.qr(g)
    q = q * jnp.sign(jnp.diagonal(r))
    return (q * lams) @ q.T


def _norm(state) -> jax.Array:
    return jnp.sqrt(sum(jnp.sum(s**2) for s in state))


def _run_one(step, hessian, params, state0, steps):
    def grad(x):
        return hessian @ x

    state0 = tuple(s / _norm(state0) for s in state0)

    def body(carry, _):
        state, log_norm = carry
        new = tuple(step(state, grad, **params))
        n = _norm(new)
        return (tuple(s / n for s in new), log_norm + jnp.log(n)), log_norm + jnp.log(n)

    _, logs = jax.lax.scan(body, (state0, jnp.zeros((), hessian.dtype)), None, length=steps)
    return jnp.concatenate([jnp.zeros((1,), hessian.dtype), logs])


def run_linear_method(step: Callable, hessians, params: dict, state0, steps: int) -> MethodRun:
    """Run ``step`` on a batch of quadratics (leading axis of ``hessians``, ``params`` values
    and the arrays of ``state0``) for ``steps`` steps; returns a :class:`MethodRun`."""
    if not isinstance(steps, int) or steps < 20:
        raise ValueError(f"steps must be an integer >= 20 (the rate is a fitted slope), got {steps!r}")
    return _run(step, jnp.asarray(hessians), dict(params), tuple(state0), steps=steps)


def _run_impl(step, hessians, params, state0, steps):
    logs = jax.vmap(lambda h, p, s: _run_one(step, h, p, s, steps))(hessians, params, state0)
    rate = contraction_rate(logs, start=steps // 4)
    return MethodRun(logs, rate, rate > 1)


_run = jax.jit(_run_impl, static_argnames=("step", "steps"))
