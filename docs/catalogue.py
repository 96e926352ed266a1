"""The catalogue pages, generated from the registry: one page per family, one entry per Formula.

Each entry shows what :class:`analytic.Formula` carries (its LaTeX, its parameters with their
valid ranges and glossary meaning, the constraints, whether sympy derived it or it is stated from
a paper and how, its "valid when" conditions, its source with a link to the versioned arXiv
page) and the checks that compare it with direct training (``uses`` in :mod:`verify.core`, the
same map the universal negative control in ``tests/test_negative_controls.py`` walks), with
their outcome in a ``python -m verify --json`` run when one is given, "not run" otherwise. A
Formula that no numeric row compares says so with the reason its family declared
(:func:`verify.core.symbolic_only`). Each family page then lists the family's composites and its
checks with every row of the run.

Example:
    >>> outcome_of([], "linreg.critical_lr")
    'not run (no verify --json file given to the build)'
"""

from __future__ import annotations

import collections
import re
from pathlib import Path

import sympy as sp

from docs._docstrings import to_markdown
from docs._markdown import code, inline, slug

__all__ = ["ARXIV", "arxiv_links", "family_page", "index_page", "outcome_of", "write_catalogue"]

ARXIV = re.compile(r"arXiv:(\d{4}\.\d{4,5}(?:v\d+)?)")
NOT_RUN = "not run (no verify --json file given to the build)"


def arxiv_links(source: str) -> str:
    """``source`` as Markdown, each ``arXiv:ID`` a link to its versioned abstract page."""
    out, last = [], 0
    for match in ARXIV.finditer(source):
        out.append(inline(source[last:match.start()]))
        out.append(f"[arXiv:{match.group(1)}](https://arxiv.org/abs/{match.group(1)})")
        last = match.end()
    out.append(inline(source[last:]))
    return "".join(out)


def _meaning(param: str, family: str) -> str:
    """The glossary's meaning of a parameter name in ``family`` ("" when it is not a glossary term)."""
    from analytic.glossary import GLOSSARY

    for term in GLOSSARY:
        spellings = {s.split(".", 1)[1] for s in term.spellings if s.startswith(family + ".")}
        spellings |= {s for s in term.spellings if "." not in s} | {term.name, term.symbol}
        if param in spellings:
            return f"{term.meaning} (glossary: {code(term.name)})"
    return ""


def outcome_of(rows: list[dict] | None, check: str) -> str:
    """One line: how the rows of ``check`` came out in the run (``rows`` None or empty: not run)."""
    if not rows:
        return NOT_RUN
    mine = [r for r in rows if r["check"] == check]
    if not mine:
        return "not in the verify run given to the build"
    by_status = collections.Counter(r["status"] for r in mine)
    parts = [f"{n} {status}" for status, n in sorted(by_status.items())]
    return f"{len(mine)} rows: " + ", ".join(parts)


def _checks_by_formula(checks) -> dict[str, list]:
    found: dict[str, list] = collections.defaultdict(list)
    for chk in checks:
        for _, name in chk.uses:
            if chk not in found[name]:
                found[name].append(chk)
    return found


def _formula_entry(formula, family: str, checks: list, symbolic_reason: str, rows) -> list[str]:
    name = formula.name
    lines = [f"({slug(name)})=", f"## {code(name)}", ""]
    if formula.description:
        lines += [inline(formula.description[:1].upper() + formula.description[1:]) + ".", ""]
    lines += ["```{math}", f"{formula.latex()}", "```", ""]
    lines += ["**Parameters**", ""]
    for p in formula.params:
        meaning = _meaning(p.name, family)
        lines.append(f"- {code(p.name)} $\\in {sp.latex(formula.domain(p.name))}$"
                     + (f": {meaning}" if meaning else ""))
    if not formula.params:
        lines.append("- none (a constant)")
    for rel in formula.constraints:
        lines.append(f"- requires $({sp.latex(rel)})$")
    lines.append("")
    kind = "Derived by sympy:" if formula.derived else "Stated, not derived:"
    # the derivation text often opens with the same word ("stated from the paper; checked by ...")
    how = re.sub(r"^(derived|stated)\b[:,]?\s*", "", formula.derivation.strip(), flags=re.IGNORECASE)
    lines += [f"**{kind}** " + (inline(how) if how else "-"), ""]
    for cond in formula.conditions:
        lines += [f"**Valid when:** {inline(cond)}", ""]
    lines += [f"**Source:** {arxiv_links(formula.source) if formula.source else 'none given'}", ""]
    lines += [f"**In Python:** {code(f'analytic.get({name!r})')}, called with keywords.", "",
              "**Checked by:**", ""]
    for chk in checks:
        lines.append(f"- {_check_link(chk.name, family)}: {outcome_of(rows, chk.name)}")
    if not checks:
        lines.append("- no numeric row compares it" + (f": {inline(symbolic_reason)}" if symbolic_reason
                                                        else " (see its family's tests)"))
    lines.append("")
    return lines


def _check_link(check: str, family: str) -> str:
    """A link to a check's section, on this family's page or on the page of the check's family."""
    page = "" if check.split(".")[0] == family else check.split(".")[0] + ".md"
    return f"[{code(check)}]({page}#{slug('check ' + check)})"


def _formula_link(name: str, family: str) -> str:
    page = "" if name.split(".")[0] == family else name.split(".")[0] + ".md"
    return f"[{code(name)}]({page}#{slug(name)})"


