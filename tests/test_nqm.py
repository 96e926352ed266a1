"""Tests of the noisy quadratic model: symbolic identities, exact dynamics, MC, bad input, control."""

import subprocess
import sys

import jax
import numpy as np
import pytest
import sympy as sp

from analytic import get, nqm
from analytic.nqm._symbols import B, c, h, p
from analytic.symbols import alpha, beta, e0, t
from numeric import nqm as mc


def test_steady_states_match_published_forms():
    # Zhang et al. 2019 (arXiv:1907.04164v2) sec. 3: SGD alpha c / (2 B (2 - alpha h));
    # heavy ball: the same with alpha -> alpha/(1-beta) and 2 -> 2 - alpha h/(1+beta) (AR(2) variance).
    sgd = nqm.sgd_steady_state_loss.expr.args[0][0]
    assert sp.simplify(sgd - alpha * c / (2 * B * (2 - alpha * h))) == 0
    mom = nqm.momentum_steady_state_loss.expr.args[0][0]
    assert sp.simplify(mom - alpha * c / (2 * B * (1 - beta) * (2 - alpha * h / (1 + beta)))) == 0
    pre = nqm.preconditioned_steady_state_loss.expr.args[0][0]
    # preconditioning is momentum with the effective step alpha h^-p (noise variance unchanged)
    assert sp.simplify(pre - mom.subs(alpha, alpha * h**(-p))) == 0
    assert sp.simplify(mom.subs(beta, 0) - sgd) == 0


def test_sgd_expected_loss_limits_and_recursion():
    f = nqm.sgd_expected_loss.expr
    assert sp.simplify(f.subs(t, 0) - h * e0**2 / 2) == 0
    # one step of the recursion: L_{t+1} = (1 - alpha h)^2 L_t + h alpha^2 c / (2B)
    assert sp.simplify(f.subs(t, t + 1) - ((1 - alpha * h) ** 2 * f + h * alpha**2 * c / (2 * B))) == 0
    # a stable step (alpha h = 4/3): the transient (1/3)^(2t) dies and the steady state remains
    decayed = sp.limit(f.subs(alpha, sp.Rational(4, 3) / h), t, sp.oo)
    steady = nqm.sgd_steady_state_loss.expr.args[0][0].subs(alpha, sp.Rational(4, 3) / h)
    assert sp.simplify(decayed - steady) == 0


def test_moment_modes_are_products_of_mean_roots():
    z = sp.Symbol("z")
    mean_poly = nqm.mean_characteristic_polynomial(z, 0)
    assert sp.expand(mean_poly - (z**2 - (1 + beta - alpha * h) * z + beta)) == 0
    # modes r1^2, r1 r2 = beta, r2^2 with r1 + r2 = 1 + beta - alpha h, r1 r2 = beta:
    # r1^2 + r2^2 = (1 + beta - alpha h)^2 - 2 beta and r1^2 r2^2 = beta^2
    s1 = 1 + beta - alpha * h
    by_roots = (z - beta) * (z**2 - (s1**2 - 2 * beta) * z + beta**2)
    assert sp.expand(nqm.moment_matrix(0).charpoly(z).as_expr() - by_roots) == 0


def test_curve_iteration_matches_rsolve_closed_form():
    hv = mc.power_law_spectrum(20)
    curve = np.asarray(nqm.expected_loss_curve(0.7, 0.0, 0.0, hv, hv, 3.0, 1.3, 50))
    closed = np.asarray(nqm.sgd_expected_loss(alpha=0.7, h=hv, c=hv, B=3.0, t=np.arange(51)[:, None],
                                              e0=1.3)).sum(axis=1)
    np.testing.assert_allclose(curve, closed, rtol=1e-12)  # float64 round-off of 50 iterations


def test_curve_reaches_steady_state_and_mc_agrees():
    hv = mc.power_law_spectrum(8)
    steady = float(np.sum(nqm.momentum_steady_state_loss(alpha=0.4, beta=0.6, h=hv, c=hv, B=2.0)))
    curve = np.asarray(nqm.expected_loss_curve(0.4, 0.6, 0.0, hv, hv, 2.0, 0.0, 3000))
    assert abs(curve[-1] - steady) < 1e-10 * steady  # all modes contract by < 0.9^3000
    run = mc.simulate_sweep(jax.random.key(1), hv, hv, 0.0, 2.0, 0.4, 0.6, steps=400, chains=4000)
    mean, sem = float(run.loss_mean[0, -1]), float(run.loss_sem[0, -1])
    assert abs(mean - curve[400]) < 5 * sem  # 5 MC standard errors (4000 chains)


def test_chunked_run_is_one_run():
    # simulate_sweep advances in chunks of mc.CHUNK steps; step t's noise is keyed on t, so a run
    # one step past a chunk boundary repeats the shorter run exactly (bit for bit).
    # (One dimension, one configuration, 4 chains: the compiled program of the divergence test.)
    args = (jax.random.key(2), [1.0], [1.0], 1.0, 2.0, 0.3, 0.5)
    short = mc.simulate_sweep(*args, steps=mc.CHUNK, chains=4)
    longer = mc.simulate_sweep(*args, steps=mc.CHUNK + 1, chains=4)
    assert longer.loss_mean.shape == (1, mc.CHUNK + 2)
    np.testing.assert_array_equal(longer.loss_mean[:, :mc.CHUNK + 1], short.loss_mean)
    np.testing.assert_array_equal(longer.loss_sem[:, :mc.CHUNK + 1], short.loss_sem)


