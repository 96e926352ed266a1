"""Scaling laws measured directly: brute-force compute-optimal allocation, synthetic runs.

Independent of ``analytic``: nothing here knows the closed-form frontier. A loss
law is a plain function ``loss(N, D)`` (the model statement, e.g.
``E + A N^-alpha + B D^-beta``); :func:`minimise_on_budget` finds the best split of
a compute budget ``C = 6 N D`` by searching ``log N`` on a grid and zooming in.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["BudgetOptimum", "chinchilla_law", "kaplan_law", "minimise_on_budget", "synthetic_runs"]

class Law(NamedTuple):
    """A loss law ``fn(N, D, *params)``: call it as ``law(N, D)``.

    ``fn`` is a module-level function, so jitted searches compile once per kind of
    law and reuse the compilation for new constants (``params`` are traced).
    """

    fn: Callable
    params: tuple

    def __call__(self, N, D):
        return self.fn(N, D, *self.params)


def _check_positive(name: str, value) -> None:
    v = np.asarray(value, dtype=float)
    if not np.all(np.isfinite(v)) or np.any(v <= 0):
        raise ValueError(f"{name} must be finite and > 0, got {value!r}")


def _chinchilla(N, D, E, A, B, alpha, beta):
    return E + A * N ** (-alpha) + B * D ** (-beta)


def _kaplan(N, D, N_c, D_c, alpha_N, alpha_D):
    return ((N_c / N) ** (alpha_N / alpha_D) + D_c / D) ** alpha_D


def chinchilla_law(E: float, A: float, B: float, alpha: float, beta: float) -> Law:
    """``loss(N, D) = E + A / N**alpha + B / D**beta`` (Hoffmann et al. 2022, eq. (2))."""
    for name, v in (("A", A), ("B", B), ("alpha", alpha), ("beta", beta)):
        _check_positive(name, v)
    if not np.isfinite(E) or E < 0:
        raise ValueError(f"E must be finite and >= 0, got {E!r}")
    return Law(_chinchilla, tuple(float(v) for v in (E, A, B, alpha, beta)))


def kaplan_law(N_c: float, D_c: float, alpha_N: float, alpha_D: float) -> Law:
    """``loss(N, D) = ((N_c / N)**(alpha_N / alpha_D) + D_c / D)**alpha_D`` (Kaplan et al. 2020, eq. (1.5))."""
    for name, v in (("N_c", N_c), ("D_c", D_c), ("alpha_N", alpha_N), ("alpha_D", alpha_D)):
        _check_positive(name, v)
    return Law(_kaplan, tuple(float(v) for v in (N_c, D_c, alpha_N, alpha_D)))


class BudgetOptimum(NamedTuple):
    """The best split found for each budget: parameters, tokens, loss, and the log-N bracket."""

    N: jax.Array
    D: jax.Array
    loss: jax.Array
    bracket: jax.Array  # final grid spacing in log N (the search's resolution)


@functools.partial(jax.jit, static_argnames=("fn", "points", "rounds"))
def _search_all(log_c6, fn, params, points: int, rounds: int):
    """:func:`_search` for each budget (``vmap``), in one compilation per kind of law."""
    return jax.vmap(lambda x: _search(x, fn, params, points, rounds))(log_c6)


def _search(log_c6, fn, params, points: int, rounds: int):
    def loss_at(log_n):
        return fn(jnp.exp(log_n), jnp.exp(log_c6 - log_n), *params)

    lo, hi = jnp.zeros_like(log_c6), log_c6  # 1 <= N <= C / 6 (at least one token)

    def zoom(carry, _):
        lo, hi = carry
        grid = lo + (hi - lo) * jnp.linspace(0.0, 1.0, points)
        i = jnp.argmin(loss_at(grid))
        step = (hi - lo) / (points - 1)
        centre = grid[i]
        return (jnp.maximum(lo, centre - 2 * step), jnp.minimum(hi, centre + 2 * step)), None

    (lo, hi), _ = jax.lax.scan(zoom, (lo, hi), None, length=rounds)
    log_n = (lo + hi) / 2
    return jnp.exp(log_n), jnp.exp(log_c6 - log_n), loss_at(log_n), hi - lo


def minimise_on_budget(law: Law, C, points: int = 401, rounds: int = 40) -> BudgetOptimum:
    """Minimise ``law(N, 6 N D = C)`` over N for each budget C, by brute force.

    A grid of ``points`` values of log N on [0, log(C/6)]; each of ``rounds`` rounds
    keeps the 4 grid cells around the best point and re-grids them, so the bracket
    shrinks ~100x per round until it reaches float64 resolution. The result is the
    minimiser of the law as evaluated in float64 (a unimodal law is assumed: a sum of
    power laws is convex in log N). ``C`` may be an array (``vmap`` over budgets).
    """
    C = jnp.asarray(C)
    _check_positive("C", C)
    if int(points) < 5 or int(rounds) < 1:
        raise ValueError(f"points must be >= 5 and rounds >= 1, got {points!r}, {rounds!r}")
    log_c6 = jnp.log(C / 6.0)
    flat = log_c6.reshape(-1)
    if not isinstance(law, Law):
        raise TypeError(f"law must be a numeric.scaling.Law (chinchilla_law, kaplan_law), got {law!r}")
    n, d, loss, bracket = _search_all(flat, law.fn, law.params, int(points), int(rounds))
    shape = log_c6.shape
    return BudgetOptimum(n.reshape(shape), d.reshape(shape), loss.reshape(shape), bracket.reshape(shape))


def synthetic_runs(key, N, D, law: Law, noise: float) -> jax.Array:
    """Losses of runs at ``(N[i], D[i])``: ``law(N, D) * exp(noise * z)``, z ~ N(0, 1) i.i.d.

    Multiplicative (log-normal) noise, the kind a Huber fit on log losses expects.
    """
    N, D = jnp.asarray(N), jnp.asarray(D)
    if N.shape != D.shape:
        raise ValueError(f"N and D must have one shape, got {N.shape} and {D.shape}")
    if not np.isfinite(noise) or noise < 0:
        raise ValueError(f"noise must be finite and >= 0, got {noise!r}")
    z = jax.random.normal(key, N.shape, jnp.result_type(float))
    return law(N, D) * jnp.exp(noise * z)


class StepGains(NamedTuple):
    """Monte Carlo one-step improvements ``L(theta) - L(theta - lr g_B)`` on a quadratic.

    ``mean[i, j]`` for batch ``batches[i]`` and learning rate ``lrs[j]``; ``groups[g, i, j]``
    the same over disjoint groups of samples (for standard errors of derived quantities).
    """

    mean: jax.Array
    groups: jax.Array
    batches: tuple[int, ...]
    lrs: jax.Array


@functools.partial(jax.jit, static_argnames=("largest", "samples"))
def _gains(key, hessian, theta, noise_root, lrs, batch, largest: int, samples: int):
    # One compilation for every batch size up to `largest`: draw `largest` per-example noises
    # and average the first `batch` of them.
    grad = hessian @ theta
    z = jax.random.normal(key, (samples, largest, theta.shape[0]), theta.dtype)
    used = (jnp.arange(largest) < batch).astype(theta.dtype)
    g = grad + (jnp.einsum("sbi,b->si", z, used) / batch) @ noise_root.T  # mean of `batch` gradients
    # L(theta) - L(theta - lr g) for the quadratic L = theta^T H theta / 2, expanded exactly in lr.
    linear = g @ grad  # g^T H theta
    quadratic = jnp.einsum("si,ij,sj->s", g, hessian, g)  # g^T H g
    return lrs[None, :] * linear[:, None] - 0.5 * lrs[None, :] ** 2 * quadratic[:, None]


def sgd_step_gains(key, hessian, theta, noise_root, batches, lrs, samples: int = 4000,
                   groups: int = 10) -> StepGains:
    """One SGD step on ``L = theta^T H theta / 2``, measured by Monte Carlo.

    Per-example gradients are ``H theta + noise_root @ z`` with ``z ~ N(0, I)`` (so
    their covariance is ``noise_root noise_root^T``); a batch averages ``B`` of them.
    Every learning rate in ``lrs`` is applied to the same sampled batches (common random
    numbers), so differences across ``lrs`` carry little Monte Carlo noise.
    """
    hessian, theta, noise_root = map(jnp.asarray, (hessian, theta, noise_root))
    d = theta.shape[0]
    if theta.ndim != 1 or hessian.shape != (d, d) or noise_root.shape[0] != d:
        raise ValueError(f"shapes do not match: hessian {hessian.shape}, theta {theta.shape}, "
                         f"noise_root {noise_root.shape}")
    lrs = jnp.asarray(lrs, theta.dtype)
    _check_positive("lrs", lrs)
    batches = tuple(int(b) for b in batches)
    if any(b < 1 for b in batches) or int(samples) < int(groups) or int(groups) < 2:
        raise ValueError(f"batches must be >= 1 and samples >= groups >= 2, got {batches}, "
                         f"{samples!r}, {groups!r}")
    per_group = int(samples) // int(groups)
    grouped = []
    for b in batches:
        gains = _gains(jax.random.fold_in(key, b), hessian, theta, noise_root, lrs,
                       jnp.asarray(b, theta.dtype), max(batches), per_group * int(groups))
        grouped.append(gains.reshape(int(groups), per_group, -1).mean(axis=1))
    groups_arr = jnp.stack(grouped, axis=1)  # (groups, batches, lrs)
    return StepGains(groups_arr.mean(axis=0), groups_arr, batches, lrs)
