"""analytic.interpolation against stated forms and exact rational computations; numeric input checks."""

import itertools

import jax
import numpy as np
import pytest
import sympy as sp

from analytic import interpolation
from analytic.interpolation._symbols import batch_size, max_norm_sq, norm_sq
from analytic.symbols import L, eta, lam, mu
from numeric import interpolation as sim


def test_mode_contraction_is_the_exact_expectation_over_every_batch():
    """Enumerate all n^m batches (with replacement) of a small axis design: E e'^2 exactly, in rationals."""
    n, k, beta_k, lr = 5, 2, sp.Rational(3), sp.Rational(2, 7)  # k of n points along the axis, |x|^2 = beta_k
    for m in (1, 2, 3):
        total = sp.Integer(0)
        for batch in itertools.product(range(n), repeat=m):
            hits = sum(1 for i in batch if i < k)
            total += (1 - lr * beta_k * hits / m) ** 2
        exact = total / n**m
        formula = interpolation.mode_contraction.expr.subs({eta: lr, lam: sp.Rational(k, n) * beta_k,
                                                            norm_sq: beta_k, batch_size: m})
        assert sp.simplify(exact - formula) == 0


def test_bound_forms_and_their_relations():
    m = batch_size
    assert sp.simplify(interpolation.bound_optimal_lr.expr - m / (max_norm_sq + (m - 1) * L)) == 0
    assert sp.simplify(interpolation.bound_optimal_contraction.expr - (1 - m * mu / (max_norm_sq + (m - 1) * L))) == 0
    assert interpolation.critical_batch_size.expr == max_norm_sq / L
    # isotropic axis design (H = lam I, every |x|^2 = beta): the bound is the exact contraction
    exact = interpolation.mode_contraction.expr.subs(norm_sq, max_norm_sq)
    assert sp.simplify(interpolation.bound_contraction.expr.subs({mu: lam, L: lam}) - exact) == 0


def test_exact_optimal_step_is_about_twice_the_bound_step_for_a_stiff_rare_direction():
    values = dict(mu=0.18, L=1.0, norm_sq_soft=0.2, norm_sq_stiff=10.0)
    for m in (1.0, 8.0, 64.0):
        exact = float(interpolation.exact_optimal_lr(batch_size=m, **values))
        bound = float(interpolation.bound_optimal_lr(L=1.0, max_norm_sq=10.0, batch_size=m))
        assert 1.6 < exact / bound < 1.75  # (L - mu) / (L - mu^2 ...): 1.65 at m = 1, 1.69 as m -> oo
    x = np.zeros((20, 2))
    x[:2, 0], x[2:, 1] = np.sqrt(10.0), np.sqrt(0.2)
    lr, _ = sim.rate_optimal_lr(x, 8)
    assert lr == pytest.approx(float(interpolation.exact_optimal_lr(batch_size=8.0, **values)), rel=1e-7)  # Brent


def test_formulas_refuse_bad_input():
    with pytest.raises(ValueError, match="batch_size"):
        interpolation.bound_optimal_lr(L=1.0, max_norm_sq=10.0, batch_size=0.5)
    with pytest.raises(ValueError):
        interpolation.bound_contraction(eta=0.1, mu=2.0, L=1.0, max_norm_sq=10.0, batch_size=1.0)  # mu > L


def test_numeric_rate_and_input_checks():
    assert sim.second_moment_rate(np.eye(2), 0.5, 1) == pytest.approx(0.625, rel=1e-14)  # hand-computed
    assert sim.second_moment_rate(np.eye(2), 2.0, np.inf) == pytest.approx(0.0, abs=1e-15)  # GD at 1/lam, H = I/2
    with pytest.raises(ValueError, match="batch_size"):
        sim.second_moment_rate(np.eye(2), 0.5, 0.5)
    with pytest.raises(ValueError, match="x must be"):
        sim.second_moment_rate(np.ones(3), 0.5, 1)
    with pytest.raises(ValueError, match="multiple of blocks"):
        sim.sgd_errors(jax.random.key(0), np.eye(2), [0.5], [1], chains=10, steps=1, blocks=4)
