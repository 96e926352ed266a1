"""MAML run directly on quadratic tasks: jax.grad through the inner loop, first-order MAML, meta-training.

Independent of ``analytic``: nothing here knows a closed form.

A task is a support (inner) quadratic ``1/2 (theta - a)^T Hs (theta - a)`` and a query (outer)
quadratic ``1/2 (theta - b)^T Hq (theta - b)``; a batch of tasks is arrays with a leading task
axis (``support_curvature`` (tasks, d, d), ``support_optimum`` (tasks, d), ...). The inner loop
is ``inner_steps`` GD steps on the support loss (its gradient by ``jax.grad``) in a
``lax.scan`` of fixed length ``max_steps`` that freezes after ``inner_steps`` (so a grid of step
counts is one ``vmap``); the meta-gradient is ``jax.grad`` of the query loss at the adapted
parameter through that loop. First-order MAML puts a ``stop_gradient`` on
each inner gradient, so the adapted parameter moves with ``theta`` one for one.
:func:`meta_train` runs outer GD on the mean meta-loss over a batch of tasks and reports the
meta-loss Hessian at the end (``jax.hessian``).
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["Tasks", "MetaGradients", "meta_gradients", "MetaTraining", "meta_train"]


class Tasks(NamedTuple):
    """A batch of quadratic tasks: support_curvature (n, d, d), support_optimum (n, d), query_* likewise."""

    support_curvature: jax.Array
    support_optimum: jax.Array
    query_curvature: jax.Array
    query_optimum: jax.Array


class MetaTraining(NamedTuple):
    """Final meta-parameter, mean meta-loss at each outer step, and the meta-loss Hessian at the end."""

    theta: jax.Array
    meta_loss: jax.Array
    hessian: jax.Array


def _as_tasks(tasks) -> Tasks:
    hs, a, hq, b = (jnp.asarray(v, dtype=jnp.result_type(float)) for v in tasks)
    n, d = a.shape if a.ndim == 2 else (None, None)
    if a.ndim != 2 or hs.shape != (n, d, d) or hq.shape != (n, d, d) or b.shape != (n, d):
        raise ValueError(f"tasks must be (support_curvature (n, d, d), support_optimum (n, d), query_curvature "
                         f"(n, d, d), query_optimum (n, d)), got shapes {hs.shape}, {a.shape}, {hq.shape}, {b.shape}")
    for name, v in zip(Tasks._fields, (hs, a, hq, b)):
        if not np.all(np.isfinite(np.asarray(v))):
            raise ValueError(f"{name} must be finite")
    return Tasks(hs, a, hq, b)


def _check_rate(name, value):
    v = np.asarray(value, dtype=float)
    if not np.all(np.isfinite(v)) or np.any(v <= 0):
        raise ValueError(f"{name} must be finite and > 0, got {value!r}")


def _check_steps(steps):
    steps = np.atleast_1d(np.asarray(steps))
    if steps.ndim != 1 or np.any(steps < 0) or np.any(steps != np.round(steps)):
        raise ValueError(f"inner_steps must be non-negative integers, got {steps!r}")
    return steps.astype(int)


def _quadratic(theta, curvature, optimum):
    return 0.5 * (theta - optimum) @ curvature @ (theta - optimum)


def _adapt(theta, hs, a, learning_rate, steps, max_steps, first_order):
    support_gradient = jax.grad(_quadratic)

    def step(th, j):
        g = support_gradient(th, hs, a)
        if first_order:
            g = jax.lax.stop_gradient(g)
        return jnp.where(j < steps, th - learning_rate * g, th), None

    th, _ = jax.lax.scan(step, theta, jnp.arange(max_steps))
    return th


def _meta_loss(theta, task, learning_rate, steps, max_steps, first_order):
    hs, a, hq, b = task
    return _quadratic(_adapt(theta, hs, a, learning_rate, steps, max_steps, first_order), hq, b)


class MetaGradients(NamedTuple):
    """Per (inner steps, task): the adapted parameter, the MAML meta-gradient and the first-order one."""

    adapted: jax.Array
    exact: jax.Array
    first_order: jax.Array


@functools.partial(jax.jit, static_argnames="max_steps")
def _gradients(theta, tasks, learning_rate, steps, max_steps):
    def one(th, task, k):
        hs, a, _, _ = task
        return MetaGradients(_adapt(th, hs, a, learning_rate, k, max_steps, False),
                             jax.grad(_meta_loss)(th, task, learning_rate, k, max_steps, False),
                             jax.grad(_meta_loss)(th, task, learning_rate, k, max_steps, True))

    per_task = jax.vmap(one, in_axes=(0, 0, None))
    return jax.vmap(lambda k: per_task(theta, tasks, k))(steps)


def meta_gradients(theta, tasks, learning_rate, inner_steps) -> MetaGradients:
    """The adapted parameter and ``jax.grad`` in ``theta`` of each task's query loss after ``inner_steps``
    inner GD steps, through the loop (``exact``) and first-order (``first_order``).

    ``theta`` (n, d): one meta-parameter per task; ``inner_steps`` a 1-D grid of step counts.
    Each field has shape (len(inner_steps), n, d).

    Example:
        >>> import jax; jax.config.update("jax_enable_x64", True)
        >>> import numpy as np
        >>> from numeric import maml
        >>> tasks = (np.ones((1, 1, 1)), np.zeros((1, 1)), np.ones((1, 1, 1)), np.zeros((1, 1)))
        >>> out = maml.meta_gradients(np.ones((1, 1)), tasks, 0.5, [1])  # theta_1 = 1/2; exact (1/2) theta_1
        >>> float(out.adapted[0, 0, 0]), float(out.exact[0, 0, 0]), float(out.first_order[0, 0, 0])
        (0.5, 0.25, 0.5)
    """
    tasks = _as_tasks(tasks)
    _check_rate("learning_rate", learning_rate)
    steps = _check_steps(inner_steps)
    theta = jnp.asarray(theta, dtype=tasks.support_optimum.dtype)
    if theta.shape != tasks.support_optimum.shape:
        raise ValueError(f"theta must have shape {tasks.support_optimum.shape} (one per task), got {theta.shape}")
    return _gradients(theta, tasks, learning_rate, jnp.asarray(steps), int(steps.max()))


@functools.partial(jax.jit, static_argnames=("max_steps", "outer_steps"))
def _train(theta0, tasks, learning_rate, inner_steps, max_steps, outer_learning_rate, outer_steps):
    def mean_loss(theta):
        losses = jax.vmap(lambda task: _meta_loss(theta, task, learning_rate, inner_steps, max_steps, False))(tasks)
        return jnp.mean(losses)

    def step(theta, _):
        loss, grad = jax.value_and_grad(mean_loss)(theta)
        return theta - outer_learning_rate * grad, loss

    theta, losses = jax.lax.scan(step, theta0, None, length=outer_steps)
    return MetaTraining(theta, losses, jax.hessian(mean_loss)(theta))


def meta_train(theta0, tasks, learning_rate, inner_steps, outer_learning_rate, outer_steps: int) -> MetaTraining:
    """MAML meta-training: ``outer_steps`` GD steps on the mean meta-loss (jax.grad through the inner loop).

    ``theta0`` (runs, d), ``learning_rate`` (runs,) and ``inner_steps`` (runs,): one training run
    each (vmapped, one compiled program); the fields have a leading runs axis.
    """
    tasks = _as_tasks(tasks)
    _check_rate("learning_rate", learning_rate)
    _check_rate("outer_learning_rate", outer_learning_rate)
    steps = _check_steps(inner_steps)
    if int(outer_steps) != outer_steps or outer_steps < 1:
        raise ValueError(f"outer_steps must be an integer >= 1, got {outer_steps!r}")
    theta0 = jnp.asarray(theta0, dtype=tasks.support_optimum.dtype)
    rates = jnp.asarray(learning_rate, dtype=theta0.dtype)
    if theta0.ndim != 2 or theta0.shape[1:] != tasks.support_optimum.shape[1:] or rates.shape != theta0.shape[:1] \
            or steps.shape != theta0.shape[:1]:
        raise ValueError(f"theta0 must be (runs, {tasks.support_optimum.shape[1]}) with learning_rate and inner_steps "
                         f"(runs,), got {theta0.shape}, {rates.shape}, {steps.shape}")
    run = jax.vmap(_train, in_axes=(0, None, 0, 0, None, None, None))
    return run(theta0, tasks, rates, jnp.asarray(steps), int(steps.max()), outer_learning_rate, int(outer_steps))
