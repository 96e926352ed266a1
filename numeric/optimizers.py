"""Adam, frozen-preconditioner Adam and damped natural gradient, run directly.

Independent of ``analytic``: nothing here knows a closed form.

* Frozen-preconditioner Adam on a quadratic ``L(x) = x^T H x / 2``:
  ``m <- beta1 m + (1 - beta1) H x``, ``x <- x - eta m / P`` (P a fixed positive diagonal).
* Adam (Kingma and Ba 2014, arXiv:1412.6980v9, Algorithm 1, with bias correction) on a
  stream of gradients, or on a loss with full-batch gradients.
* Damped natural gradient on least squares ``||X w - y||^2 / (2n)``: the Fisher of the
  squared loss is ``H = X^T X / n`` and the step is ``w <- w - eta (H + damping I)^-1 grad``.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from numeric.sharpness import sharpness

__all__ = [
    "QuadraticRun", "frozen_adam_quadratic", "frozen_adam_diverges", "NoiseUpdates", "adam_noise_updates",
    "NaturalGradientRun", "natural_gradient_least_squares", "AdamRun", "adam_full_batch",
    "AdamEdgeRun", "adam_preconditioned_sharpness", "ScheduledRun", "nqm_scheduled_sgd", "learning_rate_schedule",
]


def _check_positive(name: str, value) -> None:
    v = np.asarray(value, dtype=float)
    if not np.all(np.isfinite(v)) or np.any(v <= 0):
        raise ValueError(f"{name} must be finite and > 0, got {value!r}")


def _check_unit_interval(name: str, value) -> None:
    v = float(value)
    if not 0.0 <= v < 1.0:
        raise ValueError(f"{name} must be in [0, 1), got {value!r}")


def _check_steps(steps) -> int:
    if int(steps) != steps or int(steps) < 1:
        raise ValueError(f"steps must be an integer >= 1, got {steps!r}")
    return int(steps)


class QuadraticRun(NamedTuple):
    """``norms[t] = |x_t|`` for t = 0..steps; ``diverged`` if |x| grew over the second half."""

    norms: jax.Array
    diverged: jax.Array
    growth_rate: jax.Array  # (|x_T| / |x_{T/2}|)^(2/T): per-step factor of the slowest-decaying mode


@functools.partial(jax.jit, static_argnames=("steps",))
def _frozen_adam_scan(H, inv_p, x0, eta, beta1, steps):
    def step(state, _):
        m, x = state
        m = beta1 * m + (1 - beta1) * (H @ x)
        x = x - eta * inv_p * m
        return (m, x), jnp.linalg.norm(x)

    _, norms = jax.lax.scan(step, (jnp.zeros_like(x0), x0), None, length=steps)
    return jnp.concatenate([jnp.linalg.norm(x0)[None], norms])


def frozen_adam_quadratic(H, preconditioner, x0, eta, beta1, steps: int) -> QuadraticRun:
    """Adam's momentum with a frozen diagonal preconditioner on ``x^T H x / 2``.

    A learning rate past the stability limit is allowed: ``diverged`` is set when
    ``|x|`` grew between step ``steps // 2`` and the end (or became non-finite), and
    ``growth_rate`` is the measured per-step factor over that half.
    """
    H = jnp.asarray(H)
    if H.ndim != 2 or H.shape[0] != H.shape[1]:
        raise ValueError(f"H must be a square matrix, got shape {H.shape}")
    p = jnp.asarray(preconditioner, H.dtype)
    if p.shape != (H.shape[0],) or not bool(jnp.all(p > 0)):
        raise ValueError(f"preconditioner must be a positive vector of length {H.shape[0]}")
    _check_positive("eta", eta)
    _check_unit_interval("beta1", beta1)
    steps = _check_steps(steps)
    norms = _frozen_adam_scan(H, 1.0 / p, jnp.asarray(x0, H.dtype), jnp.asarray(eta, H.dtype),
                              jnp.asarray(beta1, H.dtype), steps=steps)
    half = norms[steps // 2]
    growth = (norms[-1] / half) ** (1.0 / (steps - steps // 2))
    diverged = ~jnp.all(jnp.isfinite(norms)) | (norms[-1] > half)
    return QuadraticRun(norms, diverged, growth)


@functools.partial(jax.jit, static_argnames=("steps",))
def _frozen_adam_diverges(H, inv_p, x0, etas, beta1, steps):
    def one(eta):
        norms = _frozen_adam_scan(H, inv_p, x0, eta, beta1, steps=steps)
        return ~jnp.all(jnp.isfinite(norms)) | (norms[-1] > norms[steps // 2])

    return jax.vmap(one)(etas)


def frozen_adam_diverges(H, preconditioner, x0, etas, beta1, steps: int) -> jax.Array:
    """``diverged`` of :func:`frozen_adam_quadratic` for each learning rate in ``etas`` (vmap)."""
    H = jnp.asarray(H)
    p = jnp.asarray(preconditioner, H.dtype)
    if H.ndim != 2 or p.shape != (H.shape[0],) or not bool(jnp.all(p > 0)):
        raise ValueError(f"need a square H and a positive preconditioner of matching length, "
                         f"got {H.shape} and {p.shape}")
    _check_positive("etas", etas)
    _check_unit_interval("beta1", beta1)
    return _frozen_adam_diverges(H, 1.0 / p, jnp.asarray(x0, H.dtype), jnp.asarray(etas, H.dtype),
                                 jnp.asarray(beta1, H.dtype), steps=_check_steps(steps))


class NoiseUpdates(NamedTuple):
    """Adam's update on pure-noise gradients: RMS over coordinates and the measured window."""

    rms: float  # sqrt(mean of update^2 over coordinates and steps in the window)
    standard_error: float  # of ``rms``, from independent blocks of coordinates
    updates: jax.Array  # (steps, coordinates) of the last ``window`` steps


