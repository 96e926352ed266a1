r"""MLPs in any per-layer parameterisation, trained directly by full-batch gradient descent.

Independent of ``analytic``: nothing here knows an exponent. A network with ``layers - 2``
hidden-to-hidden matrices, ``width`` tanh units, input dimension ``d`` and a scalar output is

    h^1 = m_1 x w^1,   h^l = m_l tanh(h^{l-1}) w^l,   f = m_out tanh(h^L) w^out,

with trainable ``w^l = s_l z^l`` (``z^l`` standard normal, drawn by :func:`unit_normal_weights`)
and fixed multipliers ``m_l``. Training is full-batch gradient descent on
``0.5 mean_i (f(x_i) - y_i)^2`` with a per-layer learning rate ``learning_rate * k_l`` (the
gradient is taken with respect to ``w^l``, not ``m_l w^l``). The per-layer numbers come in a
``scales`` array of shape ``(parameterisations, layers, 3)``, for each layer ``(m_l, s_l, k_l)``;
the caller computes them from the width (an abc-parameterisation is ``m = width^-a``,
``s = width^-b``, ``k = width^-c``).

One jitted function, :func:`train`, serves every measurement of a width: it is vmapped over
parameterisations, seeds and learning rates, and the number of steps is a traced loop bound, so
a width compiles once. It returns the first step's change of each layer's activations (the
"coordinate check"), the initial and final losses (divergence is a result: a flag), each
layer's relative weight movement, and the relative change of the empirical NTK
``K = sum_l k_l J_l J_l^T`` (``J_l`` the Jacobian of the outputs on the batch with respect to
``w^l``). ``optimizer="adam"`` trains by full-batch Adam instead (a traced switch: the same program).

Example:
    >>> import jax.numpy as jnp
    >>> x, y = jnp.ones((2, 3)) / 3, jnp.zeros(2)
    >>> z = unit_normal_weights(0, 3, 8, layers=2, seeds=1, rates=2)
    >>> scales = jnp.array([[[[1.0, 1.0, 1.0], [1.0, 0.1, 1.0]]]])  # one width, one parameterisation, 2 layers
    >>> run = train(z, x, y, [8], scales, jnp.array([[[0.1, 0.2]]]), steps=3)
    >>> run.first_step_updates.shape  # (widths, parameterisations, seeds, rates, [first layer, last hidden, output])
    (1, 1, 1, 2, 3)
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from numeric.run_bound import RUN_BOUND

__all__ = ["unit_normal_weights", "network_output", "TrainRun", "train", "first_step_updates"]


def unit_normal_weights(seed: int, in_dim: int, width: int, layers: int, seeds: int, rates: int,
                        distinct: bool = False, dtype=np.float32) -> list[np.ndarray]:
    """Standard-normal ``z^l`` of shape ``(seeds, rates, fan_in, fan_out)`` for every layer.

    The same draw for every rate (``distinct=False``: a learning-rate sweep from one
    initialisation per seed) or an independent draw per (seed, rate) (``distinct=True``: more
    initialisations for one learning rate).
    """
    for name, value, low in (("in_dim", in_dim, 1), ("width", width, 1), ("layers", layers, 2),
                             ("seeds", seeds, 1), ("rates", rates, 1)):
        if int(value) != value or value < low:
            raise ValueError(f"unit_normal_weights: {name} = {value!r} must be an integer >= {low}")
    rng = np.random.default_rng(seed)
    shapes = [(in_dim, width)] + [(width, width)] * (layers - 2) + [(width, 1)]
    draws = rates if distinct else 1
    out = [rng.standard_normal((seeds, draws, *shape)).astype(dtype) for shape in shapes]
    return [np.broadcast_to(z, (seeds, rates, *z.shape[2:])) for z in out]


def _activations(weights, multipliers, x):
    """Pre-activations of every hidden layer, and the output (examples,)."""
    pre = [multipliers[0] * (x @ weights[0])]
    for m, w in zip(multipliers[1:-1], weights[1:-1]):
        pre.append(m * (jnp.tanh(pre[-1]) @ w))
    return pre, multipliers[-1] * (jnp.tanh(pre[-1]) @ weights[-1])[:, 0]


def network_output(weights, multipliers, x):
    """``f(x)`` of the network (examples,), weights ``w^l`` and multipliers ``m_l``."""
    return _activations(weights, multipliers, x)[1]


def _loss(weights, multipliers, x, y):
    return 0.5 * jnp.mean((network_output(weights, multipliers, x) - y) ** 2)


def _rms(a):
    return jnp.sqrt(jnp.mean(a**2))


class TrainRun(NamedTuple):
    """Full-batch GD from each (width, parameterisation, seed, rate); leading axes (W, P, S, G)."""

    first_step_updates: jax.Array  # (W, P, S, G, 3): RMS change of h^1, h^L and f after step one
    initial_loss: jax.Array
    final_loss: jax.Array  # inf where the run overflowed
    diverged: jax.Array  # bool: not finite, or the final loss above the initial loss
    relative_movement: jax.Array  # (W, P, S, G, layers): |w_T - w_0|_F / |w_0|_F
    kernel_change: jax.Array  # (W, P, S, G): |K_T - K_0|_F / |K_0|_F, K = sum_l k_l J_l J_l^T (inf if overflowed;
    # NaN unless train(..., with_kernel=True))


_BETA1, _BETA2, _EPSILON = 0.9, 0.999, 1e-12  # Adam's defaults (Kingma & Ba), epsilon below every |gradient|


def _masked(z, width):
    """``z`` with every unit at index >= ``width`` cut off (its rows and columns zero)."""
    units = [jnp.arange(w.shape[-1]) < width for w in z[:-1]]
    out = [z[0] * units[0]]
    for w, cols in zip(z[1:-1], units[1:]):
        out.append(w * (jnp.arange(w.shape[-2]) < width)[:, None] * cols)
    return out + [z[-1] * (jnp.arange(z[-1].shape[-2]) < width)[:, None]]


def _kernel(weights, multipliers, factors, x):
    """The parameterisation's empirical NTK, sum_l k_l J_l J_l^T (examples, examples): J_l the Jacobian
    of the outputs with respect to w^l, k_l its learning-rate factor (the kernel of GD in function space)."""
    jacobians = jax.jacrev(network_output)(weights, multipliers, x)
    return sum(k * jnp.tensordot(j, j, axes=(tuple(range(1, j.ndim)),) * 2) for k, j in zip(factors, jacobians))


@functools.partial(jax.jit, compiler_options=RUN_BOUND)
def _train(z, x, y, widths, scales, learning_rates, steps, relative_targets, adam, with_kernel):
    def one(width, scale, zs, learning_rate):
        multipliers, lrs = scale[:, 0], learning_rate * scale[:, 2]
        weights = [s * w for s, w in zip(scale[:, 1], _masked(zs, width))]
        targets = jnp.where(relative_targets, network_output(weights, multipliers, x) + y, y)

        def step(_, w):
            grads = jax.grad(_loss)(w, multipliers, x, targets)
            return [wi - lr * g for wi, lr, g in zip(w, lrs, grads)]

        def adam_step(t, state):  # state: weights, Adam's first and second moments
            w, m, v = state
            grads = jax.grad(_loss)(w, multipliers, x, targets)
            m = [_BETA1 * mi + (1 - _BETA1) * g for mi, g in zip(m, grads)]
            v = [_BETA2 * vi + (1 - _BETA2) * g**2 for vi, g in zip(v, grads)]
            count = jnp.asarray(t + 1, x.dtype)
            return [wi - lr * mi / (1 - _BETA1**count) / (jnp.sqrt(vi / (1 - _BETA2**count)) + _EPSILON)
                    for wi, lr, mi, vi in zip(w, lrs, m, v)], m, v

        def run(count, w):  # `adam` is not batched: a real branch (GD carries no moments)
            zeros = [jnp.zeros_like(wi) for wi in w]
            return jax.lax.cond(adam, lambda: jax.lax.fori_loop(0, count, adam_step, (w, zeros, zeros))[0],
                                lambda: jax.lax.fori_loop(0, count, step, w))

        def rms(a, units):  # over examples and the width's real units
            return jnp.sqrt(jnp.sum(a**2) / (a.shape[0] * units))

        pre0, out0 = _activations(weights, multipliers, x)
        zeros = [jnp.zeros_like(w) for w in weights]
        first = jax.lax.cond(adam, lambda: adam_step(0, (weights, zeros, zeros))[0], lambda: step(0, weights))
        pre1, out1 = _activations(first, multipliers, x)
        updates = jnp.stack([rms(pre1[0] - pre0[0], width), rms(pre1[-1] - pre0[-1], width), rms(out1 - out0, 1)])
        trained = run(steps, weights)
        final = _loss(trained, multipliers, x, targets)
        movement = jnp.stack([jnp.linalg.norm(t - w) / jnp.linalg.norm(w) for t, w in zip(trained, weights)])
        def kernel_change():
            kernel0 = _kernel(weights, multipliers, scale[:, 2], x)
            change = jnp.linalg.norm(_kernel(trained, multipliers, scale[:, 2], x) - kernel0) / jnp.linalg.norm(kernel0)
            return jnp.where(jnp.isfinite(change), change, jnp.inf)

        kernel_change = jax.lax.cond(with_kernel, kernel_change, lambda: jnp.asarray(jnp.nan, x.dtype))
        return (updates, _loss(weights, multipliers, x, targets), jnp.where(jnp.isfinite(final), final, jnp.inf),
                movement, kernel_change)

    count_w, count_p = scales.shape[:2]
    count_s, count_g = z[0].shape[:2]
    per_width = count_p * count_s * count_g
    flat_widths = jnp.repeat(widths, per_width)  # one batch axis: (W, P, S, G) flattened
    flat_scales = jnp.repeat(scales.reshape(count_w * count_p, *scales.shape[2:]), count_s * count_g, axis=0)
    flat_z = [jnp.tile(w.reshape(count_s * count_g, *w.shape[2:]), (count_w * count_p,) + (1,) * (w.ndim - 2))
              for w in z]
    flat_rates = jnp.broadcast_to(learning_rates, (count_w, count_p, count_s, count_g)).reshape(-1)
    out = jax.vmap(one)(flat_widths, flat_scales, flat_z, flat_rates)
    updates, initial, final, movement, kernel = (o.reshape(count_w, count_p, count_s, count_g, *o.shape[1:])
                                                 for o in out)
    return TrainRun(updates, initial, final, ~(final <= initial), movement, kernel)


@functools.partial(jax.jit, static_argnames=("sign",))
def _first_step(z, x, y, widths, scales, learning_rate, sign):
    def one(width, scale, zs):
        multipliers = scale[:, 0]
        weights = [s * w for s, w in zip(scale[:, 1], _masked(zs, width))]
        targets = network_output(weights, multipliers, x) + y
        grads = jax.grad(_loss)(weights, multipliers, x, targets)
        if sign:  # Adam's first step from zero moments (bias-corrected, epsilon -> 0): sign descent
            grads = [jnp.sign(g) for g in grads]
        moved = [w - learning_rate * k * g for w, k, g in zip(weights, scale[:, 2], grads)]
        (pre0, out0), (pre1, out1) = _activations(weights, multipliers, x), _activations(moved, multipliers, x)

        def rms(a, units):  # over examples and the width's real units
            return jnp.sqrt(jnp.sum(a**2) / (a.shape[0] * units))

        return jnp.stack([rms(pre1[0] - pre0[0], width), rms(pre1[-1] - pre0[-1], width), rms(out1 - out0, 1)])

    count_w, count_p = scales.shape[:2]
    per_seed = jax.vmap(one, in_axes=(None, None, 0))  # the draws are shared, never copied per width
    out = jax.vmap(per_seed, in_axes=(0, 0, None))(jnp.repeat(widths, count_p),
                                                     scales.reshape(count_w * count_p, *scales.shape[2:]), z)
    return out.reshape(count_w, count_p, z[0].shape[0], 3)


def first_step_updates(z, x, y, widths, scales, learning_rate: float, optimizer: str = "sgd"):
    """The "coordinate check": RMS change of ``h^1``, ``h^L`` and ``f`` after one GD step, (W, P, S, 3).

    As :func:`train` with ``steps=1`` and ``relative_targets=True`` (target: initial output plus
    ``y``), on its own small program; ``z`` from :func:`unit_normal_weights` with ``rates=1``.
    ``optimizer="adam"``: Adam's first step from zero moments, which (bias-corrected, epsilon
    negligible) moves every weight by ``learning_rate * k_l * sign(gradient)``.
    """
    if optimizer not in ("sgd", "adam"):
        raise ValueError(f"first_step_updates: optimizer = {optimizer!r}; valid: ('sgd', 'adam')")
    x = jnp.asarray(x)
    widths = np.asarray(widths)
    if len(z) < 3 or z[0].shape[1] != 1:
        raise ValueError("first_step_updates: z must be drawn with rates=1 and at least 3 layers")
    if not learning_rate > 0:
        raise ValueError(f"first_step_updates: learning_rate = {learning_rate!r} must be > 0")
    if not np.all((widths == np.round(widths)) & (widths >= 1) & (widths <= z[0].shape[-1])):
        raise ValueError(f"first_step_updates: widths must be integers in [1, {z[0].shape[-1]}], got {widths!r}")
    scales = jnp.asarray(scales, x.dtype)
    if scales.shape[0] != widths.size or scales.shape[2] != len(z):
        raise ValueError(f"first_step_updates: scales must be (widths, parameterisations, {len(z)}, 3), "
                         f"got {scales.shape}")
    return _first_step([jnp.asarray(w[:, 0], x.dtype) for w in z], x, jnp.asarray(y, x.dtype),
                       jnp.asarray(widths, x.dtype), scales, jnp.asarray(learning_rate, x.dtype), optimizer == "adam")


def train(z, x, y, widths, scales, learning_rates, steps: int, relative_targets: bool = False,
          optimizer: str = "sgd", with_kernel: bool = False) -> TrainRun:
    """``steps`` GD (or Adam) steps of every (width, parameterisation, seed, learning rate); see the module docstring.

    ``z``: the list from :func:`unit_normal_weights`, drawn at the largest width (a narrower
    network uses the leading units of the same draw: common random numbers across widths);
    ``widths``: (W,) integers; ``scales``: (W, P, layers, 3), each width's per-layer numbers;
    ``learning_rates``: (W, P, G), or (W, P, S, G) for a grid per seed. ``steps`` and the widths are traced (changing them does not
    recompile). ``relative_targets``: the target of each network is its own initial output plus
    ``y`` (every run starts from the residual ``-y``: the gradient's size no longer depends on
    the random initial output; used for the one-step "coordinate check"). ``optimizer="adam"``:
    full-batch Adam (beta1 = 0.9, beta2 = 0.999, bias-corrected, epsilon = 1e-12) with the same
    per-layer learning rates; the choice is traced, so GD and Adam share one compiled program.
    ``with_kernel``: measure the empirical NTK's relative change (else ``kernel_change`` is NaN:
    the Jacobians are skipped, as in a learning-rate bracket).
    """
    if optimizer not in ("sgd", "adam"):
        raise ValueError(f"train: optimizer = {optimizer!r}; valid: ('sgd', 'adam')")
    x = jnp.asarray(x)
    dtype = x.dtype
    y, scales, rates = jnp.asarray(y, dtype), jnp.asarray(scales, dtype), jnp.asarray(learning_rates, dtype)
    widths = np.asarray(widths)
    if x.ndim != 2 or y.shape != (x.shape[0],) or z[0].shape[-2] != x.shape[1]:
        raise ValueError(f"train: x must be (examples, d = {z[0].shape[-2]}) and y (examples,), got {x.shape} "
                         f"and {y.shape}")
    largest = z[0].shape[-1]
    if widths.ndim != 1 or not np.all((widths == np.round(widths)) & (widths >= 1) & (widths <= largest)):
        raise ValueError(f"train: widths must be integers in [1, {largest}] (the drawn width), got {widths!r}")
    if scales.ndim != 4 or scales.shape[0] != widths.size or scales.shape[-1] != 3 or scales.shape[2] != len(z):
        raise ValueError(f"train: scales must be (widths = {widths.size}, parameterisations, layers = {len(z)}, 3), "
                         f"got {scales.shape}")
    seeds, grid = z[0].shape[:2]
    if rates.ndim == 3:
        rates = rates[:, :, None, :]  # the same grid for every seed
    if rates.shape not in ((*scales.shape[:2], 1, grid), (*scales.shape[:2], seeds, grid)) \
            or not bool(jnp.all(rates > 0)):
        raise ValueError(f"train: learning_rates must be positive, shape {(*scales.shape[:2], grid)} or "
                         f"{(*scales.shape[:2], seeds, grid)}, got shape {tuple(jnp.shape(learning_rates))}")
    if int(steps) != steps or steps < 1:
        raise ValueError(f"train: steps = {steps!r} must be an integer >= 1")
    return _train([jnp.asarray(w, dtype) for w in z], x, y, jnp.asarray(widths, dtype), scales, rates,
                  jnp.asarray(int(steps)), bool(relative_targets), optimizer == "adam", bool(with_kernel))
