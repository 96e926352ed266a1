"""Min-max methods run directly on bilinear games ``f(x, y) = x^T A y`` (and strongly monotone ones).

Independent of ``analytic``: nothing here knows a spectral radius. The vector field
is ``F(x, y) = (A y, -A^T x)`` (x descends, y ascends). Methods (step ``eta``):

* ``"simultaneous_gda"``: ``x' = x - eta A y``, ``y' = y + eta A^T x``;
* ``"alternating_gda"``: ``x' = x - eta A y``, then ``y' = y + eta A^T x'``;
* ``"extragradient"``: an extrapolation step to ``(x_h, y_h)`` by simultaneous GDA,
  then ``x' = x - eta A y_h``, ``y' = y + eta A^T x_h``;
* ``"optimistic_gda"``: ``z' = z - 2 eta F(z) + eta F(z_prev)``;
* ``"negative_momentum"``: alternating GDA plus ``momentum * (z - z_prev)`` on each
  player (x first, then y with the new x); negative momentum is ``momentum < 0``.

Linear dynamics grow or shrink geometrically, so the state (with its history) is
rescaled to unit norm after every step and the logarithm of the scale is carried:
the true iterate is ``exp(log_scale[t]) * x[t]``. No overflow, whatever the rate.

With ``mu > 0`` the game is the strongly monotone
``f(x, y) = mu/2 |x|^2 + x^T A y - mu/2 |y|^2``: ``grad_x f = mu x + A y``,
``grad_y f = A^T x - mu y``, and every update above uses these gradients
(``mu = 0``, the default, is the bilinear game).
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["METHODS", "GameTrajectory", "random_bilinear_game", "run_method", "run_batch"]

METHODS = ("simultaneous_gda", "alternating_gda", "extragradient", "optimistic_gda", "negative_momentum")


class GameTrajectory(NamedTuple):
    """Normalised iterates ``x[t]``, ``y[t]`` (t = 0..steps) and ``log_scale[t]``.

    The iterate of the method is ``exp(log_scale[t]) * (x[t], y[t])``; ``diverged``
    is set when the state norm (with history) grew by more than 10x over the run.
    """

    x: jax.Array
    y: jax.Array
    log_scale: jax.Array
    diverged: jax.Array


def random_bilinear_game(key, singular_values, dtype=None) -> tuple[jax.Array, jax.Array, jax.Array]:
    """``(A, U, V)`` with ``A = U diag(singular_values) V^T`` and Haar-random U, V (d x d)."""
    s = jnp.asarray(singular_values, dtype=dtype or jnp.result_type(float))
    if s.ndim != 1 or s.shape[0] < 1:
        raise ValueError(f"singular_values must be a non-empty 1-D array, got shape {s.shape}")
    if not bool(jnp.all(jnp.isfinite(s))) or bool(jnp.any(s <= 0)):
        raise ValueError(f"singular_values must be finite and > 0, got {singular_values!r}")
    d = s.shape[0]
    ku, kv = jax.random.split(key)

    def haar(k):
        q, r = jnp.linalg.qr(jax.random.normal(k, (d, d), s.dtype))
        return q * jnp.sign(jnp.diag(r))

    U, V = haar(ku), haar(kv)
    return (U * s) @ V.T, U, V


def _step(method: str, A, eta, momentum, mu, state):
    x, y, xp, yp = state

    def grad_x(u, v):
        return mu * u + A @ v

    def grad_y(u, v):
        return A.T @ u - mu * v

    if method == "simultaneous_gda":
        return x - eta * grad_x(x, y), y + eta * grad_y(x, y), x, y
    if method == "alternating_gda":
        x_new = x - eta * grad_x(x, y)
        return x_new, y + eta * grad_y(x_new, y), x, y
    if method == "extragradient":
        x_half, y_half = x - eta * grad_x(x, y), y + eta * grad_y(x, y)
        return x - eta * grad_x(x_half, y_half), y + eta * grad_y(x_half, y_half), x, y
    if method == "optimistic_gda":
        x_new = x - 2 * eta * grad_x(x, y) + eta * grad_x(xp, yp)
        y_new = y + 2 * eta * grad_y(x, y) - eta * grad_y(xp, yp)
        return x_new, y_new, x, y
    if method == "negative_momentum":
        x_new = x - eta * grad_x(x, y) + momentum * (x - xp)
        y_new = y + eta * grad_y(x_new, y) + momentum * (y - yp)
        return x_new, y_new, x, y
    raise ValueError(f"unknown method {method!r}; methods are {METHODS}")


def _run(A, x0, y0, eta, momentum, mu, x_prev, y_prev, method_index, steps):
    """One trajectory; ``method_index`` (traced) picks the update by ``lax.switch``, so
    every method shares one compilation per shape."""
    branches = [functools.partial(_step, m) for m in METHODS]

    def norm(state):
        return jnp.sqrt(sum(jnp.sum(s**2) for s in state))

    def advance(carry, _):
        state, log_scale = carry
        state = jax.lax.switch(method_index, branches, A, eta, momentum, mu, state)
        size = norm(state)
        state = tuple(s / size for s in state)
        log_scale = log_scale + jnp.log(size)
        return (state, log_scale), (state[0], state[1], log_scale)

    start = (x0, y0, x_prev, y_prev)
    size = norm(start)
    start = tuple(s / size for s in start)
    _, (xs, ys, logs) = jax.lax.scan(advance, (start, jnp.log(size)), None, length=steps)
    xs = jnp.concatenate([start[0][None], xs])
    ys = jnp.concatenate([start[1][None], ys])
    logs = jnp.concatenate([jnp.log(size)[None], logs])
    return xs, ys, logs


@functools.partial(jax.jit, static_argnames=("steps", "single"))
def _run_batch(A, x0, y0, eta, momentum, mu, x_prev, y_prev, method_index, steps, single=False):
    """The batched run and its ``diverged`` flags in one program (the broadcasting of ``eta``,
    ``momentum``, ``mu`` to the batch and, with ``single``, the batch axis of one run added and
    taken off again inside it: no eager operation, so no compilation per operation and shape)."""
    if single:
        A, x0, y0, x_prev, y_prev = (a[None] for a in (A, x0, y0, x_prev, y_prev))
    batch = A.shape[0]
    eta, momentum, mu = (jnp.broadcast_to(jnp.asarray(v, A.dtype), (batch,)) for v in (eta, momentum, mu))
    one = functools.partial(_run, steps=steps)
    xs, ys, logs = jax.vmap(one, in_axes=(0, 0, 0, 0, 0, 0, 0, 0, None))(
        A, x0, y0, eta, momentum, mu, x_prev, y_prev, method_index)
    out = (xs, ys, logs, logs[:, -1] - logs[:, 0] > jnp.log(10.0))
    return tuple(field[0] for field in out) if single else out


def _check_run(method, A, x0, y0, eta, momentum, steps, batch: bool, mu=0.0) -> None:
    if method not in METHODS:
        raise ValueError(f"unknown method {method!r}; methods are {METHODS}")
    lead = A.shape[:1] if batch else ()
    if A.ndim != 2 + batch or x0.shape != lead + A.shape[-2:-1] or y0.shape != lead + A.shape[-1:]:
        raise ValueError(f"shapes do not match: A {A.shape}, x0 {x0.shape}, y0 {y0.shape}"
                         + (" (batch: A (B, m, n), x0 (B, m), y0 (B, n))" if batch else ""))
    if int(steps) < 1:
        raise ValueError(f"steps must be >= 1, got {steps!r}")
    for name, value, ok, valid in (("eta", eta, lambda v: v > 0, "(0, oo)"),
                                   ("momentum", momentum, lambda v: (-1 < v) & (v < 1), "(-1, 1)"),
                                   ("mu", mu, lambda v: v >= 0, "[0, oo)")):
        if isinstance(value, jax.core.Tracer):
            continue
        v = np.asarray(value, dtype=float)
        if not np.all(np.isfinite(v)) or not np.all(ok(v)):
            raise ValueError(f"{name} must be finite and in {valid}, got {value!r}")
    for name, value in (("A", A), ("x0", x0), ("y0", y0)):
        if not isinstance(value, jax.core.Tracer) and not np.all(np.isfinite(np.asarray(value))):
            raise ValueError(f"{name} contains NaN or inf")


def run_batch(method: str, A, x0, y0, eta, steps: int, momentum=0.0, x_prev=None, y_prev=None,
              mu=0.0) -> GameTrajectory:
    """:func:`run_method` over a leading batch axis of ``A`` (B, m, n), ``x0`` (B, m),
    ``y0`` (B, n) (and ``x_prev``, ``y_prev`` like them); ``eta`` and ``momentum``
    broadcast to (B,). One compilation per method, shapes and ``steps``; every field
    of the result gains the batch axis. ``mu`` (broadcast to (B,)) makes the game strongly monotone."""
    A, x0, y0 = jnp.asarray(A), jnp.asarray(x0), jnp.asarray(y0)
    _check_run(method, A, x0, y0, eta, momentum, steps, batch=True, mu=mu)
    x_prev = x0 if x_prev is None else jnp.asarray(x_prev)
    y_prev = y0 if y_prev is None else jnp.asarray(y_prev)
    if x_prev.shape != x0.shape or y_prev.shape != y0.shape:
        raise ValueError(f"x_prev {x_prev.shape} / y_prev {y_prev.shape} must have the shapes of "
                         f"x0 {x0.shape} / y0 {y0.shape}")
    return GameTrajectory(*_run_batch(A, x0, y0, eta, momentum, mu, x_prev, y_prev, METHODS.index(method),
                                      steps=int(steps)))


def run_method(method: str, A, x0, y0, eta, steps: int, momentum=0.0, mu=0.0) -> GameTrajectory:
    """Run ``method`` on ``x^T A y`` from ``(x0, y0)`` for ``steps`` steps (``lax.scan``).

    The two-step methods start at rest (``z_{-1} = z_0``; :func:`run_batch` takes
    another history). ``eta`` and ``momentum`` may be traced (vmap over them);
    ``momentum`` is used by ``"negative_momentum"`` only; ``mu > 0`` adds
    ``mu/2 |x|^2 - mu/2 |y|^2`` (strongly monotone). Divergence is a result:
    see :class:`GameTrajectory`.
    """
    A, x0, y0 = jnp.asarray(A), jnp.asarray(x0), jnp.asarray(y0)
    _check_run(method, A, x0, y0, eta, momentum, steps, batch=False, mu=mu)
    return GameTrajectory(*_run_batch(A, x0, y0, eta, momentum, mu, x0, y0, METHODS.index(method),
                                      steps=int(steps), single=True))
