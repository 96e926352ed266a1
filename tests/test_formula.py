"""The Formula core: evaluation, validation, caching, symbolic operations, display."""

import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import pytest
import sympy as sp

import analytic
from analytic.formula import Formula
from analytic.symbols import eta, kappa, lam, t


@pytest.fixture
def mode():
    return Formula("test.mode", (1 - eta * lam) ** t, (eta, lam, t), source="test", derived=False,
                   domains={"t": sp.Naturals0})


def test_keyword_evaluation_broadcasts_like_numpy(mode):
    lams = np.linspace(0.0, 3.0, 7)
    got = mode(eta=0.5, lam=lams[:, None], t=np.arange(4.0)[None, :])
    want = (1 - 0.5 * lams[:, None]) ** np.arange(4.0)[None, :]
    assert got.shape == (7, 4)
    np.testing.assert_allclose(got, want, rtol=1e-14)  # float64 round-off of a few flops


def test_output_broadcast_to_unused_argument_shape():
    f = Formula("test.const_in_lam", 2 / eta, (eta,), source="test", derived=False).subs(eta=4)
    assert f.params == () and float(f()) == 0.5


def test_missing_unknown_and_positional_arguments_are_type_errors(mode):
    with pytest.raises(TypeError, match=r"missing arguments \['t'\]"):
        mode(eta=0.1, lam=1.0)
    with pytest.raises(TypeError, match=r"unknown arguments \['lr'\]"):
        mode(eta=0.1, lam=1.0, t=1, lr=2)
    with pytest.raises(TypeError, match="keyword"):
        mode(0.1, 1.0, 1)


@pytest.mark.parametrize("kwargs, name, text", [
    ({"eta": 0.0, "lam": 1.0, "t": 1}, "eta", "0.0"),
    ({"eta": -0.1, "lam": 1.0, "t": 1}, "eta", "-0.1"),
    ({"eta": 0.1, "lam": -2.0, "t": 1}, "lam", "-2.0"),
    ({"eta": 0.1, "lam": 1.0, "t": 1.5}, "t", "1.5"),
    ({"eta": float("nan"), "lam": 1.0, "t": 1}, "eta", "nan"),
    ({"eta": 0.1, "lam": [1.0, float("inf")], "t": 1}, "lam", "inf"),
])
def test_out_of_range_values_name_parameter_value_and_range(mode, kwargs, name, text):
    with pytest.raises(ValueError, match=rf"'{name}' = {text}.*(range|valid)"):
        mode(**kwargs)


def test_mismatched_shapes_are_value_errors(mode):
    with pytest.raises(ValueError, match=r"do not broadcast: eta\(\), lam\(3,\), t\(2,\)"):
        mode(eta=0.1, lam=np.ones(3), t=np.ones(2))


def test_non_numeric_argument_is_type_error(mode):
    with pytest.raises(TypeError, match="'lam' must be a real number, got str"):
        mode(eta=0.1, lam="big", t=1)


def test_free_symbols_must_equal_params():
    with pytest.raises(ValueError, match=r"undeclared \['lam'\]"):
        Formula("bad", eta * lam, (eta,), source="test", derived=False)
    with pytest.raises(ValueError, match=r"unused \['t'\]"):
        Formula("bad", eta, (eta, t), source="test", derived=False)


def test_no_relambdify_or_recompile_on_repeated_calls(mode):
    first = mode.jax
    for _ in range(5):
        mode(eta=0.1, lam=np.ones(3), t=2)
    assert mode.jax is first  # lambdified and jitted once per Formula
    assert first._cache_size() == 1  # one compilation for one set of shapes/dtypes
    mode(eta=0.1, lam=np.ones(4), t=2)
    assert first._cache_size() == 2  # a new shape compiles once more, as jit does


def test_jax_callable_composes_with_vmap_and_grad(mode):
    lams = jnp.linspace(0.1, 1.0, 5)
    batched = jax.vmap(mode.jax, in_axes=(None, 0, None))(0.2, lams, 3.0)
    np.testing.assert_allclose(batched, (1 - 0.2 * lams) ** 3, rtol=1e-14)
    # d/d eta (1 - eta lam)^t = -t lam (1 - eta lam)^(t-1), by hand.
    grad = jax.grad(mode.jax, argnums=0)(0.2, 0.5, 3.0)
    assert grad == pytest.approx(-3 * 0.5 * (1 - 0.1) ** 2, rel=1e-14)


