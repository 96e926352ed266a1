"""analytic.deeplinear against published forms and mpmath; numeric.deeplinear; the verify checks pass.

That each check rejects a wrong Formula is tests/test_negative_controls.py (universal).
"""

import jax
import mpmath as mp
import numpy as np
import pytest
import sympy as sp

from analytic import deeplinear
from analytic.deeplinear._hypergeometric import _hyp2f1_one_jax
from analytic.deeplinear._symbols import N, s, sigma, sigma0, sigmaf, tau, u0, uf
from analytic.symbols import t
from numeric import deeplinear as sim
from verify.checks import deeplinear as checks
from verify.core import Context


# --- derived expressions equal the published forms (symbolic) ------------------
def test_saxe_solution_is_the_published_sigmoid_and_solves_the_ode():
    f = deeplinear.saxe_mode_strength
    assert f.derived
    e = sp.exp(2 * s * t / tau)
    published = s * e / (e - 1 + s / u0)  # Saxe et al. 2013, two-layer solution
    assert sp.simplify(f.expr - published) == 0
    assert sp.simplify(tau * sp.diff(f.expr, t) - 2 * f.expr * (s - f.expr)) == 0  # tau du/dt = 2u(s-u)
    assert f.expr.subs(t, 0) == u0


def test_saxe_learning_time_is_published_form():
    published = tau / (2 * s) * sp.log(uf * (s - u0) / (u0 * (s - uf)))
    got = deeplinear.saxe_learning_time.expr
    assert sp.simplify(sp.expand_log(got - published, force=True)) == 0
    assert float(deeplinear.saxe_learning_time(s=2.0, u0=0.01, uf=1.0, tau=3.0)) == pytest.approx(
        3.0 / 4.0 * np.log(1.0 * 1.99 / (0.01 * 1.0)), rel=1e-14)


def test_arora_rate_is_published_form_and_depth_2_is_saxe():
    rate = deeplinear.arora_singular_value_rate.expr
    assert sp.simplify(rate - N * sigma ** (2 - 2 / N) * (s - sigma)) == 0  # Arora et al. 2018
    assert sp.simplify(rate.subs(N, 2) - 2 * sigma * (s - sigma)) == 0  # = Saxe with tau = 1
    assert sp.simplify(rate.subs(N, 1) - (s - sigma)) == 0  # depth 1: linear model


def test_linear_and_symmetric_solutions():
    lin = deeplinear.linear_mode_strength.expr
    assert sp.simplify(lin - (s - (s - sigma0) * sp.exp(-t))) == 0  # exponential, no plateau
    b = deeplinear.symmetric_eigenvalue.expr
    assert sp.simplify(sp.diff(b, t) - b * (s - b)) == 0  # db/dt = sqrt(b)(s - b)sqrt(b)
    # the same logistic as a two-layer mode with tau = 2
    assert sp.simplify(b - deeplinear.saxe_mode_strength.expr.subs({tau: 2, u0: sigma0})) == 0


def test_arora_learning_time_derivative_is_one_over_the_rate():
    expr = deeplinear.arora_learning_time.expr.args[1][0]  # the N != 2 branch
    d = sp.diff(expr, sigmaf)
    for depth, sv, target in [(3, 1.5, 0.7), (4, 2.0, 1.9), (6, 1.0, 0.3)]:
        at = {N: depth, s: sv, sigma0: 0.01, sigmaf: target}
        want = 1 / (depth * target ** (2 - 2 / depth) * (sv - target))
        assert float(d.subs(at).evalf(30)) == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize("depth", [1, 2, 3, 4, 5, 6])
