"""analytic.scaling against the published forms and independent computations; numeric.scaling."""

import doctest

import jax
import numpy as np
import pytest
import scipy.optimize
import sympy as sp

import analytic.scaling
import analytic.scaling._fit
from analytic import scaling
from analytic.scaling._symbols import A, B, C, alpha_D, alpha_N
from analytic.symbols import alpha, beta
from numeric import scaling as sim
from verify import core

# --- derived expressions equal the published forms (symbolic) ----------------------
G = (alpha * A / (beta * B)) ** (1 / (alpha + beta))
PUBLISHED = {  # Hoffmann et al. 2022, arXiv:2203.15556v1, eq. (4)
    "optimal_params": G * (C / 6) ** (beta / (alpha + beta)),
    "optimal_tokens": (C / 6) ** (alpha / (alpha + beta)) / G,
    "params_exponent": beta / (alpha + beta),
    "tokens_exponent": alpha / (alpha + beta),
}


@pytest.mark.parametrize("name", sorted(PUBLISHED))
def test_derivation_matches_hoffmann_eq_4(name):
    derived = getattr(scaling, name)
    assert derived.derived
    # Compare logarithms: both sides are products of positive powers.
    gap = sp.expand_log(sp.log(derived.expr) - sp.log(PUBLISHED[name]), force=True)
    assert sp.simplify(gap) == 0


def test_frontier_spends_the_budget_and_is_the_law_there():
    fit = scaling.BESIROGLU_2024
    budgets = np.geomspace(1e18, 1e26, 7)
    n = np.asarray(scaling.optimal_params(C=budgets, **fit.allocation()))
    d = np.asarray(scaling.optimal_tokens(C=budgets, **fit.allocation()))
    np.testing.assert_allclose(6 * n * d, budgets, rtol=1e-13)  # C = 6 N D, float64
    law = fit.E + fit.A / n**fit.alpha + fit.B / d**fit.beta  # the law typed here by hand
    np.testing.assert_allclose(scaling.optimal_loss(C=budgets, **fit.law()), law, rtol=1e-13)


def test_kaplan_exponent_is_alpha_D_over_sum():
    assert sp.simplify(scaling.kaplan_params_exponent.expr - alpha_D / (alpha_N + alpha_D)) == 0
    got = float(scaling.kaplan_params_exponent(alpha_N=0.076, alpha_D=0.095))
    assert got == pytest.approx(0.095 / 0.171, rel=1e-14)


def test_published_exponents():
    # Hoffmann et al. Table 2 (Approach 3) reports a = 0.46, b = 0.54 (rounded to 2 digits);
    # Besiroglu et al. v2 report a = 0.5126 from their re-fit (as quoted by secondary sources).
    h = scaling.HOFFMANN_2022_UNROUNDED
    assert float(scaling.params_exponent(alpha=h.alpha, beta=h.beta)) == pytest.approx(0.46, abs=0.005)
    assert float(scaling.tokens_exponent(alpha=h.alpha, beta=h.beta)) == pytest.approx(0.54, abs=0.005)
    b = scaling.BESIROGLU_2024
    assert float(scaling.params_exponent(alpha=b.alpha, beta=b.beta)) == pytest.approx(0.5126, abs=5e-5)


def test_rounded_constants_shift_the_split():
    C = 6 * 70e9 * 1.4e12
    rounded = float(scaling.optimal_params(C=C, **scaling.HOFFMANN_2022.allocation()))
    unrounded = float(scaling.optimal_params(C=C, **scaling.HOFFMANN_2022_UNROUNDED.allocation()))
    assert rounded / unrounded == pytest.approx(0.7985, abs=1e-3)  # a 20% smaller model


