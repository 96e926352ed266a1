"""Gradient descent on scalar factorisation ``L(w1, w2) = (w1 w2 - y)^2``, and shuffled minibatch SGD
on least squares, run directly.

Independent of ``analytic``: the gradients are written by hand,
``dL/dw1 = 2 (w1 w2 - y) w2``, ``dL/dw2 = 2 (w1 w2 - y) w1``; a minibatch's
``grad L_k(w) = X_k^T (X_k w - y_k) / B``.
"""

from __future__ import annotations

import functools
import itertools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["FactorisationRun", "gd_factorisation", "mean_sgd_least_squares", "DeepLinearRun", "gd_deep_linear"]


class FactorisationRun(NamedTuple):
    """``weights[t]`` = (w1, w2) for t = 0..steps, ``losses[t]``, ``balance[t]`` = w1^2 - w2^2."""

    weights: jax.Array
    losses: jax.Array
    balance: jax.Array
    diverged: jax.Array


@functools.partial(jax.jit, static_argnames="steps")
def _gd(w0, y, eta, steps):
    def step(w, _):
        residual = w[0] * w[1] - y
        w = w - eta * 2 * residual * jnp.stack([w[1], w[0]])
        return w, w

    _, path = jax.lax.scan(step, w0, None, length=steps)
    return jnp.concatenate([w0[None], path])


def gd_factorisation(w0, y, eta, steps: int) -> FactorisationRun:
    """GD with step ``eta`` from ``w0 = (w1, w2)`` on ``(w1 w2 - y)^2`` for ``steps`` steps."""
    w0 = jnp.asarray(w0, dtype=jnp.result_type(float))
    if w0.shape != (2,) or not np.all(np.isfinite(np.asarray(w0))):
        raise ValueError(f"w0 must be two finite numbers (w1, w2), got {w0!r}")
    for name, value, positive in (("eta", eta, True), ("y", y, False)):
        v = float(value)
        if not np.isfinite(v) or (positive and v <= 0):
            raise ValueError(f"{name} must be finite{' and > 0' if positive else ''}, got {value!r}")
    if int(steps) < 1:
        raise ValueError(f"steps must be >= 1, got {steps!r}")
    weights = _gd(w0, jnp.asarray(y, w0.dtype), jnp.asarray(eta, w0.dtype), int(steps))
    losses = (weights[:, 0] * weights[:, 1] - y) ** 2
    balance = weights[:, 0] ** 2 - weights[:, 1] ** 2
    diverged = ~jnp.all(jnp.isfinite(losses)) | (losses[-1] > 10 * losses[0])
    return FactorisationRun(weights, losses, balance, diverged)


@functools.partial(jax.jit, static_argnames="length")
def _mean_sgd(features, targets, orders, w0, eta, epochs, length):
    batch = features.shape[1]

    def epoch_from(w, order):
        def step(v, k):
            return v - eta * features[k].T @ (features[k] @ v - targets[k]) / batch, None

        return jax.lax.scan(step, w, order)[0]

    def epoch(w, n):
        w = jnp.where(n < epochs, jnp.mean(jax.vmap(epoch_from, in_axes=(None, 0))(w, orders), axis=0), w)
        return w, w

    _, path = jax.lax.scan(epoch, w0, jnp.arange(length))
    return jnp.concatenate([w0[None], path])


def mean_sgd_least_squares(features, targets, w0, eta, epochs: int, max_epochs: int | None = None) -> jax.Array:
    """The mean SGD iterate over random shuffles, after every epoch (``epochs + 1`` rows).

    ``features`` (m, B, d) and ``targets`` (m, B): m minibatches of B examples; each
    epoch visits them in a uniformly random order with ``w <- w - eta grad L_k(w)``.
    The epoch map is affine in ``w``, so the mean over shuffles is exactly the mean of
    the epoch maps of all m! orders (a ``vmap``) applied to the mean iterate. Calls with
    one ``max_epochs`` (>= ``epochs``) share one compilation.
    """
    features = jnp.asarray(features, dtype=jnp.result_type(float))
    targets = jnp.asarray(targets, dtype=features.dtype)
    if features.ndim != 3 or targets.shape != features.shape[:2] or not 1 <= features.shape[0] <= 6:
        raise ValueError(f"features must be (m, B, d) and targets (m, B) with 1 <= m <= 6, got "
                         f"{features.shape} and {targets.shape}")
    w0 = jnp.asarray(w0, dtype=features.dtype)
    if w0.shape != features.shape[2:]:
        raise ValueError(f"w0 must have shape {features.shape[2:]}, got {w0.shape}")
    if not float(eta) > 0 or not np.isfinite(float(eta)):
        raise ValueError(f"eta must be finite and > 0, got {eta!r}")
    length = int(epochs) if max_epochs is None else int(max_epochs)
    if not 1 <= int(epochs) <= length:
        raise ValueError(f"epochs must be in [1, max_epochs = {length}], got {epochs!r}")
    orders = jnp.array(list(itertools.permutations(range(features.shape[0]))))
    path = _mean_sgd(features, targets, orders, w0, jnp.asarray(eta, features.dtype), int(epochs), length)
    return path[: int(epochs) + 1]


