"""Momentum family: derivations vs published forms, numbers vs numpy and direct iteration."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy as sp

import analytic
from analytic import momentum
from analytic.momentum._symbols import L, mu
from analytic.symbols import kappa
from numeric import momentum as sim
from verify.checks import momentum as checks
from verify.core import Context


def _matrix(method, a, b, lam):
    if method == "heavy_ball":
        return np.array([[1 + b - a * lam, -b], [1, 0]])
    u = 1 - a * lam
    return np.array([[(1 + b) * u, -b * u], [1, 0]])


def test_published_forms_are_derived():
    assert sp.simplify(momentum.heavy_ball_optimal_alpha.expr - 4 / (sp.sqrt(L) + sp.sqrt(mu)) ** 2) == 0
    root = sp.sqrt(kappa)
    assert sp.simplify(momentum.heavy_ball_optimal_beta.expr - ((root - 1) / (root + 1)) ** 2) == 0
    assert sp.simplify(momentum.heavy_ball_optimal_rate.expr - (root - 1) / (root + 1)) == 0
    assert sp.simplify(momentum.heavy_ball_optimal_loss_rate.expr - ((root - 1) / (root + 1)) ** 2) == 0
    assert sp.simplify(momentum.heavy_ball_optimal_loss_rate.expr - momentum.heavy_ball_optimal_beta.expr) == 0
    # On quadratics the textbook Nesterov rate is attained exactly (Lessard et al. 2016, Prop. 1).
    assert sp.simplify(momentum.nesterov_rate.expr - momentum.nesterov_textbook_bound.expr) == 0
    assert sp.simplify(momentum.gd_optimal_rate.expr - analytic.get("linreg.optimal_rate").expr) == 0
    assert momentum.nesterov_textbook_bound.derived is False
    assert momentum.heavy_ball_spectral_radius.derived is True


@pytest.mark.parametrize("method", ["heavy_ball", "nesterov"])
def test_spectral_radius_matches_numpy_eigenvalues_in_every_regime(method):
    rng = np.random.default_rng(0)
    a, b, lam = rng.uniform(0.01, 3, 500), rng.uniform(0, 1.5, 500), rng.uniform(0, 2, 500)
    lo, hi = getattr(momentum, f"{method}_regime_boundaries").jax(b[:50] + 0.01, lam[:50] + 0.1)
    a = np.concatenate([a, np.asarray(lo), np.asarray(hi)])  # double roots exactly
    b = np.concatenate([b, b[:50] + 0.01, b[:50] + 0.01])
    lam = np.concatenate([lam, lam[:50] + 0.1, lam[:50] + 0.1])
    predicted = np.asarray(momentum.spectral_radius(method, a, b, lam))
    measured = np.array([np.abs(np.linalg.eigvals(_matrix(method, *p))).max() for p in zip(a, b, lam)])
    # float64 eigvals of a defective matrix are accurate to ~sqrt(1e-16) = 1e-8 near double roots
    np.testing.assert_allclose(predicted, measured, atol=1e-6)
    regimes = np.asarray(momentum.regime(method, a, b, lam))
    assert {-1, 1} <= set(regimes.tolist())


def test_heavy_ball_complex_modulus_is_sqrt_beta():
    lo, hi = momentum.heavy_ball_regime_boundaries(beta=0.36, lam=2.0)
    inside = np.linspace(float(lo), float(hi), 7)[1:-1]
    np.testing.assert_allclose(momentum.heavy_ball_spectral_radius(alpha=inside, beta=0.36, lam=2.0),
                               0.6, rtol=1e-14)  # round-off only


@pytest.mark.parametrize("method", ["heavy_ball", "nesterov"])
def test_gradients_finite_away_from_boundaries(method):
    f = getattr(momentum, f"{method}_spectral_radius").jax
    grad = jax.grad(lambda a, b, lam: f(a, b, lam), argnums=(0, 1, 2))
    for point in [(0.1, 0.5, 1.0), (0.1, 0.01, 1.0), (3.0, 0.5, 1.0), (0.5, 0.2, 1.0), (1.5, 0.3, 1.0)]:
        g = np.array(grad(*point))
        assert np.all(np.isfinite(g)), (point, g)
        # central differences, step 1e-6: truncation ~1e-12, round-off ~1e-10
        fd = [(f(*[p + 1e-6 * (i == j) for j, p in enumerate(point)]) -
               f(*[p - 1e-6 * (i == j) for j, p in enumerate(point)])) / 2e-6 for i in range(3)]
        np.testing.assert_allclose(g, np.array(fd), atol=1e-6)


@pytest.mark.parametrize("method", ["heavy_ball", "nesterov"])
@pytest.mark.parametrize("offset", [0.0, -1e-8, 1e-8])
def test_radius_and_its_gradient_on_and_near_the_stability_edge(method, offset):
    """At alpha = critical_alpha (radius exactly 1) and +-1e-8 relative: the radius is 1 plus its
    slope times the offset, to float64 round-off, and jax.grad is finite and equals the central
    difference (the radius is smooth across the stability edge: two real roots, the larger one
    leaving the unit disc)."""
    beta, lam = 0.4, 2.0
    f = getattr(momentum, f"{method}_spectral_radius").jax
    edge = float(getattr(momentum, f"{method}_critical_alpha")(beta=beta, lam=lam))
    a = edge * (1 + offset)
    g = np.array(jax.grad(f, argnums=(0, 1, 2))(a, beta, lam))
    assert np.all(np.isfinite(g)), g
    step = 1e-6 * edge  # truncation ~ step^2 ~ 1e-12 relative; round-off ~ 1e-16 / 1e-6
    fd = (f(a + step, beta, lam) - f(a - step, beta, lam)) / (2 * step)
    assert g[0] == pytest.approx(float(fd), rel=1e-8)
    import mpmath
    with mpmath.workdps(40):  # the larger real root of z^2 - b z + c, exactly
        u = 1 - mpmath.mpf(a) * lam
        b, c = (1 + beta - mpmath.mpf(a) * lam, beta) if method == "heavy_ball" else ((1 + beta) * u, beta * u)
        exact = float((abs(b) + mpmath.sqrt(b * b - 4 * c)) / 2)
    assert float(f(a, beta, lam)) == pytest.approx(exact, rel=4e-16)  # round-off of ~10 flops, no 0/0


@pytest.mark.parametrize("method", ["heavy_ball", "nesterov"])
def test_critical_alpha_is_the_stability_edge(method):
    crit = float(getattr(momentum, f"{method}_critical_alpha")(beta=0.4, lam=2.0))
    below, above = momentum.is_stable(method, np.array([0.999, 1.001]) * crit, 0.4, 2.0)
    assert bool(below) and not bool(above)
    # Schur-Cohn test on the numpy matrix as the independent check
    for a in (0.999 * crit, 1.001 * crit):
        assert (np.abs(np.linalg.eigvals(_matrix(method, a, 0.4, 2.0))).max() < 1) == (a < crit)


def _direct_count(method, k, eps):
    """Iterate the scalar recurrence of the slowest mode from rest until |x| <= eps for good."""
    root = np.sqrt(k)
    a, b, lam = {"gd": (2 / (1 + k), 0.0, 1.0), "heavy_ball": (4 / (root + 1) ** 2, ((root - 1) / (root + 1)) ** 2, k),
                 "nesterov": (1 / k, (root - 1) / (root + 1), 1.0)}[method]
    x, prev, history = 1.0, 1.0, [1.0]
    for _ in range(200000):
        if method == "nesterov":
            y = x + b * (x - prev)
            x, prev = y - a * lam * y, x
        else:
            x, prev = x - a * lam * x + b * (x - prev), x
        history.append(abs(x))
        if len(history) > 50 and max(history[-50:]) < eps * 1e-3:
            break
    above = np.nonzero(np.array(history) > eps)[0]
    return above[-1] + 1


@pytest.mark.parametrize("method", ["gd", "heavy_ball", "nesterov"])
def test_steps_to_eps_matches_direct_iteration(method):
    kappas = np.array([10.0, 300.0, 1e4])
    counts = np.asarray(momentum.steps_to_eps(method, kappas, 1e-8))
    direct = [_direct_count(method, k, 1e-8) for k in kappas]
    np.testing.assert_array_equal(counts, direct)  # integers: exact
    lead = np.asarray(getattr(momentum, f"{method}_steps")(kappa=kappas, eps=1e-8))
    assert np.all(counts >= np.floor(lead))


@pytest.mark.parametrize("method", ["gd", "heavy_ball", "nesterov"])
def test_leading_order_steps_keep_their_digits_at_huge_kappa(method):
    """log(rate) as log1p(-gap): the count at kappa = 1e12 and 1e15 to float64 round-off
    (the plain log((kappa-1)/(kappa+1)) was 2e-5 off for GD at 1e12 and 8e-4 at 1e15)."""
    import mpmath

    f = getattr(momentum, f"{method}_steps")
    with mpmath.workdps(50):
        for k in (1e12, 1e15):
            kk, e = mpmath.mpf(k), mpmath.mpf(1e-6)
            root = mpmath.sqrt(kk)
            rate = {"gd": (kk - 1) / (kk + 1), "heavy_ball": (root - 1) / (root + 1),
                    "nesterov": 1 - 1 / root}[method]
            exact = float(mpmath.log(e) / mpmath.log(rate))
            assert float(f(kappa=k, eps=1e-6)) == pytest.approx(exact, rel=4e-16), (method, k)


@pytest.mark.parametrize("method, end", [("heavy_ball", "L"), ("nesterov", "mu")])
def test_slowest_mode_is_the_worst_over_the_spectrum(method, end):
    k = 50.0
    root = np.sqrt(k)
    a, b = (4 / (root + 1) ** 2, ((root - 1) / (root + 1)) ** 2) if method == "heavy_ball" else (1 / k, (root - 1) / (root + 1))
    lams = np.linspace(1.0, k, 2001)
    x = prev = np.ones_like(lams)
    formula = getattr(momentum, f"{method}_slowest_mode_error")
    for t in range(1, 150):
        if method == "nesterov":
            y = x + b * (x - prev)
            x, prev = y - a * lams * y, x
        else:
            x, prev = x - a * lams * x + b * (x - prev), x
        exact = float(formula(kappa=k, t=t))
        assert np.abs(x).max() <= exact * (1 + 1e-9)  # round-off of 150 scalar steps
        assert abs(abs(x[-1 if end == "L" else 0]) - exact) <= 1e-9 * exact + 1e-300


@pytest.mark.parametrize("call, name", [
    (lambda: momentum.heavy_ball_spectral_radius(alpha=0.0, beta=0.5, lam=1.0), "alpha"),
    (lambda: momentum.nesterov_spectral_radius(alpha=0.1, beta=-0.1, lam=1.0), "beta"),
    (lambda: momentum.heavy_ball_optimal_alpha(mu=0.0, L=1.0), "mu"),
    (lambda: momentum.heavy_ball_optimal_alpha(mu=2.0, L=1.0), "L >= mu, got L = 1.0, mu = 2.0"),
    (lambda: momentum.heavy_ball_optimal_rate(kappa=0.5), "kappa"),
    (lambda: momentum.nesterov_rate(kappa=float("nan")), "kappa"),
    (lambda: momentum.steps_to_eps("nesterov", 0.5, 1e-3), "kappa"),
    (lambda: momentum.steps_to_eps("gd", 10.0, 2.0), "eps"),
    (lambda: sim.run("heavy_ball", sim.quadratic_with_spectrum(jax.random.key(0), [1.0]), -1.0, 0.5, 10), "alpha"),
    (lambda: sim.run("nesterov", sim.quadratic_with_spectrum(jax.random.key(0), [1.0]), 0.1, float("nan"), 10), "beta"),
])
def test_bad_input_names_the_parameter(call, name):
    with pytest.raises(ValueError, match=name):
        call()


def test_simulation_divergence_is_a_result():
    q = sim.quadratic_with_spectrum(jax.random.key(1), jnp.array([1.0, 2.0]))
    run = sim.run("heavy_ball", q, jnp.array([0.5, 1.5]), 0.2, 400)
    assert not bool(run.diverged[0]) and bool(run.diverged[1])
    # growth of the stiff mode at alpha = 1.5: radius from numpy eigvals, window 200 steps
    expected = np.abs(np.linalg.eigvals(_matrix("heavy_ball", 1.5, 0.2, 2.0))).max()
    assert abs(float(run.growth_rate[1]) - expected) < 0.01 * expected


def test_nesterov_rate_check_passes():
    # A wrong Formula failing it is the universal negative control (tests/test_negative_controls.py).
    assert all(row.passed for row in checks.nesterov_rate(Context(quick=True)))


@pytest.mark.parametrize("method", sim.METHODS)
def test_one_rule_step_is_each_plain_update(method):
    # sim.run compiles one update for all three methods; it must be each method's own rule.
    rng = np.random.default_rng(0)
    hessian, x, x_prev = rng.normal(size=(3, 3)), rng.normal(size=3), rng.normal(size=3)
    look_ahead, b = sim._as_one_rule(method, 0.7)
    np.testing.assert_allclose(sim._one_rule_step(hessian, 0.2, b, look_ahead, x, x_prev),
                               sim._update(method, hessian, 0.2, 0.7, x, x_prev), rtol=0, atol=1e-14)
    # atol: float64 round-off of the same terms summed in another order (entries of size ~1)


def test_contraction_rate_inside_a_callers_jit_equals_the_eager_fit():
    """numeric.methods calls contraction_rate inside its own jit: traced input takes the compiled
    fit directly (no numpy padding) and gives the same rates; a different sequence gives others."""
    import jax
    import jax.numpy as jnp

    from numeric import momentum as numeric_momentum

    t = np.arange(60.0)
    log_errors = np.stack([np.log(0.9) * t + np.log1p(t), np.log(0.7) * t])
    eager = numeric_momentum.contraction_rate(log_errors)
    traced = jax.jit(lambda y: numeric_momentum.contraction_rate(y))(jnp.asarray(log_errors))
    np.testing.assert_allclose(np.asarray(traced), eager, rtol=1e-12)
    np.testing.assert_allclose(eager, [0.9, 0.7], rtol=1e-9)
    assert abs(float(numeric_momentum.contraction_rate(2 * log_errors)[0]) - 0.9) > 0.05
