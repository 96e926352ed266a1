"""analytic.parameterisation against Yang & Hu's stated forms and conditions; numeric.parameterisation against numpy."""

import numpy as np
import pytest
import sympy as sp

from analytic import parameterisation as p
from analytic.parameterisation._symbols import a_hid, a_in, a_out, b_hid, b_in, b_out, c_hid, c_in, c_out
from numeric import parameterisation as sim

HALF = sp.Rational(1, 2)


def _rational_points(count=30, seed=0):
    rng = np.random.default_rng(seed)
    for _ in range(count):
        yield {s: sp.Rational(int(rng.integers(-8, 9)), 4) for s in (a_in, c_in, a_hid, c_hid, a_out, b_out, c_out)}


def test_coordinate_check_exponents_of_the_named_parameterisations():
    # Yang & Hu 2020 (sec. 3) / Tensor Programs V (coordinate checks): SP blows up (hidden ~ sqrt(width),
    # output ~ width at a fixed learning rate), NTK's features freeze (width^-1/2), muP moves every layer by Theta(1)
    expected = {"standard": (-HALF, HALF, 1), "ntk": (-HALF, -HALF, 0), "mup": (0, 0, 0),
                "standard_readout_lr_width": (-HALF, HALF, 2), "standard_inverse_width_lr": (-3 * HALF, -HALF, 0)}
    for name, exponents in expected.items():
        got = tuple(sp.nsimplify(e.subs(p.values(name))) for e in p.activation_update_exponents.expr)
        assert got == exponents, name
        np.testing.assert_allclose(np.asarray(p.activation_update_exponents(**p.formula_values(name)), float),
                                   np.array(exponents, float), atol=1e-15)


def test_feature_learning_exponent_is_yang_hu_r():
    # Yang & Hu (Definition of r, global c): r = min(a_out + b_out, 2 a_out + c) + c - 1 + min(2 a_in + 1, 2 a_hid)
    c = sp.Symbol("c", real=True)
    stated = sp.Min(a_out + b_out, 2 * a_out + c) + c - 1 + sp.Min(2 * a_in + 1, 2 * a_hid)
    derived = p.feature_learning_exponent().subs({c_in: c, c_hid: c, c_out: c})
    for point in _rational_points(count=8):
        point[c] = point.pop(c_in)
        assert (derived - stated).subs(point) == 0
    assert {name: p.feature_learning_exponent().subs(p.values(name)) for name in ("mup", "ntk", "standard")} \
        == {"mup": 0, "ntk": HALF, "standard": -1}


def test_stability_and_feature_learning_conditions():
    def holds(name):
        return {k: bool(v.subs(p.values(name))) for k, v in p.stability_conditions().items()}

    assert holds("mup") == {"stable initialisation": True, "stable training": True, "nontrivial": True,
                            "feature learning": True}
    assert holds("ntk") == {"stable initialisation": True, "stable training": True, "nontrivial": True,
                            "feature learning": False}
    assert holds("standard_inverse_width_lr")["stable training"] and not holds("standard")["stable training"]
    for name, layers in p.PARAMETERISATIONS.items():  # every row initialises stably
        assert layers["in"][0] + layers["in"][1] == 0 and layers["out"][0] + layers["out"][1] >= HALF, name
        if "hid" in layers:
            assert layers["hid"][0] + layers["hid"][1] == HALF, name


