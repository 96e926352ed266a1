"""analytic.hamiltonian against stated forms and independent computations; numeric.hamiltonian against numpy."""

import numpy as np
import pytest
import scipy.integrate
import scipy.optimize
import sympy as sp

from analytic import hamiltonian
from analytic.hamiltonian import _power, _quadratic
from analytic.hamiltonian._symbols import exponent, friction, position_rate
from analytic.symbols import beta, eta, lam, mu, t
from numeric import hamiltonian as sim


def _zero_at_points(expr, symbols, count=5, seed=0):
    """``expr`` vanishes (to float64 round-off, 1e-12) at ``count`` random points of ``symbols`` in (1, 3)."""
    values = np.random.default_rng(seed).uniform(1, 3, size=(len(symbols), count))
    assert np.all(np.abs(sp.lambdify(symbols, expr, "numpy")(*values)) < 1e-12), expr


def test_quadratic_flow_forms():
    rate = hamiltonian.flow_position_rate.expr
    assert rate.args[0][0] == friction / 2
    assert sp.expand(rate.args[1][0] - (friction - sp.sqrt(friction**2 - 4 * lam)) / 2) == 0
    assert _quadratic.flow_characteristic_polynomial() == _quadratic._s**2 + friction * _quadratic._s + lam
    assert hamiltonian.flow_optimal_friction.expr == 2 * sp.sqrt(mu)
    # the overflow-safe (Vieta) form equals the readable one, and the rate is continuous at critical damping
    values = hamiltonian.flow_position_rate(friction=np.array([1.0, 2.0, 3.0, 1e200]), lam=np.array([1.0, 1.0, 1.0, 1.0]))
    np.testing.assert_allclose(values, [0.5, 1.0, (3 - np.sqrt(5)) / 2, 1e-200], rtol=1e-12)


def test_flow_rate_against_scipy_ode():
    """|x(t)| of x'' + gamma x' + lam x = 0 (scipy solve_ivp) decays at flow_position_rate."""
    for g, curvature in [(0.6, 1.0), (5.0, 2.0)]:
        sol = scipy.integrate.solve_ivp(lambda _, y: [y[1], -curvature * y[0] - g * y[1]], (0, 60), [1.0, 0.0],
                                        rtol=1e-9, atol=1e-30, dense_output=True)
        times = np.linspace(30, 60, 601)
        y = sol.sol(times)
        slope = np.polyfit(times, 0.5 * np.log(y[0] ** 2 + y[1] ** 2), 1)[0]
        # oscillation of |(x, p)| over 30 time units biases the slope by < 0.01 (amplitude / window)
        assert abs(-slope - float(hamiltonian.flow_position_rate(friction=g, lam=curvature))) < 0.01


def test_first_explicit_is_heavy_ball_and_both_methods_share_the_polynomial():
    poly = sp.together(_quadratic.first_explicit_characteristic_polynomial())
    z = sp.Symbol("z")
    delta = 1 / (1 + friction * eta)
    stated = z**2 - (1 + delta - eta**2 * delta * lam) * z + delta
    assert sp.cancel(poly - stated) == 0
    # second explicit method: drift with the old momentum, then kick at the new position
    from analytic import _iteration_engine as engine
    x, p = _quadratic._x, _quadratic._p
    x_new = x + eta * p
    p_new = delta * (p - eta * lam * x_new)
    second = engine.characteristic_polynomial(engine.iteration_matrix((x_new, p_new), (x, p)))
    assert sp.cancel(second - stated) == 0
    assert sp.cancel(_quadratic._stable_trace() - (1 + delta - eta**2 * delta * lam)) == 0
    stated_edge = (friction + sp.sqrt(friction**2 + 4 * lam)) / lam
    for branch, _ in _quadratic._stable_edge().args:  # both branches of the overflow-safe edge are the edge
        _zero_at_points(branch - stated_edge, (friction, lam))
    edge = hamiltonian.first_explicit_max_learning_rate.expr
    assert sp.expand(edge - stated_edge) == 0
    _zero_at_points(stated.subs(z, -1).subs(eta, edge), (friction, lam))


def test_first_explicit_radius_against_numpy_eigenvalues():
    rng = np.random.default_rng(0)
    step, g, curvature = rng.uniform(0.01, 1, 50), rng.uniform(0.01, 5, 50), rng.uniform(0.01, 20, 50)
    delta = 1 / (1 + step * g)
    expected = [np.max(np.abs(np.linalg.eigvals(np.array([[1 - h * h * d * c, h * d], [-h * d * c, d]]))))
                for h, d, c in zip(step, delta, curvature)]
    np.testing.assert_allclose(hamiltonian.first_explicit_radius(eta=step, friction=g, lam=curvature), expected,
                               rtol=1e-7)  # eig of a near-defective 2x2 matrix: ~sqrt(machine epsilon) near D = 0


def test_power_derivations():
    assert hamiltonian.matched_kinetic_exponent.expr == exponent / (exponent - 1)
    assert hamiltonian.power_underdamped_loss_rate.expr == friction
    assert sp.expand(hamiltonian.power_ray_friction.expr
                     - ((exponent - 1) * position_rate + position_rate ** (1 - exponent))) == 0
    assert hamiltonian.power_critical_friction.expr == exponent
    # the rescaled field is Hamiltonian with energy X^b/b + P^a/a + sigma X P at sigma = friction / b
    X, Q, sigma = _power._X, _power._Q, _power._sigma
    X_dot, P_dot = (e.subs(sigma, friction / exponent) for e in _power.rescaled_field())
    a = exponent / (exponent - 1)
    energy = X**exponent / exponent + Q**a / a + friction / exponent * X * Q
    _zero_at_points(X_dot - sp.diff(energy, Q), (X, Q, friction, exponent))
    _zero_at_points(P_dot + sp.diff(energy, X), (X, Q, friction, exponent))
    # b = 2: the ray equation is the heavy-ball ODE's charpoly at unit curvature, s^2 - gamma s + 1 = 0
    ray2 = hamiltonian.power_ray_friction.expr.subs(exponent, 2)
    assert sp.expand(ray2 * position_rate - (position_rate**2 + 1)) == 0


