"""linear_method reproduces the momentum catalogue; QHM derived and verified; user claims."""

from __future__ import annotations

import jax
import numpy as np
import pytest
import sympy as sp

import analytic
from analytic import linear_method, methods
from analytic.methods import symbols as method_symbols
L, mu, nu, z = method_symbols.L, method_symbols.mu, method_symbols.nu, method_symbols.z
from analytic.symbols import alpha, beta, kappa, lam
from verify import claims, core

x, x_prev = sp.symbols("x x_prev")


def _heavy_ball():
    return linear_method({x: x + beta * (x - x_prev) - alpha * lam * x, x_prev: x},
                         params=(alpha, beta, lam), name="heavy_ball")


def _nesterov():
    y = x + beta * (x - x_prev)
    return linear_method({x: y - alpha * lam * y, x_prev: x}, params=(alpha, beta, lam), name="nesterov")


def _gd():
    return linear_method({x: x - alpha * lam * x}, params=(alpha, lam), name="gd")


def _same(a, b):
    return sp.simplify(sp.sympify(a) - sp.sympify(b)) == 0


@pytest.mark.parametrize("method, build", [("heavy_ball", _heavy_ball), ("nesterov", _nesterov)])
def test_user_updates_reproduce_momentum_formulas_symbolically(method, build):
    m = build()
    ours = {"spectral_radius": m.spectral_radius, "discriminant": m.discriminant,
            "critical_alpha": m.critical(alpha)}
    for what, formula in ours.items():
        ref = analytic.get(f"momentum.{method}_{what}")
        assert formula.params == ref.params, what
        # sympy simplify of the difference (the Piecewise radius included) is exactly 0
        assert _same(formula.expr, ref.expr), what
    bounds = m.regime_boundaries(alpha).expr
    ref = analytic.get(f"momentum.{method}_regime_boundaries").expr
    assert len(bounds) == 2 and all(any(_same(a, b) for b in bounds) for a in ref)


def test_user_updates_reproduce_tuning_and_worst_case_rates():
    gd = _gd().optimum(alpha)
    assert gd.symbolic and _same(gd.parameters["alpha"].expr, 2 / (mu + L))
    assert _same(gd.rate_kappa.expr, analytic.get("momentum.gd_optimal_rate").expr)
    hb = _heavy_ball().optimum(alpha, beta)
    assert hb.symbolic
    assert _same(hb.parameters["alpha"].expr, analytic.get("momentum.heavy_ball_optimal_alpha").expr)
    assert _same(hb.parameters["beta"].expr.subs(L, kappa * mu),
                 analytic.get("momentum.heavy_ball_optimal_beta").expr)
    assert _same(hb.rate_kappa.expr, analytic.get("momentum.heavy_ball_optimal_rate").expr)


def test_nesterov_worst_case_matches_catalogue_rate_and_its_optimum_is_numeric():
    nes = _nesterov()
    # Max of Piecewise radii at the ends: compared densely in kappa (sympy does not simplify it).
    kappas = np.geomspace(1.0, 1e4, 200)
    tuned = nes.worst_case_rate.jax(1 / kappas, (np.sqrt(kappas) - 1) / (np.sqrt(kappas) + 1), 1.0, kappas)
    ref = analytic.get("momentum.nesterov_rate").jax(kappas)
    # lam = mu is a double root: D off by round-off (~1e-16) moves the radius by ~sqrt(1e-16)
    np.testing.assert_allclose(tuned, ref, rtol=0, atol=1e-7)
    # D(mu) = D(L) = 0 gives the textbook tuning, which is not minimax: the numeric optimum
    # beats it and matches Lessard et al. 2016 (arXiv:1408.3595v3, sec. 2): 1 - 2/sqrt(3 kappa + 1)
    best = nes.optimum(alpha, beta)
    assert not best.symbolic and "numeric" in best.how
    got = best(1.0, 100.0)
    assert got["rate"] == pytest.approx(1 - 2 / np.sqrt(301), abs=1e-6)  # Nelder-Mead tolerance
    assert got["alpha"] == pytest.approx(4 / 301, rel=1e-3)


