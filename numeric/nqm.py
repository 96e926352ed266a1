"""Monte Carlo training on the noisy quadratic model: SGD, heavy-ball momentum, preconditioning.

Independent of ``analytic``: nothing here knows a closed form. The model (Zhang et
al. 2019, arXiv:1907.04164v2, sec. 3): loss ``L(theta) = 1/2 sum_i h_i theta_i^2``;
a mini-batch of size ``B`` returns the gradient ``h_i theta_i + sqrt(c_i / B) z_i``
with ``z ~ N(0, 1)`` fresh every step; the update is

    theta <- theta - lr * h^-power * g + momentum * (theta - theta_prev),

started at ``theta0`` with zero velocity. Many independent chains advance together
(``vmap``-friendly array of shape (chains, dims)); a hyperparameter sweep is a
``vmap`` over configurations, each with its own key. The loop is ``lax.scan``.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from numeric import sharding
from numeric._validation import pick_alias
from numeric.run_bound import RUN_BOUND

__all__ = [
    "power_law_spectrum", "LossCurves", "simulate_sweep", "SteadyState", "steady_state_loss",
    "first_crossing",
]


def power_law_spectrum(dim: int, exponent: float = 1.0, dtype=None) -> np.ndarray:
    """Curvatures ``h_i = i**-exponent``, i = 1..dim (the paper: exponent 1, ``c_i = h_i``)."""
    if int(dim) < 1:
        raise ValueError(f"dim must be >= 1, got {dim!r}")
    return np.arange(1, int(dim) + 1, dtype=dtype or float) ** (-float(exponent))


class LossCurves(NamedTuple):
    """Per configuration: loss averaged over chains at t = 0..steps, its standard error, divergence."""

    loss_mean: np.ndarray  # (configs, steps + 1)
    loss_sem: np.ndarray  # (configs, steps + 1): chain standard deviation / sqrt(chains)
    diverged: np.ndarray  # (configs,) bool: non-finite or final loss above 1e6 x initial
    growth_rate: np.ndarray  # (configs,) per-step factor of the mean loss over its last finite stretch


def _check_inputs(h, c, theta0, batch, lr, momentum, power):
    hv = jnp.asarray(h)
    if hv.ndim != 1 or hv.shape[0] < 1:
        raise ValueError(f"h must be a non-empty 1-D array, got shape {hv.shape}")
    if not jnp.issubdtype(hv.dtype, jnp.inexact):
        hv = hv.astype(jnp.result_type(float))
    cv = jnp.broadcast_to(jnp.asarray(c, hv.dtype), hv.shape)
    th = jnp.broadcast_to(jnp.asarray(theta0, hv.dtype), hv.shape)
    checks = (
        ("h", hv, lambda v: v > 0, "(0, oo)"), ("c", cv, lambda v: v >= 0, "[0, oo)"),
        ("theta0", th, lambda v: np.ones_like(v, bool), "the finite reals"),
        ("B", batch, lambda v: v >= 1, "[1, oo)"), ("lr", lr, lambda v: v > 0, "(0, oo)"),
        ("momentum", momentum, lambda v: (v >= 0) & (v < 1), "[0, 1)"),
        ("power", power, lambda v: np.ones_like(v, bool), "the finite reals"),
    )
    for name, value, ok, valid in checks:
        v = np.asarray(value, dtype=float)
        bad = ~np.isfinite(v) | ~ok(v)
        if bad.any():
            raise ValueError(f"{name} = {v[bad].flat[0]!r} is outside its valid range {valid}")
    return hv, cv, th


def _advance(theta, theta_prev, z, h, c, batch, lr, momentum, power):
    gradient = h * theta + jnp.sqrt(c / batch) * z
    return theta - lr * h ** (-power) * gradient + momentum * (theta - theta_prev)


# Steps per compiled chunk: a run of any length is a loop of one program (one compilation for
# every run length), at most CHUNK - 1 steps computed beyond the end and dropped.
CHUNK = 64


@functools.partial(jax.jit, static_argnames=("chunk", "mesh"), compiler_options=RUN_BOUND)
def _curves_chunk(keys, h, c, batch, lr, momentum, power, theta, theta_prev, t0, chunk, mesh=None):
    """Steps t0 + 1 .. t0 + chunk of every configuration: the new states and per-step loss mean / SE."""
    chains = theta.shape[1]

    def one(key, b, a, m, theta, theta_prev):
        def step(state, t):
            theta, theta_prev = state
            z = jax.random.normal(jax.random.fold_in(key, t), theta.shape, theta.dtype)
            new = sharding.constrain_batch(_advance(theta, theta_prev, z, h, c, b, a, m, power), mesh)
            loss = 0.5 * jnp.sum(h * new**2, axis=-1)
            return (new, theta), (jnp.mean(loss), jnp.std(loss, ddof=1) / np.sqrt(chains))

        start = (sharding.constrain_batch(theta, mesh), sharding.constrain_batch(theta_prev, mesh))
        return jax.lax.scan(step, start, t0 + jnp.arange(chunk))

    return jax.vmap(one)(keys, batch, lr, momentum, theta, theta_prev)


def _summaries(mean: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Divergence flag and per-step growth factor of each mean loss curve (host-side numpy)."""
    finite = np.isfinite(mean)
    last = np.max(np.where(finite, np.arange(mean.shape[1]), 0), axis=1)
    last_loss = np.take_along_axis(mean, last[:, None], axis=1)[:, 0]
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        growth = np.where(last > 0, (last_loss / mean[:, 0]) ** (1.0 / np.maximum(last, 1)), np.nan)
        diverged = ~np.all(finite, axis=1) | (mean[:, -1] > 1e6 * mean[:, 0])
    return diverged, growth