def test_diff_and_subs_make_new_formulas():
    rate = analytic.get("linreg.optimal_rate")
    sensitivity = rate.diff("kappa")
    assert sp.simplify(sensitivity.expr - 2 / (kappa + 1) ** 2) == 0
    assert sensitivity.params == (kappa,)
    assert sensitivity(kappa=1.0) == pytest.approx(0.5, rel=1e-15)
    optimal_lr = analytic.get("linreg.optimal_lr")
    from analytic.linreg._symbols import lam_max, lam_min
    in_kappa = optimal_lr.subs({lam_max: kappa * lam_min}).subs(lam_min=1)
    assert in_kappa.params == (kappa,)
    assert in_kappa(kappa=3.0) == pytest.approx(0.5, rel=1e-15)
    with pytest.raises(ValueError, match="no parameter 'mu'"):
        rate.diff("mu")


def test_display(mode):
    assert mode.latex() == sp.latex((1 - eta * lam) ** t)
    assert mode._repr_latex_().startswith("$\\displaystyle")
    text = str(mode)
    assert "test.mode(eta, lam, t)" in text and "stated" in text and "t in {0, 1, 2, ...}" in text
    assert "Formula('test.mode'" in repr(mode)


def test_formula_is_frozen_and_hashable(mode):
    with pytest.raises(Exception):
        mode.name = "other"
    assert hash(mode) == hash(Formula("test.mode", (1 - eta * lam) ** t, (eta, lam, t), source="test",
                                      derived=False, domains={"t": sp.Naturals0}))


def test_catalog_and_get():
    names = analytic.names()
    assert {"linreg.gd_mode_error", "linreg.critical_lr", "linreg.optimal_lr", "linreg.optimal_rate",
            "linreg.gf_mode_error", "linreg.ridgeless_risk"} <= set(names)
    cat = analytic.catalog()
    assert set(cat) == set(names)
    assert all(isinstance(f, Formula) and f.name == n for n, f in cat.items())
    with pytest.raises(ValueError, match="unknown formula"):
        analytic.get("linreg.nope")
    with pytest.raises(ValueError, match="unknown family"):
        analytic.get("nope.x")


def test_composites_are_listed_with_signature_and_summary():
    found = analytic.composites()
    for name in ("kernels.fc_kernels", "momentum.steps_to_eps", "linreg.gd_loss_curve",
                 "catapult.uv_trajectory", "deeplinear.arora_singular_value", "nqm.expected_loss_curve"):
        assert name in found, name
        text = str(found[name])
        assert text.startswith(name + "(") and "): " in text and "->" not in text and "| None" not in text, text
    assert all(c.summary for c in found.values()), [c.name for c in found.values() if not c.summary]
    assert not set(found) & set(analytic.names())
    both = analytic.catalog(composites=True)
    assert set(both) == set(found) | set(analytic.names())
    assert float(found["linreg.gd_loss_curve"](0.1, [1.0], [1.0], 1)[1]) == pytest.approx(0.5 * 0.81)


@pytest.fixture(scope="module")
def fresh_imports() -> list[str]:
    """One fresh interpreter (its start and JAX's import are most of the cost) answers both import
    questions: first every numeric module is imported and the analytic/sympy modules then loaded are
    listed; then every analytic family is imported and the derived Formulas counted. numeric is
    imported first, so it cannot lean on an analytic already loaded; analytic's count is taken
    after, which is the same as alone (importing numeric loads nothing of analytic: the first answer)."""
    code = ("import sys, pkgutil, importlib, numeric\n"
            "for m in pkgutil.iter_modules(numeric.__path__):\n"
            "    importlib.import_module('numeric.' + m.name)\n"
            "print(sorted(k for k in sys.modules if k.split('.')[0] in ('analytic', 'sympy')))\n"
            "import analytic\n"
            "mods = [importlib.import_module('analytic.' + f) for f in analytic.FAMILIES]\n"
            "print(sum(m.FORMULAS[s].cache_info().currsize for m in mods for s in m.FORMULAS))")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True).stdout
    return out.strip().splitlines()


def test_import_does_no_sympy_work(fresh_imports):
    assert fresh_imports[1] == "0"


