"""analytic.bilevel against stated forms and independent computations; numeric.bilevel against numpy."""

import numpy as np
import pytest
import sympy as sp

import jax
from analytic import bilevel
from analytic.bilevel._symbols import K, T, b, m0, noise, ridge, second_moment, w0
from analytic.symbols import alpha, eta, lam, t
from numeric import bilevel as sim

a = lam + ridge
r = 1 - eta * a


def _at_random_points(expr, seed=0, count=4, integers=(T, K)):
    """``expr`` at exact rational points (integers for T, K with K <= T): zero means equal."""
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(count):
        point = {eta: sp.Rational(int(rng.integers(1, 9)), 10), lam: sp.Rational(int(rng.integers(0, 30)), 10),
                 ridge: sp.Rational(int(rng.integers(1, 20)), 10), b: sp.Rational(int(rng.integers(-20, 20)), 7),
                 w0: sp.Rational(int(rng.integers(-20, 20)), 3), T: int(rng.integers(3, 12))}
        point[K] = int(rng.integers(1, point[T] + 1))
        values.append(sp.nsimplify(expr.subs(point)))
    return values


def test_ift_is_the_derivative_of_the_ridge_solution():
    assert bilevel.ridge_weight.expr == b / a
    assert sp.simplify(bilevel.ift_sensitivity.expr - sp.diff(bilevel.ridge_weight.expr, ridge)) == 0


def test_unrolled_forms_and_their_bias_as_powers_of_one_minus_eta_a():
    assert sp.simplify(bilevel.unrolled_weight.expr - (b / a + (w0 - b / a) * r**T)) == 0
    stated = -b / a**2 * (1 - r**T) - eta * T * r ** (T - 1) * (w0 - b / a)
    assert set(_at_random_points(bilevel.unrolled_sensitivity.expr - stated)) == {0}
    # the sensitivity is the ridge-derivative of the unrolled weight
    assert set(_at_random_points(sp.diff(bilevel.unrolled_weight.expr, ridge)
                                 - bilevel.unrolled_sensitivity.expr, seed=1)) == {0}
    bias = b / a**2 * r**T - eta * T * r ** (T - 1) * (w0 - b / a)
    assert set(_at_random_points(bilevel.unrolled_sensitivity.expr - bilevel.ift_sensitivity.expr - bias,
                                 seed=2)) == {0}


def test_truncated_form_and_full_backprop_limit():
    stated = -b / a**2 * (1 - r**K) - eta * K * r ** (T - 1) * (w0 - b / a)
    assert set(_at_random_points(bilevel.truncated_sensitivity.expr - stated)) == {0}
    full = bilevel.truncated_sensitivity.expr.subs(K, T) - bilevel.unrolled_sensitivity.expr
    assert set(_at_random_points(full, seed=3)) == {0}


def test_unrolled_tends_to_ift():
    kw = dict(eta=0.3, lam=np.array([0.2, 1.0, 3.0]), ridge=0.4, b=np.array([1.0, -2.0, 0.5]), w0=0.7)
    far = np.asarray(bilevel.unrolled_sensitivity(T=2000, **kw))
    np.testing.assert_allclose(far, np.asarray(bilevel.ift_sensitivity(**{k: kw[k] for k in ("lam", "ridge", "b")})),
                               rtol=1e-12)


def test_greedy_rate_is_wu_et_al_form_and_one_step_optimal():
    assert bilevel.greedy_lr_numerator.expr == lam**2 * second_moment
    assert sp.expand(bilevel.greedy_lr_denominator.expr - (lam**3 * second_moment + lam * noise)) == 0
    next_loss = lam / 2 * bilevel.next_second_moment.expr
    greedy = bilevel.greedy_lr_numerator.expr / bilevel.greedy_lr_denominator.expr
    assert sp.simplify(sp.diff(next_loss, alpha).subs(alpha, greedy)) == 0
    assert sp.simplify(bilevel.greedy_schedule_1d.expr - lam * m0 / (lam**2 * m0 * (t + 1) + noise)) == 0


