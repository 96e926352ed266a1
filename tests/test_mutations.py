"""The mutation machinery: declared mistakes are valid wrong Formulas, and one engine finds the row.

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


def test_each_family_declares_its_own_mistakes_beside_its_checks(monkeypatch):
    import verify.checks.linreg as linreg_checks

    declared = mutations.declared_mistakes()
    assert declared == mutations.MISTAKES and len(declared) >= 30
    assert all(m in linreg_checks.MISTAKES for m in declared if m.family == "linreg")
    # Negative control: a module declaring another family's mistake is refused, by name.
    stray = linreg_checks.MISTAKES + (mutations.mistake("eos.gd_sharpness_threshold", "x", "1/eta"),)
    monkeypatch.setattr(linreg_checks, "MISTAKES", stray)
    with pytest.raises(ValueError, match="declare it in verify/checks/eos.py"):
        mutations.declared_mistakes()


def test_a_mistake_is_declared_with_one_kind_of_wrongness():
    assert mutations.mistake("linreg.critical_lr", "w", t="t/2").subs == (("t", "t/2"),)
    with pytest.raises(ValueError, match="exactly one of wrong= or substitutions"):
        mutations.mistake("linreg.critical_lr", "neither")
    with pytest.raises(ValueError, match="'family.name'"):
        mutations.mistake("critical_lr", "no family", "1")


def test_generated_mutations_and_declared_mistakes_share_one_engine():
    # A toy check comparing a Formula with 2/lam_max: the engine reports the failing row for
    # both sources, and the kill table maps it to "killed" / "survived".
    def toy(ctx, threshold):
        value = float(threshold(lam_max=4.0))
        yield core.Row("2/lam_max", 0.5, value, abs(value - 0.5), 1e-12, "float64 round-off of 2/4")

    chk = core.Check("t.toy", toy, "c", "d", uses=(("threshold", "linreg.critical_lr"),))
    (declared,) = [m for m in mutations.MISTAKES if m.formula == "linreg.critical_lr"]
    assert mutations.hunt(declared, [chk]).outcome == "caught"
    right = analytic.get("linreg.critical_lr")
    assert mutations.attempt([chk], {right.name: right}).outcome == "missed"  # the right one passes
    records = list(mutations.kill_table([chk]))
    assert records and all(r.outcome == "killed" and r.check == "t.toy" for r in records)
