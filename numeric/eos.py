r"""Full-batch GD, heavy ball and Nesterov on small MLPs, with the sharpness tracked along the way.

Independent of ``analytic``: nothing here knows a stability threshold. A network
$f(x) = w_L\cdot\phi(\dots\phi(W_1 x + b_1)\dots) + b_L$ (standard parameterisation,
weights $N(0, 1/n_{in})$, zero biases, $\phi$ = tanh or ReLU) is trained on the mean
squared error $L = \frac{1}{2m}\sum_i (f(x_i)-y_i)^2$ by

* GD: $\theta_{t+1} = \theta_t - \eta\nabla L(\theta_t)$;
* heavy ball: $\theta_{t+1} = \theta_t - \eta\nabla L(\theta_t) + \beta(\theta_t - \theta_{t-1})$;
* Nesterov: $\phi_t = \theta_t + \beta(\theta_t - \theta_{t-1})$,
  $\theta_{t+1} = \phi_t - \eta\nabla L(\phi_t)$.

Every ``record_every`` steps the sharpness (top Hessian eigenvalue of $L$ at
$\theta_t$) is measured with ``numeric.sharpness`` (Lanczos on Hessian-vector
products), inside the same compiled ``lax.scan``. All runs of one call (learning
rates, momenta, methods and activations may differ per run) share one compilation:
the activation is selected per run with ``lax.switch``.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from numeric.run_bound import RUN_BOUND
from numeric.sharpness import sharpness

__all__ = ["EoSRun", "init_mlp", "mlp_output", "mse_loss", "train_with_sharpness", "quadratic_growth",
           "ACTIVATIONS"]

ACTIVATIONS = {"tanh": jnp.tanh, "relu": jax.nn.relu}
_BRANCHES = tuple(ACTIVATIONS.values())  # lax.switch order: the order of ACTIVATIONS
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


def _forward(params, x, phi):
    a = x
    for w, b in params[:-1]:
        a = phi(jnp.matmul(a, w.T, precision=_HIGHEST) + b)
    w, b = params[-1]
    return (jnp.matmul(a, w.T, precision=_HIGHEST) + b)[:, 0]


def mlp_output(params, x, activation: str):
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation = {activation!r} is unknown; valid: {tuple(ACTIVATIONS)}")
    return _forward(params, x, ACTIVATIONS[activation])


def mse_loss(params, x, y, activation: str):
    """1/(2m) sum_i (f(x_i) - y_i)^2."""
    return 0.5 * jnp.mean((mlp_output(params, x, activation) - y) ** 2)


def _loss_switch(params, x, y, which):
    """The mean squared error with activation number ``which`` (traced: one compile for all)."""
    phi = lambda z: jax.lax.switch(which, _BRANCHES, z)  # noqa: E731
    return 0.5 * jnp.mean((_forward(params, x, phi) - y) ** 2)


@functools.partial(jax.jit, static_argnames=("blocks", "record_every", "lanczos"), compiler_options=RUN_BOUND)
def _train(params, x, y, etas, betas, lookahead, which, key, blocks, record_every, lanczos):
    def one(eta, beta, look, act):
        def step(state, _):
            p, before = state
            # heavy ball (look = 0) or Nesterov (look = 1): the gradient at p + look beta (p - before)
            at = jax.tree_util.tree_map(lambda a, o: a + look * beta * (a - o), p, before)
            grads = jax.grad(_loss_switch)(at, x, y, act)
            new = jax.tree_util.tree_map(lambda a, g, o: a - eta * g + beta * (a - o), p, grads, before)
            return (new, p), _loss_switch(new, x, y, act)

        def block(state, _):  # sharpness at the block's start, then record_every steps
            top = sharpness(_loss_switch, state[0], (x, y, act), iterations=lanczos, key=key).eigenvalue
            state, losses = jax.lax.scan(step, state, None, length=record_every)
            return state, (losses, top)

        # blocks + 1 blocks: the last one's sharpness is at the final step; its steps are dropped
        _, (losses, tops) = jax.lax.scan(block, (params, params), None, length=blocks + 1)
        losses = jnp.concatenate([_loss_switch(params, x, y, act)[None], losses[:-1].ravel()])
        return losses, tops

    return jax.vmap(one)(etas, betas, lookahead, which)


def train_with_sharpness(params, x, y, etas, betas, steps: int, activation, record_every: int = 10,
                         lanczos: int = 20, key=None, nesterov=False) -> EoSRun:
    """Train from ``params`` once per run (``vmap``), recording the sharpness.

    One run per entry of ``etas``; ``betas`` (0 is GD), ``nesterov`` (False: heavy
    ball) and ``activation`` (a name from ``ACTIVATIONS``, or one name per run)
    broadcast against it. ``steps`` is rounded down to a multiple of ``record_every``.
    """
    names = [activation] if isinstance(activation, str) else list(activation)
    unknown = [a for a in names if a not in ACTIVATIONS]
    if unknown or not names:
        raise ValueError(f"activation = {activation!r} is unknown; valid: {tuple(ACTIVATIONS)}")
    x, y = jnp.asarray(x), jnp.asarray(y)
    # the per-run settings and their checks in NumPy on the host (the jitted run takes them as they
    # are): no eager JAX operation, so no compilation per operation and shape
    etas = np.atleast_1d(np.asarray(etas, x.dtype))
    try:
        betas = np.broadcast_to(np.asarray(betas, x.dtype), etas.shape)
        look = np.broadcast_to(np.asarray(nesterov, x.dtype), etas.shape)
        which = np.broadcast_to(np.asarray([list(ACTIVATIONS).index(a) for a in names]), etas.shape)
    except ValueError as err:
        raise ValueError(f"betas, nesterov and activation must broadcast to the {etas.shape[0]} "
                         f"learning rates: {err}") from None
    if not np.all(np.isfinite(etas) & (etas > 0)):
        raise ValueError(f"etas must be finite and > 0, got {etas}")
    if not np.all((betas >= 0) & (betas < 1)):
        raise ValueError(f"betas must be in [0, 1), got {betas}")
    if not np.all((look == 0) | (look == 1)):
        raise ValueError(f"nesterov must be booleans, got {np.asarray(nesterov)!r}")
    for name, v in (("steps", steps), ("record_every", record_every), ("lanczos", lanczos)):
        if isinstance(v, bool) or int(v) != v or v < 1:
            raise ValueError(f"{name} = {v!r} must be an integer >= 1")
    blocks = int(steps) // int(record_every)
    if blocks < 1:
        raise ValueError(f"steps = {steps!r} must be >= record_every = {record_every!r}")
    key = jax.random.key(0) if key is None else key
    losses, tops = _train(params, x, y, etas, betas, look, which, key, blocks=blocks,
                          record_every=int(record_every), lanczos=int(lanczos))
    return EoSRun(losses, tops, *_steps_and_divergence(losses, blocks, int(record_every)))


@functools.partial(jax.jit, static_argnames=("blocks", "record_every"))
def _steps_and_divergence(losses, blocks: int, record_every: int):
    """The sharpness columns' step numbers and the ``diverged`` flags, in one program."""
    diverged = ~jnp.isfinite(losses[:, -1]) | (losses[:, -1] > losses[:, 0])
    return jnp.arange(blocks + 1) * record_every, diverged


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