def test_qhm_radius_matches_numpy_eigenvalues_in_every_regime():
    rng = np.random.default_rng(0)
    a, b, n, lams = rng.uniform(0, 2, 4000), rng.uniform(0, 1, 4000), rng.uniform(0, 1, 4000), \
        rng.uniform(0, 3, 4000)
    radius = np.asarray(methods.qhm_spectral_radius.jax(a, b, n, lams))
    disc = np.asarray(methods.qhm_discriminant.jax(a, b, n, lams))
    entries = [np.broadcast_to(np.asarray(e), a.shape) for e in
               methods.qhm().iteration_matrix.jax(a, b, n, lams)]
    M = np.stack(entries, -1).reshape(-1, 2, 2)
    expected = np.abs(np.linalg.eigvals(M)).max(-1)
    assert (disc > 0).sum() > 500 and (disc < 0).sum() > 500  # both regimes sampled
    np.testing.assert_allclose(radius, expected, rtol=1e-6, atol=1e-9)  # eigvals near double roots
    margins = np.stack(methods.qhm_stability.jax(a, b, n, lams))
    clear = np.abs(expected - 1) > 1e-9
    assert np.array_equal((margins > 0).all(0)[clear], (expected < 1)[clear])  # Jury = radius < 1
    numeric = methods.qhm().radius_numeric(alpha=a, beta=b, nu=n, lam=lams)
    np.testing.assert_allclose(numeric, expected, rtol=1e-6, atol=1e-9)


def test_qhm_recovers_gd_heavy_ball_and_nesterov():
    """Ma and Yarats 2019 (arXiv:1810.06801v4, sec. 3): nu = 1 is EMA momentum, nu = beta NAG."""
    q = methods.qhm().characteristic_polynomial.expr
    hb = _heavy_ball().characteristic_polynomial.expr.subs(alpha, alpha * (1 - beta))
    nes = _nesterov().characteristic_polynomial.expr.subs(alpha, alpha * (1 - beta))
    assert _same(q.subs(nu, 1), hb) and _same(q.subs(nu, beta), nes)
    assert _same(q.subs(nu, 0), (z - beta) * (z - 1 + alpha * lam))  # GD plus a decaying buffer
    assert _same(methods.qhm_critical_alpha.expr, 2 * (1 + beta) / (lam * (1 + beta - 2 * beta * nu)))


def test_step_function_and_dict_give_the_same_method():
    theta, g = sp.symbols("theta g", real=True)
    via_step = linear_method(lambda s, grad, alpha, beta, nu: methods.qhm_update(*s, grad, alpha, beta, nu),
                             state=(theta, g), params=(alpha, beta, nu, lam), name="qhm")
    assert via_step.iteration_matrix.expr == methods.qhm().iteration_matrix.expr
    assert "closed form, order 2" in repr(via_step) and "theta+ =" in repr(via_step)


def test_order_three_method_has_a_numeric_radius():
    x2 = sp.Symbol("x2")
    m = linear_method({x: x - alpha * lam * x + beta * (x_prev - x2), x_prev: x, x2: x_prev},
                      params=(alpha, beta, lam), name="three")
    assert m.spectral_radius is None and "numeric" in repr(m)
    got = m.radius_numeric(alpha=0.3, beta=0.2, lam=1.0)
    M = np.array([[0.7, 0.2, -0.2], [1, 0, 0], [0, 1, 0]])
    assert got == pytest.approx(np.abs(np.linalg.eigvals(M)).max(), rel=1e-12)


