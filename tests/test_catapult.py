"""analytic.catapult against the paper's published map and direct iteration; numeric.catapult."""

import doctest

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy as sp

import analytic.catapult
from analytic import catapult
from analytic.catapult._symbols import f, lam0, n, y
from analytic.symbols import eta, lam
from numeric import catapult as sim


def test_package_example_runs_in_float64():
    assert doctest.testmod(analytic.catapult).failed == 0


# --- derived expressions equal the published forms (symbolic) ------------------
def test_uv_map_is_the_papers_map():
    f_next, lam_next = catapult.uv_map.expr
    assert catapult.uv_map.derived
    r = f - y  # Lewkowycz et al. 2020 (arXiv:2003.02218v1), sec. 2, written for general labels
    assert sp.simplify(f_next - (f - eta * lam * r + eta**2 * r**2 * f / n)) == 0
    assert sp.simplify(lam_next - (lam + eta * r / n * (eta * r * lam - 4 * f))) == 0
    # label 0: f' = (1 - eta lam + eta^2 f^2 / n) f, lam' = lam + (eta f^2 / n)(eta lam - 4)
    assert sp.simplify(f_next.subs(y, 0) - (1 - eta * lam + eta**2 * f**2 / n) * f) == 0
    assert sp.simplify(lam_next.subs(y, 0) - (lam + eta * f**2 / n * (eta * lam - 4))) == 0


@pytest.mark.parametrize("name, published", [("critical_lr", 2 / lam0), ("max_lr", 4 / lam0)])
def test_boundaries_are_2_and_4_over_lam0(name, published):
    formula = getattr(catapult, name)
    assert formula.derived
    assert sp.simplify(formula.expr - published) == 0


# --- uv_trajectory ------------------------------------------------------------------
def test_uv_trajectory_matches_hand_iteration_of_the_published_map():
    fv, lv, want_f, want_l = 0.3, 1.0, [0.3], [1.0]
    for _ in range(100):
        fv, lv = (1 - 3.0 * lv + 9.0 * fv**2 / 100) * fv, lv + 3.0 * fv**2 / 100 * (3.0 * lv - 4)
        want_f.append(fv)
        want_l.append(lv)
    got_f, got_l = catapult.uv_trajectory(3.0, 1.0, 0.3, 100, 100)
    assert got_f.dtype == jnp.float64 and got_f.shape == (101,) and got_l.shape == (101,)
    scale = np.max(np.abs(want_f))
    np.testing.assert_allclose(got_f / scale, np.array(want_f) / scale, atol=1e-12)  # round-off, |f| grows
    np.testing.assert_allclose(got_l, want_l, rtol=1e-12)


def test_uv_trajectory_matches_gd_on_explicit_vectors_with_a_label():
    u, v = sim.uv_vectors(jax.random.key(0), 300, 1.5, -0.4)
    direct = sim.gd_uv(u, v, 2.0, 100, label=0.8)  # eta * lam0 = 3: catapult
    f, lam_t = catapult.uv_trajectory(2.0, 1.5, -0.4, 300, 100, label=0.8)
    scale = float(jnp.max(jnp.abs(direct.f)))
    np.testing.assert_allclose(f / scale, direct.f / scale, atol=1e-11)  # float64 round-off through the spike
    np.testing.assert_allclose(lam_t, direct.lam, rtol=1e-11)


def test_three_phases_of_the_trajectory():
    _, lazy = catapult.uv_trajectory(1.5, 1.0, 0.5, 1000, 100)
    _, cat = catapult.uv_trajectory(3.0, 1.0, 0.5, 1000, 100)
    f_div, _ = catapult.uv_trajectory(4.5, 1.0, 0.5, 1000, 100)
    # lam drifts by sum_t eta f_t^2 (4 - eta lam) / n ~ 1.5 * 2.5 * 0.25 / (1 - 0.25) / 1000 = 1.25e-3
    assert abs(float(lazy[-1]) - 1.0) < 2e-3
    assert float(cat[-1]) < 2 / 3.0  # the catapult pushes lam below 2/eta
    assert not np.isfinite(float(f_div[-1])) or abs(float(f_div[-1])) > 1e6  # divergence is a result
    f0, l0 = catapult.uv_trajectory(1.0, 1.0, 0.5, 10, 0)
    assert f0.shape == (1,) and float(l0[0]) == 1.0


