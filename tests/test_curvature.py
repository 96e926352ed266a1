"""analytic.curvature against stated forms and independent computations; numeric.curvature against numpy."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy as sp

from analytic import curvature
from analytic.curvature._symbols import (cross_response, influence_inner, label, leverage, logit, n_train, output,
                                         scaled_leverage, target, test_residual)
from numeric import curvature as sim

sigma = 1 / (1 + sp.exp(-logit))


from analytic.curvature._gauss_newton import same_function as _same


def test_output_derivatives_are_the_stated_forms():
    assert curvature.mse_output_gradient.expr == output - target
    assert _same(curvature.logistic_output_gradient.expr, sigma - label)
    assert _same(curvature.logistic_output_curvature.expr, sigma * (1 - sigma))
    assert label not in curvature.logistic_output_curvature.expr.free_symbols  # canonical link


def test_true_fisher_is_the_output_curvature_and_the_empirical_fisher_is_not():
    assert _same(curvature.logistic_fisher.expr, curvature.logistic_output_curvature.expr)
    empirical = curvature.logistic_output_gradient.expr ** 2  # one observed label
    at_one = {logit: 1}  # differ at a point: sigma(1) (1 - sigma(1)) = 0.197 vs (1 - sigma(1))^2 = 0.072
    assert abs(float((empirical.subs(label, 1) - curvature.logistic_fisher.expr).subs(at_one))) > 0.1
    # the true Fisher is the empirical one averaged over labels drawn from the model
    averaged = sigma * empirical.subs(label, 1) + (1 - sigma) * empirical.subs(label, 0)
    assert _same(averaged, curvature.logistic_fisher.expr)


@pytest.mark.parametrize("distribution", ["bernoulli", "gaussian", "categorical3"])
def test_hessian_equals_fisher_for_canonical_links(distribution):
    hessian, fisher, symbols = curvature.output_hessian_and_fisher(distribution)
    assert all(_same(a, b) for a, b in zip(hessian, fisher))
    if distribution == "categorical3":  # diag(p) - p p^T
        p = sp.Matrix([sp.exp(f) for f in symbols]) / sum(sp.exp(f) for f in symbols)
        assert all(_same(a, b) for a, b in zip(hessian, sp.diag(*p) - p * p.T))
    with pytest.raises(ValueError, match="distribution"):
        curvature.output_hessian_and_fisher("binomial")


def test_stable_forms_at_large_logits():
    big = np.array([-800.0, -30.0, 0.0, 30.0, 800.0])
    values = np.asarray(curvature.logistic_output_curvature(logit=big))
    expected = np.exp(-np.abs(big)) / (1 + np.exp(-np.abs(big))) ** 2
    np.testing.assert_allclose(values, expected, rtol=1e-14)
    gradient = np.asarray(curvature.logistic_output_gradient(logit=big, label=1.0))
    with np.errstate(over="ignore"):
        np.testing.assert_allclose(gradient, -1 / (1 + np.exp(big)), rtol=1e-14, atol=1e-300)
    with pytest.raises(ValueError, match="label"):
        curvature.logistic_output_gradient(logit=0.0, label=1.5)


def test_influence_forms_and_their_leading_gap():
    assert curvature.removal_influence.expr == influence_inner / n_train
    q = cross_response / (n_train * (1 - leverage))
    assert sp.simplify(curvature.ridge_loo_test_loss_change.expr - q * (test_residual + q / 2)) == 0
    gap = (curvature.ridge_loo_test_loss_change.expr - test_residual * cross_response / n_train).subs(
        leverage, scaled_leverage / n_train)
    assert sp.simplify(sp.limit(n_train**2 * gap, n_train, sp.oo)
                       - n_train**2 * curvature.ridge_influence_gap_leading.expr) == 0
    with pytest.raises(ValueError, match="leverage"):
        curvature.ridge_loo_test_loss_change(test_residual=1.0, cross_response=1.0, leverage=1.0, n_train=3)


def _ridge_problem(n=12, d=3, seed=0):
    rng = np.random.default_rng(seed)
    x, y = rng.normal(size=(n, d)), rng.normal(size=n)
    return x, y, rng.normal(size=d), 0.3


def test_ridge_leave_one_out_against_numpy_refits_and_the_closed_form():
    x, y, x_test, y_test = _ridge_problem()
    ridge, n = 0.2, x.shape[0]
    r = sim.ridge_leave_one_out(x, y, x_test, y_test, ridge)
    full = np.linalg.solve(x.T @ x / n + ridge * np.eye(3), x.T @ y / n)
    for i in (0, 5, 11):  # an independent refit by lstsq on the augmented system
        keep = np.arange(n) != i
        a = np.vstack([x[keep] / np.sqrt(n), np.sqrt(ridge) * np.eye(3)])
        w = np.linalg.lstsq(a, np.concatenate([y[keep] / np.sqrt(n), np.zeros(3)]), rcond=None)[0]
        change = 0.5 * (x_test @ w - y_test) ** 2 - 0.5 * (x_test @ full - y_test) ** 2
        assert abs(r.test_loss_change[i] - change) <= 1e-12 * max(1.0, abs(change))  # float64 round-off
    predicted = curvature.ridge_loo_test_loss_change(test_residual=r.test_residual, cross_response=r.cross_response,
                                                     leverage=r.leverage, n_train=n)
    np.testing.assert_allclose(predicted, r.test_loss_change, rtol=1e-10, atol=1e-14)
    with pytest.raises(ValueError, match="ridge"):
        sim.ridge_leave_one_out(x, y, x_test, y_test, 0.0)


def test_linear_logistic_products_against_explicit_matrices():
    x, _, _, _ = _ridge_problem(n=10, d=3, seed=1)
    labels = (x[:, 0] > 0).astype(float)
    theta = jnp.array([0.3, -0.2, 0.5])
    v = jnp.array([1.0, 2.0, -1.0])
    p = 1 / (1 + np.exp(-x @ np.asarray(theta)))
    hessian = x.T @ (p * (1 - p) * x.T).T / x.shape[0]
    hvp = sim.hessian_vector_product(lambda th: sim.mean_loss(th, x, labels, "linear", "logistic"), theta)(v)
    np.testing.assert_allclose(hvp, hessian @ v, rtol=1e-12)
    np.testing.assert_allclose(sim.gauss_newton_vector_product(theta, x, labels, "linear", "logistic", v),
                               hessian @ v, rtol=1e-12)
    np.testing.assert_allclose(sim.residual_vector_product(theta, x, labels, "linear", "logistic", v), 0.0, atol=1e-15)
    gradients = sim.label_gradients(theta, x, "linear")
    np.testing.assert_allclose(sim.fisher_vector_product(gradients, p, v), hessian @ v, rtol=1e-12)
    empirical = np.mean(((p - labels) * (x @ np.asarray(v))) ** 2)
    np.testing.assert_allclose(sim.empirical_fisher_quadratic(gradients, labels, v), empirical, rtol=1e-12)
    mean, se = sim.sampled_fisher_quadratic(jax.random.key(0), gradients, p, v, 4000)
    assert abs(float(mean) - float(v @ hessian @ v)) <= 5 * float(se)  # 5 Monte Carlo standard errors


def test_newton_leave_one_out_of_a_quadratic_is_ridge():
    x, y, x_test, y_test = _ridge_problem(n=8, d=2, seed=2)
    r = sim.newton_leave_one_out(jnp.zeros(2), x, y, x_test, y_test, "linear", "mse", 0.3, iterations=3)
    exact = sim.ridge_leave_one_out(x, y, x_test, y_test, 0.3)
    np.testing.assert_allclose(r.test_loss_change, exact.test_loss_change, rtol=1e-10, atol=1e-14)
    np.testing.assert_allclose(r.influence_inner, exact.influence_inner, rtol=1e-10, atol=1e-14)


def test_bad_inputs():
    with pytest.raises(ValueError, match="model"):
        sim.init_params(jax.random.key(0), "cnn", 3, 4)
    with pytest.raises(ValueError, match="width"):
        sim.init_params(jax.random.key(0), "mlp", 3, 0)
