"""Random deep networks at initialisation: forward variance, correlation, backward gradients.

Independent of ``analytic``. A network of ``depth`` hidden layers of ``width`` units,
``h^1 = sigma_w / sqrt(d) W^1 x + sigma_b b^1``, ``h^{l+1} = sigma_w / sqrt(width) W^{l+1}
phi(h^l) + sigma_b b^{l+1}`` with i.i.d. N(0, 1) entries (per-weight variance sigma_w^2 / fan_in),
is drawn in one normal draw and kept for the backward pass where it fits in memory (else layer
by layer inside a ``lax.scan``, regenerated from the layer's key in the backward pass, never
stored), for two inputs at once, ``vmap`` over seeds. Backward: the
gradient of a random readout ``v . h^L`` (v ~ N(0, I)) with respect to each h^l,
``delta^l = phi'(h^l) * (sigma_w / sqrt(width) W^{l+1 T} delta^{l+1})``.

Each activation compiles its own (small, random-free) program per network size: a ``lax.switch``
over all of them would compile every branch, whichever a run needs; the one draw of the weights
is a program of its own that all activations share.

Also: empirical NNGP / NTK of one network with any activation (all parameters, NTK
parameterisation, scalar output), for the kernels of activations ``numeric.mlp`` lacks;
``jacobian_moments``, the spectral moments of the input-output Jacobian of deep linear networks
with Gaussian or Haar-orthogonal weights; ``train_depth_sweep``, brief full-batch GD training of
networks over a grid of (sigma_w, depth).
"""

from __future__ import annotations

import functools
import math
import weakref
from typing import NamedTuple

import jax
import jax.numpy as jnp

from numeric.run_bound import RUN_BOUND

__all__ = ["ACTIVATIONS", "Propagation", "propagate", "empirical_kernels", "layer_gains", "JacobianMoments",
           "jacobian_moments", "DepthSweep", "train_depth_sweep"]

ACTIVATIONS = {"tanh": jnp.tanh, "relu": jax.nn.relu, "erf": jax.scipy.special.erf,
               "gelu": lambda z: jax.nn.gelu(z, approximate=False), "linear": lambda z: z,
               "silu": jax.nn.silu, "sin": jnp.sin, "softplus": jax.nn.softplus}
_HIGHEST = jax.lax.Precision.HIGHEST


def _phi(activation):
    if callable(activation):
        return activation
    if activation not in ACTIVATIONS:
        raise ValueError(f"activation = {activation!r} is unknown; valid: {tuple(ACTIVATIONS)} or a callable")
    return ACTIVATIONS[activation]


_SLOPES: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # entries die with their phi


def _slope(phi):
    """phi' elementwise: one object per live phi, so that jitted callers hit their cache
    (kept only while phi itself lives; a phi that takes no weak reference is not kept)."""
    try:
        return _SLOPES[phi]
    except (KeyError, TypeError):
        slope = jnp.vectorize(jax.grad(phi))
    try:
        _SLOPES[phi] = slope
    except TypeError:
        pass
    return slope


class Propagation(NamedTuple):
    """Per seed and hidden layer l = 1..depth."""

    variance: jax.Array  # (seeds, depth, 2): mean over units of h^l(x_i)^2
    correlation: jax.Array  # (seeds, depth): sum h(x_1) h(x_2) / sqrt(sum h(x_1)^2 sum h(x_2)^2)
    grad_sq: jax.Array  # (seeds, depth): |d(v . h^L)/dh^l(x_1)|^2


def _layer(key, width, n_in, dtype):
    """(W, b) of one layer from one draw: rows 0..n_in-1 are W, the last row is b."""
    wb = jax.random.normal(key, (n_in + 1, width), dtype)
    return wb[:n_in], wb[n_in]


# The weights of all seeds are drawn at once and kept for the backward pass while they fit in
# this many bytes (the quick and test sizes: 55 MB at depth 14, width 256, 8 seeds); beyond (the
# full size: ~40 GB) each layer's weights are drawn in the forward scan and drawn again from the
# same key in the backward scan, never stored.
_STORED_WEIGHT_BYTES = 2**28


