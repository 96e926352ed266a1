"""Networks with normalised hidden layers, weight decay and dropout, trained directly.

Independent of ``analytic``: nothing here knows a closed form.

* A two-hidden-layer network whose hidden pre-activations go through layer norm without
  gain, bias or epsilon, ``f(x) = a . relu(LN(W2 relu(LN(W1 x)))) / sqrt(width)`` with a
  fixed readout ``a``: the loss is exactly invariant to rescaling ``W1`` or ``W2``.
  Optimisers (weight decay ``wd`` on ``W1`` and ``W2``):

  - ``"sgd"``:      ``w <- w - eta (g + wd w)``
  - ``"pytorch"``:  ``v <- beta v + g + wd w``,           ``w <- w - eta v``
  - ``"ema"``:      ``v <- beta v + (1 - beta)(g + wd w)``, ``w <- w - eta v``
  - ``"adamw"``:    Adam moments of ``g`` (``beta1 = beta``, ``beta2 = 0.999``, bias
    corrected, ``eps = 1e-12``), ``w <- w - eta (m_hat / (sqrt(v_hat) + eps) + wd w)``.

* The time to reach the norm equilibrium (``train_then_rescale``): train, multiply the
  hidden weights by a factor (the function is unchanged), keep training in several minibatch
  streams. The same protocol on a synthetic scale-invariant objective whose scale-free
  gradient norm is stationary, ``sum_layers <xi_t, w/|w|>`` with fresh ``xi_t ~ N(0, I)``
  (``sphere_noise_then_rescale``).

* Least squares with inverted dropout on the inputs: each step draws a fresh
  Bernoulli(1 - p) mask per sample and feature, scales kept inputs by ``1/(1-p)`` and
  takes a full-batch gradient step.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from numeric.run_bound import RUN_BOUND

__all__ = ["OPTIMIZERS", "init_normalized_mlp", "normalized_mlp", "NormTrace", "train_normalized_mlp",
           "RescaleRun", "train_then_rescale",
           "sphere_noise_then_rescale", "DropoutRun", "dropout_sgd_least_squares"]

OPTIMIZERS = ("sgd", "pytorch", "ema", "adamw")
_LAYERS = ("W1", "W2")


def _layer_norm(h):
    centred = h - h.mean(axis=-1, keepdims=True)
    return centred / jnp.sqrt(jnp.mean(centred**2, axis=-1, keepdims=True))


def normalized_mlp(params, readout, x):
    """Outputs of the layer-normalised network on inputs ``x`` (n, d_in)."""
    h = jax.nn.relu(_layer_norm(x @ params["W1"].T))
    h = jax.nn.relu(_layer_norm(h @ params["W2"].T))
    return h @ readout / jnp.sqrt(readout.shape[0])


def init_normalized_mlp(key, d_in: int, width: int, scale: float = 1.0, dtype=None):
    """Gaussian hidden weights (entries N(0, scale^2 / fan_in)) and a fixed Gaussian readout."""
    dtype = dtype or jnp.result_type(float)
    k1, k2, k3 = jax.random.split(key, 3)
    params = {"W1": scale * jax.random.normal(k1, (width, d_in), dtype) / np.sqrt(d_in),
              "W2": scale * jax.random.normal(k2, (width, width), dtype) / np.sqrt(width)}
    return params, jax.random.normal(k3, (width,), dtype)


def _loss(params, readout, x, y):
    return 0.5 * jnp.mean((normalized_mlp(params, readout, x) - y) ** 2)


class NormTrace(NamedTuple):
    """Per step t (rows) and hidden layer (columns W1, W2), all before the step's update
    except ``step_sq`` and ``next_norm_sq``."""

    norm_sq: jax.Array  # |w_t|^2
    grad_sq: jax.Array  # |g_t|^2 (minibatch loss gradient, weight decay excluded)
    grad_dot_weight: jax.Array  # <w_t, g_t>
    step_sq: jax.Array  # |w_{t+1} - w_t|^2
    next_norm_sq: jax.Array  # |w_{t+1}|^2
    losses: jax.Array  # minibatch loss at w_t


def _minibatch_gradient(x, y, readout, batch):
    """(w, key) -> (loss, gradient) of the network's loss on a minibatch drawn with replacement."""
    grad_fn = jax.value_and_grad(_loss)

    def gradient(w, k):
        idx = jax.random.randint(k, (batch,), 0, x.shape[0])
        return grad_fn(w, readout, x[idx], y[idx])
    return gradient


