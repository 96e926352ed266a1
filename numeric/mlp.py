"""Finite-width fully-connected networks: random draws, empirical kernels, GD ensembles.

Independent of ``analytic``: nothing here knows a kernel formula. A network with
``depth`` hidden layers of ``width`` units and a scalar output is

* NTK parameterisation: ``h = sigma_w / sqrt(n_in) * W @ a + sigma_b * b`` with
  ``W, b ~ N(0, 1)`` (Jacot et al. 2018, arXiv:1806.07572v4, sec. 2);
* standard parameterisation: ``h = W @ a + b`` with ``W ~ N(0, sigma_w^2 / n_in)``,
  ``b ~ N(0, sigma_b^2)``.

Loss for training: ``0.5 * sum_i (f(x_i) - y_i)^2`` (a sum over the training set),
full-batch gradient descent. Empirical NTK: ``J(x1) J(x2)^T`` over all parameters,
one column per point of ``x2`` (a VJP gives the gradient, a JVP contracts it with the
Jacobian of all of ``x1``), mapped in batches with ``lax.map``.
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from numeric import sharding
from numeric._draws import cut, normal_arrays, padded_normal
from numeric.run_bound import RUN_BOUND

__all__ = [
    "MLP", "init_params", "apply", "last_hidden", "empirical_nngp", "empirical_ntk",
    "layerwise_ntk", "monte_carlo_nngp", "ConditionalNNGP", "conditional_monte_carlo_nngp", "EnsembleRun", "train_ensemble",
    "LinearizedRun", "train_linearized",
    "LayerStatistics", "layer_statistics", "random_layer_statistics", "random_network_kernels",
]

_ACTIVATIONS = {"relu": jax.nn.relu, "erf": jax.scipy.special.erf}
_HIGHEST = jax.lax.Precision.HIGHEST


class MLP(NamedTuple):
    """Architecture of a fully-connected network (hashable: usable as a static argument)."""

    depth: int
    width: int
    activation: str
    sigma_w: float
    sigma_b: float
    parameterization: str = "ntk"


def _check_mlp(mlp: MLP) -> None:
    if mlp.activation not in _ACTIVATIONS:
        raise ValueError(f"activation = {mlp.activation!r} is unknown; valid: {tuple(_ACTIVATIONS)}")
    if mlp.parameterization not in ("ntk", "standard"):
        raise ValueError(f"parameterization = {mlp.parameterization!r}; valid: ('ntk', 'standard')")
    if int(mlp.depth) != mlp.depth or mlp.depth < 1:
        raise ValueError(f"depth = {mlp.depth!r} must be an integer >= 1")
    if int(mlp.width) != mlp.width or mlp.width < 1:
        raise ValueError(f"width = {mlp.width!r} must be an integer >= 1")
    for name in ("sigma_w", "sigma_b"):
        v = getattr(mlp, name)
        if not math.isfinite(v) or v < 0:
            raise ValueError(f"{name} = {v!r} must be finite and >= 0")


def init_params(key, mlp: MLP, in_dim: int, dtype=jnp.float32) -> list[tuple[jax.Array, jax.Array]]:
    """Random weights and biases, [(W, b)] for depth hidden layers and the output layer.

    All entries are one draw cut into W1, b1, W2, b2, ... in order (``numeric._draws``: one
    random-number generator per compiled program however deep the network).
    """
    _check_mlp(mlp)
    return _params_from_normals(mlp, normal_arrays(key, _param_shapes(mlp, in_dim), dtype))


def _param_shapes(mlp: MLP, in_dim: int) -> list[tuple[int, ...]]:
    dims = [in_dim] + [mlp.width] * mlp.depth + [1]
    return [s for n_in, n_out in zip(dims[:-1], dims[1:]) for s in ((n_out, n_in), (n_out,))]


def _params_from_normals(mlp: MLP, arrays) -> list[tuple[jax.Array, jax.Array]]:
    """[(W, b)] from the standard normals cut into W1, b1, W2, b2, ... (scaled if standard)."""
    params = []
    for w, b in zip(arrays[::2], arrays[1::2]):
        if mlp.parameterization == "standard":
            w, b = w * (mlp.sigma_w / math.sqrt(w.shape[1])), b * mlp.sigma_b
        params.append((w, b))
    return params


def _drawn_params(key, mlp: MLP, in_dim: int, dtype):
    """``init_params(key, mlp, in_dim, dtype)``'s draw, padded (``numeric._draws.padded_normal``):
    wide networks share one compiled generator per size class; cut by :func:`_cut_params`."""
    return padded_normal(key, sum(math.prod(s) for s in _param_shapes(mlp, in_dim)), dtype)


def _cut_params(mlp: MLP, drawn, in_dim: int):
    """The parameters of :func:`init_params` from :func:`_drawn_params`'s draw (inside a program)."""
    return _params_from_normals(mlp, cut(drawn, _param_shapes(mlp, in_dim)))