def _n_weights(d, depth, width):
    """Number of N(0, 1) parameters of one network: first layer (d + 1) x width, depth - 1 hidden
    layers (width + 1) x width, readout v (width)."""
    return (d + 1) * width + (depth - 1) * (width + 1) * width + width


@functools.partial(jax.jit, static_argnames=("n_seeds", "d", "depth", "width", "dtype"), compiler_options=RUN_BOUND)
def _draw_weights(key, *, n_seeds, d, depth, width, dtype):
    """Every parameter of ``n_seeds`` networks, in a program of its own (at XLA level 3, where
    threefry runs ~4x faster) that every activation shares: (first-layer rows (n_seeds, d + 1,
    width), readout v (n_seeds, width), hidden layers (n_seeds, depth - 1, width + 1, width)).
    The same draws, key by key, as :func:`_drawn_layers` (so both paths, and earlier runs, see
    the same networks)."""
    def one(k):
        keys = jax.random.split(k, depth + 1)
        hidden = jax.vmap(lambda kl: jax.random.normal(kl, (width + 1, width), dtype))(keys[1:depth])
        return (jax.random.normal(keys[0], (d + 1, width), dtype), jax.random.normal(keys[depth], (width,), dtype),
                hidden)
    return jax.lax.map(one, jax.random.split(key, n_seeds))  # (vmap over seeds too: 2x the compilation)


def _drawn_layers(key, d, depth, width, dtype):
    """(first-layer rows (d + 1, width), readout v (width,), keys of the hidden layers,
    layer(key) -> (W, b)): each hidden layer drawn where it is used."""
    keys = jax.random.split(key, depth + 1)
    return (jax.random.normal(keys[0], (d + 1, width), dtype), jax.random.normal(keys[depth], (width,), dtype),
            keys[1:depth], lambda k: _layer(k, width, width, dtype))


def _propagate_one(weights, x, sigma_w, sigma_b, *, phi, depth, width):
    first, v, scanned, layer = weights
    slope = _slope(phi)
    d = x.shape[1]
    h1 = sigma_w / math.sqrt(d) * jnp.matmul(x, first[:d], precision=_HIGHEST) + sigma_b * first[d]

    def forward(h, s):
        w, b = layer(s)
        return sigma_w / math.sqrt(width) * jnp.matmul(phi(h), w, precision=_HIGHEST) + sigma_b * b, h

    h_last, hs = jax.lax.scan(forward, h1, scanned)
    hs = jnp.concatenate([hs, h_last[None]])  # (depth, 2, width)

    def backward(delta, inputs):  # delta = dF/dh^{l+1}; returns dF/dh^l
        s, h = inputs
        w, _ = layer(s)
        new = slope(h[0]) * (sigma_w / math.sqrt(width) * jnp.matmul(w, delta, precision=_HIGHEST))
        return new, new

    _, deltas = jax.lax.scan(backward, v, (scanned, hs[:-1]), reverse=True)
    grad_sq = jnp.concatenate([jnp.sum(deltas**2, axis=-1), jnp.sum(v**2)[None]])
    variance = jnp.mean(hs**2, axis=-1)
    correlation = jnp.sum(hs[:, 0] * hs[:, 1], -1) / jnp.sqrt(jnp.sum(hs[:, 0]**2, -1) * jnp.sum(hs[:, 1]**2, -1))
    return variance, correlation, grad_sq


def propagate(key, activation, x, depth: int, width: int, sigma_w, sigma_b, n_seeds: int) -> Propagation:
    """Forward and backward statistics of ``n_seeds`` random networks on the two inputs ``x`` (2, d).

    ``sigma_w``, ``sigma_b`` may be traced (vmap over a grid of them)."""
    if x.ndim != 2 or x.shape[0] != 2:
        raise ValueError(f"x must be (2, d): two inputs, got shape {x.shape}")
    for name, value in (("depth", depth), ("width", width), ("n_seeds", n_seeds)):
        if int(value) != value or value < (2 if name == "depth" else 1):
            raise ValueError(f"{name} = {value!r} is outside its valid range (integers >= "
                             f"{2 if name == 'depth' else 1})")
    depth, width, n_seeds = int(depth), int(width), int(n_seeds)
    phi = _phi(activation)
    n = _n_weights(x.shape[1], depth, width)
    if n_seeds * n * jnp.dtype(x.dtype).itemsize <= _STORED_WEIGHT_BYTES:
        weights = _draw_weights(key, n_seeds=n_seeds, d=x.shape[1], depth=depth, width=width, dtype=x.dtype)
        return Propagation(*_propagate_stored(weights, x, sigma_w, sigma_b, phi=phi, depth=depth, width=width))
    return Propagation(*_propagate_drawn(key, x, sigma_w, sigma_b, phi=phi, depth=depth, width=width,
                                         n_seeds=n_seeds))