def test_numeric_never_imports_analytic_or_sympy(fresh_imports):
    assert fresh_imports[0] == "[]"


def test_constraints_between_parameters():
    L, mu = sp.Symbol("L", positive=True), sp.Symbol("mu", positive=True)
    f = Formula("test.ratio", L / mu, (mu, L), source="test", derived=False, constraints=(sp.Ge(L, mu),))
    assert float(f(mu=1.0, L=4.0)) == 4.0
    with pytest.raises(ValueError, match=r"must satisfy L >= mu, got L = 1.0, mu = 2.0"):
        f(mu=[1.0, 2.0], L=1.0)
    assert "requires L >= mu" in f.describe()
    with pytest.raises(ValueError, match="relation between params"):
        Formula("bad", L / mu, (mu, L), source="t", derived=False, constraints=(sp.Ge(eta, mu),))


def test_one_symbol_name_has_one_set_of_assumptions_across_the_catalogue():
    seen = {}
    for name, formula in analytic.catalog().items():
        for p in formula.params:
            first = seen.setdefault(p.name, (p, name))
            assert p == first[0], (f"{p.name} in {name} has assumptions {p.assumptions0}, but in "
                                   f"{first[1]} {first[0].assumptions0}")


def test_describe_says_derived_or_stated_once():
    stated = Formula(expr=eta * lam, params=(eta, lam), source="s", derived=False,
                     derivation="stated from the paper; checked in the tests")
    line = [ln for ln in stated.describe().splitlines() if "stated" in ln]
    assert line == ["  stated: from the paper; checked in the tests"]
    for f in analytic.catalog().values():
        text = f.describe()
        assert "stated: stated" not in text and "derived: derived" not in text, f.name


def test_a_formula_must_say_whether_it_was_derived():
    with pytest.raises(TypeError, match="derived must be True"):
        Formula("t.x", eta, (eta,), source="s")
    with pytest.raises(ValueError, match="expr is required"):
        Formula("t.x", params=(eta,), derived=True)
    unnamed = Formula(expr=2 / eta, params=(eta,), derived=True)  # a REPL user's own: no name needed
    assert float(unnamed(eta=4.0)) == 0.5


# --- validation without gaps (issue 18) and edges (issue 22) ----------------------------
@pytest.mark.parametrize("value, text", [
    (True, "boolean"), (np.array([True, False]), "booleans"), (None, "NoneType"), ("1.0", "str"),
    (1 + 2j, "complex"), ([[1.0], [1.0, 2.0]], "ragged"),
])
def test_non_real_arguments_are_type_errors_naming_the_parameter(mode, value, text):
    with pytest.raises(TypeError, match=rf"parameter 'lam'.*{text}"):
        mode(eta=0.1, lam=value, t=1)


def test_messages_print_plain_numbers():
    from analytic.formula import format_value
    assert format_value(np.float64(4.0)) == "4.0" and format_value(np.int64(3)) == "3"
    rate = analytic.get("linreg.optimal_rate")
    with pytest.raises(ValueError) as info:
        rate(kappa=np.float64(0.5))
    assert "np." not in str(info.value) and "0.5" in str(info.value)


def test_composites_name_the_function_the_user_called():
    from analytic import deeplinear, linreg, momentum, nqm
    cases = [
        (lambda: deeplinear.arora_singular_value(3, s=-1.0, sigma0=0.1, t=1.0),
         ValueError, r"^deeplinear.arora_singular_value: parameter 's' = -1.0 is outside"),
        (lambda: deeplinear.arora_singular_value(3, s=np.float64(1.0), sigma0=np.float64(4.0), t=1.0),
         ValueError, r"^deeplinear.arora_singular_value: needs 0 < sigma0 < s, got sigma0 = 4.0, s = 1.0$"),
        (lambda: deeplinear.arora_singular_value(3, s=[[1.0], [1.0, 2.0]], sigma0=0.1, t=1.0),
         TypeError, r"^deeplinear.arora_singular_value: parameter 's' .*ragged"),
        (lambda: linreg.gd_loss_curve(0.1, [[1.0], [1.0, 2.0]], [1.0], 3),
         TypeError, r"^linreg.gd_loss_curve: parameter 'eigenvalues' .*ragged"),
        (lambda: linreg.gd_loss_curve(-0.1, [1.0], [1.0], 3), ValueError, r"^linreg.gd_loss_curve: parameter 'eta'"),
        (lambda: momentum.steps_to_eps("gd", 0.5, 0.1), ValueError, r"^momentum.steps_to_eps: parameter 'kappa'"),
        (lambda: nqm.expected_loss_curve(0.1, 1.5, 0.0, [1.0], [1.0], 1.0, 1.0, 3),
         ValueError, r"^nqm.expected_loss_curve: parameter 'beta' = 1.5"),
    ]
    for call, error, pattern in cases:
        with pytest.raises(error, match=pattern) as info:
            call()
        assert "np." not in str(info.value), str(info.value)


