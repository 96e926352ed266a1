"""analytic.kfac against quadrature, the Penrose conditions and stated forms; numeric.kfac against numpy."""

import itertools

import jax
import numpy as np
import pytest
import sympy as sp

from analytic import kfac
from analytic.kfac._symbols import depth
from analytic.symbols import eta
from numeric import kfac as sim


def _gaussian_fourth_moment(cov: np.ndarray) -> float:
    """E[x1 x2 x3 x4] for x ~ N(0, cov) by 3-point Gauss-Hermite per axis: exact for a degree-4 polynomial."""
    nodes, weights = np.polynomial.hermite_e.hermegauss(3)
    weights = weights / weights.sum()
    chol = np.linalg.cholesky(cov)
    total = 0.0
    for idx in itertools.product(range(3), repeat=4):
        z = nodes[list(idx)]
        total += np.prod(weights[list(idx)]) * np.prod(chol @ z)
    return total


def test_fisher_entry_is_isserlis_by_quadrature():
    rng = np.random.default_rng(0)
    m = rng.normal(size=(4, 4))
    cov = m @ m.T + 0.5 * np.eye(4)  # order (a_i, a_j, g_k, g_l)
    value = float(kfac.gaussian_fisher_entry(input_moment=cov[0, 1], gradient_moment=cov[2, 3], cross_ik=cov[0, 2],
                                             cross_jl=cov[1, 3], cross_il=cov[0, 3], cross_jk=cov[1, 2]))
    # quadrature is exact for the polynomial; round-off of 81 terms of size ~|cov|^2 ~ 1e-14 relative
    assert value == pytest.approx(_gaussian_fourth_moment(cov), rel=1e-12)


def test_fisher_entry_special_cases():
    e = kfac.gaussian_fisher_entry.expr
    s = sp.Symbol("s", positive=True)
    # one variable four times: E[x^4] = 3 s^2 (s the variance)
    assert sp.simplify(e.subs({n: s for n in e.free_symbols}) - 3 * s**2) == 0
    # no cross moments: the Kronecker product A_ij G_kl
    crosses = [kfac.symbols.cross_ik, kfac.symbols.cross_jl, kfac.symbols.cross_il, kfac.symbols.cross_jk]
    assert e.subs({c: 0 for c in crosses}) == kfac.symbols.input_moment * kfac.symbols.gradient_moment


def test_fisher_block_is_kron_without_cross_moments_and_validates():
    rng = np.random.default_rng(1)
    a, g = rng.normal(size=(3, 3)), rng.normal(size=(2, 2))
    np.testing.assert_allclose(kfac.fisher_block(a, g), np.kron(g, a), rtol=1e-15)
    c = rng.normal(size=(3, 2))
    gap = kfac.fisher_block(a, g, c) - kfac.fisher_block(a, g)
    expected = np.einsum("ik,jl->kilj", c, c) + np.einsum("il,jk->kilj", c, c)  # rows (k, i), columns (l, j)
    np.testing.assert_allclose(gap, expected.reshape(6, 6), rtol=1e-14, atol=1e-14)
    with pytest.raises(ValueError, match="cross_moments"):
        kfac.fisher_block(a, g, np.zeros((2, 3)))
    with pytest.raises(ValueError, match="matrices"):
        kfac.fisher_block(np.ones(3), g)


def test_rank_one_pseudo_inverse_and_loss_factors():
    m = sp.Matrix(sp.symbols("m1:4", positive=True))
    f = m * m.T
    pinv = f / m.dot(m) ** 2
    for lhs, rhs in ((f * pinv * f, f), (pinv * f * pinv, pinv), ((f * pinv).T, f * pinv)):  # Penrose conditions
        assert (lhs - rhs).applyfunc(sp.cancel) == sp.zeros(3, 3)
    assert sp.expand(kfac.natural_gradient_loss_factor.expr - (1 - eta) ** 2) == 0
    assert sp.expand(kfac.kfac_loss_factor.expr.subs(eta, eta / depth) - (1 - eta) ** 2) == 0  # eta/depth matches
    assert float(kfac.kfac_loss_factor(eta=0.1, depth=3)) == pytest.approx(0.49, rel=1e-15)


def test_numeric_fisher_against_numpy_jacobian():
    rng = np.random.default_rng(2)
    w = np.eye(2) + 0.3 * rng.normal(size=(2, 2, 2))
    x = rng.normal(size=(5, 2))
    blocks = sim.deep_linear_fisher(w, x)
    jac = []  # d f / d W_l[k, i] = (W_2 if l = 0 else I)[:, k] a_l[i]
    for xi in x:
        cols = [np.einsum("ok,i->oki", w[1], xi).reshape(2, 4), np.einsum("ok,i->oki", np.eye(2), w[0] @ xi).reshape(2, 4)]
        jac.append(np.concatenate(cols, 1))
    jac = np.array(jac)
    np.testing.assert_allclose(np.asarray(blocks.fisher), np.einsum("nop,noq->pq", jac, jac) / 5, rtol=1e-13, atol=1e-14)
    with pytest.raises(ValueError, match="weights"):
        sim.deep_linear_fisher(np.ones((2, 2, 3)), x)


def test_training_steps_against_numpy():
    rng = np.random.default_rng(3)
    w = np.eye(2) + 0.3 * rng.normal(size=(2, 2, 2))
    x, target = rng.normal(size=(6, 2)), np.eye(2) + 0.2 * rng.normal(size=(2, 2))
    y, mask = x @ target.T, np.array([True, True])
    step = jax.jit(sim._step)
    # the hand-written Jacobian against autodiff
    # (both jitted: one program each, not one compilation per eager primitive)
    jac = np.asarray(jax.jit(sim._jacobian)(w, mask, x)[0])
    auto = jax.jit(jax.jacfwd(lambda f: (jax.vmap(lambda xi: sim._forward(f.reshape(w.shape), mask, xi)[0])(x)
                                         / np.sqrt(6)).ravel()))(w.ravel())
    np.testing.assert_allclose(jac, np.asarray(auto), rtol=1e-13, atol=1e-14)
    r = ((x @ w[0].T @ w[1].T - y) / np.sqrt(6)).ravel()
    natural = w - 0.1 * (np.linalg.pinv(jac) @ r).reshape(w.shape)
    np.testing.assert_allclose(np.asarray(step(w, mask, True, x, y, 0.1)), natural, rtol=1e-10, atol=1e-12)
    grads = (jac.T @ r).reshape(w.shape)
    acts = [x, x @ w[0].T]
    later = [w[1], np.eye(2)]
    blocks = [np.linalg.inv(later[l].T @ later[l]) @ grads[l] @ np.linalg.inv(acts[l].T @ acts[l] / 6) for l in range(2)]
    np.testing.assert_allclose(np.asarray(step(w, mask, False, x, y, 0.1)), w - 0.1 * np.array(blocks), rtol=1e-12)
    with pytest.raises(ValueError, match="method"):
        sim.deep_linear_training(0, (1, 2), 2, 4, 0.1, 3, "sgd")
    with pytest.raises(ValueError, match="examples"):
        sim.deep_linear_training(0, (1,), 3, 2, 0.1, 3)
    with pytest.raises(ValueError, match="labels"):
        sim.empirical_fisher_gap(0, np.eye(2), np.eye(2), np.eye(2), 0.1, 4, 2, labels="data")
