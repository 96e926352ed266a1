"""analytic.eos against published thresholds and numerical spectral radii; numeric.eos."""

import doctest

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy as sp
from jax.flatten_util import ravel_pytree

import analytic.eos
from analytic import eos
from analytic.symbols import beta, eta, lam
from numeric import eos as sim


def test_package_example_runs_in_float64():
    assert doctest.testmod(analytic.eos).failed == 0


@pytest.mark.parametrize("method, published", [
    ("gd", 2 / eta),
    ("heavy_ball", (2 + 2 * beta) / eta),  # Cohen et al. 2021 (arXiv:2103.00065v3), momentum appendix
    ("nesterov", (2 + 2 * beta) / ((1 + 2 * beta) * eta)),
])
def test_thresholds_match_published_forms(method, published):
    formula = getattr(eos, f"{method}_sharpness_threshold")
    assert formula.derived
    assert sp.simplify(formula.expr - published) == 0


def test_heavy_ball_and_nesterov_reduce_to_gd_without_momentum():
    for method in ("heavy_ball", "nesterov"):
        expr = getattr(eos, f"{method}_sharpness_threshold").expr
        assert sp.simplify(expr.subs(beta, 0) - eos.gd_sharpness_threshold.expr) == 0


@pytest.mark.parametrize("method", ["gd", "heavy_ball", "nesterov"])
@pytest.mark.parametrize("eta_value, beta_value", [(0.1, 0.0), (0.5, 0.3), (0.05, 0.9)])
def test_spectral_radius_crosses_one_at_the_threshold(method, eta_value, beta_value):
    if method == "gd" and beta_value:
        pytest.skip("GD has no momentum")
    formula = getattr(eos, f"{method}_sharpness_threshold")
    edge = float(formula(eta=eta_value) if method == "gd" else formula(eta=eta_value, beta=beta_value))
    matrix = sp.lambdify((eta, beta, lam), eos.iteration_matrix(method), "numpy")
    radius = lambda s: np.max(np.abs(np.linalg.eigvals(np.array(matrix(eta_value, beta_value, s), float))))
    assert radius(0.999 * edge) < 1 < radius(1.001 * edge)
    # every smaller curvature is stable too (the unit disc has no other exit below the edge)
    assert all(radius(s * edge) < 1 for s in np.linspace(0.0, 0.999, 200)[1:])


@pytest.mark.parametrize("call, match", [
    (lambda: eos.gd_sharpness_threshold(eta=0.0), "'eta' = 0.0"),
    (lambda: eos.heavy_ball_sharpness_threshold(eta=0.1, beta=1.0), "'beta' = 1.0"),
    (lambda: eos.nesterov_sharpness_threshold(eta=0.1, beta=-0.1), "'beta' = -0.1"),
    (lambda: eos.iteration_matrix("adam"), "method = 'adam'"),
])
def test_bad_input_raises_value_error_naming_parameter(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# --- numeric ------------------------------------------------------------------------
def test_quadratic_growth_is_stable_below_and_unstable_above():
    lams = jnp.array([19.0, 21.0])  # GD at eta = 0.1: edge 20
    growth = sim.quadratic_growth("gd", 0.1, 0.0, lams, 500)
    assert float(growth[0]) < 1e-3 and float(growth[1]) > 1e3


def test_train_with_sharpness_records_the_dense_hessian_top_eigenvalue():
    x = jax.random.normal(jax.random.key(0), (10, 3))
    y = jnp.sign(x[:, 0])
    params = sim.init_mlp(jax.random.key(1), 3, 4, 1)
    # run 0: tanh GD; run 1: ReLU Nesterov (one compiled call for both)
    run = sim.train_with_sharpness(params, x, y, [0.1, 0.1], [0.0, 0.5], 20, ["tanh", "relu"], record_every=10,
                                   lanczos=21, nesterov=[False, True])  # 21 = parameter count: Lanczos is exact
    assert run.losses.shape == (2, 21) and run.sharpness.shape == (2, 3)
    flat, unravel = ravel_pytree(params)
    # jitted: one program, not one compilation per primitive of the eager Hessian (141 in all)
    dense = jax.jit(jax.hessian(lambda p: sim.mse_loss(unravel(p), x, y, "tanh")))(flat)
    assert float(run.sharpness[0, 0]) == pytest.approx(np.linalg.eigvalsh(np.asarray(dense))[-1], rel=1e-8)
    # hand-written loops for 10 steps give the same losses
    for i, (activation, beta, look) in enumerate((("tanh", 0.0, 0.0), ("relu", 0.5, 1.0))):
        @jax.jit
        def step(now, before):  # Nesterov (look = 1): the gradient at the look-ahead point
            ahead = now + look * beta * (now - before)
            grad = jax.grad(lambda v: sim.mse_loss(unravel(v), x, y, activation))(ahead)
            return now - 0.1 * grad + beta * (now - before), now

        now, before = flat, flat
        for _ in range(10):
            now, before = step(now, before)
        loss = jax.jit(lambda v, activation=activation: sim.mse_loss(unravel(v), x, y, activation))(now)
        assert float(run.losses[i, 10]) == pytest.approx(float(loss), rel=1e-12)


@pytest.mark.parametrize("call, match", [
    (lambda: sim.init_mlp(jax.random.key(0), 3, 0, 1), "width = 0"),
    (lambda: sim.quadratic_growth("adam", 0.1, 0.0, 1.0), "method = 'adam'"),
    (lambda: sim.train_with_sharpness([], jnp.ones((2, 2)), jnp.ones(2), [0.1], [1.0], 10, "tanh"), "betas"),
    (lambda: sim.train_with_sharpness([], jnp.ones((2, 2)), jnp.ones(2), [0.0], [0.0], 10, "tanh"), "etas"),
    (lambda: sim.train_with_sharpness([], jnp.ones((2, 2)), jnp.ones(2), [0.1], [0.0], 10, "gelu"),
     "activation"),
    (lambda: sim.train_with_sharpness([], jnp.ones((2, 2)), jnp.ones(2), [0.1], [0.0], 10, "tanh", nesterov=0.5),
     "nesterov"),
    (lambda: sim.train_with_sharpness([], jnp.ones((2, 2)), jnp.ones(2), [0.1, 0.2], [0.0], 10,
                                      ["tanh", "relu", "tanh"]), "broadcast"),
])
def test_numeric_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


def _wrong(name, expr):
    import dataclasses

    formula = getattr(eos, name)
    return dataclasses.replace(formula, name=f"{name} (wrong)", expr=expr, derived=False, derivation="wrong")


def test_a_wrong_threshold_fails_a_row():
    """Negative control: 3/eta in place of the derived 2/eta is caught on the trained MLP."""
    from verify import core

    chk = core.registry()["eos.gd_edge"]
    rows = list(chk(core.Context(size="smoke"), threshold=_wrong("gd_sharpness_threshold", 3 / eta)))
    failed = [r.label for r in rows if not r.passed]
    assert any("window median sharpness" in label for label in failed)
