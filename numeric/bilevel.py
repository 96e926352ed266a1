"""Bilevel optimisation run directly: ridge hypergradients by autodiff, and SGD schedules on the NQM.

Independent of ``analytic``: nothing here knows a closed form.

Ridge regression (inner): ``L(w) = |X w - y|^2 / (2 n) + ridge/2 |w|^2``, GD
``w <- w - eta grad L(w)`` for ``steps`` steps from ``w0`` in a ``lax.scan``; outer:
``L_val(w) = |X_v w - y_v|^2 / (2 n_v)``. The hypergradient is ``jax.grad`` of
``L_val(w_T)`` with respect to ``ridge`` through that loop; truncated backpropagation
puts a ``stop_gradient`` on the iterate ``steps - truncate`` steps before the end. The
loop runs ``max_steps`` times and freezes after ``steps``, so that ``steps`` and
``truncate`` are traced values and a whole grid of them is one ``vmap``.

Noisy quadratic model (Wu, Ren, Liao, Grosse 2018): per dimension, curvature ``lam``,
SGD ``theta <- theta - lr (lam theta + xi)`` with ``Var xi = noise``. The exact moment
map ``E theta'^2 = (1 - lr lam)^2 E theta^2 + lr^2 noise`` is iterated here from the
update rule; the greedy schedule minimises each next expected loss by Newton's method
on that map (``jax.grad``), the horizon-optimal one minimises the final expected loss
over the whole schedule (L-BFGS on log learning rates); ``sgd_with_schedule`` is the
Monte Carlo run.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import scipy.optimize

__all__ = ["RidgeData", "Hypergradients", "ridge_hypergradients", "validation_loss", "exact_validation_loss",
           "exact_hypergradient", "nqm_expected_losses", "greedy_schedule_by_line_search", "horizon_optimal_schedule",
           "ScheduleRun", "sgd_with_schedule"]


class RidgeData(NamedTuple):
    """Training ``x`` (n, d), ``y`` (n,); validation ``x_val`` (n_v, d), ``y_val`` (n_v,)."""

    x: jax.Array
    y: jax.Array
    x_val: jax.Array
    y_val: jax.Array


class Hypergradients(NamedTuple):
    """Per (steps, truncate) pair: ``jax.grad`` of ``L_val(w_T)`` in ``ridge``, and ``L_val(w_T)``."""

    hypergradient: jax.Array
    validation_loss: jax.Array


def _as_data(data) -> RidgeData:
    x, y, xv, yv = (jnp.asarray(v, dtype=jnp.result_type(float)) for v in data)
    if x.ndim != 2 or xv.ndim != 2 or xv.shape[1] != x.shape[1] or y.shape != x.shape[:1] \
            or yv.shape != xv.shape[:1]:
        raise ValueError(f"data must be (x (n, d), y (n,), x_val (n_v, d), y_val (n_v,)), got shapes "
                         f"{x.shape}, {y.shape}, {xv.shape}, {yv.shape}")
    for name, v in zip(RidgeData._fields, (x, y, xv, yv)):
        if not np.all(np.isfinite(np.asarray(v))):
            raise ValueError(f"{name} must be finite")
    return RidgeData(x, y, xv, yv)


def _positive(name, value):
    v = np.asarray(value, dtype=float)
    if not np.all(np.isfinite(v)) or np.any(v <= 0):
        raise ValueError(f"{name} must be finite and > 0, got {value!r}")


def _steps_grid(steps, truncate, max_steps):
    steps = np.asarray(steps)
    truncate = steps if truncate is None else np.asarray(truncate)
    if np.any(steps < 0) or np.any(steps != np.round(steps)) or np.any(steps > max_steps):
        raise ValueError(f"steps must be integers in [0, max_steps = {max_steps}], got {steps!r}")
    if np.any(truncate < 0) or np.any(truncate != np.round(truncate)) or np.any(truncate > steps):
        raise ValueError(f"truncate must be integers in [0, steps], got {truncate!r}")
    return np.broadcast_arrays(steps.astype(int), truncate.astype(int))


def _validation(data: RidgeData, w):
    return jnp.sum((data.x_val @ w - data.y_val) ** 2) / (2 * data.x_val.shape[0])


def _gd_loop(data: RidgeData, ridge_early, ridge_late, eta, w0, steps, switch, max_steps, stop):
    """GD on the ridge loss; ``ridge_late`` from step ``switch`` on; stop_gradient there if ``stop``."""
    n = data.x.shape[0]

    def step(w, t):
        if stop:
            w = jnp.where(t == switch, jax.lax.stop_gradient(w), w)
        ridge = jnp.where(t >= switch, ridge_late, ridge_early)
        gradient = data.x.T @ (data.x @ w - data.y) / n + ridge * w
        return jnp.where(t < steps, w - eta * gradient, w), None

    w, _ = jax.lax.scan(step, w0, jnp.arange(max_steps))
    return w


@functools.partial(jax.jit, static_argnames="max_steps")
def _hypergradients(data, ridge, eta, w0, steps, truncate, max_steps):
    def loss(r, s, k):
        return _validation(data, _gd_loop(data, r, r, eta, w0, s, s - k, max_steps, stop=True))

    return jax.vmap(lambda s, k: jax.value_and_grad(loss)(ridge, s, k))(steps, truncate)


def ridge_hypergradients(data, ridge, eta, steps, truncate=None, w0=None, max_steps: int | None = None
                         ) -> Hypergradients:
    """``jax.grad`` of ``L_val(w_T)`` in ``ridge`` through ``steps`` GD steps, for a grid of them.

    ``truncate`` (default: ``steps``, full backpropagation) is how many last steps the
    gradient flows through. ``steps`` and ``truncate`` broadcast; ``max_steps`` (default
    their maximum) is the scan length.
    """
    data = _as_data(data)
    _positive("ridge", ridge)
    _positive("eta", eta)
    steps, truncate = _steps_grid(steps, truncate, np.max(steps) if max_steps is None else max_steps)
    start = jnp.zeros(data.x.shape[1]) if w0 is None else jnp.asarray(w0, dtype=data.x.dtype)
    longest = int(np.max(steps)) if max_steps is None else int(max_steps)
    losses, grads = _hypergradients(data, jnp.asarray(ridge, data.x.dtype), jnp.asarray(eta, data.x.dtype), start,
                                    jnp.asarray(steps.ravel()), jnp.asarray(truncate.ravel()), longest)
    return Hypergradients(grads.reshape(steps.shape), losses.reshape(steps.shape))


@functools.partial(jax.jit, static_argnames="max_steps")
def _losses(data, ridge_early, ridge_late, eta, w0, steps, switch, max_steps):
    return jax.vmap(lambda re, rl, s, k: _validation(
        data, _gd_loop(data, re, rl, eta, w0, s, k, max_steps, stop=False)))(ridge_early, ridge_late, steps, switch)


def validation_loss(data, ridge, eta, steps, w0=None, ridge_last=None, last=None):
    """``L_val(w_T)`` after ``steps`` GD steps (no autodiff): for finite differences.

    With ``ridge_last`` and ``last``, the final ``last`` steps use the penalty
    ``ridge_last`` (the rest ``ridge``): its finite difference in ``ridge_last`` is what
    truncated backpropagation through those steps computes. Arrays broadcast.
    """
    data = _as_data(data)
    _positive("eta", eta)
    steps, last = _steps_grid(steps, last, np.max(steps))
    ridge_last = ridge if ridge_last is None else ridge_last
    _positive("ridge", ridge)
    _positive("ridge_last", ridge_last)
    shape = np.broadcast_shapes(steps.shape, np.shape(ridge), np.shape(ridge_last))
    flat = [jnp.asarray(np.broadcast_to(v, shape).ravel()) for v in (ridge, ridge_last, steps, steps - last)]
    start = jnp.zeros(data.x.shape[1]) if w0 is None else jnp.asarray(w0, dtype=data.x.dtype)
    return _losses(data, *flat[:2], jnp.asarray(eta, data.x.dtype), start, *flat[2:],
                   int(np.max(steps))).reshape(shape)


def _exact_loss(data: RidgeData, ridge):
    n, d = data.x.shape
    gram, moment = data.x.T @ data.x / n, data.x.T @ data.y / n
    return _validation(data, jnp.linalg.solve(gram + ridge * jnp.eye(d, dtype=gram.dtype), moment))


def exact_validation_loss(data, ridge):
    """``L_val(w*)`` at the exact ridge solution (a linear solve), broadcast over ``ridge``."""
    data = _as_data(data)
    _positive("ridge", ridge)
    values = jnp.ravel(jnp.asarray(ridge, data.x.dtype))
    return jax.vmap(lambda r: _exact_loss(data, r))(values).reshape(np.shape(ridge))


def exact_hypergradient(data, ridge) -> jax.Array:
    """``jax.grad`` of ``L_val(w*(ridge))`` through the linear solve of the exact ridge solution (scalar)."""
    data = _as_data(data)
    _positive("ridge", ridge)
    return jax.grad(lambda r: _exact_loss(data, r))(jnp.asarray(float(ridge), data.x.dtype))


# --- noisy quadratic model: exact moments, schedules, Monte Carlo --------------------------------

def _check_nqm(lam, noise, m0):
    # NumPy on the host (the jitted programs take them as they are): no eager JAX operation, so no
    # compilation per operation and shape
    lam = np.atleast_1d(np.asarray(lam, dtype=jnp.result_type(float)))
    noise = np.broadcast_to(np.asarray(noise, lam.dtype), lam.shape)
    m0 = np.broadcast_to(np.asarray(m0, lam.dtype), lam.shape)
    for name, v in (("lam", lam), ("noise", noise), ("m0", m0)):
        _positive(name, v)
    return lam, noise, m0


def _moment_step(m, lr, lam, noise):
    """E theta'^2 for theta' = theta - lr (lam theta + xi), E xi = 0, Var xi = noise, xi independent."""
    return (1 - lr * lam) ** 2 * m + lr**2 * noise


@jax.jit
def _expected_losses(lam, noise, m0, schedule):
    def step(m, lr):
        m = _moment_step(m, lr, lam, noise)
        return m, jnp.sum(lam * m) / 2

    _, losses = jax.lax.scan(step, m0, schedule)
    return jnp.concatenate([jnp.sum(lam * m0)[None] / 2, losses])


def nqm_expected_losses(lam, noise, m0, schedule) -> jax.Array:
    """Exact ``E L_t = 1/2 sum_i lam_i E theta_{i,t}^2`` for t = 0..len(schedule)."""
    lam, noise, m0 = _check_nqm(lam, noise, m0)
    return _expected_losses(lam, noise, m0, jnp.asarray(schedule, lam.dtype))


@functools.partial(jax.jit, static_argnames="steps")
def _greedy(lam, noise, m0, steps):
    def step(m, _):
        def next_loss(lr):
            return jnp.sum(lam * _moment_step(m, lr, lam, noise)) / 2

        lr = jnp.zeros((), m.dtype)
        for _ in range(3):  # Newton on a smooth 1-D objective (exact after one step if it is quadratic)
            lr = lr - jax.grad(next_loss)(lr) / jax.grad(jax.grad(next_loss))(lr)
        return _moment_step(m, lr, lam, noise), lr

    _, schedule = jax.lax.scan(step, m0, None, length=steps)
    return schedule


def greedy_schedule_by_line_search(lam, noise, m0, steps: int) -> jax.Array:
    """Learning rates minimising each next expected loss in turn (found numerically, exact moments)."""
    if int(steps) < 1:
        raise ValueError(f"steps must be >= 1, got {steps!r}")
    return _greedy(*_check_nqm(lam, noise, m0), int(steps))


def horizon_optimal_schedule(lam, noise, m0, steps: int, initial_lr: float) -> np.ndarray:
    """The schedule minimising ``E L_steps`` (L-BFGS over log learning rates from a constant start)."""
    lam, noise, m0 = _check_nqm(lam, noise, m0)
    _positive("initial_lr", initial_lr)
    if int(steps) < 1:
        raise ValueError(f"steps must be >= 1, got {steps!r}")
    scale = float(_expected_losses(lam, noise, m0, jnp.zeros(1, lam.dtype))[0])

    @jax.jit
    def objective(log_lr):
        return jnp.log(_expected_losses(lam, noise, m0, jnp.exp(log_lr))[-1] / scale)

    value_and_grad = jax.jit(jax.value_and_grad(objective))

    def fun(v):
        value, grad = value_and_grad(jnp.asarray(v))
        return float(value), np.asarray(grad, dtype=float)

    start = np.full(int(steps), np.log(float(initial_lr)))
    result = scipy.optimize.minimize(fun, start, jac=True, method="L-BFGS-B",
                                     options={"maxiter": 2000, "ftol": 1e-15, "gtol": 1e-10})
    return np.exp(result.x)


class ScheduleRun(NamedTuple):
    """Monte Carlo SGD: the loss averaged over chains at t = 0..steps, and its standard error."""

    loss_mean: jax.Array
    loss_sem: jax.Array


@functools.partial(jax.jit, static_argnames="chains")
def _sgd(key, lam, noise, theta0, schedule, chains):
    def step(theta, inputs):
        lr, t = inputs
        xi = jnp.sqrt(noise) * jax.random.normal(jax.random.fold_in(key, t), theta.shape, theta.dtype)
        theta = theta - lr * (lam * theta + xi)
        return theta, jnp.sum(lam * theta**2, axis=-1) / 2

    theta = jnp.broadcast_to(theta0, (chains, lam.shape[0]))
    _, losses = jax.lax.scan(step, theta, (schedule, jnp.arange(schedule.shape[0])))
    losses = jnp.concatenate([(jnp.sum(lam * theta0**2) / 2 * jnp.ones(chains))[None], losses])
    return losses.mean(axis=1), losses.std(axis=1) / jnp.sqrt(chains)


def sgd_with_schedule(key, lam, noise, m0, schedule, chains: int) -> ScheduleRun:
    """``chains`` SGD runs on the NQM from ``theta0 = sqrt(m0)`` with learning rate ``schedule[t]``."""
    lam, noise, m0 = _check_nqm(lam, noise, m0)
    if int(chains) < 2:
        raise ValueError(f"chains must be >= 2, got {chains!r}")
    return ScheduleRun(*_sgd(key, lam, noise, jnp.sqrt(m0), jnp.asarray(schedule, lam.dtype), int(chains)))
