"""analytic.signal and the any-activation kernels against closed forms, published values and
independent computations; numeric.signal."""

import math

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.integrate
import sympy as sp

from analytic import kernels, signal
from analytic.kernels._symbols import q, sigma_w
from analytic.signal._symbols import chi, fan_in, fan_out, layers
from numeric import signal as sim


# --- the Formulas equal the published forms ----------------------------------------------
@pytest.mark.parametrize("name, published", [
    ("kaiming_variance", 2 / fan_in),                      # He et al. 2015, eq. (10)
    ("xavier_variance", 2 / (fan_in + fan_out)),           # Glorot and Bengio 2010, eq. (12)
    ("relu_xavier_variance", 4 / (fan_in + fan_out)),
    ("relu_critical_sigma_w", sp.sqrt(2)),
    ("depth_scale", -1 / sp.log(chi)),                     # Schoenholz et al. 2017
    ("gradient_growth", chi**layers),
])
def test_derivations_match_published_forms(name, published):
    formula = getattr(signal, name)
    assert formula.derived
    assert sp.simplify(formula.expr - published) == 0


def test_zero_bias_critical_sigma_w_is_xavier_for_tanh_and_sqrt_pi_over_2_for_erf():
    assert float(signal.zero_bias_critical_sigma_w(slope0=1.0)) == 1.0  # tanh'(0) = 1
    assert float(signal.zero_bias_critical_sigma_w(slope0=2 / math.sqrt(math.pi))) == pytest.approx(
        math.sqrt(math.pi) / 2, rel=1e-15)


def test_erf_boundary_starts_at_zero_bias_critical_point_and_solves_chi1():
    boundary = signal.erf_order_chaos_boundary
    assert sp.simplify(boundary.expr.subs(sigma_w, sp.sqrt(sp.pi) / 2)) == 0
    for w in (1.0, 1.5, 2.5):  # chi_1(q*) = 1 on the curve, q* from the variance map
        b = float(boundary(sigma_w=w))
        q_star = float(kernels.variance_fixed_point("erf", w, b))
        assert float(kernels.erf_chi1(q=q_star, sigma_w=w)) == pytest.approx(1.0, abs=1e-9)


# --- quadrature dual maps ---------------------------------------------------------------------
@pytest.mark.parametrize("k", [(1.0, 1.0, 0.3), (0.5, 0.8, -0.4), (1.0, 0.7, 0.8), (0.3, 0.3, 0.0)])
def test_quadrature_matches_erf_closed_forms_in_float64(k):
    duals = kernels.quadrature_duals("erf")
    args = [jnp.asarray(v) for v in k]
    named = dict(zip(("k11", "k22", "k12"), k))
    assert float(duals.nngp.jax(*args)) == pytest.approx(float(kernels.erf_nngp(**named)), abs=1e-12)
    assert float(duals.derivative.jax(*args)) == pytest.approx(float(kernels.erf_derivative(**named)), abs=1e-12)


def test_quadrature_derivative_map_is_the_k12_derivative_of_the_nngp_map():  # Price's theorem
    duals = kernels.quadrature_duals("tanh")
    slope = jax.grad(lambda c: duals.nngp.jax(jnp.asarray(0.9), jnp.asarray(1.2), c))(jnp.asarray(0.4))
    assert float(slope) == pytest.approx(float(duals.derivative.jax(*map(jnp.asarray, (0.9, 1.2, 0.4)))),
                                         rel=1e-8)  # each map's quadrature error at k ~ 1


def test_fc_kernels_quadrature_path_agrees_with_exact_relu_and_erf():
    x = jax.random.normal(jax.random.key(0), (5, 6))
    # erf: the derivative map's quadrature error at variances ~2-3 accumulates in the NTK (~2e-5);
    # relu: the kink (algebraic convergence)
    for act, tol in (("erf", 1e-4), ("relu", 1e-2)):
        exact = kernels.fc_kernels(x, None, 3, act, 1.4, 0.1)
        quad = kernels.fc_kernels(x, None, 3, kernels.activation_function(act), 1.4, 0.1)
        for a, b in zip(exact, quad):
            assert np.max(np.abs(a - b)) / np.max(np.abs(a)) < tol


