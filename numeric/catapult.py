r"""Large-learning-rate GD trained directly: the uv model on explicit vectors, wide two-layer nets.

Independent of ``analytic``: nothing here knows the uv map or the phase boundaries.

* uv model: $f = v\cdot u/\sqrt n$, loss $\tfrac12(f-y)^2$, GD on the vectors $u, v$
  themselves; the NTK $\lambda = (|u|^2+|v|^2)/n$ is measured from them.
* Two-layer network in NTK parameterisation, $f(x) = v\cdot\phi(Wx/\sqrt d)/\sqrt n$
  with $W_{ij}, v_i \sim N(0, 1)$, $\phi$ = identity ("linear") or ReLU, trained by
  full-batch GD on the summed loss $\tfrac12\sum_i (f(x_i) - y_i)^2$. The NTK Gram
  matrix is $J J^\top$ with $J$ the Jacobian of the outputs in all parameters; its
  top eigenvalue is measured at the start and the end of training.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
from jax.flatten_util import ravel_pytree

__all__ = ["UVRun", "uv_vectors", "gd_uv", "TwoLayerRun", "init_two_layer", "two_layer_output",
           "ntk_gram", "ntk_top_eigenvalue", "train_two_layer", "ACTIVATIONS"]

ACTIVATIONS = ("linear", "relu")
_HIGHEST = jax.lax.Precision.HIGHEST


def _positive(name: str, value) -> float:
    v = float(value)
    if not math.isfinite(v) or v <= 0:
        raise ValueError(f"{name} = {value!r} must be finite and > 0")
    return v


def _steps(steps) -> int:
    if isinstance(steps, bool) or int(steps) != steps or steps < 1:
        raise ValueError(f"steps = {steps!r} must be an integer >= 1")
    return int(steps)


# --- the uv model on explicit vectors ---------------------------------------------------
class UVRun(NamedTuple):
    """``f[t]``, ``lam[t]`` for t = 0..steps, measured from the vectors; ``diverged`` flag."""

    f: jax.Array
    lam: jax.Array
    diverged: jax.Array  # non-finite output or |f| above 1e3 sqrt(n) at the end


def uv_vectors(key, n: int, lam0: float, f0: float, dtype=None) -> tuple[jax.Array, jax.Array]:
    r"""Vectors $u, v \in \mathbb R^n$ with $(|u|^2+|v|^2)/n = \lambda_0$ and $u\cdot v/\sqrt n = f_0$.

    $u = a e_1 + c e_2$, $v = a e_1 - c e_2$ for two random orthonormal directions,
    $a^2 = (n\lambda_0/2 + \sqrt n f_0)/2$, $c^2 = (n\lambda_0/2 - \sqrt n f_0)/2$; this
    needs $|f_0| \le \sqrt n \lambda_0 / 2$.
    """
    if int(n) != n or n < 2:
        raise ValueError(f"n = {n!r} must be an integer >= 2")
    lam0 = _positive("lam0", lam0)
    half = n * lam0 / 2
    if abs(f0) * math.sqrt(n) > half:
        raise ValueError(f"f0 = {f0!r}: |f0| must be <= sqrt(n) lam0 / 2 = {half / math.sqrt(n)!r}")
    dtype = dtype or jnp.result_type(float)
    basis, _ = jnp.linalg.qr(jax.random.normal(key, (int(n), 2), dtype))
    a = math.sqrt((half + math.sqrt(n) * f0) / 2)
    c = math.sqrt((half - math.sqrt(n) * f0) / 2)
    return a * basis[:, 0] + c * basis[:, 1], a * basis[:, 0] - c * basis[:, 1]


def _uv_loss(uv, label):
    u, v = uv
    return 0.5 * (jnp.dot(v, u, precision=_HIGHEST) / jnp.sqrt(u.shape[0]) - label) ** 2


@functools.partial(jax.jit, static_argnames="steps")
def _gd_uv(u, v, eta, label, steps):
    n = u.shape[0]

    def measure(uv):
        u, v = uv
        return jnp.dot(v, u, precision=_HIGHEST) / jnp.sqrt(n), (u @ u + v @ v) / n

    def step(uv, _):
        grads = jax.grad(_uv_loss)(uv, label)
        uv = (uv[0] - eta * grads[0], uv[1] - eta * grads[1])
        return uv, measure(uv)

    _, (f, lam) = jax.lax.scan(step, (u, v), None, length=steps)
    f0, lam0 = measure((u, v))
    return jnp.concatenate([f0[None], f]), jnp.concatenate([lam0[None], lam])


def gd_uv(u, v, eta: float, steps: int, label: float = 0.0) -> UVRun:
    """Full-batch GD on ``(u, v)`` for the loss (v.u/sqrt(n) - label)^2 / 2 (``lax.scan``)."""
    u, v = jnp.asarray(u), jnp.asarray(v)
    if u.ndim != 1 or u.shape != v.shape:
        raise ValueError(f"u and v must be 1-D of equal length, got shapes {u.shape}, {v.shape}")
    eta = _positive("eta", eta)
    f, lam = _gd_uv(u, v, jnp.asarray(eta, u.dtype), jnp.asarray(label, u.dtype), steps=_steps(steps))
    diverged = ~jnp.isfinite(f[-1]) | (jnp.abs(f[-1]) > 1e3 * jnp.sqrt(u.shape[0]))
    return UVRun(f, lam, diverged)


# --- wide two-layer networks --------------------------------------------------------------
class TwoLayerRun(NamedTuple):
    """One GD run (or a batch of them along a leading axis) of a two-layer network."""

    losses: jax.Array  # summed loss 1/2 sum (f - y)^2 at t = 0..steps
    ntk_initial: jax.Array  # top eigenvalue of the NTK Gram matrix at initialisation
    ntk_final: jax.Array  # ... after the last step (nan if the run diverged)
    diverged: jax.Array  # a non-finite loss, or a final loss above the initial one


def init_two_layer(key, width: int, in_dim: int, dtype=None) -> dict:
    """``{"w": (width, in_dim), "v": (width,)}`` with i.i.d. N(0, 1) entries (NTK parameterisation)."""
    if int(width) != width or width < 1 or int(in_dim) != in_dim or in_dim < 1:
        raise ValueError(f"width = {width!r} and in_dim = {in_dim!r} must be integers >= 1")
    dtype = dtype or jnp.result_type(float)
    kw, kv = jax.random.split(key)
    return {"w": jax.random.normal(kw, (int(width), int(in_dim)), dtype),
            "v": jax.random.normal(kv, (int(width),), dtype)}


def two_layer_output(params, x, activation: str):
    """f(x) = v . phi(W x / sqrt(d)) / sqrt(n) for each row of ``x``."""
    hidden = jnp.matmul(x, params["w"].T, precision=_HIGHEST) / jnp.sqrt(x.shape[-1])
    if activation == "relu":
        hidden = jax.nn.relu(hidden)
    return jnp.matmul(hidden, params["v"], precision=_HIGHEST) / jnp.sqrt(params["v"].shape[0])


def _summed_loss(params, x, y, activation):
    return 0.5 * jnp.sum((two_layer_output(params, x, activation) - y) ** 2)


@functools.partial(jax.jit, static_argnames="activation")  # one program, not one per eager primitive
def _ntk_gram(params, x, activation):
    flat, unravel = ravel_pytree(params)
    jac = jax.jacobian(lambda p: two_layer_output(unravel(p), x, activation))(flat)
    return jnp.matmul(jac, jac.T, precision=_HIGHEST)


@functools.partial(jax.jit, static_argnames="activation")
def _ntk_top(params, x, activation):
    return jnp.linalg.eigvalsh(_ntk_gram(params, x, activation))[-1]


def ntk_gram(params, x, activation: str) -> jax.Array:
    """The empirical NTK Gram matrix J J^T (m x m) of the outputs on the rows of ``x``."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation = {activation!r} is unknown; valid: {ACTIVATIONS}")
    return _ntk_gram(params, jnp.asarray(x), activation)