def simulate_sweep(key, h, c, theta0, batch_sizes, lrs, momenta, power=0.0, *, steps: int,
                   chains: int, mesh=None) -> LossCurves:
    """Loss curves of ``chains`` independent runs for each configuration (``vmap``).

    ``batch_sizes``, ``lrs``, ``momenta``: 1-D, broadcast to one length (the
    configurations); ``power``: preconditioning power (scalar); ``h``, ``c``,
    ``theta0``: the spectrum. Bad values raise ``ValueError`` naming the parameter.
    Divergence is a result: ``diverged`` and the measured per-step ``growth_rate``.
    ``mesh`` (a ``jax.sharding.Mesh`` or a device count; None: one device) splits the chains
    over devices (``numeric.sharding.constrain_batch``; ``chains`` a multiple of the device
    count); the noise drawn is the same whatever the device count. The run advances in
    chunks of :data:`CHUNK` steps of one compiled program (step t's noise is keyed on t, so
    the chunking changes no value).
    """
    if int(steps) < 1 or int(chains) < 2:
        raise ValueError(f"need steps >= 1 and chains >= 2, got steps={steps!r}, chains={chains!r}")
    batch, lr, mom = np.broadcast_arrays(*(np.atleast_1d(np.asarray(v, float))
                                           for v in (batch_sizes, lrs, momenta)))
    hv, cv, th = _check_inputs(h, c, theta0, batch, lr, mom, power)
    keys = jax.random.split(key, batch.shape[0])
    dt = hv.dtype
    mesh = _chain_mesh(mesh, chains)
    steps, chunk = int(steps), min(CHUNK, int(steps))
    theta = np.broadcast_to(np.asarray(th), (batch.shape[0], int(chains), hv.shape[0]))
    state, means, sems = (theta, theta), [], []
    args = (keys, hv, cv, jnp.asarray(batch, dt), jnp.asarray(lr, dt), jnp.asarray(mom, dt),
            jnp.asarray(power, dt))
    for t0 in range(0, steps, chunk):
        state, (mean, sem) = _curves_chunk(*args, *state, np.int32(t0), chunk, mesh)
        means.append(mean)
        sems.append(sem)
    initial = 0.5 * np.sum(np.asarray(hv) * np.asarray(th) ** 2)
    mean = np.concatenate([np.full((batch.shape[0], 1), initial)] + [np.asarray(m) for m in means],
                          axis=1)[:, :steps + 1]
    sem = np.concatenate([np.zeros((batch.shape[0], 1))] + [np.asarray(s) for s in sems],
                         axis=1)[:, :steps + 1]
    return LossCurves(mean, sem, *_summaries(mean))


