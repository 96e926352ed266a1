"""analytic.eos_mechanisms against the loss itself (sympy, numpy); numeric.eos_mechanisms against numpy."""

import numpy as np
import pytest
import sympy as sp

from analytic import eos_mechanisms
from analytic.eos_mechanisms._symbols import imbalance, product
from analytic.symbols import eta
from numeric import eos_mechanisms as sim


def _gd_step(x, y, rate):
    r = 1 - (x * y) ** 2
    return x + rate * r * x * y**2, y + rate * r * x**2 * y


def test_stated_forms():
    assert sp.simplify(eos_mechanisms.imbalance_factor.expr - (1 - eta**2 * (1 - product**2) ** 2 * product**2)) == 0
    assert sp.simplify(eos_mechanisms.product_multiplier.expr - (1 - 2 * eta * sp.sqrt(imbalance**2 + 4))) == 0
    edge = eos_mechanisms.edge_imbalance.expr
    assert sp.simplify(eos_mechanisms.valley_sharpness.expr.subs(imbalance, edge) - 2 / eta) == 0
    assert sp.simplify(edge.subs(eta, sp.Rational(1, 2))) == 0  # the flattest minimum is the edge at eta = 1/2


def test_forms_against_numpy_gd_step_and_finite_difference_hessian():
    rng = np.random.default_rng(0)
    for _ in range(5):
        x, y, rate = rng.uniform(0.3, 2.0), rng.uniform(0.3, 2.0), rng.uniform(0.01, 0.4)
        x1, y1 = _gd_step(x, y, rate)
        ratio = (x1**2 - y1**2) / (x**2 - y**2)
        assert ratio == pytest.approx(float(eos_mechanisms.imbalance_factor(eta=rate, product=x * y)), rel=1e-10)
    x = 1.7  # a minimum (x, 1/x): central-difference Hessian's top eigenvalue
    h, loss = 1e-4, lambda w: (1 - (w[0] * w[1]) ** 2) ** 2 / 4
    point, hess = np.array([x, 1 / x]), np.zeros((2, 2))
    for i in range(2):
        for j in range(2):
            e_i, e_j = np.eye(2)[i] * h, np.eye(2)[j] * h
            hess[i, j] = (loss(point + e_i + e_j) - loss(point + e_i - e_j) - loss(point - e_i + e_j)
                          + loss(point - e_i - e_j)) / (4 * h * h)
    top = np.linalg.eigvalsh(hess)[-1]
    predicted = float(eos_mechanisms.valley_sharpness(imbalance=x**2 - 1 / x**2))
    assert top == pytest.approx(predicted, rel=1e-6)  # central difference O(h^2) ~ 1e-8, rounding eps/h^2 ~ 1e-8


def test_multiplier_against_gd_on_the_valley():
    """A tiny offset from the minimum is multiplied by 1 - 2 eta sqrt(d^2 + 4) in one GD step."""
    x, rate, offset = 1.4, 0.2, 1e-7
    d = x**2 - 1 / x**2
    x1, y1 = _gd_step(x * (1 + offset), 1 / x, rate)
    measured = (x1 * y1 - 1) / offset  # p - 1 = offset at first order
    # second-order terms: O(offset) ~ 1e-7 times coefficients of a few units; central rounding eps/offset ~ 1e-9
    assert measured == pytest.approx(float(eos_mechanisms.product_multiplier(eta=rate, imbalance=d)), abs=5e-6)


def test_numeric_bad_input_and_edge_domain():
    with pytest.raises(ValueError, match="learning_rate"):
        sim.minimalist_gd([1.0], [1.0], [-0.1], 3)
    with pytest.raises(ValueError, match="steps"):
        sim.minimalist_gd([1.0], [1.0], [0.1], 0)
    with pytest.raises(ValueError, match="parameter 'eta'"):
        eos_mechanisms.edge_imbalance(eta=0.6)
    run = sim.minimalist_gd([3.0 * 1.01], [1.0 / 3.0], [1.0], 50)  # sharpness ~ 18 vs 2/eta = 2: no stable minimum
    assert run.diverged[0] or abs(run.x[0, -1] * run.y[0, -1]) != pytest.approx(1.0)


