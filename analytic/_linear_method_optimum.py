r"""Optimal parameters of a :class:`~analytic._linear_method.LinearMethod` on ``[mu, L]``.

Symbolic first: sympy solves the equal-ripple candidates for the tuned parameters,

* order 1, one parameter: $b(\mu) = -b(L)$ (the extreme modes contract equally, with
  opposite signs);
* order 2, two parameters: $D(\mu) = D(L) = 0$ (double roots at both ends, where the
  radius of each end mode is smallest for its $c$);
* order 2, one parameter: $D(\mu) = 0$ or $D(L) = 0$;

a candidate is solved only if the numeric optimum satisfies it (to 1e-3), and accepted only when a numeric minimisation of the worst case
(random search then scipy Nelder-Mead, seeded) at the probe intervals
``[1, 4], [1, 30], [1, 100]`` finds no better value (to 1e-7). Otherwise the optimum is
numeric: computed per interval on call, and ``Optimum.how`` says so.

Every sympy step on the user's method (the candidate solve, the simplification of a
solution) runs under a time limit (:mod:`analytic._sympy_worker`): a solve that does not
finish in time gives the numeric optimum, with ``Optimum.how`` naming the step and the limit.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable

import numpy as np
import sympy as sp
from scipy import optimize

from analytic._iteration_engine import L, mu
from analytic._sympy_worker import SymbolicTimeLimit, call_within, solve_within
from analytic.formula import Formula, default_domain
from analytic.symbols import kappa, lam

__all__ = ["Optimum", "optimise"]


@dataclasses.dataclass(frozen=True)
class Optimum:
    """Parameters minimising the worst-case rate over ``[mu, L]``, and that rate.

    ``symbolic``: ``parameters`` and ``rate`` are Formulas of ``(mu, L)`` (``rate_kappa``
    of ``kappa`` when the rate depends on ``L/mu`` only). Otherwise they are None and
    calling ``optimum(mu=..., L=...)`` minimises numerically. Either way the call returns
    ``{param name: value, ..., "rate": worst-case rate}`` as floats.
    """

    tuned: tuple[sp.Symbol, ...]
    symbolic: bool
    how: str
    parameters: dict | None = None
    rate: Formula | None = None
    rate_kappa: Formula | None = None
    _minimise: Callable | None = dataclasses.field(default=None, repr=False, compare=False)

    def steps(self) -> Formula:
        r"""Iterations to relative error eps at this rate, to leading order: sympy.solve of
        $\rho(\kappa)^n = \varepsilon$ (the prefactor of a double root is in
        :meth:`LinearMethod.mode_error`). Needs a symbolic ``rate_kappa``."""
        from analytic.symbols import eps

        if self.rate_kappa is None:
            raise ValueError("steps: this optimum has no closed-form rate in kappa (it is numeric "
                             "or depends on mu and L apart)")
        n = sp.Symbol("n", positive=True)
        (expr,) = sp.solve(sp.Eq(n * sp.log(self.rate_kappa.expr), sp.log(eps)), n)
        return Formula(expr=expr, params=(kappa, eps), source=self.rate_kappa.source, derived=True,
                       derivation=f"sympy.solve of ({self.rate_kappa.expr})**n = eps for n",
                       domains={"kappa": sp.Interval.open(1, sp.oo), "eps": sp.Interval.open(0, 1)},
                       description="iterations to relative error eps at the tuned worst-case rate "
                                   "(leading order)")

    def __call__(self, mu: float, L: float, **fixed) -> dict[str, float]:
        if not (np.isfinite(mu) and np.isfinite(L) and 0 < mu <= L):
            raise ValueError(f"optimum: need 0 < mu <= L (finite), got mu = {mu}, L = {L}")
        if self.symbolic:
            out = {p.name: float(f(**{n: v for n, v in (("mu", mu), ("L", L), *fixed.items())
                                      if n in f.param_names}))
                   for p, f in zip(self.tuned, self.parameters.values())}
            out["rate"] = float(self.rate(**{n: v for n, v in (("mu", mu), ("L", L), *fixed.items())
                                             if n in self.rate.param_names}))
            return out
        return self._minimise(mu, L, **fixed)

_PROBES = ((1.0, 4.0), (1.0, 30.0), (1.0, 100.0))
_SLACK = 1e-7  # a candidate may be worse than the numeric minimum by round-off only
_SMALL_OPS = 30  # expressions this small are simplified in process (milliseconds), larger ones bounded


def _numeric_minimiser(worst: Formula, tuned, domains):
    """(mu, L, **fixed) -> {name: value, 'rate': worst case}: random search + Nelder-Mead."""
    order = [p.name for p in worst.params]
    f = sp.lambdify(worst.params, worst.expr, "numpy")
    tuned_names = [p.name for p in tuned]

    def to_param(u, name, mu_, L_):  # unconstrained u -> a value inside the domain
        dom = domains[name]
        if isinstance(dom, sp.Interval) and dom.sup is not sp.S.Infinity:
            lo, hi = float(dom.inf), float(dom.sup)
            return lo + (hi - lo) / (1 + np.exp(-u))
        return np.exp(u) / (np.sqrt(mu_ * L_) if name not in ("beta",) else 1.0)

    def minimise(mu_: float, L_: float, **fixed) -> dict[str, float]:
        rng = np.random.default_rng(0)

        def value(us):
            vals = {"mu": mu_, "L": L_, **fixed}
            for name, u in zip(tuned_names, us):
                vals[name] = to_param(u, name, mu_, L_)
            return np.asarray(f(*(vals[n] for n in order)), float)

        samples = rng.uniform(-8, 8, size=(2000, len(tuned)))
        vals = value(samples.T)
        vals = np.where(np.isfinite(vals), vals, np.inf)
        best = None
        for start in samples[np.argsort(vals)[:3]]:
            res = optimize.minimize(lambda us: float(value(us)), start, method="Nelder-Mead",
                                    options={"xatol": 1e-10, "fatol": 1e-13, "maxiter": 1500})
            if best is None or res.fun < best.fun:
                best = res
        out = {name: float(to_param(u, name, mu_, L_)) for name, u in zip(tuned_names, best.x)}
        out["rate"] = float(best.fun)
        return out

    return minimise


def _candidates(method, tuned):
    b_c = method.coefficients
    # (label, equations, radii of the end modes at a solution: the worst case is their max)
    if method.order == 1 and len(tuned) == 1:
        (b,) = b_c
        return [("b(mu) = -b(L)", [b.subs(lam, mu) + b.subs(lam, L)], [sp.Abs(b.subs(lam, mu))])]
    if method.order == 2 and len(tuned) == 2:
        c = b_c[1]
        D = method.discriminant.expr
        # double roots at both ends: each end's radius is sqrt(c) there (= |b|/2)
        return [("D(mu) = D(L) = 0 (double roots at both ends)", [D.subs(lam, mu), D.subs(lam, L)],
                 [sp.sqrt(c.subs(lam, mu)), sp.sqrt(c.subs(lam, L))])]
    return []


def optimise(method, tuned: tuple, fixed: dict, time_limit: float | None = None) -> Optimum:
    worst = method.worst_case_rate
    if worst is None:
        raise ValueError(f"{method.name}: no worst-case rate (order {method.order} or charpoly not "
                         f"affine in lam), so no optimum")
    if not tuned:
        raise ValueError("optimum: name the parameters to tune, e.g. optimum(alpha, beta)")
    by_name = {p.name: p for p in method.params}
    for p in tuned:
        if p not in method.params or p == lam:
            raise ValueError(f"optimum: {p} is not a tunable parameter of {method.name} "
                             f"(params {[q.name for q in method.params if q != lam]})")
    subs = {by_name[k]: sp.sympify(v) for k, v in fixed.items()}
    worst = worst.subs(subs) if subs else worst
    left = [p.name for p in worst.params if p not in tuned and p not in (mu, L)]
    if left:
        raise ValueError(f"optimum: fix or tune {left} (e.g. optimum({tuned[0]}, {left[0]}=0.5))")
    domains = {p.name: worst.domain(p.name) if p in worst.params else default_domain(p) for p in tuned}
    minimise = _numeric_minimiser(worst, tuned, domains)
    at_probes = [minimise(a, b) for a, b in _PROBES]
    numeric_best = [found["rate"] for found in at_probes]
    f = sp.lambdify(worst.params, worst.expr, "numpy")
    order = [p.name for p in worst.params]

    at_numeric = at_probes[-1]  # where the numeric optimum is, on the widest probe
    tried, timed_out = [], []
    for label, equations, end_radii in _candidates(method, tuned):
        equations = [sp.sympify(e).subs(subs) for e in equations]
        # sympy.solve only a system the numeric optimum satisfies (else it cannot be the optimum,
        # and solving it can take minutes)
        point = {mu: _PROBES[-1][0], L: _PROBES[-1][1], **{p: at_numeric[p.name] for p in tuned}}
        if any(abs(complex(sp.sympify(e).subs(point).evalf())) > 1e-3 for e in equations):
            tried.append(label)
            continue
        try:  # check=False: every solution is checked numerically below
            solutions = solve_within(equations, list(tuned), time_limit,
                                     f"{method.name}.optimum: sympy.solve of {label}", dict=True, check=False)
        except NotImplementedError:
            solutions = []
        except SymbolicTimeLimit:
            timed_out.append(f"sympy.solve of {label}")
            continue
        for sol in solutions:
            if set(sol) != set(tuned):
                continue
            ok = True
            for (a, b), target in zip(_PROBES, numeric_best):
                vals = {"mu": a, "L": b}
                try:
                    for p in tuned:
                        v = complex(sol[p].subs({mu: a, L: b}).evalf())
                        if abs(v.imag) > 1e-12 or not bool(domains[p.name].contains(v.real)):
                            raise ValueError
                        vals[p.name] = v.real
                except (ValueError, TypeError):
                    ok = False
                    break
                got = float(f(*(vals[n] for n in order)))
                if not got <= target + _SLACK:
                    ok = False
                    break
            if not ok:
                continue
            radii_exprs = [r.subs(subs).subs(sol) for r in end_radii]
            small = all(sp.count_ops(e) <= _SMALL_OPS for e in (*sol.values(), *radii_exprs))
            try:  # the simplifications: in process when small, else one bounded child for all
                tidied = call_within(None if small else time_limit,
                                     f"{method.name}.optimum: simplifying the solution of {label}",
                                     "many", [("tidy_mu_L", (sol[p],), {}) for p in tuned]
                                     + [("kappa_form", (r,), {}) for r in radii_exprs])
            except SymbolicTimeLimit:
                timed_out.append(f"simplifying the solution of {label}")
                break
            tidy_params, radii = tidied[:len(tuned)], set(tidied[len(tuned):])
            params = {p.name: Formula(expr=e, params=tuple(s for s in (mu, L) if s in e.free_symbols),
                                      source=method.source, derived=True,
                                      derivation=f"sympy.solve of {label} for {[t.name for t in tuned]}; "
                                      "no better point found numerically at [mu, L] = " + ", ".join(map(str, _PROBES)),
                                      constraints=(sp.Ge(L, mu),), description=f"optimal {p.name} of {method.name}")
                      for p, e in zip(tuned, tidy_params)}
            in_kappa = radii.pop() if len(radii) == 1 else None
            rate_expr = sp.Max(*radii_exprs)
            if in_kappa is not None:
                rate_kappa = Formula(expr=in_kappa, params=(kappa,), source=method.source,
                                     derived=True, domains={"kappa": sp.Interval(1, sp.oo)},
                                     derivation=f"worst_case_rate at the optimum ({label}): the radius "
                                                "of the end modes, L = kappa mu, simplified",
                                     description=f"optimal worst-case rate of {method.name}")
                rate = Formula(expr=in_kappa.subs(kappa, L / mu), params=(mu, L),
                               source=method.source, derived=True,
                               derivation=rate_kappa.derivation, constraints=(sp.Ge(L, mu),))
            else:
                rate_kappa = None
                rate = Formula(expr=rate_expr, params=tuple(
                    s for s in (mu, L) if s in rate_expr.free_symbols), source=method.source,
                    derived=True, derivation=f"worst_case_rate at the optimum ({label})",
                    constraints=(sp.Ge(L, mu),))
            return Optimum(tuned=tuple(tuned), symbolic=True, parameters=params, rate=rate,
                           rate_kappa=rate_kappa, how=f"sympy.solve of {label}; checked "
                           "numerically at three intervals", _minimise=minimise)
        tried.append(label)
    why = (f"the candidates {tried} were not optimal (a numeric search found a smaller worst case)"
           if tried else "no symbolic candidate for this order and number of tuned parameters")
    if timed_out:
        why = (f"{' and '.join(timed_out)} did not finish within the time limit of {time_limit:g} s "
               "(pass optimum(..., time_limit=seconds) for longer, or time_limit=None for no limit)")
    return Optimum(tuned=tuple(tuned), symbolic=False, how=f"numeric (random search + scipy "
                   f"Nelder-Mead per interval): {why}", _minimise=minimise)