@functools.partial(jax.jit, static_argnames=("coordinates", "steps"))
def _adam_noise_scan(key, eta, beta1, beta2, sigma, coordinates, steps):
    dtype = eta.dtype

    def step(state, inputs):
        m, v = state
        k, t = inputs
        g = sigma * jax.random.normal(k, (coordinates,), dtype)
        m = beta1 * m + (1 - beta1) * g
        v = beta2 * v + (1 - beta2) * g**2
        m_hat = m / (1 - beta1**t)
        v_hat = v / (1 - beta2**t)
        return (m, v), eta * m_hat / jnp.sqrt(v_hat)

    zeros = jnp.zeros(coordinates, dtype)
    inputs = (jax.random.split(key, steps), jnp.arange(1, steps + 1, dtype=dtype))
    _, updates = jax.lax.scan(step, (zeros, zeros), inputs)
    return updates


def adam_noise_updates(key, eta, beta1, beta2, sigma=1.0, coordinates: int = 1024,
                       steps: int = 4000, window: int = 2000, blocks: int = 32) -> NoiseUpdates:
    """Adam (bias-corrected, eps = 0) fed i.i.d. N(0, sigma^2) gradients in each coordinate.

    Returns the RMS update over the last ``window`` steps; its standard error comes from
    ``blocks`` disjoint groups of coordinates (independent chains).
    """
    _check_positive("eta", eta)
    _check_unit_interval("beta1", beta1)
    _check_unit_interval("beta2", beta2)
    _check_positive("sigma", sigma)
    steps = _check_steps(steps)
    if not 0 < window <= steps or coordinates % blocks:
        raise ValueError(f"need 0 < window <= steps and blocks dividing coordinates, got "
                         f"window={window}, steps={steps}, coordinates={coordinates}, blocks={blocks}")
    dtype = jnp.result_type(float)
    updates = _adam_noise_scan(key, jnp.asarray(eta, dtype), jnp.asarray(beta1, dtype),
                               jnp.asarray(beta2, dtype), jnp.asarray(sigma, dtype),
                               coordinates=int(coordinates), steps=steps)[-window:]
    squares = np.asarray(updates) ** 2
    per_block = np.sqrt(squares.reshape(window, blocks, -1).mean(axis=(0, 2)))
    return NoiseUpdates(float(np.sqrt(squares.mean())),
                        float(per_block.std(ddof=1) / np.sqrt(blocks)), updates)


class NaturalGradientRun(NamedTuple):
    """``weights[t]`` for t = 0..steps and the loss ``||X w - y||^2 / (2n)`` along the way."""

    weights: jax.Array
    losses: jax.Array


@functools.partial(jax.jit, static_argnames=("steps",))
def _natural_gradient_scan(X, y, w0, eta, damping, steps):
    n, d = X.shape
    curvature = X.T @ X / n + damping * jnp.eye(d, dtype=X.dtype)
    factor = jnp.linalg.cholesky(curvature)

    def step(w, _):
        grad = X.T @ (X @ w - y) / n
        direction = jax.scipy.linalg.cho_solve((factor, True), grad)
        w = w - eta * direction
        return w, w

    _, weights = jax.lax.scan(step, w0, None, length=steps)
    weights = jnp.concatenate([w0[None], weights])
    losses = 0.5 * jnp.mean((weights @ X.T - y) ** 2, axis=-1)
    return weights, losses


