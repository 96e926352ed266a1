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

__all__ = ["BudgetOptimum", "chinchilla_law", "kaplan_law", "minimise_on_budget", "synthetic_runs",
           "FeatureModels", "random_feature_models", "full_feature_model", "RiskCurve", "expected_sgd_risk",
           "expected_sgd_floor", "SampledRisk", "sampled_sgd_risk", "steps_to_target"]

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


# --- a solvable model: random features on a power-law spectrum, one-pass SGD ------------------
#
# Inputs x in R^dim are Gaussian with covariance diag(spectrum), spectrum_k = k^-decay; the
# target is y = <w, x> with a Gaussian prior on w, E[spectrum_k w_k^2] = k^-target_decay. A model
# with M features sees z = S x, S an M x dim matrix of i.i.d. N(0, 1/M) entries, predicts <v, z>
# and is trained by one-pass SGD from v = 0. (z, y) are jointly Gaussian, so y = <v*, z> + r with
# r independent of z (v* the best predictor, E r^2 its risk): SGD on z is linear regression with
# covariance K = S diag(spectrum) S^T and label noise E r^2. In the eigenbasis of K (eigenvalues
# kappa_i) the diagonal second moments p_i of v - v* obey, exactly for Gaussian z and batch B,
#   p_i <- p_i (1 - 2 lr kappa_i + lr^2 kappa_i^2 (1 + 1/B)) + lr^2 kappa_i / B (sum_j kappa_j p_j + E r^2)
# (E[z z^T P z z^T] = 2 K P K + tr(K P) K), and the expected risk is E r^2 + sum_i kappa_i p_i.
# Everything is averaged over the prior of w exactly (the recursion is linear in p and E r^2).


class FeatureModels(NamedTuple):
    """Random-feature models of several widths, each in the eigenbasis of its feature covariance.

    Leading axes (seeds, ...) are allowed; the last axis is padded to the largest width with
    zero curvature (a direction SGD never moves).
    """

    curvature: jax.Array  # (..., sizes, width) eigenvalues kappa_i of K = S diag(spectrum) S^T
    signal: jax.Array  # (..., sizes, width) prior mean of (v*_i)^2 in that eigenbasis
    approximation: jax.Array  # (..., sizes) prior mean of the best M-feature risk E r^2
    features: tuple[int, ...]


def _check_exponents(decay, target_decay) -> None:
    if not (np.isfinite(decay) and decay > 1):
        raise ValueError(f"decay = {decay!r} must be finite and > 1 (a summable spectrum)")
    if not (np.isfinite(target_decay) and target_decay > 1):
        raise ValueError(f"target_decay = {target_decay!r} must be finite and > 1 (a finite-risk target)")


@functools.partial(jax.jit, static_argnames=("features", "dim"))
def _feature_models(key, decay, target_decay, features, dim):
    k = jnp.arange(1, dim + 1, dtype=jnp.result_type(float))
    spectrum, signal = k ** (-decay), k ** (-target_decay)  # signal_k = E[spectrum_k w_k^2]
    widest = max(features)
    f = jax.random.normal(key, (widest, dim), spectrum.dtype) * jnp.sqrt(spectrum)
    gram = f @ f.T  # M_max K, for a sketch with N(0, 1) entries
    cross = (f * signal) @ f.T  # M_max E[b b^T], b = E[z y] = S diag(spectrum) w

    def one(m):  # the width-m model uses the first m rows of the sketch, rescaled by 1/sqrt(m)
        live = jnp.arange(widest) < m
        both = live[:, None] & live[None, :]
        # Rows beyond m are cut off with eigenvalue -1 (K is positive semi-definite, so they never mix).
        kappa, q = jnp.linalg.eigh(jnp.where(both, gram / m, 0.0) - jnp.diag(jnp.where(live, 0.0, 1.0)))
        used = kappa > -0.5
        kappa = jnp.where(used, jnp.maximum(kappa, jnp.finfo(kappa.dtype).tiny), 0.0)
        projected = jnp.einsum("ji,jk,ki->i", q, jnp.where(both, cross / m, 0.0), q)  # diag(Q^T E[bb^T] Q)
        safe = jnp.where(used, kappa, 1.0)
        second = jnp.where(used, projected / safe**2, 0.0)  # v* = K^-1 b
        return kappa, second, jnp.sum(signal) - jnp.sum(jnp.where(used, projected / safe, 0.0))

    return jax.vmap(one)(jnp.asarray(features))


def random_feature_models(key, features, dim: int, decay: float, target_decay: float,
                          seeds: int = 1) -> FeatureModels:
    """Sketched models of widths ``features`` (nested: one sketch per seed), ``vmap`` over seeds.

    ``dim`` input coordinates with spectrum ``k^-decay`` and target signal ``k^-target_decay``
    (prior mean of ``spectrum_k w_k^2``). Cost ``seeds * max(features)^2 * dim``.
    """
    features = tuple(int(m) for m in features)
    _check_exponents(decay, target_decay)
    if not features or min(features) < 1 or max(features) > int(dim):
        raise ValueError(f"features = {features} must be widths in [1, dim = {dim}]")
    keys = jax.random.split(key, int(seeds))
    curvature, signal, approximation = jax.vmap(
        lambda k: _feature_models(k, float(decay), float(target_decay), features, int(dim)))(keys)
    return FeatureModels(curvature, signal, approximation, features)


