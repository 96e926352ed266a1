"""fc_kernels, infinite-width training and numeric.mlp (the checks' negative controls are universal:
tests/test_negative_controls.py)."""

import dataclasses
import functools

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import scipy.linalg

from analytic import kernels
from analytic.kernels import fc_kernels
from numeric import mlp as sim

SW, SB = 1.4, 0.1


def naive_recursion(x1, x2, depth, activation, sw, sb, standard=False):
    """Textbook float64 recursion on (k11, k22, k12) with numpy (no shared code)."""
    d = x1.shape[1]
    k = sw**2 * x1 @ x2.T / d + sb**2
    q1 = sw**2 * np.sum(x1**2, 1) / d + sb**2
    q2 = sw**2 * np.sum(x2**2, 1) / d + sb**2
    ntk = np.zeros_like(k) if standard else k.copy()
    for _ in range(depth):
        s = np.sqrt(np.outer(q1, q2))
        if activation == "relu":
            c = np.clip(k / s, -1, 1)
            a = np.arccos(c)
            e = s * (np.sin(a) + (np.pi - a) * c) / (2 * np.pi)
            slope = (np.pi - a) / (2 * np.pi)
            q1, q2 = sw**2 * q1 / 2 + sb**2, sw**2 * q2 / 2 + sb**2
        else:
            big = np.outer(1 + 2 * q1, 1 + 2 * q2)
            e = 2 / np.pi * np.arcsin(2 * k / np.sqrt(big))
            slope = 4 / np.pi / np.sqrt(big - 4 * k**2)
            q1 = sw**2 * 2 / np.pi * np.arcsin(2 * q1 / (1 + 2 * q1)) + sb**2
            q2 = sw**2 * 2 / np.pi * np.arcsin(2 * q2 / (1 + 2 * q2)) + sb**2
        k = sw**2 * e + sb**2
        ntk = (e if standard else k) + sw**2 * slope * ntk
    return k, ntk


@pytest.fixture(scope="module")
def points():
    rng = np.random.default_rng(0)
    return rng.normal(size=(7, 5)), rng.normal(size=(4, 5))


@pytest.mark.parametrize("activation", ["relu", "erf"])
@pytest.mark.parametrize("depth", [1, 3, 10])
@pytest.mark.parametrize("parameterization", ["ntk", "standard"])
def test_fc_kernels_match_naive_recursion(points, activation, depth, parameterization):
    x1, x2 = points
    got = fc_kernels(x1, x2, depth, activation, SW, SB, parameterization=parameterization)
    want = naive_recursion(x1, x2, depth, activation, SW, SB, standard=parameterization == "standard")
    # distinct random points: the naive arccos is accurate here; float64 round-off over depth
    np.testing.assert_allclose(got.nngp, want[0], rtol=1e-12)
    np.testing.assert_allclose(got.ntk, want[1], rtol=1e-12)
    assert got.nngp.dtype == jnp.float64 and got.nngp.shape == (7, 4)


@pytest.mark.parametrize("activation", ["relu", "erf"])
@pytest.mark.parametrize("depth", [1, 2])
def test_symbolic_depth_formulas_match_fc_kernels(points, activation, depth):
    x = points[0][:2]
    d = x.shape[1]
    g = SW**2 * x @ x.T / d + SB**2
    sym = getattr(kernels, f"{activation}_fc_depth{depth}")(k11=g[0, 0], k22=g[1, 1], k12=g[0, 1],
                                                            sigma_w=SW, sigma_b=SB)
    got = fc_kernels(x, None, depth, activation, SW, SB)
    np.testing.assert_allclose([sym[0], sym[1]], [got.nngp[0, 1], got.ntk[0, 1]], rtol=1e-13)


