"""The deep bootstrap's two worlds run directly: SGD on linear regression with Gaussian features.

Independent of ``analytic``: nothing here knows a closed form.

Population: ``x ~ N(0, I_d)``, ``y = x . w_star + sqrt(sigma2) N(0, 1)``. Both worlds run
``w <- w - learning_rate / B * sum_b x_b (x_b . w - y_b)`` from ``w = 0``:

* ideal world: every batch is ``B`` fresh draws from the population;
* real world: the batch is drawn from the ``n`` fixed samples ``(x_train, y_train)``, either
  uniformly with replacement (``order="replacement"``) or by cycling through epochs of a
  fresh random permutation (``order="epochs"``, the usual SGD; needs ``B`` to divide ``n``).

The test risk of ``w`` on the population is ``|w - w_star|^2 + sigma2`` exactly (the
features are standard Gaussian), recorded every ``record_every`` steps. The ``seeds``
independent runs are one batched ``lax.scan`` (both worlds at once); the mean and its standard
error are returned. The random draws come from numpy's PCG64 seeded by the jax key's bits.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["TwoWorlds", "two_worlds", "gaussian_sample"]

ORDERS = ("replacement", "epochs")


class TwoWorlds(NamedTuple):
    """Mean test risks over seeds (and their standard errors) at the recorded ``steps``."""

    steps: np.ndarray
    real_mean: np.ndarray
    real_sem: np.ndarray
    ideal_mean: np.ndarray
    ideal_sem: np.ndarray


def _generator(key) -> np.random.Generator:
    """numpy's PCG64 seeded by the bits of a jax PRNG key (typed or raw uint32)."""
    words = np.asarray(jax.random.key_data(key) if jnp.issubdtype(key.dtype, jax.dtypes.prng_key) else key)
    return np.random.default_rng(words.astype(np.uint64).ravel().tolist())


def gaussian_sample(key, samples: int, dim: int, signal: float = 1.0, sigma2: float = 1.0):
    """``(x, y, w_star)`` (float64 numpy): ``samples`` N(0, I) rows, ``w_star`` uniform on the sphere
    of radius sqrt(signal), ``y = x w_star + N(0, sigma2)``."""
    rng = _generator(key)
    direction = rng.standard_normal(dim)
    w_star = direction / np.linalg.norm(direction) * np.sqrt(signal)
    x = rng.standard_normal((samples, dim))
    return x, x @ w_star + np.sqrt(sigma2) * rng.standard_normal(samples), w_star


