"""analytic.linreg against published forms and independent computations; numeric.linreg."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.integrate
import sympy as sp

from analytic import linreg
from analytic.symbols import e0, eps, eta, gamma, kappa, lam, lam_max, lam_min, r2, sigma2, t
from numeric import linreg as sim


# --- derived expressions equal the published forms (symbolic) ------------------
@pytest.mark.parametrize("name, published", [
    ("gd_mode_error", e0 * (1 - eta * lam) ** t),
    ("gf_mode_error", e0 * sp.exp(-lam * t)),
    ("critical_lr", 2 / lam_max),
    ("optimal_lr", 2 / (lam_min + lam_max)),
    ("optimal_rate", (kappa - 1) / (kappa + 1)),
    ("optimal_steps", sp.log(1 / eps) / sp.log((kappa + 1) / (kappa - 1))),
])
def test_derivation_matches_published_form(name, published):
    derived = getattr(linreg, name)
    assert derived.derived
    assert sp.simplify(sp.expand_log(derived.expr - published, force=True)) == 0


def test_ridgeless_risk_is_hastie_et_al_theorem_1():
    expr = linreg.ridgeless_risk.expr
    below, above = expr.args[0][0], expr.args[1][0]
    assert sp.simplify(below - sigma2 * gamma / (1 - gamma)) == 0
    assert sp.simplify(above - (r2 * (1 - 1 / gamma) + sigma2 / (gamma - 1))) == 0
    got = linreg.ridgeless_risk(gamma=np.array([0.5, 2.0]), r2=1.0, sigma2=1.0)
    np.testing.assert_allclose(got, [1.0, 1.5], rtol=1e-14)  # HMRT eq. (8) by hand


def _marchenko_pastur_integral(g, fn):
    """int fn(s) dF_MP(s) by quadrature, with the atom 1 - 1/g at 0 when g > 1."""
    a, b = (1 - np.sqrt(g)) ** 2, (1 + np.sqrt(g)) ** 2
    density = lambda s: np.sqrt((b - s) * (s - a)) / (2 * np.pi * g * s)
    value, _ = scipy.integrate.quad(lambda s: fn(s) * density(s), a, b, limit=200)
    return value + (max(0.0, 1 - 1 / g) * fn(0.0))


@pytest.mark.parametrize("g, penalty", [(0.3, 0.1), (0.8, 1.0), (2.5, 0.05), (5.0, 2.0)])
def test_ridge_risk_matches_marchenko_pastur_quadrature(g, penalty):
    bias = _marchenko_pastur_integral(g, lambda s: penalty**2 / (s + penalty) ** 2)
    variance = g * _marchenko_pastur_integral(g, lambda s: s / (s + penalty) ** 2)
    got = float(linreg.ridge_risk(gamma=g, r2=1.3, sigma2=0.4, ridge=penalty))
    assert got == pytest.approx(1.3 * bias + 0.4 * variance, rel=1e-8)  # quad accuracy ~1e-10


def test_ridge_tends_to_ridgeless():
    for g in (0.5, 3.0):
        small = float(linreg.ridge_risk(gamma=g, r2=1.0, sigma2=0.5, ridge=1e-7))
        assert small == pytest.approx(float(linreg.ridgeless_risk(gamma=g, r2=1.0, sigma2=0.5)),
                                      rel=1e-5)  # the ridge correction is O(ridge)


def test_two_feature_kappa_standardised_and_scaled_limits():
    f = linreg.two_feature_kappa
    rhos = np.array([-0.9, -0.3, 0.0, 0.5, 0.95])
    np.testing.assert_allclose(f(scale=1.0, rho=rhos), (1 + abs(rhos)) / (1 - abs(rhos)), rtol=1e-12)
    np.testing.assert_allclose(f(scale=7.0, rho=0.0), 49.0, rtol=1e-12)  # diag(49, 1)
    cov = np.array([[9.0, 0.6 * 3], [0.6 * 3, 1.0]])
    ev = np.linalg.eigvalsh(cov)
    assert float(f(scale=3.0, rho=0.6)) == pytest.approx(ev[1] / ev[0], rel=1e-12)
    with pytest.raises(ValueError, match="'rho' = 1.0"):
        f(scale=1.0, rho=1.0)


# --- composites against direct iteration -----------------------------------------
def test_gd_loss_curve_matches_direct_mode_iteration():
    ev = np.array([0.1, 0.5, 1.0, 1.9])
    errors = np.array([1.0, -2.0, 0.5, 0.3])
    e, want = errors.copy(), []
    for _ in range(31):
        want.append(0.5 * np.sum(ev * e**2))
        e = e - 0.9 * ev * e  # one GD step on each mode, by hand
    got = linreg.gd_loss_curve(0.9, ev, errors, 30)
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_gf_loss_curve_matches_ode_integration():
    ev, errors = np.array([0.2, 1.0, 3.0]), np.array([1.0, 0.5, -1.0])
    times = np.linspace(0, 4, 9)
    sol = scipy.integrate.solve_ivp(lambda _, e: -ev * e, (0, 4), errors, t_eval=times,
                                    rtol=1e-12, atol=1e-14)
    want = 0.5 * np.sum(ev[:, None] * sol.y**2, axis=0)
    np.testing.assert_allclose(linreg.gf_loss_curve(ev, errors, times), want, rtol=1e-9)  # ODE rtol


def test_above_critical_lr_is_a_prediction_not_an_error():
    assert float(linreg.gd_mode_error(eta=3.0, lam=1.0, t=10, e0=1.0)) == 1024.0  # (1 - 3)^10


@pytest.mark.parametrize("call, match", [
    (lambda: linreg.gd_loss_curve(0.0, [1.0], [1.0], 3), "'eta' = 0.0"),
    (lambda: linreg.gd_loss_curve(0.1, [-1.0], [1.0], 3), "'lam' = -1.0"),
    (lambda: linreg.gd_loss_curve(0.1, [1.0, 2.0], [1.0], 3), "equal length"),
    (lambda: linreg.optimal_rate(kappa=0.5), r"'kappa' = 0.5 is outside its valid range \[1, oo\)"),
    (lambda: linreg.ridgeless_risk(gamma=0.0, r2=1.0, sigma2=1.0), "'gamma' = 0.0"),
    (lambda: linreg.ridgeless_risk(gamma=np.nan, r2=1.0, sigma2=1.0), "'gamma' = nan"),
    (lambda: linreg.critical_lr(lam_max=np.inf), "'lam_max' = inf"),
    (lambda: linreg.optimal_steps(kappa=10.0, eps=1.5), "'eps' = 1.5"),
])
def test_bad_input_raises_value_error_naming_parameter(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# --- numeric ------------------------------------------------------------------------
def test_design_with_spectrum_has_that_spectrum():
    spectrum = np.array([0.0, 0.3, 1.0, 4.0])
    X = sim.design_with_spectrum(jax.random.key(0), 12, spectrum)
    np.testing.assert_allclose(sim.hessian_eigenvalues(X), spectrum, atol=1e-13)  # eigh round-off


def test_gd_least_squares_matches_numpy_loop():
    rng = np.random.default_rng(1)
    X, y = rng.normal(size=(15, 4)), rng.normal(size=15)
    run = sim.gd_least_squares(X, y, np.zeros(4), 0.1, 25)
    w, want = np.zeros(4), []
    for _ in range(26):
        want.append(0.5 * np.mean((X @ w - y) ** 2))
        w = w - 0.1 * X.T @ (X @ w - y) / 15
    np.testing.assert_allclose(run.losses, want, rtol=1e-12)
    assert not bool(run.diverged)


def test_gd_divergence_is_a_flag_with_growth_rate():
    X = sim.design_with_spectrum(jax.random.key(2), 6, jnp.array([0.5, 1.0]))
    y = X @ jnp.array([1.0, -1.0])
    run = sim.gd_least_squares(X, y, jnp.zeros(2), 2.2, 400)  # 1 - 2.2 * 1 = -1.2
    assert bool(run.diverged)
    assert float(run.growth_rate) == pytest.approx(1.2, rel=1e-9)  # other mode: 0.1^400 behind


@pytest.mark.parametrize("n, d, r2, sigma2, exact", [
    (5, 20, 1.0, 0.0, 1.0 - 5 / 20),  # noiseless, d > n: r2 (1 - n/d), rotational invariance
    (30, 5, 0.0, 1.0, 5 / (30 - 5 - 1)),  # d < n: sigma2 d / (n - d - 1), inverse-Wishart mean
])
def test_min_norm_risk_matches_exact_finite_n_expectation(n, d, r2, sigma2, exact):
    est = sim.min_norm_risk(jax.random.key(3), n, d, r2, sigma2, 1000)
    assert abs(est.mean - exact) < 4 * est.standard_error  # Monte Carlo: 4 standard errors


@pytest.mark.parametrize("call, match", [
    (lambda: sim.gd_least_squares(np.ones((3, 2)), np.ones(4), np.zeros(2), 0.1, 5), "shapes"),
    (lambda: sim.gd_least_squares(np.ones((3, 2)), np.ones(3), np.zeros(2), -0.1, 5), "eta"),
    (lambda: sim.gd_least_squares(np.ones((3, 2)), np.full(3, np.nan), np.zeros(2), 0.1, 5), "NaN"),
    (lambda: sim.design_with_spectrum(jax.random.key(0), 5, [1.0, -1.0]), ">= 0"),
    (lambda: sim.min_norm_risk(jax.random.key(0), 10, 10, 1.0, 1.0, 5), "d == n"),
    (lambda: sim.correlated_design(jax.random.key(0), 10, 1.0, 1.5), "rho"),
])
def test_numeric_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_spectral_ridge_risk_rejects_bad_input_and_sees_the_atom():
    from numeric import linreg as numeric_linreg

    for kwargs, name in (({"gamma": 0.0}, "gamma"), ({"ridge": -1.0}, "ridge"), ({"r2": float("nan")}, "r2"),
                         ({"sigma2": -0.1}, "sigma2")):
        args = dict(gamma=0.5, r2=1.0, sigma2=0.25, ridge=0.5) | kwargs
        with pytest.raises(ValueError, match=name):
            numeric_linreg.spectral_ridge_risk(**args)
    # gamma > 1, huge ridge: the fit is ~0, so the risk is the whole signal r2 (atom + bulk)
    assert numeric_linreg.spectral_ridge_risk(4.0, 1.0, 0.0, 1e8) == pytest.approx(1.0, rel=1e-7)
