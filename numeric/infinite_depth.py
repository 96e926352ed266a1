"""Random deep residual networks run directly: forward squared norms and input-gradient norms.

Independent of ``analytic``: nothing here knows a closed form.

``x_{l+1} = x_l + (branch_scale / depth^depth_exponent) W_l phi(x_l)`` for ``l < depth``, with
``W_l`` of independent ``N(0, sigma_w^2 / width)`` entries drawn afresh for every layer and
sample, ``phi`` the identity or ReLU, and the input
``x_0 ~ N(0, I_width)``. For each sample it reports ``|x_L|^2 / |x_0|^2``,
``|x_L - x_0|^2 / |x_0|^2`` and the input-gradient ratio ``|d(u . x_L)/d x_0|^2 / |u|^2`` for a
random direction ``u`` (``jax.grad`` through the network, the same weights). The layer loop is a
``lax.scan`` of ``max(depths)`` steps that freezes after ``depth`` layers, so all depths and
samples are one ``vmap`` (one compiled program per width and activation).
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

__all__ = ["ACTIVATIONS", "ResNetSamples", "random_resnets"]

ACTIVATIONS = ("identity", "relu")


class ResNetSamples(NamedTuple):
    """Per (depth, sample): |x_L|^2/|x_0|^2, |x_L - x_0|^2/|x_0|^2, |grad_x0 (u . x_L)|^2 / |u|^2."""

    growth: jax.Array
    displacement: jax.Array
    gradient_growth: jax.Array


def _network(x0, weights, depth, scale, relu):
    def phi(v):
        return jnp.where(relu, jax.nn.relu(v), v)

    def layer(x, step):
        index, w = step
        return jnp.where(index < depth, x + scale * w @ phi(x), x), None

    x, _ = jax.lax.scan(layer, x0, (jnp.arange(weights.shape[0]), weights))
    return x


@functools.partial(jax.jit, static_argnames=("width", "samples", "max_depth"))
def _simulate(key, depths, branch_scale, sigma_w, depth_exponents, relu, width, samples, max_depth):
    draws = jax.random.normal(key, (samples, max_depth + 2, width, width))
    x0, u = draws[:, 0, 0], draws[:, 1, 0]
    # every layer's weights, drawn once and shared by all (depth, exponent) pairs: layer l of a
    # depth-L network is weights[l], for l < L
    weights = sigma_w / jnp.sqrt(width) * draws[:, 2:]

    def one(depth, depth_exponent, is_relu, alpha, x_in, direction, w):
        scale = alpha / depth.astype(x_in.dtype) ** depth_exponent
        x, pullback = jax.vjp(lambda v: _network(v, w, depth, scale, is_relu), x_in)
        (gradient,) = pullback(direction)  # d(direction . x_L)/dx_0, through the same weights
        norm0 = x_in @ x_in
        return x @ x / norm0, (x - x_in) @ (x - x_in) / norm0, gradient @ gradient / (direction @ direction)

    per_depth = jax.vmap(one, in_axes=(None, None, None, None, 0, 0, 0))
    return ResNetSamples(*jax.vmap(per_depth, in_axes=(0, 0, 0, 0, None, None, None))(
        depths, depth_exponents, relu, branch_scale, x0, u, weights))


def random_resnets(key, depths, width: int, branch_scale, sigma_w, depth_exponent, activation: str = "identity",
                   samples: int = 256) -> ResNetSamples:
    """``samples`` random residual networks at each (depth, depth_exponent, activation, branch_scale):
    fields (pairs, samples).

    ``depths``, ``depth_exponent``, ``activation`` (a name or an array of names) and ``branch_scale``
    broadcast to 1-D pairs; all of them are one compiled program per width. The same sample keys serve every
    pair (common random numbers across depths).

    Example:
        >>> import jax; jax.config.update("jax_enable_x64", True)
        >>> from numeric import infinite_depth
        >>> out = infinite_depth.random_resnets(jax.random.key(0), [1], 4, 0.0, 1.0, 0.5, samples=2)
        >>> out.growth.tolist()  # branch_scale 0: the identity network
        [[1.0, 1.0]]
    """
    names = np.asarray(activation)
    if not np.all(np.isin(names, ACTIVATIONS)):
        raise ValueError(f"activation must be one of {ACTIVATIONS} (or an array of them), got {activation!r}")
    depths, exponents, names, scales = np.broadcast_arrays(np.asarray(depths), np.asarray(depth_exponent, dtype=float),
                                                           names, np.asarray(branch_scale, dtype=float))
    if depths.ndim != 1 or depths.size == 0 or np.any(depths < 1) or np.any(depths != np.round(depths)):
        raise ValueError(f"depths must be a 1-D array of integers >= 1, got {depths!r}")
    if int(width) != width or width < 1:
        raise ValueError(f"width must be an integer >= 1, got {width!r}")
    if int(samples) != samples or samples < 1:
        raise ValueError(f"samples must be an integer >= 1, got {samples!r}")
    for name, value in (("branch_scale", branch_scale), ("sigma_w", sigma_w), ("depth_exponent", depth_exponent)):
        if not (np.all(np.isfinite(value)) and np.all(np.asarray(value) >= 0)):
            raise ValueError(f"{name} must be finite and >= 0, got {value!r}")
    # the key's bits seed XLA's RngBitGenerator ("rbg"): the same draws for the same key, and a
    # program that compiles several times faster than threefry's at these shapes
    data = jax.random.key_data(key).ravel()
    rbg_key = jax.random.wrap_key_data(jnp.resize(data, (4,)).astype(jnp.uint32), impl="rbg")
    return _simulate(rbg_key, jnp.asarray(depths.astype(int)), jnp.asarray(scales), float(sigma_w), jnp.asarray(exponents),
                     jnp.asarray(names == "relu"), int(width), int(samples), int(depths.max()))