class SteadyState(NamedTuple):
    """Per dimension: time-averaged loss 1/2 h theta^2 after burn-in, and its standard error."""

    loss_mean: jax.Array  # (dims,)
    loss_sem: jax.Array  # (dims,): across chains of each chain's time average


@functools.partial(jax.jit, static_argnames=("burn_in", "steps", "chains", "mesh"), compiler_options=RUN_BOUND)
def _steady(key, h, c, batch, lr, momentum, power, theta0, burn_in, steps, chains, mesh=None):
    def step(state, t):
        theta, theta_prev, total = state
        z = jax.random.normal(jax.random.fold_in(key, t), theta.shape, theta.dtype)
        new = sharding.constrain_batch(_advance(theta, theta_prev, z, h, c, batch, lr, momentum, power), mesh)
        total = total + jnp.where(t >= burn_in, 0.5 * h * new**2, 0.0)
        return (new, theta, total), None

    start = sharding.constrain_batch(jnp.broadcast_to(theta0, (chains, h.shape[0])), mesh)
    (_, _, total), _ = jax.lax.scan(step, (start, start, jnp.zeros_like(start)),
                                    jnp.arange(burn_in + steps))
    per_chain = total / steps
    return jnp.mean(per_chain, axis=0), jnp.std(per_chain, axis=0, ddof=1) / np.sqrt(chains)


def steady_state_loss(key, h, c, batch_size, lr=None, momentum=0.0, power=0.0, theta0=0.0, *,
                      burn_in: int, steps: int, chains: int, mesh=None, learning_rate=None) -> SteadyState:
    """Per-dimension loss averaged over ``steps`` steps after ``burn_in``, over ``chains`` chains
    (``mesh``: the chains split over devices, as in :func:`simulate_sweep`). The learning rate
    is ``learning_rate=`` (the glossary's name) or ``lr``, its older spelling."""
    lr = pick_alias("steady_state_loss", "learning_rate", learning_rate, "lr", lr)
    if int(burn_in) < 0 or int(steps) < 1 or int(chains) < 2:
        raise ValueError(f"need burn_in >= 0, steps >= 1, chains >= 2; got {burn_in}, {steps}, {chains}")
    hv, cv, th = _check_inputs(h, c, theta0, batch_size, lr, momentum, power)
    dt = hv.dtype
    mean, sem = _steady(key, hv, cv, jnp.asarray(batch_size, dt), jnp.asarray(lr, dt),
                        jnp.asarray(momentum, dt), jnp.asarray(power, dt), th,
                        int(burn_in), int(steps), int(chains), _chain_mesh(mesh, chains))
    return SteadyState(mean, sem)


def _chain_mesh(mesh, chains):
    """The mesh (or None), checking that the chains split evenly over its devices."""
    mesh = sharding.resolve_mesh(mesh)
    if mesh is not None and int(chains) % mesh.size:
        raise ValueError(f"chains = {chains} is not a multiple of the {mesh.size} devices of mesh "
                         f"(valid: multiples of {mesh.size})")
    return mesh


def first_crossing(curve, target) -> float:
    """First index t with ``curve[t] <= target`` (inf if none); NaN entries never count."""
    below = np.nonzero(np.asarray(curve) <= target)[0]
    return float(below[0]) if below.size else float("inf")