def natural_gradient_least_squares(X, y, w0, eta, damping, steps: int) -> NaturalGradientRun:
    """Damped natural gradient ``w <- w - eta (X^T X / n + damping I)^-1 X^T (X w - y) / n``."""
    X, y, w0 = jnp.asarray(X), jnp.asarray(y), jnp.asarray(w0)
    if X.ndim != 2 or y.shape != (X.shape[0],) or w0.shape != (X.shape[1],):
        raise ValueError(f"shapes do not match: X {X.shape}, y {y.shape}, w0 {w0.shape}")
    _check_positive("eta", eta)
    if not np.isfinite(damping) or damping < 0:
        raise ValueError(f"damping must be finite and >= 0, got {damping!r}")
    steps = _check_steps(steps)
    weights, losses = _natural_gradient_scan(X, y, w0, jnp.asarray(eta, X.dtype),
                                             jnp.asarray(damping, X.dtype), steps=steps)
    return NaturalGradientRun(weights, losses)


class AdamRun(NamedTuple):
    """Full-batch Adam: losses per step and the (params, second moment) at checkpoints."""

    losses: jax.Array  # (steps,)
    params: object  # pytree with a leading axis of checkpoints
    preconditioners: object  # pytree like params: sqrt(v_hat) + eps at the checkpoints
    checkpoint_steps: np.ndarray


@functools.partial(jax.jit, static_argnames=("loss", "steps", "every"))
def _adam_scan(loss, params, args, eta, beta1, beta2, eps, steps, every):
    value_and_grad = jax.value_and_grad(loss)
    tmap = jax.tree_util.tree_map

    def step(state, t):
        p, m, v = state
        value, g = value_and_grad(p, *args)
        m = tmap(lambda a, b: beta1 * a + (1 - beta1) * b, m, g)
        v = tmap(lambda a, b: beta2 * a + (1 - beta2) * b**2, v, g)
        precond = tmap(lambda a: jnp.sqrt(a / (1 - beta2**t)) + eps, v)
        p = tmap(lambda a, b, c: a - eta * b / (1 - beta1**t) / c, p, m, precond)
        return (p, m, v), (value, p, precond)

    def chunk(state, start):
        state, (values, ps, pcs) = jax.lax.scan(step, state, start + jnp.arange(1, every + 1.0))
        return state, (values, tmap(lambda a: a[-1], ps), tmap(lambda a: a[-1], pcs))

    zeros = tmap(jnp.zeros_like, params)
    starts = jnp.arange(0, steps, every, dtype=jnp.result_type(float))
    _, (values, ps, pcs) = jax.lax.scan(chunk, (params, zeros, zeros), starts)
    return values.reshape(-1), ps, pcs


def adam_full_batch(loss: Callable, params, args: tuple, eta, beta1=0.9, beta2=0.999, eps=1e-8,
                    steps: int = 1000, every: int = 100) -> AdamRun:
    """Full-batch Adam (bias-corrected) on ``loss(params, *args)``; checkpoints every ``every`` steps.

    ``preconditioners`` holds Adam's diagonal ``P = sqrt(v_hat) + eps`` at each checkpoint:
    the effective step there is ``eta P^-1 m_hat``.
    """
    _check_positive("eta", eta)
    _check_unit_interval("beta1", beta1)
    _check_unit_interval("beta2", beta2)
    steps = _check_steps(steps)
    if every < 1 or steps % every:
        raise ValueError(f"every must divide steps, got every={every}, steps={steps}")
    values, ps, pcs = _adam_scan(loss, params, tuple(args), eta, beta1, beta2, eps,
                                 steps=steps, every=int(every))
    return AdamRun(values, ps, pcs, np.arange(every, steps + 1, every))


class AdamEdgeRun(NamedTuple):
    """Full-batch Adam per learning rate (leading axis), with lam_max(P^-1 H) every ``record_every`` steps."""

    losses: jax.Array  # (etas, steps + 1)
    preconditioned_sharpness: jax.Array  # (etas, steps // record_every): at steps record_every, 2 record_every, ...
    sharpness_steps: np.ndarray  # the step numbers of those columns
    diverged: jax.Array  # (etas,) non-finite loss anywhere