def test_greedy_schedule_composite_matches_1d_closed_form_and_numpy_line_search():
    rates, losses = bilevel.greedy_schedule([2.0], [0.5], [1.0], steps=20)
    np.testing.assert_allclose(rates, bilevel.greedy_schedule_1d(lam=2.0, noise=0.5, m0=1.0, t=np.arange(20.0)),
                               rtol=1e-12)
    lam_values, noise_values = np.array([1.0, 0.1]), np.array([1.0, 0.1])
    rates, losses = bilevel.greedy_schedule(lam_values, noise_values, 1.0, steps=5)
    m, grid = np.ones(2), np.linspace(0, 2, 200001)
    for k in range(5):  # brute-force grid search of the next expected loss, in numpy
        next_loss = 0.5 * ((1 - grid[:, None] * lam_values) ** 2 * m + grid[:, None] ** 2 * noise_values) @ lam_values
        best = grid[np.argmin(next_loss)]
        assert abs(best - rates[k]) <= 1e-5
        m = (1 - rates[k] * lam_values) ** 2 * m + rates[k] ** 2 * noise_values
        assert np.isclose(losses[k + 1], 0.5 * lam_values @ m, rtol=1e-12)


def _data(seed=0):
    rng = np.random.default_rng(seed)
    x, xv = rng.normal(size=(12, 3)), rng.normal(size=(9, 3))
    return x, rng.normal(size=12), xv, rng.normal(size=9)


def _numpy_loss(data, ridge_early, ridge_late, eta_value, steps, last, start):
    x, y, xv, yv = data
    w = np.array(start, dtype=float)
    for k in range(steps):
        rho = ridge_late if k >= steps - last else ridge_early
        w = w - eta_value * (x.T @ (x @ w - y) / len(y) + rho * w)
    return np.sum((xv @ w - yv) ** 2) / (2 * len(yv))


@pytest.mark.parametrize("method, extra", [("implicit", {}), ("unrolled", dict(steps=7)),
                                           ("truncated", dict(steps=7, truncate=3))])
def test_ridge_hypergradient_matches_numpy_finite_differences(method, extra):
    data, start, h = _data(), np.array([0.3, -0.2, 0.5]), 1e-5
    if method == "implicit":
        x, y, xv, yv = data

        def loss(rho):
            w = np.linalg.solve(x.T @ x / 12 + rho * np.eye(3), x.T @ y / 12)
            return np.sum((xv @ w - yv) ** 2) / 18

        want = (loss(0.2 + h) - loss(0.2 - h)) / (2 * h)
        got = bilevel.ridge_hypergradient(*data, 0.2)
    else:
        last = extra.get("truncate", extra["steps"])
        want = (_numpy_loss(data, 0.2, 0.2 + h, 0.3, extra["steps"], last, start)
                - _numpy_loss(data, 0.2, 0.2 - h, 0.3, extra["steps"], last, start)) / (2 * h)
        got = bilevel.ridge_hypergradient(*data, 0.2, method, eta=0.3, w0=start, **extra)
    assert np.isclose(got, want, rtol=1e-7)  # central difference: ~1e-10 truncation and rounding


def test_numeric_hypergradients_match_numpy_and_truncation_limits():
    data, start = _data(1), np.array([0.1, 0.4, -0.3])
    run = sim.ridge_hypergradients(data, 0.2, 0.3, [0, 4, 4, 9], [0, 4, 1, 2], w0=start)
    h = 1e-5
    for k, (steps, last) in enumerate([(0, 0), (4, 4), (4, 1), (9, 2)]):
        want = (_numpy_loss(data, 0.2, 0.2 + h, 0.3, steps, last, start)
                - _numpy_loss(data, 0.2, 0.2 - h, 0.3, steps, last, start)) / (2 * h)
        assert np.isclose(run.hypergradient[k], want, rtol=1e-7, atol=1e-11)
        assert np.isclose(run.validation_loss[k], _numpy_loss(data, 0.2, 0.2, 0.3, steps, last, start), rtol=1e-12)


