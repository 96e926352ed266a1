"""analytic.adagrad against the ODE it solves and stated forms; numeric.adagrad against a numpy loop."""

import numpy as np
import pytest
import sympy as sp

from analytic import adagrad
from analytic.adagrad._symbols import accumulator0, current, offset, start
from analytic.symbols import eta, lam
from numeric import adagrad as sim


def test_accumulator_root_is_the_issues_formula_and_solves_the_ode():
    stated = sp.sqrt(accumulator0) + lam * (start**2 - current**2) / (4 * eta)  # issue 30's form: confirmed
    assert sp.simplify(adagrad.adagrad_accumulator_root.expr - stated) == 0
    # along the ODE dx/dt = -eta lam x / S: dS/dt = lam^2 x^2 / (2 S)
    s_of_x = adagrad.adagrad_accumulator_root.expr
    dS_dt = sp.diff(s_of_x, current) * (-eta * lam * current / s_of_x)
    assert sp.simplify(dS_dt - lam**2 * current**2 / (2 * s_of_x)) == 0


def test_time_is_the_integral_of_the_inverse_speed():
    time = adagrad.adagrad_time.expr
    s_of_x = adagrad.adagrad_accumulator_root.expr
    assert sp.simplify(sp.diff(time, current) + s_of_x / (eta * lam * current)) == 0  # dt/dx = -S/(eta lam x)
    assert sp.simplify(time.subs(current, start)) == 0


def test_stable_time_matches_the_expression_near_the_start():
    kw = dict(eta=0.01, lam=2.0, accumulator0=1e-4, start=1.0)
    near = np.array([1 - 1e-9, 1 - 1e-5, 0.95, 0.5, 1e-3])
    exact = [float(adagrad.adagrad_time.expr.subs({eta: sp.Rational(1, 100), lam: 2, accumulator0: sp.Rational(1, 10**4),
                                                    start: 1, current: sp.Float(v, 40)}).evalf(30)) for v in near]
    np.testing.assert_allclose(np.asarray(adagrad.adagrad_time(current=near, **kw)), exact, rtol=1e-12)


def test_rmsprop_amplitude_is_a_two_cycle():
    a = adagrad.rmsprop_cycle_amplitude.expr
    assert sp.simplify(eta * lam * a / (lam * a + offset) - 2 * a) == 0


def test_numeric_runs_against_numpy():
    x, g2 = np.array([1.0, -0.5]), np.full(2, 0.3)
    curvature = np.array([2.0, 0.5])
    for _ in range(5):
        g = curvature * x
        g2 = g2 + g**2
        x = x - 0.1 * g / np.sqrt(g2)
    run = sim.adagrad_run(curvature, [1.0, -0.5], 0.1, 0.3, 5)
    np.testing.assert_allclose(np.asarray(run.positions[-1]), x, rtol=1e-13)
    np.testing.assert_allclose(np.asarray(run.accumulator_roots[-1]), np.sqrt(g2), rtol=1e-13)
    with pytest.raises(ValueError, match="decay"):
        sim.rmsprop_run([1.0], [1.0], 0.1, 1.0, 0.0, 3)
    with pytest.raises(ValueError, match="learning_rate"):
        sim.adagrad_run([1.0], [1.0], -0.1, 0.0, 3)


def test_regret_bound_minimum_over_the_learning_rate():
    from analytic.adagrad._symbols import diameter, gradient_norm_sum

    bound = adagrad.adagrad_regret_bound.expr
    (best,) = sp.solve(sp.diff(bound, eta), eta)
    assert sp.simplify(best - diameter / sp.sqrt(2)) == 0
    assert sp.simplify(bound.subs(eta, best) - sp.sqrt(2) * diameter * gradient_norm_sum) == 0


def test_expected_regret_against_quadrature_of_the_half_normal():
    from scipy import integrate, stats

    t, radius, scale = 50.0, 0.7, 1.3
    sd = scale * np.sqrt(t)
    mean_abs = 2 * integrate.quad(lambda s: s * stats.norm.pdf(s, scale=sd), 0, np.inf)[0]
    # quad's absolute error ~1e-12 on a value ~10: 1e-10 relative
    assert float(adagrad.expected_online_regret(t=t, radius=radius, gradient_scale=scale)) == pytest.approx(
        radius * mean_abs, rel=1e-10)


def test_online_adagrad_against_a_numpy_loop():
    run = sim.adagrad_online_linear(5, [1.0, 2.0], 0.5, 0.3, 4, 2, block=2)
    g = np.random.default_rng(5).standard_normal((4, 2, 2)) * np.array([1.0, 2.0])
    for r in range(2):
        x, g2, loss, total = np.zeros(2), np.zeros(2), 0.0, np.zeros(2)
        for t in range(4):
            loss += g[t, r] @ x
            g2 += g[t, r] ** 2
            total += g[t, r]
            x = np.clip(x - 0.3 * g[t, r] / np.sqrt(g2), -0.5, 0.5)
        assert float(run.regret[r, -1]) == pytest.approx(loss + 0.5 * np.abs(total).sum(), rel=1e-13)
        assert float(run.gradient_norm_sums[r, -1]) == pytest.approx(np.sqrt(g2).sum(), rel=1e-13)
    with pytest.raises(ValueError, match="multiple of block"):
        sim.adagrad_online_linear(0, [1.0], 1.0, 1.0, 10, 2, block=4)
