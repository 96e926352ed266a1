"""analytic.width against stated forms and independent computations; numeric.width against jax.jacrev."""

import itertools

import numpy as np
import pytest
import sympy as sp

import jax
import jax.numpy as jnp
from analytic import width as W
from analytic.width._symbols import depth, width
from numeric import width as sim


def test_unit_moments_are_the_half_gaussian_and_gaussian_ones():
    assert W.unit_moments("relu") == (6, 2)  # E relu^4 / (E relu^2)^2 = (3/2) / (1/4); shared mask doubles
    assert W.unit_moments("linear") == (3, 1)
    with pytest.raises(ValueError, match="activation"):
        W.unit_moments("tanh")


@pytest.mark.parametrize("activation, c", [("relu", 5), ("linear", 2)])
def test_kurtosis_is_the_stated_product_form(activation, c):
    f = getattr(W, f"output_excess_kurtosis_{activation}")
    assert sp.simplify(f.expr - (3 * (1 + c / width) ** (depth - 1) - 3)) == 0
    assert float(f(width=10, depth=1)) == 0.0  # one weight matrix: f is Gaussian


def _linear_pairs(L, n):
    """E Theta^2 / (E Theta)^2 - 1 of the deep linear net by iterating the (x, y) recursion (numpy)."""
    g = [1.0]
    x, y = 1.0, 1.0
    for _ in range(L):
        x, y = x + 2 * y / n**2, x + (1 + 1 / n) * y
        g.append(x)
    r = 1 + 2 / n
    total = L * r ** (L - 1) + 2 * sum((L - 1 - k) * r ** (L - 2 - k) * g[k] for k in range(L - 1))
    return total / L**2 - 1


def _relu_pairs(L, n):
    """The ReLU pair sum by a double loop over (l, l')."""
    total = sum((1 + 5 / n) ** (L - 1 - abs(a - b)) * (1 + 1 / n) ** abs(a - b) for a in range(L) for b in range(L))
    return total / L**2 - 1


@pytest.mark.parametrize("L, n", [(1, 3), (2, 1), (2, 7), (5, 2), (9, 33), (40, 17)])
def test_ntk_relative_variance_matches_direct_pair_sums(L, n):
    np.testing.assert_allclose(float(W.ntk_relative_variance_linear(width=n, depth=L)), _linear_pairs(L, n),
                               rtol=1e-12, atol=1e-15)  # round-off of the pair sums
    np.testing.assert_allclose(float(W.ntk_relative_variance_relu(width=n, depth=L)), _relu_pairs(L, n),
                               rtol=1e-12, atol=1e-15)


def test_two_layer_linear_ntk_variance_is_one_over_width():
    # Theta = Q_0 (a + b), a, b independent chi2_n / n: Var = 4/n, mean 2
    assert sp.simplify(W.ntk_relative_variance_linear.expr.subs(depth, 2) - 1 / width) == 0


@pytest.mark.parametrize("activation", ["relu", "linear"])
def test_coefficients_are_the_small_ratio_slopes(activation):
    coefficient = float(getattr(W, f"ntk_variance_coefficient_{activation}")())
    kurtosis = float(getattr(W, f"kurtosis_coefficient_{activation}")())
    assert coefficient == {"relu": 11 / 3, "linear": 4 / 3}[activation]
    assert kurtosis == {"relu": 15, "linear": 6}[activation]
    L, n = 2000, 1e9  # L/n = 2e-6: the next order (L/n)^2 and the 1/L terms are below 1e-3 relative
    ntk = float(getattr(W, f"ntk_relative_variance_{activation}")(width=n, depth=L)) * n / L
    kurt = float(getattr(W, f"output_excess_kurtosis_{activation}")(width=n, depth=L)) * n / L
    np.testing.assert_allclose([ntk, kurt], [coefficient, kurtosis], rtol=3e-3)


def test_ntk_variance_grows_like_exp_5_depth_over_width_for_relu():
    """Hanin & Nica's rate: relvar ~ (n / 2L) exp(5 L/n) at large depth/width (prefactor from the pair sum)."""
    n = 1000.0
    low, high = (np.log(float(W.ntk_relative_variance_relu(width=n, depth=L))) for L in (4000, 6000))
    rate = (high - low + np.log(6000 / 4000)) / 2.0  # the prefactor's 1/L taken out
    np.testing.assert_allclose(rate, 5.0, rtol=5e-3)  # n log(1 + 5/n) = 4.9875 at n = 1000


def test_stable_form_has_no_cancellation_at_large_width():
    value = float(W.ntk_relative_variance_linear(width=1e12, depth=3))
    first_order = (4 * 3 / 3 - 2 + 2 / 9) / 1e12  # (4L/3 - 2 + 2/(3L)) / n
    np.testing.assert_allclose(value, first_order, rtol=1e-10)  # next order ~ L/n = 3e-12


def test_numeric_ntk_equals_jacrev_in_all_weights_and_padding_changes_nothing():
    rng = np.random.default_rng(0)
    params = (rng.standard_normal((6, 3)), rng.standard_normal((3, 6, 6)), rng.standard_normal((4, 6)))
    x = jnp.ones(3)
    by_deltas, by_weights = jax.jit(sim._ntk_and_outputs), jax.jit(sim._weights_ntk)
    for relu in (1.0, 0.0):
        _, ntk, _ = by_deltas(params, x, relu, 6.0)
        np.testing.assert_allclose(ntk, by_weights(params, x, relu, 6.0), rtol=1e-12)  # round-off
        padded = (np.pad(params[0], ((0, 2), (0, 0))), np.pad(params[1], ((0, 0), (0, 2), (0, 2))),
                  np.pad(params[2], ((0, 0), (0, 2))))
        np.testing.assert_allclose(by_deltas(padded, x, relu, 6.0)[1], ntk, rtol=1e-12)


def test_init_fluctuations_shapes_and_errors():
    run = sim.init_fluctuations(1, "relu", width=4, max_depth=3, inits=6, chunk=3, padded_width=5)
    assert run.ntk.shape == run.outputs.shape == run.output_variance.shape == (6, 2)
    assert np.all(run.ntk > 0)
    with pytest.raises(ValueError, match="activation"):
        sim.init_fluctuations(0, "tanh", 4, 3, 6)
    with pytest.raises(ValueError, match="padded_width"):
        sim.init_fluctuations(0, "relu", 4, 3, 6, padded_width=3)
    with pytest.raises(ValueError, match="max_depth"):
        sim.init_fluctuations(0, "relu", 4, 1, 6)


def test_kurtosis_estimators_on_a_gaussian_scale_mixture():
    rng = np.random.default_rng(3)
    scales = rng.choice([1.0, 3.0], size=40_000)  # E s^2 / (E s)^2 = 5 / 4: excess kurtosis 3/4
    np.testing.assert_allclose(sim.kurtosis_from_variance(scales), 0.75, atol=0.05)  # sampling SE ~0.012
    samples = np.sqrt(scales) * rng.standard_normal(scales.size)
    np.testing.assert_allclose(sim.excess_kurtosis(samples), 0.75, atol=0.25)  # sampling SE ~0.06
    values, se, _ = sim.bootstrap(sim.relative_variance, np.stack([scales, scales], 1), resamples=20)
    assert values.shape == se.shape == (2,) and np.all(se > 0)


def test_parameters_are_checked():
    with pytest.raises(ValueError, match="width"):
        W.ntk_relative_variance_relu(width=0, depth=3)
    for L, n in itertools.product((1, 3), (1, 5)):
        assert np.isfinite(float(W.ntk_relative_variance_relu(width=n, depth=L)))
