r"""Taylor models of any network about its initialisation, and plain gradient descent on them.

Independent of ``analytic``. For a network ``apply(params, x)`` (any pytree of parameters, any
batch of inputs, one scalar output per input) and initial parameters $\theta_0$:

$$f_{\rm lin}(\theta, x) = f(\theta_0, x) + J(x)\,\Delta\theta,\qquad
f_{\rm quad}(\theta, x) = f_{\rm lin}(\theta, x) + \tfrac12\,\Delta\theta^\top H(x)\,\Delta\theta,
\qquad \Delta\theta = \theta - \theta_0,$$

where $J\Delta\theta$ is one ``jax.jvp`` and $\Delta\theta^\top H\Delta\theta$ the forward
derivative of that jvp in the same direction (nested ``jax.jvp``): neither $J$ nor $H$ is
ever formed. The Taylor models are trained by the same gradient descent as the network
(``gradient_descent``: the squared loss $\tfrac12\sum_\alpha (f(x_\alpha) - y_\alpha)^2$,
``jax.grad`` of whichever model is given), so that their gap to the network is the effect of
the terms the expansion drops (Lee et al. 2019, arXiv:1902.06720v4, sec. 2.2 for the
linearised model). ``empirical_ntk`` is $J J^\top$ on a batch (``jax.jacrev``).

Example:
    >>> import jax.numpy as jnp
    >>> apply = lambda p, x: p["a"] * jnp.sin(p["w"] * x)
    >>> p0 = {"a": jnp.asarray(1.0), "w": jnp.asarray(0.5)}
    >>> lin, quad = taylor_model(apply, p0, 1), taylor_model(apply, p0, 2)
    >>> p = {"a": jnp.asarray(1.1), "w": jnp.asarray(0.6)}
    >>> x = jnp.ones(1)
    >>> [round(float(m(p, x)[0]), 4) for m in (apply, lin, quad)]
    [0.6211, 0.6151, 0.6215]
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["taylor_model", "empirical_ntk", "gradient_descent", "GDResult"]


def _difference(params, params0):
    return jax.tree_util.tree_map(lambda p, p0: p - p0, params, params0)


def taylor_model(apply: Callable, params0, order: int) -> Callable:
    """``model(params, x)``: the order-``order`` Taylor expansion of ``apply`` in the parameters at ``params0``.

    ``order`` is 1 (the linearised model, one ``jax.jvp``) or 2 (adds half the Hessian quadratic
    form, a ``jax.jvp`` of the ``jax.jvp``). The returned function has the network's signature,
    so ``gradient_descent`` and ``empirical_ntk`` take it unchanged.
    """
    if isinstance(order, bool) or order not in (1, 2):
        raise ValueError(f"taylor_model: order = {order!r} must be 1 (linearised) or 2 (second order)")

    def model(params, x):
        step = _difference(params, params0)

        def directional(p):  # J(p) step
            return jax.jvp(lambda q: apply(q, x), (p,), (step,))[1]

        if order == 1:
            value, first = jax.jvp(lambda q: apply(q, x), (params0,), (step,))
            return value + first
        first, second = jax.jvp(directional, (params0,), (step,))  # J step, step^T H step
        return apply(params0, x) + first + 0.5 * second

    return model


def empirical_ntk(apply: Callable, params, x) -> jax.Array:
    r"""$\Theta(x_\alpha, x_\beta) = \sum_p \partial_p f(x_\alpha)\,\partial_p f(x_\beta)$ on the batch ``x`` (by ``jax.jacrev``)."""
    jac = jax.jacrev(apply)(params, x)
    rows = [j.reshape(j.shape[0], -1) for j in jax.tree_util.tree_leaves(jac)]
    flat = jnp.concatenate(rows, axis=1)
    return flat @ flat.T


class GDResult(NamedTuple):
    """The end of a gradient-descent run."""

    params: object  # the trained parameters
    outputs: jax.Array  # (inputs,) f at the training inputs after the last step
    ntk: jax.Array  # (inputs, inputs) the empirical NTK after the last step


def gradient_descent(apply: Callable, params, x, targets, learning_rate, steps: int) -> GDResult:
    r"""``steps`` steps of $\theta \leftarrow \theta - \eta\,\nabla_\theta \tfrac12\sum_\alpha(f(x_\alpha) - y_\alpha)^2$.

    Full-batch gradient descent (a ``lax.scan``), the discretisation of gradient flow
    $\dot f = -\Theta\,(f - y)$ at step ``learning_rate``: traceable, so it ``vmap``s over
    initialisations. ``steps`` is a Python int (the scan length); ``learning_rate`` is a number or
    an array of ``steps`` per-step rates (a schedule: zeros stop the run early, so that runs of
    different lengths share one compiled scan).
    """
    if isinstance(steps, bool) or int(steps) != steps or steps < 0:
        raise ValueError(f"gradient_descent: steps = {steps!r} must be an integer >= 0")
    if not isinstance(learning_rate, jax.core.Tracer):
        rates = np.asarray(learning_rate, dtype=float)
        if not np.all(np.isfinite(rates) & (rates >= 0)):
            raise ValueError(f"gradient_descent: learning_rate = {learning_rate!r} must be finite and >= 0 "
                             "(a number, or one per step)")

    def loss(p):
        return 0.5 * jnp.sum((apply(p, x) - targets) ** 2)

    rates = jnp.broadcast_to(jnp.asarray(learning_rate), (int(steps),))

    def step(p, rate):
        grads = jax.grad(loss)(p)
        return jax.tree_util.tree_map(lambda a, g: a - rate * g, p, grads), None

    params, _ = jax.lax.scan(step, params, rates)
    return GDResult(params, apply(params, x), empirical_ntk(apply, params, x))
