"""Gradient noise run directly: constant-SGD chains on a quadratic, Langevin chains, iterate averaging.

Independent of ``analytic``: nothing here knows a closed form. Every chain is a
``lax.scan`` over steps, ``vmap``-ed over independent chains (and learning rates), in the
dtype of its inputs (float64 under the CLI and the tests).

All chains run through one kernel, ``theta <- A theta + F z`` with ``z ~ N(0, I)`` drawn
for the whole batch of chains at each step (one ``lax.scan`` over steps, the chains an
array axis), so that a check compiles one small program per shape.

* :func:`sgd_chains`: ``theta <- theta - lr (H theta + xi)``, ``xi ~ N(0, C / batch_size)``
  (a Cholesky factor of ``C`` times a standard normal), from ``theta = 0``, ``burn_in`` steps
  discarded, then each chain's time-averaged ``theta theta^T`` over ``steps`` steps. Chains
  are independent, so the spread of the per-chain averages gives a standard error that
  already accounts for the autocorrelation inside each chain (batch means, one batch per chain).
* :func:`sgd_second_moment`: the exact stationary ``E[theta theta^T]`` of the same chain by
  Smith's doubling iteration (numpy) of ``Sigma <- A Sigma A^T + lr^2 C / batch_size``, ``A = I - lr H``
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


@functools.partial(jax.jit, static_argnames=("steps", "burn_in"))
def _linear_chains(key, transition, factor, horizons, steps, burn_in):
    """Chains theta <- A_b theta + F_b z from 0: per chain b the mean of theta theta^T over the
    ``steps`` steps after ``burn_in``, the mean of the first ``horizons[k]`` of those iterates, the last."""
    batch, d = transition.shape[0], transition.shape[-1]
    dtype = transition.dtype

    def step(carry, t):
        theta, outer, sums = carry
        z = jax.random.normal(jax.random.fold_in(key, t), (batch, d), dtype)
        theta = jnp.einsum("bij,bj->bi", transition, theta) + jnp.einsum("bij,bj->bi", factor, z)
        after = t >= burn_in
        outer = outer + jnp.where(after, theta[:, :, None] * theta[:, None, :], 0.0)
        within = after & (t - burn_in < horizons)
        sums = sums + jnp.where(within[:, None, None], theta[None], 0.0)
        return (theta, outer, sums), None

    start = (jnp.zeros((batch, d), dtype), jnp.zeros((batch, d, d), dtype),
             jnp.zeros((horizons.shape[0], batch, d), dtype))
    (theta, outer, sums), _ = jax.lax.scan(step, start, jnp.arange(burn_in + steps))
    return outer / steps, sums / horizons[:, None, None].astype(dtype), theta


_HORIZON_SLOTS = 3  # every call passes this many horizons (padded), so all chains share one compiled program


def _horizons(ts) -> jnp.ndarray:
    ts = np.atleast_1d(np.asarray(ts, dtype=int))
    padded = np.concatenate([ts, np.full(max(0, _HORIZON_SLOTS - ts.size), ts[-1])])
    return jnp.asarray(padded)


def _counts(**values):
    for name, v in values.items():
        if isinstance(v, bool) or int(v) != v or int(v) < (0 if name == "burn_in" else 1):
            raise ValueError(f"{name} must be an integer >= {0 if name == 'burn_in' else 1}, got {v!r}")


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
    _counts(chains=chains, steps=steps, burn_in=burn_in)
    lrs = jnp.atleast_1d(jnp.asarray(_positive("learning_rates", learning_rates), h.dtype))
    root = jnp.linalg.cholesky(c) / jnp.sqrt(jnp.asarray(batch_size, h.dtype))
    if not bool(jnp.all(jnp.isfinite(root))):
        raise ValueError("noise_covariance must be positive definite (its Cholesky factor failed)")
    eye = jnp.eye(h.shape[0], dtype=h.dtype)
    transition = jnp.repeat(eye[None] - lrs[:, None, None] * h[None], int(chains), axis=0)
    factor = jnp.repeat(-lrs[:, None, None] * root[None], int(chains), axis=0)
    outer, _, _ = _linear_chains(key, transition, factor, _horizons([1]), int(steps), int(burn_in))
    per_chain = outer.reshape(lrs.shape[0], int(chains), *h.shape)
    return ChainCovariances(per_chain, per_chain.mean(axis=1), per_chain.std(axis=1, ddof=1) / np.sqrt(chains))


def _doubling(a: np.ndarray, q: np.ndarray) -> np.ndarray:
    """sum_{k < 2^64} A^k Q (A^k)^T by Smith's doubling: Sigma_2n = Sigma_n + A^n Sigma_n (A^n)^T."""
    power, total = a, q
    for _ in range(64):
        power, total = power @ power, total + power @ total @ power.T
    return total