def test_largest_stable_rate_from_the_kernel_agrees_with_yang_hu_stability():
    gamma = sp.Symbol("gamma", real=True)  # a global learning-rate exponent added to every c_l
    shifted = {c_in: c_in + gamma, c_hid: c_hid + gamma, c_out: c_out + gamma}
    stable = p.stability_conditions()["stable training"].subs(shifted, simultaneous=True)
    for name in ("standard", "ntk", "mup", "standard_readout_lr_width", "standard_inverse_width_lr"):
        condition = stable.subs(p.values(name))
        smallest = min(g for g in (sp.Rational(k, 4) for k in range(-12, 13)) if bool(condition.subs(gamma, g)))
        assert -smallest == -p.kernel_exponent(hidden=True).subs(p.values(name)), name  # eta_max ~ width^-gamma*
    # the two-layer Formula is the kernel exponent without hidden layers
    assert sp.simplify(p.max_learning_rate_exponent.expr + p.kernel_exponent(hidden=False)) == 0
    assert [float(p.max_learning_rate_exponent(**p.two_layer_values(n))) for n in
            ("standard", "ntk", "mean_field", "mup", "standard_readout_lr_width", "standard_readout_lr_width2")] \
        == [-1, 0, 0, 0, -2, -3]


def test_exponents_are_invariant_under_the_abc_symmetry():
    theta = sp.Symbol("theta", real=True)
    for a, b, c in ((a_in, b_in, c_in), (a_hid, b_hid, c_hid), (a_out, b_out, c_out)):
        move = {a: a + theta, b: b - theta, c: c - 2 * theta}
        for formula in (p.activation_update_exponents, p.max_learning_rate_exponent, p.first_layer_movement_exponent):
            exprs = formula.expr if isinstance(formula.expr, tuple) else (formula.expr,)
            for e in exprs:
                moved = e.subs(move, simultaneous=True) - e
                assert all(moved.subs(point).subs(theta, sp.Rational(3, 4)) == 0 for point in _rational_points(4))
    # mean-field is muP at depth one: the same two-layer exponents
    for formula in (p.max_learning_rate_exponent,):
        assert formula(**p.two_layer_values("mean_field")) == formula(**p.two_layer_values("mup"))
    assert p.first_layer_movement_exponent.expr.subs(p.values("mean_field")) == 0
    assert p.first_layer_movement_exponent.expr.subs(p.values("ntk")) == -HALF


def test_table_prints_and_bad_names():
    assert p.table().shape == (len(p.PARAMETERISATIONS) + 1, 10)
    with pytest.raises(ValueError, match="parameterisation = 'sp' is unknown"):
        p.values("sp")
    with pytest.raises(ValueError, match="no hidden layer"):
        p.formula_values("mean_field")


def _numpy_first_step(weights, multipliers, rates, x, y):
    """One GD step of the MLP in plain numpy (hand-written backward pass), and the activation changes."""
    def forward(w):
        pre = [multipliers[0] * x @ w[0]]
        for m, wl in zip(multipliers[1:-1], w[1:-1]):
            pre.append(m * np.tanh(pre[-1]) @ wl)
        return pre, multipliers[-1] * (np.tanh(pre[-1]) @ w[-1])[:, 0]

    pre, out = forward(weights)
    residual = (out - (out + y)) / x.shape[0]  # relative targets: f0 + y
    grads, delta = [None] * len(weights), residual[:, None] * multipliers[-1]
    grads[-1] = np.tanh(pre[-1]).T @ delta
    back = (delta @ weights[-1].T) * (1 - np.tanh(pre[-1]) ** 2)
    for layer in range(len(weights) - 2, -1, -1):
        below = x if layer == 0 else np.tanh(pre[layer - 1])
        grads[layer] = multipliers[layer] * below.T @ back
        if layer:
            back = (multipliers[layer] * back @ weights[layer].T) * (1 - np.tanh(pre[layer - 1]) ** 2)
    moved = [w - r * g for w, r, g in zip(weights, rates, grads)]
    pre1, out1 = forward(moved)
    return [np.sqrt(np.mean((pre1[0] - pre[0]) ** 2)), np.sqrt(np.mean((pre1[-1] - pre[-1]) ** 2)),
            np.sqrt(np.mean((out1 - out) ** 2))]


