"""numeric._draws: the padded draw is the exact draw, whatever its shape, and classes are tight."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from numeric import _draws, mlp
from numeric.run_bound import RUN_BOUND


@pytest.mark.parametrize("shape, dtype", [((1407,), jnp.float64), ((11, 1, 128), jnp.float32)])
def test_a_padded_draw_begins_with_the_draw_of_any_shape(shape, dtype):
    """numeric.mlp's wide networks rest on this (numeric/_draws.py): JAX's counter-based threefry
    makes entry i depend on the key and i alone. If a JAX release changed that, this fails."""
    n = int(np.prod(shape))
    # the same optimisation level as the padded draw's generator (RUN_BOUND): levels 0 and 3 map
    # equal bits to normals that differ in the last bits (they evaluate erfinv differently)
    exact = jax.jit(lambda k: jax.random.normal(k, shape, dtype), compiler_options=RUN_BOUND)(jax.random.key(3))
    padded = _draws.padded_normal(jax.random.key(3), n, dtype)
    assert padded.shape == (_draws.size_class(n),) and padded.dtype == dtype
    np.testing.assert_array_equal(np.asarray(padded[:n]), np.asarray(exact).ravel())
    bits = jax.random.bits(jax.random.key(3), shape, jnp.uint32).ravel()  # the level-free statement
    np.testing.assert_array_equal(jax.random.bits(jax.random.key(3), (_draws.size_class(n),), jnp.uint32)[:n], bits)


def test_size_classes_are_at_most_one_and_a_half_times_the_need():
    for n in [1, 2**16, 2**16 + 1, 98_305, 1_000_000, 8_400_000, 12_582_913]:
        size = _draws.size_class(n)
        assert size >= n and (n <= _draws.SMALLEST_CLASS or size <= 1.5 * n), (n, size)
    sizes = {_draws.size_class(n) for n in range(1, 10**7, 9973)}
    assert len(sizes) <= 16  # two classes per doubling from 2^16 to 2^24: few compiled generators


def test_random_networks_use_the_weights_of_init_params():
    """random_network_kernels / random_layer_statistics (padded draws) against init_params (one
    draw in the program) and the measurements taken eagerly: the same networks, to round-off (the
    generators run at different optimisation levels: normals equal to an ulp, see above)."""
    x = jax.random.normal(jax.random.key(0), (5, 4))
    for net in (mlp.MLP(2, 96, "erf", 1.4, 0.1), mlp.MLP(1, 64, "relu", 1.2, 0.3, "standard")):
        params = mlp.init_params(jax.random.key(1), net, 4, jnp.float64)
        nngp, ntk = mlp.random_network_kernels(jax.random.key(1), net, x, jnp.float64)
        np.testing.assert_allclose(nngp, mlp.empirical_nngp(net, params, x, x), rtol=1e-12)
        np.testing.assert_allclose(ntk, mlp.empirical_ntk(net, params, x, x), rtol=1e-12)
    net = mlp.MLP(4, 32, "erf", 1.5, 0.2)
    stats = mlp.random_layer_statistics(jax.random.key(2), net, jax.random.key(1), x[0])
    want = mlp.layer_statistics(jax.random.key(2), net, mlp.init_params(jax.random.key(1), net, 4, x.dtype), x[0])
    assert stats.jacobian_gain.shape == (3,)
    for a, b in zip(stats, want):
        np.testing.assert_allclose(a, b, rtol=1e-12)