@functools.partial(jax.jit, static_argnames=("loss", "steps", "record_every", "lanczos"))
def _adam_edge(loss, params, args, etas, beta1, beta2, eps, key, steps, record_every, lanczos):
    tmap = jax.tree_util.tree_map
    value_and_grad = jax.value_and_grad(loss)

    def one(eta):
        def step(state, t):
            p, m, v = state
            value, g = value_and_grad(p, *args)
            m = tmap(lambda a, b: beta1 * a + (1 - beta1) * b, m, g)
            v = tmap(lambda a, b: beta2 * a + (1 - beta2) * b**2, v, g)
            p = tmap(lambda a, b, c: a - eta * (b / (1 - beta1**t)) / (jnp.sqrt(c / (1 - beta2**t)) + eps),
                     p, m, v)
            return (p, m, v), value

        def block(state, start):
            state, values = jax.lax.scan(step, state, start + jnp.arange(1, record_every + 1, dtype=etas.dtype))
            p, _, v = state
            # The preconditioner the next step divides by (bias correction at this step count).
            t = start + record_every
            precond = tmap(lambda c: jnp.sqrt(c / (1 - beta2**t)) + eps, v)
            top = sharpness(loss, p, args, iterations=lanczos, key=key, preconditioner=precond).eigenvalue
            return state, (values, top)

        zeros = tmap(jnp.zeros_like, params)
        starts = jnp.arange(0, steps, record_every, dtype=etas.dtype)
        (p, _, _), (values, tops) = jax.lax.scan(block, (params, zeros, zeros), starts)
        return jnp.concatenate([values.ravel(), loss(p, *args)[None]]), tops

    return jax.vmap(one)(etas)


def adam_preconditioned_sharpness(loss: Callable, params, args: tuple, etas, beta1=0.9, beta2=0.999,
                                  eps=1e-8, steps: int = 2000, record_every: int = 10, lanczos: int = 20,
                                  key=None) -> AdamEdgeRun:
    """Full-batch Adam (bias-corrected) from ``params`` once per learning rate in ``etas`` (vmap),
    measuring the preconditioned sharpness lam_max(P^-1 H), P = sqrt(v_hat) + eps, every
    ``record_every`` steps (Lanczos on Hessian-vector products, inside the compiled scan).

    ``loss(params, *args)`` is a static argument: pass a module-level function. ``steps`` must be a
    multiple of ``record_every``.
    """
    etas = np.atleast_1d(np.asarray(etas, dtype=float))
    _check_positive("etas", etas)
    _check_unit_interval("beta1", beta1)
    _check_unit_interval("beta2", beta2)
    if not np.isfinite(eps) or eps < 0:
        raise ValueError(f"eps must be finite and >= 0, got {eps!r}")
    steps = _check_steps(steps)
    for name, v in (("record_every", record_every), ("lanczos", lanczos)):
        if isinstance(v, bool) or int(v) != v or v < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
    if steps % record_every:
        raise ValueError(f"record_every must divide steps, got record_every={record_every}, steps={steps}")
    dtype = jnp.result_type(float)
    key = jax.random.key(0) if key is None else key
    losses, tops = _adam_edge(loss, params, tuple(args), jnp.asarray(etas, dtype), jnp.asarray(beta1, dtype),
                              jnp.asarray(beta2, dtype), jnp.asarray(eps, dtype), key, steps=steps,
                              record_every=int(record_every), lanczos=int(lanczos))
    diverged = ~jnp.all(jnp.isfinite(losses), axis=1)
    return AdamEdgeRun(losses, tops, np.arange(record_every, steps + 1, record_every), diverged)


# --- learning-rate schedules on the noisy quadratic model ------------------------------------------
def learning_rate_schedule(kind: str, base_lr: float, steps: int, *, decay_step: int | None = None,
                           factor: float = 0.1, warmup: int = 0) -> np.ndarray:
    """The step size of each of ``steps`` steps.

    ``constant``; ``step`` (``base_lr`` until ``decay_step``, then ``factor * base_lr``);
    ``warmup`` (linear from ``base_lr / warmup`` to ``base_lr`` over the first ``warmup`` steps,
    then constant); ``cosine`` (``base_lr (1 + cos(pi t / steps)) / 2``, after an optional
    linear warm-up of ``warmup`` steps).
    """
    _check_positive("base_lr", base_lr)
    steps = _check_steps(steps)
    t = np.arange(steps, dtype=float)
    if kind == "constant":
        return np.full(steps, float(base_lr))
    if kind == "step":
        if decay_step is None or not 0 <= decay_step <= steps:
            raise ValueError(f"decay_step must be in [0, steps = {steps}], got {decay_step!r}")
        if not 0 < factor < 1:
            raise ValueError(f"factor must be in (0, 1), got {factor!r}")
        return np.where(t < decay_step, base_lr, factor * base_lr)
    if kind in ("warmup", "cosine"):
        if isinstance(warmup, bool) or int(warmup) != warmup or not 0 <= warmup < steps:
            raise ValueError(f"warmup must be an integer in [0, steps = {steps}), got {warmup!r}")
        ramp = np.minimum((t + 1) / max(warmup, 1), 1.0) if warmup else np.ones(steps)
        if kind == "warmup":
            return base_lr * ramp
        return base_lr * ramp * 0.5 * (1 + np.cos(np.pi * t / steps))
    raise ValueError(f"kind = {kind!r} is unknown; valid: ('constant', 'step', 'warmup', 'cosine')")