def test_first_step_updates_match_numpy_and_padding_is_exact():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(4, 3)), rng.normal(size=4)
    z = sim.unit_normal_weights(1, 3, 12, layers=3, seeds=2, rates=1, dtype=np.float64)
    scales = np.array([[[[1.0, 1.0, 0.5], [0.3, 0.4, 2.0], [2.0, 0.2, 1.0]]]] * 2)  # 2 widths, 1 parameterisation
    got = np.asarray(sim.first_step_updates(z, x, y, [7, 12], scales, 0.1))  # width 7 padded inside 12
    for i, width in enumerate((7, 12)):
        for seed in range(2):
            weights = [z[0][seed, 0][:, :width] * 1.0, z[1][seed, 0][:width, :width] * 0.4, z[2][seed, 0][:width] * 0.2]
            want = _numpy_first_step(weights, [1.0, 0.3, 2.0], [0.05, 0.2, 0.1], x, y)
            np.testing.assert_allclose(got[i, 0, seed], want, rtol=1e-10)  # float64 round-off


def test_train_flags_divergence_and_rejects_bad_input():
    rng = np.random.default_rng(1)
    x, y = rng.normal(size=(4, 3)), rng.normal(size=4)
    z = sim.unit_normal_weights(0, 3, 16, layers=2, seeds=1, rates=2, dtype=np.float64)
    scales = np.array([[[[1.0, 1.0, 1.0], [1 / 16, 1.0, 1.0]]]])
    run = sim.train(z, x, y, [16], scales, np.array([[[1e-3, 1e3]]]), steps=20)
    assert not run.diverged[0, 0, 0, 0] and run.diverged[0, 0, 0, 1]  # a tiny rate descends; 1e3 blows up
    assert run.final_loss[0, 0, 0, 0] < run.initial_loss[0, 0, 0, 0]
    with pytest.raises(ValueError, match="widths must be integers"):
        sim.train(z, x, y, [32], scales, np.array([[[0.1, 0.1]]]), steps=2)
    with pytest.raises(ValueError, match="learning_rates must be positive"):
        sim.train(z, x, y, [16], scales, np.array([[[0.1, -0.1]]]), steps=2)
    with pytest.raises(ValueError, match="steps = 0"):
        sim.train(z, x, y, [16], scales, np.array([[[0.1, 0.1]]]), steps=0)
    with pytest.raises(ValueError, match="layers = 1 must be an integer >= 2"):
        sim.unit_normal_weights(0, 3, 16, layers=1, seeds=1, rates=1)


def test_adam_exponents_and_their_symmetry():
    # Tensor Programs V (Table 3, muP for Adam, numbers unconfirmed): every layer moves by Theta(1) after
    # Adam's first step; the standard parameterisation's hidden layer moves by ~width at a fixed rate
    formula = p.adam_activation_update_exponents
    assert tuple(e.subs(p.values("mup_adam")) for e in formula.expr) == (0, 0, 0)
    assert tuple(e.subs(p.values("standard")) for e in formula.expr) == (0, 1, 3 * HALF)
    theta = sp.Symbol("theta", real=True)  # Adam's update does not scale with the gradient: c moves by theta
    for a, b, c in ((a_in, b_in, c_in), (a_hid, b_hid, c_hid), (a_out, b_out, c_out)):
        for e in formula.expr:
            moved = e.subs({a: a + theta, b: b - theta, c: c - theta}, simultaneous=True) - e
            assert all(moved.subs(point).subs(theta, sp.Rational(-5, 4)) == 0 for point in _rational_points(4))


