"""analytic.optimizers against published forms and direct iteration; numeric.optimizers."""

import jax
import numpy as np
import pytest
import sympy as sp

from analytic import optimizers
from analytic.optimizers._adam import ema_momentum_iteration_matrix
from analytic.optimizers._symbols import beta1, damping
from analytic.symbols import eta, lam
from numeric import optimizers as sim


# --- derived expressions equal the published forms (symbolic) ------------------
@pytest.mark.parametrize("name, published", [
    ("adam_sharpness_threshold", (2 + 2 * beta1) / ((1 - beta1) * eta)),  # Cohen et al. 2022
    ("adam_noise_rms_update", eta * sp.sqrt((1 - beta1) / (1 + beta1))),
    ("natural_gradient_rate", sp.Abs(1 - eta * lam / (lam + damping))),
])
def test_derivation_matches_published_form(name, published):
    derived = getattr(optimizers, name)
    assert derived.derived
    assert sp.simplify(derived.expr - published) == 0


def test_threshold_is_38_over_eta_at_beta1_09():
    assert float(optimizers.adam_sharpness_threshold(eta=0.5, beta1=0.9)) == pytest.approx(76.0, rel=1e-14)
    # beta1 = 0 is RMSprop without momentum: GD's 2 / eta on the preconditioned problem
    assert sp.simplify(optimizers.adam_sharpness_threshold.expr.subs(beta1, 0) - 2 / eta) == 0


def test_threshold_is_where_the_iteration_matrix_has_an_eigenvalue_minus_one():
    for b in (0.0, 0.5, 0.9, 0.99):
        a = float(optimizers.adam_sharpness_threshold(eta=0.1, beta1=b))
        for factor, inside in ((0.999, True), (1.001, False)):
            M = np.array(ema_momentum_iteration_matrix(sp.Float(0.1), sp.Float(b), sp.Float(factor * a)),
                         dtype=float)
            assert (np.max(np.abs(np.linalg.eigvals(M))) < 1) == inside


def test_noise_rms_is_the_ar1_stationary_value_by_direct_iteration():
    # Stationary variance of m <- b m + (1 - b) g by summing the geometric series numerically.
    b = 0.7
    variance = sum(((1 - b) * b**k) ** 2 for k in range(2000))
    assert float(optimizers.adam_noise_rms_update(eta=1.0, beta1=b)) == pytest.approx(np.sqrt(variance),
                                                                                       rel=1e-12)


def test_natural_gradient_rate_is_kappa_free_at_zero_damping():
    lams = np.geomspace(1e-4, 1e4, 9)
    np.testing.assert_allclose(optimizers.natural_gradient_rate(eta=0.3, lam=lams, damping=0.0), 0.7,
                               rtol=1e-12)
    # large damping: GD with step eta / damping
    got = optimizers.natural_gradient_rate(eta=0.3, lam=0.01, damping=1e6)
    assert float(got) == pytest.approx(1 - 0.3 * 0.01 / 1e6, rel=1e-12)


@pytest.mark.parametrize("call, match", [
    (lambda: optimizers.adam_sharpness_threshold(eta=0.0, beta1=0.9), "'eta' = 0.0"),
    (lambda: optimizers.adam_sharpness_threshold(eta=-1.0, beta1=0.9), "'eta' = -1.0"),
    (lambda: optimizers.adam_sharpness_threshold(eta=0.1, beta1=1.0), "'beta1' = 1.0"),
    (lambda: optimizers.adam_sharpness_threshold(eta=0.1, beta1=-0.1), "'beta1' = -0.1"),
    (lambda: optimizers.adam_noise_rms_update(eta=0.1, beta1=1.5), "'beta1' = 1.5"),
    (lambda: optimizers.natural_gradient_rate(eta=0.1, lam=1.0, damping=-1.0), "'damping' = -1.0"),
    (lambda: optimizers.natural_gradient_rate(eta=0.1, lam=0.0, damping=0.0), "lam"),
])
def test_bad_input_raises_value_error_naming_parameter(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# --- numeric ------------------------------------------------------------------------
def test_frozen_adam_matches_numpy_loop_and_flags_divergence():
    rng = np.random.default_rng(0)
    H = np.diag([1.0, 4.0])
    P = np.array([2.0, 0.5])
    x0 = rng.normal(size=2)
    run = sim.frozen_adam_quadratic(H, P, x0, 0.1, 0.9, 50)
    m, x, want = np.zeros(2), x0.copy(), [np.linalg.norm(x0)]
    for _ in range(50):
        m = 0.9 * m + 0.1 * H @ x
        x = x - 0.1 * m / P
        want.append(np.linalg.norm(x))
    np.testing.assert_allclose(run.norms, want, rtol=1e-12)
    # lam_max(P^-1 H) = 8; threshold 38 / eta: eta = 38 / 8 * 1.05 diverges
    assert bool(sim.frozen_adam_quadratic(H, P, x0, 38 / 8 * 1.05, 0.9, 4000).diverged)
    assert not bool(sim.frozen_adam_quadratic(H, P, x0, 38 / 8 * 0.95, 0.9, 4000).diverged)


def test_natural_gradient_with_unit_step_solves_least_squares_in_one_step():
    rng = np.random.default_rng(1)
    X, w = rng.normal(size=(20, 3)), rng.normal(size=3)
    run = sim.natural_gradient_least_squares(X, X @ w, np.zeros(3), 1.0, 0.0, 2)
    np.testing.assert_allclose(run.weights[1], w, rtol=1e-10)


def test_adam_full_batch_reduces_a_quadratic_loss():
    loss = lambda p, s: 0.5 * np.float64(1.0) * (s * p["a"] ** 2).sum()  # noqa: E731
    run = sim.adam_full_batch(loss, {"a": np.ones(3)}, (np.array([1.0, 2.0, 3.0]),), eta=0.01,
                              steps=200, every=100)
    assert run.losses[-1] < 0.1 * run.losses[0]
    assert run.preconditioners["a"].shape == (2, 3)


@pytest.mark.parametrize("call, match", [
    (lambda: sim.frozen_adam_quadratic(np.eye(2), [1.0, 1.0], [1.0, 1.0], 0.0, 0.9, 5), "eta"),
    (lambda: sim.frozen_adam_quadratic(np.eye(2), [1.0, 1.0], [1.0, 1.0], 0.1, 1.0, 5), "beta1"),
    (lambda: sim.frozen_adam_quadratic(np.eye(2), [1.0, -1.0], [1.0, 1.0], 0.1, 0.9, 5), "preconditioner"),
    (lambda: sim.adam_noise_updates(jax.random.key(0), 0.1, 0.9, 1.2), "beta2"),
    (lambda: sim.natural_gradient_least_squares(np.eye(2), np.ones(2), np.zeros(2), 0.1, -1.0, 3), "damping"),
])
def test_numeric_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()
