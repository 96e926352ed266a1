"""Mini-batch SGD on interpolating least squares, run directly; and its exact second-moment rate.

Independent of ``analytic``: nothing here knows a closed form.

Setting: data ``x`` (n, d), labels ``y = x w*`` (the model interpolates), loss
``(1/n) sum_i 1/2 (x_i . w - y_i)^2``, batches of ``m`` indices drawn uniformly with replacement,
``w <- w - (lr/m) sum_j x_ij (x_ij . w - y_ij)``. Only the error ``e = w - w*`` matters, and
it evolves by ``e <- e - (lr/m) sum_j x_ij (x_ij . e)``.

* :func:`sgd_errors`: Monte Carlo chains from ``e_0 = (1, ..., 1)`` for a list of
  (learning rate, batch size) configurations in one ``lax.scan`` (the batch is drawn at the
  largest size and masked, so every configuration shares one compiled program); returns the
  mean of ``e_t^2`` per coordinate over each of ``blocks`` groups of chains.
* :func:`second_moment_rate`: the exact asymptotic rate of ``E|e_t|^2``: the spectral radius of
  the linear map ``M -> E[(I - lr H_b) M (I - lr H_b)]`` on ``d x d`` matrices, written as a
  ``d^2 x d^2`` matrix from the data (two different draws of a batch are independent, one draw
  with itself gives ``(1/n) sum_i (x_i x_i^T) M (x_i x_i^T)``); ``batch_size=inf`` is full-batch GD.
* :func:`rate_optimal_lr`: the learning rate minimising that spectral radius (bounded Brent search).
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import scipy.optimize

__all__ = ["ErrorCurves", "sgd_errors", "second_moment_rate", "rate_optimal_lr"]


def _data(x) -> np.ndarray:
    a = np.asarray(x, dtype=float)
    if a.ndim != 2 or a.shape[0] < 1 or not np.all(np.isfinite(a)):
        raise ValueError(f"x must be a finite (n, d) data matrix, got shape {a.shape}")
    return a


def _batch(batch_size) -> float:
    m = float(batch_size)
    if not (m >= 1) or (np.isfinite(m) and m != round(m)):
        raise ValueError(f"batch_size must be an integer >= 1 (or inf for full-batch GD), got {batch_size!r}")
    return m


class ErrorCurves(NamedTuple):
    """``block_means`` (configurations, blocks, steps + 1, d): the mean of e_t^2 per coordinate over
    each block of chains (blocks are independent: their spread is the Monte Carlo error)."""

    block_means: jax.Array


@functools.partial(jax.jit, static_argnames=("chains", "steps", "max_batch"))
def _chains(key, x, learning_rates, batch_sizes, chains, steps, max_batch):
    n, d = x.shape
    mask = (jnp.arange(max_batch)[None, :] < batch_sizes[:, None]) / batch_sizes[:, None]  # (configs, max_batch)

    def step(e, k):
        idx = jax.random.randint(k, (learning_rates.shape[0], chains, max_batch), 0, n)
        rows = x[idx]  # (configs, chains, max_batch, d)
        residual = jnp.einsum("cbjd,cbd->cbj", rows, e) * mask[:, None, :]
        e = e - learning_rates[:, None, None] * jnp.einsum("cbj,cbjd->cbd", residual, rows)
        return e, e * e

    start = jnp.ones((learning_rates.shape[0], chains, d), x.dtype)
    _, squares = jax.lax.scan(step, start, jax.random.split(key, steps))
    return jnp.concatenate([start[None] ** 2, squares])  # (steps + 1, configs, chains, d)


def sgd_errors(key, x, learning_rates, batch_sizes, *, chains: int = 512, steps: int = 60,
               blocks: int = 16) -> ErrorCurves:
    """Mini-batch SGD error chains for each (learning_rates[c], batch_sizes[c]).

    Example:
        >>> import jax, numpy as np
        >>> from numeric import interpolation
        >>> run = interpolation.sgd_errors(jax.random.key(0), np.eye(2), [0.5], [2], chains=64, steps=3, blocks=4)
        >>> run.block_means.shape
        (1, 4, 4, 2)
    """
    data = jnp.asarray(_data(x), jnp.result_type(float))
    lrs = jnp.atleast_1d(jnp.asarray(learning_rates, data.dtype))
    ms = np.atleast_1d(np.asarray(batch_sizes))
    if lrs.shape != ms.shape or not np.all(np.isfinite(np.asarray(lrs))) or np.any(np.asarray(lrs) <= 0):
        raise ValueError(f"learning_rates must be positive and match batch_sizes, got {learning_rates!r}, "
                         f"{batch_sizes!r}")
    for m in ms:
        if not np.isfinite(_batch(m)):
            raise ValueError("batch_sizes must be finite for the chains")
    for name, v in (("chains", chains), ("steps", steps), ("blocks", blocks)):
        if isinstance(v, bool) or int(v) != v or v < 1:
            raise ValueError(f"{name} must be an integer >= 1, got {v!r}")
    if chains % blocks:
        raise ValueError(f"chains ({chains}) must be a multiple of blocks ({blocks})")
    squares = _chains(key, data, lrs, jnp.asarray(ms, data.dtype), int(chains), int(steps), int(ms.max()))
    per_block = squares.reshape(squares.shape[0], squares.shape[1], blocks, chains // blocks, -1).mean(3)
    return ErrorCurves(jnp.transpose(per_block, (1, 2, 0, 3)))


def _operator(x: np.ndarray, learning_rate: float, batch_size: float) -> np.ndarray:
    n, d = x.shape
    h = x.T @ x / n
    eye = np.eye(d)
    outer = np.einsum("ia,ib->iab", x, x).reshape(n, d * d)  # vec(x_i x_i^T)
    fourth = outer.T @ outer / n  # (1/n) sum_i vec(x x^T) vec(x x^T)^T: M -> (1/n) sum (x x^T) M (x x^T)
    hh = np.kron(h, h)
    same = 0.0 if np.isinf(batch_size) else 1.0 / batch_size
    return (np.eye(d * d) - learning_rate * (np.kron(h, eye) + np.kron(eye, h))
            + learning_rate**2 * ((1 - same) * hh + same * fourth))


def second_moment_rate(x, learning_rate: float, batch_size: float) -> float:
    """Exact asymptotic per-step rate of E|w_t - w*|^2 (spectral radius of the second-moment map).

    Example:
        >>> import numpy as np
        >>> from numeric import interpolation
        >>> round(interpolation.second_moment_rate(np.eye(2), 0.5, 1), 12)   # 1 - 2 (0.5)(0.5) + 0.25 (0.5)
        0.625
    """
    data = _data(x)
    if not (np.isfinite(learning_rate) and learning_rate > 0):
        raise ValueError(f"learning_rate must be a finite number > 0, got {learning_rate!r}")
    return float(np.max(np.abs(np.linalg.eigvals(_operator(data, float(learning_rate), _batch(batch_size))))))


def rate_optimal_lr(x, batch_size: float, upper: float | None = None) -> tuple[float, float]:
    """(learning rate, rate) minimising second_moment_rate over (0, upper] by a bounded Brent search.

    ``upper`` defaults to 2 / lambda_max(H), beyond which even full-batch GD diverges.
    """
    data = _data(x)
    m = _batch(batch_size)
    if upper is None:
        upper = 2.0 / float(np.linalg.eigvalsh(data.T @ data / data.shape[0]).max())
    res = scipy.optimize.minimize_scalar(lambda lr: second_moment_rate(data, lr, m), bounds=(1e-12, upper),
                                         method="bounded", options={"xatol": 1e-13})
    return float(res.x), float(res.fun)