def test_symmetric_call_is_symmetric_and_exact_on_diagonal(points):
    x = points[0]
    for act in ("relu", "erf"):
        sym = fc_kernels(x, None, 10, act, SW, SB)
        np.testing.assert_allclose(sym.ntk, sym.ntk.T, rtol=4e-16)  # an ulp or so
        full = fc_kernels(x, x.copy(), 10, act, SW, SB)
        np.testing.assert_allclose(sym.ntk, full.ntk, rtol=1e-7)  # x vs copy: angle sqrt(eps) off at i = j
    # diagonal of the ReLU kernel: K^{l+1}_ii = sigma_w^2 K^l_ii / 2 + sigma_b^2 exactly
    q = SW**2 * np.sum(x**2, 1) / 5 + SB**2
    theta = q.copy()
    for _ in range(10):
        q = SW**2 * q / 2 + SB**2
        theta = q + SW**2 * 0.5 * theta
    got = fc_kernels(x, None, 10, "relu", SW, SB)
    np.testing.assert_allclose(np.diag(got.nngp), q, rtol=1e-14)
    np.testing.assert_allclose(np.diag(got.ntk), theta, rtol=1e-14)


@pytest.mark.parametrize("activation", ["relu", "erf"])
def test_float32_accuracy_goal(activation):
    """float32 within 1e-5 of float64 at depth 10, sigma_w 1.4, sigma_b 0.1, d = 100."""
    x = np.random.default_rng(1).normal(size=(200, 100)).astype(np.float32)
    lo = fc_kernels(jnp.asarray(x), None, 10, activation, SW, SB)
    hi = fc_kernels(x.astype(np.float64), None, 10, activation, SW, SB)
    assert lo.ntk.dtype == jnp.float32
    for a, b in zip(lo, hi):
        b = np.asarray(b)
        scale = np.sqrt(np.outer(np.diag(b), np.diag(b)))
        # error measured on the kernel's own scale sqrt(K_ii K_jj): erf entries cross zero
        assert np.max(np.abs(np.asarray(a, np.float64) - b) / scale) < 1e-5


@functools.partial(jax.jit, static_argnames=("activation",))
def _values_and_gradients(cases, sw, sigma_bs, activation):
    """For every case (stacked, one input shape) and both paths (x2 None, x2 a copy): the
    depth-50 kernels and the depth-2 gradients in (x, sigma_w, sigma_b); vmapped over the
    cases, so that one compiled program per activation serves them all."""
    def one(xx, sb, symmetric):
        def total(xx, sw, sb):
            out = fc_kernels(xx, None if symmetric else xx * 1.0, 2, activation, sw, sb)
            return sum(jnp.sum(k) for k in out)

        deep = fc_kernels(xx, None if symmetric else xx * 1.0, 50, activation, sw, sb)
        return deep, jax.grad(total, argnums=(0, 1, 2))(xx, sw, sb)

    return [jax.vmap(functools.partial(one, symmetric=symmetric))(cases, sigma_bs) for symmetric in (True, False)]


@pytest.mark.parametrize("activation", ["relu", "erf"])
def test_robust_values_and_gradients(activation):
    x = jnp.asarray(np.random.default_rng(2).normal(size=(3, 5)), jnp.float32)
    x4 = jnp.concatenate([x, x[1:2] * 0.5])
    cases = {"duplicate": jnp.concatenate([x, x[:1]]), "negated": jnp.concatenate([x, -x[:1]]),
             "tiny": x4 * 1e-20, "huge": x4 * 1e15, "zero_row": x4.at[0].set(0)}
    labels = [(name, sigma_b) for sigma_b in (0.1, 0.0) for name in cases]
    stacked = jnp.stack([cases[name] for name, _ in labels])
    sigma_bs = jnp.asarray([sigma_b for _, sigma_b in labels], jnp.float32)
    for out, grads in _values_and_gradients(stacked, jnp.float32(SW), sigma_bs, activation):
        assert out.ntk.dtype == jnp.float32 and grads[0].dtype == jnp.float32  # the float32 program
        for i, (name, sigma_b) in enumerate(labels):
            assert all(bool(np.all(np.isfinite(k[i]))) for k in out), (name, sigma_b)
            assert all(bool(np.all(np.isfinite(g[i]))) for g in grads), (name, sigma_b)


