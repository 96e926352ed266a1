"""Planted mistakes: one engine runs the checks against wrong Formulas and records what caught them.

Wrong Formulas come from two sources and go through one engine:

* *declared* mistakes: plausible hand-derivation slips (a factor 2, a dropped term, a wrong
  power, a sign, a swapped parameter), each written as the wrong expression or a
  substitution in the Formula's own parameter names. Each family declares its own at the
  end of its checks module, ``verify/checks/<family>.py``, as a module-level
  ``MISTAKES = (mistake("family.name", "what went wrong", "wrong expression"), ...)``;
  :func:`declared_mistakes` (and the module attribute :data:`MISTAKES`) discovers them,
  so adding a family touches no file here. :func:`planted` builds the wrong Formula.
* *generated* mutations: :func:`mutations` perturbs a Formula mechanically (a factor
  11/10 or 2, a dropped additive term, an exponent off by one, a flipped sign of one term).

The engine, :func:`attempt`, runs checks with some of their declared Formulas (their
``uses``) replaced and returns the first *numeric* row that failed (``"caught"``), or
that only an exception or the time limit stopped them (``"exception"``: it does not
count as a catch), or ``"missed"``. :func:`hunt` is one declared mistake against every
selected check that uses its Formula (``python -m verify --mutate [NAMES] --quick``,
recorded in ``docs/mutations.md``); :func:`kill_table` is every generated mutation of
every Formula each check uses, check by check (``--mutate --generated``), reported as
killed / killed by exception / survived / blind (declared).

Example:
    >>> import sympy as sp
    >>> from analytic.formula import Formula
    >>> x = sp.Symbol("x", positive=True)
    >>> f = Formula("toy.f", 1 + x + x**2, (x,), source="toy", derived=True)
    >>> [label for label, _ in mutations(f)]
    ['x 11/10', 'x 2', 'drop 1', 'drop x', 'drop x**2', 'power of x**2 + 1', 'sign of 1']
    >>> planted(mistake("linreg.critical_lr", "a factor 2 lost", "1/lam_max")).expr
    1/lam_max
"""

from __future__ import annotations

import dataclasses
import importlib
import pkgutil
import time
from collections.abc import Iterable, Iterator
from typing import NamedTuple

import sympy as sp

from verify import core

__all__ = ["Mistake", "MISTAKES", "mistake", "declared_mistakes", "planted", "Attempt", "attempt",
           "Catch", "hunt", "mistakes_for", "format_catches", "markdown_table", "Mutation", "mutations",
           "kill_table", "format_table"]

_MAX_TERMS = 3  # dropped / sign-flipped terms tried per component


def _rebuilt(formula, expr, label):
    """``formula`` with ``expr``; None when the mutation would change its parameters."""
    try:
        return dataclasses.replace(formula, name=f"{formula.name} [{label}]", expr=expr, derived=False,
                                   derivation=f"deliberately wrong: {label}")
    except ValueError:  # a dropped term took a parameter with it: not a like-for-like mistake
        return None


def _components(formula):
    return formula.expr if isinstance(formula.expr, tuple) else (formula.expr,)


def _with_component(formula, index, new):
    parts = list(_components(formula))
    parts[index] = new
    return tuple(parts) if isinstance(formula.expr, tuple) else parts[0]


def _first_power(expr):
    for node in sp.preorder_traversal(expr):
        if isinstance(node, sp.Pow) and node.exp.is_Rational and node.exp not in (1, -1):
            return node
    return None


def mutations(formula) -> list[tuple[str, object]]:
    """Plausible mistakes in ``formula``, as ``(label, wrong Formula)`` pairs."""
    out = []
    for label, factor in (("x 11/10", sp.Rational(11, 10)), ("x 2", sp.Integer(2))):
        out.append((label, _rebuilt(formula, _with_component(formula, 0, factor * _components(formula)[0])
                                    if not isinstance(formula.expr, tuple) else
                                    tuple(factor * e for e in formula.expr), label)))
    for i, part in enumerate(_components(formula)):
        where = f"[{i}] " if isinstance(formula.expr, tuple) else ""
        terms = sp.Add.make_args(part) if isinstance(part, sp.Add) else ()
        for term in terms[:_MAX_TERMS]:
            label = f"drop {where}{term}"
            out.append((label, _rebuilt(formula, _with_component(formula, i, part - term), label)))
        power = _first_power(part)
        if power is not None:
            label = f"power of {where}{power} + 1"
            wrong = part.xreplace({power: power.base ** (power.exp + 1)})
            out.append((label, _rebuilt(formula, _with_component(formula, i, wrong), label)))
        if terms:
            label = f"sign of {where}{terms[0]}"
            out.append((label, _rebuilt(formula, _with_component(formula, i, part - 2 * terms[0]), label)))
    return [(label, f) for label, f in out if f is not None and f.expr != formula.expr]