def sgd_second_moment(hessian, noise_covariance, learning_rate: float, batch_size: float = 1.0) -> np.ndarray:
    """The exact stationary E[theta theta^T] of constant SGD, by Smith's doubling iteration.

    Example:
        >>> from numeric import noise
        >>> float(noise.sgd_second_moment([[1.0]], [[1.0]], 0.5)[0, 0])   # 0.25 (1 + 0.25 + 0.0625 + ...)
        0.3333333333333333
    """
    h, c = np.asarray(_matrix("hessian", hessian)), np.asarray(_matrix("noise_covariance", noise_covariance))
    _positive("learning_rate", learning_rate)
    _positive("batch_size", batch_size, minimum=1.0)
    a = np.eye(h.shape[0]) - learning_rate * h
    if np.max(np.abs(np.linalg.eigvals(a))) >= 1:
        raise ValueError(f"learning_rate {learning_rate!r} is unstable for this hessian (|1 - lr lam| >= 1)")
    return _doubling(a, learning_rate**2 * c / batch_size)


def ou_kl_minimiser(hessian, noise_covariance, batch_size: float, n_data: float) -> float:
    """argmin over lr of KL(N(0, Sigma_OU(lr)) || N(0, (n_data H)^-1)), Sigma_OU from a Kronecker solve."""
    h, c = np.asarray(_matrix("hessian", hessian)), np.asarray(_matrix("noise_covariance", noise_covariance))
    _positive("batch_size", batch_size, minimum=1.0)
    _positive("n_data", n_data)
    d = h.shape[0]
    lyapunov = np.kron(np.eye(d), h) + np.kron(h, np.eye(d))  # vec(H S + S H) = (I (x) H + H (x) I) vec S
    unit = np.linalg.solve(lyapunov, (c / batch_size).reshape(-1)).reshape(d, d)  # Sigma_OU at lr = 1
    precision = n_data * h

    def kl(log_lr):
        m = precision @ (np.exp(log_lr) * unit)
        return 0.5 * (np.trace(m) - np.linalg.slogdet(m)[1] - d)

    res = scipy.optimize.minimize_scalar(kl, bounds=(-40.0, 20.0), method="bounded", options={"xatol": 1e-12})
    return float(np.exp(res.x))


class ChainVariances(NamedTuple):
    """Per (learning rate, curvature): per-chain time-averaged theta^2, their mean and standard error."""

    per_chain: jax.Array
    mean: jax.Array
    sem: jax.Array


def langevin_chains(key, curvatures, learning_rates, temperature: float = 1.0, *, chains: int = 64,
                    steps: int = 2000, burn_in: int = 500) -> ChainVariances:
    """Unadjusted Langevin chains on U = lam theta^2 / 2: per (lr, lam), the stationary E theta^2."""
    lams = jnp.atleast_1d(jnp.asarray(_positive("curvatures", curvatures), jnp.result_type(float)))
    lrs = jnp.atleast_1d(jnp.asarray(_positive("learning_rates", learning_rates), lams.dtype))
    _positive("temperature", temperature)
    _counts(chains=chains, steps=steps, burn_in=burn_in)
    # the curvatures are the coordinates of one diagonal problem (independent coordinates)
    transition = jnp.repeat(jax.vmap(lambda lr: jnp.diag(1 - lr * lams))(lrs), int(chains), axis=0)
    factor = jnp.repeat(jax.vmap(lambda lr: jnp.sqrt(2 * lr * temperature) * jnp.eye(lams.shape[0], dtype=lams.dtype))(lrs),
                        int(chains), axis=0)
    outer, _, _ = _linear_chains(key, transition, factor, _horizons([1]), int(steps), int(burn_in))
    per_chain = jnp.diagonal(outer, axis1=-2, axis2=-1).reshape(lrs.shape[0], int(chains), lams.shape[0])
    per_chain = jnp.transpose(per_chain, (0, 2, 1))  # (lr, curvature, chain)
    return ChainVariances(per_chain, per_chain.mean(-1), per_chain.std(-1, ddof=1) / np.sqrt(chains))


