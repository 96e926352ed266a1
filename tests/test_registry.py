"""Families publish Formulas through ``analytic._registry.Formulas``: named once, derived once."""

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
