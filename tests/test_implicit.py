"""analytic.implicit against the published modified loss and independent computations; numeric.implicit."""

import numpy as np
import pytest
import sympy as sp

from analytic import implicit
from analytic.formula import Formula
from analytic.implicit._symbols import w1, w2, y
from analytic.symbols import eta, lam, t
from numeric import implicit as sim

a, b = sp.symbols("a b", real=True)


@pytest.mark.parametrize("loss", [(w1 * w2 - y) ** 2, sp.cos(a) * b**2 + a**4, sp.exp(a) * b])
def test_modified_loss_is_barrett_dherin_eq_1(loss):
    params = sorted(loss.free_symbols - {y}, key=str)
    gradient = [sp.diff(loss, p) for p in params]
    published = loss + eta / 4 * sum(g**2 for g in gradient)
    assert sp.simplify(implicit.modified_loss(loss, params) - published) == 0
    assert implicit.factorisation_modified_loss.derived


def test_second_order_field_is_the_known_expansion():
    loss = a**3 * b + a * b**4  # polynomial: expand decides equality
    params = [a, b]
    g = sp.Matrix([sp.diff(loss, p) for p in params])
    H = sp.hessian(loss, params)
    third = sp.Matrix([sum(sp.diff(loss, p, q, r) * g[j] * g[k] for j, q in enumerate(params)
                           for k, r in enumerate(params)) for p in params])
    want = -g - eta / 2 * H * g + eta**2 * (-(H * H * g) / 3 - third / 12)
    got = sp.Matrix(implicit.modified_flow(loss, params, order=2))
    assert sp.expand(got - want) == sp.zeros(2, 1)


def test_gd_step_matches_modified_flow_map_to_third_order():
    # One GD step vs the flow of the order-1 field for time eta (Taylor series in eta): O(eta^3).
    loss, params = a**4 / 4 + a**2 * b**2 / 2, [a, b]
    field = sp.Matrix(implicit.modified_flow(loss, params, order=1))
    point = {a: sp.Rational(1, 3), b: sp.Rational(-1, 2)}
    gd = sp.Matrix([-eta * sp.diff(loss, p) for p in params]).subs(point)
    term, flow = field, sp.zeros(2, 1)
    for j in range(1, 4):
        flow += eta**j / sp.factorial(j) * term
        term = term.jacobian(params) * field
    mismatch = (flow.subs(point) - gd).applyfunc(lambda e: sp.series(e, eta, 0, 3).removeO())
    assert sp.expand(mismatch) == sp.zeros(2, 1)


def test_balance_is_conserved_by_the_flow_and_drifts_under_gd():
    loss = implicit.factorisation_loss.expr
    flow = {w1: -sp.diff(loss, w1), w2: -sp.diff(loss, w2)}
    assert sp.expand(2 * w1 * flow[w1] - 2 * w2 * flow[w2]) == 0  # d/dt (w1^2 - w2^2) = 0
    drift = implicit.factorisation_balance_drift.expr
    assert sp.simplify(drift + 4 * eta**2 * (w1 * w2 - y) ** 2 * (w1**2 - w2**2)) == 0


def test_gradient_flow_matches_closed_form():
    quadratic = Formula(expr=lam * t**2 / 2, params=(lam, t), derived=False, source="test")  # t as the state
    path = np.asarray(implicit.gradient_flow(quadratic, ("t",), [1.5], 2.0, 400, lam=0.7))
    want = 1.5 * np.exp(-0.7 * np.linspace(0, 2, 401))
    np.testing.assert_allclose(path[:, 0], want, rtol=1e-10)  # RK4, dt = 5e-3: error ~ dt^4


@pytest.mark.parametrize("call, error, match", [
    (lambda: implicit.modified_loss(a**2, []), TypeError, "non-empty sequence"),
    (lambda: implicit.modified_loss(a**2, ["a"]), TypeError, "sympy Symbols"),
    (lambda: implicit.modified_loss(eta * a**2, [a]), ValueError, "step size symbol"),
    (lambda: implicit.modified_loss(b**2, [a]), ValueError, "does not depend"),
    (lambda: implicit.modified_loss(a**2, [a], order=2), ValueError, "order must be 0 or 1"),
    (lambda: implicit.modified_flow(a**2, [a], order=7), ValueError, r"order must be an integer in \[0, 3\]"),
    (lambda: implicit.modified_loss(sp.Matrix([a, a]), [a]), TypeError, "scalar"),
    (lambda: implicit.gradient_flow(implicit.factorisation_loss, ("w1",), [1.0], 1.0, 10, y=1.0),
     ValueError, "missing"),
    (lambda: implicit.factorisation_modified_loss(eta=-0.1, w1=1.0, w2=1.0, y=1.0), ValueError, "'eta' = -0.1"),
])
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_gd_factorisation_matches_numpy_loop():
    run = sim.gd_factorisation([1.2, -0.4], 0.8, 0.05, 30)
    w = np.array([1.2, -0.4])
    for _ in range(30):
        r = w[0] * w[1] - 0.8
        w = w - 0.05 * 2 * r * np.array([w[1], w[0]])
    np.testing.assert_allclose(np.asarray(run.weights[-1]), w, rtol=1e-13)
    assert not bool(run.diverged)


