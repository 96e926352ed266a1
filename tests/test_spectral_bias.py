"""analytic.spectral_bias against exact integrals and stated forms; numeric.spectral_bias against numpy."""

import jax
import mpmath
import numpy as np
import pytest
import sympy as sp

from analytic import spectral_bias as sb
from analytic.spectral_bias._symbols import d, degree
from analytic.symbols import eta, lam, t
from numeric import spectral_bias as sim

_t = sp.Symbol("t", real=True)


def _funk_hecke_exact(function, dim: int, k: int, lower=-1):
    """c_d int_lower^1 function(t) P_k(t) (1 - t^2)^((d-3)/2) dt by sympy (polynomial integrands only)."""
    weight = (1 - _t**2) ** sp.Rational(dim - 3, 2)
    integral = sp.integrate(sp.expand(function * sb.gegenbauer(k, dim) * weight), (_t, lower, 1))
    return sp.nsimplify(sp.simplify(sb.funk_hecke_constant(dim) * integral))


@pytest.mark.parametrize("dim", [3, 5])
def test_activation_coefficients_are_the_funk_hecke_integrals(dim):
    # relu = t on [0, 1] and step = 1 on [0, 1]: exact sympy integrals against the Rodrigues-derived forms
    for k in range(0, 7):
        assert sp.simplify(sb.relu_coefficient(k).subs(d, dim) - _funk_hecke_exact(_t, dim, k, lower=0)) == 0
        assert sp.simplify(sb.step_coefficient(k).subs(d, dim) - _funk_hecke_exact(sp.S.One, dim, k, lower=0)) == 0


def test_stated_forms_and_the_d3_values():
    k = degree
    stated = (sp.gamma(d / 2) ** 2 * sp.gamma((k - 1) / 2) ** 2 * (k**2 + (d - 2) * k + d + 1)
              / (16 * sp.pi**2 * sp.gamma((d + k + 1) / 2) ** 2))
    assert sp.simplify(sb.ntk_eigenvalue_even.expr - stated) == 0
    assert sb.ntk_eigenvalue_linear.expr == 1 / (2 * d)
    values = [sb.ntk_eigenvalue_even.expr.subs({d: 3, degree: v}).evalf(30) for v in (2, 4, 6)]
    for value, exact in zip(values, (sp.Rational(5, 128), sp.Rational(1, 384), sp.Rational(23, 32768))):
        assert abs(value - exact) < 1e-25 * exact  # 30-digit evaluation of the Gamma functions
    assert abs(sb.ntk_eigenvalue_constant.expr.subs(d, 3).evalf(30) - sp.Rational(1, 4)) < 1e-25
    assert sb.degree_residual.expr == (1 - eta * lam) ** t


def test_eigenvalues_are_the_funk_hecke_integral_of_the_kernels_ntk():
    """mpmath quadrature (20 digits, in the angle: a smooth integrand) of the kernels family's Theta(t)."""
    theta = sp.lambdify(_t, sb.ntk_kernel(), modules="mpmath")
    mpmath.mp.dps = 20
    try:
        for dim in (3, 6):
            legendre = {k: sp.lambdify(_t, sb.gegenbauer(k, dim), modules="mpmath") for k in range(9)}
            c = mpmath.gamma(mpmath.mpf(dim) / 2) / (mpmath.sqrt(mpmath.pi) * mpmath.gamma(mpmath.mpf(dim - 1) / 2))
            predicted = sb.ntk_eigenvalue(np.arange(9), dim)
            for k in range(9):
                value = c * mpmath.quad(lambda a: theta(mpmath.cos(a)) * legendre[k](mpmath.cos(a))
                                        * mpmath.sin(a) ** (dim - 2), [0, mpmath.pi])
                assert abs(float(value) - predicted[k]) <= 1e-14 * max(abs(float(value)), 1e-3)  # float64 round-off
    finally:
        mpmath.mp.dps = 15


def test_eigenvalues_sum_to_the_trace_and_decay_like_k_to_the_minus_d():
    # sum_k N_k lambda_k = Theta(1) = 1 (Mercer at x = x'); the tail beyond k = 400 is O(400^-2) for d = 3
    k = np.arange(0, 201)
    total = np.sum((2 * k + 1) * sb.ntk_eigenvalue(k, 3))  # N_k = 2k + 1 on S^2
    tail = 1 / (2 * np.pi) / 200  # sum over even k > 200 of (2k + 1) C k^-3 ~ C / 200, C = 1/(2 pi)
    assert abs(total + tail - 1) < 5e-5  # the tail's next order, O(C / 200^2) ~ 4e-6, with margin
    even = np.array([50.0, 100.0, 200.0])
    for dim in (3, 5):
        constant = 2 ** (dim - 2) * float(sp.gamma(sp.Rational(dim, 2))) ** 2 / np.pi**2  # derived asymptote
        ratio = np.asarray(sb.ntk_eigenvalue_even(degree=even, d=dim)) * even**dim / constant
        assert np.all(np.abs(ratio - 1) < 3 * dim / even)  # O(d/k) corrections, shrinking with k
        assert np.all(np.diff(np.abs(ratio - 1)) < 0)