@functools.partial(jax.jit, static_argnames=("phi", "depth", "width"))
def _propagate_stored(weights, x, sigma_w, sigma_b, *, phi, depth, width):
    """The networks of the drawn ``weights`` (:func:`_draw_weights`): no random numbers, so the caller's
    optimisation level (0 in quick runs and the tests: the matrix products are library calls
    either way) compiles it fast; one program per activation and network size."""
    def one(first, v, hidden):
        return _propagate_one((first, v, hidden, lambda wb: (wb[:width], wb[width])), x, sigma_w, sigma_b,
                              phi=phi, depth=depth, width=width)
    return jax.vmap(one)(*weights)


@functools.partial(jax.jit, static_argnames=("phi", "depth", "width", "n_seeds"), compiler_options=RUN_BOUND)
def _propagate_drawn(key, x, sigma_w, sigma_b, *, phi, depth, width, n_seeds):
    """Networks too large to store: each layer drawn in the forward scan, drawn again from its key
    in the backward scan (level 3: the draws are the cost)."""
    def one(k):
        weights = _drawn_layers(k, x.shape[1], depth, width, x.dtype)
        return _propagate_one(weights, x, sigma_w, sigma_b, phi=phi, depth=depth, width=width)
    return jax.vmap(one)(jax.random.split(key, n_seeds))


def layer_gains(key, activation, x, depth, width, sigma_w, sigma_b, n_seeds):
    """Geometric-mean per-layer gain of the squared gradient norm over layers 1..depth."""
    run = propagate(key, activation, x, depth, width, sigma_w, sigma_b, n_seeds)
    g = jnp.mean(run.grad_sq, axis=0)
    return (g[0] / g[-1]) ** (1 / (depth - 1))


def _apply(params, x, phi, sigma_w, sigma_b):
    a = x
    for i, (w, b) in enumerate(params):
        h = sigma_w / math.sqrt(a.shape[1]) * jnp.matmul(a, w, precision=_HIGHEST) + sigma_b * b
        a = h if i == len(params) - 1 else phi(h)
    return a[:, 0], a


# the caller's level (0 in quick runs): ~1M draws per call compile faster than they run slower
# (quick run: 8.4 -> 7.1 s of CPU for signal.tanh_kernel_width, measured cold)
@functools.partial(jax.jit, static_argnames=("activation", "depth", "width"))
def empirical_kernels(key, x, sigma_w, sigma_b, *, activation, depth, width):
    """(NNGP estimate from the last hidden layer, empirical NTK) of one random network on x (n, d)."""
    phi = _phi(activation)
    dims = [x.shape[1]] + [width] * depth + [1]
    keys = jax.random.split(key, len(dims) - 1)
    params = [_layer(k, n_out, n_in, x.dtype) for k, n_in, n_out in zip(keys, dims[:-1], dims[1:])]
    jac = jax.jacobian(lambda p: _apply(p, x, phi, sigma_w, sigma_b)[0])(params)
    flat = jnp.concatenate([j.reshape(x.shape[0], -1) for j in jax.tree_util.tree_leaves(jac)], axis=1)
    ntk = jnp.matmul(flat, flat.T, precision=_HIGHEST)
    a = phi(_hidden(params, x, phi, sigma_w, sigma_b))
    nngp = sigma_w**2 * jnp.matmul(a, a.T, precision=_HIGHEST) / width + sigma_b**2
    return nngp, ntk


def _hidden(params, x, phi, sigma_w, sigma_b):
    a = x
    h = x
    for w, b in params[:-1]:
        h = sigma_w / math.sqrt(a.shape[1]) * jnp.matmul(a, w, precision=_HIGHEST) + sigma_b * b
        a = phi(h)
    return h


