"""The quadrature dual maps with order="accurate" meet 1e-10 relative error (issue 32; the default stays 64 Gauss-Hermite nodes).

The error of a map value E[f(u) f(v)] is measured relative to its natural scale
sqrt(E[f(u)^2] E[f(v)^2]) (Cauchy-Schwarz; equal to |E f(u) f(v)| at correlation +-1), so
that values that cancel to ~0 (odd f at c = 0) are not divided by zero. References, both
independent of the rule under test (composite Gauss-Legendre, not a trapezoid in t):
- erf and GELU (and their derivatives): the inner Gaussian expectation in closed form,
  E[erf(a + bz)] = erf(a / sqrt(1 + 2b^2)), E[(a + bz) Phi(a + bz)] = a Phi(a/r) + b^2 phi(a/r)/r
  with r = sqrt(1 + b^2) (Gaussian convolution and Stein's lemma), and the outer integral by
  mpmath's tanh-sinh quadrature at 30 digits;
- tanh, SiLU, softplus: a composite Gauss-Legendre product rule in numpy's 18-digit long
  double, with panels graded geometrically towards each transition; its own error is
  estimated from the data (two panel orders) and asserted below 1e-13, and the slow sweep
  confirms it against mpmath's nested 2-D tanh-sinh quadrature at 20 digits.
"""

import functools

import jax
import jax.numpy as jnp
import mpmath as mp
import numpy as np
import pytest

from analytic import kernels
from analytic.kernels import _gauss
from analytic.kernels._quadrature import _pair_expectation, _slope

BOUND = 1e-10  # the stated default accuracy (issue 32)
REFERENCE_BOUND = 1e-13  # the references' own error must be 1000x below BOUND

# (k11, k22, correlation): variances 1e-3 .. MAX_VARIANCE, correlations near +-1
CASES = [(1e-3, 2e-3, 0.5), (1.0, 1.0, 0.3), (3.0, 10.0, -0.9), (100.0, 100.0, 1 - 1e-9),
         (1.0, _gauss.MAX_VARIANCE, 0.99), (_gauss.MAX_VARIANCE, _gauss.MAX_VARIANCE, -0.999999)]


def _k12(k11, k22, c):
    return c * np.sqrt(k11 * k22)


# --- long-double composite Gauss-Legendre reference (tanh, SiLU, softplus) ------------------
_LD = np.longdouble
_L = 9.0  # Gaussian mass beyond |z| = 9 is 2e-19
_GRADING = np.array([2.0**k for k in range(-3, 9)])  # panels at z0 +- w 2^k


@functools.cache
def _legendre(m):
    """m-point Gauss-Legendre nodes and weights on [-1, 1] in long double: numpy's float64
    nodes polished by two Newton steps on P_m (three-term recurrence in long double)."""
    x = np.polynomial.legendre.leggauss(m)[0].astype(_LD)
    for _ in range(2):
        p0, p1 = np.ones_like(x), x
        for n in range(2, m + 1):
            p0, p1 = p1, ((2 * n - 1) * x * p1 - (n - 1) * p0) / n
        slope = m * (x * p1 - p0) / (x * x - 1)
        x = x - p1 / slope
    return x, 2 / ((1 - x * x) * slope**2)


def _rule(z0, w, m):
    """Composite Gauss-Legendre nodes/weights (..., P*m) for the standard normal density on
    [-L, L], breakpoints at a uniform 1.5-grid and at z0 +- w 2^k (z0, w of shape (...))."""
    z0, w = np.broadcast_arrays(np.asarray(z0, _LD), np.asarray(w, _LD))
    uniform = np.broadcast_to(np.linspace(-_L, _L, 13).astype(_LD), z0.shape + (13,))
    graded = z0[..., None] + w[..., None] * np.concatenate([-_GRADING[::-1], [0.0], _GRADING]).astype(_LD)
    edges = np.sort(np.clip(np.concatenate([uniform, graded], axis=-1), -_L, _L), axis=-1)
    lo, hi = edges[..., :-1, None], edges[..., 1:, None]
    x, wx = _legendre(m)
    z = (lo + hi) / 2 + (hi - lo) / 2 * x
    weight = (hi - lo) / 2 * wx * np.exp(-z * z / 2) / np.sqrt(2 * np.pi, dtype=_LD)
    return z.reshape(z0.shape + (-1,)), weight.reshape(z0.shape + (-1,))