@pytest.mark.parametrize("call, match", [
    (lambda: sim.gd_factorisation([1.0], 1.0, 0.1, 5), "w0"),
    (lambda: sim.gd_factorisation([1.0, 1.0], 1.0, 0.0, 5), "eta"),
    (lambda: sim.gd_factorisation([1.0, 1.0], np.nan, 0.1, 5), "y"),
    (lambda: sim.gd_factorisation([1.0, 1.0], 1.0, 0.1, 0), "steps"),
])
def test_numeric_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()


# --- SGD's implicit regulariser (Smith, Dherin, Barrett, De 2021) ---------------------------
def test_sgd_modified_loss_is_smith_et_al_form():
    c = sp.symbols("c1:4", real=True)
    losses = [(a * b - c[0]) ** 2 / 2, (a + b**2 - c[1]) ** 2 / 2, (a**2 - c[2] * b) ** 2 / 2]
    m = len(losses)
    full = sum(losses) / m
    grads = [[sp.diff(loss, p) for p in (a, b)] for loss in losses]
    full_grad = [sp.diff(full, p) for p in (a, b)]
    published = full + eta / 4 * sum(g**2 for g in full_grad) + eta / (4 * m) * sum(
        (gk[i] - full_grad[i]) ** 2 for gk in grads for i in range(2))
    assert sp.expand(implicit.sgd_modified_loss(losses, [a, b]) - published) == 0
    assert implicit.sgd_least_squares_modified_loss.derived
    # one minibatch: SGD is GD and the regulariser is GD's eta/4 |grad L|^2
    assert sp.expand(implicit.sgd_modified_loss([losses[0]], [a, b]) - implicit.modified_loss(losses[0], [a, b])) == 0


def test_mean_sgd_matches_numpy_average_over_orders():
    import itertools

    features, targets = np.array(implicit.LEAST_SQUARES_BATCHES), np.array(implicit.LEAST_SQUARES_TARGETS)
    path = np.asarray(sim.mean_sgd_least_squares(features, targets, [1.0, -1.0], 0.1, 3, max_epochs=5))
    w = np.array([1.0, -1.0])
    for _ in range(3):
        ends = []
        for order in itertools.permutations(range(3)):
            v = w.copy()
            for k in order:
                v = v - 0.1 * features[k].T @ (features[k] @ v - targets[k]) / 2
            ends.append(v)
        w = np.mean(ends, axis=0)
    assert path.shape == (4, 2)
    np.testing.assert_allclose(path[-1], w, rtol=1e-13)


@pytest.mark.parametrize("call, error, match", [
    (lambda: implicit.sgd_modified_loss(a**2, [a]), TypeError, "sequence of sympy expressions"),
    (lambda: implicit.sgd_modified_loss([a] * 6, [a]), ValueError, "1 to 5 losses"),
    (lambda: sim.mean_sgd_least_squares(np.ones((3, 2)), np.ones(3), [0.0], 0.1, 2), ValueError, "features"),
    (lambda: sim.mean_sgd_least_squares(np.ones((3, 2, 2)), np.ones((3, 2)), [0.0, 0.0], 0.1, 5, 3),
     ValueError, "epochs"),
])
def test_sgd_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()


# --- balancedness of deep linear networks -------------------------------------------------
def test_chain_balance_drift_is_eta_squared_gradient_difference():
    from analytic.implicit._symbols import w3

    loss = (w3 * w2 * w1 - y) ** 2 / 2
    grads = [sp.diff(loss, w) for w in (w1, w2, w3)]
    drift = implicit.chain_balance_drift.expr
    for i in range(2):
        assert sp.expand(drift[i] - eta**2 * (grads[i + 1] ** 2 - grads[i] ** 2)) == 0
        flow = 2 * [w2, w3][i] * -grads[i + 1] - 2 * [w1, w2][i] * -grads[i]
        assert sp.expand(flow) == 0  # d/dt (w_{i+1}^2 - w_i^2) = 0 under the flow


def test_matrix_balance_drift_matches_gd_with_autodiff():
    rng = np.random.default_rng(2)
    weights = [0.6 * rng.normal(size=(3, 2)), 0.6 * rng.normal(size=(2, 3))]
    x, target = rng.normal(size=(2, 5)), rng.normal(size=(2, 5))
    run = sim.gd_deep_linear(weights, x, target, 0.1, 3)
    for t in range(3):
        predicted = implicit.deep_linear_balance_drift([np.asarray(w)[t] for w in run.weights], x, target, 0.1)
        measured = np.asarray(run.balances[0])[t + 1] - np.asarray(run.balances[0])[t]
        np.testing.assert_allclose(np.asarray(predicted[0]), measured, atol=1e-14)


@pytest.mark.parametrize("call, match", [
    (lambda: sim.gd_deep_linear([np.ones((2, 2))], np.ones((2, 3)), np.ones((2, 3)), 0.1, 3), "at least|>= 2"),
    (lambda: sim.gd_deep_linear([np.ones((2, 2)), np.ones((3, 3))], np.ones((2, 3)), np.ones((3, 3)), 0.1, 3),
     "do not chain"),
    (lambda: sim.gd_deep_linear([np.ones((2, 2))] * 2, np.ones((2, 3)), np.ones((2, 3)), 0.0, 3), "eta"),
])
def test_deep_linear_bad_input(call, match):
    with pytest.raises(ValueError, match=match):
        call()