class JacobianMoments(NamedTuple):
    """Moments of the squared singular values of the input-output Jacobian J_l = dh^l/dh^0."""

    moments: jax.Array  # (seeds, depth, max_moment): tr((J_l J_l^T)^k) / width, l = 1..depth, k = 1..max_moment


_WEIGHTS = ("gaussian", "orthogonal")


def jacobian_moments(key, depth: int, width: int, n_seeds: int, weights: str = "gaussian",
                     sigma_w=1.0, max_moment: int = 4) -> JacobianMoments:
    """Spectral moments of ``J_l = W^l ... W^1`` of ``n_seeds`` deep linear networks, at every depth l.

    ``weights="gaussian"``: ``W = sigma_w / sqrt(width) G`` with ``G_ij ~ N(0, 1)``;
    ``"orthogonal"``: ``W = sigma_w Q`` with Q Haar-distributed (QR of G, columns signed by
    diag(R)). The product is accumulated layer by layer in a ``lax.scan`` and the moments are
    traces of powers of ``J J^T`` (no eigendecomposition); both kinds share one compiled program
    (``lax.cond``)."""
    if weights not in _WEIGHTS:
        raise ValueError(f"weights = {weights!r}; valid: {_WEIGHTS}")
    for name, value in (("depth", depth), ("width", width), ("n_seeds", n_seeds), ("max_moment", max_moment)):
        if isinstance(value, bool) or int(value) != value or value < 1:
            raise ValueError(f"{name} = {value!r} is outside its valid range (integers >= 1)")
    if not math.isfinite(float(sigma_w)) or float(sigma_w) <= 0:
        raise ValueError(f"sigma_w = {sigma_w!r} is outside its valid range (0, oo)")
    dtype = jnp.result_type(float)
    values = _jacobian_moments(key, jnp.asarray(sigma_w, dtype), jnp.asarray(weights == "orthogonal"),
                               depth=int(depth), width=int(width), n_seeds=int(n_seeds),
                               max_moment=int(max_moment))
    return JacobianMoments(values)


@functools.partial(jax.jit, static_argnames=("depth", "width", "n_seeds", "max_moment"))
def _jacobian_moments(key, sigma_w, orthogonal, *, depth, width, n_seeds, max_moment):
    dtype = sigma_w.dtype

    def haar(g):
        q, r = jnp.linalg.qr(g)
        return q * jnp.sign(jnp.diagonal(r))

    def one(key):
        def layer(jac, k):
            g = jax.random.normal(k, (width, width), dtype)
            w = jax.lax.cond(orthogonal, haar, lambda g: g / math.sqrt(width), g)
            jac = sigma_w * jnp.matmul(w, jac, precision=_HIGHEST)
            gram = jnp.matmul(jac, jac.T, precision=_HIGHEST)
            power, traces = gram, [jnp.trace(gram)]
            for _ in range(max_moment - 1):
                power = jnp.matmul(power, gram, precision=_HIGHEST)
                traces.append(jnp.trace(power))
            return jac, jnp.stack(traces) / width

        _, moments = jax.lax.scan(layer, jnp.eye(width, dtype=dtype), jax.random.split(key, depth))
        return moments

    return jax.vmap(one)(jax.random.split(key, n_seeds))


class DepthSweep(NamedTuple):
    """One trained network per configuration (sigma_w[i], depth[i])."""

    train_accuracy: jax.Array  # (configs,): fraction of training points with sign(f(x)) = y after training
    initial_loss: jax.Array  # (configs,)
    final_loss: jax.Array  # (configs,): nan or inf where training diverged
    diverged: jax.Array  # (configs,) bool: a non-finite final loss