def test_arora_learning_time_matches_mpmath_quadrature(depth):
    mp.mp.dps = 30
    for sv, a, b in [(1.0, 0.01, 0.5), (3.0, 1e-4, 2.99), (0.5, 0.2, 0.3)]:
        want = mp.quad(lambda x: 1 / (depth * x ** (2 - mp.mpf(2) / depth) * (sv - x)), [a, (a + b) / 2, b])
        got = float(deeplinear.arora_learning_time(N=depth, s=sv, sigma0=a, sigmaf=b))
        assert got == pytest.approx(float(want), rel=1e-11)  # float64 series; mpmath at 30 digits
        if depth == 2:  # the N = 2 branch is Saxe's time with tau = 1
            assert got == pytest.approx(float(deeplinear.saxe_learning_time(s=sv, u0=a, uf=b, tau=1.0)), rel=1e-13)
        # closed form evaluated by mpmath through the sympy rewrite to hyper
        expr = deeplinear.arora_learning_time.expr.subs({N: depth, s: sv, sigma0: a, sigmaf: b})
        assert float(sp.N(expr.rewrite(sp.hyper), 25)) == pytest.approx(float(want), rel=1e-15)


def test_hyp2f1_one_matches_mpmath():
    worst = 0.0
    hyp2f1 = jax.jit(_hyp2f1_one_jax)  # one program for the 35 points (eager: one per primitive)
    for b in (1.0, 0.5, -1 / 3, -0.5, -2 / 3):
        for x in (1e-8, 0.3, 0.5, 0.5 + 1e-9, 0.9, 1 - 1e-6, 1 - 1e-14):
            got = float(hyp2f1(np.float64(b), np.float64(x)))
            want = float(mp.hyp2f1(1, b, b + 1, x))
            worst = max(worst, abs(got - want) / abs(want))
    assert worst < 1e-13  # both series truncated below 2^-64; round-off of ~64 terms


# --- the JAX inversion against an independent ODE solve -------------------------
@pytest.mark.parametrize("depth", [3, 4, 6])
def test_arora_singular_value_inverts_the_time_integral(depth):
    mp.mp.dps = 20
    sv, start = 2.0, 0.01
    times = np.array([0.5, 2.0, 4.0, 6.0])
    got = np.asarray(deeplinear.arora_singular_value(depth, sv, start, times))
    # the time to reach got[i], by mpmath quadrature of 1 / rate, must be times[i]
    spent = [float(mp.quad(lambda x: 1 / (depth * x ** (2 - mp.mpf(2) / depth) * (sv - x)), [start, g]))
             for g in got]
    rate = np.array([depth * g ** (2 - 2 / depth) * (sv - g) for g in got])
    # a time error dt is a singular-value error rate * dt: demand float64-level accuracy in sigma
    assert np.max(np.abs(np.array(spent) - times) * rate) < 1e-12 * sv
    assert deeplinear.arora_singular_value(depth, sv, start, 0.0) == start


def test_arora_singular_value_low_depths_closed_forms_and_gradient():
    times = np.linspace(0.0, 5.0, 7)
    np.testing.assert_allclose(deeplinear.arora_singular_value(1, 1.5, 0.1, times),
                               1.5 - 1.4 * np.exp(-times), rtol=1e-14)
    np.testing.assert_allclose(deeplinear.arora_singular_value(2, 1.5, 0.1, times),
                               deeplinear.saxe_mode_strength(s=1.5, u0=0.1, tau=1.0, t=times), rtol=1e-14)
    grid = deeplinear.arora_singular_value(np.array([[1], [2], [3]]), 1.5, 0.1, times)  # N broadcasts
    assert grid.shape == (3, 7)
    value = lambda x: deeplinear.arora_singular_value(4, 1.0, 0.01, x)
    sig = float(value(3.0))
    assert float(jax.grad(value)(3.0)) == pytest.approx(4 * sig**1.5 * (1 - sig), rel=1e-8)  # = the rate