def _longdouble_pair(f, k11, k22, k12, m):
    k11, k22, k12 = (_LD(v) for v in (k11, k22, k12))
    s1, s2 = np.sqrt(k11), np.sqrt(k22)
    c = k12 / (s1 * s2)
    s = np.sqrt((1 - c) * (1 + c))
    z1, w1 = _rule(_LD(0), 1 / max(s1, s2 * abs(c)), m)
    z2, w2 = _rule(-c * z1 / s, np.full(z1.shape, 1 / (s2 * s), _LD), m)
    inner = np.sum(w2 * f(s2 * (c * z1[:, None] + s * z2)), axis=-1)
    return np.sum(w1 * f(s1 * z1) * inner)


def _longdouble_second_moment(f, k, m):
    z, w = _rule(_LD(0), 1 / np.sqrt(_LD(k)), m)
    return np.sum(w * f(np.sqrt(_LD(k)) * z) ** 2)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


_LONGDOUBLE = {  # name: (phi, phi') in long double, written to avoid cancellation
    "tanh": (np.tanh, lambda x: 1 / np.cosh(x) ** 2),
    "silu": (lambda x: x * _sigmoid(x), lambda x: _sigmoid(x) * (1 + x * _sigmoid(-x))),
    "softplus": (lambda x: np.maximum(x, 0) + np.log1p(np.exp(-np.abs(x))), _sigmoid),
}


def longdouble_reference(name, derivative, k11, k22, k12):
    """(value, scale, own error estimate) of E[f(u) f(v)] by the long-double product rule."""
    f = _LONGDOUBLE[name][derivative]
    fine, coarse = (_longdouble_pair(f, k11, k22, k12, m) for m in (16, 12))
    scale = np.sqrt(_longdouble_second_moment(f, k11, 20) * _longdouble_second_moment(f, k22, 20))
    return float(fine), float(scale), float(abs(fine - coarse) / scale)


# --- mpmath references with the inner expectation in closed form (erf, GELU) ----------------
def _inner_closed_form(name, derivative, a, b):
    """E[f(a + b z)], z ~ N(0, 1), in closed form (mpmath numbers)."""
    if name == "erf":
        r2 = 1 + 2 * b * b
        return 2 / mp.sqrt(mp.pi) * mp.exp(-a * a / r2) / mp.sqrt(r2) if derivative else mp.erf(a / mp.sqrt(r2))
    r = mp.sqrt(1 + b * b)
    if derivative:  # GELU' = Phi(x) + x phi(x)
        return mp.ncdf(a / r) + a * mp.npdf(a / r) / r**3
    return a * mp.ncdf(a / r) + b * b * mp.npdf(a / r) / r


def _mp_phi(name, derivative):
    if name == "erf":
        return (lambda x: 2 / mp.sqrt(mp.pi) * mp.exp(-x * x)) if derivative else mp.erf
    return (lambda x: mp.ncdf(x) + x * mp.npdf(x)) if derivative else (lambda x: x * mp.ncdf(x))