def train_depth_sweep(key, x, y, sigma_w, depth, sigma_b, *, width: int, steps: int, learning_rate: float,
                      activation="tanh") -> DepthSweep:
    """Train fully-connected networks of several (sigma_w, depth) briefly by full-batch GD.

    Network (the conventions of :func:`propagate`): ``h^1 = sigma_w/sqrt(d) W^1 x + sigma_b b^1``,
    ``h^{l+1} = sigma_w/sqrt(width) W^{l+1} phi(h^l) + sigma_b b^{l+1}`` up to ``h^depth``, output
    ``f = v . phi(h^depth) / sqrt(width)``; all parameters N(0, 1) and trained. Loss
    ``mean (f - y)^2 / 2`` with labels y = +-1; ``steps`` GD steps at ``learning_rate``. Every
    configuration runs in one ``vmap``: a network of ``max(depth)`` layers whose output is read
    at layer ``depth[i]`` (deeper layers get no gradient), one compilation for the sweep."""
    sigma_w = jnp.asarray(sigma_w, float)
    depth = jnp.asarray(depth)
    if sigma_w.shape != depth.shape or sigma_w.ndim != 1:
        raise ValueError(f"sigma_w and depth must be 1-d of one length, got shapes {sigma_w.shape}, {depth.shape}")
    if not bool(jnp.all(sigma_w > 0)):
        raise ValueError(f"sigma_w = {sigma_w} is outside its valid range (0, oo)")
    if not bool(jnp.all(depth >= 1)) or not jnp.issubdtype(depth.dtype, jnp.integer):
        raise ValueError(f"depth = {depth} must be integers >= 1")
    for name, value in (("width", width), ("steps", steps)):
        if isinstance(value, bool) or int(value) != value or value < 1:
            raise ValueError(f"{name} = {value!r} is outside its valid range (integers >= 1)")
    if x.ndim != 2 or y.shape != (x.shape[0],):
        raise ValueError(f"x must be (n, d) and y (n,), got shapes {x.shape}, {y.shape}")
    dtype = jnp.result_type(x)  # (float32 inputs train in float32)
    return DepthSweep(*_train_sweep(key, x, y.astype(dtype), sigma_w.astype(dtype), depth,
                                    jnp.asarray(sigma_b, dtype), jnp.asarray(learning_rate, dtype),
                                    phi=_phi(activation),
                                    max_depth=int(jnp.max(depth)), width=int(width), steps=int(steps)))


def _sweep_forward(params, x, sigma_w, sigma_b, depth, phi, width):
    first, hidden, readout = params
    d = x.shape[1]
    h = sigma_w / math.sqrt(d) * jnp.matmul(x, first[:d], precision=_HIGHEST) + sigma_b * first[d]

    def layer(h, wb):
        return sigma_w / math.sqrt(width) * jnp.matmul(phi(h), wb[:width], precision=_HIGHEST) + sigma_b * wb[width], h

    h_last, hs = jax.lax.scan(layer, h, hidden)
    hs = jnp.concatenate([hs, h_last[None]])  # (max_depth, n, width)
    return jnp.matmul(phi(hs[depth - 1]), readout, precision=_HIGHEST) / math.sqrt(width)


# level 3: the sweep runs (every configuration x steps x max_depth layers) far longer than it
# compiles (quick run: 13.3 -> 11.6 s of CPU for signal.trainable_depth, measured cold)
@functools.partial(jax.jit, static_argnames=("phi", "max_depth", "width", "steps"), compiler_options=RUN_BOUND)
def _train_sweep(key, x, y, sigma_w, depth, sigma_b, learning_rate, *, phi, max_depth, width, steps):
    dtype = x.dtype

    def one(sw, dep):
        k0, k1, k2 = jax.random.split(key, 3)  # one draw for every configuration
        params = (jax.random.normal(k0, (x.shape[1] + 1, width), dtype),
                  jax.random.normal(k1, (max_depth - 1, width + 1, width), dtype),
                  jax.random.normal(k2, (width,), dtype))

        def loss(p):
            return 0.5 * jnp.mean((_sweep_forward(p, x, sw, sigma_b, dep, phi, width) - y) ** 2)

        def step(p, _):
            value, grad = jax.value_and_grad(loss)(p)
            return jax.tree_util.tree_map(lambda a, g: a - learning_rate * g, p, grad), value

        params, losses = jax.lax.scan(step, params, None, length=steps)
        f = _sweep_forward(params, x, sw, sigma_b, dep, phi, width)
        final = 0.5 * jnp.mean((f - y) ** 2)
        return jnp.mean(jnp.sign(f) == y), losses[0], final, ~jnp.isfinite(final)

    return jax.vmap(one)(sigma_w, depth)
