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


def _run(code: str) -> str:
    return subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                          text=True).stdout.strip()


def test_import_does_no_sympy_work():
    code = ("import analytic, importlib\n"
            "mods = [importlib.import_module('analytic.' + f) for f in analytic.FAMILIES]\n"
            "print(sum(m.FORMULAS[s].cache_info().currsize for m in mods for s in m.FORMULAS))")
    assert _run(code) == "0"


def test_numeric_never_imports_analytic_or_sympy():
    code = ("import sys, pkgutil, importlib, numeric\n"
            "for m in pkgutil.iter_modules(numeric.__path__):\n"
            "    importlib.import_module('numeric.' + m.name)\n"
            "print(sorted(k for k in sys.modules if k.split('.')[0] in ('analytic', 'sympy')))")
    assert _run(code) == "[]"


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
