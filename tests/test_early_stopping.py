"""analytic.early_stopping against stated forms, brute force and mpmath; numeric.early_stopping against numpy."""

import mpmath
import numpy as np
import pytest
import sympy as sp

from analytic import early_stopping, linreg
from analytic.early_stopping._symbols import ridge
from analytic.symbols import eta, lam, t
from numeric import early_stopping as sim


def test_filters_are_the_stated_ones():
    assert sp.simplify(early_stopping.gd_filter.expr - (1 - (1 - eta * lam) ** t)) == 0
    assert sp.simplify(early_stopping.gradient_flow_filter.expr - (1 - sp.exp(-lam * t))) == 0
    assert sp.simplify(early_stopping.ridge_filter.expr - lam / (lam + ridge)) == 0
    assert sp.simplify(early_stopping.matched_ridge.expr - 1 / (eta * t)) == 0
    # the GD filter tends to the flow's at fixed eta t: (1 - eta lam)^t -> exp(-lam tau), tau = eta t
    steps = 10.0 ** np.arange(2, 7)
    gap = np.abs(np.asarray(early_stopping.gd_filter(eta=2.0 / steps, lam=1.3, t=steps))
                 - float(early_stopping.gradient_flow_filter(lam=1.3, t=2.0)))
    assert np.all(np.diff(np.log10(gap)) < -0.9)  # O(eta): a decade per decade of steps


def test_risk_ratio_constant_is_the_supremum_and_below_the_papers():
    x = np.linspace(1e-3, 20, 400_001)
    brute = np.max(((1 - np.exp(-x)) * (1 + x) / x) ** 2)
    constant = float(early_stopping.risk_ratio_constant())
    assert abs(constant - brute) < 1e-9  # grid step 5e-5 at a quadratic maximum: error ~1e-10
    assert constant <= 1.6862  # Ali et al. state 1.6862 (abstract: 1.69): a valid, slightly loose bound


def _mp_risk_by_mpmath(time, gamma, r2, sigma2):
    a, b = (1 - mpmath.sqrt(gamma)) ** 2, (1 + mpmath.sqrt(gamma)) ** 2

    def density(s):
        return mpmath.sqrt((b - s) * (s - a)) / (2 * mpmath.pi * gamma * s)

    def integrand(s):
        f = 1 - mpmath.exp(-s * time)
        return (r2 * (1 - f) ** 2 + sigma2 * gamma * f**2 / s) * density(s)

    atom = r2 * max(0, 1 - 1 / gamma)
    return float(mpmath.quad(integrand, [a, b]) + atom)


@pytest.mark.parametrize("gamma", [0.5, 2.0])
def test_gradient_flow_mp_risk_against_mpmath(gamma):
    times = np.array([0.3, 2.0, 10.0])
    got = np.asarray(early_stopping.gradient_flow_risk_mp(times, gamma, 1.0, 0.5))
    want = [_mp_risk_by_mpmath(v, gamma, 1.0, 0.5) for v in times]
    np.testing.assert_allclose(got, want, rtol=1e-9)  # 200 Gauss-Legendre nodes on a smooth integrand


def test_gradient_flow_mp_risk_limits():
    # t -> oo: min-norm least squares (linreg.ridgeless_risk); t = 0: beta = 0, risk r2
    far = float(early_stopping.gradient_flow_risk_mp(1e6, 0.5, 1.0, 1.0))
    assert abs(far - float(linreg.ridgeless_risk(gamma=0.5, r2=1.0, sigma2=1.0))) < 1e-9
    assert abs(float(early_stopping.gradient_flow_risk_mp(0.0, 0.3, 2.0, 1.0)) - 2.0) < 1e-12
    with pytest.raises(ValueError, match="gamma"):
        early_stopping.gradient_flow_risk_mp(1.0, -0.5, 1.0, 1.0)


def test_numeric_estimates_against_numpy():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(1, 12, 4)), rng.normal(size=(3, 12))
    beta = np.zeros((3, 4))
    for _ in range(7):
        beta = beta + 0.1 * (y @ x[0] - beta @ x[0].T @ x[0]) / 12
    np.testing.assert_allclose(np.asarray(sim.gd_estimates(x, y, 0.1, [7]))[:, 0], beta, rtol=1e-12)
    want = np.linalg.solve(x[0].T @ x[0] / 12 + 0.3 * np.eye(4), x[0].T @ y.T / 12).T
    np.testing.assert_allclose(sim.ridge_estimates(x, y, [0.3])[:, 0], want, rtol=1e-12)
    with pytest.raises(ValueError, match="steps"):
        sim.gd_estimates(x, y, 0.1, [0, 3])
    with pytest.raises(ValueError, match="ridges"):
        sim.ridge_estimates(x, y, [0.0])
