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