def _run(gradient, key, state, first_step, eta, wd, beta, damp, optimizer, steps):
    """``steps`` steps from ``state`` = (weights, first moment, second moment), the gradient from
    ``gradient(w, key)``; Adam's bias correction counts from ``first_step``.
    Returns (final state, NormTrace)."""

    def step(state, inputs):
        w, m, s = state
        k, t = inputs
        loss, g = gradient(w, k)
        if optimizer == "adamw":
            new_m = {n: beta * m[n] + (1 - beta) * g[n] for n in w}
            new_s = {n: 0.999 * s[n] + 0.001 * g[n] ** 2 for n in w}
            new_w = {n: w[n] - eta * (new_m[n] / (1 - beta**t)
                                      / (jnp.sqrt(new_s[n] / (1 - 0.999**t)) + 1e-12) + wd * w[n])
                     for n in w}
        else:  # sgd / pytorch / ema: one graph, the damping of the new gradient is traced
            new_m = {n: beta * m[n] + damp * (g[n] + wd * w[n]) for n in w}
            new_s = s
            new_w = {n: w[n] - eta * new_m[n] for n in w}

        def per_layer(fn):
            return jnp.stack([fn(n) for n in _LAYERS])

        record = (per_layer(lambda n: jnp.sum(w[n] ** 2)), per_layer(lambda n: jnp.sum(g[n] ** 2)),
                  per_layer(lambda n: jnp.sum(w[n] * g[n])),
                  per_layer(lambda n: jnp.sum((new_w[n] - w[n]) ** 2)),
                  per_layer(lambda n: jnp.sum(new_w[n] ** 2)), loss)
        return (new_w, new_m, new_s), record

    dtype = eta.dtype
    inputs = (jax.random.split(key, steps), first_step + jnp.arange(steps, dtype=dtype))
    final, records = jax.lax.scan(step, state, inputs)
    return final, NormTrace(*records)


def _zeros(params):
    return {k: jnp.zeros_like(v) for k, v in params.items()}


@functools.partial(jax.jit, static_argnames=("optimizer", "batch", "steps"), compiler_options=RUN_BOUND)
def _train(key, x, y, readout, params, eta, wd, beta, damp, optimizer, batch, steps):
    return _run(_minibatch_gradient(x, y, readout, batch), key, (params, _zeros(params), _zeros(params)),
                1.0, eta, wd, beta, damp, optimizer, steps)  # (final state, trace)


def _validate(x, optimizer, eta, wd, beta, batch, steps):
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"optimizer = {optimizer!r} is unknown; valid: {OPTIMIZERS}")
    if not np.isfinite(eta) or eta <= 0:
        raise ValueError(f"eta must be finite and > 0, got {eta!r}")
    if not np.isfinite(wd) or wd < 0:
        raise ValueError(f"wd must be finite and >= 0, got {wd!r}")
    if not 0.0 <= beta < 1.0:
        raise ValueError(f"beta must be in [0, 1), got {beta!r}")
    if not 1 <= batch <= x.shape[0]:
        raise ValueError(f"batch must be in [1, {x.shape[0]}], got {batch!r}")
    if int(steps) < 1:
        raise ValueError(f"steps must be >= 1, got {steps!r}")
    if optimizer == "sgd" and beta != 0.0:
        raise ValueError(f"plain SGD has no momentum: beta must be 0, got {beta!r}")