# --- bad input ----------------------------------------------------------------------
@pytest.mark.parametrize("call, match", [
    (lambda: deeplinear.arora_singular_value(0, 1.0, 0.1, 1.0), "depth N"),
    (lambda: deeplinear.arora_singular_value(2.5, 1.0, 0.1, 1.0), "depth N"),
    (lambda: deeplinear.arora_singular_value(3, -1.0, 0.1, 1.0), "'s'"),
    (lambda: deeplinear.arora_singular_value(3, 1.0, 1.0, 1.0), "sigma0 < s"),
    (lambda: deeplinear.arora_singular_value(3, 1.0, 0.0, 1.0), "'sigma0'"),
    (lambda: deeplinear.arora_singular_value(3, 1.0, 0.1, -1.0), "'t'"),
    (lambda: deeplinear.saxe_mode_strength(s=0.0, u0=0.1, tau=1.0, t=1.0), "'s'"),
    (lambda: deeplinear.saxe_mode_strength(s=1.0, u0=-0.1, tau=1.0, t=1.0), "'u0'"),
    (lambda: deeplinear.saxe_mode_strength(s=1.0, u0=0.1, tau=0.0, t=1.0), "'tau'"),
    (lambda: deeplinear.saxe_learning_time(s=1.0, u0=1.0, uf=0.5, tau=1.0), "u0 < uf"),
    (lambda: deeplinear.saxe_learning_time(s=1.0, u0=0.1, uf=1.5, tau=1.0), "uf < s"),
    (lambda: deeplinear.arora_learning_time(N=0, s=1.0, sigma0=0.1, sigmaf=0.5), "'N'"),
    (lambda: deeplinear.arora_learning_time(N=3, s=1.0, sigma0=0.1, sigmaf=1.0), "sigmaf < s"),
    (lambda: sim.balanced_init(jax.random.key(0), sim.whitened_task(jax.random.key(0), [1.0]), 0, 0.1), "depth"),
    (lambda: sim.whitened_task(jax.random.key(0), [1.0, -1.0]), "singular_values"),
    (lambda: sim.random_init(jax.random.key(0), sim.whitened_task(jax.random.key(0), [1.0]), 2, 0.0), "scale"),
])
def test_bad_input_raises_value_error(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# --- numeric -------------------------------------------------------------------------
def test_task_is_whitened_and_balanced_init_is_balanced_and_aligned():
    sv = np.array([3.0, 2.0, 1.0])
    task = sim.whitened_task(jax.random.key(1), sv, d_in=5, d_out=4)
    np.testing.assert_allclose(task.inputs.T @ task.inputs, np.eye(5), atol=1e-13)
    corr = task.targets.T @ task.inputs  # sum_mu y x^T
    np.testing.assert_allclose(np.linalg.svd(corr, compute_uv=False)[:3], sv, rtol=1e-13)
    net = sim.balanced_init(jax.random.key(2), task, 4, 0.02, width=6, max_depth=6)
    w = np.asarray(net.weights)
    for j in range(3):
        np.testing.assert_allclose(w[j + 1].T @ w[j + 1], w[j] @ w[j].T, atol=1e-14)
    product = w[5] @ w[4] @ w[3] @ w[2] @ w[1] @ w[0]  # the frozen identities are harmless
    np.testing.assert_allclose(product[:4, :5], 0.02 * np.asarray(task.left) @ np.asarray(task.right).T, atol=1e-14)


def test_gd_step_matches_a_hand_written_gradient():
    task = sim.whitened_task(jax.random.key(3), [2.0, 1.0])
    net = sim.random_init(jax.random.key(4), task, 2, 0.5)
    run = sim.train_deep_linear(task, net, 0.1, 1, 1)
    w1, w2 = (np.asarray(x) for x in net.weights)
    x, y = np.asarray(task.inputs), np.asarray(task.targets)
    residual = x @ w1.T @ w2.T - y  # dL/dW2 = r^T (x W1^T), dL/dW1 = W2^T r^T x
    w2n, w1n = w2 - 0.1 * residual.T @ (x @ w1.T), w1 - 0.1 * w2.T @ residual.T @ x
    np.testing.assert_allclose(run.losses[1], 0.5 * np.sum((x @ w1n.T @ w2n.T - y) ** 2), rtol=1e-12)


def test_divergence_is_a_result():
    task = sim.whitened_task(jax.random.key(5), [3.0])
    net = sim.balanced_init(jax.random.key(6), task, 2, 1.0)
    run = sim.train_deep_linear(task, net, 2.0, 5, 2)
    assert bool(run.diverged)


def test_balanced_checks_pass():
    ctx = Context(quick=True, seed=0)
    assert all(r.passed for r in checks.two_layer_trajectory(ctx))
    rows = list(checks.depth_trajectories(ctx))
    assert all(r.passed for r in rows) and len(rows) == 6 + 5 + 6
    assert all(r.passed for r in checks.learning_times(ctx))