class Mutation(NamedTuple):
    """One planted mistake and what the check made of it."""

    check: str
    argument: str
    formula: str
    mutation: str
    outcome: str  # "killed", "killed by exception", "survived" or "blind (declared)"
    row: str  # the first failing row, or the exception
    seconds: float


# --- the engine ---------------------------------------------------------------------------
class Attempt(NamedTuple):
    """What the checks made of one set of wrong Formulas."""

    outcome: str  # "caught" (a numeric row failed), "exception" (only an error/time limit) or "missed"
    check: str  # the check that caught it (or raised first); "" when missed
    row: str  # the failing row's label, or the exception's reason


def attempt(checks: Iterable[core.Check], wrong: dict, size: str = "quick",
            time_limit: float | None = 600.0, *, arguments: Iterable[str] | None = None) -> Attempt:
    """Run each check that uses a Formula named in ``wrong`` (``{formula name: wrong
    Formula}``) with it substituted, until a numeric row fails. ``arguments`` limits the
    substitution to those check arguments (default: every argument using the Formula)."""
    exception, only = None, None if arguments is None else set(arguments)
    for chk in checks:
        args = {arg: wrong[name] for arg, name in chk.uses
                if name in wrong and (only is None or arg in only)}
        if not args:
            continue
        ctx = core.Context(size=size, time_limit=time_limit)
        for result in core.run([chk], ctx, **args):
            if result.passed:
                continue
            if result.row.label in ("error", "time limit"):
                exception = exception or Attempt("exception", chk.name, result.row.reason)
                break
            return Attempt("caught", chk.name, result.row.label)
    return exception or Attempt("missed", "", "")


def kill_table(checks: Iterable[core.Check], size: str = "quick",
               time_limit: float | None = 600.0) -> Iterator[Mutation]:
    """Run every mutation of every Formula each check uses; yield one record per run."""
    outcomes = {"caught": "killed", "exception": "killed by exception", "missed": "survived"}
    for chk in checks:
        blind = dict(chk.blind)
        for arg, formula in chk.formulas().items():
            for label, wrong in mutations(formula):
                start = time.perf_counter()
                # Only this argument is replaced (another argument may use the same Formula).
                found = attempt([chk], {formula.name: wrong}, size, time_limit, arguments=(arg,))
                outcome, row = outcomes[found.outcome], (found.row if found.outcome == "exception"
                                                         else found.check)
                if outcome == "survived" and arg in blind:
                    outcome, row = "blind (declared)", blind[arg]
                yield Mutation(chk.name, arg, formula.name, label, outcome, row,
                               time.perf_counter() - start)


def format_table(records: list[Mutation]) -> str:
    """The kill table as text, with the kill rate at the end."""
    lines = [f"{'check':38s} {'formula':36s} {'mutation':30s} {'outcome':20s} row / reason"]
    for r in records:
        lines.append(f"{r.check[:38]:38s} {r.formula[:36]:36s} {r.mutation[:30]:30s} "
                     f"{r.outcome:20s} {r.row[:90]}")
    killed = sum(r.outcome.startswith("killed") for r in records)
    by_row = sum(r.outcome == "killed" for r in records)
    lines.append(f"{killed}/{len(records)} mutations killed ({by_row} by a failing row, "
                 f"{killed - by_row} only by an exception)")
    return "\n".join(lines)


# --- declared mistakes (each family's, at the end of verify/checks/<family>.py) ---------------
class Mistake(NamedTuple):
    """A plausible hand-derivation mistake in one catalogue Formula.

    ``wrong`` is the whole wrong expression (a tuple for a tuple-valued Formula), or
    ``subs`` replaces parameters simultaneously (``(("t", "t/2"),)``); both are written in
    the Formula's parameter names and parsed by sympy with its Symbols."""

    family: str
    formula: str
    what: str
    wrong: str | tuple[str, ...] = ""
    subs: tuple[tuple[str, str], ...] = ()


def mistake(formula: str, what: str, wrong: str | tuple[str, ...] = "", **subs: str) -> Mistake:
    """Declare a mistake in the catalogue Formula ``formula`` (``"family.name"``): the whole
    ``wrong`` expression, or ``subs`` replacing parameters (``t="t/2"``)."""
    if not isinstance(formula, str) or formula.count(".") != 1:
        raise ValueError(f"mistake: formula must look like 'family.name', got {formula!r}")
    if bool(wrong) == bool(subs):
        raise ValueError(f"mistake in {formula}: give exactly one of wrong= or substitutions, "
                         f"got wrong={wrong!r}, subs={subs!r}")
    return Mistake(formula.split(".")[0], formula, what, wrong, tuple(subs.items()))


