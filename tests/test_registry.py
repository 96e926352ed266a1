"""Families publish Formulas through ``analytic._registry.Formulas``: named once, derived once."""

import dataclasses

import pytest
import sympy as sp

import analytic
from analytic._registry import Formulas
from analytic.formula import Formula

x = sp.Symbol("x", positive=True)


def _family():
    formulas = Formulas("toy")
    calls = []

    @formulas.register("double")
    def _double():
        calls.append("double")
        return Formula(expr=2 * x, params=(x,), source="toy", derived=True)

    @formulas.register_variants("{power}_power", power=("square", "cube"))
    def _power(power):
        return Formula(expr=x ** {"square": 2, "cube": 3}[power], params=(x,), source="toy", derived=True)

    return formulas, calls, _double


def test_the_registry_names_each_formula_and_derives_it_once():
    formulas, calls, double = _family()
    assert list(formulas) == ["double", "square_power", "cube_power"]
    assert formulas.get("double").name == "toy.double"
    assert double() is formulas.get("double") and calls == ["double"]  # cached: derived once
    assert formulas.get("cube_power").expr == x**3
    getattr_ = formulas.module_getattr("toy")
    assert getattr_("square_power").name == "toy.square_power"
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        getattr_("nope")
    with pytest.raises(ValueError, match="unknown formula toy.nope"):
        formulas.get("nope")


def test_registry_misuse_is_named():
    formulas, _, _ = _family()
    with pytest.raises(ValueError, match="registered twice"):
        formulas.register("double")(lambda: None)
    with pytest.raises(ValueError, match="one family"):
        Formulas.merge(formulas, Formulas("other"))
    with pytest.raises(ValueError, match="registered twice"):
        Formulas.merge(formulas, formulas)
    bad = Formulas("toy")
    bad.register("wrong_name")(lambda: Formula("toy.other", x, (x,), source="s", derived=True))
    with pytest.raises(ValueError, match="named its Formula 'toy.other'"):
        bad.get("wrong_name")
    with pytest.raises(ValueError, match="at least one axis"):
        bad.register_variants("{a}")


def test_families_are_discovered_not_listed():
    import pkgutil

    packages = {m.name for m in pkgutil.iter_modules(analytic.__path__) if m.ispkg and not m.name.startswith("_")}
    assert packages <= set(analytic.FAMILIES)
    for family in analytic.FAMILIES:
        assert all(n.startswith(family + ".") for n in analytic.names() if n.split(".")[0] == family)


# --- every Formula a statically visible, lazily derived name of its family ---------------
def test_formulas_are_static_names_that_tools_see_and_the_import_is_the_catalogue_object():
    import ast
    import importlib

    from analytic import _static_names

    assert _static_names.stale_families() == [], "run python -m analytic._static_names"
    for family in analytic.FAMILIES:
        module = importlib.import_module(f"analytic.{family}")
        shorts = list(module.FORMULAS)
        tree = ast.parse(open(module.__file__).read())  # what a static tool reads
        annotated = {node.target.id for node in tree.body
                     if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)}
        assert set(shorts) <= annotated, family
        assert set(shorts) <= set(module.__all__) and set(shorts) <= set(dir(module)), family
        # A module global of the same name would shadow the Formula (never reach __getattr__).
        assert not set(shorts) & set(vars(module)), family
    from analytic.momentum import heavy_ball_optimal_rate
    assert heavy_ball_optimal_rate is analytic.get("momentum.heavy_ball_optimal_rate")
    assert type(heavy_ball_optimal_rate) is Formula


def test_publishing_and_listing_derive_nothing():
    import types

    formulas, calls, _ = _family()
    module = types.ModuleType("toy")
    formulas.publish(vars(module))
    assert {"double", "square_power", "cube_power"} <= set(dir(module)) and calls == []
    assert module.double is formulas.get("double") and calls == ["double"]
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        module.nope


def test_a_stale_static_block_is_reported(tmp_path, monkeypatch):
    from analytic import _static_names

    text = f"FORMULAS.publish(globals())\n\n{_static_names.BEGIN}\nold: Formula\n{_static_names.END}\n"
    assert _static_names._split(text)[1] != _static_names.block("methods")  # negative control
    assert _static_names._split("no block here")[1] is None


