r"""Full-batch GD and heavy ball on small MLPs, with the sharpness tracked along the way.

Independent of ``analytic``: nothing here knows a stability threshold. A network
$f(x) = w_L\cdot\phi(\dots\phi(W_1 x + b_1)\dots) + b_L$ (standard parameterisation,
weights $N(0, 1/n_{in})$, zero biases, $\phi$ = tanh or ReLU) is trained on the mean
squared error $L = \frac{1}{2m}\sum_i (f(x_i)-y_i)^2$ by

* GD: $\theta_{t+1} = \theta_t - \eta\nabla L(\theta_t)$;
* heavy ball: $\theta_{t+1} = \theta_t - \eta\nabla L(\theta_t) + \beta(\theta_t - \theta_{t-1})$.

Every ``record_every`` steps the sharpness (top Hessian eigenvalue of $L$) is measured
with ``numeric.sharpness`` (Lanczos on Hessian-vector products), inside the same
compiled ``lax.scan``.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp

from numeric.sharpness import sharpness

__all__ = ["EoSRun", "init_mlp", "mlp_output", "mse_loss", "train_with_sharpness", "quadratic_growth",
           "ACTIVATIONS"]

ACTIVATIONS = {"tanh": jnp.tanh, "relu": jax.nn.relu}
_HIGHEST = jax.lax.Precision.HIGHEST


class EoSRun(NamedTuple):
    """Losses at every step, sharpness every ``record_every`` steps (leading axes: the batch)."""

    losses: jax.Array  # (..., steps + 1)
    sharpness: jax.Array  # (..., steps // record_every + 1), at steps 0, k, 2k, ...
    sharpness_steps: jax.Array  # the step numbers of the sharpness columns
    diverged: jax.Array  # non-finite or final loss above the initial one


def init_mlp(key, in_dim: int, width: int, depth: int, dtype=None) -> list:
    """[(W, b)] for ``depth`` hidden layers and a scalar output; W ~ N(0, 1/n_in), b = 0."""
    for name, v in (("in_dim", in_dim), ("width", width), ("depth", depth)):
        if isinstance(v, bool) or int(v) != v or v < 1:
            raise ValueError(f"{name} = {v!r} must be an integer >= 1")
    dtype = dtype or jnp.result_type(float)
    dims = [int(in_dim)] + [int(width)] * int(depth) + [1]
    keys = jax.random.split(key, len(dims) - 1)
    return [(jax.random.normal(k, (o, i), dtype) / math.sqrt(i), jnp.zeros((o,), dtype))
            for k, i, o in zip(keys, dims[:-1], dims[1:])]


def mlp_output(params, x, activation: str):
    phi = ACTIVATIONS[activation]
    a = x
    for w, b in params[:-1]:
        a = phi(jnp.matmul(a, w.T, precision=_HIGHEST) + b)
    w, b = params[-1]
    return (jnp.matmul(a, w.T, precision=_HIGHEST) + b)[:, 0]


def mse_loss(params, x, y, activation: str):
    """1/(2m) sum_i (f(x_i) - y_i)^2."""
    return 0.5 * jnp.mean((mlp_output(params, x, activation) - y) ** 2)


def _loss_tanh(params, x, y):
    return mse_loss(params, x, y, "tanh")


def _loss_relu(params, x, y):
    return mse_loss(params, x, y, "relu")


_LOSSES = {"tanh": _loss_tanh, "relu": _loss_relu}  # module-level: one compile per activation


@functools.partial(jax.jit, static_argnames=("activation", "steps", "record_every", "lanczos"))
def _train(params, x, y, etas, betas, key, activation, steps, record_every, lanczos):
    loss = _LOSSES[activation]

    def one(eta, beta):
        def gd_step(state, _):
            p, before = state
            grads = jax.grad(loss)(p, x, y)
            new = jax.tree_util.tree_map(lambda a, g, o: a - eta * g + beta * (a - o), p, grads, before)
            return (new, p), loss(new, x, y)

        def block(state, _):
            state, losses = jax.lax.scan(gd_step, state, None, length=record_every)
            top = sharpness(loss, state[0], (x, y), iterations=lanczos, key=key).eigenvalue
            return state, (losses, top)

        blocks = steps // record_every
        _, (losses, tops) = jax.lax.scan(block, (params, params), None, length=blocks)
        start = sharpness(loss, params, (x, y), iterations=lanczos, key=key).eigenvalue
        losses = jnp.concatenate([loss(params, x, y)[None], losses.ravel()])
        return losses, jnp.concatenate([start[None], tops])

    losses, tops = jax.vmap(one)(etas, betas)
    return losses, tops


def train_with_sharpness(params, x, y, etas, betas, steps: int, activation: str,
                         record_every: int = 10, lanczos: int = 20, key=None) -> EoSRun:
    """Train from ``params`` once per (eta, beta) pair (``vmap``), recording the sharpness.

    ``betas`` = 0 is GD. ``steps`` is rounded down to a multiple of ``record_every``.
    """
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation = {activation!r} is unknown; valid: {tuple(ACTIVATIONS)}")
    x, y = jnp.asarray(x), jnp.asarray(y)
    etas = jnp.atleast_1d(jnp.asarray(etas, x.dtype))
    betas = jnp.broadcast_to(jnp.asarray(betas, x.dtype), etas.shape)
    if not bool(jnp.all(jnp.isfinite(etas) & (etas > 0))):
        raise ValueError(f"etas must be finite and > 0, got {etas}")
    if not bool(jnp.all((betas >= 0) & (betas < 1))):
        raise ValueError(f"betas must be in [0, 1), got {betas}")
    for name, v in (("steps", steps), ("record_every", record_every), ("lanczos", lanczos)):
        if isinstance(v, bool) or int(v) != v or v < 1:
            raise ValueError(f"{name} = {v!r} must be an integer >= 1")
    blocks = int(steps) // int(record_every)
    if blocks < 1:
        raise ValueError(f"steps = {steps!r} must be >= record_every = {record_every!r}")
    key = jax.random.key(0) if key is None else key
    losses, tops = _train(params, x, y, etas, betas, key, activation=activation, steps=blocks * int(record_every),
                          record_every=int(record_every), lanczos=int(lanczos))
    diverged = ~jnp.isfinite(losses[:, -1]) | (losses[:, -1] > losses[:, 0])
    return EoSRun(losses, tops, jnp.arange(blocks + 1) * int(record_every), diverged)


# --- one quadratic mode, iterated directly ---------------------------------------------------
def _quadratic_step(method: str, eta, beta, lam, now, before):
    if method == "gd":
        return now - eta * lam * now
    if method == "heavy_ball":
        return now - eta * lam * now + beta * (now - before)
    look_ahead = now + beta * (now - before)  # nesterov
    return look_ahead - eta * lam * look_ahead


@functools.partial(jax.jit, static_argnames=("method", "steps"))
def _quadratic_growth(method, eta, beta, lam, steps):
    def step(state, _):
        now, before = state
        return (_quadratic_step(method, eta, beta, lam, now, before), now), None

    one = jnp.ones_like(lam)
    (now, before), _ = jax.lax.scan(step, (one, one), None, length=steps)
    return jnp.sqrt(now**2 + before**2)


def quadratic_growth(method: str, eta: float, beta: float, lam, steps: int = 2000) -> jax.Array:
    """|(x_T, x_{T-1})| after T steps of the method on the loss lam x^2 / 2 from x_0 = x_{-1} = 1.

    Grows without bound when the method is unstable at curvature ``lam`` and
    shrinks when it is stable (``lam`` may be an array: one run per entry).
    """
    if method not in ("gd", "heavy_ball", "nesterov"):
        raise ValueError(f"method = {method!r} is unknown; valid: ('gd', 'heavy_ball', 'nesterov')")
    lam = jnp.asarray(lam, jnp.result_type(float))
    return _quadratic_growth(method, jnp.asarray(eta, lam.dtype), jnp.asarray(beta, lam.dtype), lam,
                             steps=int(steps))