def test_exact_correlations():
    x = np.random.default_rng(3).normal(size=(1, 6))
    both = np.concatenate([x, -x, 2 * x])
    one = fc_kernels(x, both, 1, "relu", SW, 0.0)
    q = SW**2 * np.sum(x**2) / 6
    # anti-correlated inputs: relu(u) relu(-u) = 0 and relu'(u) relu'(-u) = 0
    assert abs(float(one.nngp[0, 1])) < 1e-15 * q and abs(float(one.ntk[0, 1])) < 1e-15 * q
    assert float(one.nngp[0, 0]) == pytest.approx(SW**2 * q / 2, rel=1e-14)
    deep = fc_kernels(x, both, 3, "relu", SW, 0.0)
    for k in deep:  # sigma_b = 0: the ReLU kernels are positively homogeneous
        assert float(k[0, 2]) == pytest.approx(2 * float(k[0, 0]), rel=1e-13)


@pytest.mark.parametrize("kwargs, match", [
    ({"sigma_w": -1.0}, "sigma_w"), ({"sigma_b": -0.1}, "sigma_b"), ({"depth": 0}, "depth"),
    ({"activation": "nope"}, "activation"), ({"x2": np.ones((2, 4))}, "features"),
    ({"x1": np.array([[np.nan, 1, 2]])}, "x1"), ({"sigma_w": np.inf}, "sigma_w"),
    ({"parameterization": "mup"}, "parameterization"),
])
def test_bad_input(kwargs, match):
    args = dict(x1=np.ones((2, 3)), x2=None, depth=2, activation="relu", sigma_w=1.0, sigma_b=0.1)
    args.update(kwargs)
    with pytest.raises(ValueError, match=match):
        fc_kernels(**args)


# --- the vectorised helpers and the blocked symmetric path -------------------------------
def test_arctan_and_arcsin_helpers_match_numpy():
    from analytic.kernels import _safe_math as kfc

    t = np.concatenate([np.linspace(-1, 1, 2001), [0.25, -0.75, 1e-300, -1e-8]])
    z = np.linspace(-1, 1, 2001)
    kfc = type("jitted", (), {name: staticmethod(jax.jit(getattr(kfc, name), static_argnames="float64"))
                              for name in ("_arctan_unit", "_safe_arcsin_pairs", "_angle")}
               | {"_quarter_tangent": staticmethod(jax.jit(kfc._quarter_tangent))})
    # float64: a few ulps (argument reduction, one division, Horner); float32 likewise
    np.testing.assert_allclose(kfc._arctan_unit(jnp.asarray(t), True), np.arctan(t), rtol=8e-16, atol=0)
    np.testing.assert_allclose(kfc._safe_arcsin_pairs(jnp.asarray(z), True), np.arcsin(z), rtol=8e-16, atol=0)
    t32, z32 = t.astype(np.float32), z.astype(np.float32)
    np.testing.assert_allclose(kfc._arctan_unit(jnp.asarray(t32), False), np.arctan(t32.astype(float)),
                               rtol=4e-7, atol=0)
    np.testing.assert_allclose(kfc._safe_arcsin_pairs(jnp.asarray(z32), False), np.arcsin(z32.astype(float)),
                               rtol=4e-7, atol=0)
    # the derivative is exact at 0 (odd reduction, no |t|), finite at |z| = 1
    assert float(jax.grad(lambda a: kfc._arctan_unit(a, True))(0.0)) == 1.0
    assert np.isfinite(float(jax.grad(lambda a: kfc._safe_arcsin_pairs(a, True))(1.0)))
    # state w = tan(theta/4): round trip through (gap, plus), and the angle it encodes
    theta = np.linspace(0, np.pi, 101)
    gap, plus = 2 * np.sin(theta / 2) ** 2, 2 * np.cos(theta / 2) ** 2  # 1 -+ cos, no cancellation
    w = kfc._quarter_tangent(jnp.asarray(gap), jnp.asarray(plus))
    np.testing.assert_allclose(w, np.tan(theta / 4), rtol=4e-15, atol=1e-16)
    got, sin_half, cos_half = kfc._angle(w, True)
    np.testing.assert_allclose(got, theta, rtol=4e-15, atol=1e-16)
    np.testing.assert_allclose(sin_half, np.sin(theta / 2), rtol=4e-15, atol=1e-16)
    np.testing.assert_allclose(cos_half, np.cos(theta / 2), rtol=4e-15, atol=1e-16)