def _dense(mlp: MLP, w, b, a):
    z = jnp.matmul(a, w.T, precision=_HIGHEST)
    if mlp.parameterization == "ntk":
        return mlp.sigma_w / math.sqrt(w.shape[1]) * z + mlp.sigma_b * b
    return z + b


def last_hidden(mlp: MLP, params, x):
    """Post-activations of the last hidden layer, (n, width)."""
    phi = _ACTIVATIONS[mlp.activation]
    a = x
    for w, b in params[:-1]:
        a = phi(_dense(mlp, w, b, a))
    return a


def apply(mlp: MLP, params, x):
    """Network outputs f(x), shape (n,)."""
    w, b = params[-1]
    return _dense(mlp, w, b, last_hidden(mlp, params, x))[:, 0]


def empirical_nngp(mlp: MLP, params, x1, x2):
    """sigma_w^2 phi(h^L(x1)) . phi(h^L(x2)) / width + sigma_b^2: the output covariance
    given the last hidden layer, i.e. the NNGP estimated from one network's features."""
    f1, f2 = last_hidden(mlp, params, x1), last_hidden(mlp, params, x2)
    return mlp.sigma_w**2 * jnp.matmul(f1, f2.T, precision=_HIGHEST) / f1.shape[1] + mlp.sigma_b**2


@functools.partial(jax.jit, static_argnames=("mlp", "batch_size"))
def empirical_ntk(mlp: MLP, params, x1, x2, batch_size: int = 1):
    """Empirical NTK sum_p df(x1)/dp df(x2)/dp, (n1, n2); columns by VJP, rows by JVP."""

    def column(x):
        grad = jax.grad(lambda p: apply(mlp, p, x[None, :])[0])(params)
        return jax.jvp(lambda p: apply(mlp, p, x1), (params,), (grad,))[1]

    return jax.lax.map(column, x2, batch_size=batch_size).T


def _weight_scales(mlp: MLP, n_in: int) -> tuple[float, float]:
    """d h / d W_ij = scale_w a_j and d h / d b_i = scale_b in :func:`_dense`."""
    if mlp.parameterization == "ntk":
        return mlp.sigma_w / math.sqrt(n_in), mlp.sigma_b
    return 1.0, 1.0


def _forward_backward(mlp: MLP, params, x):
    """Per layer l = 1..depth+1: its input a^{l-1} (n, n_in) and delta^l = df/dh^l (n, n_out)."""
    phi = _ACTIVATIONS[mlp.activation]
    inputs, pre = [x], []
    for w, b in params[:-1]:
        pre.append(_dense(mlp, w, b, inputs[-1]))
        inputs.append(phi(pre[-1]))
    delta = jnp.ones((x.shape[0], 1), x.dtype)
    deltas = [delta]
    for (w, _), h in zip(params[:0:-1], pre[::-1]):
        slope = jax.jvp(phi, (h,), (jnp.ones_like(h),))[1]
        delta = slope * (_weight_scales(mlp, w.shape[1])[0] * jnp.matmul(delta, w, precision=_HIGHEST))
        deltas.append(delta)
    return inputs, deltas[::-1]


@functools.partial(jax.jit, static_argnames=("mlp",))
def layerwise_ntk(mlp: MLP, params, x1, x2):
    """:func:`empirical_ntk` summed layer by layer: the chain rule written out, no Jacobians.

    With a^{l-1} the input of layer l and delta^l = df/dh^l its backward vector (both per point),
    the weights and biases of layer l contribute
    ``(scale_w^2 a^{l-1}(x1) . a^{l-1}(x2) + scale_b^2) (delta^l(x1) . delta^l(x2))``
    (Jacot et al. 2018, arXiv:1806.07572v4, proof of Theorem 1; scale_w = sigma_w / sqrt(n_in),
    scale_b = sigma_b in the NTK parameterisation, 1 and 1 in the standard one). The same matrix
    as :func:`empirical_ntk` to round-off (tests/test_kernels_fc.py), for two forward and two
    backward passes instead of one VJP and one JVP per point of ``x2``: XLA compiles it in a
    fraction of the time, which is most of a quick run's cost of wide random networks.
    """
    _check_mlp(mlp)
    a1, d1 = _forward_backward(mlp, params, x1)
    a2, d2 = _forward_backward(mlp, params, x2)
    theta = jnp.zeros((x1.shape[0], x2.shape[0]), jnp.result_type(x1, params[0][0]))
    for (w, _), u1, u2, e1, e2 in zip(params, a1, a2, d1, d2):
        scale_w, scale_b = _weight_scales(mlp, w.shape[1])
        inputs = scale_w**2 * jnp.matmul(u1, u2.T, precision=_HIGHEST) + scale_b**2
        theta = theta + inputs * jnp.matmul(e1, e2.T, precision=_HIGHEST)
    return theta