def test_keyword_call_refuses_tracing_and_points_to_jax():
    rate = analytic.get("linreg.optimal_rate")
    with pytest.raises(TypeError, match=r"cannot be traced.*linreg.optimal_rate.jax\(kappa\)"):
        jax.jit(lambda k: rate(kappa=k))(0.5)
    assert float(jax.jit(rate.jax)(3.0)) == 0.5  # the traced path: positional, unchecked


def test_nan_at_checked_inputs_is_an_error_naming_inputs_and_conditions():
    f = Formula("test.sqrt_gap", sp.sqrt(lam - eta), (eta, lam), source="t", derived=False,
                conditions=("lam >= eta",))
    with pytest.raises(ValueError, match=r"NaN at eta = 2.0, lam = 1.0.*valid when: lam >= eta"):
        f(eta=[0.5, 2.0], lam=1.0)


def test_subs_matches_symbols_by_name_and_checks_ranges():
    rate = analytic.get("linreg.optimal_rate")
    plain = sp.Symbol("kappa")  # no assumptions: a different sympy object than the parameter
    assert float(rate.subs({plain: 3}).expr) == 0.5
    with pytest.raises(ValueError, match=r"kappa = 0.5 is outside its valid range \[1, oo\)"):
        rate.subs(kappa=0.5)
    with pytest.raises(ValueError, match="not a finite real"):
        rate.subs(kappa=float("inf"))
    learning = analytic.get("deeplinear.saxe_learning_time")
    with pytest.raises(ValueError, match="violate u0 < uf"):
        learning.subs(u0=2, uf=1)


def test_evaluate_as_is_tied_to_its_expr():
    import dataclasses
    loss = analytic.get("nqm.sgd_expected_loss")
    assert loss.evaluated_expr is not loss.expr
    wrong = dataclasses.replace(loss, expr=sp.Rational(11, 10) * loss.expr)  # a negative control
    assert wrong.evaluated_expr is wrong.expr
    args = dict(alpha=0.3, h=2.0, c=1.0, B=2.0, t=7, e0=1.0)
    assert float(wrong(**args)) == pytest.approx(1.1 * float(loss(**args)), rel=1e-12)
    fixed = loss.subs(B=2)  # subs carries the stable form along
    assert fixed.evaluated_expr is not fixed.expr
    assert float(fixed(alpha=1.0, h=2.0, c=1.0, t=10, e0=1.0)) == pytest.approx(6.0, rel=1e-15)


def _sgd_loss_mpmath(alpha, h, c, B, t, e0):
    import mpmath as mp
    with mp.workdps(40):
        a, h, c, B, e0 = (mp.mpf(float(x)) for x in (alpha, h, c, B, e0))
        r = (1 - a * h) ** 2
        return float(h / 2 * (e0**2 * r**t + a**2 * c / B * mp.fsum(r**k for k in range(int(t)))))


