"""analytic.bootstrap against stated forms, exact enumeration and Monte Carlo; numeric.bootstrap's draws."""

import itertools

import numpy as np
import pytest
import sympy as sp

from analytic import bootstrap
from analytic.bootstrap._symbols import T, batch_size, dim, r2, sigma2
from analytic.symbols import eta
from numeric import bootstrap as sim


def test_ideal_world_forms():
    a = (1 - eta) ** 2 + eta**2 * (dim + 1) / batch_size
    assert sp.simplify(bootstrap.ideal_contraction.expr - a) == 0
    assert sp.simplify(bootstrap.max_learning_rate.expr - 2 * batch_size / (batch_size + dim + 1)) == 0
    assert sp.simplify(a.subs(eta, bootstrap.max_learning_rate.expr) - 1) == 0
    m = bootstrap.ideal_excess_risk.expr
    c = eta**2 * sigma2 * dim / batch_size
    assert sp.simplify(m.subs(T, 0) - r2) == 0
    for k in range(4):  # the recurrence m_{k+1} = a m_k + c, exactly
        assert sp.simplify(m.subs(T, k + 1) - a * m.subs(T, k) - c) == 0
    floor = bootstrap.ideal_stationary_risk.expr
    assert sp.simplify(floor - eta * sigma2 * dim / (2 * batch_size - eta * (batch_size + dim + 1))) == 0
    kw = dict(eta=0.01, batch_size=2.0, dim=20.0, sigma2=0.3)
    np.testing.assert_allclose(bootstrap.ideal_excess_risk(r2=1.0, T=10**6, **kw), bootstrap.ideal_stationary_risk(**kw),
                               rtol=1e-12)  # a^T underflows: the floor, to round-off


def test_isserlis_moment_by_monte_carlo():
    """tr E[x x^T M x x^T] = (d + 2) tr M for x ~ N(0, I): the identity the recurrence rests on."""
    rng = np.random.default_rng(0)
    d, samples = 3, 400_000
    root = rng.normal(size=(d, d))
    m = root @ root.T
    x = rng.normal(size=(samples, d))
    values = np.einsum("si,ij,sj->s", x, m, x) * np.sum(x**2, axis=1)
    sem = values.std() / np.sqrt(samples)
    assert abs(values.mean() - (d + 2) * np.trace(m)) < 5 * sem  # 5 Monte Carlo standard errors


@pytest.mark.parametrize("batch", [1, 2])
def test_real_world_recursion_equals_exact_enumeration(batch):
    """Every sequence of batches (with replacement) of a 3-sample problem, averaged exactly."""
    rng = np.random.default_rng(1)
    x, y, w_star = rng.normal(size=(3, 2)), rng.normal(size=3), rng.normal(size=2)
    eta, steps, sigma2_value = 0.3, 3, 0.2
    batches = list(itertools.product(range(3), repeat=batch))
    risks = np.zeros(steps + 1)
    for path in itertools.product(batches, repeat=steps):
        w = np.zeros(2)
        risks[0] += np.sum((w - w_star) ** 2)
        for k, chosen in enumerate(path):
            idx = list(chosen)
            w = w - eta / batch * x[idx].T @ (x[idx] @ w - y[idx])
            risks[k + 1] += np.sum((w - w_star) ** 2)
    expected = risks / len(batches) ** steps + sigma2_value
    got = bootstrap.real_world_risk(x, y, w_star, eta, batch, steps, sigma2_value).test_risk
    np.testing.assert_allclose(got, expected, rtol=1e-12)  # float64 round-off of a few dozen products


def test_real_world_with_many_samples_approaches_the_ideal_world():
    """n >> d: the sample's moments are the population's to O(1/sqrt(n)), so the curves agree to a few %."""
    x, y, w = sim.gaussian_sample(np.array([0, 7], dtype=np.uint32), 20_000, 5, 1.0, 0.5)
    real = bootstrap.real_world_risk(x, y, w, 0.05, 1, 40, 0.5, record_every=10).test_risk
    ideal = np.asarray(bootstrap.ideal_excess_risk(eta=0.05, batch_size=1, dim=5, sigma2=0.5, r2=1.0,
                                                   T=np.arange(0, 41, 10))) + 0.5
    np.testing.assert_allclose(real, ideal, rtol=0.05)  # finite-sample error ~ sqrt(d/n) ~ 2%


def test_separation_step_and_bad_input():
    assert bootstrap.separation_step([0, 1, 2], [1.0, 1.0, 1.0], [1.0, 1.0, 1.0]) is None
    assert bootstrap.separation_step([0, 1], [2.0, 2.0], [1.0, 1.0]) == 0.0
    with pytest.raises(ValueError, match="gap"):
        bootstrap.separation_step([0, 1], [1.0, 1.0], [1.0, 1.0], gap=0.0)
    with pytest.raises(ValueError, match="learning_rate"):
        bootstrap.real_world_risk(np.eye(2), np.ones(2), np.ones(2), -1.0, 1, 3, 0.0)
    with pytest.raises(ValueError, match="batch_size"):
        bootstrap.real_world_risk(np.eye(2), np.ones(2), np.ones(2), 0.1, 0, 3, 0.0)
    with pytest.raises(ValueError, match="w_star"):
        bootstrap.real_world_risk(np.eye(2), np.ones(2), np.ones(3), 0.1, 1, 3, 0.0)
    with pytest.raises(ValueError, match="parameter 'dim'"):
        bootstrap.ideal_contraction(eta=0.1, batch_size=1, dim=0.5)


def test_numeric_draws_and_worlds():
    key = np.array([0, 3], dtype=np.uint32)
    indices, fresh_x, _ = sim._draws(key, 6, 2, 2, 6, "epochs", 4)
    for run in indices.reshape(4, 2, 6):  # two epochs of 3 steps x 2: each a permutation of the 6 samples
        assert all(sorted(epoch.tolist()) == list(range(6)) for epoch in run)
    assert fresh_x.shape == (4, 6, 2, 2)
    x, y, w = sim.gaussian_sample(key, 6, 2, 1.0, 0.0)
    run = sim.two_worlds(key, x, y, w, 0.1, 2, 6, 0.0, seeds=4, order="epochs")
    assert run.real_mean.shape == run.ideal_mean.shape == (7,)
    assert run.real_mean[0] == pytest.approx(1.0) and run.ideal_mean[0] == pytest.approx(1.0)  # |w*|^2, no noise
    with pytest.raises(ValueError, match="divide"):
        sim.two_worlds(key, x, y, w, 0.1, 4, 6, 0.0, seeds=4, order="epochs")
    with pytest.raises(ValueError, match="order"):
        sim.two_worlds(key, x, y, w, 0.1, 1, 6, 0.0, order="cyclic")
