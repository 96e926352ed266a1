r"""Finite networks built from plain-data layer records: CNNs, pooling, residual blocks, LayerNorm.

The records (``Dense``, ``Conv``, ``Activation``, ``AvgPool``, ``GlobalAvgPool``, ``Flatten``,
``Residual``, ``LayerNorm``) are read here by class name and field (``type(layer).__name__``,
``layer.sigma_w``, ...), so this module imports nothing from ``analytic``; the verify checks
hand the same objects to both sides. Every hidden Dense/Conv has ``width`` output channels,
the network's last layer ``out_width`` (default 1).

Parameterisation. "ntk": $W = \sigma_w/\sqrt{\text{fan-in}}\,\omega$, $b = \sigma_b\beta$ with
$\omega, \beta$ standard normal and trained; "standard": $W \sim N(0, \sigma_w^2/\text{fan-in})$,
$b \sim N(0, \sigma_b^2)$ trained directly (fan-in = C_in * prod(filter), or C * positions
after Flatten). Convolutions are ``lax.conv_general_dilated`` (channels last; SAME padding by
XLA's rule, CIRCULAR as wrap-around padding then VALID); AvgPool sums windows with
``lax.reduce_window`` and divides by the full window; LayerNorm subtracts the channel mean and
divides by the channel standard deviation (eps 1e-12, no affine).

Measurements: :func:`readout_nngp` (the covariance the last Dense sees, one network),
:func:`empirical_ntk` ($J(x_1)J(x_2)^T$ from ``jax.jacrev``, i.e. one VJP per output, summed
over parameter leaves; for "standard" divided by ``width``), :func:`kernel_draws` (both over
many initialisations, vmapped) and :func:`train_ensemble` (full-batch GD on
$\frac12\sum_i (f(x_i)-y_i)^2$, vmapped over initialisations).
"""

from __future__ import annotations

import functools
import math
from typing import NamedTuple

import jax
import jax.numpy as jnp

from numeric._draws import normal_arrays
from numeric.run_bound import RUN_BOUND

__all__ = ["init_params", "apply", "readout_nngp", "empirical_ntk", "kernel_draws", "KernelDraws",
           "train_ensemble"]

PARAMETERIZATIONS = ("ntk", "standard")


def _kind(layer) -> str:
    return type(layer).__name__


def _dims(value, d: int) -> tuple:
    return (value,) * d if isinstance(value, int) else tuple(value)


def _check(width: int, parameterization: str) -> None:
    if isinstance(width, bool) or not isinstance(width, int) or width < 1:
        raise ValueError(f"width = {width!r} must be an integer >= 1 (channels of every hidden layer)")
    if parameterization not in PARAMETERIZATIONS:
        raise ValueError(f"parameterization = {parameterization!r} is unknown; valid: {PARAMETERIZATIONS}")


def _init(draw, layers, shape, width, out_width, dtype, last: bool):
    """Parameters of ``layers`` for inputs of shape (*spatial, channels); the output shape.
    ``draw(shape)`` gives each weight and bias in turn."""
    params = []
    for i, layer in enumerate(layers):
        kind = _kind(layer)
        out = out_width if last and i == len(layers) - 1 else width
        if kind == "Dense":
            fan = shape[-1]
            params.append((draw((fan, out)), draw((out,))))
            shape = shape[:-1] + (out,)
        elif kind == "Conv":
            d = len(shape) - 1
            filt = _dims(layer.filter_shape, d)
            w = draw(filt + (shape[-1], out))
            params.append((w, draw((out,))))
            y = jax.eval_shape(lambda x, w: _conv(layer, x, w), jax.ShapeDtypeStruct((1,) + shape, dtype),
                               jax.ShapeDtypeStruct(w.shape, dtype))
            shape = y.shape[1:-1] + (out,)
        elif kind == "Residual":
            inner, end = _init(draw, layer.branch, shape, width, out_width, dtype, last=False)
            if end != shape:
                raise ValueError(f"layer {i} (Residual): the branch maps shape {shape} to {end}; it must keep it "
                                 "(a residual right after the input needs width == input channels)")
            params.append(inner)
        else:
            params.append(())
            probe = jax.eval_shape(lambda x: _apply_layer(layer, (), x, "ntk"), jax.ShapeDtypeStruct((1,) + shape, dtype))
            shape = probe.shape[1:]
    return params, shape