def test_stability_boundary_and_divergence_is_a_result():
    assert float(nqm.max_stable_lr(beta=0.5, p=0.0, h=2.0)) == pytest.approx(1.5)
    assert np.isinf(float(nqm.sgd_steady_state_loss(alpha=1.01, h=2.0, c=1.0, B=1.0)))
    run = mc.simulate_sweep(jax.random.key(0), [2.0], [1.0], 1.0, 1.0, 1.6, 0.5, steps=300, chains=4)
    assert bool(run.diverged[0])
    # measured per-step loss growth ~ |r_max|^2 of the mean recursion z^2 - (1+b-a h) z + b
    r = max(abs(np.roots([1, -(1 + 0.5 - 1.6 * 2.0), 0.5])))
    assert float(run.growth_rate[0]) == pytest.approx(r**2, rel=0.05)  # noise is negligible by then


def test_tuned_steps_show_perfect_scaling_and_critical_batch_order():
    hv = mc.power_law_spectrum(100)
    target = 0.02 * 0.5 * hv.sum()
    batch = np.array([4.0, 16.0, 4096.0])
    frac = np.geomspace(2e-3, 0.95, 10)
    sgd = nqm.tuned_steps_to_target(batch, frac, [0.0], 0.0, hv, hv, 1.0, target, 1500)
    mom = nqm.tuned_steps_to_target(batch, frac, [0.0, 0.5, 0.8, 0.9], 0.0, hv, hv, 1.0, target, 1500)
    # perfect scaling: 4x the batch, ~1/4 the steps (within 15%: the grid and curvature corrections)
    assert sgd.steps[0] / sgd.steps[1] == pytest.approx(4.0, rel=0.15)
    assert mom.steps[-1] < sgd.steps[-1] / 2  # momentum lowers the curvature-dominated floor
    assert nqm.critical_batch_size(batch, mom.steps) > nqm.critical_batch_size(batch, sgd.steps)


def test_tuned_search_stops_early_but_equals_brute_force_over_the_grid():
    # The tuned search stops at the first step any grid point hits; the brute force here
    # iterates every grid point's whole curve (expected_loss_curve, a separate scan) and
    # minimises the first crossings afterwards. Steps are integers: they must agree exactly.
    hv = mc.power_law_spectrum(20)
    target = 0.05 * 0.5 * hv.sum()
    batch, frac, betas, power, max_steps = np.array([2.0, 64.0]), np.geomspace(0.01, 0.9, 5), [0.0, 0.7], 0.5, 400
    tuned = nqm.tuned_steps_to_target(batch, frac, betas, power, hv, hv, 1.0, target, max_steps)
    lrs = nqm.learning_rate_grid(frac, betas, power, hv)
    for i, size in enumerate(batch):
        hits = np.array([[mc.first_crossing(nqm.expected_loss_curve(lrs[f, m], betas[m], power, hv, hv, size,
                                                                    1.0, max_steps), target)
                          for m in range(len(betas))] for f in range(len(frac))])
        assert tuned.steps[i] == hits.min()
        f, m = np.argwhere(lrs == tuned.alpha[i])[0]
        assert hits[f, m] == hits.min() and betas[m] == tuned.beta[i]
    per_config = nqm.steps_to_target(lrs, np.asarray(betas)[None, :], power, hv, hv, 2.0, 1.0, target,
                                           max_steps)
    assert np.min(np.asarray(per_config)) == tuned.steps[0]


@pytest.mark.parametrize("kwargs, name", [
    (dict(alpha=0.1, h=1.0, c=1.0, B=0.5), "B"), (dict(alpha=0.0, h=1.0, c=1.0, B=2.0), "alpha"),
    (dict(alpha=0.1, h=-1.0, c=1.0, B=2.0), "h"), (dict(alpha=0.1, h=1.0, c=-0.1, B=2.0), "c"),
])
def test_bad_input_names_parameter(kwargs, name):
    with pytest.raises(ValueError, match=f"'{name}'"):
        nqm.sgd_steady_state_loss(**kwargs)


@pytest.mark.parametrize("bad", [1.0, -0.1])
def test_bad_momentum(bad):
    with pytest.raises(ValueError, match="'beta'"):
        nqm.momentum_steady_state_loss(alpha=0.1, beta=bad, h=1.0, c=1.0, B=2.0)
    with pytest.raises(ValueError, match="momentum"):
        mc.simulate_sweep(jax.random.key(0), [1.0], [1.0], 1.0, 2.0, 0.1, bad, steps=2, chains=2)
    with pytest.raises(ValueError, match="'beta'"):
        nqm.expected_loss_curve(0.1, bad, 0.0, [1.0], [1.0], 2.0, 1.0, 3)


def test_numeric_bad_input():
    for kw, name in ((dict(batch_sizes=0.5), "B"), (dict(lrs=0.0), "lr"), (dict(h=[0.0]), "h"),
                     (dict(c=[-1.0]), "c")):
        args = dict(h=[1.0], c=[1.0], theta0=1.0, batch_sizes=2.0, lrs=0.1, momenta=0.0) | kw
        with pytest.raises(ValueError, match=name):
            mc.simulate_sweep(jax.random.key(0), **args, steps=2, chains=2)
    with pytest.raises(ValueError, match="'B'"):
        nqm.steps_to_target(0.1, 0.0, 0.0, [1.0], [1.0], 0.5, 1.0, 0.1, 10)


def test_catalogue_and_lazy():
    assert get("nqm.preconditioned_steady_state_loss").param_names == ("alpha", "beta", "p", "h", "c", "B")
    assert get("nqm.momentum_steady_state_loss").param_names == ("alpha", "beta", "h", "c", "B")
    assert get("nqm.sgd_steady_state_loss").param_names == ("alpha", "h", "c", "B")
    code = "import sys, numeric.nqm; assert 'sympy' not in sys.modules and 'analytic' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=str(__import__("pathlib").Path(__file__).parents[1]))