def train_normalized_mlp(key, x, y, readout, params, optimizer: str, eta, wd, beta=0.0,
                         batch: int = 32, steps: int = 1000) -> NormTrace:
    """Minibatch training of the layer-normalised network; returns the per-step norm trace."""
    x, y = jnp.asarray(x), jnp.asarray(y)
    _validate(x, optimizer, eta, wd, beta, batch, steps)
    dtype = x.dtype
    damp = 1.0 - beta if optimizer == "ema" else 1.0
    return _train(key, x, y, jnp.asarray(readout, dtype), params, jnp.asarray(eta, dtype),
                  jnp.asarray(wd, dtype), jnp.asarray(beta, dtype), jnp.asarray(damp, dtype),
                  optimizer="adamw" if optimizer == "adamw" else "momentum",
                  batch=int(batch), steps=int(steps))[1]


class RescaleRun(NamedTuple):
    """Training continued after the hidden weights were multiplied by each of ``scales``.

    Axes: scale, chain, step after the rescale, hidden layer (W1, W2). Every scale sees the
    same minibatches (chain keys shared across scales: common random numbers)."""

    scales: jax.Array  # (S,)
    norm_sq: jax.Array  # (S, chains, steps, 2): |w_t|^2
    grad_sq: jax.Array  # (S, chains, steps, 2): |g_t|^2 (so |g|^2 |w|^2 is scale-free)
    losses: jax.Array  # (S, chains, steps): minibatch loss (the sampled objective on the sphere)
    burn_in_norm_sq: jax.Array  # (burn_in, 2): |w_t|^2 of the run that reached equilibrium


def _relax(gradient, key, state, first_step, scales, eta, wd, beta, damp, optimizer, steps, chains):
    """From ``state``, the weights multiplied by each scale (the optimiser's moments kept), then
    ``steps`` steps in ``chains`` minibatch streams shared across scales: (norm_sq, grad_sq, losses)."""
    w, m, s = state

    def relax(scale, k):
        scaled = {n: scale * v for n, v in w.items()}
        _, trace = _run(gradient, k, (scaled, m, s), first_step, eta, wd, beta, damp, optimizer, steps)
        return trace.norm_sq, trace.grad_sq, trace.losses

    keys = jax.random.split(key, chains)
    return jax.vmap(jax.vmap(relax, in_axes=(None, 0)), in_axes=(0, None))(scales, keys)


@functools.partial(jax.jit, static_argnames=("optimizer", "batch", "steps", "chains"), compiler_options=RUN_BOUND)
def _network_relax(key, x, y, readout, state, first_step, scales, eta, wd, beta, damp, optimizer,
                   batch, steps, chains):
    return _relax(_minibatch_gradient(x, y, readout, batch), key, state, first_step, scales, eta, wd,
                  beta, damp, optimizer, steps, chains)


def _sphere_gradient(w, xi, member):
    """Gradient of sum over layers of <xi, w/|w|>: per layer (xi - w <w, xi>/|w|^2) / |w|. ``w`` is
    all layers concatenated, ``member`` (layers, D) their indicator rows."""
    norm_sq = member @ (w * w)
    return (xi - (member.T @ (member @ (w * xi) / norm_sq)) * w) / jnp.sqrt(member.T @ norm_sq)


def _sphere_scan(keys, w, v, member, eta, wd, beta, damp):
    """Momentum steps on the sphere objective, one fresh xi ~ N(0, I) per key."""

    def step(carry, k):
        w, v = carry
        xi = jax.random.normal(k, w.shape, w.dtype)
        norm_sq = member @ (w * w)
        g = _sphere_gradient(w, xi, member)
        v = beta * v + damp * (g + wd * w)
        return (w - eta * v, v), (norm_sq, member @ (g * g), jnp.sum(member @ (w * xi) / jnp.sqrt(norm_sq)))

    return jax.lax.scan(step, (w, v), keys)