@pytest.mark.parametrize("call, match", [
    (lambda: scaling.optimal_params(C=0.0, A=1.0, B=1.0, alpha=0.3, beta=0.3), "'C' = 0.0"),
    (lambda: scaling.optimal_params(C=-1e20, A=1.0, B=1.0, alpha=0.3, beta=0.3), "'C' = -1e\\+20"),
    (lambda: scaling.optimal_tokens(C=1e20, A=1.0, B=1.0, alpha=0.0, beta=0.3), "'alpha' = 0.0"),
    (lambda: scaling.params_exponent(alpha=0.3, beta=0.0), r"'beta' = 0.0 is outside its valid range \(0, oo\)"),
    (lambda: scaling.tokens_exponent(alpha=-0.3, beta=0.3), "'alpha' = -0.3"),
    (lambda: scaling.chinchilla_loss(N=np.nan, D=1e9, E=1.0, A=1.0, B=1.0, alpha=0.3, beta=0.3), "'N' = nan"),
    (lambda: scaling.fit([1e7, 1e8], [1e9, 1e9, 1e9], [3.0, 2.0]), "equal lengths"),
    (lambda: scaling.fit(np.full(8, 1e8), np.full(8, 1e9), [np.nan] + [2.0] * 7), r"loss\[0\] = nan"),
    (lambda: scaling.fit(np.full(8, -1e8), np.full(8, 1e9), np.full(8, 2.0)), r"N\[0\] = -1"),
    (lambda: scaling.fit(np.full(3, 1e8), np.full(3, 1e9), np.full(3, 2.0)), "at least 6"),
    (lambda: sim.minimise_on_budget(sim.chinchilla_law(1.0, 1.0, 1.0, 0.3, 0.3), 0.0), "C must be"),
    (lambda: sim.chinchilla_law(1.0, 1.0, 1.0, 0.3, 0.0), "beta must be"),
])
def test_bad_input_raises_value_error_naming_parameter(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# --- the fit ----------------------------------------------------------------------
def test_fit_recovers_noiseless_law():
    gn, gd = np.meshgrid(np.geomspace(1e7, 1e10, 5), np.geomspace(1e9, 1e12, 5))
    truth = scaling.BESIROGLU_2024
    loss = truth.E + truth.A / gn**truth.alpha + truth.B / gd**truth.beta
    one_start = {"a": [6.0], "b": [7.0], "e": [0.5], "alpha": [0.3], "beta": [0.3]}
    result = scaling.fit(gn.ravel(), gd.ravel(), loss.ravel(), grid=one_start, resamples=3)
    got = np.array([result.E, result.A, result.B, result.alpha, result.beta])
    np.testing.assert_allclose(got, truth[:5], rtol=1e-4)  # L-BFGS-B tolerances on an exact law
    assert result.starts == 1 and result.bootstrap.shape == (3, 5)


def test_module_examples_run_in_float64():
    for module in (analytic.scaling, analytic.scaling._fit):
        assert doctest.testmod(module).failed == 0


# --- numeric -------------------------------------------------------------------------
def test_minimise_on_budget_matches_scipy_bounded_search():
    law = sim.chinchilla_law(1.7, 400.0, 400.0, 0.34, 0.28)
    C = 1e21
    found = sim.minimise_on_budget(law, C)
    res = scipy.optimize.minimize_scalar(lambda x: float(law(np.exp(x), C / 6 / np.exp(x))),
                                         bounds=(0, np.log(C / 6)), method="bounded",
                                         options={"xatol": 1e-10})
    assert float(found.N) == pytest.approx(np.exp(res.x), rel=1e-5)  # flat minimum: ~1e-7 in log N
    assert 6 * float(found.N) * float(found.D) == pytest.approx(C, rel=1e-12)


def test_synthetic_runs_have_the_requested_log_noise():
    law = sim.chinchilla_law(2.0, 1.0, 1.0, 0.5, 0.5)
    N, D = np.full(20000, 1e6), np.full(20000, 1e6)
    runs = np.asarray(sim.synthetic_runs(jax.random.key(0), N, D, law, 0.01))
    log_ratio = np.log(runs / np.asarray(law(N, D)))
    assert abs(log_ratio.mean()) < 4 * 0.01 / np.sqrt(20000)  # 4 standard errors
    assert log_ratio.std() == pytest.approx(0.01, rel=0.03)  # SE of a std: 1/sqrt(2n) = 0.5%


# --- the explicit negative control the issue asks for ---------------------------------
def test_wrong_allocation_exponent_fails_the_check():
    """a = alpha/(alpha+beta) (the exponents swapped) must fail scaling.allocation_exponents."""
    right = scaling.params_exponent
    wrong = type(right)(name="wrong_a", expr=alpha / (alpha + beta), params=right.params, source="",
                        derived=False, domains=right.domains)
    chk = core.registry()["scaling.allocation_exponents"]
    rows = list(chk(core.Context(size="quick"), a=wrong))
    assert any(not r.passed for r in rows if r.label.endswith("a (N_opt ~ C^a)"))


# --- McCandlish et al. 2018: noise scale and the steps/examples trade-off ------------------
def test_steps_examples_hyperbola():
    from analytic.scaling._symbols import steps_ratio
    e = scaling.examples_for_steps.expr
    assert sp.simplify((steps_ratio - 1) * (e - 1) - 1) == 0  # (S/S_min - 1)(E/E_min - 1) = 1


def test_noise_scale_and_gain_forms():
    from analytic.scaling._symbols import batch, grad_curvature, grad_sq, noise_curvature
    assert sp.simplify(scaling.noise_scale.expr - noise_curvature / grad_curvature) == 0
    gain_max = grad_sq**2 / (2 * grad_curvature)
    b_noise = noise_curvature / grad_curvature
    assert sp.simplify(scaling.sgd_optimal_gain.expr - gain_max / (1 + b_noise / batch)) == 0
    # H = I: B_noise reduces to B_simple = tr(Sigma) / |G|^2 (tr(H Sigma) = tr Sigma, G^T H G = |G|^2).
    assert float(scaling.noise_scale(grad_curvature=2.0, noise_curvature=30.0)) == 15.0
    with pytest.raises(ValueError, match="'steps_ratio' = 1.0"):
        scaling.examples_for_steps(steps_ratio=1.0)


def test_sgd_step_gains_match_the_exact_expectation():
    d = 4
    H, theta = np.diag([0.5, 1.0, 1.5, 2.0]), np.array([1.0, -1.0, 0.5, 2.0])
    root = np.diag([1.0, 2.0, 0.5, 1.0])
    lrs, B = np.array([0.1, 0.3]), 8
    run = sim.sgd_step_gains(jax.random.key(5), H, theta, root, (B,), lrs, samples=20000)
    grad, sigma = H @ theta, root @ root.T
    # By hand: E[g] = grad, Cov[g] = Sigma / B, so E[L - L'] = lr |grad|_H... computed term by term.
    exact = lrs * (grad @ grad) - lrs**2 / 2 * (grad @ H @ grad + np.trace(H @ sigma) / B)
    se = np.asarray(run.groups)[:, 0, :].std(axis=0, ddof=1) / np.sqrt(10)
    assert np.all(np.abs(np.asarray(run.mean)[0] - exact) < 4 * se)  # 4 Monte Carlo SE
    with pytest.raises(ValueError, match="shapes"):
        sim.sgd_step_gains(jax.random.key(0), H, theta[:3], root, (1,), lrs)


# --- the solvable model: random features on a power-law spectrum ------------------------------
def test_random_feature_exponents_are_the_stated_forms():
    from analytic.scaling._symbols import decay, target_decay
    assert scaling.rf_model_exponent.derived and scaling.rf_data_exponent.derived
    assert sp.simplify(scaling.rf_model_exponent.expr - (target_decay - 1)) == 0
    assert sp.simplify(scaling.rf_data_exponent.expr - (target_decay - 1) / decay) == 0
    # Lin et al. 2024 (Gaussian prior, target_decay = decay = a): M^-(a-1) + D^-(a-1)/a.
    a = sp.Symbol("a", positive=True)
    assert sp.simplify(scaling.rf_data_exponent.expr.subs({decay: a, target_decay: a}) - (a - 1) / a) == 0
    # The compute-optimal split depends on the spectrum alone: M_opt ~ C^(1/(1 + decay)).
    assert sp.simplify(scaling.rf_params_exponent.expr - 1 / (1 + decay)) == 0
    assert float(scaling.rf_params_exponent(decay=2.0)) == pytest.approx(1 / 3, rel=1e-14)


def test_expected_risk_recursion_matches_sampled_sgd():
    key = jax.random.key(3)
    models = sim.random_feature_models(key, (8,), 128, 2.0, 2.0, seeds=1)
    expected = np.asarray(sim.expected_sgd_risk(models, 0.5, 32, batch=2).risk)[:, 0, 0]
    runs = np.asarray(sim.sampled_sgd_risk(jax.random.key(4), key, 8, 128, 2.0, 2.0, 0.5, 32, 300,
                                           batch=2, checkpoints=(8, 32)).risk)
    se = runs.std(axis=1, ddof=1) / np.sqrt(runs.shape[1])
    assert np.all(np.abs(runs.mean(axis=1) - expected[[8, 32]]) < 4 * se)  # 4 Monte Carlo SE


def test_feature_models_against_direct_linear_algebra():
    key = jax.random.key(7)
    models = sim.random_feature_models(key, (4, 8), 64, 2.0, 1.5, seeds=1)
    k = np.arange(1, 65.0)
    lam, signal = k**-2.0, k**-1.5
    G = np.asarray(jax.random.normal(jax.random.split(key, 1)[0], (8, 64)))
    for i, m in enumerate((4, 8)):
        S = G[:m] / np.sqrt(m)
        K = S @ np.diag(lam) @ S.T
        cross = S @ np.diag(lam * signal) @ S.T  # E[b b^T], b = S diag(lam) w, E[lam w^2] = signal
        approximation = signal.sum() - np.trace(np.linalg.solve(K, cross))  # E[y^2] - E[b^T K^-1 b]
        np.testing.assert_allclose(float(models.approximation[0, i]), approximation, rtol=1e-9)
        np.testing.assert_allclose(np.sort(np.asarray(models.curvature[0, i]))[-m:], np.linalg.eigvalsh(K),
                                   rtol=1e-9)


def test_steps_to_target_interpolates_and_reports_never():
    risk = np.array([[1.0, 1.0], [0.5, 0.9], [0.25, 0.8]])
    got = sim.steps_to_target(risk, 0.5 ** 1.5)
    assert got[0] == pytest.approx(1.5, rel=1e-12) and got[1] == np.inf  # log-linear between steps 1 and 2


@pytest.mark.parametrize("call, match", [
    (lambda: sim.random_feature_models(jax.random.key(0), (8,), 64, 1.0, 2.0), "decay = 1.0"),
    (lambda: sim.random_feature_models(jax.random.key(0), (8,), 64, 2.0, 0.5), "target_decay = 0.5"),
    (lambda: sim.random_feature_models(jax.random.key(0), (128,), 64, 2.0, 2.0), r"features = \(128,\)"),
    (lambda: sim.expected_sgd_risk(sim.full_feature_model(8, 2.0, 2.0), 0.5, 4, batch=0.0), "batch must be > 0"),
    (lambda: sim.expected_sgd_risk(sim.full_feature_model(8, 2.0, 2.0), -0.5, 4), "lr must be"),
    (lambda: sim.steps_to_target(np.ones((3, 2)), np.nan), "target = nan"),
    (lambda: scaling.rf_data_exponent(decay=0.5, target_decay=2.0), "'decay' = 0.5"),
    (lambda: scaling.rf_model_exponent(target_decay=1.0), "'target_decay' = 1.0"),
])
def test_random_feature_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_wrong_split_exponent_fails_the_random_feature_check():
    """a = decay/(1 + decay) (the alpha/(alpha+beta) slip) must fail scaling.random_features."""
    from analytic.scaling._symbols import decay
    right = scaling.rf_params_exponent
    wrong = type(right)(name="wrong_split", expr=decay / (1 + decay), params=right.params, source="",
                        derived=False, domains=right.domains)
    chk = core.registry()["scaling.random_features"]
    rows = list(chk(core.Context(size="smoke"), frontier=wrong))
    assert any(not r.passed for r in rows if r.label.startswith("a "))