class ScheduledRun(NamedTuple):
    """Per schedule: chain-mean loss at t = 0..T and its standard error; each chain's final loss."""

    loss_mean: jax.Array  # (schedules, T + 1)
    loss_sem: jax.Array  # (schedules, T + 1)
    final_losses: jax.Array  # (schedules, chains)


@functools.partial(jax.jit, static_argnames=("chains",))
def _nqm_scheduled(key, h, c, theta0, batch, schedules, momentum, chains):
    noise_scale = jnp.sqrt(c / batch)

    def step(state, inputs):
        theta, previous = state  # (schedules, chains, dims)
        lr, t = inputs  # lr: (schedules,)
        # One draw per step, shared by every schedule (common random numbers).
        z = jax.random.normal(jax.random.fold_in(key, t), theta.shape[1:], theta.dtype)
        new = theta - lr[:, None, None] * (h * theta + noise_scale * z) + momentum * (theta - previous)
        loss = 0.5 * jnp.sum(h * new**2, axis=-1)  # (schedules, chains)
        return (new, theta), (jnp.mean(loss, axis=1), jnp.std(loss, axis=1, ddof=1) / np.sqrt(chains), loss)

    start = jnp.broadcast_to(theta0, (schedules.shape[0], chains, h.shape[0]))
    _, (mean, sem, losses) = jax.lax.scan(step, (start, start), (schedules.T, jnp.arange(schedules.shape[1])))
    initial = jnp.full((schedules.shape[0], 1), 0.5 * jnp.sum(h * theta0**2))
    return (jnp.concatenate([initial, mean.T], axis=1),
            jnp.concatenate([jnp.zeros_like(initial), sem.T], axis=1), losses[-1])


def nqm_scheduled_sgd(key, h, c, theta0, batch, lrs, momentum=0.0, *, chains: int) -> ScheduledRun:
    """Monte Carlo heavy-ball SGD on the NQM (``L = sum_i h_i theta_i^2 / 2``, gradient
    ``h theta + sqrt(c / batch) z``) with step size ``lrs[..., t]`` at step t.

    ``lrs``: (T,) or (schedules, T); all schedules share the noise (common random numbers), so
    differences between schedules are measured more precisely than each loss.
    """
    hv = jnp.atleast_1d(jnp.asarray(h, jnp.result_type(float)))
    if hv.ndim != 1 or not bool(jnp.all(hv > 0)):
        raise ValueError(f"h must be a 1-D array of curvatures > 0, got {h!r}")
    cv = jnp.broadcast_to(jnp.asarray(c, hv.dtype), hv.shape)
    if not bool(jnp.all(cv >= 0)):
        raise ValueError(f"c must be >= 0, got {c!r}")
    if not float(batch) >= 1:
        raise ValueError(f"batch must be >= 1, got {batch!r}")
    _check_unit_interval("momentum", momentum)
    schedules = jnp.atleast_2d(jnp.asarray(lrs, hv.dtype))
    if schedules.ndim != 2 or not bool(jnp.all(jnp.isfinite(schedules) & (schedules >= 0))):
        raise ValueError("lrs must be (T,) or (schedules, T), finite and >= 0")
    if isinstance(chains, bool) or int(chains) != chains or chains < 2:
        raise ValueError(f"chains must be an integer >= 2, got {chains!r}")
    th = jnp.broadcast_to(jnp.asarray(theta0, hv.dtype), hv.shape)
    return ScheduledRun(*_nqm_scheduled(key, hv, cv, th, jnp.asarray(batch, hv.dtype), schedules,
                                        jnp.asarray(momentum, hv.dtype), chains=int(chains)))