@pytest.mark.parametrize("update, state, params, message", [
    ({x: x - alpha * lam * x**2}, None, (alpha, lam), "not linear"),
    ({x: x - alpha * lam * x + 1}, None, (alpha, lam), "affine"),
    ({x: x - alpha * lam * x + beta * (x - x_prev), x_prev: x}, None, (alpha, lam), "missing from params"),
    ({x: x - alpha * lam * x + beta * (x - x_prev)}, (x, x_prev), (alpha, beta, lam), "does not close"),
    ((x - alpha * lam * x + beta * (x - x_prev),), (x, x_prev), (alpha, beta, lam), "does not close"),
    ({x: x - alpha * lam * x + beta * (x - x_prev)}, None, (alpha, beta, lam), "missing from params"),
    ({x: x - alpha * x}, None, (alpha,), "lam"),
])
def test_clear_errors(update, state, params, message):
    with pytest.raises(ValueError, match=message):
        linear_method(update, state, params)


def test_qhm_check_passes_and_catches_a_wrong_radius():
    chk = core.registry()["methods.qhm_random_quadratics"]
    rows = claims.rows(chk, size="smoke")
    assert rows and all(r.passed for r in rows), rows
    assert dict(chk.uses) == {"radius": "methods.qhm_spectral_radius",
                              "worst_case": "methods.qhm_worst_case_rate"}


def test_a_user_claim_is_one_call_with_its_negative_control():
    import jax.numpy as jnp

    def measure(key, eta, lam):  # GD on one mode, 40 steps, rate from the ratio
        e = jax.lax.fori_loop(0, 40, lambda _, e: e - eta * lam * e, jnp.ones_like(eta * lam))
        return jnp.abs(e) ** (1 / 40)

    crit = analytic.get("linreg.critical_lr")
    chk = claims.claim("user.gd_rate", register=False, prediction=lambda eta, lam: jnp.abs(1 - eta * lam),
                       measurement=measure, inputs={"eta": jnp.array([0.1, 0.3]), "lam": jnp.array([1.0, 2.0])},
                       tolerance=1e-12, reason="float64 round-off over 40 steps", cites="textbook")
    rows = claims.rows(chk)
    assert [r.passed for r in rows] == [True, True] and rows[1].measurement == "rejected"
    wrong = claims.claim("user.gd_wrong", register=False, prediction=lambda eta, lam: 1 - eta * lam / 2,
                         measurement=measure, inputs={"eta": jnp.array([0.1]), "lam": jnp.array([1.0])},
                         tolerance=1e-6, reason="round-off")
    assert not claims.rows(wrong)[0].passed
    by_name = claims.claim("user.critical", register=False, prediction="linreg.critical_lr",
                           measurement=lambda key, lam_max: 2 / lam_max,
                           inputs={"lam_max": jnp.array([1.0, 4.0])}, tolerance=1e-12, reason="exact")
    assert dict(by_name.uses) == {"prediction": "linreg.critical_lr"} and crit.name == "linreg.critical_lr"
    with pytest.raises(ValueError, match="reason"):
        claims.claim("user.x", prediction=crit, measurement=measure, inputs={}, tolerance=0.1, reason=" ")


_EXTERNAL = '''
import jax.numpy as jnp
from verify.claims import claim

gd_factor = claim("paperx.gd_factor", prediction=lambda eta, lam: jnp.abs(1 - eta * lam),
                  measurement=lambda key, eta, lam: jnp.abs((1 - eta * lam) ** 20) ** (1 / 20),
                  inputs={"eta": jnp.array([0.1, 0.2]), "lam": jnp.array([1.0, 3.0])},
                  tolerance=1e-10, reason="float64 round-off over 20 steps", cites="Paper X 2026, eq. (1)")
'''


def _install_external(tmp_path):
    """A tiny check package with a tdtk.checks entry point, 'installed' into tmp_path."""
    (tmp_path / "paperx_checks.py").write_text(_EXTERNAL)
    info = tmp_path / "paperx_checks-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: paperx-checks\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[tdtk.checks]\npaperx = paperx_checks\n")


