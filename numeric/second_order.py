"""CG, gradient descent with backtracking, and Hessian-free Newton, run directly in JAX.

Independent of ``analytic``: nothing here knows a closed form.

* :func:`conjugate_gradient`: Hestenes-Stiefel CG on ``A x = b`` from ``x = 0`` for a fixed
  number of steps (a ``lax.scan``), batched over a leading axis of ``A`` and ``b``; once the
  residual is exactly zero the iterate stays put (no 0/0).
* :func:`backtracking_descent`: gradient descent on ``x^T H x / 2 - b^T x`` whose step starts
  at 1 and shrinks by ``shrink`` until Armijo's test ``f(x - s g) <= f(x) - c s |g|^2`` passes
  (a ``lax.while_loop`` inside a ``lax.scan``).
* :func:`hessian_free_newton`: Newton steps on ``x^T A x / 2 + sum_i cubic_i x_i^3 / 6`` whose
  linear system ``(H + damping I) s = -g`` is solved by a fixed number of CG steps using
  Hessian-vector products (``jax.jvp`` of ``jax.grad``), never forming ``H`` (Martens 2010).
"""

from __future__ import annotations

from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np


class CGRun(NamedTuple):
    iterates: jax.Array  # (..., steps + 1, d): x_0 = 0, x_1, ..., x_steps
    residual_norms: jax.Array  # (..., steps + 1): |b - A x_t|_2 (the recursively updated residual)


class BacktrackingRun(NamedTuple):
    iterates: jax.Array  # (..., steps + 1, d)
    losses: jax.Array  # (..., steps + 1): f(x_t)
    accepted_steps: jax.Array  # (..., steps): the step each iteration accepted
    gradients: jax.Array  # (..., steps, d): the gradient each iteration stepped along
    trials: jax.Array  # (..., steps): Armijo tests evaluated per iteration


class NewtonRun(NamedTuple):
    iterates: jax.Array  # (outer_steps + 1, d)


def _check_positive_int(name, value):
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
        raise ValueError(f"{name} must be a positive integer, got {value!r}")


def _check_unit(name, value, upper=1.0):
    if not 0.0 < float(value) < upper:
        raise ValueError(f"{name} must lie in (0, {upper:g}), got {value!r}")


def _cg_step(matvec, state):
    x, r, p, rr = state
    ap = matvec(p)
    curvature = jnp.vdot(p, ap)
    done = rr == 0  # converged exactly: keep everything as is
    step = jnp.where(done, 0.0, rr / jnp.where(done, 1.0, curvature))
    x, r = x + step * p, r - step * ap
    rr_new = jnp.vdot(r, r)
    p = r + jnp.where(done, 0.0, rr_new / jnp.where(done, 1.0, rr)) * p
    return (x, r, p, rr_new)


def _cg_single(matrix, rhs, steps):
    def body(state, _):
        state = _cg_step(lambda v: matrix @ v, state)
        return state, (state[0], jnp.sqrt(state[3]))

    x0 = jnp.zeros_like(rhs)
    _, (xs, norms) = jax.lax.scan(body, (x0, rhs, rhs, jnp.vdot(rhs, rhs)), None, length=steps)
    return (jnp.concatenate([x0[None], xs]), jnp.concatenate([jnp.linalg.norm(rhs)[None], norms]))


_cg_batched = jax.jit(jax.vmap(_cg_single, in_axes=(0, 0, None)), static_argnums=2)


def conjugate_gradient(matrix, rhs, steps: int) -> CGRun:
    """``steps`` CG iterations on ``matrix @ x = rhs`` from 0; ``matrix`` (B, d, d), ``rhs`` (B, d).

    Example:
        >>> run = conjugate_gradient(np.eye(3)[None] * 2.0, np.ones((1, 3)), 1)
        >>> [round(float(v), 6) for v in run.iterates[0, 1]]  # one step: the exact solution
        [0.5, 0.5, 0.5]
    """
    _check_positive_int("steps", steps)
    matrix, rhs = jnp.asarray(matrix), jnp.asarray(rhs)
    if matrix.ndim != 3 or rhs.shape != matrix.shape[:2] or matrix.shape[1] != matrix.shape[2]:
        raise ValueError(f"matrix must be (B, d, d) and rhs (B, d), got {matrix.shape} and {rhs.shape}")
    return CGRun(*_cg_batched(matrix, rhs, steps))