@functools.partial(jax.jit, static_argnames=("steps",), compiler_options=RUN_BOUND)
def _sphere_train(key, w, member, eta, wd, beta, damp, steps):
    return _sphere_scan(jax.random.split(key, steps), w, jnp.zeros_like(w), member, eta, wd, beta, damp)


@functools.partial(jax.jit, static_argnames=("steps", "chains"), compiler_options=RUN_BOUND)
def _sphere_relax(key, w, v, member, scales, eta, wd, beta, damp, steps, chains):
    def relax(scale, k):  # the momentum buffer is kept
        return _sphere_scan(jax.random.split(k, steps), scale * w, v, member, eta, wd, beta, damp)[1]

    keys = jax.random.split(key, chains)  # the same streams for every scale
    return jax.vmap(jax.vmap(relax, in_axes=(None, 0)), in_axes=(0, None))(scales, keys)


def _checked_scales(scales, burn_in, chains):
    if int(burn_in) < 1 or int(chains) < 1:
        raise ValueError(f"burn_in and chains must be >= 1, got {burn_in!r} and {chains!r}")
    scales = np.asarray(scales, dtype=float)
    if scales.ndim != 1 or not np.all(np.isfinite(scales) & (scales > 0)):
        raise ValueError(f"scales must be a 1-d sequence of finite numbers > 0, got {scales!r}")
    return scales


def _checked_dims(dims):
    if len(dims) != len(_LAYERS) or any(int(d) < 2 for d in dims):
        raise ValueError(f"dims must be {len(_LAYERS)} integers >= 2, got {dims!r}")
    return tuple(int(d) for d in dims)


def train_then_rescale(key, x, y, readout, params, optimizer: str, eta, wd, beta=0.0,
                       scales=(1.0, 2.0, 0.5), batch: int = 32, burn_in: int = 3000,
                       steps: int = 1000, chains: int = 4) -> RescaleRun:
    """Train the network ``burn_in`` steps (towards the norm equilibrium), multiply W1 and W2
    by each of ``scales`` (the network function is unchanged: scale invariance) and train
    ``steps`` more steps in ``chains`` independent minibatch streams."""
    x, y = jnp.asarray(x), jnp.asarray(y)
    _validate(x, optimizer, eta, wd, beta, batch, steps)
    scales = _checked_scales(scales, burn_in, chains)
    dtype = x.dtype
    hyper = tuple(jnp.asarray(v, dtype) for v in (eta, wd, beta, 1.0 - beta if optimizer == "ema" else 1.0))
    kind = "adamw" if optimizer == "adamw" else "momentum"
    k_burn, k_chains = jax.random.split(key)
    readout = jnp.asarray(readout, dtype)
    state, burned = _train(k_burn, x, y, readout, params, *hyper, optimizer=kind, batch=int(batch),
                           steps=int(burn_in))
    relaxed = _network_relax(k_chains, x, y, readout, state, jnp.asarray(1.0 + burn_in, dtype),
                             jnp.asarray(scales, dtype), *hyper, optimizer=kind, batch=int(batch),
                             steps=int(steps), chains=int(chains))
    return RescaleRun(jnp.asarray(scales, dtype), *relaxed, burned.norm_sq)