def test_relu_layer_pieces_match_formulas():
    """The hand-evaluated deficit equals kernels.relu_nngp_deficit, and 1/2 - deficit is J."""
    from analytic.kernels import _fc as kfc

    theta = np.linspace(0, np.pi, 201)
    deficit = kfc._relu_deficit(jnp.asarray(theta), jnp.sin(theta), jnp.sin(theta / 2) ** 2, True)
    np.testing.assert_allclose(deficit, kernels.relu_nngp_deficit(angle=theta), rtol=1e-14, atol=1e-17)
    np.testing.assert_allclose(0.5 - deficit, kernels.relu_nngp_angular(angle=theta), atol=2e-16)  # O(1) terms


def test_points_match_their_trigonometric_definition():
    from analytic.kernels import _fc as kfc

    a = np.array([0.0, 0.0, 1e-30, 0.3, 2.0, 1e30])
    b = np.array([0.0, 0.5, 0.1, 0.1, 0.0, 0.1])
    got = kfc._points(jnp.asarray(a), jnp.asarray(b))
    phi = np.arctan2(b, a)  # 0 at (0, 0), the stated convention
    np.testing.assert_allclose(got.sd, np.hypot(a, b), rtol=1e-15)
    np.testing.assert_allclose(got.alpha, np.cos(phi), rtol=1e-15, atol=1e-16)  # numpy: cos(pi/2) = 6e-17
    np.testing.assert_allclose(got.sin_half, np.sin(phi / 2), rtol=1e-15, atol=1e-17)
    np.testing.assert_allclose(got.cos_half, np.cos(phi / 2), rtol=1e-15, atol=1e-17)


