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


# --- kernel motion: Taylor models, the two-layer runs, and the O(1/n) coefficients ---------------------------------

from analytic.symbols import t as time_symbol  # noqa: E402
from analytic.width import _kernel_motion as K  # noqa: E402
from analytic.width._symbols import target  # noqa: E402
from jax.flatten_util import ravel_pytree  # noqa: E402
from numeric import taylor  # noqa: E402


def _toy(params, x):
    return params["a"] * jnp.tanh(params["w"] @ x) + 0.3 * params["b"] ** 3


def _toy_params(scale):
    return {"a": jnp.asarray(1.0 + scale), "w": jnp.asarray([0.4, -0.2]) * (1 + scale), "b": jnp.asarray(0.5 + scale)}


def test_taylor_models_equal_the_explicit_gradient_and_hessian_expansions():
    x = jnp.asarray([0.7, 1.3])
    p0, p = _toy_params(0.0), _toy_params(0.05)
    flat0, unravel = ravel_pytree(p0)
    step = ravel_pytree(p)[0] - flat0
    as_flat = lambda v: _toy(unravel(v), x)  # noqa: E731
    gradient, hessian = jax.grad(as_flat)(flat0), jax.hessian(as_flat)(flat0)
    linear = as_flat(flat0) + gradient @ step
    np.testing.assert_allclose(taylor.taylor_model(_toy, p0, 1)(p, x), linear, rtol=1e-13)  # round-off
    np.testing.assert_allclose(taylor.taylor_model(_toy, p0, 2)(p, x), linear + 0.5 * step @ hessian @ step, rtol=1e-13)
    with pytest.raises(ValueError, match="order"):
        taylor.taylor_model(_toy, p0, 3)


def test_second_order_model_of_a_quadratic_is_exact_and_ntk_is_jjt():
    quadratic = lambda p, x: p["u"] @ x + (p["u"] @ p["v"]) * x[0]  # noqa: E731 (degree 2 in the parameters)
    p0 = {"u": jnp.asarray([0.3, -1.0]), "v": jnp.asarray([2.0, 0.5])}
    p = {"u": jnp.asarray([0.1, 0.4]), "v": jnp.asarray([-1.0, 1.5])}
    x = jnp.asarray([[1.0, 2.0], [0.5, -1.0]])
    batch = lambda p, xs: jax.vmap(lambda x: quadratic(p, x))(xs)  # noqa: E731
    np.testing.assert_allclose(taylor.taylor_model(batch, p0, 2)(p, x), batch(p, x), rtol=1e-13)
    jac = jax.jacrev(lambda v: batch(ravel_pytree(p0)[1](v), x))(ravel_pytree(p0)[0])
    np.testing.assert_allclose(taylor.empirical_ntk(batch, p0, x), jac @ jac.T, rtol=1e-13)


