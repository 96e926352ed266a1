"""Every tolerance in the catalogue carries its category, and no row is informational.

A tolerance comes from one (or several) of: the Monte Carlo or bootstrap spread of the run
(statistical), a finite width, horizon or truncation (finite-size), a step size or a grid
(discretisation), float64 arithmetic (round-off); a categorical row has none (exact). The
category is given as ``category=`` or named by the words of the row's reason
(:func:`verify.core.tolerance_category`). This module reads every row constructor of
``verify/checks/*.py`` from the source (no check is run: it costs well under a second) and
fails on any whose category cannot be told, a bare constant included, and on any ``inform``
row (the catalogue gives verdicts: PASS, FAIL, or NOT REPRODUCED).
"""

from __future__ import annotations

import ast
import functools
import math
import pathlib

import numpy as np
import pytest

from verify import core

CHECKS = sorted((pathlib.Path(core.__file__).parent / "checks").glob("[!_]*.py"))
_ROWS = {"compare": 4, "not_reproduced": 4, "compare_outcome": 3}  # row maker -> index of its reason


def _strings(node, assigned, depth: int = 0) -> str:
    """The text of every string a reason expression is built from (constants, f-string parts, and
    the names assigned anywhere in the same module, followed two levels deep)."""
    parts = []
    for sub in ast.walk(node):
        if isinstance(sub, ast.Constant) and isinstance(sub.value, str):
            parts.append(sub.value)
        elif isinstance(sub, ast.Name) and depth < 2:
            for other in assigned.get(sub.id, ()):
                parts.append(_strings(other, assigned, depth + 1))
    return " ".join(parts)


@functools.cache  # two tests read it; the sources do not change during a run
def tolerance_table() -> tuple[tuple[str, int, str, str], ...]:
    """(module, line, row maker, category) for every row constructor in verify/checks."""
    table = []
    for path in CHECKS:
        tree = ast.parse(path.read_text())
        assigned: dict[str, list] = {}
        for node in ast.walk(tree):
            if isinstance(node, ast.Assign):
                for target in node.targets:
                    if isinstance(target, ast.Name):
                        assigned.setdefault(target.id, []).append(node.value)
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", None) or getattr(node.func, "attr", None)
            if name == "inform":
                table.append((path.stem, node.lineno, name, "INFORMATIONAL"))
                continue
            if name not in _ROWS:
                continue
            keywords = {k.arg: k.value for k in node.keywords}
            if "category" in keywords:
                given = keywords["category"]
                category = given.value if isinstance(given, ast.Constant) else \
                    core.tolerance_category(_strings(given, assigned))
            elif name == "compare_outcome":
                category = "exact"
            elif name == "not_reproduced":
                category = "statistical"  # its default
            else:
                index = _ROWS[name]
                reason = keywords.get("reason", node.args[index] if len(node.args) > index else None)
                category = core.tolerance_category(_strings(reason, assigned)) if reason else ""
            table.append((path.stem, node.lineno, name, category))
    return tuple(table)


def test_every_tolerance_in_the_catalogue_has_a_category():
    table = tolerance_table()
    assert len(table) > 100  # the whole catalogue was read
    bare = [f"verify/checks/{m}.py:{line} ({maker})" for m, line, maker, c in table if not c]
    assert not bare, "rows whose tolerance has no category (say why: statistical, finite-size, " \
        f"discretisation, round-off; or pass category=): {bare}"
    unknown = [(m, line, c) for m, line, _, c in table if c != "INFORMATIONAL"
               and not set(c.split("+")) <= set(core.CATEGORIES)]
    assert not unknown, f"unknown categories: {unknown}"


def test_no_row_of_the_catalogue_is_informational():
    info = [f"verify/checks/{m}.py:{line}" for m, line, _, c in tolerance_table() if c == "INFORMATIONAL"]
    assert not info, f"informational rows (give a verdict: compare or not_reproduced, or remove): {info}"


def test_category_words():
    assert core.tolerance_category("4 Monte Carlo standard errors") == "statistical"
    assert core.tolerance_category("O(1/sqrt(width)) finite-width correction") == "finite-size"
    assert core.tolerance_category("Richardson estimate from two step sizes") == "discretisation"
    assert core.tolerance_category("float64 round-off") == "round-off"
    assert core.tolerance_category("4 SE over 8 seeds + finite-width bias") == "statistical+finite-size"
    assert core.tolerance_category("set by hand") == ""
    row = core.compare("x", 1.0, 1.0 + 1e-14, 1e-12, "float64 round-off")
    assert row.category == "round-off" and row.passed
    assert core.compare("x", 1.0, 1.1, 0.2, "whatever", category="finite-size").category == "finite-size"
    with pytest.raises(ValueError, match="category"):
        core.compare("x", 1.0, 1.0, 0.1, "r", category="by eye")
    assert core.compare_outcome("x", "a", "a", "categorical").category == "exact"