def test_self_stabilisation_map_against_a_numpy_gd_step_on_a_cubic_loss():
    """One GD step on an explicit cubic loss in three coordinates (numpy), read in the model's
    coordinates, against the two step Formulas; the neglected terms are absent by construction."""
    rng = np.random.default_rng(1)
    for _ in range(5):
        rate = rng.uniform(0.1, 0.5)
        sharp, t_xxw, g_w, other = 2 / rate + rng.uniform(-0.5, 0.5), rng.uniform(0.5, 3.0), rng.uniform(-1, 1), 1.3
        # L = g_W W + (sharp X^2 + other Z^2) / 2 + t_xxw X^2 W / 2: u = e_X, grad S_perp = t_xxw e_W
        grad = lambda th: np.array([sharp * th[0] + t_xxw * th[0] * th[1],  # noqa: E731
                                    g_w + t_xxw * th[0] ** 2 / 2, other * th[2]])
        theta = np.array([rng.uniform(-0.3, 0.3), rng.uniform(-0.2, 0.2), rng.uniform(-1, 1)])
        new = theta - rate * grad(theta)
        x, y = theta[0], sharp - 2 / rate + t_xxw * theta[1]
        alpha, beta = -g_w * t_xxw, t_xxw**2
        x_pred = float(eos_mechanisms.self_stabilisation_displacement_step(eta=rate, displacement=x, sharpness_excess=y))
        y_pred = float(eos_mechanisms.self_stabilisation_sharpness_step(
            eta=rate, sharpness_excess=y, sharpening_rate=alpha, stabilisation_strength=beta, displacement=x))
        assert new[0] == pytest.approx(x_pred, rel=1e-12, abs=1e-15)  # float64 round-off of one step
        assert sharp - 2 / rate + t_xxw * new[1] == pytest.approx(y_pred, rel=1e-12, abs=1e-14)


def test_self_stabilisation_orbit_by_iterating_the_map():
    """Iterated in numpy, the map started at (sqrt(2 alpha/beta), 0) returns there every second step;
    over one cycle around it the mean of x^2 is 2 alpha / beta up to the telescoped end term; the
    orbit is weakly unstable: F o F's Jacobian there has eigenvalues of modulus 1 + 2 eta^2 alpha."""
    rate, alpha, beta = 0.5, 0.01, 6.0
    amp = float(eos_mechanisms.self_stabilisation_amplitude(sharpening_rate=alpha, stabilisation_strength=beta))
    assert amp == pytest.approx(np.sqrt(2 * alpha / beta), rel=1e-15)
    x, y = amp, 0.0
    for _ in range(4):
        x, y = -(1 + rate * y) * x, y + rate * (alpha - beta * x**2 / 2)
    assert (x, y) == pytest.approx((amp, 0.0), abs=1e-15)  # round-off of four steps
    x, y, xs, ys = 0.5 * amp, 0.0, [], []
    for _ in range(300):  # off the orbit: cycles of about 2 pi / (eta sqrt(2 alpha)) = 89 steps around it
        xs.append(x), ys.append(y)
        x, y = -(1 + rate * y) * x, y + rate * (alpha - beta * x**2 / 2)
    ys = np.asarray(ys)
    returns = np.nonzero((ys[:-1] < 0) & (ys[1:] >= 0))[0]  # y crosses upward once per cycle
    first, last = returns[0] + 1, returns[1] + 1  # one cycle
    mean_square = np.mean(np.square(xs[first:last]))
    boundary = 2 * abs(ys[last] - ys[first]) / (rate * beta * (last - first))  # the telescoped remainder
    assert mean_square == pytest.approx(2 * alpha / beta, abs=boundary + 1e-12)
    assert boundary < 0.05 * 2 * alpha / beta  # the end term is small: the statement is not empty
    x_s, y_s = sp.symbols("x y", real=True)
    step = lambda u, v: (-(1 + eta * v) * u, v + eta * (sp.Symbol("a") - sp.Symbol("b") * u**2 / 2))  # noqa: E731
    twice = step(*step(x_s, y_s))
    jac = sp.Matrix(twice).jacobian([x_s, y_s]).subs({x_s: sp.sqrt(2 * sp.Symbol("a") / sp.Symbol("b")), y_s: 0})
    values = [complex(v.subs({eta: rate, sp.Symbol("a"): alpha, sp.Symbol("b"): beta})) for v in jac.eigenvals()]
    assert [abs(v) for v in values] == pytest.approx([1 + 2 * rate**2 * alpha] * 2, rel=1e-12)


def test_self_stabilisation_bad_input():
    import jax

    key = jax.random.PRNGKey(0)
    with pytest.raises(ValueError, match="learning_rate"):
        sim.self_stabilisation(key, learning_rate=-0.5)
    with pytest.raises(ValueError, match="window"):
        sim.self_stabilisation(key, steps=10, window=10)
    with pytest.raises(ValueError, match="width"):
        sim.self_stabilisation(key, width=0)
    with pytest.raises(ValueError, match="parameter 'sharpening_rate'"):
        eos_mechanisms.self_stabilisation_amplitude(sharpening_rate=-1.0, stabilisation_strength=1.0)


def test_self_stabilisation_run_is_consistent():
    """The check's run (same sizes: the compiled programs are shared): the window holds the event,
    the top eigenpair from numpy's eigh of the jitted Hessian agrees with a direct power iteration."""
    import jax

    run = sim.self_stabilisation(jax.random.PRNGKey(12), steps=420, window=80)
    eta = run.learning_rate
    assert run.crossing > 40 and run.iterate_sharpness[run.crossing] >= 2 / eta > run.iterate_sharpness[run.crossing - 1]
    y = run.centre_sharpness - 2 / eta
    assert y.max() > 0 > y.min()  # above the edge, then back below it within the window
    assert run.stabilisation_strength.min() > 0 and np.all(np.isfinite(run.even_rate))
