"""Where a Formula's closed form has a vanishing denominator: the candidates for its edges.

``denominator_zeros(formula)`` lists, for each parameter, the values at which a
denominator of ``sympy.together(expr)`` vanishes (``sympy.solve`` for that
parameter, the others left symbolic). A stability edge of a closed form (``alpha h = 2``
in ``nqm.sgd_expected_loss``, ``gamma = 1`` in ``linreg.ridgeless_risk``) shows up
here; whether it is a removable 0/0 (evaluate the limit) or a divergence (``oo``)
is then decided per Formula, by ``sympy.limit``. A Formula fixes its edges with a
stable ``evaluate_as`` form (see :mod:`analytic.formula`), and the tests evaluate
every listed edge that lies inside the valid range.

Accuracy of the stable forms, measured against mpmath (tests/test_formula.py,
tests/test_momentum.py, tests/test_catalogue_properties.py): float64 round-off on the edge
and at edge +- 1e-8 relative (no cancellation); in float32 a few ulps (at most 2e-7
relative for ``nqm.sgd_expected_loss`` up to t = 1000 and the heavy-ball radius), where
+- 1e-8 relative rounds to the edge itself.

``denominator_zeros`` is a test-time tool (sympy work, a second or so per Formula; the
catalogue-wide search runs with ``pytest -m slow``), not used on import.
"""

from __future__ import annotations

import sympy as sp

__all__ = ["below_pole", "denominator_zeros", "powers_in_logs"]


def _pieces(expr: sp.Basic):
    """The branch expressions of a (possibly Piecewise, possibly tuple) expression."""
    for e in expr if isinstance(expr, tuple) else (expr,):
        if isinstance(e, sp.Piecewise):
            for branch, _ in e.args:
                yield from _pieces(branch)
        else:
            yield e


def denominator_zeros(formula, *, timeout_terms: int = 400) -> list[tuple[str, sp.Expr]]:
    """``[(parameter name, value making a denominator 0), ...]`` for ``formula.expr``.

    Values are sympy expressions in the other parameters. Branches of a Piecewise
    are searched separately (the condition of the branch is not applied). Huge
    expressions (more than ``timeout_terms`` operations) are skipped.
    """
    found: list[tuple[str, sp.Expr]] = []
    for piece in _pieces(formula.expr):
        if sp.count_ops(piece) > timeout_terms:
            continue
        _, den = sp.fraction(sp.together(piece))
        for factor in sp.Mul.make_args(sp.factor(den)):
            base = factor.base if isinstance(factor, sp.Pow) and factor.exp.is_positive else factor
            if base.is_number or not base.free_symbols:
                continue
            for p in formula.params:
                if p not in base.free_symbols:
                    continue
                try:
                    roots = sp.solve(sp.Eq(base, 0), p)
                except (NotImplementedError, ValueError):
                    continue
                found += [(p.name, r) for r in roots if (p.name, r) not in found]
    return found


def below_pole(value: sp.Expr, stable: sp.Basic, *, zero_when: sp.Basic = sp.false) -> sp.Piecewise:
    """``value`` where ``stable`` holds, ``oo`` beyond: a stable form of ``Piecewise((value,
    stable), (oo, True))`` for a ``value`` with a pole on the boundary of ``stable``.

    In floating point the boundary test and the denominator can disagree by one rounding
    (``alpha < 2/h`` true while ``alpha h - 2`` rounds to 0): then the pole's ``oo`` is
    returned, not ``c/0`` or ``0/0``. ``zero_when`` (e.g. no gradient noise, ``c = 0``) is
    where the value is identically 0 below the pole, which a 0/0 there must not hide.
    """
    _, den = sp.fraction(sp.together(value))
    return sp.Piecewise((0, zero_when & stable), (value, stable & sp.Ne(den, 0)), (sp.oo, True))


def powers_in_logs(expr: sp.Expr) -> sp.Expr:
    """``expr`` with every non-integer power ``b**e`` written ``exp(e * log b)``, the log expanded.

    For positive parameters only (``log`` of a product split into a sum of logs). A power
    of a power of a product, as a Lagrange optimum gives (``(A C**beta/B)**(1/(alpha+beta))``
    raised to ``alpha``), then overflows or underflows only where its value does, not
    where an intermediate factor (``C**beta`` with ``beta = 700``) or an inner power
    (``x**(1/(alpha+beta))`` with ``alpha + beta = 2e-7``) leaves the float range.
    """
    return expr.replace(lambda e: e.is_Pow and not e.exp.is_Integer,
                        lambda e: sp.exp(sp.expand_log(e.exp * sp.log(e.base), force=True)))
