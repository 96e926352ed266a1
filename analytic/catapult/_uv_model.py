r"""The uv model of Lewkowycz et al. 2020 (arXiv:2003.02218v1, sec. 2), derived by sympy.

Model statement: $f = v\cdot u/\sqrt n$ with $u, v \in \mathbb R^n$, one example with
label $y$, loss $\tfrac12 (f - y)^2$, plain GD $u \leftarrow u - \eta\,\partial_u L$,
$v \leftarrow v - \eta\,\partial_v L$, and NTK $\lambda = (|u|^2 + |v|^2)/n$.

The GD update keeps $u, v$ in their span, so the derivation works with two
components: $u = (a, 0)$, $v = (p, q)$ (any pair of vectors can be rotated to this
form; $n$ stays a free symbol in the normalisation). sympy differentiates the loss,
applies one GD step, and rewrites $f_{t+1}$ and $\lambda_{t+1}$ in terms of
$(f_t, \lambda_t)$ by eliminating $p$ and $q^2$; the leftover coordinate $a$ must
drop out, which the derivation asserts.
"""

from __future__ import annotations

import sympy as sp

from analytic._registry import Formulas
from analytic.catapult._symbols import f, lam0, n, y
from analytic.formula import Formula
from analytic.references import cite
from analytic.symbols import eta, lam

FORMULAS = Formulas("catapult")
_UV = cite("lewkowycz2020", "sec. 2 (the uv model)")


def _one_gd_step() -> tuple[sp.Expr, sp.Expr]:
    """(f_{t+1}, lam_{t+1}) as functions of (eta, lam, f, y, n), by substitution."""
    a, b, p, q = sp.symbols("a b p q", real=True)
    q2 = sp.Symbol("q2", nonnegative=True)
    u, v = sp.Matrix([a, b]), sp.Matrix([p, q])
    loss = ((v.T * u)[0] / sp.sqrt(n) - y) ** 2 / 2
    u_next = u - eta * sp.Matrix([sp.diff(loss, c) for c in u])
    v_next = v - eta * sp.Matrix([sp.diff(loss, c) for c in v])
    # Rotate so that u = (a, 0): b = 0 after differentiating (a choice of axes, not a constraint).
    f_next = sp.expand(((v_next.T * u_next)[0] / sp.sqrt(n)).subs(b, 0))
    lam_next = sp.expand((((u_next.T * u_next)[0] + (v_next.T * v_next)[0]) / n).subs(b, 0))
    # Eliminate the coordinates: p from f = a p / sqrt(n), q^2 from lam = (a^2 + p^2 + q^2) / n.
    out = []
    for expr in (f_next, lam_next):
        expr = expr.subs(q**2, q2).subs(p, f * sp.sqrt(n) / a)
        expr = sp.simplify(sp.expand(expr.subs(q2, n * lam - a**2 - f**2 * n / a**2)))
        if expr.free_symbols & {a, p, q, q2}:
            raise AssertionError(f"uv map did not close on (f, lam): {expr}")
        out.append(expr)
    return out[0], out[1]


@FORMULAS.register("uv_map")
def _uv_map() -> Formula:
    f_next, lam_next = _one_gd_step()
    return Formula(
        expr=(sp.collect(sp.expand(f_next), eta), sp.collect(sp.expand(lam_next), eta)),
        params=(eta, lam, f, y, n),
        source=_UV,
        derived=True,
        derivation="one GD step on u, v substituted into f = v.u/sqrt(n) and lam = (|u|^2+|v|^2)/n "
                   "(sympy.diff of the loss, then elimination of the coordinates)",
        conditions=("exact for every n, eta: no width limit is taken",
                    "realisable states satisfy |f| <= sqrt(n) lam / 2 (|u.v| <= (|u|^2+|v|^2)/2)"),
        domains={"n": sp.Interval(1, sp.oo)},
        description="one GD step of the uv model: (f, lam) -> (f_next, lam_next)",
    )


@FORMULAS.register("critical_lr")
def _critical_lr() -> Formula:
    f_next, _ = _uv_map().expr
    # Lazy regime: f is small, the map is linear in f with multiplier m = d f_next / d f at f = 0.
    multiplier = sp.diff(f_next.subs(y, 0), f).subs(f, 0)
    (expr,) = sp.solve(sp.Eq(multiplier.subs(lam, lam0), -1), eta)
    return Formula(
        expr=expr,
        params=(lam0,),
        source=_UV,
        derived=True,
        derivation="sympy.solve of d f_next/d f |_(f=0, y=0) = -1 (the linearised output "
                   "flips sign with unit modulus)",
        conditions=("label 0; below it the output converges with lam ~ lam0 (lazy phase)",),
        description="lazy -> catapult learning rate of the uv model, 2/lam0",
    )


@FORMULAS.register("max_lr")
def _max_lr() -> Formula:
    _, lam_next = _uv_map().expr
    change = sp.factor(lam_next.subs(y, 0) - lam)  # (eta f^2 / n)(eta lam - 4)
    roots = [r for r in sp.solve(sp.Eq(change.subs(lam, lam0), 0), eta) if r != 0]
    (expr,) = roots
    return Formula(
        expr=expr,
        params=(lam0,),
        source=_UV,
        derived=True,
        derivation="sympy.solve of lam_next - lam = 0 for eta != 0 at f != 0, y = 0: above it "
                   "every step raises lam, so the curvature can never fall below 2/eta",
        conditions=("label 0; between critical_lr and max_lr the catapult lowers lam below 2/eta; "
                    "at and above it the output diverges",),
        description="catapult -> divergent learning rate of the uv model, 4/lam0",
    )