def test_more_quadrature_nodes_recover_large_variances():
    """Inputs with first-layer variances up to 8.3: erf's derivative map at 64 Gauss-Hermite
    nodes is off by 2.3e-2 in the NTK; order = 256 brings it to 3e-7; order="accurate"
    (transition-adapted) rule to ~5e-12 (the exact erf path as reference). The 8 largest of 20
    normal inputs (variances 2.1 to 8.3; the error grows with the variance): the accurate rule
    runs ~40x as long as 64 nodes, so the smaller inputs, the easy pairs, are left out."""
    x = jax.random.normal(jax.random.key(2), (20, 3))
    x = x[np.argsort(np.asarray(jnp.sum(x**2, axis=1)))[-8:]]
    exact = kernels.fc_kernels(x, None, 3, "erf", 1.4, 0.1).ntk
    erf = kernels.activation_function("erf")

    def error(order):
        quad = kernels.fc_kernels(x, None, 3, erf, 1.4, 0.1, order=order).ntk
        return float(np.max(np.abs(quad - exact)) / np.max(np.abs(exact)))

    assert error(64) > 1e-2 and error(256) < 1e-6 and error("accurate") < 1e-10 and error(None) == error(64)
    with pytest.raises(ValueError, match="order = 128 applies only"):
        kernels.fc_kernels(x, None, 3, "relu", 1.4, 0.1, order=128)
    with pytest.raises(ValueError, match="order = 1 must be"):
        kernels.fc_kernels(x, None, 3, "tanh", 1.4, 0.1, order=1)


def test_fc_kernels_by_name_and_by_function_agree_and_float32_stays_float32():
    x = jax.random.normal(jax.random.key(1), (3, 4))
    by_name = kernels.fc_kernels(x, None, 2, "tanh", 1.2, 0.2)
    by_fn = kernels.fc_kernels(x, None, 2, jnp.tanh, 1.2, 0.2)
    np.testing.assert_allclose(by_name.ntk, by_fn.ntk, rtol=1e-14)
    k32 = kernels.fc_kernels(x.astype(jnp.float32), None, 2, "tanh", 1.2, 0.2)
    assert k32.ntk.dtype == jnp.float32
    np.testing.assert_allclose(k32.ntk, by_name.ntk, rtol=1e-5)  # float32 round-off of the sums


def test_bad_activations_are_rejected():
    with pytest.raises(ValueError, match="unknown"):
        kernels.fc_kernels(jnp.ones((2, 2)), None, 1, "tanhh", 1.0, 0.0)
    with pytest.raises(ValueError, match="not elementwise"):
        kernels.fc_kernels(jnp.ones((2, 2)), None, 1, lambda z: z - jnp.mean(z), 1.0, 0.0)
    with pytest.raises(ValueError, match="not finite"):
        kernels.fc_kernels(jnp.ones((2, 2)), None, 1, lambda z: jnp.log(z), 1.0, 0.0)
    with pytest.raises(ValueError, match="sigma_w"):
        kernels.fc_kernels(jnp.ones((2, 2)), None, 1, "tanh", -1.0, 0.0)


# --- initialisation and the phase diagram ------------------------------------------------------
def test_critical_init_values():
    assert signal.critical_init("relu", 0.3) == pytest.approx(math.sqrt(2), rel=1e-15)
    assert signal.critical_init("tanh", 0.0) == 1.0
    assert signal.critical_init("linear", 0.0) == 1.0
    assert signal.critical_init("erf", 0.0) == pytest.approx(math.sqrt(math.pi) / 2, rel=1e-12)
    w = signal.critical_init("tanh", 0.3)
    assert signal.chi1("tanh", w, 0.3) == pytest.approx(1.0, abs=1e-6)


def test_tanh_chi1_matches_direct_integration():
    q_star = signal.variance_fixed_point("tanh", 1.5, 0.3)
    integrand = lambda z, qq: math.tanh(math.sqrt(qq) * z) ** 2 * math.exp(-z * z / 2) / math.sqrt(2 * math.pi)
    e, _ = scipy.integrate.quad(integrand, -12, 12, args=(q_star,), epsabs=1e-13)
    assert 1.5**2 * e + 0.09 == pytest.approx(q_star, rel=1e-9)  # q* is a fixed point
    slope2 = lambda z: (1 - math.tanh(math.sqrt(q_star) * z) ** 2) ** 2 * math.exp(-z * z / 2) / math.sqrt(2 * math.pi)
    d, _ = scipy.integrate.quad(slope2, -12, 12, epsabs=1e-13)
    assert signal.chi1("tanh", 1.5, 0.3) == pytest.approx(1.5**2 * d, rel=1e-9)


def test_init_variance_reduces_to_kaiming_and_xavier():
    assert signal.init_variance("relu", 512) == pytest.approx(float(signal.kaiming_variance(fan_in=512)), rel=1e-12)
    assert signal.init_variance("linear", 100, 300) == pytest.approx(
        float(signal.xavier_variance(fan_in=100, fan_out=300)), rel=1e-12)
    assert signal.init_variance("relu", 100, 300) == pytest.approx(
        float(signal.relu_xavier_variance(fan_in=100, fan_out=300)), rel=1e-12)


