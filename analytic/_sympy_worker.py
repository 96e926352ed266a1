r"""Symbolic work with a time limit: sympy calls run in a child process that is killed at the limit.

sympy's solver has no time limit and no way to interrupt it: a user's method in
:func:`analytic.linear_method` (heavy ball written with an averaged gradient) sat in
``sympy.solve`` for more than 14 minutes. :func:`call_within` runs one of the functions
below in a fresh Python process (``subprocess`` with a timeout: no signals, so it works
inside threads and notebooks) that imports sympy alone, and raises
:class:`SymbolicTimeLimit` (a ``TimeoutError`` naming the limit and the way out) when the
limit passes; the child is killed, nothing keeps running. Arguments and results travel
pickled (sympy expressions pickle with their Symbols' assumptions).

:func:`solve_within` keeps small problems in process (polynomial equations of total degree
at most 2 in the unknowns and at most 200 operations: the quadratic formula, or a system with
at most 4 solutions by Bezout, solved in about a second) and sends the rest to the child.

This module imports nothing from ``analytic`` so that the child can run it as a script.
"""

from __future__ import annotations

import os
import pickle
import subprocess
import sys

import sympy as sp

__all__ = ["DEFAULT_TIME_LIMIT", "SymbolicTimeLimit", "call_within", "kappa_form", "solve_within",
           "tidy_mu_L"]

# Seconds for one bounded sympy call: the child's start (importing sympy's solvers) takes 3-10 s
# on a loaded 2-core machine, a legitimate solve a few more; the reported hang ran > 14 minutes.
DEFAULT_TIME_LIMIT = 60.0
_SMALL_OPS = 200  # the size of a quadratic system solved in process


class SymbolicTimeLimit(TimeoutError):
    """A bounded sympy call ran past its time limit (the message names the limit and a way out)."""


def _mu_L():
    return sp.Symbol("mu", positive=True), sp.Symbol("L", positive=True)


def tidy_mu_L(expr: sp.Expr) -> sp.Expr:
    """Simplify with mu = m^2, L = m^2 (1 + v)^2 (m, v > 0: L > mu), then put sqrt back."""
    mu, L = _mu_L()
    m, v = sp.Dummy("m", positive=True), sp.Dummy("v", positive=True)
    out = sp.factor(sp.simplify(sp.sympify(expr).subs({L: m**2 * (1 + v) ** 2, mu: m**2})))
    return sp.factor(out.subs({v: sp.sqrt(L) / sp.sqrt(mu) - 1, m: sp.sqrt(mu)}))


def kappa_form(expr: sp.Expr) -> sp.Expr | None:
    """``expr(mu, L)`` written in kappa = L/mu when mu drops out, else None."""
    mu, L = _mu_L()
    kappa = sp.Symbol("kappa", positive=True)
    v = sp.Dummy("v", positive=True)  # kappa = (1 + v)^2 > 1: sqrt(kappa) and |kappa - 1| resolve
    m = sp.Dummy("m", positive=True)
    out = sp.factor(sp.simplify(sp.sympify(expr).subs({L: m**2 * (1 + v) ** 2, mu: m**2})))
    if m in out.free_symbols:
        return None
    return sp.factor(sp.simplify(out.subs(v, sp.sqrt(kappa) - 1)))


def _solve(equations, unknowns, **options):
    return sp.solve(equations, unknowns, **options)


def _many(calls):
    """Several calls in one child: [(name, args, kwargs), ...] -> [result, ...]."""
    return [_FUNCTIONS[name](*args, **kwargs) for name, args, kwargs in calls]


_FUNCTIONS = {"solve": _solve, "tidy_mu_L": tidy_mu_L, "kappa_form": kappa_form, "many": _many}


def call_within(limit: float | None, what: str, name: str, *args, **kwargs):
    """``name(*args, **kwargs)`` (a function of this module) in a child process, killed after
    ``limit`` seconds (None: in this process, unbounded). Exceptions of the call are re-raised."""
    if name not in _FUNCTIONS:
        raise ValueError(f"call_within: unknown function {name!r}; known: {sorted(_FUNCTIONS)}")
    if limit is None:
        return _FUNCTIONS[name](*args, **kwargs)
    if not (isinstance(limit, (int, float)) and limit > 0):
        raise ValueError(f"time_limit = {limit!r} is not valid: give seconds > 0, or None for no limit")
    payload = pickle.dumps((name, args, kwargs))
    try:
        done = subprocess.run([sys.executable, "-I", os.path.abspath(__file__)], input=payload,
                              capture_output=True, timeout=limit)
    except subprocess.TimeoutExpired:
        raise SymbolicTimeLimit(
            f"{what}: sympy did not finish within the time limit of {limit:g} s (stopped). Pass a "
            f"larger time_limit=... (seconds), or time_limit=None to wait without a limit") from None
    if done.returncode != 0:
        raise RuntimeError(f"{what}: the sympy child process failed: "
                           f"{done.stderr.decode(errors='replace')[-800:]}")
    ok, result = pickle.loads(done.stdout)
    if not ok:
        raise result
    return result


def _is_small(equations, unknowns) -> bool:
    """Every equation a polynomial of total degree <= 2 in the unknowns, of <= 200 operations
    (a sympy-free-of-solving test: at most 4 solutions, found at once)."""
    if len(unknowns) > 2:
        return False
    for e in equations:
        e = sp.sympify(e)
        if not e.is_polynomial(*unknowns) or sp.count_ops(e) > _SMALL_OPS:
            return False
        if sp.Poly(e, *unknowns).total_degree() > 2:
            return False
    return True


def solve_within(equations, unknowns, limit: float | None, what: str, **options):
    """``sympy.solve(equations, unknowns, **options)``: in process when small, else bounded by
    ``limit`` seconds in a child (raises :class:`SymbolicTimeLimit` past it)."""
    equations = list(equations) if isinstance(equations, (list, tuple)) else [equations]
    unknowns = list(unknowns) if isinstance(unknowns, (list, tuple)) else [unknowns]
    if _is_small(equations, unknowns):
        return sp.solve(equations if len(equations) > 1 else equations[0],
                        unknowns if len(unknowns) > 1 else unknowns[0], **options)
    return call_within(limit, what, "solve", equations if len(equations) > 1 else equations[0],
                       unknowns if len(unknowns) > 1 else unknowns[0], **options)


def _child() -> None:
    name, args, kwargs = pickle.loads(sys.stdin.buffer.read())
    try:
        out = (True, _FUNCTIONS[name](*args, **kwargs))
    except Exception as error:  # handed back to the parent, which re-raises it
        out = (False, error)
    sys.stdout.buffer.write(pickle.dumps(out))


if __name__ == "__main__":
    _child()