def sphere_noise_then_rescale(key, optimizer: str, eta, wd, beta=0.0, dims=(64, 256),
                              scales=(1.0, 2.0, 0.5), burn_in: int = 1500, steps: int = 1000,
                              chains: int = 8, dtype=None) -> RescaleRun:
    """The same protocol on a synthetic scale-invariant objective with stationary noise.

    Two weight vectors (the "layers", of sizes ``dims``) and the loss
    ``sum_layers <xi_t, w / |w|>`` with fresh ``xi_t ~ N(0, I)`` each step: its gradient
    ``(xi - w <w, xi>/|w|^2) / |w|`` is orthogonal to w, scales as 1/|w|, and
    ``|g|^2 |w|^2 ~ chi^2(d - 1)`` whatever w is. The weights start as N(0, 1/d) entries.
    Optimisers ``"sgd"``, ``"pytorch"``, ``"ema"`` (as for the network)."""
    dims = _checked_dims(dims)
    if optimizer == "adamw":
        raise ValueError("optimizer = 'adamw' is not supported on the sphere objective; valid: "
                         "'sgd', 'pytorch', 'ema'")
    _validate(np.zeros((1, 1)), optimizer, eta, wd, beta, 1, steps)
    scales = _checked_scales(scales, burn_in, chains)
    dtype = dtype or jnp.result_type(float)
    member = jnp.asarray(np.repeat(np.eye(len(dims)), dims, axis=1), dtype)  # (layers, D)
    k_init, k_burn, k_chains = jax.random.split(key, 3)
    w = jax.random.normal(k_init, (sum(dims),), dtype) / jnp.sqrt(member.T @ jnp.asarray(dims, dtype))
    hyper = tuple(jnp.asarray(v, dtype) for v in (eta, wd, beta, 1.0 - beta if optimizer == "ema" else 1.0))
    (w, v), burned = _sphere_train(k_burn, w, member, *hyper, steps=int(burn_in))
    relaxed = _sphere_relax(k_chains, w, v, member, jnp.asarray(scales, dtype), *hyper, steps=int(steps),
                            chains=int(chains))
    return RescaleRun(jnp.asarray(scales, dtype), *relaxed, burned[0])


class DropoutRun(NamedTuple):
    """Per chain: the weights averaged over the steps after burn-in, and the final weights."""

    mean_weights: jax.Array  # (chains, d)
    final_weights: jax.Array  # (chains, d)


@functools.partial(jax.jit, static_argnames=("steps", "burn_in", "chains"))
def _dropout_chains(key, X, y, keep, eta, steps, burn_in, chains):
    n, d = X.shape

    def chain(k):
        def step(w, kk):
            mask = jax.random.bernoulli(kk, keep, (n, d)).astype(X.dtype) / keep
            Xm = X * mask
            w = w - eta * Xm.T @ (Xm @ w - y) / n
            return w, w

        _, ws = jax.lax.scan(step, jnp.zeros(d, X.dtype), jax.random.split(k, steps))
        return ws[burn_in:].mean(axis=0), ws[-1]

    return jax.vmap(chain)(jax.random.split(key, chains))


def dropout_sgd_least_squares(key, X, y, p: float, eta: float, steps: int, burn_in: int,
                              chains: int) -> DropoutRun:
    """SGD on ``||(X * mask) w - y||^2 / (2n)`` with a fresh inverted-dropout mask each step.

    ``p`` is the drop probability. ``chains`` independent runs (vmap) from w = 0; each
    averages its iterates after ``burn_in`` steps (Polyak averaging).
    """
    if not 0.0 <= p < 1.0:
        raise ValueError(f"p (the drop probability) must be in [0, 1), got {p!r}")
    if not np.isfinite(eta) or eta <= 0:
        raise ValueError(f"eta must be finite and > 0, got {eta!r}")
    if not 0 <= burn_in < steps or chains < 1:
        raise ValueError(f"need 0 <= burn_in < steps and chains >= 1, got {burn_in}, {steps}, {chains}")
    X, y = jnp.asarray(X), jnp.asarray(y)
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise ValueError(f"X must be (n, d) and y (n,), got {X.shape} and {y.shape}")
    mean, final = _dropout_chains(key, X, y, jnp.asarray(1.0 - p, X.dtype), jnp.asarray(eta, X.dtype),
                                  steps=int(steps), burn_in=int(burn_in), chains=int(chains))
    return DropoutRun(mean, final)