def _draws(key, n, d, batch_size, steps, order, seeds):
    """Indices into the sample and fresh Gaussian batches, from numpy's PCG64 seeded by the jax ``key``.

    numpy draws them (no XLA compilation of the random-bit generator, which costs seconds on a
    CPU); the key's bits fix the stream, so a key still determines the run."""
    rng = _generator(key)
    if order == "replacement":
        indices = rng.integers(0, n, size=(seeds, steps, batch_size))
    else:
        epochs = -(-steps * batch_size // n)
        perms = rng.permuted(np.tile(np.arange(n), (seeds, epochs, 1)), axis=-1)
        indices = perms.reshape(seeds, epochs * n)[:, :steps * batch_size].reshape(seeds, steps, batch_size)
    fresh_x = rng.standard_normal((seeds, steps, batch_size, d))
    fresh_noise = rng.standard_normal((seeds, steps, batch_size))
    return indices, fresh_x, fresh_noise


@functools.partial(jax.jit, static_argnames=("batch_size", "record_every"))
def _runs(x_train, y_train, w_star, learning_rate, sigma2, indices, fresh_x, fresh_noise, batch_size, record_every):
    """(real, ideal) test risks, each (seeds, steps // record_every + 1)."""
    seeds, d = indices.shape[0], x_train.shape[1]
    dtype = x_train.dtype
    fresh_x = fresh_x.astype(dtype)
    fresh_y = fresh_x @ w_star + jnp.sqrt(sigma2) * fresh_noise.astype(dtype)
    batches_x = jnp.stack([x_train[indices], fresh_x])  # (world, seeds, steps, B, d): real, ideal
    batches_y = jnp.stack([y_train[indices], fresh_y])

    def step(w, batch):  # w: (world, seeds, d)
        xb, yb = batch
        residual = jnp.einsum("wsbd,wsd->wsb", xb, w) - yb
        w = w - learning_rate / batch_size * jnp.einsum("wsbd,wsb->wsd", xb, residual)
        return w, jnp.sum((w - w_star) ** 2, axis=-1) + sigma2

    zero = jnp.zeros((2, seeds, d), dtype)
    _, risks = jax.lax.scan(step, zero, (jnp.moveaxis(batches_x, 2, 0), jnp.moveaxis(batches_y, 2, 0)))
    first = jnp.full((1, 2, seeds), jnp.sum(w_star**2) + sigma2)
    risks = jnp.concatenate([first, risks[record_every - 1::record_every]])  # (records, world, seeds)
    return risks[:, 0].T, risks[:, 1].T


def two_worlds(key, x_train, y_train, w_star, learning_rate, batch_size: int, steps: int, sigma2, *,
               seeds: int = 64, record_every: int = 1, order: str = "replacement") -> TwoWorlds:
    """Test risks of SGD in the real world (on ``x_train, y_train``) and the ideal world, ``seeds`` runs each.

    Example:
        >>> import jax
        >>> x, y, w = gaussian_sample(jax.random.PRNGKey(0), 40, 4)
        >>> run = two_worlds(jax.random.PRNGKey(1), x, y, w, 0.05, 1, 40, 1.0, seeds=8, record_every=20)
        >>> run.steps.tolist(), bool(run.real_mean[0] == run.ideal_mean[0] == 2.0)
        ([0, 20, 40], True)
    """
    if order not in ORDERS:
        raise ValueError(f"order must be one of {ORDERS}, got {order!r}")
    x_train = jnp.asarray(x_train)
    n, d = x_train.shape
    for name, value in (("batch_size", batch_size), ("steps", steps), ("seeds", seeds),
                        ("record_every", record_every)):
        if isinstance(value, bool) or int(value) != value or value < (0 if name == "steps" else 1):
            raise ValueError(f"{name} must be a whole number >= {0 if name == 'steps' else 1}, got {value!r}")
    if steps % record_every:
        raise ValueError(f"steps = {steps} must be a multiple of record_every = {record_every}")
    if order == "epochs" and n % batch_size:
        raise ValueError(f"order='epochs' needs batch_size ({batch_size}) to divide the sample size {n}")
    if not (np.isfinite(learning_rate) and learning_rate > 0):
        raise ValueError(f"learning_rate must be finite and > 0, got {learning_rate!r}")
    if not (np.isfinite(sigma2) and sigma2 >= 0):
        raise ValueError(f"sigma2 must be finite and >= 0, got {sigma2!r}")
    dtype = x_train.dtype
    draws = _draws(key, n, d, int(batch_size), int(steps), order, int(seeds))
    real, ideal = _runs(x_train, jnp.asarray(y_train, dtype), jnp.asarray(w_star, dtype),
                        jnp.asarray(learning_rate, dtype), jnp.asarray(sigma2, dtype), *draws,
                        batch_size=int(batch_size), record_every=int(record_every))
    real, ideal = np.asarray(real), np.asarray(ideal)
    sem = 1.0 / np.sqrt(seeds)  # standard error of a mean over independent seeds
    return TwoWorlds(np.arange(0, steps + 1, record_every), real.mean(0), real.std(0, ddof=1) * sem
                     if seeds > 1 else np.zeros(real.shape[1]), ideal.mean(0),
                     ideal.std(0, ddof=1) * sem if seeds > 1 else np.zeros(ideal.shape[1]))