@pytest.mark.parametrize("scale", [1.0, 1 - 1e-8, 1 + 1e-8, 1 - 1e-4, 0.5])
def test_sgd_expected_loss_at_and_near_the_stability_edge(scale):
    # alpha h = 2 scale; at scale = 1 the closed form is 0/0, the limit is h/2 (e0^2 + t alpha^2 c/B).
    loss = analytic.get("nqm.sgd_expected_loss")
    args = (scale, 2.0, 1.0, 2.0, 10, 1.0)
    want = _sgd_loss_mpmath(*args)
    got = float(loss(alpha=scale, h=2.0, c=1.0, B=2.0, t=10, e0=1.0))
    assert got == pytest.approx(want, rel=4e-16 * 10)  # float64 round-off of ~10 flops: no cancellation
    if scale == 1.0:
        assert got == 6.0
    # float32: the stable form keeps float32 round-off (the edge +-1e-8 rounds to the edge itself).
    got32 = loss.jax(*(np.float32(a) for a in args))
    assert got32.dtype == np.float32
    assert float(got32) == pytest.approx(_sgd_loss_mpmath(*(np.float32(a) for a in args)), rel=1e-6)
    # gradients: finite, continuous across the edge, equal to central differences of the exact sum
    grad = jax.grad(loss.jax)(*(float(a) for a in args))
    step = 1e-6
    numeric = (_sgd_loss_mpmath(scale + step, *args[1:]) - _sgd_loss_mpmath(scale - step, *args[1:])) / (2 * step)
    assert np.isfinite(grad) and float(grad) == pytest.approx(numeric, rel=1e-6)  # O(step^2) truncation


def test_overflow_gives_inf_or_the_limit_never_nan():
    from analytic import deeplinear, linreg
    assert float(linreg.two_feature_kappa(scale=1e300, rho=0.5)) == np.inf  # exact ~1e600
    assert float(linreg.two_feature_kappa(scale=1e-7, rho=0.9999998)) == pytest.approx(
        2.5000002499274143e20, rel=1e-9)  # was inf: lambda_- lost to cancellation
    assert float(deeplinear.saxe_mode_strength(s=1e3, u0=1.0, tau=1e-3, t=1e3)) == 1e3  # exp overflows: s
    assert float(deeplinear.symmetric_eigenvalue(s=2.0, sigma0=0.1, t=1e4)) == 2.0
    assert float(deeplinear.saxe_learning_time(s=1e-3, u0=1e-4, uf=5e-4, tau=1e3)) == pytest.approx(
        1e3 / 2e-3 * np.log(5 * 0.9e-3 / 0.5e-3), rel=1e-13)  # the power of the log overflowed


def test_ridgeless_risk_at_the_interpolation_peak():
    from analytic import linreg
    got = linreg.ridgeless_risk(gamma=np.array([1.0, 1 - 1e-8, 1 + 1e-8]), r2=1.0, sigma2=0.0)
    # sigma2 = 0: both sides tend to 0; r2 (gamma - 1) / gamma above, 0 below (no cancellation)
    np.testing.assert_allclose(got, [0.0, 0.0, 1e-8 / (1 + 1e-8)], rtol=1e-7, atol=0)
    assert float(linreg.ridgeless_risk(gamma=1.0, r2=1.0, sigma2=0.5)) == np.inf  # the peak


def test_legacy_aliases_and_glossary_keywords_name_one_parameter():
    old = sp.Symbol("B_new_toy", positive=True)
    f = Formula("toy.rate", 1 - eta * lam / old, (eta, lam, old), source="toy", derived=True,
                aliases={"B_old": "B_new_toy", "gone": "not_a_parameter"})
    assert f.aliases == (("B_old", "B_new_toy"),)  # an alias of no parameter is dropped
    value = float(f(eta=0.1, lam=2.0, B_new_toy=4.0))
    assert float(f(learning_rate=0.1, curvature=2.0, B_old=4.0)) == value == 1 - 0.1 * 2.0 / 4.0
    assert f.symbol("B_old") is old and f.domain("learning_rate") == sp.Interval.open(0, sp.oo)
    assert f.subs(B_old=2).param_names == ("eta", "lam")
    with pytest.raises(TypeError, match=r"\['eta', 'learning_rate'\] all name the parameter 'eta'"):
        f(eta=0.1, learning_rate=0.1, lam=2.0, B_new_toy=4.0)
    with pytest.raises(ValueError, match="'B_new_toy' = -1.0 is outside"):  # named by the parameter's own name
        f.check_arguments(eta=0.1, lam=2.0, B_old=-1.0)
    with pytest.raises(ValueError, match="alias 'eta' is also a parameter name"):
        Formula("toy.bad", eta * lam, (eta, lam), source="toy", derived=True, aliases={"eta": "lam"})
    with pytest.raises(TypeError, match="unknown arguments \\['width'\\]"):  # a term naming no parameter
        f(width=3.0, eta=0.1, lam=2.0, B_new_toy=4.0)