def test_bad_inputs_name_the_parameter():
    with pytest.raises(ValueError, match="fan_in"):
        signal.kaiming_variance(fan_in=0)
    with pytest.raises(ValueError, match="fan_in"):
        signal.init_variance("relu", 0)
    with pytest.raises(ValueError, match="sigma_w"):
        signal.depth_scales("tanh", 0.0, 0.1)
    with pytest.raises(ValueError, match="sigma_b"):
        signal.critical_init("tanh", -0.1)
    with pytest.raises(ValueError, match="elementwise"):
        signal.chi1(jax.nn.softmax, 1.0, 0.1)


def test_depth_scales_ordered_phase_and_relu_boundary():
    scales = signal.depth_scales("tanh", 1.0, 0.5)
    assert scales.c_star == 1.0 and scales.chi_c == scales.chi_1 < 1
    assert scales.xi_c == pytest.approx(-1 / math.log(scales.chi_1), rel=1e-12)
    relu = signal.depth_scales("relu", math.sqrt(2), 0.1)  # q* diverges: no fixed point
    assert relu.q_star == math.inf and relu.xi_c == math.inf



def test_signal_fixed_point_is_the_kernels_iteration_from_q0():
    for activation, sw, sb, q0 in (("tanh", 1.5, 0.3, 1.0), ("erf", 2.0, 0.0, 0.0), ("erf", 2.0, 0.0, 1.0),
                                   ("relu", 1.2, 1.0, 5.0)):
        q_star = float(kernels.variance_fixed_point(activation, sw, sb, q0=q0))
        assert signal.variance_fixed_point(activation, sw, sb, q0) == q_star
    assert signal.variance_fixed_point("erf", 2.0, 0.0, 0.0) == 0.0  # q0 = 0 stays on q* = 0
    assert signal.variance_fixed_point("erf", 2.0, 0.0) == pytest.approx(
        float(kernels.variance_fixed_point("erf", 2.0, 0.0)), rel=1e-12)  # the closed form's (largest) q*
    # no fixed point: inf (where kernels' closed form raises), chi_1 then its limit at q = 1e8
    with pytest.raises(ValueError, match="sigma_w"):
        kernels.variance_fixed_point("relu", 1.6, 0.1)
    for sw, sb in ((1.6, 0.1), (math.sqrt(2), 0.1), (1.6, 0.0)):
        assert signal.variance_fixed_point("relu", sw, sb) == math.inf
        assert signal.chi1("relu", sw, sb) == pytest.approx(sw**2 / 2, rel=1e-12)  # sigma_w^2 E[step^2]
    with pytest.raises(ValueError, match="q0 = -1.0 is outside"):
        signal.variance_fixed_point("tanh", 1.0, 0.1, -1.0)

def test_numeric_propagation_shapes_and_linear_network_preserves_variance():
    x = jnp.ones((2, 4)) * jnp.array([[1.0], [0.5]])
    run = sim.propagate(jax.random.key(0), "linear", x, 4, 256, 1.0, 0.0, 3)
    assert run.variance.shape == (3, 4, 2) and run.correlation.shape == (3, 4) and run.grad_sq.shape == (3, 4)
    np.testing.assert_allclose(run.correlation, 1.0, atol=1e-12)  # parallel inputs stay parallel
    with pytest.raises(ValueError, match="x must be"):
        sim.propagate(jax.random.key(0), "tanh", jnp.ones((3, 4)), 4, 8, 1.0, 0.0, 1)


# --- Jacobian spectra of critical deep linear networks ----------------------------------------
def test_s_transforms_of_one_layer():
    z = sp.Symbol("z", positive=True)
    assert sp.simplify(signal.one_layer_s_transform("gaussian") - 1 / (1 + z)) == 0
    assert signal.one_layer_s_transform("orthogonal") == 1
    with pytest.raises(ValueError, match="weights"):
        signal.one_layer_s_transform("uniform")


def test_marchenko_pastur_density_has_the_stated_catalan_moments():
    # the Stieltjes equation z G^2 - z G + 1 = 0 (stated) is the law with density sqrt(x(4-x))/(2 pi x) on [0, 4]
    for k, catalan in ((1, 1), (2, 2), (3, 5), (4, 14)):
        value, _ = scipy.integrate.quad(lambda x: x**k * math.sqrt(x * (4 - x)) / (2 * math.pi * x), 0, 4)
        assert value == pytest.approx(catalan, rel=1e-9)
    assert [sp.expand_func(signal.lagrange_moment("gaussian").subs({layers: 1, sp.Symbol("moment", positive=True,
                                                                                         integer=True): k}))
            for k in (1, 2, 3, 4)] == [1, 2, 5, 14]