def test_relu_ntk_is_the_published_layer_map_and_agrees_with_fc_kernels():
    import jax.numpy as jnp
    import numpy as np

    from analytic import kernels

    # Arora et al. 2019 (arXiv:1904.11955v2, eqs. (4)-(5), c_sigma = 2): unit variances, k12 = cos(theta).
    theta, ntk = sp.Symbol("theta", positive=True), sp.Symbol("ntk", real=True)
    f = kernels.relu_ntk
    mapped = f.expr.subs({sp.Symbol("k11", positive=True): 1, sp.Symbol("k22", positive=True): 1,
                          sp.Symbol("sigma_w", nonnegative=True): sp.sqrt(2),
                          sp.Symbol("sigma_b", nonnegative=True): 0,
                          sp.Symbol("k12", real=True): sp.cos(theta)})
    published = (sp.sin(theta) + (sp.pi - theta) * sp.cos(theta)) / sp.pi + (sp.pi - theta) / sp.pi * ntk
    for value in (0.3, 1.1, 2.5):  # theta in (0, pi): acos(cos(theta)) = theta
        assert abs(float((mapped - published).subs({theta: value, ntk: 0.7}).evalf())) < 1e-13  # round-off
    # One hidden layer of fc_kernels on two inputs (its own scan over the angle forms).
    x = jnp.array([[1.0, 0.5, -0.2], [0.3, -1.0, 0.8]])
    sw, sb = 1.3, 0.4
    k = kernels.fc_kernels(x, None, depth=1, activation="relu", sigma_w=sw, sigma_b=sb)
    gram = np.asarray(x @ x.T) / x.shape[1] * sw**2 + sb**2  # K^1 = Theta^1 (the input layer)
    for name, out in (("relu_ntk", k.ntk), ("relu_nngp_layer", k.nngp)):
        g = getattr(kernels, name)
        args = dict(k11=gram[0, 0], k22=gram[1, 1], k12=gram[0, 1], sigma_w=sw, sigma_b=sb)
        if "ntk" in g.param_names:
            args["ntk"] = gram[0, 1]
        assert abs(float(g(**args)) - float(out[0, 1])) < 1e-10 * abs(float(out[0, 1]))  # float64 round-off
        wrong = dict(args, sigma_b=0.0)  # negative control: a dropped bias moves the value
        assert abs(float(g(**wrong)) - float(out[0, 1])) > 1e-3


def test_references_are_declared_by_each_family_and_merged_once(monkeypatch):
    import pathlib
    import re

    from analytic import references

    tables = references._family_tables()
    assert set(tables) <= set(analytic.FAMILIES)
    assert len(references.REFERENCES) == sum(len(t) for t in tables.values())
    root = pathlib.Path(analytic.__file__).parent.parent
    cited = {key for path in [*root.glob("analytic/**/*.py"), *root.glob("verify/**/*.py")]
             for key in re.findall(r"""\bcite\(\s*["'](\w+)["']""", path.read_text())}
    assert cited and cited <= set(references.REFERENCES), sorted(cited - set(references.REFERENCES))
    # Negative control: a key declared by two families is refused, naming both.
    doubled = dict(tables, zzz={"hmrt2019": tables["linreg"]["hmrt2019"]})
    monkeypatch.setattr(references, "_family_tables", lambda: doubled)
    monkeypatch.setattr(references, "_TABLE", None)
    with pytest.raises(ValueError, match="'hmrt2019' is declared by both linreg and zzz"):
        references.cite("hmrt2019")


def test_a_claim_cell_can_run_twice_and_context_has_size_alone():
    import jax.numpy as jnp

    from verify import claims, core

    def make():
        return claims.claim("user.twice", prediction=lambda eta: eta, measurement=lambda key, eta: eta,
                            inputs={"eta": jnp.array([0.1])}, tolerance=1e-12, reason="identical", cites="-")

    assert make() is not make() and "user.twice" not in core._REGISTRY  # no "registered twice"
    ctx = core.Context(size="smoke")
    assert ctx.quick and [f.name for f in dataclasses.fields(ctx)].count("quick") == 0
    with pytest.raises(AttributeError):
        ctx.quick = False  # read-only: the size says it
    assert core.Context(quick=False).size == "full"  # the legacy keyword still works
    with pytest.raises(ValueError, match="contradicts"):
        core.Context(quick=False, size="quick")


def test_the_derivation_cache_serves_the_formula_a_fresh_derivation_gives(tmp_path, monkeypatch):
    """analytic/_derivation_cache.py: on, a Formula stored by one process is loaded by the next,
    equal to a fresh derivation; another digest (an edit to analytic/) misses; off, nothing is written."""
    from analytic import _derivation_cache as cache

    fresh = analytic.get("linreg.critical_lr")
    monkeypatch.setenv(cache.ENV, "")
    assert not cache.store(fresh.name, "digest", fresh) and cache.load(fresh.name, "digest") is None
    monkeypatch.setenv(cache.ENV, str(tmp_path))
    assert cache.store(fresh.name, "digest", fresh)
    loaded = cache.load(fresh.name, "digest")
    assert loaded is not fresh and loaded == fresh and float(loaded(lam_max=4.0)) == float(fresh(lam_max=4.0))
    assert cache.load(fresh.name, "another digest") is None
    (tmp_path / "digest" / f"{fresh.name}.pickle").write_bytes(b"not a pickle")
    assert cache.load(fresh.name, "digest") is None  # unreadable: derived again
    digest = cache.source_digest()
    assert len(digest) == 24 and digest == cache.source_digest()
