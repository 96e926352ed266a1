"""Checks of every closed form in ``analytic`` against direct training in ``numeric``.

``python -m verify`` runs the catalogue (see ``verify.cli``); ``verify.core`` holds the
machinery (checks, rows, tolerances with reasons) and ``verify.checks`` the catalogue.
"""

from verify.core import Check, Context, Result, Row, check, compare, compare_outcome, run, select

__all__ = ["Check", "Context", "Result", "Row", "check", "compare", "compare_outcome", "run", "select"]
