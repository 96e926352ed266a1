"""analytic.maml against stated forms and independent computations; numeric.maml against numpy."""

import numpy as np
import pytest
import sympy as sp

from analytic import maml
from analytic.maml._symbols import (inner_steps, query_curvature, query_mean, query_optimum, support_mean,
                                    support_optimum, theta)
from analytic.symbols import eta, lam
from numeric import maml as sim

c = (1 - eta * lam) ** inner_steps
adapted = support_optimum + c * (theta - support_optimum)


def _at_points(expr, seed=0):
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(4):
        point = {eta: sp.Rational(int(rng.integers(1, 9)), 10), lam: sp.Rational(int(rng.integers(0, 30)), 10),
                 query_curvature: sp.Rational(int(rng.integers(1, 20)), 7), inner_steps: int(rng.integers(1, 6)),
                 theta: sp.Rational(int(rng.integers(-9, 9)), 5), support_optimum: sp.Rational(int(rng.integers(-9, 9)), 3),
                 query_optimum: sp.Rational(int(rng.integers(-9, 9)), 4), support_mean: sp.Rational(1, 3),
                 query_mean: sp.Rational(-2, 5)}
        out.append(sp.nsimplify(expr.subs(point)))
    return set(out)


def test_forms_are_the_stated_ones():
    assert _at_points(maml.adapted.expr - adapted) == {0}
    assert _at_points(maml.meta_gradient.expr - c * query_curvature * (adapted - query_optimum)) == {0}
    assert _at_points(maml.first_order_meta_gradient.expr - query_curvature * (adapted - query_optimum)) == {0}
    assert _at_points(maml.first_order_bias.expr - (1 - c) * query_curvature * (adapted - query_optimum)) == {0}
    assert _at_points(maml.meta_curvature.expr - query_curvature * c**2) == {0}
    assert _at_points(maml.meta_optimum.expr - (support_mean + (query_mean - support_mean) / c)) == {0}


def test_meta_gradient_by_numpy_chain_rule_and_finite_differences():
    eta_v, lam_v, q, a, b, th = 0.3, 2.5, 0.7, 0.4, -1.1, 1.3  # eta lam = 0.75

    def query_after(t, steps):
        for _ in range(steps):
            t = t - eta_v * lam_v * (t - a)
        return q / 2 * (t - b) ** 2

    for steps in (1, 3):
        want = (query_after(th + 1e-6, steps) - query_after(th - 1e-6, steps)) / 2e-6
        got = float(maml.meta_gradient(theta=th, support_optimum=a, query_optimum=b, eta=eta_v, lam=lam_v,
                                       query_curvature=q, inner_steps=steps))
        assert np.isclose(got, want, rtol=1e-8)  # central difference: ~1e-11 truncation and rounding


def test_meta_optimum_minimises_the_empirical_meta_loss_by_numpy_grid():
    rng = np.random.default_rng(0)
    a, b = 0.5 + rng.normal(size=50), -1 + rng.normal(size=50)
    eta_v, lam_v, steps = 0.3, 2.0, 2
    cc = (1 - eta_v * lam_v) ** steps
    grid = np.linspace(-20, 20, 400001)
    loss = np.mean((cc * grid[:, None] + (1 - cc) * a - b) ** 2, axis=1)
    got = float(maml.meta_optimum(support_mean=a.mean(), query_mean=b.mean(), eta=eta_v, lam=lam_v, inner_steps=steps))
    assert abs(grid[np.argmin(loss)] - got) <= 1e-4  # grid spacing 1e-4
    assert float(maml.meta_curvature(eta=0.5, lam=2.0, query_curvature=1.0, inner_steps=3)) == 0.0


def test_matrix_composite_reduces_to_the_formulas_on_diagonal_tasks_and_matches_numeric():
    hs, hq = np.diag([0.5, 2.0, 3.0]), np.diag([1.0, 0.3, 2.0])
    a, b, th = np.array([0.1, -0.4, 1.0]), np.array([1.0, 0.0, -2.0]), np.array([0.5, 0.5, 0.5])
    got = maml.task_meta_gradient(th, hs, a, hq, b, 0.4, 3)
    want = maml.meta_gradient(theta=th, support_optimum=a, query_optimum=b, eta=0.4, lam=np.diag(hs),
                              query_curvature=np.diag(hq), inner_steps=3)
    np.testing.assert_allclose(got, want, rtol=1e-12)
    rng = np.random.default_rng(1)
    m = rng.normal(size=(3, 3))
    hs2 = m @ m.T / 3 + 0.1 * np.eye(3)
    run = sim.meta_gradients(th[None], (hs2[None], a[None], hq[None], b[None]), 0.4, [2])
    np.testing.assert_allclose(run.exact[0, 0], maml.task_meta_gradient(th, hs2, a, hq, b, 0.4, 2), rtol=1e-12)
    np.testing.assert_allclose(run.first_order[0, 0], maml.task_meta_gradient(th, hs2, a, hq, b, 0.4, 2, True),
                               rtol=1e-12)


def test_meta_training_reaches_the_numpy_least_squares_optimum():
    rng = np.random.default_rng(2)
    a, b = rng.normal(size=(20, 1)), rng.normal(size=(20, 1))
    tasks = (np.full((20, 1, 1), 1.0), a, np.full((20, 1, 1), 1.0), b)
    out = sim.meta_train(np.zeros((1, 1)), tasks, np.array([0.5]), np.array([1]), 3.0, 300)
    cc = 0.5
    np.testing.assert_allclose(out.theta[0, 0], np.mean(b - (1 - cc) * a) / cc, rtol=1e-10)  # 300 steps: 0.25^300
    np.testing.assert_allclose(out.hessian[0, 0, 0], cc**2, rtol=1e-12)


@pytest.mark.parametrize("call, error, match", [
    (lambda: maml.meta_gradient(theta=1.0, support_optimum=0.0, query_optimum=0.0, eta=-0.1, lam=1.0,
                                query_curvature=1.0, inner_steps=1), ValueError, "'eta' = -0.1"),
    (lambda: maml.adapted(theta=1.0, support_optimum=0.0, eta=0.1, lam=1.0, inner_steps=0), ValueError,
     "'inner_steps' = 0"),
    (lambda: maml.task_meta_gradient([1.0], [[1.0, 0.0]], [0.0], [[1.0]], [0.0], 0.1, 1), ValueError,
     "support_curvature must be"),
    (lambda: maml.task_meta_gradient([1.0], [[1.0]], [0.0], [[1.0]], [0.0], 0.0, 1), ValueError, "learning_rate"),
    (lambda: sim.meta_gradients(np.ones((1, 1)), (np.ones((1, 1, 1)), np.zeros((1, 1)), np.ones((1, 1, 1)),
                                                  np.zeros((1, 2))), 0.1, [1]), ValueError, "tasks must be"),
    (lambda: sim.meta_gradients(np.ones((1, 1)), (np.ones((1, 1, 1)), np.zeros((1, 1)), np.ones((1, 1, 1)),
                                                  np.zeros((1, 1))), 0.1, [-1]), ValueError, "inner_steps"),
    (lambda: sim.meta_train(np.ones((1, 1)), (np.ones((1, 1, 1)), np.zeros((1, 1)), np.ones((1, 1, 1)),
                                              np.zeros((1, 1))), [0.1], [1], 1.0, 0), ValueError, "outer_steps"),
])
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()
