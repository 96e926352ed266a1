"""analytic.noise against sympy solutions of the Lyapunov equations; numeric.noise input checks."""

import jax
import numpy as np
import pytest
import sympy as sp

from analytic import noise
from analytic.noise._symbols import batch_size, lam_i, lam_j, noise_cov, temperature
from analytic.symbols import eta, lam, t
from numeric import noise as sim


def test_discrete_lyapunov_in_kronecker_form_matches_the_eigenbasis_composite():
    """vec(Sigma) = (I - A (x) A)^-1 vec(eta^2 C / S), solved exactly by sympy for non-commuting H, C."""
    h = sp.Matrix([[sp.Rational(3, 4), sp.Rational(1, 4)], [sp.Rational(1, 4), sp.Rational(1, 2)]])
    c = sp.Matrix([[1, sp.Rational(3, 10)], [sp.Rational(3, 10), sp.Rational(1, 2)]])
    lr, size = sp.Rational(7, 10), 4
    a = sp.eye(2) - lr * h
    vec = (sp.eye(4) - sp.kronecker_product(a, a)).LUsolve((lr**2 * c / size).reshape(4, 1))
    exact = np.array(vec.reshape(2, 2).evalf(30), dtype=float)
    got = np.asarray(noise.stationary_covariance(np.array(h, float), np.array(c, float), float(lr), size))
    np.testing.assert_allclose(got, exact, rtol=1e-13)  # float64 round-off of an eigendecomposition
    # and the continuous Lyapunov equation H S + S H = (eta/S) C
    s = sp.Matrix(2, 2, sp.symbols("s0:4"))
    sol = sp.solve(list(h * s + s * h - lr / size * c), list(s))
    ou = np.array(s.subs(sol).evalf(30), dtype=float)
    np.testing.assert_allclose(np.asarray(noise.stationary_covariance(
        np.array(h, float), np.array(c, float), float(lr), size, "continuous")), ou, rtol=1e-13)


def test_isotropic_noise_at_the_kl_optimum_gives_the_posterior_exactly():
    """C = c I, eta = eta*: the OU covariance (eta c / (2S)) H^-1 is (N H)^-1 for any symmetric H."""
    a, b, d, c, n = sp.symbols("a b d c n", positive=True)
    h = sp.Matrix([[a, b], [b, d]])
    lr = noise.kl_optimal_lr.expr.subs({noise.kl_optimal_lr.symbol("dim"): 2,
                                       noise.kl_optimal_lr.symbol("noise_trace"): 2 * c,
                                       noise.kl_optimal_lr.symbol("n_data"): n})
    sigma = (h * n).inv()
    residual = h * sigma + sigma * h - lr / batch_size * c * sp.eye(2)
    assert sp.simplify(residual) == sp.zeros(2, 2)


def test_stated_forms():
    assert sp.simplify(noise.covariance_gap_slope.expr.subs(lam_j, lam_i) - lam_i / 2) == 0
    assert sp.simplify(noise.ula_bias.expr - eta * temperature / (2 - eta * lam)) == 0
    assert sp.simplify(noise.ula_variance.expr - noise.ula_bias.expr - temperature / lam) == 0
    nz = noise.averaged_variance.symbol("noise")
    assert sp.simplify(noise.averaged_variance.expr - nz / (batch_size * lam**2 * t)) == 0
    # the OU covariance is the eta -> 0 limit of the exact one, entry by entry
    ratio = noise.sgd_covariance.expr / noise.ou_covariance.expr
    assert sp.limit(ratio, eta, 0) == 1
    assert sp.simplify(noise.covariance_relative_gap.expr - (ratio - 1)) == 0
    assert noise_cov in noise.sgd_covariance.expr.free_symbols


def test_formulas_refuse_unstable_steps_and_bad_batch_sizes():
    with pytest.raises(ValueError, match="eta"):
        noise.sgd_covariance(eta=2.5, lam_i=1.0, lam_j=0.5, noise_cov=1.0, batch_size=1.0)
    with pytest.raises(ValueError, match="batch_size"):
        noise.ou_covariance(eta=0.1, lam_i=1.0, lam_j=0.5, noise_cov=1.0, batch_size=0.5)
    with pytest.raises(ValueError, match="positive definite"):
        noise.stationary_covariance([[1.0, 0.0], [0.0, -1.0]], np.eye(2), 0.1)


def test_numeric_moments_and_input_checks():
    assert sim.sgd_second_moment([[1.0]], [[1.0]], 0.5)[0, 0] == pytest.approx(1 / 3, rel=1e-15)
    assert sim.langevin_second_moment(1.0, 0.5) == pytest.approx(4 / 3, rel=1e-15)
    # Var of the mean of 1 stationary iterate is the stationary variance eta^2 q / (1 - r^2)
    assert sim.averaged_second_moment(1.0, 0.5, 1.0, 1) == pytest.approx(0.25 / 0.75, rel=1e-14)
    with pytest.raises(ValueError, match="unstable"):
        sim.sgd_second_moment([[1.0]], [[1.0]], 2.5)
    with pytest.raises(ValueError, match="batch_size"):
        sim.sgd_chains(jax.random.key(0), [[1.0]], [[1.0]], [0.1], 0.5)
    with pytest.raises(ValueError, match="steps"):
        sim.sgd_chains(jax.random.key(0), [[1.0]], [[1.0]], [0.1], steps=0)
    with pytest.raises(ValueError, match="horizons"):
        sim.averaged_sgd_chains(jax.random.key(0), 1.0, 0.1, 1.0, [0])