def mpmath_reference(name, derivative, k11, k22, k12):
    """E[f(u) f(v)]: the inner expectation in closed form at 30 digits, the outer integral
    over z1 by the long-double composite Gauss-Legendre rule (20 nodes a panel)."""
    with mp.workdps(30):
        s1, s2 = mp.sqrt(k11), mp.sqrt(k22)
        c = mp.mpf(k12) / (s1 * s2)
        s = mp.sqrt((1 - c) * (1 + c))
        f = _mp_phi(name, derivative)
        z, w = _rule(_LD(0), _LD(1 / max(float(s1), float(s2 * abs(c)))), 20)
        values = [f(s1 * zi) * _inner_closed_form(name, derivative, s2 * c * zi, s2 * s)
                  for zi in (mp.mpf(str(v)) for v in z)]
        # (values below long double's range, |v| < 1e-4900, are 0 at this precision)
        return float(np.sum(w * np.array([_LD(mp.nstr(v, 25)) if abs(v) > 1e-4900 else _LD(0) for v in values])))


def float64_scale(name, derivative, k11, k22):
    """sqrt(E f(u)^2 E f(v)^2) in float64 on the composite Gauss-Legendre rule (a normaliser)."""
    phi = kernels.activation_function(USER[name])
    f = _slope(phi) if derivative else phi

    def moment(k):
        z, w = _rule(_LD(0), _LD(1 / np.sqrt(k)), 16)
        return float(np.sum(w.astype(float) * np.asarray(f(jnp.asarray(np.sqrt(k) * z.astype(float)))) ** 2))

    return np.sqrt(moment(k11) * moment(k22))


# --- the activations as the user passes them -------------------------------------------------
def _erf_function(z):
    return jax.scipy.special.erf(z)


USER = {"tanh": "tanh", "gelu": "gelu", "silu": "silu", "softplus": "softplus", "erf": _erf_function}


def _computed(name, derivative, cases, order="accurate"):
    phi = kernels.activation_function(USER[name])
    f = _slope(phi) if derivative else phi
    k11, k22, c = (np.array(v) for v in zip(*cases))
    args = [jnp.asarray(v) for v in (k11, k22, _k12(k11, k22, c))]
    return np.asarray(_pair_expectation(f, *args, order))


def _reference(name, derivative, case):
    k11, k22, c = case
    if name in _LONGDOUBLE:
        value, scale, own = longdouble_reference(name, derivative, k11, k22, _k12(k11, k22, c))
        assert own < REFERENCE_BOUND, f"reference not converged: {own:.1e}"
        return value, scale
    return mpmath_reference(name, derivative, k11, k22, _k12(k11, k22, c)), float64_scale(name, derivative, k11, k22)


def _errors(name, derivative, cases, order="accurate"):
    got = _computed(name, derivative, cases, order)
    refs = [_reference(name, derivative, case) for case in cases]
    return np.array([abs(g - v) / s for g, (v, s) in zip(got, refs)])


# the default run: each activation and map at two extreme cases; the slow sweep: all CASES
FAST = {"tanh": (CASES[4], CASES[5]), "silu": (CASES[0], CASES[4]), "softplus": (CASES[3], CASES[5]),
        "gelu": (CASES[2], CASES[5]), "erf": (CASES[4], CASES[5])}


@pytest.mark.parametrize("name", list(USER))
def test_default_dual_maps_meet_1e_10(name):
    for derivative in (False, True):
        errors = _errors(name, derivative, FAST[name])
        assert np.max(errors) < BOUND, f"{name} {'derivative' if derivative else 'nngp'}: {errors}"


@pytest.mark.slow
@pytest.mark.parametrize("derivative", [False, True], ids=["nngp", "derivative"])
@pytest.mark.parametrize("name", list(USER))
def test_default_dual_maps_meet_1e_10_at_all_cases(name, derivative):
    errors = _errors(name, derivative, CASES)
    assert np.max(errors) < BOUND, f"{name} {'derivative' if derivative else 'nngp'}: {errors}"


def test_old_default_of_64_hermite_nodes_fails_the_bound():  # negative control: the test can fail
    errors = _errors("tanh", True, CASES[4:6], order=64)
    assert np.min(errors) > 100 * BOUND, errors