class DeepLinearRun(NamedTuple):
    """``balances[t, i]`` = W_{i+2}^T W_{i+2} - W_{i+1} W_{i+1}^T (one per adjacent pair) at t = 0..steps."""

    balances: tuple
    weights: tuple
    losses: jax.Array


def _deep_linear_loss(weights, x, y):
    product = x
    for w in weights:
        product = w @ product
    return jnp.sum((product - y) ** 2) / (2 * x.shape[1])


def _balances(weights):
    return tuple(upper.T @ upper - lower @ lower.T for lower, upper in zip(weights, weights[1:]))


@functools.partial(jax.jit, static_argnames=("steps", "flow"))
def _deep_linear(weights, x, y, eta, steps, flow):
    gradient = jax.grad(_deep_linear_loss)

    def field(ws):
        return tuple(-g for g in gradient(ws, x, y))

    def step(ws, _):
        if flow:  # RK4 on the gradient flow with time step eta
            k1 = field(ws)
            k2 = field(tuple(w + eta / 2 * k for w, k in zip(ws, k1)))
            k3 = field(tuple(w + eta / 2 * k for w, k in zip(ws, k2)))
            k4 = field(tuple(w + eta * k for w, k in zip(ws, k3)))
            ws = tuple(w + eta / 6 * (a + 2 * b + 2 * c + d) for w, a, b, c, d in zip(ws, k1, k2, k3, k4))
        else:
            ws = tuple(w + eta * g for w, g in zip(ws, field(ws)))
        return ws, (ws, _balances(ws), _deep_linear_loss(ws, x, y))

    _, (path, balances, losses) = jax.lax.scan(step, weights, None, length=steps)
    first = jax.tree.map(lambda a: a[None], (weights, _balances(weights), _deep_linear_loss(weights, x, y)))
    path, balances, losses = jax.tree.map(lambda a, b: jnp.concatenate([a, b]), first, (path, balances, losses))
    return path, balances, losses


def gd_deep_linear(weights, x, y, eta, steps: int, flow: bool = False) -> DeepLinearRun:
    """GD (or, with ``flow=True``, RK4 on the gradient flow, time step ``eta``) on ``|W_N...W_1 x - y|^2/(2n)``.

    ``weights``: matrices W_1 (h_1, d), ..., W_N (k, h_{N-1}); ``x`` (d, n), ``y`` (k, n).
    The gradient is ``jax.grad`` of the loss.
    """
    weights = tuple(jnp.asarray(w, dtype=jnp.result_type(float)) for w in weights)
    x, y = jnp.asarray(x, weights[0].dtype), jnp.asarray(y, weights[0].dtype)
    if len(weights) < 2 or any(w.ndim != 2 for w in weights) or x.ndim != 2 or y.ndim != 2:
        raise ValueError("weights must be >= 2 matrices, x (d, n) and y (k, n) matrices")
    shapes_ok = weights[0].shape[1] == x.shape[0] and weights[-1].shape[0] == y.shape[0] and all(
        lower.shape[0] == upper.shape[1] for lower, upper in zip(weights, weights[1:]))
    if not shapes_ok or x.shape[1] != y.shape[1]:
        raise ValueError(f"shapes do not chain: {[w.shape for w in weights]}, x {x.shape}, y {y.shape}")
    if not float(eta) > 0 or not np.isfinite(float(eta)):
        raise ValueError(f"eta must be finite and > 0, got {eta!r}")
    if int(steps) < 1:
        raise ValueError(f"steps must be >= 1, got {steps!r}")
    path, balances, losses = _deep_linear(weights, x, y, jnp.asarray(eta, x.dtype), int(steps), bool(flow))
    return DeepLinearRun(balances, path, losses)