def test_adam_edge_exponents_from_the_preconditioned_sharpness():
    # Tensor Programs V (muP for Adam, Table 3; numbers unconfirmed): Adam's learning rate transfers in
    # mup_adam (flat edge); in SP it falls as 1/width, in NTK and SGD's muP as width^-1/2
    formula = p.adam_max_learning_rate_exponent
    expected = {"standard": -1, "ntk": -HALF, "mup": -HALF, "mup_adam": 0, "ntk_adam": 0, "mean_field": -1,
                "standard_inverse_width_lr": 0}
    assert {name: formula.expr.xreplace(p.values(name)) for name in expected} == expected
    # the preconditioned kernel's scale is the output's change after Adam's first step (two layers):
    # two power countings (kernel of P^-1 H, sign descent's move) agree for every exponent
    from analytic.parameterisation._exponents import _first_step_sizes, _simplified
    first_step_output = _simplified(p.exponent(_first_step_sizes(hidden=False, adam=True)[2]))
    for point in _rational_points(count=10, seed=3):
        assert (formula.expr + first_step_output).xreplace(point) == 0
    theta = sp.Symbol("theta", real=True)  # Adam's symmetry moves c by theta (not 2 theta)
    for a, b, c in ((a_in, b_in, c_in), (a_out, b_out, c_out)):
        moved = formula.expr.subs({a: a + theta, b: b - theta, c: c - theta}, simultaneous=True) - formula.expr
        assert all(moved.subs(point).subs(theta, sp.Rational(3, 4)) == 0 for point in _rational_points(4))


def test_kernel_change_exponents():
    # Dyer & Gur-Ari (arXiv:1909.11304v1) / Huang & Yau: dTheta/dt = O(1/width) in the NTK parameterisation,
    # below Lee et al.'s bound width^-1/2; Theta(1) where features are learnt (mean-field, muP)
    sgd, adam = p.kernel_change_exponent, p.adam_kernel_change_exponent
    assert {n: sgd.expr.xreplace(p.values(n)) for n in ("ntk", "mean_field", "mup", "standard_inverse_width_lr")} \
        == {"ntk": -1, "mean_field": 0, "mup": 0, "standard_inverse_width_lr": -2}
    assert {n: adam.expr.xreplace(p.values(n)) for n in ("mup_adam", "ntk_adam", "standard_inverse_width_lr")} \
        == {"mup_adam": 0, "ntk_adam": -1, "standard_inverse_width_lr": -3 * HALF}
    theta = sp.Rational(-5, 4)

    def moved(formula, layers, shift):  # the exponent at points moved by the symmetry minus at the points
        changes = []
        for point in _rational_points(4, seed=5):
            point.update({b_in: sp.Rational(1, 3), b_hid: 0})  # the Formulas hold no b_in (eliminated)
            shifted = dict(point)
            for a, b, c in layers:
                shifted.update({a: point[a] + theta, b: point[b] - theta, c: point[c] - shift * theta})
            changes.append(formula.expr.xreplace(shifted) - formula.expr.xreplace(point))
        return changes

    layers = ((a_in, b_in, c_in), (a_out, b_out, c_out))
    for layer in layers:  # SGD's per-layer symmetry (c - 2 theta) leaves SGD's dynamics and its kernel unchanged
        assert moved(sgd, (layer,), 2) == [0] * 4
    # Adam's symmetry (c - theta) leaves Adam's dynamics unchanged but scales K = sum_l width^-c_l J_l J_l^T
    # by width^-theta per layer: invariant when every layer moves together, not layer by layer
    assert moved(adam, layers, 1) == [0] * 4
    assert any(moved(adam, (layers[0],), 1))