def langevin_second_moment(curvature: float, learning_rate: float, temperature: float = 1.0) -> float:
    """The exact stationary E theta^2 of the Langevin chain: doubling on v <- r^2 v + 2 lr T."""
    for name, v in (("curvature", curvature), ("learning_rate", learning_rate), ("temperature", temperature)):
        _positive(name, v)
    r = 1.0 - learning_rate * curvature
    if abs(r) >= 1:
        raise ValueError(f"learning_rate {learning_rate!r} is unstable for curvature {curvature!r}")
    return float(_doubling(np.array([[r]]), np.array([[2.0 * learning_rate * temperature]]))[0, 0])


class AveragedChains(NamedTuple):
    """Per horizon t: the per-chain mean of the first t iterates after burn-in (horizons, chains), and
    each chain's last iterate (chains,)."""

    averages: jax.Array
    last: jax.Array


def averaged_sgd_chains(key, curvature: float, learning_rates, noise: float, horizons, batch_size: float = 1.0,
                        *, chains: int = 4096, burn_in: int = 500) -> AveragedChains:
    """SGD on one direction (gradient lam theta + xi, Var xi = noise / batch_size): averaged iterates.

    ``learning_rates`` may be several (one set of ``chains`` chains each, one compiled run):
    ``averages`` is then (horizons, learning rates, chains) and ``last`` (learning rates, chains).
    """
    for name, v in (("curvature", curvature), ("learning_rates", learning_rates), ("noise", noise)):
        _positive(name, v)
    _positive("batch_size", batch_size, minimum=1.0)
    _counts(chains=chains, burn_in=burn_in)
    ts = np.atleast_1d(np.asarray(_positive("horizons", horizons, integer=True), dtype=int))
    if ts.size > _HORIZON_SLOTS or chains % 2:
        raise ValueError(f"at most {_HORIZON_SLOTS} horizons and an even number of chains, got {ts.size}, {chains}")
    dtype = jnp.result_type(float)
    lrs = jnp.atleast_1d(jnp.asarray(learning_rates, dtype))
    # two independent chains per batch entry, as the two coordinates of a diagonal problem
    eye = jnp.eye(2, dtype=dtype)
    transition = jnp.repeat((1 - lrs * curvature)[:, None, None] * eye, int(chains) // 2, axis=0)
    factor = jnp.repeat((-lrs * np.sqrt(noise / batch_size))[:, None, None] * eye, int(chains) // 2, axis=0)
    _, averages, last = _linear_chains(key, transition, factor, _horizons(ts), int(ts.max()), int(burn_in))
    shape = (lrs.shape[0], int(chains))
    averages = averages[: ts.size].reshape(ts.size, *shape)
    last = last.reshape(shape)
    if np.ndim(learning_rates) == 0:
        averages, last = averages[:, 0], last[0]
    return AveragedChains(averages, last)


def averaged_second_moment(curvature: float, learning_rate: float, noise: float, horizon: int,
                           batch_size: float = 1.0) -> float:
    """Exact Var of the mean of ``horizon`` stationary SGD iterates, iterating the joint moments.

    State (E x^2, E x S, E S^2, 1) of x_t and S_t = x_1 + ... + x_t, with x' = r x - lr xi, S' = S + x':
    E x'^2 = r^2 E x^2 + lr^2 q, E x' S' = r E x S + E x'^2, E S'^2 = E S^2 + 2 r E x S + E x'^2;
    the start E x^2 is the stationary one (doubling), and the linear map is raised to the
    ``horizon``-th power by repeated squaring (numpy).
    """
    for name, v in (("curvature", curvature), ("learning_rate", learning_rate), ("noise", noise)):
        _positive(name, v)
    _counts(horizon=horizon)
    r, q = 1.0 - learning_rate * curvature, learning_rate**2 * noise / batch_size
    if abs(r) >= 1:
        raise ValueError(f"learning_rate {learning_rate!r} is unstable for curvature {curvature!r}")
    stationary = float(_doubling(np.array([[r]]), np.array([[q]]))[0, 0])
    step = np.array([[r * r, 0, 0, q], [r * r, r, 0, q], [r * r, 2 * r, 1, q], [0, 0, 0, 1.0]])
    state = np.linalg.matrix_power(step, int(horizon)) @ np.array([stationary, 0.0, 0.0, 1.0])
    return float(state[2] / horizon**2)