def test_kernel_motion_linear_model_follows_the_exact_gd_recursion_and_ntk_the_unit_sum():
    """One datum: the linearised model's residual is exactly (1 - eta Theta_0)^k r_0 (independent of jvp and GD)."""
    widths, draws, rate, steps = (64, 128, 512), 64, 0.1, 20  # the smoke sizes of the check: one compilation
    run = sim.kernel_motion(5, widths, draws, (("sin", rate), ("sin", 0.2), ("relu", rate)), target=2.0, time=2.0)
    residual0 = run.initial_output[0] - 2.0
    np.testing.assert_allclose(run.linear[0] - 2.0, (1 - rate * run.ntk_initial[0]) ** steps * residual0,
                               rtol=1e-9, atol=1e-12)  # round-off over 20 steps
    # Theta_0 = (1/n) sum_i (sin(u_i)^2 + a_i^2 cos(u_i)^2) with u = w.x/sqrt(3), from the same numpy draws
    rng = np.random.default_rng(5)
    a = rng.standard_normal((draws // 2, sum(widths)))
    u = rng.standard_normal((draws // 2, sum(widths), 3)).sum(axis=2) / np.sqrt(3)
    units = np.sin(u) ** 2 + a**2 * np.cos(u) ** 2
    owner = np.repeat(np.arange(3), widths)
    expected = np.stack([units[:, owner == k].mean(axis=1) for k in range(3)], axis=1)
    np.testing.assert_allclose(run.ntk_initial[0, : draws // 2], expected, rtol=1e-12)
    assert run.output.shape == (3, draws, 3) and run.activations == ("sin", "sin", "relu")
    np.testing.assert_allclose(run.ntk_initial[0], run.ntk_initial[1], rtol=0)  # same draws in every variant


def test_kernel_motion_rejects_bad_input():
    for kwargs, word in (({"draws": 3}, "draws"), ({"variants": (("gelu", 0.1),)}, "variant"),
                         ({"variants": (("sin", 0.3),)}, "whole number"), ({"target": np.nan}, "target"),
                         ({"widths": (0,)}, "widths")):
        args = {"seed": 0, "widths": (4,), "draws": 4, **kwargs}
        with pytest.raises(ValueError, match=word):
            sim.kernel_motion(**args)


def _unit_moments_by_quadrature():
    """(Theta, q, A, B, B_quad) of F = a sin(u) by Gauss-Hermite quadrature and jax derivatives (no sympy)."""
    nodes, weights = np.polynomial.hermite_e.hermegauss(30)
    weights = weights / weights.sum()
    unit = lambda v: v[0] * jnp.sin(v[1])  # noqa: E731
    grad = jax.grad(unit)
    g = lambda v: grad(v) @ grad(v)  # noqa: E731
    dg = lambda v: grad(v) @ jax.grad(g)(v)  # noqa: E731
    ddg = lambda v: grad(v) @ jax.grad(dg)(v)  # noqa: E731
    quad = lambda v: 4 * grad(v) @ jax.hessian(unit)(v) @ jax.hessian(unit)(v) @ grad(v)  # noqa: E731
    both = lambda v: jnp.stack([g(v), unit(v) ** 2, dg(v) * unit(v), ddg(v), quad(v)])  # noqa: E731
    grid = jnp.stack(jnp.meshgrid(nodes, nodes, indexing="ij"), axis=-1).reshape(-1, 2)
    values = jax.jit(jax.vmap(both))(grid)
    return np.asarray(np.outer(weights, weights).ravel() @ values)


def test_unit_constants_agree_with_quadrature():
    exact = K.unit_constants()
    values = [float(exact[k]) for k in ("theta", "q", "A", "B", "B_quad")]
    np.testing.assert_allclose(values, _unit_moments_by_quadrature(), rtol=1e-10, atol=1e-12)  # 60-point Gauss-Hermite
    assert exact["mean_dg"] == 0 and exact["theta"] == 1


def test_time_integral_and_stable_forms_agree_with_sympy():
    integrand = (1 - sp.exp(-K._s)) ** 2 * target
    by_terms = K._integrate_in_time(integrand).subs(K._E, sp.exp(-time_symbol))
    assert sp.simplify(by_terms - sp.integrate(integrand, (K._s, 0, time_symbol))) == 0
    import mpmath

    mpmath.mp.dps = 40
    points = np.asarray([(2.0, 0.1), (2.0, 0.4999), (2.0, 0.5), (-0.7, 3.0), (1.5, 40.0)])
    for name in ("linearisation_gap_coefficient_sin", "quadratic_gap_coefficient_sin", "ntk_change_coefficient_sin"):
        f = getattr(W, name)
        exact = sp.lambdify((target, time_symbol), f.expr, "mpmath")
        expected = [float(exact(mpmath.mpf(y), mpmath.mpf(tt))) for y, tt in points]
        np.testing.assert_allclose(f(target=points[:, 0], t=points[:, 1]), expected, rtol=1e-11)  # round-off


def test_small_time_limits_are_the_first_terms_of_the_hierarchy():
    """t -> 0: Theta_t - Theta_0 ~ -O_3 r_0 t and f - f_lin ~ O_3 r_0^2 t^2/2, so n E = -A t and -target A t^2."""
    A, tt, y = K.unit_constants()["A"], sp.Rational(1, 10**6), 2
    for name, leading in (("ntk_change_coefficient_sin", -A * tt), ("linearisation_gap_coefficient_sin", -y * A * tt**2)):
        exact = getattr(W, name).expr.subs({target: y, time_symbol: tt}).evalf(60)  # exact inputs: no cancellation
        leading = float(leading)
        np.testing.assert_allclose(float(exact), leading, rtol=1e-4)  # the next order is O(t) relative
    assert float(W.kernel_motion_exponent()) == -1