def init_params(key, layers, input_shape, width: int, *, out_width: int = 1, dtype=jnp.float32):
    """Standard-normal parameters (a list per layer; a Residual holds its branch's list) for
    inputs of shape ``input_shape`` = (*spatial, channels).

    All of them are one draw cut into the layers in order (``numeric._draws``: one random-number
    generator per compiled program)."""
    _check(width, "ntk")
    layers, input_shape = tuple(layers), tuple(input_shape)
    shapes = []

    def record(shape):
        shapes.append(shape)
        return jax.ShapeDtypeStruct(shape, dtype)

    _init(record, layers, input_shape, width, out_width, dtype, last=True)
    drawn = iter(normal_arrays(key, shapes, dtype))
    params, _ = _init(lambda shape: next(drawn), layers, input_shape, width, out_width, dtype, last=True)
    return params


def _pads(layer, spatial, window, strides):
    out = []
    for length, k, s in zip(spatial, window, strides):
        n_out = -(-length // s)
        total = max((n_out - 1) * s + k - length, 0)
        out.append((total // 2, total - total // 2))
    return out


def _conv(layer, x, w):
    d = x.ndim - 2
    filt, strides = w.shape[:d], _dims(layer.strides, d)
    padding = layer.padding
    if padding == "CIRCULAR":
        pads = _pads(layer, x.shape[1:-1], filt, strides)
        x = jnp.pad(x, [(0, 0)] + pads + [(0, 0)], mode="wrap")
        padding = "VALID"
    spec = {1: ("NWC", "WIO", "NWC"), 2: ("NHWC", "HWIO", "NHWC")}[d]
    return jax.lax.conv_general_dilated(x, w, strides, padding, dimension_numbers=spec,
                                        precision=jax.lax.Precision.HIGHEST)


def _linear(layer, p, x, parameterization, net):
    w, b = p
    if _kind(layer) == "Conv":
        fan = math.prod(w.shape[:-1]) * net.fraction
        y = _conv(layer, x, w)
    else:
        fan = w.shape[0] * net.fraction
        y = jnp.matmul(x, w, precision=jax.lax.Precision.HIGHEST)
    # "ntk": sigma_w/sqrt(fan) * (x . omega) + sigma_b * beta; "standard" draws the same values
    # (so one init is one network in either), its gradients differ: see _standard_params.
    return layer.sigma_w / jnp.sqrt(fan) * y + layer.sigma_b * b


def _activation(name):
    if callable(name):
        return name
    return {"relu": jax.nn.relu, "erf": jax.scipy.special.erf, "step": lambda z: (z > 0).astype(z.dtype),
            "tanh": jnp.tanh}[name]


class _Net(NamedTuple):
    """How channels are counted: ``fraction`` of the input's channels that are live (1 for data;
    active / W for hidden layers of a width-W network run at width ``active``) and the mask of
    live hidden channels (None: all)."""

    fraction: object = 1.0
    mask: object = None
    active: object = None


def _hidden(net: _Net, width_total: int) -> _Net:
    if net.active is None:
        return _Net()
    return _Net(net.active / width_total, (jnp.arange(width_total) < net.active), net.active)


def _apply_layer(layer, p, x, parameterization, net=_Net(), last=False):
    kind = _kind(layer)
    if kind in ("Dense", "Conv"):
        y = _linear(layer, p, x, parameterization, net)
        return y if (last or net.active is None) else y * _hidden(net, y.shape[-1]).mask.astype(y.dtype)
    if kind == "Activation":
        return _activation(layer.activation)(x)
    if kind == "AvgPool":
        d = x.ndim - 2
        window = _dims(layer.window, d)
        strides = window if layer.strides is None else _dims(layer.strides, d)
        if layer.padding == "SAME":
            pads = [(0, 0)] + _pads(layer, x.shape[1:-1], window, strides) + [(0, 0)]
        else:
            pads = [(0, 0)] * x.ndim
        total = jax.lax.reduce_window(x, 0.0, jax.lax.add, (1,) + window + (1,), (1,) + strides + (1,), pads)
        return total / math.prod(window)
    if kind == "GlobalAvgPool":
        return jnp.mean(x, axis=tuple(range(1, x.ndim - 1)))
    if kind == "Flatten":
        return x.reshape(x.shape[0], -1)
    if kind == "LayerNorm":
        live = 1.0 if net.mask is None else net.mask.astype(x.dtype)
        count = x.shape[-1] if net.active is None else net.active
        centred = (x - jnp.sum(x * live, axis=-1, keepdims=True) / count) * live
        return centred / jnp.sqrt(jnp.sum(centred**2, axis=-1, keepdims=True) / count + 1e-12)
    if kind == "Residual":
        return x + layer.scale * _forward(layer.branch, p, x, parameterization, net, top=False)
    raise TypeError(f"{layer!r} is not a layer record")


def _forward(layers, params, x, parameterization, net=_Net(), top=True, active=None):
    """Apply ``layers``; with ``active`` (a traced channel count) every hidden layer keeps only its
    first ``active`` channels and normalises by them: exactly the width-``active`` network."""
    if active is not None:
        net = _Net(active=active)
    for i, layer in enumerate(layers):
        last = top and i == len(layers) - 1
        x = _apply_layer(layer, p if (p := params[i]) is not None else (), x, parameterization, net, last)
        if _kind(layer) in ("Dense", "Conv") and net.active is not None:
            net = _hidden(net, x.shape[-1])
    return x


def _standard_params(layers, params, fraction, hidden=False):
    """Standard parameterisation as a reparameterisation of the same network: the trained
    values are theta_SP = (sigma/sqrt(fan)) omega; gradients w.r.t. theta_SP equal those
    w.r.t. omega times sqrt(fan)/sigma, so J_SP J_SP^T = sum over layers of
    (fan/sigma_w^2) J_omega J_omega^T (weights) + (1/sigma_b^2) J_beta J_beta^T (biases).
    Returns the per-leaf factors (pytree like params)."""
    factors = []
    for layer, p in zip(layers, params):
        kind = _kind(layer)
        if kind in ("Dense", "Conv"):
            fan = math.prod(p[0].shape[:-1]) * (fraction if hidden else 1.0)
            fw = fan / layer.sigma_w**2 if layer.sigma_w else 0.0
            fb = 1 / layer.sigma_b**2 if layer.sigma_b else 0.0
            factors.append((fw, fb))
            hidden = True
        elif kind == "Residual":
            factors.append(_standard_params(layer.branch, p, fraction, hidden))
        else:
            factors.append(())
    return factors


def apply(layers, params, x, parameterization: str = "ntk"):
    """The network's outputs (N, out_width) for inputs (N, *spatial, channels)."""
    return _forward(tuple(layers), params, x, parameterization)


def readout_nngp(layers, params, x1, x2, active=None):
    """sigma_w^2 h(x1).h(x2)/fan + sigma_b^2 of the last Dense's input h (one network's NNGP);
    ``active``: the live channel count when run inside a wider network (see ``_forward``)."""
    layers = tuple(layers)
    last = layers[-1]
    if _kind(last) != "Dense":
        raise ValueError(f"the last layer must be Dense for a readout kernel, got {last!r}")
    h1 = _forward(layers[:-1], params[:-1], x1, "ntk", top=False, active=active).reshape(x1.shape[0], -1)
    h2 = h1 if x2 is x1 else _forward(layers[:-1], params[:-1], x2, "ntk", top=False, active=active).reshape(x2.shape[0], -1)
    fan = h1.shape[1] if active is None else h1.shape[1] * active / _channels(layers, params)
    return last.sigma_w**2 * jnp.matmul(h1, h2.T, precision=jax.lax.Precision.HIGHEST) / fan + last.sigma_b**2


def _channels(layers, params) -> int:
    """The hidden width W of a parameter list (output channels of its first Dense/Conv)."""
    for layer, p in zip(layers, params):
        if _kind(layer) in ("Dense", "Conv"):
            return p[0].shape[-1]
    raise ValueError("the network has no Dense or Conv layer")


def empirical_ntk(layers, params, x1, x2, parameterization: str = "ntk", width=None, active=None):
    """J(x1) J(x2)^T of the (first) output over all parameters (one reverse pass per output
    point, ``jax.jacrev``; reused when x2 is x1); "standard": divided by ``width``.
    ``active``: the live channel count when run inside a wider network (see ``_forward``)."""
    layers = tuple(layers)

    def f(p, x):
        return _forward(layers, p, x, parameterization, active=active)[:, 0]

    j1 = jax.jacrev(f)(params, x1)
    j2 = j1 if x2 is x1 else jax.jacrev(f)(params, x2)
    if parameterization == "standard":
        if width is None:
            raise ValueError("width is needed to divide the standard-parameterisation NTK")
        fraction = 1.0 if active is None else active / _channels(layers, params)
        factors = _standard_params(layers, params, fraction)
    else:
        factors = jax.tree_util.tree_map(lambda _: 1.0, params)
    flat1, tree = jax.tree_util.tree_flatten(j1)
    flat2 = tree.flatten_up_to(j2)
    flat_f = tree.flatten_up_to(jax.tree_util.tree_unflatten(jax.tree_util.tree_structure(params),
                                                             jax.tree_util.tree_leaves(factors)))
    total = 0.0
    for a, b, c in zip(flat1, flat2, flat_f):
        total = total + c * jnp.einsum("n...,m...->nm", a, b, precision=jax.lax.Precision.HIGHEST)
    return total / width if parameterization == "standard" else total


class KernelDraws(NamedTuple):
    """Per initialisation: readout NNGP (draws, n, n) and empirical NTK (draws, n, n)."""

    nngp: jax.Array
    ntk: jax.Array


@functools.partial(jax.jit, static_argnames=("layers", "total", "draws", "parameterization"), compiler_options=RUN_BOUND)
def _kernel_draws(key, x, width, *, layers, total, draws, parameterization):
    active = None if width is None else width.astype(x.dtype)
    scale = total if width is None else active

    def one(k):
        params = init_params(k, layers, x.shape[1:], total, dtype=x.dtype)
        return (readout_nngp(layers, params, x, x, active),
                empirical_ntk(layers, params, x, x, parameterization, scale, active))

    return KernelDraws(*jax.lax.map(one, jax.random.split(key, draws)))


def kernel_draws(key, layers, x, width: int, draws: int, parameterization: str = "ntk", *,
                 compile_width: int | None = None) -> KernelDraws:
    """The readout NNGP and the empirical NTK of ``draws`` independently initialised networks.

    ``compile_width`` (>= width): build ``compile_width``-channel networks and keep only the
    first ``width`` channels of every hidden layer live (masked, normalised by ``width``): the
    same width-``width`` networks (their live weights are i.i.d. standard normal; dead ones get
    zero gradient), with one compilation shared by all widths up to ``compile_width``."""
    _check(width, parameterization)
    if isinstance(draws, bool) or not isinstance(draws, int) or draws < 1:
        raise ValueError(f"draws = {draws!r} must be an integer >= 1")
    if compile_width is None:
        return _kernel_draws(key, jnp.asarray(x), None, layers=tuple(layers), total=width, draws=draws,
                             parameterization=parameterization)
    if not isinstance(compile_width, int) or compile_width < width:
        raise ValueError(f"compile_width = {compile_width!r} must be an integer >= width = {width}")
    return _kernel_draws(key, jnp.asarray(x), jnp.asarray(width), layers=tuple(layers), total=compile_width,
                         draws=draws, parameterization=parameterization)


@functools.partial(jax.jit, static_argnames=("layers", "width", "steps", "seeds"))
def _train(key, x_train, y_train, x_test, learning_rate, *, layers, width, steps, seeds):
    def one(k):
        params = init_params(k, layers, x_train.shape[1:], width, dtype=x_train.dtype)

        def loss(p):
            return 0.5 * jnp.sum((_forward(layers, p, x_train, "ntk")[:, 0] - y_train) ** 2)

        def step(p, _):
            g = jax.grad(loss)(p)
            return jax.tree_util.tree_map(lambda a, b: a - learning_rate * b, p, g), None

        trained, _ = jax.lax.scan(step, params, None, length=steps)
        return (_forward(layers, params, x_train, "ntk")[:, 0], _forward(layers, params, x_test, "ntk")[:, 0],
                _forward(layers, trained, x_test, "ntk")[:, 0])

    # lax.map, not vmap: vmapped over networks, a convolution with per-network weights becomes a
    # grouped convolution, which XLA:CPU ran ~10x slower here (60 s against 5.6 s for 8 networks)
    return jax.lax.map(one, jax.random.split(key, seeds))


def train_ensemble(key, layers, x_train, y_train, x_test, width: int, learning_rate: float, steps: int, seeds: int):
    """Full-batch GD (NTK parameterisation) of ``seeds`` networks on 1/2 sum (f - y)^2: the
    initial train outputs (seeds, n), initial test outputs and test outputs after ``steps`` steps
    (seeds, m)."""
    _check(width, "ntk")
    if not (learning_rate > 0 and math.isfinite(learning_rate)):
        raise ValueError(f"learning_rate = {learning_rate!r} must be finite and > 0")
    return _train(key, jnp.asarray(x_train), jnp.asarray(y_train), jnp.asarray(x_test), learning_rate, layers=tuple(layers),
                  width=width, steps=steps, seeds=seeds)
