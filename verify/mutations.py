"""Planted mistakes: run checks against wrong Formulas and count the ones they catch.

A *mutation* is a plausible hand-derivation slip made to one Formula: a factor off
(11/10 or 2), a dropped additive term, an exponent off by one, a flipped sign of one
term. :func:`kill_table` runs each selected check once per mutation of each Formula
it declares in ``uses`` and records whether a row failed (the mutation is *killed*),
whether only an exception caught it, or whether it *survived*. ``python -m verify
--mutate [NAMES]`` prints the table, so the kill rate is re-measured by anyone.

Example:
    >>> import sympy as sp
    >>> from analytic.formula import Formula
    >>> x = sp.Symbol("x", positive=True)
    >>> f = Formula("toy.f", 1 + x + x**2, (x,), source="toy", derived=True)
    >>> [label for label, _ in mutations(f)]
    ['x 11/10', 'x 2', 'drop 1', 'drop x', 'drop x**2', 'power of x**2 + 1', 'sign of 1']
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable, Iterator
from typing import NamedTuple

import sympy as sp

from verify import core

__all__ = ["Mutation", "mutations", "kill_table", "format_table"]

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


def _try(chk: core.Check, ctx: core.Context, arg: str, wrong) -> tuple[str, str]:
    for result in core.run([chk], ctx, **{arg: wrong}):
        if not result.passed:
            if result.row.label in ("error", "time limit"):
                return "killed by exception", result.row.reason
            return "killed", result.name
    return "survived", ""


def kill_table(checks: Iterable[core.Check], size: str = "quick",
               time_limit: float | None = 600.0) -> Iterator[Mutation]:
    """Run every mutation of every Formula each check uses; yield one record per run."""
    for chk in checks:
        blind = dict(chk.blind)
        for arg, formula in chk.formulas().items():
            for label, wrong in mutations(formula):
                ctx = core.Context(size="smoke" if chk.smoke and size == "smoke" else size,
                                   time_limit=time_limit)
                start = time.perf_counter()
                outcome, row = _try(chk, ctx, arg, wrong)
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