def test_ray_solutions_hold_at_every_time():
    """x = e^(-s t), p = -(s)^(b-1) e^(-(b-1) s t) solves the flow at the ray friction (numbers, several t)."""
    b, s = 4.0, 0.7
    g = float(hamiltonian.power_ray_friction(position_rate=s, exponent=b))
    a = b / (b - 1)
    for time in (0.0, 1.3, 5.0):
        x, p = np.exp(-s * time), -(s ** (b - 1)) * np.exp(-(b - 1) * s * time)
        x_dot, p_dot = -s * x, -(b - 1) * s * p
        assert np.isclose(x_dot, -abs(p) ** (a - 1), rtol=1e-12)
        assert np.isclose(p_dot, -x ** (b - 1) - g * p, rtol=1e-12)


def test_power_loss_rate_composite():
    rates = np.asarray(hamiltonian.power_loss_rate([1.0, 3.9, 5.0, 8.0], 4.0))
    assert rates[0] == 1.0 and rates[1] == 3.9
    for g, r in zip((5.0, 8.0), rates[2:]):  # independent root: scipy brentq on 3 s + s^-3 = gamma
        s = scipy.optimize.brentq(lambda s: 3 * s + s**-3 - g, 1e-3, 1.0, xtol=1e-15, rtol=1e-15)
        assert abs(r - 4 * s) < 1e-12
    # b = 2 reproduces twice the heavy-ball ODE rate at unit curvature
    g = np.array([0.5, 1.5, 2.5, 6.0])
    np.testing.assert_allclose(hamiltonian.power_loss_rate(g, 2.0),
                               2 * np.asarray(hamiltonian.flow_position_rate(friction=g, lam=1.0)), rtol=1e-12)
    with pytest.raises(ValueError, match="exponent"):
        hamiltonian.power_loss_rate(1.0, 1.0)
    with pytest.raises(ValueError, match="friction"):
        hamiltonian.power_loss_rate(-1.0, 4.0)


def test_baseline_forms():
    assert sp.cancel(hamiltonian.gd_power_exponent.expr + exponent / (exponent - 2)) == 0
    stated = ((exponent - 2) * eta * t) ** (-exponent / (exponent - 2)) / exponent
    _zero_at_points(hamiltonian.gd_power_loss.expr.subs(exponent, sp.Rational(7, 2))
                    - stated.subs(exponent, sp.Rational(7, 2)), (eta, t))
    hb = hamiltonian.heavy_ball_power_loss.expr.subs(beta, sp.Rational(1, 2))
    _zero_at_points(hb - hamiltonian.gd_power_loss.expr.subs(eta, 2 * eta), (eta, t))
    _zero_at_points(hb.subs(exponent, 3) - hamiltonian.gd_power_loss.expr.subs({eta: 2 * eta, exponent: 3}), (eta, t))


def test_numeric_steps_against_numpy():
    g, h, b = 1.5, 0.05, 4.0
    a = b / (b - 1)
    for method in sim.METHODS:
        run = sim.hamiltonian_descent(0.8, 0.3, g, h, 5, exponent=b, kinetic_exponent=a, method=method)
        x, p = 0.8, 0.3
        d = 1 / (1 + g * h)
        for i in range(5):
            if method == "first":
                p = d * (p - h * np.sign(x) * abs(x) ** (b - 1))
                x = x + h * np.sign(p) * abs(p) ** (a - 1)
            else:
                x = x + h * np.sign(p) * abs(p) ** (a - 1)
                p = d * (p - h * np.sign(x) * abs(x) ** (b - 1))
        assert np.isclose(float(run.position[-1]), x, rtol=1e-12)
        assert np.isclose(float(run.energy[-1]), abs(x) ** b / b + abs(p) ** a / a, rtol=1e-12)
    hb = sim.heavy_ball(1.0, 0.1, 0.5, 3, exponent=4.0)
    xs = [1.0, 1.0]
    for _ in range(3):
        xs.append(xs[-1] - 0.1 * xs[-1] ** 3 + 0.5 * (xs[-1] - xs[-2]))
    np.testing.assert_allclose(np.asarray(hb.position), xs[1:], rtol=1e-12)
    assert not bool(sim.gradient_descent(1.0, 0.1, 3, exponent=4.0).diverged)
    assert bool(sim.gradient_descent(1.0, 3.0, 40).diverged)  # GD on x^2/2 with learning rate 3 > 2


@pytest.mark.parametrize("kwargs, match", [
    (dict(friction=0.0), "friction"), (dict(learning_rate=-1.0), "learning_rate"), (dict(steps=0), "steps"),
    (dict(exponent=1.0), "exponent"), (dict(method="third"), "method"), (dict(position=np.nan), "position")])
def test_bad_input(kwargs, match):
    args = dict(position=1.0, momentum=0.0, friction=1.0, learning_rate=0.1, steps=3)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        sim.hamiltonian_descent(**args)
    with pytest.raises(ValueError, match="momentum"):
        sim.heavy_ball(1.0, 0.1, 1.0, 3)
