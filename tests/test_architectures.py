"""kernels.serial: architectures' infinite-width kernels (issue 27).

Three kinds of reference, none of them the code under test: fc_kernels' scale-free path
(a 1x1-conv network and a network on position-constant inputs are FC networks), exact
symmetries (circular convolutions with global pooling are shift invariant), and, where
installed, neural-tangents 0.6.5 in float64 (``.gpu_peers``; skipped cleanly without it).
"""

from __future__ import annotations

import math
import pathlib
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from analytic import kernels as K

_EPS = float(np.finfo(np.float64).eps)
# Round-off bound for our own recursions compared with each other: a few hundred ulps over
# a handful of layers (measured 7e-16 .. 3e-15).
_ROUND_OFF = 1e-12


def _rel(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return float(np.max(np.abs(a - b) / np.maximum(np.abs(b), 1e-300)))


def _signals(shape, seed=0):
    return jax.random.normal(jax.random.key(seed), shape, jnp.float64)


# --- peer-free references -------------------------------------------------------------
@pytest.mark.parametrize("activation, parameterization", [("relu", "ntk"), ("erf", "standard")])
def test_one_by_one_conv_network_is_fc_kernels(activation, parameterization):
    """Conv(1) on one position + Dense layers = the FC network: fc_kernels' numbers (its own path)."""
    x = _signals((6, 5))
    layers = [K.Conv(1, 1.4, 0.1), K.Activation(activation), K.Dense(1.4, 0.1), K.Activation(activation),
              K.Flatten(), K.Dense(1.4, 0.1)]
    ours = K.serial(*layers, parameterization=parameterization).kernels(x[:, None, :])
    ref = K.fc_kernels(x, None, 2, activation, 1.4, 0.1, parameterization)
    for a, b in zip(ours, ref):
        assert _rel(a, b) < _ROUND_OFF


def test_dense_only_serial_is_fc_kernels_and_precision_default_unchanged():
    x, y = _signals((7, 4), 1), _signals((3, 4), 2)
    net = K.serial(K.Dense(1.2, 0.3), K.Activation("erf"), K.Dense(1.2, 0.3), K.Activation("erf"), K.Dense(1.2, 0.3))
    ref = K.fc_kernels(x, y, 2, "erf", 1.2, 0.3)
    assert all(np.array_equal(a, b) for a, b in zip(net.kernels(x, y), ref))
    pinned = K.fc_kernels(x, y, 2, "erf", 1.2, 0.3, precision=jax.lax.Precision.HIGHEST)
    assert all(np.array_equal(a, b) for a, b in zip(pinned, ref))
    with pytest.raises(ValueError, match="precision"):
        K.fc_kernels(x, y, 2, "erf", 1.2, 0.3, precision="high")


@pytest.mark.parametrize("activation", ["relu", "erf"])
def test_position_constant_inputs_through_circular_convs_are_fc(activation):
    """Every position equal: every covariance is constant over positions, so a CIRCULAR CNN
    with global pooling is the FC network of one position's features."""
    feats = _signals((5, 3), 3)
    x = jnp.broadcast_to(feats[:, None, :], (5, 8, 3))
    net = K.serial(K.Conv(3, 1.4, 0.1, padding="CIRCULAR"), K.Activation(activation),
                   K.Conv(5, 1.4, 0.1, padding="CIRCULAR"), K.Activation(activation), K.GlobalAvgPool(),
                   K.Dense(1.4, 0.1))
    ref = K.fc_kernels(feats, None, 2, activation, 1.4, 0.1)
    for a, b in zip(net.kernels(x), ref):
        assert _rel(a, b) < _ROUND_OFF
    wrong = K.serial(K.Conv(3, 1.4, 0.1, padding="SAME"), *net.layers[1:])  # zero padding breaks it
    assert _rel(wrong.kernels(x).ntk, ref.ntk) > 1e-3


def test_circular_cnn_with_global_pooling_is_shift_invariant():
    x = _signals((4, 9, 2), 4)
    shifted = jnp.roll(x, 3, axis=1)
    net = K.serial(K.Conv(3, 1.3, 0.2, padding="CIRCULAR"), K.Activation("relu"), K.Conv(2, 1.3, 0.2, padding="CIRCULAR"),
                   K.Activation("erf"), K.GlobalAvgPool(), K.Dense(1.3, 0.2))
    a, b = net.kernels(x, x), net.kernels(x, shifted)
    for u, v in zip(a, b):
        assert _rel(v, u) < _ROUND_OFF
    flat = K.serial(*net.layers[:-2], K.Flatten(), K.Dense(1.3, 0.2))  # control: Flatten is not invariant
    assert _rel(flat.kernels(x, shifted).nngp, flat.kernels(x, x).nngp) > 1e-3


def test_pair_and_diagonal_tracking_agree():
    """AvgPool(1) is the identity but makes the engine carry all pairs of positions up to it."""
    x = _signals((5, 7, 3), 5)
    body = [K.Conv(3, 1.4, 0.1), K.Residual(K.Activation("relu"), K.Conv(3, 1.1, 0.2), scale=0.5), K.LayerNorm(),
            K.Activation("erf")]
    diagonal = K.serial(*body, K.Flatten(), K.Dense(1.4, 0.1))
    pairs = K.serial(*body, K.AvgPool(1), K.Flatten(), K.Dense(1.4, 0.1))
    for a, b in zip(diagonal.kernels(x), pairs.kernels(x)):
        assert _rel(a, b) < _ROUND_OFF


def test_cross_kernels_equal_symmetric_ones_and_dtype_follows_inputs():
    x = _signals((4, 6, 2), 6)
    net = K.serial(K.Conv(3, 1.4, 0.1), K.Activation("relu"), K.AvgPool(2), K.Conv(2, 1.4, 0.1, padding="VALID"),
                   K.Activation("relu"), K.GlobalAvgPool(), K.Dense(1.4, 0.1))
    a, b = net.kernels(x), net.kernels(x, jnp.array(x))
    off = ~np.eye(len(x), dtype=bool)
    for u, v in zip(a, b):
        assert _rel(np.asarray(v)[off], np.asarray(u)[off]) < _ROUND_OFF
        # The diagonal pairs x with itself: the ReLU derivative map (pi - arccos c) / pi has an
        # infinite slope at c = 1, so a round-off delta <= 64 eps in the cross path's computed
        # correlation (exactly 1 in the symmetric path) moves it by sqrt(2 delta) / pi, at each
        # of the two ReLU layers. Measured 2.3e-9 with XLA's optimisation level 0, 0 at level 3.
        assert _rel(np.diag(v), np.diag(u)) < 2 * np.sqrt(2 * 64 * _EPS) / np.pi
    assert np.allclose(a.ntk, np.asarray(a.ntk).T, rtol=_ROUND_OFF, atol=0)
    k32 = net.kernels(x.astype(jnp.float32))
    assert k32.ntk.dtype == jnp.float32
    assert _rel(k32.ntk, a.ntk) < 1e-5  # float32 round-off over 6 layers


def test_quadrature_activation_matches_closed_form():
    x = 0.5 * _signals((4, 6, 2), 7)  # pre-activation variances <= 1, where 64 nodes give < 1e-12 for erf
    layers = lambda act: [K.Conv(3, 1.0, 0.1), K.Activation(act), K.GlobalAvgPool(), K.Dense(1.0, 0.1)]
    closed = K.serial(*layers("erf")).kernels(x)
    quad = K.serial(*layers(jax.scipy.special.erf)).kernels(x)
    for a, b in zip(quad, closed):  # variances ~1: Gauss-Hermite(64) is good to < 1e-12 (see _quadrature)
        assert _rel(a, b) < 1e-10


def test_latex_shows_each_layer_map():
    net = K.serial(K.Conv(3, 1.4, 0.1), K.Activation("relu"), K.Residual(K.Conv(3, 1.0, 0.0)), K.LayerNorm(),
                   K.AvgPool(2), K.GlobalAvgPool(), K.Dense(1.4, 0.1))
    text = net.latex()
    assert text.count(r"\\") >= 7 and "acos" in text and r"\Theta^{7}" in text


@pytest.mark.parametrize("layers, shape, message", [
    ([K.Conv(5, 1, 0, padding="VALID"), K.Flatten(), K.Dense(1, 0)], (2, 4, 3), r"layer 0 .*larger than its VALID input of spatial shape \(4,\)"),
    ([K.Conv((3, 3), 1, 0), K.Flatten(), K.Dense(1, 0)], (2, 4, 3), r"layer 0 .*2 dimensions .* 1 spatial"),
    ([K.Dense(1, 0), K.GlobalAvgPool(), K.Conv(3, 1, 0), K.Flatten(), K.Dense(1, 0)], (2, 4, 3), "layer 2 .*needs positions"),
    ([K.Conv(3, 1, 0), K.Activation("relu")], (2, 4, 3), r"ends with positions \(spatial shape \(4,\)"),
    ([K.Conv(3, 1, 0), K.Residual(K.Conv(3, 1, 0, strides=2)), K.Flatten(), K.Dense(1, 0)], (2, 4, 3), r"layer 1 .*changes the shape from spatial \(4,\) to \(2,\)"),
    ([K.Conv(3, 1, 0), K.Residual(K.Conv(3, 1, 0), K.Activation("relu")), K.Flatten(), K.Dense(1, 0)], (2, 4, 3), "layer 1 .*must end in Dense or Conv"),
    ([K.Activation("relu"), K.Flatten(), K.Dense(1, 0)], (2, 4, 3), "layer 0 .*not a Gaussian"),
    ([K.Conv(3, 1, 0), K.Activation("relu"), K.LayerNorm(), K.Flatten(), K.Dense(1, 0)], (2, 4, 3), "layer 2 .*zero-mean"),
])
def test_bad_architectures_name_the_layer_and_shapes(layers, shape, message):
    with pytest.raises(ValueError, match=message):
        K.serial(*layers).kernels(jnp.ones(shape))


def test_bad_records_and_inputs():
    with pytest.raises(ValueError, match="padding = 'FULL'"):
        K.Conv(3, 1.0, 0.0, padding="FULL")
    with pytest.raises(ValueError, match="sigma_w = -1.0"):
        K.Conv(3, -1.0, 0.0)
    with pytest.raises(ValueError, match="filter_shape"):
        K.Conv(0, 1.0, 0.0)
    with pytest.raises(ValueError, match="parameterization"):
        K.serial(K.Dense(1, 0), parameterization="mup")
    net = K.serial(K.Conv(3, 1, 0), K.Flatten(), K.Dense(1, 0))
    with pytest.raises(ValueError, match=r"channels must match"):
        net.kernels(jnp.ones((2, 4, 3)), jnp.ones((2, 4, 2)))
    with pytest.raises(ValueError, match="non-finite"):
        net.kernels(jnp.full((2, 4, 3), jnp.nan))
    with pytest.raises(TypeError, match="not a layer record"):
        K.serial(K.Dense(1, 0), "relu")


# --- neural-tangents 0.6.5 (optional peer) ---------------------------------------------
_PEERS = pathlib.Path(__file__).resolve().parents[1] / ".gpu_peers"


@pytest.fixture(scope="module")
def stax():
    if str(_PEERS) not in sys.path and _PEERS.is_dir():
        sys.path.insert(0, str(_PEERS))
    pytest.importorskip("nt_shim")
    nt = pytest.importorskip("neural_tangents")
    return nt.stax


def _nt_layer(stax, layer, d, scale=1.0):
    """``layer`` in neural-tangents' conventions (NTK parameterisation): Conv/Dense with
    W_std = sigma_w, b_std = sigma_b (its fan-in is C_in prod(filter) too); AvgPool with explicit
    strides (its default is 1, ours the window); Residual = FanOut, (Identity, branch), FanInSum
    with the scale folded into the W_std and b_std of the branch's last layer."""
    if isinstance(layer, K.Dense):
        return stax.Dense(1, W_std=scale * layer.sigma_w, b_std=scale * layer.sigma_b)
    if isinstance(layer, K.Conv):
        return stax.Conv(1, _dims(layer.filter_shape, d), _dims(layer.strides, d), layer.padding,
                         W_std=scale * layer.sigma_w, b_std=scale * layer.sigma_b)
    if isinstance(layer, K.Activation):
        return {"relu": stax.Relu, "erf": stax.Erf}[layer.activation]()
    if isinstance(layer, K.AvgPool):
        strides = layer.window if layer.strides is None else layer.strides
        return stax.AvgPool(_dims(layer.window, d), _dims(strides, d), layer.padding)
    if isinstance(layer, K.GlobalAvgPool):
        return stax.GlobalAvgPool()
    if isinstance(layer, K.Flatten):
        return stax.Flatten()
    if isinstance(layer, K.LayerNorm):
        return stax.LayerNorm()
    branch = [_nt_layer(stax, b, d) for b in layer.branch[:-1]] + [_nt_layer(stax, layer.branch[-1], d, layer.scale)]
    return stax.serial(stax.FanOut(2), stax.parallel(stax.Identity(), stax.serial(*branch)), stax.FanInSum())


def _dims(v, d):
    return (v,) * d if isinstance(v, int) else tuple(v)


def _filter(d):
    return 3 if d == 1 else (3, 3)


def _networks(d):
    f = _filter(d)
    conv = lambda *a, **k: K.Conv(f, *a, **k)
    return {
        "pooled_relu": [conv(1.4, 0.1), K.Activation("relu"), conv(1.4, 0.1, padding="CIRCULAR"), K.Activation("relu"),
                        K.AvgPool(2), conv(1.3, 0.2, padding="VALID"), K.Activation("relu"), K.GlobalAvgPool(),
                        K.Dense(1.4, 0.1)],
        "pooled_erf": [conv(1.4, 0.1), K.Activation("erf"), conv(1.4, 0.1, strides=2), K.Activation("erf"),
                       K.GlobalAvgPool(), K.Dense(1.4, 0.1)],
        "flattened": [conv(1.4, 0.1), K.Activation("relu"), conv(1.4, 0.1), K.Activation("relu"), K.Flatten(),
                      K.Dense(1.4, 0.1), K.Activation("relu"), K.Dense(1.4, 0.1)],
        "residual": [conv(1.4, 0.1), K.Residual(K.Activation("relu"), conv(1.3, 0.2), scale=0.7),
                     K.Residual(K.Activation("relu"), conv(1.3, 0.2), scale=0.7), K.Activation("relu"),
                     K.GlobalAvgPool(), K.Dense(1.4, 0.1)],
        "layernorm": [conv(1.4, 0.1), K.LayerNorm(), K.Activation("relu"), conv(1.4, 0.1), K.LayerNorm(),
                      K.Activation("erf"), K.Flatten(), K.Dense(1.4, 0.1)],
    }


def _relu_layers(layers):
    n = 0
    for layer in layers:
        if isinstance(layer, K.Residual):
            n += _relu_layers(layer.branch)
        n += isinstance(layer, K.Activation) and layer.activation == "relu"
    return n


@pytest.mark.parametrize("name, d", [(name, 1) for name in ("pooled_relu", "pooled_erf", "flattened", "residual",
                                                           "layernorm")] + [("pooled_relu", 2), ("residual", 2)])
def test_against_neural_tangents(stax, name, d):
    layers = _networks(d)[name]
    shape = (5, 8, 3) if d == 1 else (3, 6, 6, 2)
    x1, x2 = _signals(shape, 10), _signals(shape, 11)
    nt_fn = jax.jit(stax.serial(*[_nt_layer(stax, layer, d) for layer in layers])[2], static_argnames="get")
    ours = K.serial(*layers)
    # Away from coincident points: 1e-10 relative (round-off differs only in summation order;
    # neural-tangents' LayerNorm adds eps = 1e-12 to the variance, 1e-12 relative per LayerNorm).
    for a, b in zip(ours.kernels(x1, x2), nt_fn(x1, x2, get=("nngp", "ntk"))):
        assert _rel(a, b) < 1e-10
    # K(X, X): its diagonal pairs a point with itself. neural-tangents takes arccos of a cosine
    # rounded to 1 - O(eps): an angle sqrt(2 eps) = 2.1e-8 where ours is exactly 0, and a ReLU
    # NTK factor (pi - theta)/pi off by 6.7e-9 relative per ReLU layer (NNGP: O(theta^2), none).
    a, b = ours.kernels(x1), nt_fn(x1, None, get=("nngp", "ntk"))
    off = ~np.eye(shape[0], dtype=bool)
    coincident = max(1e-10, _relu_layers(layers) * math.sqrt(2 * _EPS) / math.pi)
    for u, v in zip(a, b):
        assert _rel(np.asarray(u)[off], np.asarray(v)[off]) < 1e-10
        assert _rel(np.diag(u), np.diag(v)) < coincident


def test_neural_tangents_comparison_catches_a_wrong_convention(stax):
    """Negative control: our default AvgPool stride (the window) against neural-tangents' default (1)."""
    layers = _networks(1)["pooled_relu"]
    x = _signals((4, 8, 3), 12)
    nt_layers = [_nt_layer(stax, layer, 1) for layer in layers]
    nt_layers[4] = stax.AvgPool((2,))
    theirs = stax.serial(*nt_layers)[2](x, x, get="ntk")
    assert _rel(K.serial(*layers).kernels(x, x).ntk, theirs) > 1e-2