def _check_section(chk, family: str, rows) -> list[str]:
    lines = [f"({slug('check ' + chk.name)})=", f"### {code(chk.name)}", ""]
    from verify.report import describe

    if describe(chk):
        lines += [inline(describe(chk)), ""]
    compared = sorted({n for _, n in chk.uses})
    if compared:
        lines += ["Compares: " + ", ".join(_formula_link(n, family) for n in compared), ""]
    if chk.cites:
        lines += [f"Cites: {arxiv_links(chk.cites)}", ""]
    mine = [r for r in rows or [] if r["check"] == chk.name]
    lines += [f"Outcome: {outcome_of(rows, chk.name)}", ""]
    if mine:
        lines += ["| row | status | prediction | measurement | error | tolerance |",
                  "|---|---|---|---|---|---|"]
        for r in mine:
            cells = [inline(r.get("label") or "-"), r["status"]] + [
                _number(r.get(k)) for k in ("prediction", "measurement", "error", "tolerance")]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
    return lines


def _number(value) -> str:
    if isinstance(value, bool) or value is None:
        return "-"
    if isinstance(value, (int, float)):
        return f"{value:.4g}"
    return inline(str(value))


def family_page(family: str, formulas: list, composites: list, checks: list, by_formula: dict,
                symbolic: dict, rows, run_line: str) -> str:
    """The Markdown page of ``family``."""
    import importlib

    module = importlib.import_module(f"analytic.{family}")
    doc = to_markdown((module.__doc__ or "").strip().split("\n\n")[0])
    lines = [f"# {code(family)}", ""]
    if doc:
        lines += [doc, ""]
    lines += [f"{len(formulas)} Formulas, {len(composites)} composites, {len(checks)} checks "
              f"({code(f'verify/checks/{family}.py')}). Outcomes: {run_line} "
              f"API: {{doc}}`analytic.{family} <../api/analytic.{family}>`.", ""]
    for formula in formulas:
        lines += _formula_entry(formula, family, by_formula.get(formula.name, []),
                                symbolic.get(formula.name, ""), rows)
    if composites:
        lines += [f"({slug(family + ' composites')})=", "## Composites", "",
                  "Functions built on the Formulas (a spectrum, a trajectory, a depth recursion):", ""]
        for comp in composites:
            lines.append(f"- {code(comp.name + comp.signature)}: {inline(comp.summary)}")
        lines.append("")
    if checks:
        lines += [f"({slug(family + ' checks')})=", "## Checks", ""]
        for chk in checks:
            lines += _check_section(chk, family, rows)
    return "\n".join(lines) + "\n"


def index_page(families: list[str], counts: dict[str, tuple[int, int, int]], run_line: str) -> str:
    """The catalogue's landing page: one line per family, and the run the outcomes come from."""
    lines = ["# Catalogue", "",
             "Generated from the registry (`analytic.catalogue()`, `analytic.composites()`, the checks "
             "of `verify/checks/`): one page per family, one entry per Formula with its LaTeX, its "
             "parameters and their valid ranges, how it was derived, its source, and the checks that "
             f"compare it with direct training. Outcomes: {run_line}", "",
             "| family | Formulas | composites | checks |", "|---|---|---|---|"]
    for fam in families:
        n_formulas, n_composites, n_checks = counts[fam]
        lines.append(f"| [{code(fam)}]({fam}.md) | {n_formulas} | {n_composites} | {n_checks} |")
    lines += ["", "```{toctree}", ":hidden:", ""] + families + ["```", ""]
    return "\n".join(lines)


def _run_line(record: dict | None, json_path) -> str:
    if record is None:
        return "not run: the build was given no `python -m verify --json` file (`--json PATH`)."
    when = record.get("date", "an unknown date")
    c = record.get("counts", {})
    return (f"the {record.get('size', '?')}-size run of {when} ({Path(str(json_path)).name}: "
            f"{c.get('passed', '?')} rows passed, {c.get('failed', '?')} failed, "
            f"{c.get('not_reproduced', '?')} not reproduced).")


def write_catalogue(out_dir: Path, json_path: str | None = None) -> dict[str, int]:
    """Write ``index.md`` and one page per family into ``out_dir``; returns counts for the log."""
    import analytic
    from verify import core, report

    record = report.load(json_path) if json_path else None
    rows = record["rows"] if record else None
    run_line = _run_line(record, json_path)
    out_dir.mkdir(parents=True, exist_ok=True)
    checks = core.registry()
    symbolic = core.symbolic_only_formulas()
    composites = analytic.composites()
    names = analytic.names()
    by_formula = _checks_by_formula(checks.values())
    counts = {}
    n_formulas = 0
    for family in analytic.FAMILIES:
        formulas = [analytic.get(n) for n in names if n.split(".")[0] == family]
        family_composites = [c for n, c in composites.items() if n.split(".")[0] == family]
        family_checks = [c for n, c in checks.items() if n.split(".")[0] == family]
        page = family_page(family, formulas, family_composites, family_checks, by_formula, symbolic,
                           rows, run_line)
        (out_dir / f"{family}.md").write_text(page)
        counts[family] = (len(formulas), len(family_composites), len(family_checks))
        n_formulas += len(formulas)
    (out_dir / "index.md").write_text(index_page(list(analytic.FAMILIES), counts, run_line))
    return {"families": len(counts), "formulas": n_formulas, "composites": len(composites),
            "checks": len(checks), "rows": len(rows or [])}