def test_bad_input_names_the_parameter():
    with pytest.raises(ValueError, match="degrees"):
        sb.ntk_eigenvalue([1.5], 3)
    with pytest.raises(ValueError, match="dim"):
        sb.ntk_eigenvalue([2], 2)
    with pytest.raises(ValueError, match="degree"):
        sb.ntk_eigenvalue_even(degree=1, d=3)  # below its range [2, 200]
    with pytest.raises(ValueError, match="width"):
        sim.train_two_layer(jax.random.key(0), np.zeros((1, 4, 3)), np.zeros((1, 4)), 63, 0.1, 2)
    with pytest.raises(ValueError, match="learning_rate"):
        sim.train_two_layer(jax.random.key(0), np.zeros((1, 4, 3)), np.zeros((1, 4)), 64, -0.1, 2)


def test_numeric_gegenbauer_and_quadrature_against_scipy_and_exact_values():
    from scipy.special import eval_gegenbauer, eval_legendre

    t_values = np.linspace(-1, 1, 7)
    np.testing.assert_allclose(sim.gegenbauer_values(5, 3, t_values), [eval_legendre(k, t_values) for k in range(6)],
                               atol=1e-14)
    expected = [eval_gegenbauer(k, 1.5, t_values) / eval_gegenbauer(k, 1.5, 1.0) for k in range(6)]
    np.testing.assert_allclose(sim.gegenbauer_values(5, 5, t_values), expected, atol=1e-13)
    # t^2 on S^(d-1): E t^2 = 1/d; t^4 on S^2 has P_4 coefficient 8/35 (Legendre), lambda_4 = 8/35 / 9
    np.testing.assert_allclose(sim.funk_hecke_quadrature(lambda x: x**2, 6, [0]), [1 / 6], rtol=1e-13)
    np.testing.assert_allclose(sim.funk_hecke_quadrature(lambda x: x**4, 3, [4]), [8 / 35 / 9], rtol=1e-12)
    np.testing.assert_allclose(sim.zonal_norms(4, [0, 1, 2]), [1, 1 / 4, 1 / 9], rtol=1e-12)  # 1/N_k, N_k = (k+1)^2


def test_training_matches_the_numpy_gradient_step_and_projection_is_exact():
    x = sim.fibonacci_sphere(8)[None]  # the shapes of the docstring example: one compiled program for both
    y = 0.1 * x[..., 2]
    width = 64
    run = sim.train_two_layer(jax.random.key(3), x, y, width, 0.5, 3, "gaussian")
    rng = sim.generator(jax.random.key(3))
    w_half, a_half = rng.standard_normal((1, width // 2, 3))[0], rng.standard_normal((1, width // 2))[0]
    w, a = np.concatenate([w_half, w_half]), np.concatenate([a_half, -a_half])

    def loss(params):
        ww, aa = params[: 3 * width].reshape(width, 3), params[3 * width:]
        return np.mean((np.maximum(x[0] @ ww.T, 0) @ aa / np.sqrt(width) - y[0]) ** 2) / 2

    p = np.concatenate([w.ravel(), a])
    for step in range(3):  # numpy: the gradient of (1/2n) sum (f - y)^2 by central differences
        ww, aa = p[: 3 * width].reshape(width, 3), p[3 * width:]
        residual = np.maximum(x[0] @ ww.T, 0) @ aa / np.sqrt(width) - y[0]
        np.testing.assert_allclose(run.residuals[0, step], residual, atol=1e-10)  # central-difference truncation
        grad = np.array([(loss(p + 1e-6 * e) - loss(p - 1e-6 * e)) / 2e-6 for e in np.eye(p.size)])
        p = p - 0.5 * grad
    coefficients = np.array([0.3, -1.2, 0.5])
    points = sim.fibonacci_sphere(50)
    axis = np.array([0.6, 0.0, 0.8])
    field = coefficients @ sim.gegenbauer_values(4, 3, points @ axis)[[0, 2, 4]]
    np.testing.assert_allclose(sim.degree_projections(field, points, axis, [0, 2, 4]), coefficients, atol=1e-12)