def test_numeric_nqm_schedules():
    lam_values = np.array([1.0, 0.05])
    greedy = np.asarray(sim.greedy_schedule_by_line_search(lam_values, lam_values, 1.0, 12))
    optimal = sim.horizon_optimal_schedule(lam_values, lam_values, 1.0, 12, initial_lr=float(greedy[0]))
    final = [float(sim.nqm_expected_losses(lam_values, lam_values, 1.0, s)[-1]) for s in (greedy, optimal)]
    assert final[1] < final[0]  # the horizon-optimal schedule wins at its horizon
    run = sim.sgd_with_schedule(jax.random.key(0), lam_values, lam_values, 1.0, greedy, chains=2000)
    exact = np.asarray(sim.nqm_expected_losses(lam_values, lam_values, 1.0, greedy))
    assert np.all(np.abs(np.asarray(run.loss_mean) - exact) <= 5 * np.asarray(run.loss_sem) + 1e-12)  # 5 SE


@pytest.mark.parametrize("call, error, match", [
    (lambda: bilevel.ridge_hypergradient(*_data(), 0.2, "newton"), ValueError, "method must be one of"),
    (lambda: bilevel.ridge_hypergradient(*_data(), -0.2), ValueError, "'ridge' = -0.2"),
    (lambda: bilevel.ridge_hypergradient(*_data(), 0.2, "unrolled", eta=0.3), ValueError, "needs eta and steps"),
    (lambda: bilevel.ridge_hypergradient(*_data(), 0.2, "truncated", eta=0.3, steps=5), ValueError, "truncate"),
    (lambda: bilevel.ridge_hypergradient(*_data(), 0.2, "truncated", eta=0.3, steps=5, truncate=7),
     ValueError, "K <= T"),
    (lambda: bilevel.ridge_hypergradient(*_data(), 0.2, "unrolled", eta=0.3, steps=2.5), ValueError, "'T' = 2.5"),
    (lambda: bilevel.ridge_hypergradient(np.ones(3), np.ones(3), np.ones((2, 3)), np.ones(2), 0.1),
     ValueError, "x_train must be a finite 2-D array"),
    (lambda: bilevel.ridge_hypergradient(np.ones((3, 2)), np.ones(4), np.ones((2, 2)), np.ones(2), 0.1),
     ValueError, "y_train must be a finite 1-D array of length 3"),
    (lambda: bilevel.greedy_schedule([1.0], [-1.0], [1.0], 3), ValueError, "'noise' = -1"),
    (lambda: bilevel.greedy_schedule([1.0], [1.0], [1.0], 0), ValueError, "steps must be an integer >= 1"),
    (lambda: bilevel.greedy_schedule_1d(lam=1.0, noise=0.0, m0=1.0, t=1.0), ValueError, "'noise' = 0"),
])
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


@pytest.mark.parametrize("call, match", [
    (lambda: sim.ridge_hypergradients(_data(), 0.0, 0.3, 5), "ridge"),
    (lambda: sim.ridge_hypergradients(_data(), 0.1, 0.3, 5, 6), "truncate"),
    (lambda: sim.ridge_hypergradients(_data(), 0.1, 0.3, -1), "steps"),
    (lambda: sim.ridge_hypergradients(_data()[:3] + (np.ones(4),), 0.1, 0.3, 5), "data must be"),
    (lambda: sim.greedy_schedule_by_line_search([1.0], [1.0], [1.0], 0), "steps"),
    (lambda: sim.horizon_optimal_schedule([1.0], [0.0], [1.0], 5, 0.5), "noise"),
    (lambda: sim.sgd_with_schedule(jax.random.key(0), [1.0], [1.0], [1.0], [0.1], chains=1), "chains"),
])
def test_numeric_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()
