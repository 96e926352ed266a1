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

__all__ = ["MethodRun", "RandomQuadraticRuns", "random_hessian", "random_hessians",
           "run_linear_method", "run_on_random_quadratics"]


class MethodRun(NamedTuple):
    """log_norms: (..., steps + 1) log ||state_t|| (state_0 normalised); rate: fitted
    per-step factor of the state norm; diverged: rate > 1."""

    log_norms: jax.Array
    rate: jax.Array
    diverged: jax.Array


def random_hessian(key, eigenvalues) -> jax.Array:
    """``Q diag(eigenvalues) Q^T`` with ``Q`` a random orthogonal matrix.

    ``Q`` is the product of ``d`` Householder reflections ``I - 2 v v^T / |v|^2`` with
    Gaussian ``v`` (matrix products only: compiles in a fraction of the time of a QR).
    """
    lams = jnp.asarray(eigenvalues)
    d = lams.shape[-1]
    vs = jax.random.normal(key, (d, d), dtype=lams.dtype)
    q = jnp.eye(d, dtype=lams.dtype)
    for v in vs:
        q = q - 2 * jnp.outer(q @ v, v) / (v @ v)
    return (q * lams) @ q.T


@jax.jit
def random_hessians(keys, eigenvalues) -> jax.Array:
    """:func:`random_hessian` for a batch of keys and eigenvalue rows (one compilation)."""
    return jax.vmap(random_hessian)(keys, eigenvalues)


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
    if not isinstance(steps, int) or isinstance(steps, bool) or steps < 20:
        raise ValueError(f"steps must be an integer >= 20 (the rate is a fitted slope), got {steps!r}")
    return _run(step, jnp.asarray(hessians), dict(params), tuple(state0), steps=steps)


def _run_impl(step, hessians, params, state0, steps):
    logs = jax.vmap(lambda h, p, s: _run_one(step, h, p, s, steps))(hessians, params, state0)
    rate = contraction_rate(logs, start=steps // 4)
    return MethodRun(logs, rate, rate > 1)


_run = jax.jit(_run_impl, static_argnames=("step", "steps"))


class RandomQuadraticRuns(NamedTuple):
    """What :func:`run_on_random_quadratics` drew and measured (leading axis: runs)."""

    params: dict
    eigenvalues: jax.Array  # (runs, dim): mu, L, then dim - 2 uniform in between
    run: MethodRun


def run_on_random_quadratics(step: Callable, parameters: Callable, key, *, runs: int, dim: int,
                             mu: float, L: float, state_size: int, steps: int) -> RandomQuadraticRuns:
    """Draw ``runs`` quadratics and parameter sets and run ``step`` on each (one compilation).

    ``parameters(key, runs)`` returns a dict of ``runs`` values per parameter (JAX code).
    Each quadratic has eigenvalues ``mu``, ``L`` and ``dim - 2`` uniform in ``(mu, L)`` in a
    random orthogonal basis; the start is Gaussian in every state component.
    """
    if not (0 < mu <= L):
        raise ValueError(f"need 0 < mu <= L, got mu = {mu}, L = {L}")
    if dim < 2 or runs < 1 or state_size < 1:
        raise ValueError(f"need dim >= 2, runs >= 1, state_size >= 1; got {dim}, {runs}, {state_size}")
    if not isinstance(steps, int) or steps < 20:
        raise ValueError(f"steps must be an integer >= 20 (the rate is a fitted slope), got {steps!r}")
    return _random_runs(step, parameters, key, jnp.asarray(mu, float), jnp.asarray(L, float),
                        runs=runs, dim=dim, state_size=state_size, steps=steps)


def _random_runs_impl(step, parameters, key, mu, L, runs, dim, state_size, steps):
    k_par, k_lam, k_h, k_x = jax.random.split(key, 4)
    params = {k: jnp.asarray(v, mu.dtype) for k, v in parameters(k_par, runs).items()}
    inner = jax.random.uniform(k_lam, (runs, dim - 2), mu.dtype, minval=mu, maxval=L)
    lams = jnp.concatenate([jnp.full((runs, 1), mu), jnp.full((runs, 1), L), inner], axis=1)
    hessians = jax.vmap(random_hessian)(jax.random.split(k_h, runs), lams)
    state0 = tuple(jax.random.normal(k, (runs, dim), mu.dtype) for k in jax.random.split(k_x, state_size))
    return RandomQuadraticRuns(params, lams, _run_impl(step, hessians, params, state0, steps))


_random_runs = jax.jit(_random_runs_impl, static_argnames=("step", "parameters", "runs", "dim",
                                                           "state_size", "steps"))