def _numpy_two_layer(w1, w2, scales, rate, x, y, steps, adam):
    """GD or Adam (beta 0.9, 0.999, epsilon 1e-12) on a two-layer tanh network in numpy (hand-written
    backward pass); returns the final loss and the relative change of K = sum_l k_l J_l J_l^T."""
    (m1, _, k1), (m2, _, k2) = scales

    def forward(a, b):
        h = m1 * x @ a
        return h, m2 * (np.tanh(h) @ b)[:, 0]

    def kernel(a, b):
        h, _ = forward(a, b)
        j2 = m2 * np.tanh(h)  # df_i / dw2_j
        j1 = m1 * m2 * x[:, :, None] * ((1 - np.tanh(h) ** 2) * b[:, 0])[:, None, :]  # df_i / dw1_kj
        return k1 * np.einsum("ikj,lkj->il", j1, j1) + k2 * j2 @ j2.T

    a, b, moments = w1.copy(), w2.copy(), [np.zeros_like(w1), np.zeros_like(w2), np.zeros_like(w1), np.zeros_like(w2)]
    for t in range(1, steps + 1):
        h, out = forward(a, b)
        residual = (out - y) / x.shape[0]
        g2 = m2 * np.tanh(h).T @ residual[:, None]
        g1 = m1 * x.T @ (residual[:, None] * m2 * b[:, 0] * (1 - np.tanh(h) ** 2))
        if adam:
            for i, g in enumerate((g1, g2)):
                moments[i] = 0.9 * moments[i] + 0.1 * g
                moments[i + 2] = 0.999 * moments[i + 2] + 0.001 * g**2
            g1, g2 = ((moments[i] / (1 - 0.9**t)) / (np.sqrt(moments[i + 2] / (1 - 0.999**t)) + 1e-12) for i in (0, 1))
        a, b = a - rate * k1 * g1, b - rate * k2 * g2
    k0 = kernel(w1, w2)
    return 0.5 * np.mean((forward(a, b)[1] - y) ** 2), np.linalg.norm(kernel(a, b) - k0) / np.linalg.norm(k0)


def test_train_adam_and_kernel_change_match_numpy():
    rng = np.random.default_rng(1)  # the shapes of test_train_flags_divergence: the same compiled program
    x, y = rng.normal(size=(4, 3)), rng.normal(size=4)
    z = sim.unit_normal_weights(0, 3, 16, layers=2, seeds=1, rates=2, dtype=np.float64)
    scales = np.array([[[[1.0, 1.0, 1.0], [1 / 16, 1.0, 1.0]]]])
    scales[0, 0, 1] = [0.3, 0.5, 2.0]  # readout: multiplier 0.3, init 0.5, learning-rate factor 2
    widths = [11]  # the units beyond width 11 stay zero: padding is exact
    for optimizer in ("sgd", "adam"):
        run = sim.train(z, x, y, widths, scales, np.array([[[0.05, 0.01]]]), steps=3, optimizer=optimizer,
                        with_kernel=True)
        for g, rate in enumerate((0.05, 0.01)):
            w1, w2 = z[0][0, g][:, :11] * 1.0, z[1][0, g][:11] * 0.5
            loss, change = _numpy_two_layer(w1, w2, ([1.0, 1.0, 1.0], [0.3, 0.5, 2.0]), rate, x, y, 3,
                                            optimizer == "adam")
            np.testing.assert_allclose([run.final_loss[0, 0, 0, g], run.kernel_change[0, 0, 0, g]], [loss, change],
                                       rtol=1e-9)  # float64 round-off
    assert np.isnan(sim.train(z, x, y, widths, scales, np.array([[[0.05, 0.01]]]), steps=1).kernel_change).all()
    with pytest.raises(ValueError, match="optimizer = 'rmsprop'"):
        sim.train(z, x, y, widths, scales, np.array([[[0.05, 0.01]]]), steps=1, optimizer="rmsprop")


def test_learning_rate_transfer_separates_mup_from_standard():
    """The transfer rows (SGD and Adam) pass, and their negative control: each measured shift of the
    best learning rate is further than the tolerance from the other parameterisation's prediction
    (swapping muP and standard parameterisation fails both rows)."""
    from verify import claims

    for check, names in (("parameterisation.max_learning_rate", ("standard", "mean_field")),
                         ("parameterisation.adam_max_learning_rate", ("standard", "mup_adam"))):
        rows = {r.label.split(":")[0]: r for r in claims.rows(check) if "shift of the best" in r.label}
        assert set(rows) == set(names), (check, list(rows))
        first, second = (rows[n] for n in names)
        assert first.passed and second.passed, (first, second)
        for row, other in ((first, second), (second, first)):
            assert abs(row.measurement - other.prediction) > row.tolerance, (check, row, other)