def test_lagrange_inversion_matches_series_reversion_and_the_fuss_catalan_form():
    moment = sp.Symbol("moment", positive=True, integer=True)
    general = signal.lagrange_moment("gaussian")
    assert sp.simplify(sp.combsimp(general - signal.fuss_catalan())) == 0
    x = sp.Symbol("x")
    for depth in (1, 2, 5):
        psi = sp.Integer(0)
        for _ in range(4):  # fixed-point iteration of psi = x (1 + psi)^(L+1), truncated after x^4
            psi = sum(sp.expand(x * (1 + psi) ** (depth + 1)).coeff(x, k) * x**k for k in range(1, 5))
        coefficients = [psi.coeff(x, k) for k in range(1, 5)]
        assert coefficients == [general.subs({layers: depth, moment: k}) for k in range(1, 5)]
    assert signal.lagrange_moment("orthogonal") == 1


def test_jacobian_moment_formulas():
    assert signal.gaussian_jacobian_moments.derived and signal.orthogonal_jacobian_moments.derived
    m = [float(v) for v in signal.gaussian_jacobian_moments(layers=3)]
    assert m == pytest.approx([1.0, 4.0, 22.0, 140.0], rel=1e-14)  # Fuss-Catalan numbers of order 4 (OEIS A002293)
    assert sp.expand(signal.gaussian_jacobian_moments.expr[1] - signal.gaussian_jacobian_moments.expr[0] ** 2
                     - layers) == 0  # spread m_2 - m_1^2 = L
    assert [float(v) for v in signal.orthogonal_jacobian_moments()] == [1.0] * 4


def test_numeric_jacobian_moments_rejects_bad_inputs():  # (the values: verify signal.jacobian_spectrum)
    with pytest.raises(ValueError, match="weights"):
        sim.jacobian_moments(jax.random.key(0), 3, 16, 2, "haar")
    with pytest.raises(ValueError, match="sigma_w"):
        sim.jacobian_moments(jax.random.key(0), 3, 16, 2, sigma_w=0.0)
    with pytest.raises(ValueError, match="width"):
        sim.jacobian_moments(jax.random.key(0), 3, 0, 2)


def test_train_depth_sweep_rejects_bad_inputs():  # (the values: verify signal.trainable_depth)
    x, y = jnp.ones((4, 3)), jnp.ones(4)
    kw = dict(width=4, steps=2, learning_rate=0.1)
    with pytest.raises(ValueError, match="sigma_w"):
        sim.train_depth_sweep(jax.random.key(0), x, y, jnp.array([0.0]), jnp.array([2]), 0.1, **kw)
    with pytest.raises(ValueError, match="depth"):
        sim.train_depth_sweep(jax.random.key(0), x, y, jnp.array([1.0]), jnp.array([0]), 0.1, **kw)
    with pytest.raises(ValueError, match="one length"):
        sim.train_depth_sweep(jax.random.key(0), x, y, jnp.array([1.0, 2.0]), jnp.array([2]), 0.1, **kw)
    with pytest.raises(ValueError, match="width"):
        sim.train_depth_sweep(jax.random.key(0), x, y, jnp.array([1.0]), jnp.array([2]), 0.1, width=0, steps=2,
                              learning_rate=0.1)


def test_propagation_paths_agree(monkeypatch):
    """Networks too large to store (the full size) are drawn layer by layer in the forward scan and
    drawn again in the backward scan: the same networks key by key as the stored path, so the
    statistics agree to round-off (float64). Forced here by a zero byte limit."""
    import jax

    from numeric import signal as numeric_signal

    x = jax.random.normal(jax.random.key(0), (2, 6), jnp.float64)
    args = (jax.random.key(1), "erf", x, 2, 8, 1.5, 0.3, 2)
    stored = numeric_signal.propagate(*args)
    monkeypatch.setattr(numeric_signal, "_STORED_WEIGHT_BYTES", 0)
    drawn = numeric_signal.propagate(*args)
    for a, b in zip(stored, drawn):
        np.testing.assert_allclose(np.asarray(a), np.asarray(b), rtol=1e-12)
    other = numeric_signal.propagate(jax.random.key(2), *args[1:])  # negative control: other networks
    assert np.max(np.abs(np.asarray(other.variance) / np.asarray(stored.variance) - 1)) > 1e-3