def test_external_check_package_is_discovered_and_run(tmp_path, monkeypatch, capsys):
    _install_external(tmp_path)
    monkeypatch.syspath_prepend(str(tmp_path))
    checks = core.registry()
    assert "paperx.gd_factor" in checks
    rows = claims.rows("paperx.gd_factor")
    assert [r.passed for r in rows] == [True, True]
    from verify import cli

    assert cli.main(["--list", "paperx"]) == 0  # what `python -m verify --list` prints
    assert "paperx.gd_factor" in capsys.readouterr().out


def test_docstring_examples_run_in_float64():
    import doctest

    import analytic._linear_method
    import verify.claims

    for module in (methods, analytic._linear_method, verify.claims):
        result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
        assert result.failed == 0 and result.attempted > 0, module.__name__


def test_user_updates_reproduce_step_counts_and_slowest_mode_errors():
    """*_steps, *_slowest_mode_error and the Nesterov textbook bound from the user path."""
    sq_l, sq_mu = sp.sqrt(L), sp.sqrt(mu)
    r_hb = ((sq_l - sq_mu) / (sq_l + sq_mu))
    tunings = {  # (method, tuning, slowest eigenvalue, initial state at rest)
        "gd": (_gd(), {alpha: 2 / (L + mu), lam: mu}, {x: 1}),
        "heavy_ball": (_heavy_ball(), {alpha: 4 / (sq_l + sq_mu) ** 2, beta: r_hb**2, lam: L},
                       {x: 1, x_prev: 1}),
        "nesterov": (_nesterov(), {alpha: 1 / L, beta: r_hb, lam: mu}, {x: 1, x_prev: 1}),
    }
    for method, (m, at, start) in tunings.items():
        ours = m.mode_error(at, start)
        ref = analytic.get(f"momentum.{method}_slowest_mode_error")
        assert {p.name for p in ours.params} == {"kappa", "t"}, method
        assert _same(ours.expr, ref.expr), method  # sympy: the difference simplifies to 0
    for method, build, tuned in (("gd", _gd, (alpha,)), ("heavy_ball", _heavy_ball, (alpha, beta))):
        steps = build().optimum(*tuned).steps()
        assert _same(steps.expr, analytic.get(f"momentum.{method}_steps").expr), method
    # Nesterov's textbook tuning: its worst case on [mu, L] is the textbook bound 1 - 1/sqrt(kappa)
    kappas = np.geomspace(1.5, 1e4, 100)
    worst = _nesterov().worst_case_rate.jax(1 / kappas, (np.sqrt(kappas) - 1) / (np.sqrt(kappas) + 1),
                                            1.0, kappas)
    bound = analytic.get("momentum.nesterov_textbook_bound").jax(kappas)
    np.testing.assert_allclose(worst, bound, rtol=0, atol=1e-7)  # double root at mu: sqrt(round-off)


def test_bilinear_game_methods_written_as_user_updates_reproduce_the_games_radii():
    """Per singular value sigma of f = x^T A y (the eigenvalue symbol lam plays sigma)."""
    from analytic.symbols import eta
    gx, gy = sp.symbols("x y")
    updates = {
        "simultaneous_gda": {gx: gx - eta * lam * gy, gy: gy + eta * lam * gx},
        "alternating_gda": {gx: gx - eta * lam * gy, gy: gy + eta * lam * (gx - eta * lam * gy)},
        "extragradient": {gx: gx - eta * lam * (gy + eta * lam * gx), gy: gy + eta * lam * (gx - eta * lam * gy)},
    }
    etas, sigmas = np.meshgrid(np.linspace(0.05, 2.5, 25), np.array([0.3, 1.0, 1.7]))
    for method, update in updates.items():
        radius = linear_method(update, params=(eta, lam), name=method).spectral_radius
        ours = radius.jax(*[{"eta": etas, "lam": sigmas}[p.name] for p in radius.params])
        ref = analytic.get(f"games.{method}_radius")(eta=etas, sigma=sigmas)
        np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-14)  # the same algebra: round-off