@pytest.mark.parametrize("eta_value, expected", [(1.99, "lazy"), (2.0, "catapult"), (3.99, "catapult"),
                                                 (4.0, "divergent"), (15.0, "divergent")])
def test_phase_boundaries(eta_value, expected):
    assert catapult.phase(eta_value, 1.0) == expected
    assert catapult.phase(eta_value / 2.5, 2.5) == expected  # only eta * lam0 matters


@pytest.mark.parametrize("call, match", [
    (lambda: catapult.uv_trajectory(0.0, 1.0, 0.1, 10, 5), "eta = 0.0"),
    (lambda: catapult.uv_trajectory(-1.0, 1.0, 0.1, 10, 5), "eta = -1.0"),
    (lambda: catapult.uv_trajectory(1.0, 0.0, 0.1, 10, 5), "lam0 = 0.0"),
    (lambda: catapult.uv_trajectory(1.0, 1.0, 0.1, 0.5, 5), "n = 0.5"),
    (lambda: catapult.uv_trajectory(1.0, 1.0, 0.1, 10, -1), "steps = -1"),
    (lambda: catapult.uv_trajectory(1.0, 1.0, 2.0, 10, 5), "f0 = 2.0 is not realisable"),
    (lambda: catapult.uv_trajectory(np.nan, 1.0, 0.1, 10, 5), "eta = nan"),
    (lambda: catapult.phase(1.0, -2.0), "lam0 = -2.0"),
    (lambda: catapult.critical_lr(lam0=0.0), "'lam0' = 0.0"),
])
def test_bad_input_raises_value_error_naming_parameter(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# --- numeric ------------------------------------------------------------------------
def test_uv_vectors_realise_lam0_and_f0():
    u, v = sim.uv_vectors(jax.random.key(1), 50, 2.0, 0.7)
    assert float((u @ u + v @ v) / 50) == pytest.approx(2.0, rel=1e-13)  # float64 round-off
    assert float(u @ v / np.sqrt(50)) == pytest.approx(0.7, rel=1e-13)


def test_gd_uv_matches_numpy_loop():
    u, v = sim.uv_vectors(jax.random.key(2), 300, 1.0, 0.2)  # shapes as in the test above: one compile
    run = sim.gd_uv(u, v, 0.5, 100, label=0.3)
    a, b = np.asarray(u), np.asarray(v)
    for _ in range(100):
        r = a @ b / np.sqrt(300) - 0.3
        a, b = a - 0.5 * r * b / np.sqrt(300), b - 0.5 * r * a / np.sqrt(300)
    assert float(run.f[-1]) == pytest.approx(a @ b / np.sqrt(300), rel=1e-12)
    assert float(run.lam[-1]) == pytest.approx((a @ a + b @ b) / 300, rel=1e-12)
    assert not bool(run.diverged)


def test_two_layer_ntk_matches_closed_form_of_the_linear_net():
    x = jax.random.normal(jax.random.key(3), (5, 3))
    params = sim.init_two_layer(jax.random.key(4), 64, 3)
    w, v = np.asarray(params["w"]), np.asarray(params["v"])
    # f = v^T W x / sqrt(n d): NTK = (|v|^2 x x'^T + x W^T W x'^T) / (n d)
    xs = np.asarray(x)
    gram = (v @ v * xs @ xs.T + xs @ w.T @ w @ xs.T) / (64 * 3)
    np.testing.assert_allclose(sim.ntk_gram(params, x, "linear"), gram, rtol=1e-12)
    assert float(sim.ntk_top_eigenvalue(params, x, "linear")) == pytest.approx(np.linalg.eigvalsh(gram)[-1],
                                                                              rel=1e-12)


def test_train_two_layer_flags_divergence():
    x = jax.random.normal(jax.random.key(5), (4, 3))
    params = sim.init_two_layer(jax.random.key(6), 32, 3)
    lam_top = float(sim.ntk_top_eigenvalue(params, x, "linear"))
    run = sim.train_two_layer(params, x, jnp.zeros(4), np.array([1.0, 6.0]) / lam_top, 200, "linear")
    assert run.losses.shape == (2, 201)
    assert not bool(run.diverged[0]) and bool(run.diverged[1])
    assert np.isnan(float(run.ntk_final[1]))


@pytest.mark.parametrize("call, match", [
    (lambda: sim.uv_vectors(jax.random.key(0), 10, 1.0, 5.0), "f0 = 5.0"),
    (lambda: sim.uv_vectors(jax.random.key(0), 1, 1.0, 0.0), "n = 1"),
    (lambda: sim.gd_uv(jnp.ones(3), jnp.ones(4), 0.1, 5), "equal length"),
    (lambda: sim.gd_uv(jnp.ones(3), jnp.ones(3), 0.0, 5), "eta = 0.0"),
    (lambda: sim.init_two_layer(jax.random.key(0), 0, 3), "width = 0"),
    (lambda: sim.ntk_top_eigenvalue({"w": jnp.ones((2, 2)), "v": jnp.ones(2)}, jnp.ones((1, 2)), "tanh"),
     "activation"),
])
def test_numeric_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def test_a_wrong_boundary_fails_a_row():
    """Negative control: 3/lam0 in place of the derived 2/lam0 (or 4/lam0) is caught on trained nets."""
    import dataclasses

    from verify import core

    chk = core.registry()["catapult.two_layer_linear"]
    for arg, name in (("critical_lr", "critical_lr"), ("max_lr", "max_lr")):
        wrong = dataclasses.replace(getattr(catapult, name), name="3/lam0", expr=3 / lam0, derived=False,
                                    derivation="wrong")
        rows = list(chk(core.Context(size="smoke"), **{arg: wrong}))
        assert any(not r.passed for r in rows if "boundary" in r.label), arg


# --- uv_trajectory on arrays and under jax.vmap (issue 32) ------------------------------------
def test_uv_trajectory_takes_an_array_of_learning_rates_and_vmaps():
    etas = np.array([1.5, 3.0, 4.5])
    f, lam = catapult.uv_trajectory(etas, 1.0, 0.5, 1000, 50)
    assert f.shape == lam.shape == (3, 51)
    # Round-off: a few flops per step each rounding once, relative errors adding along the 50 steps
    # (XLA may contract or fuse the batched, scalar and vmapped programs differently): 8 ulps a step.
    rtol = 8 * 50 * np.finfo(float).eps
    for i, eta in enumerate(etas):  # the sweep is the scalar calls
        f_i, lam_i = catapult.uv_trajectory(float(eta), 1.0, 0.5, 1000, 50)
        np.testing.assert_allclose(f[i], f_i, rtol=rtol, atol=0)
        np.testing.assert_allclose(lam[i], lam_i, rtol=rtol, atol=0)
    f_v, lam_v = jax.vmap(lambda e: catapult.uv_trajectory(e, 1.0, 0.5, 1000, 50))(jnp.asarray(etas))
    np.testing.assert_allclose(f_v, f, rtol=rtol, atol=0)
    np.testing.assert_allclose(lam_v, lam, rtol=rtol, atol=0)
    assert np.isinf(f[2, -1]) and abs(f[1, -1]) < 1e-3  # 4.5 diverges, 3.0 catapults back down


def test_uv_trajectory_array_errors_name_the_bad_value():
    with pytest.raises(ValueError, match="eta = -1.0 must be in"):
        catapult.uv_trajectory(np.array([1.0, -1.0]), 1.0, 0.1, 10, 5)
    with pytest.raises(ValueError, match="f0 = 2.0 is not realisable"):
        catapult.uv_trajectory(1.0, 1.0, np.array([0.1, 2.0]), 10, 5)
    with pytest.raises(TypeError, match="'eta'"):
        catapult.uv_trajectory([[1.0], [1.0, 2.0]], 1.0, 0.1, 10, 5)