@functools.partial(jax.jit, static_argnames=("mlp", "in_dim", "n_networks", "chunk"))
def _mc_outputs(key, mlp, x, in_dim, n_networks, chunk):
    keys = jax.random.split(key, n_networks).reshape(n_networks // chunk, chunk)

    def second_moment(ks):
        outs = jax.vmap(lambda k: apply(mlp, init_params(k, mlp, in_dim, x.dtype), x))(ks)
        return outs.T @ outs

    return jnp.sum(jax.lax.map(second_moment, keys), axis=0) / n_networks


def monte_carlo_nngp(key, mlp: MLP, x, n_networks: int, chunk: int = 64):
    """E[f(x) f(x')^T] over ``n_networks`` random networks (vmap over keys, in chunks)."""
    _check_mlp(mlp)
    if n_networks % chunk:
        raise ValueError(f"n_networks = {n_networks} must be a multiple of chunk = {chunk}")
    return _mc_outputs(key, mlp, jnp.asarray(x), x.shape[1], n_networks, chunk)


class ConditionalNNGP(NamedTuple):
    """The mean over networks of the output covariance given the last hidden layer, and the
    entrywise standard error of that mean (from the spread of the per-network values)."""

    mean: jax.Array
    standard_error: jax.Array


@functools.partial(jax.jit, static_argnames=("mlp", "in_dim", "n_networks", "chunk"), compiler_options=RUN_BOUND)
def _conditional_moments(key, mlp, x, in_dim, n_networks, chunk):
    keys = jax.random.split(key, n_networks).reshape(n_networks // chunk, chunk)

    def moments(ks):
        k = jax.vmap(lambda k: empirical_nngp(mlp, init_params(k, mlp, in_dim, x.dtype), x, x))(ks)
        return jnp.sum(k, axis=0), jnp.sum(k * k, axis=0)

    first, second = (jnp.sum(m, axis=0) for m in jax.lax.map(moments, keys))
    return first / n_networks, second / n_networks


def conditional_monte_carlo_nngp(key, mlp: MLP, x, n_networks: int, chunk: int = 64) -> ConditionalNNGP:
    """E[f(x) f(x')^T] over ``n_networks`` random networks, the readout averaged exactly.

    Given the last hidden layer's features ``phi``, the output ``f = W phi / sqrt(n) + b`` (NTK
    parameterisation; the standard one alike) is Gaussian with covariance ``sigma_w^2 phi phi^T / n
    + sigma_b^2`` (:func:`empirical_nngp`), so averaging that over networks has the same
    expectation as averaging ``f f^T`` (the tower property) and a far smaller variance: the
    readout's own sampling noise, ``sqrt(2 / n_networks)`` relative, is gone, and what is left
    shrinks with the width too. Returns the mean and its entrywise standard error.

    >>> import jax
    >>> run = conditional_monte_carlo_nngp(jax.random.key(0), MLP(1, 64, "relu", 1.4, 0.1),
    ...                                    jax.numpy.eye(2, 3), 128)
    >>> run.mean.shape, bool((run.standard_error < 0.05 * run.mean[0, 0]).all())
    ((2, 2), True)
    """
    _check_mlp(mlp)
    if n_networks < 2 or n_networks % chunk:
        raise ValueError(f"n_networks = {n_networks} must be a multiple of chunk = {chunk} and >= 2")
    mean, second = _conditional_moments(key, mlp, jnp.asarray(x), x.shape[1], n_networks, chunk)
    variance = jnp.maximum(second - mean * mean, 0.0) * n_networks / (n_networks - 1)
    return ConditionalNNGP(mean, jnp.sqrt(variance / n_networks))


class EnsembleRun(NamedTuple):
    """Outputs of every network at the recorded steps: (records, seeds, points)."""

    steps: jax.Array
    train_outputs: jax.Array
    test_outputs: jax.Array
    losses: jax.Array
    diverged: jax.Array


def _sum_squares(outputs, y):
    return 0.5 * jnp.sum((outputs - y) ** 2, axis=-1)


@functools.partial(jax.jit, static_argnames=("mlp", "steps", "record_every", "mesh"))
def _train_ensemble(keys, mlp, x_train, y_train, x_test, eta, steps, record_every, mesh=None):
    in_dim = x_train.shape[1]

    def one(k):
        params = init_params(k, mlp, in_dim, x_train.dtype)
        loss = lambda p: _sum_squares(apply(mlp, p, x_train), y_train)

        def gd_block(p, _):
            def gd_step(p, _):
                g = jax.grad(loss)(p)
                return jax.tree_util.tree_map(lambda a, b: a - eta * b, p, g), None

            p, _ = jax.lax.scan(gd_step, p, None, length=record_every)
            return p, (apply(mlp, p, x_train), apply(mlp, p, x_test))

        _, (tr, te) = jax.lax.scan(gd_block, params, None, length=steps // record_every)
        tr = jnp.concatenate([apply(mlp, params, x_train)[None], tr])
        te = jnp.concatenate([apply(mlp, params, x_test)[None], te])
        return tr, te

    tr, te = sharding.batch_map(jax.vmap(one), mesh)(keys)
    return jnp.swapaxes(tr, 0, 1), jnp.swapaxes(te, 0, 1)


def train_ensemble(key, mlp: MLP, x_train, y_train, x_test, eta: float, steps: int,
                   n_seeds: int, record_every: int = 1, *, mesh=None) -> EnsembleRun:
    """Full-batch GD of ``n_seeds`` independently initialised networks (vmap over seeds).

    Records outputs on train and test points every ``record_every`` steps (and at 0).
    ``diverged`` (per seed) is set if the final loss is non-finite or above the initial one.
    ``mesh`` (a ``jax.sharding.Mesh`` or a device count; None: one device) splits the seeds
    over devices (``numeric.sharding``); seed i gets the same key whatever the device count.
    """
    _check_mlp(mlp)
    if steps % record_every:
        raise ValueError(f"steps = {steps} must be a multiple of record_every = {record_every}")
    if not (eta > 0 and math.isfinite(eta)):
        raise ValueError(f"eta = {eta!r} must be finite and > 0")
    x_train, y_train, x_test = map(jnp.asarray, (x_train, y_train, x_test))
    keys = jax.random.split(key, n_seeds)
    mesh = sharding.resolve_mesh(mesh)
    if mesh is None:
        tr, te = _train_ensemble(keys, mlp, x_train, y_train, x_test, eta, steps, record_every)
    else:
        padded, _ = sharding.pad_batch(keys, mesh)
        tr, te = _train_ensemble(padded, mlp, x_train, y_train, x_test, eta, steps, record_every, mesh)
        tr, te = sharding.unpad_batch((tr, te), n_seeds, axis=1)
    losses = _sum_squares(tr, y_train)
    diverged = ~jnp.isfinite(losses[-1]) | (losses[-1] > losses[0])
    return EnsembleRun(jnp.arange(0, steps + 1, record_every), tr, te, losses, diverged)


class LinearizedRun(NamedTuple):
    """GD on the first-order Taylor model of a network around its initialisation."""

    losses: jax.Array  # (steps + 1,)
    diverged: jax.Array
    growth_rate: jax.Array  # per-step growth factor of the residual norm over the last half


@functools.partial(jax.jit, static_argnames=("mlp", "steps"))
def _train_linearized(mlp, params, x_train, y_train, eta, steps):
    f0, jvp = jax.linearize(lambda p: apply(mlp, p, x_train), params)
    zero = jax.tree_util.tree_map(jnp.zeros_like, params)
    loss = lambda delta: _sum_squares(f0 + jvp(delta), y_train)

    def step(delta, _):
        g = jax.grad(loss)(delta)
        delta = jax.tree_util.tree_map(lambda a, b: a - eta * b, delta, g)
        return delta, loss(delta)

    _, losses = jax.lax.scan(step, zero, None, length=steps)
    return jnp.concatenate([loss(zero)[None], losses])


def train_linearized(mlp: MLP, params, x_train, y_train, eta: float, steps: int) -> LinearizedRun:
    """Full-batch GD on f_lin(x; p) = f(x; p0) + J(x)(p - p0) (Lee et al. 2019, eq. (5))."""
    _check_mlp(mlp)
    if not (eta > 0 and math.isfinite(eta)):
        raise ValueError(f"eta = {eta!r} must be finite and > 0")
    losses = _train_linearized(mlp, params, jnp.asarray(x_train), jnp.asarray(y_train), eta, steps)
    arr = np.asarray(losses, dtype=float)
    finite = np.isfinite(arr)
    last = int(np.max(np.nonzero(finite)[0]))
    half = last // 2
    growth = (arr[last] / arr[half]) ** (0.5 / max(last - half, 1)) if arr[half] > 0 else np.nan
    diverged = (not finite.all()) or arr[-1] > arr[0]
    return LinearizedRun(losses, jnp.asarray(diverged), jnp.asarray(growth))


class LayerStatistics(NamedTuple):
    """Per hidden layer l = 1..depth of one network on one input."""

    variance: jax.Array  # mean over units of h^l(x)^2 (pre-activation variance q^l)
    jacobian_gain: jax.Array  # |d h^{l+1}/d h^l v|^2 / |v|^2 for a random direction v


def layer_statistics(key, mlp: MLP, params, x) -> LayerStatistics:
    """Signal variance and gradient gain layer by layer (cf. Schoenholz et al. 2017).

    ``x`` is one input (d,). The gain of layer l compares h^{l+1} = W phi(h^l) + b
    along a random Gaussian tangent v of h^l; it is measured for l = 1..depth - 1.
    The tangents are one draw, (depth - 1, 1, width), and the hidden layers run as one
    ``lax.scan``: the compiled program does not grow with depth.
    """
    _check_mlp(mlp)
    dtype = jnp.result_type(x, params[0][0])
    tangents = jax.random.normal(key, _tangent_shape(mlp), dtype) if mlp.depth > 1 else None
    return _statistics(mlp, params, x, tangents)


def _tangent_shape(mlp: MLP) -> tuple[int, int, int]:
    return (mlp.depth - 1, 1, mlp.width)


def _statistics(mlp: MLP, params, x, tangents) -> LayerStatistics:
    """:func:`layer_statistics` along the given tangents (None for a network of depth 1)."""
    phi = _ACTIVATIONS[mlp.activation]
    h = _dense(mlp, *params[0], x[None, :])
    hidden = params[1:-1]
    if not hidden:
        return LayerStatistics(jnp.mean(h**2)[None], jnp.zeros(0, h.dtype))

    def layer(h, inputs):
        w, b, v = inputs
        h_next, dh = jax.jvp(lambda z: _dense(mlp, w, b, phi(z)), (h,), (v,))
        return h_next, (jnp.mean(h_next**2), jnp.sum(dh**2) / jnp.sum(v**2))

    stacked = (jnp.stack([w for w, _ in hidden]), jnp.stack([b for _, b in hidden]), tangents)
    _, (variances, gains) = jax.lax.scan(layer, h, stacked)
    return LayerStatistics(jnp.concatenate([jnp.mean(h**2)[None], variances]), gains)


@functools.partial(jax.jit, static_argnames=("mlp",))
def _drawn_layer_statistics(drawn_tangents, mlp: MLP, drawn_params, x) -> LayerStatistics:
    tangents = None
    if drawn_tangents is not None:
        tangents = drawn_tangents[:math.prod(_tangent_shape(mlp))].reshape(_tangent_shape(mlp))
    return _statistics(mlp, _cut_params(mlp, drawn_params, x.shape[-1]), x, tangents)


def random_layer_statistics(key, mlp: MLP, init_key, x) -> LayerStatistics:
    """:func:`layer_statistics` of the network ``init_params(init_key, mlp, d, x.dtype)``: the same
    draws as calling the two eagerly, drawn by one compiled generator per size class
    (``numeric._draws.padded_normal``) and measured in one compiled program per architecture."""
    _check_mlp(mlp)
    x = jnp.asarray(x)
    tangents = padded_normal(key, math.prod(_tangent_shape(mlp)), x.dtype) if mlp.depth > 1 else None
    return _drawn_layer_statistics(tangents, mlp, _drawn_params(init_key, mlp, x.shape[-1], x.dtype), x)


@functools.partial(jax.jit, static_argnames=("mlp",))
def _drawn_network_kernels(drawn, mlp: MLP, x):
    params = _cut_params(mlp, drawn, x.shape[1])
    return empirical_nngp(mlp, params, x, x), layerwise_ntk(mlp, params, x, x)


def random_network_kernels(key, mlp: MLP, x, dtype=jnp.float32):
    """(:func:`empirical_nngp`, empirical NTK) of x against itself for the network
    ``init_params(key, mlp, d, dtype)`` (the NTK by :func:`layerwise_ntk`, equal to
    :func:`empirical_ntk` to round-off): the same draws, drawn by one compiled generator per size
    class (``numeric._draws.padded_normal``) and measured in one compiled program per architecture."""
    _check_mlp(mlp)
    x = jnp.asarray(x)
    return _drawn_network_kernels(_drawn_params(key, mlp, x.shape[1], dtype), mlp, x)
