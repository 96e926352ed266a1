"""analytic.kernels Formulas against published forms, quadrature and limits."""

import math

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
