"""analytic.kernels Formulas against published forms, quadrature and limits."""

import dataclasses
import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.integrate
import scipy.special
import scipy.stats
import sympy as sp

import analytic
from analytic import kernels
from analytic.symbols import angle, k11, k12, k22, q, sigma_b, sigma_w

PAIRS = [(1.0, 1.0, 0.3), (0.5, 2.0, -0.6), (2.0, 1.5, 1.7), (3.0, 0.2, 0.0), (1.2, 0.7, -0.9)]


# --- Price's theorem: derived derivative kernels equal the published closed forms ----
def test_derivative_kernels_are_derived_and_match_published_forms():
    relu = kernels.relu_derivative
    erf = kernels.erf_derivative
    assert relu.derived and erf.derived and not kernels.relu_nngp.derived
    cos = k12 / sp.sqrt(k11 * k22)
    assert sp.simplify(relu.expr - (sp.pi - sp.acos(cos)) / (2 * sp.pi)) == 0  # Cho & Saul n = 0
    published = 4 / (sp.pi * sp.sqrt((1 + 2 * k11) * (1 + 2 * k22) - 4 * k12**2))
    assert sp.simplify(erf.expr - published) == 0


def test_scalar_forms_match_schoenholz():
    assert sp.simplify(kernels.relu_variance_map.expr - (sigma_w**2 * q / 2 + sigma_b**2)) == 0
    assert sp.simplify(kernels.relu_chi1.expr - sigma_w**2 / 2) == 0
    assert sp.simplify(kernels.erf_chi1.expr - 4 * sigma_w**2 / (sp.pi * sp.sqrt(1 + 4 * q))) == 0
    assert sp.simplify(kernels.relu_variance_fixed_point.expr - 2 * sigma_b**2 / (2 - sigma_w**2)) == 0
    with pytest.raises(ValueError, match="sigma_w"):
        kernels.relu_variance_fixed_point(sigma_w=1.5, sigma_b=0.1)  # no fixed point above sqrt(2)


def test_angular_forms():
    relu_j = kernels.relu_nngp_angular.expr
    assert sp.simplify(relu_j - (sp.sin(angle) + (sp.pi - angle) * sp.cos(angle)) / (2 * sp.pi)) == 0
    assert sp.simplify(kernels.relu_derivative_angular.expr - (sp.pi - angle) / (2 * sp.pi)) == 0
    a = np.linspace(0, np.pi, 101)
    np.testing.assert_allclose(kernels.relu_nngp_deficit(angle=a), 0.5 - kernels.relu_nngp_angular(angle=a),
                               atol=1e-15)  # float64 round-off of O(1) terms
    rng = np.random.default_rng(0)
    a11, a22, ang = rng.uniform(0.1, 3, 20), rng.uniform(0.1, 3, 20), rng.uniform(0, np.pi, 20)
    c12 = np.sqrt(a11 * a22) * np.cos(ang)
    for act in ("erf",):
        np.testing.assert_allclose(getattr(kernels, f"{act}_nngp_angular")(k11=a11, k22=a22, angle=ang),
                                   getattr(kernels, f"{act}_nngp")(k11=a11, k22=a22, k12=c12), rtol=1e-13)
        np.testing.assert_allclose(getattr(kernels, f"{act}_derivative_angular")(k11=a11, k22=a22, angle=ang),
                                   getattr(kernels, f"{act}_derivative")(k11=a11, k22=a22, k12=c12), rtol=1e-13)


# --- the stated NNGP maps against 1-D quadrature of the conditional expectation --------
def _conditional(k11_, k22_, k12_):
    """v | u ~ N(m u, s^2) for the Gaussian pair."""
    m = k12_ / k11_
    s2 = max(k22_ - k12_**2 / k11_, 0.0)
    return m, math.sqrt(s2)


def _quad_over_u(k11_, fn):
    sd = math.sqrt(k11_)
    dens = lambda u: math.exp(-u * u / (2 * k11_)) / (sd * math.sqrt(2 * math.pi))  # noqa: E731
    value, _ = scipy.integrate.quad(lambda u: fn(u) * dens(u), -12 * sd, 12 * sd, limit=400,
                                    epsabs=1e-13, epsrel=1e-12, points=[0.0])
    return value


