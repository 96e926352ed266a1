"""analytic.normalization against published forms and independent computations; numeric.normalization."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy as sp

from analytic import normalization
from analytic.normalization._relaxation import sgd_discrete_multiplier
from analytic.normalization._symbols import beta1, g_sq, gw_sq, p, u_radial, u_sq, w_sq, wd
from analytic.symbols import beta, eta
from numeric import normalization as sim


# --- derived expressions equal the published forms (symbolic) ------------------
@pytest.mark.parametrize("name, published", [
    ("norm_growth", w_sq + eta**2 * g_sq),  # Arora, Li, Lyu 2019
    ("equilibrium_angular_update", sp.sqrt(2 * eta * wd / (1 + beta))),  # Wan et al. 2021
    ("ema_equilibrium_angular_update", sp.sqrt(2 * eta * wd * (1 - beta) / (1 + beta))),
    ("adamw_equilibrium_angular_update", sp.sqrt(2 * eta * wd * (1 - beta1) / (1 + beta1))),  # Kosson
    ("sgd_equilibrium_norm", (eta * gw_sq / (wd * (2 - eta * wd))) ** sp.Rational(1, 4)),
    ("dropout_ridge_penalty", p / (1 - p)),  # Srivastava et al. (1-q)/q with q = 1 - p
    ("equilibrium_relaxation_rate", 4 * eta * wd / (1 - beta)),  # SGD with step eta / (1 - beta)
])
def test_derivation_matches_published_form(name, published):
    derived = getattr(normalization, name)
    assert derived.derived
    assert sp.simplify(derived.expr - published) == 0 or sp.simplify(
        (derived.expr / published) - 1) == 0


def test_srivastava_retention_convention():
    q = sp.Symbol("q", positive=True)  # retention probability in Srivastava et al.
    assert sp.simplify(normalization.dropout_ridge_penalty.expr.subs(p, 1 - q) - (1 - q) / q) == 0


def test_angular_update_by_iterating_the_second_moment_recursions():
    # Iterate A, B, C (g _|_ w, <g, v> = 0, |g|^2 = G / A) to the fixed point numerically.
    e, l, b = 0.1, 0.01, 0.9
    A, B, C = 1.0, 0.0, 0.0
    for _ in range(20000):
        C_next = b * b * C + 1.0 / A + l * l * A + 2 * b * l * B
        wv = b * B + l * A
        A, B, C = A - 2 * e * wv + e * e * C_next, wv - e * C_next, C_next
    got = float(normalization.equilibrium_angular_update(eta=e, wd=l, beta=b))
    assert np.sqrt(e * e * C / A) == pytest.approx(got, rel=1e-10)


def test_sgd_discrete_linearisation_and_its_rate():
    assert sp.expand(sgd_discrete_multiplier() - (2 * (1 - eta * wd) ** 2 - 1)) == 0
    rate = normalization.equilibrium_relaxation_rate.expr.subs(beta, 0)
    small = sp.Symbol("small", positive=True)
    series = sp.series(-sp.log(sgd_discrete_multiplier().subs(wd, small * wd)), small, 0, 3).removeO()
    assert sp.expand(series.subs(small, 1) - rate - 6 * eta**2 * wd**2) == 0


def _mean_second_moment_map(state, e, l, b, G2):
    A, B, C = state  # |w|^2, <w, v>, |v|^2 of PyTorch-form heavy ball, white noise, g _|_ w
    C_next = b * b * C + G2 / A + l * l * A + 2 * b * l * B
    wv = b * B + l * A
    return np.array([A - 2 * e * wv + e * e * C_next, wv - e * C_next, C_next])


def _jacobian(fn, state):
    J = np.empty((3, 3))
    for i in range(3):
        h = np.zeros(3)
        h[i] = 1e-7 * max(1.0, abs(state[i]))
        J[:, i] = (fn(state + h) - fn(state - h)) / (2 * h[i])
    return J


@pytest.mark.parametrize("b", [0.0, 0.5, 0.9])
def test_relaxation_rate_is_the_slow_eigenvalue_of_the_mean_map(b):
    # Independent: the fixed point of the mean recursions by Newton, their Jacobian numerically.
    e, l, G2 = 0.01, 1e-3, 10.0  # 4 eta wd / (1 - beta)^2 <= 4e-3: the leading order holds

    def step(state):
        return _mean_second_moment_map(state, e, l, b, G2)

    state = np.array([1.0, 0.0, 0.0])
    for _ in range(3000):
        state = step(state)
    for _ in range(30):
        state = state - np.linalg.solve(_jacobian(step, state) - np.eye(3), step(state) - state)
    assert np.allclose(step(state), state, rtol=1e-12)
    slow = np.max(np.abs(np.linalg.eigvals(_jacobian(step, state))))
    predicted = float(normalization.equilibrium_relaxation_rate(eta=e, wd=l, beta=b))
    # next order: ~ 4 eta wd/(1-beta)^2 relative (0.4% at beta = 0.9), eta wd at beta = 0
    assert -np.log(slow) == pytest.approx(predicted, rel=1e-2 if b == 0.9 else 2e-3)


def test_adamw_balance_solves_the_norm_recursion():
    r = normalization.adamw_equilibrium_norm.expr
    balance = (1 - eta * wd) ** 2 * r**2 - 2 * eta * (1 - eta * wd) * r * u_radial + eta**2 * u_sq - r**2
    assert sp.simplify(sp.expand(balance)) == 0
    # orthogonal direction: |w|^2 = eta |u|^2 / (wd (2 - eta wd))
    assert sp.simplify(r.subs(u_radial, 0) ** 2 - eta * u_sq / (wd * (2 - eta * wd))) == 0
    values = dict(eta=0.01, wd=0.2, u_sq=300.0, u_radial=-0.5)
    got = float(normalization.adamw_equilibrium_norm(**values))
    w = np.array([got, 0.0])  # a 2-d instance: u with radial part -0.5 and the rest orthogonal
    u = np.array([values["u_radial"], np.sqrt(values["u_sq"] - values["u_radial"] ** 2)])
    w_next = (1 - values["eta"] * values["wd"]) * w - values["eta"] * u
    assert np.linalg.norm(w_next) == pytest.approx(got, rel=1e-12)


def test_dropout_fixed_point_by_monte_carlo_of_the_objective():
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(6, 3)), rng.normal(size=6)
    w = normalization.dropout_fixed_point(X, y, 0.3)
    # Exact expectation of the dropout objective over all 2^18 masks is too many; use the closed
    # gradient of E||(X*M/(1-p)) w - y||^2 element by element instead (independent algebra).
    keep = 0.7
    second = X.T @ X + (1 / keep - 1) * np.diag(np.diag(X.T @ X))
    np.testing.assert_allclose(second @ w, X.T @ y, rtol=1e-10)


@pytest.mark.parametrize("call, match", [
    (lambda: normalization.equilibrium_angular_update(eta=0.0, wd=0.1, beta=0.9), "'eta' = 0.0"),
    (lambda: normalization.equilibrium_angular_update(eta=0.1, wd=-0.1, beta=0.9), "'wd' = -0.1"),
    (lambda: normalization.equilibrium_angular_update(eta=0.1, wd=0.1, beta=1.0), "'beta' = 1.0"),
    (lambda: normalization.adamw_equilibrium_angular_update(eta=0.1, wd=0.1, beta1=1.0), "'beta1' = 1.0"),
    (lambda: normalization.dropout_ridge_penalty(p=1.0), "'p' = 1.0"),
    (lambda: normalization.dropout_ridge_penalty(p=-0.1), "'p' = -0.1"),
    (lambda: normalization.sgd_equilibrium_norm(eta=10.0, wd=1.0, gw_sq=1.0), "eta"),
    (lambda: normalization.equilibrium_relaxation_rate(eta=0.1, wd=0.1, beta=1.0), "'beta' = 1.0"),
    (lambda: normalization.equilibrium_relaxation_rate(eta=0.1, wd=-0.1, beta=0.5), "'wd' = -0.1"),
    (lambda: normalization.adamw_equilibrium_norm(eta=10.0, wd=1.0, u_sq=1.0, u_radial=0.0), "eta"),
    (lambda: normalization.adamw_equilibrium_norm(eta=0.1, wd=0.1, u_sq=-1.0, u_radial=0.0), "'u_sq' = -1.0"),
])
def test_bad_input_raises_value_error_naming_parameter(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# --- numeric ------------------------------------------------------------------------
def test_normalized_mlp_is_scale_invariant():
    params, a = sim.init_normalized_mlp(jax.random.key(0), 4, 8)
    x = jax.random.normal(jax.random.key(1), (5, 4))
    scaled = {"W1": 3.0 * params["W1"], "W2": 0.2 * params["W2"]}
    np.testing.assert_allclose(sim.normalized_mlp(scaled, a, x), sim.normalized_mlp(params, a, x),
                               rtol=1e-12)


def test_ema_momentum_equals_pytorch_momentum_with_rescaled_step():
    params, a = sim.init_normalized_mlp(jax.random.key(0), 4, 8)
    x, y = jax.random.normal(jax.random.key(1), (64, 4)), jax.random.normal(jax.random.key(2), (64,))
    ema = sim.train_normalized_mlp(jax.random.key(3), x, y, a, params, "ema", 0.5, 0.01, 0.8, 16, 50)
    torch = sim.train_normalized_mlp(jax.random.key(3), x, y, a, params, "pytorch", 0.1, 0.01, 0.8, 16, 50)
    np.testing.assert_allclose(ema.norm_sq, torch.norm_sq, rtol=1e-10)


def test_sphere_gradient_is_the_autodiff_gradient_of_the_scale_invariant_objective():
    from numeric.normalization import _sphere_gradient
    dims = (3, 5)
    member = jnp.asarray(np.repeat(np.eye(2), dims, axis=1))
    w, xi = jax.random.normal(jax.random.key(0), (8,)), jax.random.normal(jax.random.key(1), (8,))

    def objective(w):  # <xi, w/|w|> per layer (slices [:3] and [3:])
        return xi[:3] @ w[:3] / jnp.sqrt(w[:3] @ w[:3]) + xi[3:] @ w[3:] / jnp.sqrt(w[3:] @ w[3:])

    np.testing.assert_allclose(_sphere_gradient(w, xi, member), jax.grad(objective)(w), rtol=1e-12)
    np.testing.assert_allclose(_sphere_gradient(3 * w, xi, member), jax.grad(objective)(w) / 3, rtol=1e-12)


def test_sphere_noise_is_stationary_and_the_rescale_shares_the_noise():
    run = sim.sphere_noise_then_rescale(jax.random.key(4), "pytorch", 0.1, 0.01, 0.5, dims=(5, 40),
                                        scales=(1.0, 0.5), burn_in=10, steps=200, chains=4)
    assert run.norm_sq.shape == (2, 4, 200, 2) and run.burn_in_norm_sq.shape == (10, 2)
    np.testing.assert_allclose(run.norm_sq[1, :, 0], 0.25 * run.norm_sq[0, :, 0], rtol=1e-12)
    scale_free = np.asarray(run.grad_sq * run.norm_sq)
    # same noise draws at every scale: |g|^2 |w|^2 agrees at the rescale (same direction, same xi)
    np.testing.assert_allclose(scale_free[1, :, 0], scale_free[0, :, 0], rtol=1e-12)
    # |g|^2 |w|^2 ~ chi^2(d - 1) whatever |w| is: its mean is d - 1 (1600 draws: ~4% and ~2% errors)
    np.testing.assert_allclose(scale_free.mean((0, 1, 2)), [4.0, 39.0], rtol=0.12)


def test_dropout_sgd_without_dropout_is_least_squares():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(30, 3))
    y = X @ np.array([1.0, -2.0, 0.5])
    run = sim.dropout_sgd_least_squares(jax.random.key(0), X, y, 0.0, 0.3, 400, 300, 2)
    np.testing.assert_allclose(run.final_weights, np.tile([1.0, -2.0, 0.5], (2, 1)), rtol=1e-8)


@pytest.mark.parametrize("call, match", [
    (lambda: sim.dropout_sgd_least_squares(jax.random.key(0), np.eye(2), np.ones(2), 1.0, 0.1, 10, 5, 1), "p "),
    (lambda: sim.train_normalized_mlp(jax.random.key(0), jnp.ones((4, 2)), jnp.ones(4), jnp.ones(3),
                                      {}, "lion", 0.1, 0.0), "optimizer"),
    (lambda: sim.train_normalized_mlp(jax.random.key(0), jnp.ones((4, 2)), jnp.ones(4), jnp.ones(3),
                                      {}, "sgd", 0.1, -1.0), "wd"),
    (lambda: sim.train_normalized_mlp(jax.random.key(0), jnp.ones((4, 2)), jnp.ones(4), jnp.ones(3),
                                      {}, "sgd", 0.1, 0.0, 0.9, 2), "beta must be 0"),
    (lambda: sim.sphere_noise_then_rescale(jax.random.key(0), "sgd", 0.1, 0.01, scales=(1.0, -2.0)), "scales"),
    (lambda: sim.sphere_noise_then_rescale(jax.random.key(0), "sgd", 0.1, 0.01, dims=(1, 4)), "dims"),
    (lambda: sim.sphere_noise_then_rescale(jax.random.key(0), "sgd", 0.1, 0.01, chains=0), "chains"),
    (lambda: sim.sphere_noise_then_rescale(jax.random.key(0), "adamw", 0.1, 0.01, 0.9), "adamw"),
])
def test_numeric_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()
