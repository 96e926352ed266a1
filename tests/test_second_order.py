"""analytic.second_order against stated forms and independent computations; numeric.second_order against numpy."""

import numpy as np
import pytest
import sympy as sp

from analytic import second_order
from analytic.second_order._symbols import cubic, damping, error, rayleigh, shrink, step, sufficient_decrease
from analytic.symbols import L, kappa, lam, mu, t
from numeric import second_order as sim

r = (sp.sqrt(kappa) - 1) / (sp.sqrt(kappa) + 1)


def test_cg_forms_are_the_textbook_ones():
    assert sp.simplify(second_order.cg_error_bound.expr - 2 * r**t) == 0  # Nocedal & Wright (5.36)
    chebyshev = sp.chebyshevt(5, (kappa + 1) / (kappa - 1))  # sympy's own T_5
    assert sp.simplify(second_order.cg_minimax_error.expr.subs(t, 5) - 1 / chebyshev) == 0
    assert sp.simplify(second_order.cg_residual_bound.expr - sp.sqrt(kappa) * second_order.cg_error_bound.expr) == 0


def test_cg_minimax_is_below_the_bound_by_one_plus_r_to_the_2t():
    kappas, steps = np.array([1.0, 2.0, 10.0, 1e4, 1e8]), np.array([0.0, 1.0, 7.0, 50.0, 3000.0])
    k, s = np.meshgrid(kappas, steps)
    ratio = (np.sqrt(k) - 1) / (np.sqrt(k) + 1)
    minimax = np.asarray(second_order.cg_minimax_error.jax(k, s))
    np.testing.assert_allclose(np.asarray(second_order.cg_error_bound.jax(k, s)), minimax * (1 + ratio ** (2 * s)),
                               rtol=1e-12)  # float64 round-off
    assert np.all(np.isfinite(minimax)) and np.all(minimax <= 1)


def test_armijo_forms():
    assert sp.simplify(second_order.armijo_step_threshold.expr - 2 * (1 - sufficient_decrease) / rayleigh) == 0
    # Armijo holds (gap <= 0) exactly below the threshold: check the quadratic's sign on both sides
    gap = -step + step**2 / 2 * rayleigh + sufficient_decrease * step
    point = {rayleigh: sp.Rational(3, 2), sufficient_decrease: sp.Rational(1, 4)}
    edge = second_order.armijo_step_threshold.expr.subs(point)
    assert gap.subs(point).subs(step, edge * sp.Rational(99, 100)) < 0 < gap.subs(point).subs(step, edge * 1.01)
    rate = second_order.armijo_contraction.expr.subs(step, second_order.armijo_min_step.expr)
    assert sp.simplify(second_order.armijo_rate_bound.expr - rate) == 0
    # sharper than Boyd & Vandenberghe's min(1, beta/M) (eq. 9.19) because 2(1 - c) > 1 for c < 1/2
    bv = 1 - 2 * mu * sufficient_decrease * sp.Min(1, shrink / L)
    for values in [(0.1, 10.0, 0.3, 0.5), (1.0, 1.5, 0.45, 0.9), (0.01, 100.0, 0.01, 0.1)]:
        point = dict(zip((mu, L, sufficient_decrease, shrink), values))
        assert float(second_order.armijo_rate_bound.expr.subs(point)) <= float(bv.subs(point))


def test_damped_newton_map_is_the_newton_step_and_quadratic():
    f = lam / 2 * error**2 + cubic / 6 * error**3
    step_taken = error - sp.diff(f, error) / (sp.diff(f, error, 2) + damping)
    assert sp.simplify(second_order.damped_newton_error.expr - step_taken) == 0
    newton = second_order.damped_newton_error.expr.subs(damping, 0)
    assert sp.limit(newton / error**2, error, 0) == cubic / (2 * lam)  # quadratic convergence constant
    assert sp.limit(second_order.damped_newton_error.expr / error, error, 0) == damping / (lam + damping)


def test_conjugate_gradient_solves_and_matches_numpy():
    rng = np.random.default_rng(0)
    q, _ = np.linalg.qr(rng.normal(size=(6, 6)))
    matrix = (q * np.array([1.0, 2.0, 3.0, 5.0, 8.0, 13.0])) @ q.T
    rhs = rng.normal(size=6)
    run = sim.conjugate_gradient(matrix[None], rhs[None], 8)
    np.testing.assert_allclose(np.asarray(run.iterates[0, 6]), np.linalg.solve(matrix, rhs), rtol=1e-10)
    np.testing.assert_allclose(np.asarray(run.iterates[0, 8]), np.asarray(run.iterates[0, 6]), atol=1e-12)  # stays
    assert np.all(np.isfinite(np.asarray(run.iterates)))  # no 0/0 after exact convergence


def test_backtracking_and_newton_inputs_are_checked():
    with pytest.raises(ValueError, match="sufficient_decrease"):
        sim.backtracking_descent(np.eye(2)[None], np.zeros((1, 2)), np.ones((1, 2)), 3, 0.7, 0.5)
    with pytest.raises(ValueError, match="shrink"):
        sim.backtracking_descent(np.eye(2)[None], np.zeros((1, 2)), np.ones((1, 2)), 3, 0.3, 1.0)
    with pytest.raises(ValueError, match="steps"):
        sim.conjugate_gradient(np.eye(2)[None], np.ones((1, 2)), 0)
    with pytest.raises(ValueError, match="damping"):
        sim.hessian_free_newton(np.eye(2), np.zeros(2), np.ones(2), 2, 2, damping=-1.0)
    with pytest.raises(ValueError, match="kappa"):
        second_order.cg_error_bound(kappa=0.5, t=2)


def test_hessian_free_newton_matches_dense_newton():
    rng = np.random.default_rng(1)
    q, _ = np.linalg.qr(rng.normal(size=(4, 4)))
    matrix, cubic_terms, x = (q * np.array([1.0, 2.0, 4.0, 6.0])) @ q.T, rng.uniform(-0.3, 0.3, 4), rng.normal(size=4) * 0.2
    run = sim.hessian_free_newton(matrix, cubic_terms, x, 1, 4, damping=0.05)
    gradient = matrix @ x + cubic_terms * x**2 / 2
    dense = x - np.linalg.solve(matrix + np.diag(cubic_terms * x) + 0.05 * np.eye(4), gradient)
    np.testing.assert_allclose(np.asarray(run.iterates[1]), dense, rtol=1e-9, atol=1e-12)  # float64 round-off