def test_not_reproduced_holds_while_apart_and_fails_when_the_measurement_agrees():
    apart = core.not_reproduced("claim", 12.0, 4.0, 0.5, "setting differs")
    assert apart.passed and apart.error == pytest.approx(16.0) and apart.tolerance == 3.0
    result = core.Result("c", apart, apart.passed, 0.0)
    assert result.status == core.NOT_REPRODUCED and not apart.informational
    assert "12" in apart.reason and "16" in apart.reason and "setting differs" in apart.reason
    agrees = core.not_reproduced("claim", 12.0, 11.0, 0.5, "setting differs")  # 2 SE: agrees
    assert not agrees.passed and core.Result("c", agrees, agrees.passed, 0.0).status == "FAIL"
    nan = core.not_reproduced("claim", 12.0, math.nan, 0.5, "w")
    assert not nan.passed
    arrays = core.not_reproduced("claim", np.array([1.0, 1.0]), np.array([2.0, 1.2]), 0.1, "w")
    assert arrays.error == pytest.approx(2.0) and not arrays.passed  # the nearest element decides
    with pytest.raises(ValueError, match="standard_error"):
        core.not_reproduced("claim", 1.0, 2.0, 0.0, "w")


def test_a_claim_with_a_wide_tolerance_scales_its_negative_control():
    import jax.numpy as jnp

    from verify import claims

    def make(tolerance):
        return claims.claim(f"user.wide{tolerance}", register=False, prediction=lambda a: 2.0 * a,
                            measurement=lambda key, a: 2.1 * a, inputs={"a": jnp.array([1.0, 2.0])},
                            tolerance=tolerance, reason="finite-size: 5% bias, by construction")
    rows = claims.rows(make(0.2))
    assert rows[0].passed and rows[1].passed, rows  # 10% would sit inside 20%: scaled to 1.4
    assert rows[1].label == "negative control: prediction x 1.4 (1 + 2 x the claim's tolerance)"
    narrow = claims.rows(make(0.06))
    assert narrow[1].passed and "1.12" in narrow[1].label
    assert claims.rows(make(0.01))[0].passed is False  # 5% > 1%: the claim itself fails


# --- the independent measurements the new rows rest on ---------------------------------------

def test_gaussian_pair_quadrature_against_textbook_values():
    from numeric.gaussian_pairs import pair_expectation

    rho = 0.3  # unit variances: P(u > 0, v > 0) = 1/4 + asin(rho)/(2 pi) (Sheppard 1899)
    fine, coarse = pair_expectation("relu_derivative", 1.0, 1.0, rho, order=60)
    assert abs(float(fine) - (0.25 + math.asin(rho) / (2 * math.pi))) < 1e-12
    fine, _ = pair_expectation("relu", 2.0, 2.0, 2.0, order=60)  # E[relu(u)^2] = k/2
    assert abs(float(fine) - 1.0) < 1e-12
    fine, _ = pair_expectation("erf_derivative", 1.0, 1.0, 0.0, order=60)  # independent: (E erf')^2
    assert abs(float(fine) - (2 / math.sqrt(math.pi) / math.sqrt(3)) ** 2) < 1e-12
    with pytest.raises(ValueError, match="k12"):
        pair_expectation("relu", 1.0, 1.0, 2.0)
    with pytest.raises(ValueError, match="kind"):
        pair_expectation("tanh", 1.0, 1.0, 0.5)


def test_transition_trace_and_determinant_of_heavy_ball_and_nesterov():
    from numeric.momentum import transition_trace_det

    alpha, beta, lam = 0.3, 0.6, 2.0  # heavy ball: z^2 - (1 + beta - alpha lam) z + beta
    trace, det = map(float, transition_trace_det("heavy_ball", lam, alpha, beta))
    assert trace == pytest.approx(1 + beta - alpha * lam, abs=1e-15) and det == pytest.approx(beta, abs=1e-15)
    trace, det = map(float, transition_trace_det("nesterov", lam, alpha, beta))
    assert trace == pytest.approx((1 + beta) * (1 - alpha * lam)) and det == pytest.approx(beta * (1 - alpha * lam))
    with pytest.raises(ValueError, match="method"):
        transition_trace_det("gd", lam, alpha, beta)
