"""Gradient noise run directly: constant-SGD chains on a quadratic, Langevin chains, iterate averaging.

Independent of ``analytic``: nothing here knows a closed form. Every chain is a
``lax.scan`` over steps, ``vmap``-ed over independent chains (and learning rates), in the
dtype of its inputs (float64 under the CLI and the tests).

* :func:`sgd_chains`: ``theta <- theta - lr (H theta + xi)``, ``xi ~ N(0, C / batch_size)``
  (a Cholesky factor of ``C`` times a standard normal), from ``theta = 0``, ``burn_in`` steps
  discarded, then each chain's time-averaged ``theta theta^T`` over ``steps`` steps. Chains
  are independent, so the spread of the per-chain averages gives a standard error that
  already accounts for the autocorrelation inside each chain (batch means, one batch per chain).
* :func:`sgd_second_moment`: the exact stationary ``E[theta theta^T]`` of the same chain by
  Smith's doubling iteration of ``Sigma <- A Sigma A^T + lr^2 C / batch_size``, ``A = I - lr H``
  (``Sigma_2n = Sigma_n + A^n Sigma_n A^n``): the sum ``sum_k A^k Q A^k`` to round-off.
* :func:`ou_kl_minimiser`: the learning rate minimising ``KL(N(0, Sigma_OU) || N(0, (N H)^-1))``
  where ``Sigma_OU`` solves ``H S + S H = (lr / batch_size) C`` by a Kronecker-product linear
  solve, minimised over ``log lr`` (scipy's bounded Brent search).
* :func:`langevin_chains`: ``theta <- theta - lr lam theta + sqrt(2 lr T) xi`` per curvature.
* :func:`averaged_sgd_chains` / :func:`averaged_second_moment`: the mean of ``t`` consecutive
  SGD iterates on one direction after burn-in, Monte Carlo and by iterating the exact joint
  moments of ``(theta_t, sum_{s<=t} theta_s)``.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import scipy.optimize

__all__ = ["ChainCovariances", "sgd_chains", "sgd_second_moment", "ou_kl_minimiser", "ChainVariances",
           "langevin_chains", "langevin_second_moment", "AveragedChains", "averaged_sgd_chains",
           "averaged_second_moment"]


def _matrix(name: str, value) -> jnp.ndarray:
    a = jnp.asarray(value, dtype=jnp.result_type(float))
    if a.ndim != 2 or a.shape[0] != a.shape[1] or not bool(jnp.all(jnp.isfinite(a))):
        raise ValueError(f"{name} must be a finite square matrix, got shape {a.shape}")
    return a


def _positive(name: str, value, *, integer: bool = False, minimum: float = 0.0):
    a = np.asarray(value, dtype=float)
    if not np.all(np.isfinite(a)) or np.any(a <= minimum if minimum == 0.0 else a < minimum) or \
            (integer and np.any(a != np.round(a))):
        kind = "integers" if integer else "numbers"
        bound = f">= {minimum:g}" if minimum else "> 0"
        raise ValueError(f"{name} must be finite {kind} {bound}, got {value!r}")
    return value


class ChainCovariances(NamedTuple):
    """Per learning rate: ``per_chain`` (lr, chains, d, d) time-averaged theta theta^T; ``mean`` and
    ``sem`` (lr, d, d) over chains (independent, so the SEM includes the within-chain autocorrelation)."""

    per_chain: jax.Array
    mean: jax.Array
    sem: jax.Array


@functools.partial(jax.jit, static_argnames=("chains", "steps", "burn_in"))
def _sgd_chains(key, hessian, factor, learning_rates, chains, steps, burn_in):
    d = hessian.shape[0]

    def one_chain(key, lr):
        def step(theta, k):
            xi = factor @ jax.random.normal(k, (d,), hessian.dtype)
            return theta - lr * (hessian @ theta + xi), None

        def measured(carry, k):
            theta, total = carry
            theta, _ = step(theta, k)
            return (theta, total + jnp.outer(theta, theta)), None

        keys = jax.random.split(key, burn_in + steps)
        theta, _ = jax.lax.scan(step, jnp.zeros(d, hessian.dtype), keys[:burn_in])
        (_, total), _ = jax.lax.scan(measured, (theta, jnp.zeros((d, d), hessian.dtype)), keys[burn_in:])
        return total / steps

    keys = jax.random.split(key, (learning_rates.shape[0], chains))
    return jax.vmap(lambda ks, lr: jax.vmap(one_chain, (0, None))(ks, lr))(keys, learning_rates)


def sgd_chains(key, hessian, noise_covariance, learning_rates, batch_size: float = 1.0, *, chains: int = 128,
               steps: int = 2000, burn_in: int = 500) -> ChainCovariances:
    """Constant SGD on 1/2 theta^T H theta with Gaussian gradient noise of covariance C / batch_size.

    Example:
        >>> import jax
        >>> from numeric import noise
        >>> run = noise.sgd_chains(jax.random.key(0), [[1.0]], [[1.0]], [0.5], chains=256, steps=400)
        >>> bool(abs(float(run.mean[0, 0, 0]) - 0.5 / 1.5) < 5 * float(run.sem[0, 0, 0]))
        True
    """
    h, c = _matrix("hessian", hessian), _matrix("noise_covariance", noise_covariance)
    if c.shape != h.shape:
        raise ValueError(f"noise_covariance must have the hessian's shape {h.shape}, got {c.shape}")
    _positive("batch_size", batch_size, minimum=1.0)
    for name, v in (("chains", chains), ("steps", steps), ("burn_in", burn_in)):
        _positive(name, v, integer=True) if name != "burn_in" or v else None
    lrs = jnp.atleast_1d(jnp.asarray(_positive("learning_rates", learning_rates), h.dtype))
    factor = jnp.linalg.cholesky(c) / jnp.sqrt(jnp.asarray(batch_size, h.dtype))
    if not bool(jnp.all(jnp.isfinite(factor))):
        raise ValueError("noise_covariance must be positive definite (its Cholesky factor failed)")
    per_chain = _sgd_chains(key, h, factor, lrs, int(chains), int(steps), int(burn_in))
    return ChainCovariances(per_chain, per_chain.mean(axis=1), per_chain.std(axis=1, ddof=1) / np.sqrt(chains))


@jax.jit
def _doubling(a, q):
    def body(_, carry):
        power, total = carry
        return power @ power, total + power @ total @ power.T

    return jax.lax.fori_loop(0, 64, body, (a, q))[1]  # sums A^k Q A^k^T for k < 2^64


def sgd_second_moment(hessian, noise_covariance, learning_rate: float, batch_size: float = 1.0) -> jax.Array:
    """The exact stationary E[theta theta^T] of constant SGD, by Smith's doubling iteration.

    Example:
        >>> from numeric import noise
        >>> float(noise.sgd_second_moment([[1.0]], [[1.0]], 0.5)[0, 0])   # 0.25 (1 + 0.25 + 0.0625 + ...)
        0.3333333333333333
    """
    h, c = _matrix("hessian", hessian), _matrix("noise_covariance", noise_covariance)
    _positive("learning_rate", learning_rate)
    _positive("batch_size", batch_size, minimum=1.0)
    a = jnp.eye(h.shape[0], dtype=h.dtype) - learning_rate * h
    if float(jnp.max(jnp.abs(jnp.linalg.eigvals(a)))) >= 1:
        raise ValueError(f"learning_rate {learning_rate!r} is unstable for this hessian (|1 - lr lam| >= 1)")
    return _doubling(a, learning_rate**2 * c / batch_size)


def ou_kl_minimiser(hessian, noise_covariance, batch_size: float, n_data: float) -> float:
    """argmin over lr of KL(N(0, Sigma_OU(lr)) || N(0, (n_data H)^-1)), Sigma_OU from a Kronecker solve."""
    h, c = np.asarray(_matrix("hessian", hessian)), np.asarray(_matrix("noise_covariance", noise_covariance))
    d = h.shape[0]
    lyapunov = np.kron(np.eye(d), h) + np.kron(h, np.eye(d))  # vec(H S + S H) = (I (x) H + H (x) I) vec S
    unit = np.linalg.solve(lyapunov, (c / batch_size).reshape(-1)).reshape(d, d)  # Sigma_OU at lr = 1
    precision = n_data * h

    def kl(log_lr):
        sigma = np.exp(log_lr) * unit
        m = precision @ sigma
        return 0.5 * (np.trace(m) - np.linalg.slogdet(m)[1] - d)

    res = scipy.optimize.minimize_scalar(kl, bounds=(-40.0, 20.0), method="bounded",
                                         options={"xatol": 1e-12})
    return float(np.exp(res.x))


class ChainVariances(NamedTuple):
    """Per (learning rate, curvature): per-chain time-averaged theta^2, their mean and standard error."""

    per_chain: jax.Array
    mean: jax.Array
    sem: jax.Array


@functools.partial(jax.jit, static_argnames=("chains", "steps", "burn_in"))
def _langevin(key, curvatures, learning_rates, temperature, chains, steps, burn_in):
    def one_chain(key, lr, lam):
        noise = jax.random.normal(key, (burn_in + steps,), curvatures.dtype) * jnp.sqrt(2 * lr * temperature)

        def step(theta, z):
            theta = theta - lr * lam * theta + z
            return theta, theta * theta

        _, squares = jax.lax.scan(step, jnp.zeros((), curvatures.dtype), noise)
        return squares[burn_in:].mean()

    keys = jax.random.split(key, (learning_rates.shape[0], curvatures.shape[0], chains))
    grid = jax.vmap(jax.vmap(jax.vmap(one_chain, (0, None, None)), (0, None, 0)), (0, 0, None))
    return grid(keys, learning_rates, curvatures)


def langevin_chains(key, curvatures, learning_rates, temperature: float = 1.0, *, chains: int = 64,
                    steps: int = 2000, burn_in: int = 500) -> ChainVariances:
    """Unadjusted Langevin chains on U = lam theta^2 / 2: per (lr, lam), the stationary E theta^2."""
    lams = jnp.atleast_1d(jnp.asarray(_positive("curvatures", curvatures), jnp.result_type(float)))
    lrs = jnp.atleast_1d(jnp.asarray(_positive("learning_rates", learning_rates), lams.dtype))
    _positive("temperature", temperature)
    per_chain = _langevin(key, lams, lrs, jnp.asarray(temperature, lams.dtype), int(chains), int(steps),
                          int(burn_in))
    return ChainVariances(per_chain, per_chain.mean(-1), per_chain.std(-1, ddof=1) / np.sqrt(chains))


def langevin_second_moment(curvature: float, learning_rate: float, temperature: float = 1.0) -> float:
    """The exact stationary E theta^2 of the Langevin chain: doubling on v <- r^2 v + 2 lr T."""
    _positive("curvature", curvature), _positive("learning_rate", learning_rate), _positive("temperature", temperature)
    r = 1.0 - learning_rate * curvature
    if abs(r) >= 1:
        raise ValueError(f"learning_rate {learning_rate!r} is unstable for curvature {curvature!r}")
    return float(_doubling(jnp.array([[r]]), jnp.array([[2.0 * learning_rate * temperature]]))[0, 0])


class AveragedChains(NamedTuple):
    """Per horizon t: the per-chain mean of t iterates after burn-in (horizons, chains), and each
    chain's last iterate (chains,)."""

    averages: jax.Array
    last: jax.Array