def declared_mistakes() -> tuple[Mistake, ...]:
    """Every family's ``MISTAKES`` (from ``verify/checks/<family>.py``), in family order.

    A module may only declare mistakes in its own family's Formulas (a ``ValueError``
    names the module and the Formula otherwise)."""
    import verify.checks

    found: list[Mistake] = []
    for info in sorted(pkgutil.iter_modules(verify.checks.__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"verify.checks.{info.name}")
        declared = getattr(module, "MISTAKES", ())
        for m in declared:
            if not isinstance(m, Mistake):
                raise TypeError(f"verify.checks.{info.name}.MISTAKES holds {m!r}, not a Mistake "
                                "(declare them with verify.mutations.mistake)")
            if m.family != info.name:
                raise ValueError(f"verify.checks.{info.name}.MISTAKES declares a mistake in {m.formula}: "
                                 f"declare it in verify/checks/{m.family}.py")
        found += declared
    return tuple(found)


def __getattr__(name: str):
    # ``MISTAKES``: the declared mistakes of every family, discovered on use (not a cached table).
    if name == "MISTAKES":
        return declared_mistakes()
    raise AttributeError(f"module 'verify.mutations' has no attribute {name!r}")


def planted(mistake: Mistake):
    """The catalogue Formula with ``mistake`` made in it (a Formula that fails no validation)."""
    import analytic

    formula = analytic.get(mistake.formula)
    symbols = {p.name: p for p in formula.params}
    symbols.update({alias: formula.symbol(target) for alias, target in formula.aliases})  # legacy names
    parse = lambda text: sp.sympify(text, locals=dict(symbols))  # noqa: E731
    if mistake.wrong:
        texts = mistake.wrong if isinstance(mistake.wrong, tuple) else (mistake.wrong,)
        exprs = tuple(parse(t) for t in texts)
        expr = exprs if isinstance(formula.expr, tuple) else exprs[0]
    elif mistake.subs:
        mapping = {symbols[name]: parse(text) for name, text in mistake.subs}
        parts = tuple(e.subs(mapping, simultaneous=True) for e in _components(formula))
        expr = parts if isinstance(formula.expr, tuple) else parts[0]
    else:
        raise ValueError(f"mistake in {mistake.formula}: give wrong= or subs=")
    wrong = _rebuilt(formula, expr, mistake.what)
    if wrong is None or wrong.expr == formula.expr:
        raise ValueError(f"mistake in {mistake.formula} ({mistake.what}) is not a different Formula "
                         "with the same parameters")
    return wrong


class Catch(NamedTuple):
    """What verify made of one planted mistake."""

    mistake: Mistake
    outcome: str  # "caught" (a numeric row failed), "exception only" or "missed"
    check: str
    row: str  # the failing row's label (or the exception)
    seconds: float


def mistakes_for(checks: Iterable[core.Check]) -> list[Mistake]:
    """The declared mistakes whose Formula one of ``checks`` uses."""
    used = {name for chk in checks for _, name in chk.uses}
    return [m for m in declared_mistakes() if m.formula in used]


def hunt(mistake: Mistake, checks: Iterable[core.Check], size: str = "quick",
         time_limit: float | None = 600.0) -> Catch:
    """Run the checks that use the mistaken Formula until a numeric row fails."""
    start = time.perf_counter()
    found = attempt(checks, {mistake.formula: planted(mistake)}, size, time_limit)
    outcome = {"caught": "caught", "exception": "exception only", "missed": "missed"}[found.outcome]
    return Catch(mistake, outcome, found.check, found.row, time.perf_counter() - start)


def format_catches(records: list[Catch]) -> str:
    """The table of declared mistakes as text, with the count caught by a numeric row."""
    lines = [f"{'formula':38s} {'mistake':58s} {'outcome':15s} caught by"]
    for r in records:
        lines.append(f"{r.mistake.formula[:38]:38s} {r.mistake.what[:58]:58s} {r.outcome:15s} "
                     f"{r.check}[{r.row}]"[:240] if r.check else
                     f"{r.mistake.formula[:38]:38s} {r.mistake.what[:58]:58s} {r.outcome:15s}")
    caught = sum(r.outcome == "caught" for r in records)
    lines.append(f"{caught}/{len(records)} planted mistakes caught by a failing numeric row")
    return "\n".join(lines)


def markdown_table(records: list[Catch]) -> str:
    """The same table in Markdown (docs/mutations.md)."""
    def cell(text: str) -> str:
        return text.replace("|", "\\|")

    lines = ["| family | Formula | mistake | caught by (check [row]) |", "|---|---|---|---|"]
    for r in records:
        where = f"`{r.check}` [{cell(r.row)}]" if r.outcome == "caught" else f"**{r.outcome}** {cell(r.row)}"
        lines.append(f"| {r.mistake.family} | `{r.mistake.formula}` | {cell(r.mistake.what)} | {where} |")
    return "\n".join(lines)