def test_the_mpmath_closed_form_reference_reproduces_the_catalogue_erf_maps():
    """Checks the reference itself: erf through the closed-form inner integral vs the stated
    kernels.erf_nngp / erf_derivative (Williams 1997), both at 30 digits."""
    k11, k22, c = CASES[2]
    k12 = _k12(k11, k22, c)
    with mp.workdps(30):
        nngp = 2 / mp.pi * mp.asin(2 * mp.mpf(k12) / mp.sqrt((1 + 2 * mp.mpf(k11)) * (1 + 2 * mp.mpf(k22))))
    value = mpmath_reference("erf", False, k11, k22, k12)
    assert abs(value - float(nngp)) < REFERENCE_BOUND * abs(float(nngp))


def test_rule_is_exactly_symmetric_in_the_two_points():
    f = kernels.activation_function("gelu")
    a, b = jnp.asarray([0.3, 50.0, 1e-3]), jnp.asarray([7.0, 2.0, 1e3])
    k12 = 0.4 * jnp.sqrt(a * b)
    np.testing.assert_array_equal(_pair_expectation(f, a, b, k12, "accurate"), _pair_expectation(f, b, a, k12, "accurate"))


# --- end to end: fc_kernels at depth 3 against a long-double / 30-digit layer recursion --------
def _recursion(pair, x, depth, sigma_w, sigma_b):
    """(NNGP, NTK) by the textbook recursion, ``pair(derivative, k11, k22, k12)`` the maps."""
    n, d = x.shape
    x = [[mp.mpf(float(v)) for v in row] for row in x]
    k = [[sigma_w**2 * sum(a * b for a, b in zip(x[i], x[j])) / d + sigma_b**2 for j in range(n)] for i in range(n)]
    ntk = [row[:] for row in k]
    for _ in range(depth):
        new = [[None] * n for _ in range(n)]
        new_ntk = [[None] * n for _ in range(n)]
        for i in range(n):
            for j in range(i, n):
                arguments = (k[i][i], k[j][j], k[i][j])
                kij = sigma_w**2 * pair(False, *arguments) + sigma_b**2
                new[i][j] = new[j][i] = kij
                new_ntk[i][j] = new_ntk[j][i] = kij + sigma_w**2 * pair(True, *arguments) * ntk[i][j]
        k, ntk = new, new_ntk
    return np.array(k, dtype=float), np.array(ntk, dtype=float)


def _relative_to_diagonal(got, want):
    scale = np.sqrt(np.outer(np.diag(want), np.diag(want)))
    return float(np.max(np.abs(np.asarray(got) - want) / scale))


# first-layer variances sigma_w^2 |x|^2 / d + sigma_b^2 from ~0.01 to ~90
X_END_TO_END = np.array([[0.05, -0.02, 0.03], [1.0, 0.5, -1.2], [8.0, -6.0, 7.0]])


def test_fc_kernels_tanh_by_name_depth_3_meets_the_bound_end_to_end():
    def pair(derivative, k11, k22, k12):
        f = _LONGDOUBLE["tanh"][derivative]
        if k11 == k22 == k12:  # a point with itself: one dimension
            z, w = _rule(_LD(0), 1 / np.sqrt(_LD(float(k11))), 12)
            return mp.mpf(str(np.sum(w * f(np.sqrt(_LD(float(k11))) * z) ** 2)))
        return mp.mpf(str(_longdouble_pair(f, float(k11), float(k22), float(k12), 12)))

    want = _recursion(pair, X_END_TO_END, 3, 1.6, 0.1)
    got = kernels.fc_kernels(jnp.asarray(X_END_TO_END), None, 3, "tanh", 1.6, 0.1, order="accurate")
    errors = [_relative_to_diagonal(g, w) for g, w in zip(got, want)]
    assert max(errors) < BOUND, errors
    for k in got:  # K(x, y) = K(y, x) to the last bit
        np.testing.assert_array_equal(k, k.T)
    old = kernels.fc_kernels(jnp.asarray(X_END_TO_END), None, 3, "tanh", 1.6, 0.1, order=64)
    assert _relative_to_diagonal(old.ntk, want[1]) > 100 * BOUND  # negative control