@functools.partial(jax.jit, static_argnames=("chains", "burn_in", "longest"))
def _averaged(key, curvature, lr, scale, horizons, chains, burn_in, longest):
    def one_chain(key):
        noise = jax.random.normal(key, (burn_in + longest,), curvature.dtype) * scale

        def step(theta, z):
            theta = theta - lr * (curvature * theta + z)
            return theta, theta

        _, path = jax.lax.scan(step, jnp.zeros((), curvature.dtype), noise)
        sums = jnp.cumsum(path[burn_in:])
        return sums[horizons - 1] / horizons, path[-1]

    return jax.vmap(one_chain)(jax.random.split(key, chains))


def averaged_sgd_chains(key, curvature: float, learning_rate: float, noise: float, horizons, batch_size: float = 1.0,
                        *, chains: int = 4096, burn_in: int = 500) -> AveragedChains:
    """SGD on one direction (gradient lam theta + xi, Var xi = noise / batch_size): averaged iterates."""
    for name, v in (("curvature", curvature), ("learning_rate", learning_rate), ("noise", noise)):
        _positive(name, v)
    _positive("batch_size", batch_size, minimum=1.0)
    ts = np.atleast_1d(np.asarray(_positive("horizons", horizons, integer=True), dtype=int))
    dtype = jnp.result_type(float)
    averages, last = _averaged(key, jnp.asarray(curvature, dtype), jnp.asarray(learning_rate, dtype),
                               jnp.asarray(np.sqrt(noise / batch_size), dtype), jnp.asarray(ts), int(chains),
                               int(burn_in), int(ts.max()))
    return AveragedChains(averages.T, last)


def averaged_second_moment(curvature: float, learning_rate: float, noise: float, horizon: int,
                           batch_size: float = 1.0, burn_in: int = 100_000) -> float:
    """Exact Var of the mean of ``horizon`` stationary SGD iterates, iterating the joint moments.

    State (E x^2, E x S, E S^2) of x_t and S_t = x_1 + ... + x_t, with x' = r x - lr xi, S' = S + x':
    E x'^2 = r^2 E x^2 + lr^2 q, E x' S' = r E x S + E x'^2, E S'^2 = E S^2 + 2 r E x S + E x'^2.
    """
    _positive("horizon", horizon, integer=True)
    r, q = 1.0 - learning_rate * curvature, noise / batch_size

    def warm(_, v):
        return r * r * v + learning_rate**2 * q

    v = jax.lax.fori_loop(0, burn_in, warm, jnp.asarray(0.0, jnp.result_type(float)))

    def step(_, state):
        xx, xs, ss = state
        nxx = r * r * xx + learning_rate**2 * q
        return nxx, r * xs + nxx, ss + 2 * r * xs + nxx

    _, _, ss = jax.lax.fori_loop(0, int(horizon), step, (v, jnp.zeros_like(v), jnp.zeros_like(v)))
    return float(ss / horizon**2)
