"""numeric.architectures: finite networks from the layer records (no analytic import)."""

from __future__ import annotations

import ast
import pathlib

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from analytic import kernels as K
from numeric import architectures as A


def test_numeric_side_imports_nothing_from_analytic():
    tree = ast.parse(pathlib.Path(A.__file__).read_text())
    names = [n.module or "" for n in ast.walk(tree) if isinstance(n, ast.ImportFrom)]
    names += [a.name for n in ast.walk(tree) if isinstance(n, ast.Import) for a in n.names]
    assert not [n for n in names if n.startswith("analytic")]


_LAYERS = (K.Conv(3, 1.4, 0.1), K.Activation("relu"), K.Conv(3, 1.3, 0.4), K.LayerNorm(),
           K.Residual(K.Activation("erf"), K.Conv(3, 1.0, 0.1), scale=0.5), K.Flatten(), K.Dense(1.4, 0.1))


def _truncate(layers, params, width, first=True):
    """The first ``width`` channels of every hidden layer: an ordinary width-``width`` network."""
    out = []
    for layer, p in zip(layers, params):
        if isinstance(layer, (K.Dense, K.Conv)):
            w, b = p
            if isinstance(layer, K.Dense) and not first:  # after Flatten: (positions * W, out)
                w = w.reshape(-1, params[0][0].shape[-1], w.shape[-1])[:, :width].reshape(-1, w.shape[-1])
            else:
                w = w[..., :width] if first else w[..., :width, :width]
                b = b[:width]
            out.append((w, b))
            first = False
        elif isinstance(layer, K.Residual):
            out.append(_truncate(layer.branch, p, width, first))
        else:
            out.append(())
    return out


# jitted (one program per parameter widths, shared by both parameterisations), not an eager op each
_readout_nngp = jax.jit(A.readout_nngp, static_argnums=0)


@pytest.mark.parametrize("parameterization", ["ntk", "standard"])
def test_masked_width_is_the_narrow_network(parameterization):
    """kernel_draws(compile_width=W) runs a width-w network inside a W-wide one: the same NTK and
    readout NNGP as the truncated parameters in a plain width-w network."""
    x = jax.random.normal(jax.random.key(0), (3, 6, 2), jnp.float64)
    wide = A.init_params(jax.random.key(1), _LAYERS, (6, 2), 12, dtype=jnp.float64)
    wide = jax.tree_util.tree_map(np.asarray, wide)  # numpy: the truncation's slices are not eager ops
    narrow = _truncate(_LAYERS, wide, 5)
    active = jnp.float64(5)
    ntk_fn = jax.jit(A.empirical_ntk, static_argnums=(0, 4))  # jitted: eager jacrev is slow to dispatch
    ntk = ntk_fn(_LAYERS, narrow, x, x, parameterization, 5)
    masked = ntk_fn(_LAYERS, wide, x, x, parameterization, active, active=active)
    assert np.allclose(masked, ntk, rtol=1e-12, atol=0)  # round-off: the dead channels add exact zeros
    assert np.allclose(_readout_nngp(_LAYERS, wide, x, x, active=active), _readout_nngp(_LAYERS, narrow, x, x),
                       rtol=1e-12, atol=0)
    unmasked = ntk_fn(_LAYERS, wide, x, x, parameterization, 12)  # control: the full width differs
    assert not np.allclose(unmasked, ntk, rtol=1e-3)


def test_wide_networks_approach_the_kernels():
    """Monte Carlo at small size: the mean over 24 width-64 networks of the empirical NTK and the
    readout NNGP lies within 5 standard errors (+ 2/width bias) of serial(...).kernels."""
    layers = (K.Conv(3, 1.4, 0.1), K.Activation("relu"), K.AvgPool(2), K.Conv(2, 1.4, 0.1, padding="CIRCULAR"),
              K.Activation("erf"), K.GlobalAvgPool(), K.Dense(1.4, 0.1))
    x = jax.random.normal(jax.random.key(2), (3, 8, 2), jnp.float64)
    draws = A.kernel_draws(jax.random.key(3), layers, x, 64, 24)
    limit = K.serial(*layers).kernels(x)
    for measured, expected in zip(draws, limit):
        m = np.asarray(measured)
        sem = m.std(axis=0, ddof=1) / np.sqrt(m.shape[0])
        assert np.all(np.abs(m.mean(axis=0) - expected) <= 5 * sem + 2 / 64 * np.abs(expected))
    wrong = K.serial(*layers[:5], K.Flatten(), layers[6]).kernels(x).ntk  # control: a convention slip
    m = np.asarray(draws.ntk)
    assert np.any(np.abs(m.mean(axis=0) - wrong) > 5 * m.std(axis=0, ddof=1) / np.sqrt(24) + 2 / 64 * np.abs(wrong))


def test_bad_arguments():
    with pytest.raises(ValueError, match="width = 0"):
        A.kernel_draws(jax.random.key(0), _LAYERS, jnp.ones((2, 6, 2)), 0, 3)
    with pytest.raises(ValueError, match="compile_width = 4"):
        A.kernel_draws(jax.random.key(0), _LAYERS, jnp.ones((2, 6, 2)), 8, 3, compile_width=4)
    with pytest.raises(ValueError, match="learning_rate = -1"):
        A.train_ensemble(jax.random.key(0), _LAYERS, jnp.ones((2, 6, 2)), jnp.ones(2), jnp.ones((1, 6, 2)), 8, -1.0, 3, 2)