def full_feature_model(dim: int, decay: float, target_decay: float) -> FeatureModels:
    """The model that sees every input coordinate (no sketch: the limit M -> oo at this ``dim``)."""
    _check_exponents(decay, target_decay)
    k = jnp.arange(1, int(dim) + 1, dtype=jnp.result_type(float))
    zero = jnp.zeros((), k.dtype)
    return FeatureModels(k[None] ** (-decay), k[None] ** (decay - target_decay), zero[None], (int(dim),))


def _lr(models: FeatureModels, lr):
    """The step size lr / tr K (per model): ``lr`` is in units of 1 / tr(feature covariance)."""
    return lr / jnp.sum(models.curvature, axis=-1)


@functools.partial(jax.jit, static_argnames=("steps",))
def _expected_risk(curvature, signal, approximation, step, inv_batch, steps):
    step = step[..., None]
    shrink = 1 - 2 * step * curvature + step**2 * curvature**2 * (1 + inv_batch)
    feed = step**2 * inv_batch * curvature

    def one(p, _):
        p = p * shrink + feed * (jnp.sum(curvature * p, -1, keepdims=True) + approximation[..., None])
        return p, approximation + jnp.sum(curvature * p, -1)

    _, risks = jax.lax.scan(one, signal, None, length=steps)
    start = approximation + jnp.sum(curvature * signal, -1)
    return jnp.concatenate([start[None], risks])


class RiskCurve(NamedTuple):
    """Expected risk after each step (``risk[t]``, t = 0..steps) and the step size used."""

    risk: jax.Array  # (steps + 1, ...) over the leading axes of the models
    step: jax.Array  # lr / tr K per model
    diverged: jax.Array  # the risk grew past its start, or is not finite


def expected_sgd_risk(models: FeatureModels, lr, steps: int, batch=1) -> RiskCurve:
    """The expected risk of one-pass SGD (batch ``batch``, step ``lr / tr K``), step by step.

    Exact for the Gaussian model above, averaged over the prior of the target; one
    ``lax.scan`` over steps, vectorised over every leading axis of ``models`` (``lr`` and
    ``batch`` broadcast against ``models.approximation``; ``batch = inf`` is gradient descent
    on the population risk).
    """
    lr = jnp.asarray(lr, jnp.result_type(float))
    batch = jnp.asarray(batch, lr.dtype)
    _check_positive("lr", lr)
    if np.any(np.isnan(np.asarray(batch)) | (np.asarray(batch) <= 0)):  # on the host: no compilation
        raise ValueError(f"batch must be > 0 (inf for full-batch gradient descent), got {batch!r}")
    if int(steps) < 1:
        raise ValueError(f"steps = {steps!r} must be >= 1")
    inv_batch = 1 / batch
    shape = jnp.broadcast_shapes(lr.shape, inv_batch.shape, models.approximation.shape)
    width = models.curvature.shape[-1]
    curvature = jnp.broadcast_to(models.curvature, (*shape, width))
    step = jnp.broadcast_to(lr, shape) / jnp.sum(curvature, axis=-1)
    risk = _expected_risk(curvature, jnp.broadcast_to(models.signal, (*shape, width)),
                          jnp.broadcast_to(models.approximation, shape), step,
                          jnp.broadcast_to(inv_batch, shape)[..., None], int(steps))
    return RiskCurve(risk, step, _diverged(risk))


@jax.jit
def _diverged(risk):
    """The risk grew past its start, or is not finite (one program, not one per operation)."""
    return ~jnp.all(jnp.isfinite(risk), axis=0) | (risk[-1] > risk[0])


@jax.jit
def _floor(curvature, approximation, lr, inv_batch):
    step = (lr / jnp.sum(curvature, axis=-1))[..., None]
    gap = step * curvature * (2 - step * curvature * (1 + inv_batch))  # 1 - a_i
    live = curvature > 0
    q = jnp.sum(jnp.where(live, step**2 * inv_batch * curvature**2 / jnp.where(live, gap, 1.0), 0.0), -1)
    stable = (q < 1) & jnp.all(~live | (gap > 0), -1)
    return jnp.where(stable, approximation / (1 - q), jnp.inf)