@pytest.mark.slow
def test_fc_kernels_erf_as_a_function_depth_3_meets_the_bound_end_to_end():
    def pair(derivative, k11, k22, k12):  # Williams 1997 and its k12-derivative, 30 digits
        with mp.workdps(30):
            r = mp.sqrt((1 + 2 * k11) * (1 + 2 * k22))
            if derivative:
                return 4 / mp.pi / mp.sqrt(r**2 - 4 * k12**2)
            return 2 / mp.pi * mp.asin(2 * k12 / r)

    want = _recursion(pair, X_END_TO_END, 3, 1.6, 0.1)
    got = kernels.fc_kernels(jnp.asarray(X_END_TO_END), None, 3, _erf_function, 1.6, 0.1, order="accurate")
    errors = [_relative_to_diagonal(g, w) for g, w in zip(got, want)]
    assert max(errors) < BOUND, errors


def test_variances_beyond_the_stated_maximum_are_refused():
    x = jnp.full((2, 1), 1.2 * np.sqrt(_gauss.MAX_VARIANCE))
    with pytest.raises(ValueError, match=r"variance of layer 1 reaches 1440 > 1000"):
        kernels.fc_kernels(x, None, 2, "tanh", 1.0, 0.0, order="accurate")
    # beyond the bound inside the recursion: softplus keeps growing the variance
    x = jnp.full((2, 1), 14.0)  # layer 1: 784; layer 2: ~2 x 784
    with pytest.raises(ValueError, match="variance of layer 2"):
        kernels.fc_kernels(x, None, 3, "softplus", 2.0, 0.0, order="accurate")


@pytest.mark.slow
@pytest.mark.parametrize("name", ["tanh", "silu", "softplus"])
def test_longdouble_reference_agrees_with_nested_mpmath(name):
    """The 18-digit reference against mpmath's nested tanh-sinh at 20 digits (minutes)."""
    mp_f = {"tanh": mp.tanh, "silu": lambda x: x / (1 + mp.exp(-x)), "softplus": lambda x: mp.log1p(mp.exp(x))}[name]
    k11, k22, c = CASES[2]
    k12 = _k12(k11, k22, c)
    with mp.workdps(20):
        s1, s2 = mp.sqrt(k11), mp.sqrt(k22)
        cc = mp.mpf(k12) / (s1 * s2)
        s = mp.sqrt((1 - cc) * (1 + cc))

        def inner(z1):
            z0 = -cc * z1 / s
            w = 1 / (s2 * s)
            pts = sorted(p for p in {mp.mpf(-10), z0 - w, z0, z0 + w, mp.mpf(10)} if -10 <= p <= 10)
            return mp.quad(lambda z2: mp_f(s2 * (cc * z1 + s * z2)) * mp.npdf(z2), pts)

        w1 = 1 / max(s1, s2 * abs(cc))
        value = mp.quad(lambda z: mp.npdf(z) * mp_f(s1 * z) * inner(z), [-10, -w1, 0, w1, 10])
    ref, scale, _ = longdouble_reference(name, False, k11, k22, k12)
    assert abs(float(value) - ref) < REFERENCE_BOUND * scale


@pytest.mark.slow
@pytest.mark.parametrize("derivative", [False, True], ids=["nngp", "derivative"])
@pytest.mark.parametrize("name", list(USER))
def test_default_dual_maps_meet_1e_10_on_a_sweep(name, derivative):
    sweep = [(k11, k22, c) for k11 in (1e-3, 0.3, 30.0, _gauss.MAX_VARIANCE)
             for k22 in (1e-2, 5.0, _gauss.MAX_VARIANCE) for c in (-1 + 1e-12, -0.5, 0.0, 0.95, 1 - 1e-6)]
    errors = _errors(name, derivative, sweep)
    assert np.max(errors) < BOUND, np.max(errors)
