r"""Curvature of small networks by autodiff, and leave-one-out retraining, run directly.

Independent of ``analytic``: nothing here knows a closed form; every derivative is JAX autodiff
of the losses written below.

Models: ``mlp`` (one tanh hidden layer, ``f(x) = v . tanh(W x / sqrt(d) + b) / sqrt(width)``) and
``linear`` (``f(x) = w . x``), both on flat parameter vectors. Losses per example: ``"mse"``,
``(f - y)^2 / 2``; ``"logistic"``, the binary cross-entropy ``softplus(f) - y f``. The training
objective is the mean loss plus ``weight_decay/2 |theta|^2``.

Products with a flat vector ``v`` (all of the mean loss over the data ``x``, ``y``):

* :func:`hessian_vector_product` (reused from :mod:`numeric.sharpness`: forward-over-reverse);
* :func:`gauss_newton_vector_product`: ``J^T (d^2 l/df^2) J v / n``, the per-example output
  curvature by ``jax.grad`` twice of the loss in ``f``;
* :func:`residual_vector_product`: ``(1/n) sum_i (dl/df_i) hess f_i v``, the HVP of
  ``sum_i stop_gradient(dl/df_i) f_i``;
* :func:`output_jvp`, :func:`output_vjp`, :func:`weighted_output_hvp`: ``J v``, ``J^T u`` and
  ``sum_i u_i hess f_i v`` (the pieces a decomposition needs, for any output weights);
* :func:`fisher_vector_product`: the logistic model's true Fisher, labels from the model,
  ``sum_i sum_{y in {0,1}} p(y|x_i) g_iy (g_iy . v) / n`` with ``g_iy`` the parameter gradient of
  the loss at label ``y`` (enumerated: exact); :func:`sampled_fisher_quadratic` the same quadratic
  form with sampled labels (Monte Carlo, with its standard error); :func:`empirical_fisher_quadratic`
  with the observed labels.

Leave-one-out: :func:`ridge_leave_one_out` solves ridge regression again without each point;
:func:`newton_leave_one_out` retrains a model by Newton's method from the full-data minimiser
without each point (objective ``(1/n) sum_{j != i} l_j + weight_decay/2 |theta|^2``, the
normalisation of Koh & Liang 2017). Both return the actual change of a test loss and the
influence-function inner product ``grad L_test^T H^-1 grad l_i`` at the full-data minimiser.

Example:
    >>> import jax, jax.numpy as jnp
    >>> x = jax.random.normal(jax.random.key(0), (8, 3))
    >>> theta = init_params(jax.random.key(1), "linear", 3, 1)
    >>> v = jnp.ones(3)
    >>> h = hessian_vector_product(lambda p: mean_loss(p, x, jnp.zeros(8), "linear", "mse"), theta)(v)
    >>> bool(jnp.allclose(h, gauss_newton_vector_product(theta, x, jnp.zeros(8), "linear", "mse", v)))
    True
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from numeric.sharpness import hessian_vector_product

__all__ = ["MODELS", "LOSSES", "init_params", "outputs", "example_losses", "mean_loss", "train",
           "hessian_vector_product", "gauss_newton_vector_product", "residual_vector_product", "output_jvp",
           "output_vjp", "weighted_output_hvp", "label_gradients", "fisher_vector_product", "sampled_fisher_quadratic",
           "empirical_fisher_quadratic", "LeaveOneOut", "ridge_leave_one_out", "newton_leave_one_out",
           "minimise_newton"]

MODELS = ("mlp", "linear")
LOSSES = ("mse", "logistic")


def _choice(name: str, value: str, options: tuple[str, ...]) -> str:
    if value not in options:
        raise ValueError(f"{name} must be one of {options}, got {value!r}")
    return value


def _shapes(model: str, input_dim: int, width: int) -> list[tuple[int, ...]]:
    if model == "linear":
        return [(input_dim,)]
    return [(input_dim, width), (width,), (width,)]


def init_params(key: jax.Array, model: str, input_dim: int, width: int) -> jax.Array:
    """Standard-normal flat parameters of ``model`` (``width`` is ignored by ``"linear"``)."""
    _choice("model", model, MODELS)
    for name, value in (("input_dim", input_dim), ("width", width)):
        if not isinstance(value, int) or isinstance(value, bool) or value < 1:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    size = sum(int(jnp.prod(jnp.array(s))) for s in _shapes(model, input_dim, width))
    return jax.random.normal(key, (size,))


def outputs(theta: jax.Array, x: jax.Array, model: str) -> jax.Array:
    """The scalar outputs ``f(x_i)`` (shape ``(n,)``) of the flat parameters ``theta``."""
    d = x.shape[-1]
    if model == "linear":
        return x @ theta
    width = theta.shape[0] // (d + 2)
    w = theta[: d * width].reshape(d, width)
    b = theta[d * width: d * width + width]
    v = theta[d * width + width:]
    return jnp.tanh(x @ w / jnp.sqrt(d) + b) @ v / jnp.sqrt(width)


def _loss_of_output(f, y, loss: str):
    if loss == "mse":
        return 0.5 * (f - y) ** 2
    return jax.nn.softplus(f) - y * f


def example_losses(theta, x, y, model: str, loss: str) -> jax.Array:
    """Per-example losses, shape ``(n,)``."""
    return _loss_of_output(outputs(theta, x, model), y, loss)


def mean_loss(theta, x, y, model: str, loss: str, weight_decay=0.0) -> jax.Array:
    """Mean loss plus ``weight_decay/2 |theta|^2``."""
    return jnp.mean(example_losses(theta, x, y, model, loss)) + 0.5 * weight_decay * jnp.sum(theta**2)


@functools.partial(jax.jit, static_argnames=("model", "loss", "steps"))
def train(theta0, x, y, model: str, loss: str, learning_rate, steps: int, weight_decay=0.0):
    """Full-batch GD for ``steps`` steps: (every iterate, shape ``(steps + 1, P)``; mean losses)."""
    grad = jax.grad(mean_loss)

    def step(theta, _):
        new = theta - learning_rate * grad(theta, x, y, model, loss, weight_decay)
        return new, new

    _, path = jax.lax.scan(step, theta0, None, length=steps)
    path = jnp.concatenate([theta0[None], path])
    losses = jax.vmap(lambda th: jnp.mean(example_losses(th, x, y, model, loss)))(path)
    return path, losses


@functools.partial(jax.jit, static_argnames=("model",))
def output_jvp(theta, x, model: str, v) -> jax.Array:
    """``J v``: the directional derivative of every output (shape ``(n,)``)."""
    return jax.jvp(lambda th: outputs(th, x, model), (theta,), (v,))[1]


@functools.partial(jax.jit, static_argnames=("model",))
def output_vjp(theta, x, model: str, u) -> jax.Array:
    """``J^T u`` (flat, like ``theta``)."""
    return jax.vjp(lambda th: outputs(th, x, model), theta)[1](u)[0]


@functools.partial(jax.jit, static_argnames=("model",))
def weighted_output_hvp(theta, x, model: str, weights, v) -> jax.Array:
    """``sum_i weights_i hess f_i v`` (flat): the HVP of ``weights . f(theta)``."""
    return jax.jvp(jax.grad(lambda th: jnp.dot(weights, outputs(th, x, model))), (theta,), (v,))[1]


@functools.partial(jax.jit, static_argnames=("model", "loss"))
def gauss_newton_vector_product(theta, x, y, model: str, loss: str, v) -> jax.Array:
    """``G v = J^T diag(d^2 l / df^2) J v / n`` by autodiff (the loss's own output curvature)."""
    f = outputs(theta, x, model)
    curvature = jax.vmap(jax.grad(jax.grad(_loss_of_output)), in_axes=(0, 0, None))(f, y, loss)
    return output_vjp(theta, x, model, curvature * output_jvp(theta, x, model, v)) / x.shape[0]


@functools.partial(jax.jit, static_argnames=("model", "loss"))
def residual_vector_product(theta, x, y, model: str, loss: str, v) -> jax.Array:
    """The residual term times ``v``: ``(1/n) sum_i (dl/df_i) hess f_i v`` by autodiff."""
    f = outputs(theta, x, model)
    slope = jax.vmap(jax.grad(_loss_of_output), in_axes=(0, 0, None))(f, y, loss)
    return weighted_output_hvp(theta, x, model, slope, v) / x.shape[0]


def _label_gradient(theta, xi, label, model):
    return jax.grad(lambda th: _loss_of_output(outputs(th, xi[None], model)[0], label, "logistic"))(theta)


@functools.partial(jax.jit, static_argnames=("model",))
def label_gradients(theta, x, model: str) -> jax.Array:
    """Parameter gradients of the logistic loss of every example at both labels: ``(n, 2, P)``."""
    return jax.vmap(lambda xi: jnp.stack([_label_gradient(theta, xi, 0.0, model),
                                          _label_gradient(theta, xi, 1.0, model)]))(x)


@jax.jit
def fisher_vector_product(gradients, p_one, v) -> jax.Array:
    """True Fisher times ``v``: ``mean_i sum_y p(y|x_i) g_iy (g_iy . v)``, labels enumerated under the
    model (``p_one`` = P(y = 1 | x_i)); ``gradients`` from :func:`label_gradients`."""
    weights = jnp.stack([1 - p_one, p_one], axis=1)  # (n, 2)
    return jnp.einsum("iy,iyp,iy->p", weights, gradients, gradients @ v) / gradients.shape[0]


@jax.jit
def empirical_fisher_quadratic(gradients, labels, v) -> jax.Array:
    """``v^T F_emp v = mean_i (g_{i, y_i} . v)^2`` with the observed 0/1 ``labels`` (the empirical Fisher)."""
    chosen = jnp.take_along_axis(gradients @ v, jnp.asarray(labels, jnp.int32)[:, None], axis=1)[:, 0]
    return jnp.mean(chosen**2)


@functools.partial(jax.jit, static_argnames=("samples",))
def sampled_fisher_quadratic(key, gradients, p_one, v, samples: int):
    """``v^T F v`` with labels drawn from the model, ``samples`` draws: (mean over draws, its
    standard error). Each draw is the empirical-Fisher form at freshly sampled labels."""
    labels = jax.random.bernoulli(key, p_one, (samples, p_one.shape[0])).astype(jnp.int32)
    projections = gradients @ v  # (n, 2)
    per_draw = jnp.mean(jnp.take_along_axis(projections[None], labels[..., None], axis=2)[..., 0] ** 2, axis=1)
    return jnp.mean(per_draw), jnp.std(per_draw, ddof=1) / jnp.sqrt(samples)


class LeaveOneOut(NamedTuple):
    """Actual retraining without each training point, and the full-data quantities."""

    test_loss_change: jax.Array  # (n,): L_test(theta_{-i}) - L_test(theta_hat), by retraining
    influence_inner: jax.Array  # (n,): grad L_test^T H^-1 grad l_i at theta_hat
    test_residual: jax.Array  # f(x_test) - y_test at theta_hat
    cross_response: jax.Array  # (n,): ridge only, r_i x_t^T H^-1 x_i (NaN otherwise)
    leverage: jax.Array  # (n,): ridge only, x_i^T H^-1 x_i / n (NaN otherwise)
    gradient_norm: jax.Array  # largest |grad| of a retrained objective (convergence)
    smallest_curvature: jax.Array  # smallest eigenvalue of H at theta_hat (> 0: a minimum)


def ridge_leave_one_out(x, y, x_test, y_test, ridge) -> LeaveOneOut:
    """Ridge regression solved on all points and again without each (numpy float64 solves)."""
    x, y, x_test = (np.asarray(a, dtype=float) for a in (x, y, x_test))
    if x.ndim != 2 or y.shape != (x.shape[0],) or x_test.shape != (x.shape[1],):
        raise ValueError(f"x must be (n, d), y (n,), x_test (d,); got {x.shape}, {y.shape}, {x_test.shape}")
    if not ridge > 0:
        raise ValueError(f"ridge must be > 0, got {ridge!r}")
    n, d = x.shape
    hessian = x.T @ x / n + ridge * np.eye(d)
    w = np.linalg.solve(hessian, x.T @ y / n)
    keep = 1.0 - np.eye(n)  # row i: every point but i
    hessians = np.einsum("ij,jk,jl->ikl", keep, x, x) / n + ridge * np.eye(d)
    refits = np.linalg.solve(hessians, ((keep * y) @ x / n)[..., None])[..., 0]  # (n, d)
    gradients = np.einsum("ij,jk->ik", keep * (refits @ x.T - y), x) / n + ridge * refits
    test_loss = 0.5 * (refits @ x_test - y_test) ** 2 - 0.5 * (x_test @ w - y_test) ** 2
    residuals, r_t = x @ w - y, float(x_test @ w - y_test)
    solved = np.linalg.solve(hessian, x.T).T  # rows H^-1 x_i
    cross = residuals * (solved @ x_test)
    return LeaveOneOut(test_loss, r_t * cross, np.asarray(r_t), cross, np.sum(solved * x, axis=1) / n,
                       np.max(np.abs(gradients)), np.linalg.eigvalsh(hessian)[0])


def _objective(theta, x, y, weights, model, loss, weight_decay):
    return jnp.sum(weights * example_losses(theta, x, y, model, loss)) / x.shape[0] + \
        0.5 * weight_decay * jnp.sum(theta**2)


def _newton(theta, x, y, weights, model, loss, weight_decay, iterations):
    grad, hess = jax.grad(_objective), jax.hessian(_objective)

    def step(th, _):
        g = grad(th, x, y, weights, model, loss, weight_decay)
        return th - jnp.linalg.solve(hess(th, x, y, weights, model, loss, weight_decay), g), None

    theta, _ = jax.lax.scan(step, theta, None, length=iterations)
    return theta


@functools.partial(jax.jit, static_argnames=("model", "loss", "iterations"))
def minimise_newton(theta0, x, y, model: str, loss: str, weight_decay, iterations: int = 30):
    """Newton's method on the mean loss plus ``weight_decay/2 |theta|^2`` from ``theta0``."""
    return _newton(theta0, x, y, jnp.ones(x.shape[0]), model, loss, weight_decay, iterations)


@functools.partial(jax.jit, static_argnames=("model", "loss", "iterations"))
def newton_leave_one_out(theta_start, x, y, x_test, y_test, model: str, loss: str, weight_decay,
                         iterations: int = 20, removed=1.0) -> LeaveOneOut:
    """Minimise on all points by Newton's method from ``theta_start`` (``iterations`` steps), then
    retrain from that minimiser without each point (``iterations`` Newton steps each).

    ``removed``: the fraction of the point taken away (its weight becomes ``1 - removed``); 1 is
    leave-one-out, a small ``removed`` up-weights by ``epsilon = -removed / n`` (negative: added)."""
    n = x.shape[0]
    ones = jnp.ones(n)
    theta_hat = _newton(theta_start, x, y, ones, model, loss, weight_decay, iterations)
    hessian = jax.hessian(_objective)(theta_hat, x, y, ones, model, loss, weight_decay)
    test_loss = lambda th: example_losses(th, x_test[None], y_test[None], model, loss)[0]  # noqa: E731
    g_test = jax.grad(test_loss)(theta_hat)
    g_points = jax.vmap(jax.grad(lambda th, xi, yi: example_losses(th, xi[None], yi[None], model, loss)[0]),
                        in_axes=(None, 0, 0))(theta_hat, x, y)
    inner = g_points @ jnp.linalg.solve(hessian, g_test)

    def without(i):
        weights = ones.at[i].set(1.0 - removed)
        theta = _newton(theta_hat, x, y, weights, model, loss, weight_decay, iterations)
        residual = jnp.max(jnp.abs(jax.grad(_objective)(theta, x, y, weights, model, loss, weight_decay)))
        return test_loss(theta) - test_loss(theta_hat), residual

    changes, residuals = jax.lax.map(without, jnp.arange(n))  # sequential: cheaper to compile than vmap
    r_t = outputs(theta_hat, x_test[None], model)[0] - y_test
    nan = jnp.full(n, jnp.nan)
    return LeaveOneOut(changes, inner, r_t, nan, nan, jnp.max(residuals), jnp.linalg.eigvalsh(hessian)[0])