def expected_sgd_floor(models: FeatureModels, lr, batch=1) -> jax.Array:
    """The risk SGD settles at after infinitely many steps (the fixed point of the recursion).

    With ``a_i = 1 - 2 s kappa_i + s^2 kappa_i^2 (1 + 1/B)`` and ``s = lr / tr K``, the fixed
    point has ``sum_i kappa_i p_i = q (sum_i kappa_i p_i + E r^2)``,
    ``q = (s^2 / B) sum_i kappa_i^2 / (1 - a_i)``, so the floor is ``E r^2 / (1 - q)``
    (``inf`` where ``q >= 1`` or some ``a_i >= 1``: SGD does not settle).
    """
    lr = jnp.asarray(lr, jnp.result_type(float))
    _check_positive("lr", lr)
    return _floor(models.curvature, models.approximation, lr, 1 / jnp.asarray(batch, lr.dtype))


class SampledRisk(NamedTuple):
    """Risk of SGD runs on sampled data at ``checkpoints``: ``risk[c, run]`` (exact population risk)."""

    risk: jax.Array
    checkpoints: tuple[int, ...]


@functools.partial(jax.jit, static_argnames=("width", "dim", "steps", "batch", "runs"))
def _sampled(key, sketch_key, decay, target_decay, lr, width, dim, steps, batch, runs):
    k = jnp.arange(1, dim + 1, dtype=jnp.result_type(float))
    spectrum = k ** (-decay)
    sketch = jax.random.split(sketch_key, 1)[0]  # the key random_feature_models gives seed 0
    s = jax.random.normal(sketch, (width, dim), spectrum.dtype) / jnp.sqrt(width)
    step = lr / jnp.sum(s**2 * spectrum)  # lr / tr(S diag(spectrum) S^T)
    key_w, key_x = jax.random.split(key)
    w = jax.random.normal(key_w, (runs, dim), spectrum.dtype) * k ** ((decay - target_decay) / 2)
    xs = jax.random.normal(key_x, (steps, runs, batch, dim), spectrum.dtype) * jnp.sqrt(spectrum)

    def one(v, x):  # v: (runs, width); x: (runs, batch, dim), every run at once
        z = x @ s.T
        residual = jnp.einsum("rbd,rd->rb", x, w) - jnp.einsum("rbw,rw->rb", z, v)
        v = v + step / batch * jnp.einsum("rbw,rb->rw", z, residual)
        gap = v @ s - w
        return v, jnp.sum(spectrum * gap**2, axis=-1)

    _, risk = jax.lax.scan(one, jnp.zeros((runs, width), spectrum.dtype), xs)
    return risk.T  # (runs, steps)


def sampled_sgd_risk(key, sketch_key, width: int, dim: int, decay: float, target_decay: float, lr: float,
                     steps: int, runs: int, batch: int = 1, checkpoints=None) -> SampledRisk:
    """One-pass SGD on freshly sampled Gaussian data, in the input coordinates (no eigenbasis).

    The sketch is the one ``random_feature_models(sketch_key, (width,), dim, ..., seeds=1)``
    builds; each run draws its own target ``w`` from the prior and its own data, so the mean
    over runs estimates the expected risk of :func:`expected_sgd_risk` for that sketch. Cost
    ``runs * steps * batch * width * dim``.
    """
    _check_exponents(decay, target_decay)
    _check_positive("lr", lr)
    if min(int(width), int(dim), int(steps), int(runs), int(batch)) < 1 or width > dim:
        raise ValueError(f"width, dim, steps, runs, batch must be >= 1 and width <= dim, got "
                         f"{width}, {dim}, {steps}, {runs}, {batch}")
    risk = _sampled(key, sketch_key, float(decay), float(target_decay), float(lr), int(width), int(dim),
                    int(steps), int(batch), int(runs))
    checkpoints = tuple(range(1, int(steps) + 1)) if checkpoints is None else tuple(int(c) for c in checkpoints)
    return SampledRisk(_at_steps(risk, np.asarray(checkpoints) - 1), checkpoints)


@jax.jit
def _at_steps(risk, index):
    """``risk[:, index].T`` in one program (not one per operation)."""
    return risk[:, index].T


def steps_to_target(risk, target) -> np.ndarray:
    """The first (fractional) step at which ``risk[t, ...]`` falls to ``target``, per trailing index.

    Linear interpolation of log risk between the two steps that bracket the crossing;
    ``inf`` where the curve never gets there (or is not finite).
    """
    risk = np.asarray(risk, dtype=float)
    if not np.isfinite(target) or target <= 0:
        raise ValueError(f"target = {target!r} must be finite and > 0")
    below = np.isfinite(risk) & (risk <= target)
    reached = below.any(axis=0)
    first = np.where(reached, below.argmax(axis=0), 0)
    index = np.indices(first.shape)
    before = np.log(risk[(np.maximum(first - 1, 0), *index)])
    after = np.log(risk[(first, *index)])
    with np.errstate(divide="ignore", invalid="ignore"):
        fraction = np.where(first > 0, (before - np.log(target)) / (before - after), 0.0)
    return np.where(reached, np.maximum(first - 1, 0) + np.where(first > 0, fraction, 0.0), np.inf)