@pytest.mark.parametrize("pair", PAIRS)
def test_relu_nngp_by_quadrature(pair):
    a, b, c = pair
    m, s = _conditional(a, b, c)

    def mean_relu_v(u):  # E[relu(v) | u] = mu Phi(mu/s) + s phi(mu/s)
        mu = m * u
        if s == 0:
            return max(mu, 0.0)
        return mu * scipy.stats.norm.cdf(mu / s) + s * scipy.stats.norm.pdf(mu / s)

    expected = _quad_over_u(a, lambda u: max(u, 0.0) * mean_relu_v(u))
    assert float(kernels.relu_nngp(k11=a, k22=b, k12=c)) == pytest.approx(expected, rel=1e-9, abs=1e-12)
    # derivative kernel = orthant probability P(u > 0, v > 0) (scipy's bivariate normal CDF)
    cov = np.array([[a, c], [c, b]])
    orthant = scipy.stats.multivariate_normal(mean=[0, 0], cov=cov).cdf([0, 0])  # P(u<0,v<0) = P(u>0,v>0)
    assert float(kernels.relu_derivative(k11=a, k22=b, k12=c)) == pytest.approx(orthant, abs=1e-6)  # CDF accuracy


@pytest.mark.parametrize("pair", PAIRS)
def test_erf_kernels_by_quadrature(pair):
    a, b, c = pair
    m, s = _conditional(a, b, c)
    # E[erf(v)] = erf(mu / sqrt(1 + 2 s^2)) and E[exp(-v^2)] = exp(-mu^2/(1+2s^2)) / sqrt(1+2s^2)
    w = 1 + 2 * s * s
    nngp = _quad_over_u(a, lambda u: math.erf(u) * math.erf(m * u / math.sqrt(w)))
    deriv = _quad_over_u(a, lambda u: (4 / math.pi) * math.exp(-u * u) * math.exp(-(m * u) ** 2 / w) / math.sqrt(w))
    assert float(kernels.erf_nngp(k11=a, k22=b, k12=c)) == pytest.approx(nngp, rel=1e-9, abs=1e-12)
    assert float(kernels.erf_derivative(k11=a, k22=b, k12=c)) == pytest.approx(deriv, rel=1e-9)


def test_relu_nngp_limits():
    assert sp.simplify(kernels.relu_nngp.expr.subs(k12, 0) - sp.sqrt(k11 * k22) / (2 * sp.pi)) == 0
    assert sp.simplify(kernels.relu_nngp.expr.subs({k22: k11, k12: k11}) - k11 / 2) == 0


def test_erf_fixed_point_is_a_fixed_point():
    for sw, sb in ((1.4, 0.1), (0.5, 0.3), (2.0, 0.0)):
        q_star = float(kernels.variance_fixed_point("erf", sw, sb))
        mapped = float(kernels.erf_variance_map(q=q_star, sigma_w=sw, sigma_b=sb)) if q_star > 0 else sb**2
        assert mapped == pytest.approx(q_star, rel=1e-10, abs=1e-12)  # Newton converged
    assert float(kernels.variance_fixed_point("erf", 0.5, 0.0)) == pytest.approx(0.0, abs=1e-6)  # only q* = 0
    assert float(kernels.variance_fixed_point("relu", 1.0, 0.1)) == pytest.approx(0.02, rel=1e-12)



# --- one variance fixed point: kernels.variance_fixed_point owns it, signal calls it ------------
def test_variance_fixed_point_closed_forms_agree_with_the_iteration_signal_uses():
    from analytic import signal

    for activation, sw, sb in (("relu", 1.2, 1.0), ("relu", 1.0, 0.1), ("erf", 1.4, 0.1), ("erf", 2.0, 0.0),
                               ("erf", 0.9, 0.5)):
        closed = float(kernels.variance_fixed_point(activation, sw, sb))
        iterated = float(kernels.variance_fixed_point(activation, sw, sb, q0=1.0))
        # round-off: the iteration stops at |V(q) - q| <= 4 eps max(q, 1), measured 4e-14 relative at
        # relu (1.0, 0.1) where q* = 0.02, <= 4e-15 elsewhere
        assert closed > 0 and iterated == pytest.approx(closed, rel=1e-12)
        assert signal.variance_fixed_point(activation, sw, sb) == iterated  # signal's is this very call
    q_star = float(kernels.variance_fixed_point("tanh", 1.5, 0.3))  # no closed form: iterated from 1
    assert signal.variance_fixed_point("tanh", 1.5, 0.3) == q_star
    # signal's variance map (and chi_1) is the map whose fixed point this is: the same nodes
    from analytic.kernels._fc import FIXED_POINT_ORDER
    from analytic.signal._propagation import ORDER
    assert ORDER == FIXED_POINT_ORDER
    # negative control: a planted closed form (the ReLU 1/2 forgotten in the bias term) is far outside
    # the 1e-12 agreement with the iteration
    good = kernels.relu_variance_fixed_point
    planted = dataclasses.replace(good, expr=good.expr / 2, evaluate_as=None, name="kernels.planted")
    wrong = float(kernels.variance_fixed_point("relu", 1.2, 1.0, formula=planted))
    assert wrong != pytest.approx(float(kernels.variance_fixed_point("relu", 1.2, 1.0, q0=1.0)), rel=1e-3)


