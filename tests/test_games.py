"""analytic.games against published forms and independent eigenvalues; numeric.games."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy as sp

from analytic import games
from analytic.games._iteration import quadratic_factor, radius_expression
from analytic.games._symbols import momentum, sigma
from analytic.symbols import eta
from numeric import games as sim

a = eta * sigma


# --- derived expressions equal the published forms (symbolic) ------------------
@pytest.mark.parametrize("name, published", [
    ("simultaneous_gda_radius", sp.sqrt(1 + a**2)),
    ("extragradient_radius", sp.sqrt(1 - a**2 + a**4)),
    ("alternating_gda_max_step", 2 / sigma),
    ("extragradient_max_step", 1 / sigma),
    ("optimistic_gda_max_step", 1 / (sp.sqrt(3) * sigma)),  # Daskalakis et al. 2018; Zhang and Yu 2019
    ("extragradient_optimal_step", 1 / (sp.sqrt(2) * sigma)),
    ("optimistic_gda_optimal_step", 1 / (2 * sigma)),
])
def test_derivation_matches_published_form(name, published):
    derived = getattr(games, name)
    assert derived.derived
    assert sp.simplify(derived.expr - published) == 0


def test_piecewise_radii_branches_are_the_published_forms():
    (alt_real, alt_cond), (alt_complex, _) = radius_expression("alternating_gda", safe=False).args
    assert alt_complex == 1  # |z|^2 = det M = 1: a bounded rotation
    w = sp.Symbol("w", positive=True)  # eta sigma = 2 + w, the real-root regime
    on_real = alt_real.subs(eta, (2 + w) / sigma)
    published = ((2 + w) ** 2 - 2 + sp.sqrt(sp.factor(((2 + w) ** 2 - 2) ** 2 - 4))) / 2  # (|b| + sqrt D)/2
    assert sp.simplify(on_real - published) == 0
    (og_real, _), (og_complex, _) = radius_expression("optimistic_gda", safe=False).args
    assert sp.simplify(og_real**2 - (1 + sp.sqrt(1 - 4 * a**2)) / 2) == 0
    assert sp.simplify(og_complex**2 - (2 * a**2 + a * sp.sqrt(4 * a**2 - 1))) == 0


def test_optimistic_charpoly_splits_into_conjugate_quadratics():
    b, c = quadratic_factor("optimistic_gda")
    assert {sp.expand(b), sp.expand(c)} in ({1 + 2 * sp.I * a, sp.I * a}, {1 - 2 * sp.I * a, -sp.I * a})
    assert sp.expand(b**2 - 4 * c) == sp.expand(1 - 4 * a**2)  # a real discriminant


def test_optimal_radii():
    s = 0.7
    assert float(games.extragradient_radius(eta=games.extragradient_optimal_step(sigma=s), sigma=s)) == \
        pytest.approx(np.sqrt(3) / 2, rel=1e-14)
    assert float(games.optimistic_gda_radius(eta=games.optimistic_gda_optimal_step(sigma=s), sigma=s)) == \
        pytest.approx(1 / np.sqrt(2), rel=1e-14)


# --- radii against eigenvalues of hand-written iteration matrices (numpy) -----------------
def _matrix(method, e, s, m=0.0):
    """Per-mode iteration matrices written by hand from the update rules (state x, y[, x-, y-])."""
    k = e * s
    if method == "simultaneous_gda":
        return np.array([[1, -k], [k, 1]])
    if method == "alternating_gda":
        return np.array([[1, -k], [k, 1 - k * k]])
    if method == "extragradient":
        return np.array([[1 - k * k, -k], [k, 1 - k * k]])
    if method == "optimistic_gda":
        return np.array([[1, -2 * k, 0, k], [2 * k, 1, -k, 0], [1, 0, 0, 0], [0, 1, 0, 0]])
    # negative momentum: x' = (1 + m) x - k y - m x-;  y' = y + k x' + m (y - y-)
    return np.array([[1 + m, -k, -m, 0], [k * (1 + m), 1 + m - k * k, -k * m, -m],
                     [1, 0, 0, 0], [0, 1, 0, 0]])


@pytest.mark.parametrize("method", games.METHODS)
def test_radius_is_the_largest_eigenvalue_modulus(method):
    rng = np.random.default_rng(0)
    etas, sigmas = rng.uniform(0.01, 3.0, 200), rng.uniform(0.05, 1.5, 200)
    moms = rng.uniform(-0.95, 0.95, 200)
    formula = getattr(games, f"{method}_radius")
    kwargs = {"momentum": moms} if method == "negative_momentum" else {}
    got = np.asarray(formula(eta=etas, sigma=sigmas, **kwargs))
    want = np.array([np.max(np.abs(np.linalg.eigvals(_matrix(method, e, s, m))))
                     for e, s, m in zip(etas, sigmas, moms)])
    # Simple roots: float64 round-off; near a double root both sides lose half the digits.
    np.testing.assert_allclose(got, want, rtol=1e-6)


@pytest.mark.parametrize("method", ["alternating_gda", "optimistic_gda"])
def test_piecewise_radius_has_finite_gradients_in_every_regime(method):
    formula = getattr(games, f"{method}_radius")
    grad = jax.grad(lambda e: formula.jax(e, 1.0))
    for e in (0.3, 0.55, 1.0, 2.5):  # both discriminant signs
        assert np.isfinite(float(grad(e)))


def test_claims_in_closed_form():
    k = np.linspace(0.01, 3, 300)
    assert np.all(np.asarray(games.simultaneous_gda_radius(eta=k, sigma=1.0)) > 1)  # diverges for every eta
    alt = np.asarray(games.alternating_gda_radius(eta=k, sigma=1.0))
    assert np.all(alt[k < 2] == 1) and np.all(alt[k > 2] > 1)
    eg = np.asarray(games.extragradient_radius(eta=k, sigma=1.0))
    assert np.all(eg[k < 1] < 1) and np.all(eg[k > 1] > 1)
    og = np.asarray(games.optimistic_gda_radius(eta=k, sigma=1.0))
    assert np.all(og[k < 1 / np.sqrt(3)] < 1) and np.all(og[k > 1 / np.sqrt(3) + 1e-12] > 1)
    nm = np.asarray(games.negative_momentum_radius(eta=k[k < 1], momentum=-0.5, sigma=1.0))
    assert np.all(nm < 1)  # negative momentum helps alternating GDA (Gidel et al. 2019)


def test_negative_momentum_charpoly():
    z = games.symbols.z
    want = ((z - 1) * (z - momentum)) ** 2 + a**2 * z**3
    assert sp.expand(games.characteristic_polynomial("negative_momentum") - want) == 0


@pytest.mark.parametrize("call, match", [
    (lambda: games.extragradient_radius(eta=0.0, sigma=1.0), "'eta' = 0.0"),
    (lambda: games.optimistic_gda_radius(eta=0.1, sigma=-1.0), "'sigma' = -1.0"),
    (lambda: games.negative_momentum_radius(eta=0.1, momentum=1.0, sigma=1.0), "'momentum' = 1.0"),
    (lambda: games.alternating_gda_max_step(sigma=np.nan), "'sigma' = nan"),
    (lambda: games.update("newton"), "unknown method 'newton'"),
])
def test_bad_input_raises_value_error_naming_parameter(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# --- numeric ------------------------------------------------------------------------
def _numpy_loop(method, A, x, y, e, steps, m=0.0):
    xp, yp = x.copy(), y.copy()
    for _ in range(steps):
        if method == "simultaneous_gda":
            x, y, xp, yp = x - e * A @ y, y + e * A.T @ x, x, y
        elif method == "alternating_gda":
            xn = x - e * A @ y
            x, y, xp, yp = xn, y + e * A.T @ xn, x, y
        elif method == "extragradient":
            xh, yh = x - e * A @ y, y + e * A.T @ x
            x, y, xp, yp = x - e * A @ yh, y + e * A.T @ xh, x, y
        elif method == "optimistic_gda":
            x, y, xp, yp = x - 2 * e * A @ y + e * A @ yp, y + 2 * e * A.T @ x - e * A.T @ xp, x, y
        else:
            xn = x - e * A @ y + m * (x - xp)
            x, y, xp, yp = xn, y + e * A.T @ xn + m * (y - yp), x, y
    return x, y


@pytest.mark.parametrize("method", sim.METHODS)
def test_run_method_matches_numpy_loop(method):
    rng = np.random.default_rng(1)
    A, x0, y0 = rng.normal(size=(3, 4)), rng.normal(size=3), rng.normal(size=4)
    run = sim.run_method(method, A, x0, y0, 0.3, 25, momentum=-0.4)
    x, y = _numpy_loop(method, A, x0, y0, 0.3, 25, -0.4)
    scale = np.exp(float(run.log_scale[-1]))
    np.testing.assert_allclose(scale * np.asarray(run.x[-1]), x, rtol=1e-11, atol=1e-12 * np.abs(x).max())
    np.testing.assert_allclose(scale * np.asarray(run.y[-1]), y, rtol=1e-11, atol=1e-12 * np.abs(y).max())


def test_random_game_has_its_singular_values():
    s = np.array([0.3, 0.7, 1.1])
    A, U, V = sim.random_bilinear_game(jax.random.key(0), s)
    np.testing.assert_allclose(np.linalg.svd(np.asarray(A), compute_uv=False), s[::-1], rtol=1e-13)
    np.testing.assert_allclose(np.asarray(U.T @ U), np.eye(3), atol=1e-14)


def test_divergence_is_a_flag_not_an_overflow():
    A = jnp.eye(2)
    run = sim.run_method("simultaneous_gda", A, jnp.ones(2), jnp.ones(2), 3.0, 2000)  # |z| ~ 10^1000
    assert bool(run.diverged) and np.isfinite(float(run.log_scale[-1]))
    assert float(run.log_scale[-1] - run.log_scale[-2]) == pytest.approx(0.5 * np.log(10.0), rel=1e-12)


@pytest.mark.parametrize("call, match", [
    (lambda: sim.run_method("sgd", np.eye(2), np.ones(2), np.ones(2), 0.1, 5), "unknown method"),
    (lambda: sim.run_method("extragradient", np.eye(2), np.ones(3), np.ones(2), 0.1, 5), "shapes"),
    (lambda: sim.run_method("extragradient", np.eye(2), np.ones(2), np.ones(2), -0.1, 5), "eta"),
    (lambda: sim.run_method("negative_momentum", np.eye(2), np.ones(2), np.ones(2), 0.1, 5, momentum=-1.5),
     "momentum"),
    (lambda: sim.run_method("extragradient", np.full((2, 2), np.nan), np.ones(2), np.ones(2), 0.1, 5), "NaN"),
    (lambda: sim.random_bilinear_game(jax.random.key(0), [1.0, 0.0]), "> 0"),
])
def test_numeric_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# --- strongly monotone game mu/2 |x|^2 + x^T A y - mu/2 |y|^2 ------------------------------
@pytest.mark.parametrize("method", games.METHODS)
def test_monotone_radius_is_the_largest_eigenvalue_modulus(method):
    from analytic.games._iteration import iteration_matrix
    from analytic.games._symbols import mu

    formula = games.FORMULAS.get(f"{method}_monotone_radius")
    matrix = sp.lambdify((eta, mu, sigma, momentum), iteration_matrix(method, True), "numpy")
    rng = np.random.default_rng(3)
    for _ in range(6):
        e, m, s, b = rng.uniform(0.02, 2.5), rng.uniform(0.01, 1.0), rng.uniform(0.05, 1.5), rng.uniform(-0.9, 0.9)
        kwargs = dict(eta=e, mu=m, sigma=s, **({"momentum": b} if method == "negative_momentum" else {}))
        want = np.max(np.abs(np.linalg.eigvals(np.asarray(matrix(e, m, s, b), dtype=float))))
        assert float(formula(**kwargs)) == pytest.approx(want, rel=1e-9)  # eigvals: ~1e-14 off double roots


def test_monotone_simultaneous_form_and_bilinear_limit():
    from analytic.games._symbols import mu

    radius = games.simultaneous_gda_monotone_radius.expr
    assert sp.simplify(radius - sp.sqrt((1 - eta * mu) ** 2 + eta**2 * sigma**2)) == 0
    for method in games.METHODS:
        kwargs = dict(eta=np.array([0.3, 0.9]), sigma=0.7, **({"momentum": -0.5} if method == "negative_momentum"
                                                              else {}))
        near = games.FORMULAS.get(f"{method}_monotone_radius")(mu=1e-12, **kwargs)
        np.testing.assert_allclose(near, games.FORMULAS.get(f"{method}_radius")(**kwargs), rtol=1e-9)


def test_negative_momentum_radius_arrays_equal_elementwise_calls_at_double_roots():
    eta_values = np.array([1e-7, 1e-3, 1.0, 1e3, 1e-7])
    beta_values = np.array([-0.9999998, 0.5, 0.9999998, 0.0, 0.9999998])
    sigma_values = np.array([1e-7, 1e-3, 1e-7, 1e3, 1e-3])
    together = np.asarray(games.negative_momentum_radius(eta=eta_values, momentum=beta_values, sigma=sigma_values))
    for i in range(5):
        alone = float(games.negative_momentum_radius(eta=eta_values[i], momentum=beta_values[i],
                                                     sigma=sigma_values[i]))
        assert together[i] == pytest.approx(alone, rel=1e-12)
    # the double root at eta sigma -> 0: |z| = 1 + O((eta sigma)^2), resolved to float64 (was ~1e-8)
    assert float(games.negative_momentum_radius(eta=1e-7, momentum=-0.5, sigma=1e-7)) == pytest.approx(1.0, abs=1e-14)


def test_run_method_with_mu_matches_numpy():
    rng = np.random.default_rng(0)
    A, x0, y0 = rng.normal(size=(3, 2)), rng.normal(size=3), rng.normal(size=2)
    run = sim.run_method("alternating_gda", A, x0, y0, 0.1, 20, mu=0.3)
    x, y = x0.copy(), y0.copy()
    for _ in range(20):
        x = x - 0.1 * (0.3 * x + A @ y)
        y = y + 0.1 * (A.T @ x - 0.3 * y)
    scale = np.exp(float(run.log_scale[-1]))
    np.testing.assert_allclose(scale * np.asarray(run.x[-1]), x, rtol=1e-12)
    np.testing.assert_allclose(scale * np.asarray(run.y[-1]), y, rtol=1e-12)
    with pytest.raises(ValueError, match="mu"):
        sim.run_method("alternating_gda", A, x0, y0, 0.1, 20, mu=-1.0)