@pytest.mark.parametrize("n", [257, 300])  # 2 blocks per side: with and without padding rows
@pytest.mark.parametrize("activation", ["relu", "erf"])
def test_blocked_symmetric_path(n, activation):
    from analytic.kernels import _fc as kfc

    assert kfc._block_count(n) == 2
    x = np.random.default_rng(n).normal(size=(n, 20))
    sym = fc_kernels(x, None, 4, activation, SW, SB)
    full = fc_kernels(x, x.copy(), 4, activation, SW, SB)  # the unblocked path
    want = naive_recursion(x, x, 4, activation, SW, SB)
    for got, other, ref in zip(sym, full, want):
        got = np.asarray(got)
        assert got.shape == (n, n)
        scale = np.sqrt(np.outer(np.diag(ref), np.diag(ref)))
        off = ~np.eye(n, dtype=bool)  # the naive arccos is only accurate off the diagonal
        assert np.max(np.abs(got - ref)[off] / scale[off]) < 1e-13  # float64 round-off over depth
        assert np.max(np.abs(got - np.asarray(other)) / scale) < 1e-7  # x vs copy: sqrt(eps) at i = j
        m = -(-n // 2)  # off-diagonal block mirrored exactly
        np.testing.assert_array_equal(got[:m, m:], got[m:, :m].T)


def test_blocked_gradients_match_finite_differences():
    x = jnp.asarray(np.random.default_rng(8).normal(size=(260, 3)))

    def total(xx, sw, sb):
        return sum(jnp.sum(k) for k in fc_kernels(xx, None, 2, "erf", sw, sb))

    gradients = jax.jit(jax.grad(total, argnums=(0, 1, 2)))
    value = jax.jit(total)
    gx, gw, gb = gradients(x, SW, SB)
    h = 1e-5  # central differences: truncation O(h^2) ~ 1e-10, round-off ~ 1e-16 |T| / h ~ 1e-9
    v = jnp.asarray(np.random.default_rng(9).normal(size=x.shape))
    fd_x = (value(x + h * v, SW, SB) - value(x - h * v, SW, SB)) / (2 * h)
    fd_w = (value(x, SW + h, SB) - value(x, SW - h, SB)) / (2 * h)
    fd_b = (value(x, SW, SB + h) - value(x, SW, SB - h)) / (2 * h)
    assert float(jnp.sum(gx * v)) == pytest.approx(float(fd_x), rel=1e-6)
    assert float(gw) == pytest.approx(float(fd_w), rel=1e-6)
    assert float(gb) == pytest.approx(float(fd_b), rel=1e-6)
    dup = x.at[5].set(x[200]).at[7].set(0.0)  # coincident points across blocks, and a zero row
    grads = gradients(dup, SW, 0.0)
    assert all(bool(jnp.all(jnp.isfinite(g))) for g in grads)


# --- infinite-width training ---------------------------------------------------------
def _small_problem():
    rng = np.random.default_rng(4)
    x = rng.normal(size=(9, 3))
    k = fc_kernels(x, None, 2, "erf", SW, SB).ntk
    return np.asarray(k[:6, :6]), np.asarray(k[6:, :6]), rng.normal(size=6)


def test_gd_prediction_matches_direct_iteration():
    k, kx, y = _small_problem()
    eta = 0.9 * float(kernels.max_learning_rate(k))
    assert float(kernels.max_learning_rate(k)) == pytest.approx(2 / np.linalg.eigvalsh(k)[-1], rel=1e-12)
    f0, g0 = np.random.default_rng(5).normal(size=(2, 6)), np.random.default_rng(6).normal(size=(2, 3))
    pred = kernels.infinite_width_mean(k, kx, y, np.arange(30.0), eta=eta, f0_train=f0, f0_test=g0)
    train, test = np.asarray(pred.train), np.asarray(pred.test)  # rows by numpy, not an eager op each
    f, g = f0.copy(), g0.copy()
    for t in range(30):  # function-space GD on 0.5 |f - y|^2 with the fixed kernel
        np.testing.assert_allclose(train[t], f, rtol=1e-9, atol=1e-11)
        np.testing.assert_allclose(test[t], g, rtol=1e-9, atol=1e-11)
        r = f - y
        f, g = f - eta * r @ k.T, g - eta * r @ kx.T


def test_flow_prediction_matches_matrix_exponential():
    k, kx, y = _small_problem()
    for t in (0.0, 0.3, 5.0):
        decay = scipy.linalg.expm(-k * t)
        want_train = y - decay @ y
        want_test = kx @ np.linalg.solve(k, (np.eye(6) - decay) @ y)
        pred = kernels.infinite_width_mean(k, kx, y, np.array([t]))
        np.testing.assert_allclose(pred.train[0], want_train, rtol=1e-8, atol=1e-10)
        np.testing.assert_allclose(pred.test[0], want_test, rtol=1e-8, atol=1e-10)


# --- numeric.mlp ---------------------------------------------------------------------------
def test_empirical_ntk_equals_explicit_jacobian():
    mlp = sim.MLP(2, 16, "erf", SW, SB)
    x = jnp.asarray(np.random.default_rng(7).normal(size=(3, 4)))
    params = sim.init_params(jax.random.key(0), mlp, 4, jnp.float64)
    jac = jax.jit(jax.jacrev(lambda p: sim.apply(mlp, p, x)))(params)  # one program, not one per eager op
    flat = np.concatenate([np.reshape(j, (3, -1)) for j in jax.tree_util.tree_leaves(jac)], axis=1)
    np.testing.assert_allclose(sim.empirical_ntk(mlp, params, x, x, batch_size=2), flat @ flat.T, rtol=1e-12)


@pytest.mark.parametrize("parameterization", ["ntk", "standard"])
@pytest.mark.parametrize("activation", ["relu", "erf"])
def test_layerwise_ntk_equals_the_autodiff_ntk(activation, parameterization):
    """The chain rule written out (layerwise_ntk) against one VJP and one JVP per point; x1 != x2
    so that a transposed factor would show. Negative control: the same sum for the network whose
    first-layer biases moved by one (a term of every layer changes) is far past round-off."""
    mlp = sim.MLP(3, 24, activation, SW, SB, parameterization)
    rng = np.random.default_rng(3)
    x1, x2 = jnp.asarray(rng.normal(size=(5, 4))), jnp.asarray(rng.normal(size=(3, 4)))
    params = sim.init_params(jax.random.key(1), mlp, 4, jnp.float64)
    autodiff = np.asarray(sim.empirical_ntk(mlp, params, x1, x2))
    layerwise = np.asarray(sim.layerwise_ntk(mlp, params, x1, x2))
    assert layerwise.shape == (5, 3)
    np.testing.assert_allclose(layerwise, autodiff, rtol=1e-12, atol=1e-12 * np.abs(autodiff).max())
    moved = [(params[0][0], params[0][1] + 1.0), *params[1:]]
    assert np.abs(np.asarray(sim.layerwise_ntk(mlp, moved, x1, x2)) - autodiff).max() > 1e-3 * np.abs(autodiff).max()


def test_layer_statistics_match_a_loop_written_out():
    """q^l = mean h^l^2 and the gain |J v|^2 / |v|^2 with J = sigma_w / sqrt(n) W diag(phi'(h^l)),
    written out layer by layer in numpy with the same tangents (one draw, (depth - 1, 1, width)).
    Negative control: other tangents change the gains far past round-off."""
    import scipy.special

    mlp = sim.MLP(4, 16, "erf", SW, SB)
    params = sim.init_params(jax.random.key(0), mlp, 5, jnp.float64)
    x = np.random.default_rng(4).normal(size=5)
    stats = sim.layer_statistics(jax.random.key(1), mlp, params, x)
    (w1, b1), hidden = params[0], params[1:-1]
    h = SW / np.sqrt(5) * np.asarray(w1) @ x + SB * np.asarray(b1)
    tangents = np.asarray(jax.random.normal(jax.random.key(1), (3, 1, 16), jnp.float64))[:, 0]
    variances, gains = [np.mean(h**2)], []
    for (w, b), v in zip(hidden, tangents):
        w, b = np.asarray(w), np.asarray(b)
        slope = 2 / np.sqrt(np.pi) * np.exp(-h**2)
        gains.append(np.sum((SW / 4 * w @ (slope * v)) ** 2) / np.sum(v**2))
        h = SW / 4 * w @ scipy.special.erf(h) + SB * b
        variances.append(np.mean(h**2))
    np.testing.assert_allclose(stats.variance, variances, rtol=1e-12)
    np.testing.assert_allclose(stats.jacobian_gain, gains, rtol=1e-12)
    other = sim.layer_statistics(jax.random.key(2), mlp, params, x)
    assert np.max(np.abs(np.asarray(other.jacobian_gain) / np.asarray(gains) - 1)) > 1e-3


def test_numeric_rejects_bad_architecture():
    with pytest.raises(ValueError, match="activation"):
        sim.init_params(jax.random.key(0), sim.MLP(1, 8, "tanh", 1.0, 0.0), 3)
    with pytest.raises(ValueError, match="sigma_w"):
        sim.init_params(jax.random.key(0), sim.MLP(1, 8, "relu", -1.0, 0.0), 3)


# --- duals=: the per-layer Formulas a caller (or a negative control) hands in -------------
@pytest.mark.parametrize("activation", ["relu", "erf"])
@pytest.mark.parametrize("parameterization", ["ntk", "standard"])
def test_direct_path_with_catalogue_duals_matches_scale_free_path(points, activation, parameterization):
    """The textbook recursion on the given Formulas agrees with the scale-free path it stands in for."""
    from analytic.kernels import _fc as kfc

    x1, x2 = points
    duals = kernels.catalogue_duals(activation)
    got = kfc._fc_kernels_direct(jnp.asarray(x1), jnp.asarray(x2), jnp.asarray(SW), jnp.asarray(SB), depth=3,
                                 duals=duals, parameterization=parameterization)
    want = fc_kernels(x1, x2, 3, activation, SW, SB, parameterization=parameterization)
    # The direct path keeps K_ij a hair (4 eps) inside +-sqrt(K_ii K_jj) so that the Formulas'
    # sqrt/acos stay real; on the diagonal sqrt(q^2 - k12^2) then cancels to ~eps / sqrt(8 eps),
    # a ~1e-9 relative error in the variances that the later layers carry.
    np.testing.assert_allclose(got.nngp, want.nngp, rtol=1e-8)
    np.testing.assert_allclose(got.ntk, want.ntk, rtol=1e-8)
    assert fc_kernels(x1, None, 3, activation, SW, SB, duals=duals).nngp.shape == (7, 7)


def test_other_duals_reach_every_layer(points):
    x1, _ = points
    right = kernels.catalogue_duals("relu")
    wrong = kernels.Duals(dataclasses.replace(right.nngp, expr=1.1 * right.nngp.expr), right.derivative)
    base = fc_kernels(x1, None, 1, "relu", SW, 0.0)
    off = fc_kernels(x1, None, 1, "relu", SW, 0.0, duals=wrong)
    # one layer, no bias: K^2 = sigma_w^2 E exactly 1.1x (up to the sqrt(eps) kept off the diagonal)
    np.testing.assert_allclose(off.nngp, 1.1 * base.nngp, rtol=1e-7)
    with pytest.raises(TypeError, match="duals"):
        fc_kernels(x1, None, 1, "relu", SW, SB, duals=(right.nngp, "relu"))


@functools.partial(jax.jit, static_argnames=("activation", "depth"))
def _ntk_and_gradient_of_its_sum(x1, x2, activation, depth):
    """K(x1, x2).ntk (x2 None: the symmetric path) and d/dx1 of its sum, from one jax.vjp: one
    compiled program per path serves the value and the gradient checks (a copy of x1 and the
    mixed x2 have the same shape, so they share one)."""
    ntk, pullback = jax.vjp(lambda x: fc_kernels(x, x2, depth, activation, SW, 0.6).ntk, x1)
    return ntk, pullback(jnp.ones_like(ntk))[0]


@functools.partial(jax.jit, static_argnames=("activation", "depth"))
def _sums_at_shifted_points(x1, x2, shifts, activation, depth):
    """sum K(x1 + s, x2).ntk for every s in ``shifts`` (one compiled loop, not a call per shift)."""
    return jax.lax.map(lambda s: jnp.sum(fc_kernels(x1 + s, x2, depth, activation, SW, 0.6).ntk), shifts)


@pytest.mark.parametrize("activation, depth", [("relu", 1), ("relu", 10), ("erf", 3)])  # the depths
def test_coincident_rows_of_a_separate_x2_are_exact_and_differentiate_symmetrically(activation, depth):
    """x2 holding rows of x1 (kernel-inducing points, distillation): per-pair coincidence.

    Values: the coincident entries equal those of the x2 = None path (angle exactly 0 there).
    Gradients in x1: with x2 a copy of x1, d/dx1 sum K(x1, x2) is half the gradient of
    sum K(x1, x1) (K symmetric); with x2 mixing rows of x1 and other points, the gradient
    equals central differences, which see the symmetric derivative of the angle at 0.
    (x2 holds 3 rows of x1 and 3 other points, the shape of x1, so that one compiled
    program serves the copy and the mixed x2; the cases are those of 3 + 4 rows.)
    """
    x1 = jax.random.normal(jax.random.key(0), (6, 3))
    others = np.asarray(jax.random.normal(jax.random.key(1), (6, 3)))[:3]  # (6, 3): x1's compiled draw
    x2 = jnp.concatenate([x1[:3], others])
    kern = functools.partial(_ntk_and_gradient_of_its_sum, activation=activation, depth=depth)
    symmetric, gradient_symmetric = kern(x1, None)
    same, copy = kern(x1, x1 + 0.0)
    np.testing.assert_allclose(same, symmetric, rtol=1e-14)  # float64 round-off
    np.testing.assert_allclose(copy, 0.5 * gradient_symmetric, rtol=1e-12, atol=1e-13)  # same algebra, reordered
    _, grad = kern(x1, x2)
    # Central differences across the kink of the angle at a coincident pair are O(h), not
    # O(h^2) (theta(x +- h e) differ at second order): Richardson-extrapolated from h and
    # h/2, the error is O(h^2) ~ 1e-8 relative, plus round-off eps |K| / h ~ 1e-11.
    basis = np.eye(x1.size).reshape(-1, *x1.shape)
    shifts = np.stack([sign * h * basis for h in (1e-4, 2e-4) for sign in (1, -1)])  # (4, 18, 6, 3)
    sums = np.asarray(_sums_at_shifted_points(x1, x2, shifts.reshape(-1, *x1.shape), activation, depth))
    plus1, minus1, plus2, minus2 = sums.reshape(4, *x1.shape)
    fd = 2 * (plus1 - minus1) / (2 * 1e-4) - (plus2 - minus2) / (2 * 2e-4)
    np.testing.assert_allclose(grad, fd, rtol=1e-6, atol=1e-6 * np.abs(fd).max())


def _erf_kernels_mpmath(x1, x2, depth, sw, sb, digits=40):
    """The textbook erf recursion (arcsin form; Williams 1997) for the pairs (x1_i, x2_i), in
    mpmath at ``digits`` digits from the exact float64 inputs: (nngp, ntk), each (n,)."""
    import mpmath as mp

    with mp.workdps(digits):
        sw, sb = mp.mpf(sw), mp.mpf(sb)
        out = []
        for a, b in zip(x1.tolist(), x2.tolist()):
            dot = lambda u, v: mp.fsum(mp.mpf(p) * mp.mpf(q) for p, q in zip(u, v)) / len(u)  # noqa: E731
            q1, q2, k = sw**2 * dot(a, a) + sb**2, sw**2 * dot(b, b) + sb**2, sw**2 * dot(a, b) + sb**2
            ntk = k
            for _ in range(depth):
                big = (1 + 2 * q1) * (1 + 2 * q2)
                slope = 4 / mp.pi / mp.sqrt(big - 4 * k**2)
                k = sw**2 * 2 / mp.pi * mp.asin(2 * k / mp.sqrt(big)) + sb**2
                ntk = k + sw**2 * slope * ntk
                q1, q2 = (sw**2 * 2 / mp.pi * mp.asin(2 * q / (1 + 2 * q)) + sb**2 for q in (q1, q2))
            out.append((float(k), float(ntk)))
        return np.array(out).T


def test_erf_entries_near_zero_are_relatively_accurate_against_mpmath():
    """erf NNGP/NTK entries ~1e-7 of the largest (inputs at an angle pi/2 - 1e-7, sigma_b = 0:
    erf is odd, so the entries stay ~1e-7 through depth 10), elementwise relative error against
    a 40-digit mpmath evaluation of the textbook recursion. The inputs' dot products are exact
    in float64 (one non-zero product per pair), so the error is the kernel's own.

    Measured: float64 7e-16 (1.3e-7 when erf's pair state was w = tan(theta/4), whose cos has
    an absolute error ~eps); float32 4e-7 (was 24). With random inputs the float64 dot product itself (~5e-17
    absolute) bounds any method at ~5e-10 relative at cos = 1e-7 (neural-tangents 0.6.5: 3e-10).
    Both paths: a separate x2, and x2 = None over the stacked points (the off-diagonal block).
    """
    rng = np.random.default_rng(3)
    n, depth, sw = 5, 10, 1.4
    x1, x2 = np.zeros((n, 4)), np.zeros((n, 4))
    x1[:, 0], x1[:, 1] = rng.standard_normal(n), 1e-7 * rng.uniform(0.5, 1.5, n)
    x2[:, 1], x2[:, 2] = rng.standard_normal(n), rng.standard_normal(n)
    want_nngp, want_ntk = _erf_kernels_mpmath(x1, x2, depth, sw, 0.0)
    largest = _erf_kernels_mpmath(x1[:1], x1[:1], depth, sw, 0.0)[0][0]
    assert np.all(np.abs(want_nngp) < 1e-6 * largest)  # the entries really are near zero
    for dtype, rtol in ((np.float64, 1e-13), (np.float32, 5e-6)):
        a, b = jnp.asarray(x1, dtype), jnp.asarray(x2, dtype)
        got = fc_kernels(a, b, depth, "erf", sw, 0.0)
        stacked = fc_kernels(jnp.concatenate([a, b]), None, depth, "erf", sw, 0.0)
        for k in (got, type(got)(*(m[:n, n:] for m in stacked))):
            np.testing.assert_allclose(np.diagonal(k.nngp), want_nngp, rtol=rtol)
            np.testing.assert_allclose(np.diagonal(k.ntk), want_ntk, rtol=rtol)
