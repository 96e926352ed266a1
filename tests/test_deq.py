"""analytic.deq against stated forms and independent computations; numeric.deq against numpy."""

import numpy as np
import pytest
import sympy as sp

from analytic import deq
from analytic.deq._symbols import drive, fixed_point, k, start, weight
from numeric import deq as sim


def test_linear_forms_are_the_stated_ones():
    z_star = drive / (1 - weight)
    assert sp.simplify(deq.linear_fixed_point.expr - z_star) == 0
    assert sp.simplify(deq.linear_ift_gradient.expr - sp.diff(z_star, weight)) == 0  # IFT = d z*/d weight
    stated = weight ** (k - 1) * (k * (start - z_star) - weight * drive / (1 - weight) ** 2)
    assert sp.simplify(deq.linear_unrolled_error.expr - stated) == 0
    # from the fixed point only rho^k survives
    assert sp.simplify(deq.linear_unrolled_error.expr.subs(start, z_star) + weight**k * drive / (1 - weight) ** 2) == 0


def test_linear_error_against_numpy_unrolling_by_exact_rationals():
    w, x, z0 = sp.Rational(2, 5), sp.Rational(-3, 7), sp.Rational(5, 3)
    for steps in (1, 2, 6):
        z, dz = z0, sp.Integer(0)  # forward-mode tangent of z_j in w, start held constant
        for _ in range(steps):
            z, dz = w * z + x, z + w * dz
        want = dz - x / (1 - w) ** 2
        assert deq.linear_unrolled_error.expr.subs({weight: w, drive: x, start: z0, k: steps}) == want


def test_tanh_forms_are_the_stated_ones():
    rate = weight * (1 - fixed_point**2)
    gradient = fixed_point * (1 - fixed_point**2) / (1 - rate)
    assert sp.simplify(deq.tanh_contraction_rate.expr - rate) == 0
    assert sp.simplify(deq.tanh_ift_gradient.expr - gradient) == 0
    assert sp.simplify(deq.tanh_unrolled_error_from_fixed_point.expr + rate**k * gradient) == 0


def test_tanh_gradient_against_numpy_fixed_point_and_finite_difference():
    def z_star(w, x):
        z = 0.0
        for _ in range(3000):
            z = np.tanh(w * z + x)
        return z

    w, x, h = 0.6, 0.4, 1e-6
    z = z_star(w, x)
    want = (z_star(w + h, x) - z_star(w - h, x)) / (2 * h)
    assert np.isclose(float(deq.tanh_ift_gradient(weight=w, fixed_point=z)), want, rtol=1e-8)  # central diff ~1e-10
    # the unrolled error from z* by numpy forward-mode tangents, 7 steps
    zz, dz = z, 0.0
    for _ in range(7):
        zz, dz = np.tanh(w * zz + x), (1 - np.tanh(w * zz + x) ** 2) * (zz + w * dz)
    got = float(deq.tanh_unrolled_error_from_fixed_point(weight=w, fixed_point=z, k=7))
    assert np.isclose(got, dz - float(deq.tanh_ift_gradient(weight=w, fixed_point=z)), rtol=1e-9)  # round-off


def test_numeric_deq_against_numpy():
    w, x, z0 = np.array([-0.5, 0.7]), np.array([0.3, -1.2]), np.array([1.0, 0.0])
    out = sim.implicit_gradient(w, x)
    np.testing.assert_allclose(out.fixed_point, x / (1 - w), rtol=1e-13)
    np.testing.assert_allclose(out.gradient, x / (1 - w) ** 2, rtol=1e-12)  # numpy: d/dw of x/(1-w)
    grads = np.asarray(sim.unrolled_gradients(w, x, z0, [0, 1, 3]))
    for i in range(2):  # numpy forward-mode tangents
        z, dz, want = z0[i], 0.0, [0.0]
        for j in range(3):
            z, dz = w[i] * z + x[i], z + w[i] * dz
            if j in (0, 2):
                want.append(dz)
        np.testing.assert_allclose(grads[i], want, rtol=1e-13, atol=1e-15)
    tanh = sim.implicit_gradient(0.5, 0.2, "tanh")
    assert abs(np.tanh(0.5 * float(tanh.fixed_point) + 0.2) - float(tanh.fixed_point)) < 1e-14
    assert np.isclose(float(sim.fixed_point_difference(0.5, 0.2, "tanh")), float(tanh.gradient), rtol=1e-8)


@pytest.mark.parametrize("call, error, match", [
    (lambda: deq.linear_fixed_point(weight=1.0, drive=1.0), ValueError, "'weight' = 1"),
    (lambda: deq.tanh_ift_gradient(weight=0.5, fixed_point=1.5), ValueError, "'fixed_point' = 1.5"),
    (lambda: deq.linear_unrolled_error(weight=0.5, drive=1.0, initial_state=0.0, k=0), ValueError, "'k' = 0"),
    (lambda: deq.linear_unrolled_error(weight=0.5, drive=1.0, initial_state=0.0, k=1.5), ValueError, "'k' = 1.5"),
    (lambda: sim.implicit_gradient(1.2, 1.0), ValueError, "weight must be finite with"),
    (lambda: sim.implicit_gradient(0.5, np.nan), ValueError, "drive must be finite"),
    (lambda: sim.implicit_gradient(0.5, 1.0, "relu"), ValueError, "layer must be one of"),
    (lambda: sim.unrolled_gradients(0.5, 1.0, 0.0, [-1, 2]), ValueError, "steps must be"),
    (lambda: sim.unrolled_gradients(0.5, 1.0, np.inf, [1, 2]), ValueError, "start must be finite"),
])
def test_bad_input(call, error, match):
    with pytest.raises(error, match=match):
        call()
