"""The mutation machinery: declared mistakes are valid wrong Formulas, and a hunt finds the row.

The whole table (every declared mistake against the quick checks) is ``python -m verify
--mutate --quick``, run family by family (docs/mutations.md); here one cheap check only.
"""

import pkgutil

import pytest

import analytic
from verify import cli, core, mutations


def test_declared_mistakes_name_used_formulas_and_cover_every_family():
    used = {name for chk in core.registry().values() for _, name in chk.uses}
    for mistake in mutations.MISTAKES:
        assert mistake.formula in used, f"no check uses {mistake.formula}: the mistake cannot be caught"
        assert mistake.family == mistake.formula.split(".")[0] and (mistake.wrong or mistake.subs)
    families = {m.name for m in pkgutil.iter_modules(analytic.__path__) if m.ispkg}
    covered = {m.family for m in mutations.MISTAKES}
    assert families <= covered, f"no declared mistake in {sorted(families - covered)}"
    assert len(mutations.MISTAKES) >= 30


@pytest.mark.slow  # derives every Formula of the catalogue that a mistake names
def test_every_declared_mistake_is_a_valid_different_formula():
    for mistake in mutations.MISTAKES:
        wrong, right = mutations.planted(mistake), analytic.get(mistake.formula)
        assert wrong.expr != right.expr and wrong.params == right.params, mistake


def test_cli_mutate_reports_the_row_that_catches_each_planted_mistake(capsys):
    # eos.quadratic_thresholds (a few quadratics, seconds) against its three threshold mistakes.
    assert cli.main(["--mutate", "eos.quadratic_thresholds", "--quick"]) == 0
    out = capsys.readouterr().out
    assert out.count("caught          eos.quadratic_thresholds[") == 3
    assert "3/3 planted mistakes caught by a failing numeric row" in out


def test_a_check_that_only_raises_does_not_count_as_a_catch():
    def raising(ctx, threshold):
        raise RuntimeError("no rows")
        yield  # pragma: no cover

    chk = core.Check("t.raising", raising, "c", "d", uses=(("threshold", "linreg.critical_lr"),))
    (mistake,) = [m for m in mutations.MISTAKES if m.formula == "linreg.critical_lr"]
    assert mutations.planted(mistake).expr != analytic.get("linreg.critical_lr").expr
    record = mutations.hunt(mistake, [chk])
    assert record.outcome == "exception only" and "no rows" in record.row
    assert mutations.hunt(mistake, []).outcome == "missed"