def ntk_top_eigenvalue(params, x, activation: str) -> jax.Array:
    """Top eigenvalue of the empirical NTK Gram matrix J J^T on the inputs ``x``."""
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation = {activation!r} is unknown; valid: {ACTIVATIONS}")
    return _ntk_top(params, jnp.asarray(x), activation)


@functools.partial(jax.jit, static_argnames=("activation", "steps"))
def _train(params, x, y, etas, activation, steps):
    def one(eta):
        def step(p, _):
            grads = jax.grad(_summed_loss)(p, x, y, activation)
            p = jax.tree_util.tree_map(lambda a, g: a - eta * g, p, grads)
            return p, _summed_loss(p, x, y, activation)

        final, losses = jax.lax.scan(step, params, None, length=steps)
        losses = jnp.concatenate([_summed_loss(params, x, y, activation)[None], losses])
        finite = jnp.all(jnp.isfinite(jax.flatten_util.ravel_pytree(final)[0]))
        safe = jax.tree_util.tree_map(lambda a, b: jnp.where(finite, a, b), final, params)
        ntk_final = jnp.where(finite, _ntk_top(safe, x, activation), jnp.nan)
        return losses, ntk_final

    losses, ntk_final = jax.lax.map(one, etas)
    ntk_initial = _ntk_top(params, x, activation)
    diverged = ~jnp.isfinite(losses[:, -1]) | (losses[:, -1] > losses[:, 0])
    return TwoLayerRun(losses, jnp.broadcast_to(ntk_initial, etas.shape), ntk_final, diverged)


def train_two_layer(params, x, y, etas, steps: int, activation: str) -> TwoLayerRun:
    """Full-batch GD on 1/2 sum (f - y)^2 from ``params``, one run per learning rate in ``etas``.

    Every run starts from the same ``params``; results carry a leading axis over
    ``etas`` (``lax.map``: one compiled step, runs one after another to bound memory).
    A learning rate that makes the run blow up is a result: ``diverged`` is set and
    ``ntk_final`` is nan.
    """
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation = {activation!r} is unknown; valid: {ACTIVATIONS}")
    x, y = jnp.asarray(x), jnp.asarray(y)
    if x.ndim != 2 or y.shape != (x.shape[0],) or params["w"].shape[1] != x.shape[1]:
        raise ValueError(f"shapes do not match: x {x.shape}, y {y.shape}, w {params['w'].shape}")
    etas = jnp.atleast_1d(jnp.asarray(etas, x.dtype))
    for e in etas.tolist():
        _positive("eta", e)
    return _train(params, x, y, etas, activation=activation, steps=_steps(steps))