def _quadratic(hessian, rhs, x):
    return 0.5 * x @ hessian @ x - rhs @ x


def _backtracking_single(hessian, rhs, x0, steps, sufficient_decrease, shrink, max_trials):
    def one_step(x, _):
        loss, grad = _quadratic(hessian, rhs, x), hessian @ x - rhs
        gg = grad @ grad

        def rejected(carry):
            s, trials = carry
            return (trials < max_trials) & (_quadratic(hessian, rhs, x - s * grad) > loss - sufficient_decrease * s * gg)

        s, trials = jax.lax.while_loop(rejected, lambda c: (c[0] * shrink, c[1] + 1), (jnp.ones_like(loss), 1))
        x_new = x - s * grad
        return x_new, (x_new, _quadratic(hessian, rhs, x_new), s, grad, trials)

    _, (xs, losses, accepted, grads, trials) = jax.lax.scan(one_step, x0, None, length=steps)
    loss0 = _quadratic(hessian, rhs, x0)
    return (jnp.concatenate([x0[None], xs]), jnp.concatenate([loss0[None], losses]), accepted, grads, trials)


_backtracking_batched = jax.jit(jax.vmap(_backtracking_single, in_axes=(0, 0, 0, None, None, None, None)),
                                static_argnums=(3, 6))


def backtracking_descent(hessian, rhs, x0, steps: int, sufficient_decrease: float, shrink: float,
                         max_trials: int = 200) -> BacktrackingRun:
    """GD with Armijo backtracking (from step 1) on ``x^T H x/2 - b^T x``; batched (B, d, d), (B, d), (B, d).

    Example:
        >>> run = backtracking_descent(np.eye(2)[None], np.zeros((1, 2)), np.ones((1, 2)), 1, 0.3, 0.5)
        >>> float(run.accepted_steps[0, 0]), float(run.losses[0, 1])  # step 1 lands on the minimiser
        (1.0, 0.0)
    """
    _check_positive_int("steps", steps)
    _check_positive_int("max_trials", max_trials)
    _check_unit("sufficient_decrease", sufficient_decrease, 0.5)
    _check_unit("shrink", shrink)
    return BacktrackingRun(*_backtracking_batched(jnp.asarray(hessian), jnp.asarray(rhs), jnp.asarray(x0), steps,
                                                  float(sufficient_decrease), float(shrink), max_trials))


def _newton_single(matrix, cubic, x0, outer_steps, inner_steps, damping):
    def objective(x):
        return 0.5 * x @ matrix @ x + jnp.sum(cubic * x**3) / 6

    gradient = jax.grad(objective)

    def outer(x, _):
        g = gradient(x)

        def hessian_vector(v):  # (H + damping I) v without forming H
            return jax.jvp(gradient, (x,), (v,))[1] + damping * v

        s, *_ = jax.lax.fori_loop(0, inner_steps, lambda _, state: _cg_step(hessian_vector, state),
                                  (jnp.zeros_like(x), -g, -g, g @ g))
        return x + s, x + s

    _, xs = jax.lax.scan(outer, x0, None, length=outer_steps)
    return jnp.concatenate([x0[None], xs])


_newton_jit = jax.jit(_newton_single, static_argnums=3)  # inner_steps traced: one compilation per shape


def hessian_free_newton(matrix, cubic, x0, outer_steps: int, inner_steps: int, damping: float = 0.0) -> NewtonRun:
    """Truncated (Hessian-free) Newton on ``x^T A x/2 + sum cubic_i x_i^3/6``: ``inner_steps`` CG steps per update.

    Example:
        >>> run = hessian_free_newton(np.eye(2), np.zeros(2), np.ones(2), 1, 1)
        >>> [float(v) for v in run.iterates[1]]  # a quadratic: one Newton step lands on 0
        [0.0, 0.0]
    """
    _check_positive_int("outer_steps", outer_steps)
    _check_positive_int("inner_steps", inner_steps)
    if not float(damping) >= 0.0:
        raise ValueError(f"damping must be >= 0, got {damping!r}")
    return NewtonRun(_newton_jit(jnp.asarray(matrix), jnp.asarray(cubic), jnp.asarray(x0), outer_steps,
                                 jnp.asarray(inner_steps), float(damping)))
