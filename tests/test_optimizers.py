"""analytic.optimizers against published forms and direct iteration; numeric.optimizers."""

import jax
import jax.numpy as jnp
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


# --- finite-beta2 noise RMS, schedules on the NQM, Adam at the edge ------------------------------
def test_finite_beta2_noise_rms_is_sqrt_beta2_times_the_limit_and_agrees_to_first_order():
    from analytic.optimizers._symbols import beta2
    derived = optimizers.adam_noise_rms_update_finite_beta2
    assert derived.derived
    assert sp.simplify(derived.expr - sp.sqrt(beta2) * optimizers.adam_noise_rms_update.expr) == 0
    # beta2 -> 1 recovers the limit
    assert sp.simplify(derived.expr.subs(beta2, 1) - optimizers.adam_noise_rms_update.expr) == 0


def test_finite_beta2_first_order_coefficient_by_direct_sums():
    # beta1 = 0: E[g^2 / v] with v = sum_j w_j g_j^2; first order in eps: 1 - eps (independent check
    # by numerically summing the same three moments at a small eps).
    eps, b1 = 1e-4, 0.3
    k = np.arange(200000)
    a2 = ((1 - b1) * b1**k) ** 2
    w = eps * (1 - eps) ** k
    mean_m2, m2_d, d2 = a2.sum(), 2 * (a2 * w).sum(), 2 * (w**2).sum()
    ratio = (mean_m2 - m2_d + mean_m2 * d2) / mean_m2
    assert (1 - ratio) / eps == pytest.approx(1.0, rel=1e-3)


def test_step_decay_time_is_the_argmin_of_the_exact_composite():
    k_star = float(optimizers.nqm_step_decay_time(alpha=0.2, gamma=0.05, h=1.0, c=1.0, B=1.0, e0=10.0))
    best = optimizers.best_step_decay(0.2, 0.05, 60, [1.0], [1.0], 1.0, 10.0)
    assert abs(best.decay_step - k_star) < 1.0
    assert "T" not in {s.name for s in optimizers.nqm_step_decay_time.params}  # budget-free
    assert k_star == pytest.approx(22.19, abs=0.01)


def test_scheduled_expected_loss_matches_a_direct_moment_iteration():
    rng = np.random.default_rng(3)
    h, c = np.array([1.0, 0.3]), np.array([0.5, 0.2])
    lrs = rng.uniform(0.1, 1.0, size=25)
    beta_, batch = 0.4, 2.0
    s, cross, prev = np.ones(2), np.ones(2), np.ones(2)
    want = [0.5 * h.sum()]
    for lr in lrs:  # heavy ball: theta' = (1 + b - lr h) theta - b theta_prev - lr xi
        a = 1 + beta_ - lr * h
        s_new = a**2 * s - 2 * a * beta_ * cross + beta_**2 * prev + lr**2 * c / batch
        cross_new = a * s - beta_ * cross
        s, cross, prev = s_new, cross_new, s
        want.append(0.5 * (h * s).sum())
    got = optimizers.scheduled_expected_loss(lrs, h, c, batch, 1.0, momentum=beta_)
    np.testing.assert_allclose(got, want, rtol=1e-12)


def test_learning_rate_schedules():
    np.testing.assert_allclose(sim.learning_rate_schedule("step", 1.0, 4, decay_step=2, factor=0.1),
                               [1.0, 1.0, 0.1, 0.1])
    np.testing.assert_allclose(sim.learning_rate_schedule("warmup", 1.0, 4, warmup=2), [0.5, 1.0, 1.0, 1.0])
    np.testing.assert_allclose(sim.learning_rate_schedule("cosine", 2.0, 2), [2.0, 1.0], atol=1e-15)
    with pytest.raises(ValueError, match="kind"):
        sim.learning_rate_schedule("exp", 1.0, 4)


def test_nqm_scheduled_sgd_noise_free_is_deterministic_gd():
    run = sim.nqm_scheduled_sgd(jax.random.key(0), [2.0], 0.0, 1.0, 1.0, [[0.1, 0.2], [0.3, 0.3]], chains=4)
    want = [[1.0, 0.8 ** 2, (0.8 * 0.6) ** 2], [1.0, 0.4 ** 2, 0.4 ** 4]]
    np.testing.assert_allclose(run.loss_mean, np.array(want), rtol=1e-12)  # loss = h theta^2 / 2 = theta^2


def _diagonal_quadratic(x, h):
    return 0.5 * jnp.sum(h * x**2)


def test_adam_preconditioned_sharpness_matches_a_numpy_adam_loop():
    h = np.array([3.0, 1.0, 0.2])
    x0 = np.array([1.0, -0.5, 2.0])
    eta, b1, b2, eps = 0.05, 0.9, 0.99, 1e-8
    run = sim.adam_preconditioned_sharpness(_diagonal_quadratic, x0, (h,), [eta], b1, b2, eps, steps=20,
                                            record_every=10, lanczos=3)
    x, m, v, want = x0.copy(), np.zeros(3), np.zeros(3), []
    for t in range(1, 21):
        g = h * x
        m, v = b1 * m + (1 - b1) * g, b2 * v + (1 - b2) * g**2
        precond = np.sqrt(v / (1 - b2**t)) + eps
        x = x - eta * m / (1 - b1**t) / precond
        if t % 10 == 0:
            want.append(np.max(h / precond))
    np.testing.assert_allclose(run.preconditioned_sharpness[0], want, rtol=1e-10)
    assert run.losses.shape == (1, 21)


@pytest.mark.parametrize("call, match", [
    (lambda: optimizers.nqm_step_decay_time(alpha=0.1, gamma=1.5, h=1.0, c=1.0, B=1.0, e0=10.0), "gamma"),
    (lambda: optimizers.nqm_step_decay_time(alpha=0.1, gamma=0.1, h=1.0, c=1.0, B=0.5, e0=10.0), "'B'"),
    (lambda: optimizers.adam_noise_rms_update_finite_beta2(eta=0.1, beta1=0.5, beta2=1.0), "'beta2'"),
    (lambda: optimizers.scheduled_expected_loss([-0.1], [1.0], [1.0], 1.0, 1.0), "lrs"),
    (lambda: optimizers.best_step_decay(0.1, 1.0, 10, [1.0], [1.0], 1.0, 1.0), "gamma"),
    (lambda: sim.adam_preconditioned_sharpness(_diagonal_quadratic, np.ones(2), (np.ones(2),), [0.0]), "etas"),
    (lambda: sim.nqm_scheduled_sgd(jax.random.key(0), [1.0], 1.0, 1.0, 0.5, [0.1], chains=4), "batch"),
])
def test_new_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()