def test_variance_fixed_point_q0_picks_the_fixed_point_and_runaway_is_inf():
    # erf and tanh at sigma_b = 0 have q* = 0 and a positive q*: q0 = 0 stays at 0
    assert float(kernels.variance_fixed_point("erf", 2.0, 0.0, q0=0.0)) == 0.0
    assert float(kernels.variance_fixed_point("tanh", 1.5, 0.0, q0=0.0)) == 0.0
    from_one = float(kernels.variance_fixed_point("tanh", 1.5, 0.0))
    assert from_one > 0.1 and float(kernels.variance_fixed_point("tanh", 1.5, 0.0, q0=3.0)) == pytest.approx(
        from_one, rel=1e-13)  # the same attracting q* from above
    # ReLU past sigma_w^2 = 2: the closed form raises, the iteration reports inf (and at sigma_w^2 = 2
    # with sigma_b > 0, where q grows by sigma_b^2 per layer)
    with pytest.raises(ValueError, match="sigma_w"):
        kernels.variance_fixed_point("relu", 1.5, 0.1)
    assert float(kernels.variance_fixed_point("relu", 1.5, 0.1, q0=1.0)) == math.inf
    assert float(kernels.variance_fixed_point("relu", math.sqrt(2), 0.1, q0=1.0)) == math.inf
    assert float(kernels.variance_fixed_point(jax.nn.relu, 1.6, 0.0)) == math.inf  # a callable: iterated


def test_variance_fixed_point_rejects_bad_arguments():
    with pytest.raises(ValueError, match="activation = 'tanhh' is unknown"):
        kernels.variance_fixed_point("tanhh", 1.0, 0.1)
    with pytest.raises(ValueError, match="activation = 3 is unknown"):
        kernels.variance_fixed_point(3, 1.0, 0.1)
    with pytest.raises(ValueError, match=r"sigma_w = -1.0 is outside its valid range \[0, oo\)"):
        kernels.variance_fixed_point("tanh", -1.0, 0.1)
    with pytest.raises(ValueError, match=r"sigma_b = -0.1 is outside"):
        kernels.variance_fixed_point("relu", 1.0, -0.1)
    with pytest.raises(ValueError, match=r"q0 = -1.0 is outside its valid range \[0, oo\)"):
        kernels.variance_fixed_point("tanh", 1.0, 0.1, q0=-1.0)
    with pytest.raises(ValueError, match=r"q0 = inf is outside"):
        kernels.variance_fixed_point("erf", 1.0, 0.1, q0=math.inf)
    with pytest.raises(ValueError, match="formula = .* applies only to the closed forms"):
        kernels.variance_fixed_point("tanh", 1.0, 0.1, formula=kernels.erf_variance_map)
    with pytest.raises(ValueError, match="formula = .* applies only to the closed forms"):
        kernels.variance_fixed_point("erf", 1.0, 0.1, formula=kernels.erf_variance_map, q0=1.0)
    with pytest.raises(TypeError, match="formula must be a Formula"):
        kernels.variance_fixed_point("erf", 1.0, 0.1, formula=lambda q: q)


def test_activation_function_checks_a_callable_once():
    calls = []

    def phi(z):  # (linear: its probes cost milliseconds)
        calls.append(1)
        return z

    assert kernels.activation_function(phi) is phi and calls
    seen = len(calls)
    assert kernels.activation_function(phi) is phi and len(calls) == seen  # remembered, not re-probed

    def bad(z):  # not elementwise: refuses vectors
        calls.append(1)
        if jnp.ndim(z):
            raise TypeError("scalars only")
        return z

    for count in (1, 2):  # a callable that failed is probed (and refused) again
        with pytest.raises(ValueError, match="must map a scalar to a scalar"):
            kernels.activation_function(bad)
        assert len(calls) == seen + count

def test_symbolic_depth_formulas_display():
    f = kernels.relu_fc_depth2
    assert f.param_names == ("k11", "k22", "k12", "sigma_w", "sigma_b")
    assert "acos" in str(f.expr[0]) and f.latex()
    assert "kernels.erf_fc_depth1" in analytic.names()


def test_formula_domains_reject_bad_values():
    with pytest.raises(ValueError, match="k11"):
        kernels.relu_nngp(k11=-1.0, k22=1.0, k12=0.0)
    with pytest.raises(ValueError, match="angle"):
        kernels.relu_nngp_angular(angle=4.0)
