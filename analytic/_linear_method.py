r"""Derive the spectral theory of a user's own linear optimisation method.

The user writes ONE step of a method on the one-mode quadratic $f(x) = \tfrac12\lambda x^2$
(gradient $\lambda x$) as sympy expressions in the state, for example heavy ball with
state $(x_k, x_{k-1})$:

    x_next = x + beta*(x - x_prev) - alpha*lam*x,   x_prev_next = x

and :func:`linear_method` derives, with sympy, every step recorded in the Formulas'
``derivation``:

1. linearity: every update is checked to be linear and homogeneous in the state
   (its Hessian in the state vanishes and it is 0 at the zero state);
2. the iteration matrix $M = \partial(\text{update})/\partial(\text{state})$ (sympy jacobian);
3. the characteristic polynomial $p(z) = \det(zI - M)$ (sympy charpoly);
4. the spectral radius $\rho = \max|z|$ over the roots of $p$, valid in every root regime:
   for $n = 1$, $|M_{11}|$; for $n = 2$ with $p = z^2 - bz + c$ and $D = b^2 - 4c$,
   $(|b| + \sqrt D)/2$ for real roots ($D > 0$) and $\sqrt c$ (Vieta, $z\bar z = c$)
   for complex or double roots. For $n \ge 3$ no closed form is attempted: the
   radius is evaluated numerically from the companion matrix (stated in its repr);
5. the stability region: Jury's conditions as margins that are all positive exactly
   when $\rho < 1$ ($n = 2$: $1 - c$, $p(1)$, $p(-1)$; $n = 1$: $p(1)$, $-p(-1)$), and
   ``critical(param)``, the solution of $p(-1) = 0$ for one parameter;
6. the worst-case rate over eigenvalues $\lambda \in [\mu, L]$: when $b$ and $c$ are
   affine in $\lambda$ (checked), $\rho$ is quasi-convex in $\lambda$ (its sublevel set
   $\{\rho \le r\} = \{|c| \le r^2,\ |b| \le r + c/r\}$, Schur-Cohn for $z = rw$, is an
   interval), so the worst case is $\max(\rho(\mu), \rho(L))$;
7. ``optimum(*tuned)``: the parameters minimising the worst case. sympy solves the
   equal-ripple candidates (first order: $b(\mu) = -b(L)$; second order: double roots at
   both ends, $D(\mu) = D(L) = 0$); a candidate is kept only if a numeric minimisation
   (scipy Nelder-Mead, several starts) at three probe intervals finds nothing better.
   Otherwise the optimum is numeric (``Optimum.symbolic`` is False) and is computed
   per interval on call. Every sympy solve and simplification on the user's method is
   bounded by ``time_limit`` seconds (default 60; :mod:`analytic._sympy_worker` runs it in
   a child process that is killed at the limit): past it ``optimum`` is numeric and says so
   in ``Optimum.how``, ``critical`` and ``regime_boundaries`` raise ``SymbolicTimeLimit``
   (a ``TimeoutError`` naming the limit and ``time_limit=``).

Steps 2-5 are the linear-iteration engine (:mod:`analytic._iteration_engine`), which the
momentum, eos, games and optimizers families call too. The radius evaluates through an
overflow-safe scaled form (``evaluate_as``; the readable form above is ``expr``).

Sources: Jury's stability criterion (Jury 1964, "Theory and Application of the
z-Transform Method"); the per-mode reduction and the momentum analyses this
generalises: Polyak 1964; Lessard, Recht, Packard 2016, arXiv:1408.3595v3, sec. 2.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Mapping, Sequence

import numpy as np
import sympy as sp

from analytic import _iteration_engine as engine
from analytic._linear_method_optimum import Optimum, optimise
from analytic._sympy_worker import DEFAULT_TIME_LIMIT, solve_within
from analytic.formula import Formula
from analytic.symbols import L, kappa, lam, mu, z

__all__ = ["LinearMethod", "Optimum", "linear_method", "mu", "L", "z"]

# Symbols of the derivation: mu, L (the eigenvalue interval) and z (the characteristic
# polynomial's variable) are created once, in analytic.symbols; the methods family re-exports them.

_SOURCE = "user-defined method; Jury 1964 stability criterion; Lessard, Recht, Packard 2016, " \
          "arXiv:1408.3595v3, sec. 2 (per-mode reduction)"


def _params_in(expr, params: Sequence[sp.Symbol]) -> tuple[sp.Symbol, ...]:
    exprs = expr if isinstance(expr, tuple) else (expr,)
    free = set().union(*(sp.sympify(e).free_symbols for e in exprs))
    return tuple(p for p in params if p in free)


@dataclasses.dataclass(frozen=True, repr=False)
class LinearMethod:
    """What :func:`linear_method` derived for one method; see the module docstring.

    Attributes are Formulas (``iteration_matrix``, ``characteristic_polynomial``,
    ``spectral_radius``, ``discriminant`` (order 2), ``stability``, ``worst_case_rate``);
    methods ``critical(param)``, ``regime_boundaries(param)`` and ``optimum(*tuned)``
    derive on call. ``spectral_radius`` is None for order >= 3, where
    ``radius_numeric`` evaluates it from the companion matrix.
    """

    name: str
    state: tuple[sp.Symbol, ...]
    params: tuple[sp.Symbol, ...]
    update: tuple[sp.Expr, ...]
    iteration_matrix: Formula
    characteristic_polynomial: Formula
    spectral_radius: Formula | None
    discriminant: Formula | None
    stability: Formula | None
    worst_case_rate: Formula | None
    source: str = _SOURCE
    domains: tuple = ()
    _cache: dict = dataclasses.field(default_factory=dict, compare=False)

    @property
    def order(self) -> int:
        return len(self.state)

    @property
    def coefficients(self) -> tuple[sp.Expr, ...]:
        """(b, c) of the monic $z^2 - bz + c$ (order 2) or (b,) of $z - b$ (order 1)."""
        return engine.monic_coefficients(self.characteristic_polynomial.expr)

    def _formula(self, expr, what: str, derivation: str, conditions=(), constraints=(),
                 extra=(), evaluate_as=None) -> Formula:
        params = _params_in(expr, (*self.params, *extra))
        keep = {p.name for p in params}
        return Formula(name=f"{self.name}.{what}" if self.name else "", expr=expr, params=params,
                       source=self.source, derived=True, derivation=derivation,
                       conditions=tuple(conditions), constraints=tuple(constraints),
                       domains=tuple((n, d) for n, d in self.domains if n in keep),
                       description=f"{what.replace('_', ' ')} of {self.name or 'the method'}",
                       evaluate_as=evaluate_as)

    def _solver(self, time_limit, what: str):
        return lambda equation, unknown: solve_within(equation, unknown, time_limit, f"{self.name}.{what}")

    def critical(self, param: sp.Symbol, *, time_limit: float | None = DEFAULT_TIME_LIMIT) -> Formula:
        """``param`` at which a root crosses the unit circle at z = -1 (sympy.solve of p(-1) = 0).

        The solve is bounded by ``time_limit`` seconds (``SymbolicTimeLimit``, a TimeoutError,
        past it; None: no limit) unless it is a quadratic in ``param`` (solved at once)."""
        key = ("critical", param)
        if key not in self._cache:
            what = f"critical({param.name})"
            try:
                expr = engine.crossing(self.characteristic_polynomial.expr, param,
                                       solve=self._solver(time_limit, what))
            except ValueError as error:
                raise ValueError(f"{self.name}: {error}") from None
            self._cache[key] = self._formula(
                expr, f"critical_{param.name}",
                f"sympy.solve of charpoly(z = -1) = 0 for {param.name}: a root leaves the unit "
                f"disc at z = -1", ("with Jury's other margins, bounds the stability region",))
        return self._cache[key]

    def regime_boundaries(self, param: sp.Symbol, *,
                          time_limit: float | None = DEFAULT_TIME_LIMIT) -> Formula:
        """Values of ``param`` where the roots are double (sympy.solve of D = 0), as a tuple
        (the solve bounded by ``time_limit`` seconds, as in :meth:`critical`)."""
        if self.discriminant is None:
            raise ValueError(f"{self.name}: regime boundaries need order 2, got {self.order}")
        key = ("regime", param)
        if key not in self._cache:
            found = engine.double_root_values(self.discriminant.expr, param,
                                              solve=self._solver(time_limit, f"regime_boundaries({param.name})"))
            self._cache[key] = self._formula(
                tuple(found), f"{param.name}_regime_boundaries",
                f"sympy.solve of discriminant = 0 for {param.name}", ("double roots at each value",))
        return self._cache[key]

    def optimum(self, *tuned: sp.Symbol, time_limit: float | None = DEFAULT_TIME_LIMIT, **fixed) -> Optimum:
        """The ``tuned`` parameters minimising ``worst_case_rate`` over ``[mu, L]``.

        Each symbolic step (solving a candidate system, simplifying its solution) is bounded
        by ``time_limit`` seconds; past it the optimum is numeric (``Optimum.symbolic`` False,
        ``Optimum.how`` says which step ran out of time). None: no limit."""
        key = ("optimum", tuned, tuple(sorted(fixed.items())), time_limit)
        if key not in self._cache:
            self._cache[key] = optimise(self, tuned, fixed, time_limit=time_limit)
        return self._cache[key]

    def mode_error(self, at: Mapping, initial: Mapping, steps: sp.Symbol | None = None,
                   modulus: bool = True) -> Formula:
        r"""Exact first state component after ``steps`` steps of one mode, by ``sympy.rsolve``.

        ``at`` fixes parameters (the eigenvalue ``lam`` among them) to numbers or
        expressions, e.g. a tuning from :meth:`optimum` at ``lam = mu``; ``initial``
        gives the state at step 0 (``{x: 1, x_prev: 1}``: started at rest). By
        Cayley-Hamilton the first component obeys the charpoly's recurrence
        $x_{k+2} = b x_{k+1} - c x_k$ with $x_0$ and $x_1$ from one step of the update;
        sympy solves it, the double root ($D = 0$, detected symbolically) included,
        where the error carries the $(1 + a k)$ prefactor that the spectral radius alone
        misses. Expressions in ``mu`` and ``L`` are rewritten in ``kappa`` when ``mu``
        drops out. Returns a Formula of ``steps`` (default ``analytic.symbols.t``): the
        modulus $|x_t|$ (``modulus=True``, written $|r|^t\,|\text{prefactor}|$ at a double
        root so that large ``t`` neither overflows nor meets a negative base), else $x_t$.
        """
        from analytic.symbols import t as default_steps

        steps = default_steps if steps is None else steps
        by_name = {p.name: p for p in (*self.params, *self.state, mu, L)}
        sub = {by_name.get(k, k) if isinstance(k, str) else k: sp.sympify(v) for k, v in at.items()}
        unknown = [k for k in sub if k not in self.params]
        if unknown:
            raise ValueError(f"at: {unknown} are not parameters of {self.name} "
                             f"({[p.name for p in self.params]})")
        start = {by_name.get(k, k) if isinstance(k, str) else k: sp.sympify(v) for k, v in initial.items()}
        if set(start) != set(self.state):
            raise ValueError(f"initial: give every state variable {[s.name for s in self.state]}, "
                             f"got {[str(k) for k in start]}")
        tidy = _tidy_in_kappa
        coefficients = [tidy(c.subs(sub)) for c in self.coefficients]
        x0 = tidy(start[self.state[0]])
        x1 = tidy(self.update[0].subs(start).subs(sub))
        k = sp.Symbol("k", integer=True, nonnegative=True)
        x = sp.Function("x")
        if self.order == 1:
            (b,) = coefficients
            solution = tidy(sp.Abs(b)) ** k * tidy(sp.Abs(x0)) if modulus else x0 * b**k
            how = "x_k = b^k x_0"
        elif self.order == 2:
            b, c = coefficients
            r = sp.Symbol("r")
            if tidy(b**2 - 4 * c) == 0:  # a double root r = b/2: solve in r, then substitute
                a0, a1 = sp.symbols("a0 a1")  # solved in general, then x_0, x_1 and r substituted
                solution = sp.rsolve(x(k + 2) - 2 * r * x(k + 1) + r**2 * x(k), x(k), {x(0): a0, x(1): a1})
                if solution is not None:  # r^k (x_0 + a k): keep the power apart (stable for large k)
                    root = tidy(b / 2)
                    prefactor = sp.simplify(sp.powsimp(sp.expand(solution / r**k), force=True))
                    prefactor = tidy(prefactor.subs({a0: x0, a1: x1, r: root}))
                    solution = (tidy(sp.Abs(root)) ** k * tidy(sp.Abs(prefactor)) if modulus
                                else root**k * prefactor)
                how = "double root r = b/2 (D = 0 simplifies to zero): rsolve of x[k+2] = 2r x[k+1] - r^2 x[k]"
            else:
                solution = sp.rsolve(x(k + 2) - b * x(k + 1) + c * x(k), x(k), {x(0): x0, x(1): x1})
                how = f"rsolve of x[k+2] = ({b}) x[k+1] - ({c}) x[k]"
                if solution is not None and modulus:
                    solution = sp.Abs(solution)
            if solution is None:
                raise ValueError(f"{self.name}: sympy.rsolve found no closed form for b = {b}, c = {c}")
        else:
            raise ValueError(f"{self.name}: mode_error needs order 1 or 2, got {self.order}")
        expr = solution.subs(k, steps)
        fixed = ", ".join(f"{p} = {v}" for p, v in sub.items())
        return self._formula(
            expr, "mode_error",
            f"Cayley-Hamilton: x_k obeys the charpoly recurrence; {how}; x_0 = {x0}, x_1 = {x1} at "
            f"{fixed}", (f"the first state component after {steps} steps, started at "
                         f"{ {str(s): str(v) for s, v in start.items()} }",),
            extra=(steps, kappa, mu, L))

    def radius_numeric(self, **values) -> np.ndarray:
        """max |root| of the characteristic polynomial, numerically (numpy eigvals), any order."""
        coeffs = sp.Poly(self.characteristic_polynomial.expr, z).all_coeffs()
        args = [np.asarray(values[p.name], float) for p in self.params]
        funcs = [sp.lambdify(self.params, a, "numpy") for a in coeffs]
        shape = np.broadcast_shapes(*(a.shape for a in args))
        cs = [np.broadcast_to(np.asarray(f(*args), float), shape) for f in funcs]
        n = len(cs) - 1
        companion = np.zeros(shape + (n, n))
        companion[..., 0, :] = -np.stack(cs[1:], -1) / cs[0][..., None]
        companion[..., np.arange(1, n), np.arange(n - 1)] = 1.0
        return np.abs(np.linalg.eigvals(companion)).max(-1)

    def __repr__(self) -> str:
        names = lambda syms: ", ".join(s.name for s in syms)  # noqa: E731
        lines = [f"LinearMethod({self.name!r}, state=({names(self.state)}), params=({names(self.params)}))"]
        for s, u in zip(self.state, self.update):
            lines.append(f"  {s.name}+ = {u}")
        lines.append(f"  charpoly: {self.characteristic_polynomial.expr} = 0")
        if self.spectral_radius is not None:
            lines.append(f"  spectral_radius: closed form, order {self.order} (every root regime)")
        else:
            lines.append(f"  spectral_radius: numeric (order {self.order}): radius_numeric(...)")
        if self.worst_case_rate is not None:
            lines.append("  worst_case_rate on [mu, L]: max(rho(mu), rho(L))")
        return "\n".join(lines)


def _as_updates(update, state, params):
    """(state symbols, update expressions) from a dict, a sequence or a step function."""
    if callable(update) and not isinstance(update, sp.Basic):
        if state is None:
            raise ValueError("state: a step function needs the state Symbols, e.g. state=(x, g)")
        state = tuple(state)
        by_name = {p.name: p for p in params}
        wanted = [n for n in inspect.signature(update).parameters][2:]
        missing = [n for n in wanted if n not in by_name]
        if missing:
            raise ValueError(f"params: the step function takes {missing}, which are not in params "
                             f"({[p.name for p in params]})")
        grad = lambda x: lam * x  # noqa: E731  (gradient of lam x^2 / 2)
        out = update(state, grad, **{n: by_name[n] for n in wanted})
        return state, tuple(sp.sympify(e) for e in out)
    if isinstance(update, Mapping):
        keys = tuple(update)
        state = keys if state is None else tuple(state)
        not_state = [k for k in keys if k not in state]
        if not_state:
            raise ValueError(f"update: {not_state} are updated but are not in state {state}")
        no_update = [s for s in state if s not in update]
        if no_update:
            raise ValueError(f"state does not close: {[str(s) for s in no_update]} have no update; "
                             f"give each state variable its next value, e.g. {{x_prev: x}}")
        return state, tuple(sp.sympify(update[s]) for s in state)
    if state is None:
        raise ValueError("state: give the state Symbols in the order of the updates")
    update, state = tuple(update), tuple(state)
    if len(update) != len(state):
        raise ValueError(f"state does not close: {len(state)} state variables but {len(update)} "
                         f"updates; every state variable needs exactly one update")
    return state, tuple(sp.sympify(u) for u in update)


def linear_method(update, state=None, params=(), *, name: str = "method", source: str = "",
                  domains: Mapping | None = None) -> LinearMethod:
    """Derive the iteration matrix, charpoly, spectral radius, stability and worst case.

    ``update``: the next value of each state variable, as ``{x: x_next_expr, x_prev: x}``,
    or a sequence in the order of ``state``, or a step function
    ``step(state, grad, **params)`` written with plain arithmetic (the same function can
    run in JAX; here it is called with Symbols and ``grad(x) = lam x``).
    ``state``: the state Symbols (defaults to the dict's keys). ``params``: every other
    Symbol the updates use, the eigenvalue ``lam`` among them. ``domains``: narrower valid
    ranges of parameters (``{"nu": sp.Interval(0, 1)}``).

    Raises ``ValueError`` for an update not linear (and homogeneous) in the state, a free
    symbol missing from ``params``, or a state that does not close.

    Example:
        >>> import sympy as sp
        >>> from analytic import linear_method
        >>> from analytic.symbols import alpha, lam
        >>> x = sp.Symbol("x")
        >>> gd = linear_method({x: x - alpha * lam * x}, params=(alpha, lam), name="gd")
        >>> gd.spectral_radius.expr
        Abs(alpha*lam - 1)
        >>> gd.optimum(alpha).parameters["alpha"].expr
        2/(L + mu)
    """
    params = tuple(params)
    for p in params:
        if not isinstance(p, sp.Symbol):
            raise TypeError(f"params must be sympy Symbols, got {p!r} ({type(p).__name__})")
    if lam not in params:
        raise ValueError(f"params must include the eigenvalue lam (analytic.symbols.lam); got "
                         f"{[p.name for p in params]}")
    state, updates = _as_updates(update, state, params)
    for s in state:
        if not isinstance(s, sp.Symbol):
            raise TypeError(f"state must be sympy Symbols, got {s!r}")
    overlap = [s for s in state if s in params]
    if overlap:
        raise ValueError(f"{overlap} are both state and params")
    for s, u in zip(state, updates):
        extra = u.free_symbols - set(state) - set(params)
        if extra:
            raise ValueError(f"update of {s}: free symbols {sorted(map(str, extra))} are missing from "
                             f"params (if one is a state variable, add it to state with its update)")
        hessian = [sp.simplify(sp.diff(u, a, b)) for a in state for b in state]
        if any(h != 0 for h in hessian) or any(
                sp.simplify(sp.diff(u, a)).free_symbols & set(state) for a in state):
            raise ValueError(f"update of {s} is not linear in the state {state}: {u}")
        offset = sp.simplify(u.subs({a: 0 for a in state}))
        if offset != 0:
            raise ValueError(f"update of {s} is affine, not linear, in the state (constant term "
                             f"{offset}); write it for the error x - x* so that 0 is the fixed point")
    domains = tuple(dict(domains or {}).items())
    source = source or _SOURCE

    M = engine.iteration_matrix(updates, state)
    charpoly = engine.characteristic_polynomial(M)
    n = len(state)
    partial = LinearMethod(name, state, params, updates, *([None] * 6), source=source, domains=domains)
    mk = partial._formula
    iteration = mk(tuple(M), "iteration_matrix",
                   f"sympy jacobian of the updates {list(map(str, updates))} in the state "
                   f"{list(map(str, state))}; entries row by row ({n}x{n})")
    char = mk(charpoly, "characteristic_polynomial", "sympy charpoly det(z I - M) of the iteration "
              "matrix", extra=(z,))
    partial = dataclasses.replace(partial, iteration_matrix=iteration, characteristic_polynomial=char)
    radius = disc = stability = worst = None
    regimes = "< 1: the mode converges; > 1: it diverges at this per-step rate"
    if n == 1:
        (b,) = partial.coefficients
        radius = mk(sp.Abs(b), "spectral_radius", "1x1 iteration 'matrix' b (sympy jacobian); |b|",
                    (regimes,))
        stability = mk((sp.factor(1 - b), sp.factor(1 + b)), "stability",
                       "Jury for z - b: margins (p(1), -p(-1)) = (1 - b, 1 + b), all > 0 iff |b| < 1")
    elif n == 2:
        b, c = partial.coefficients
        radius = mk(engine.quadratic_radius(b, c), "spectral_radius",
                    f"2x2 iteration matrix (sympy jacobian); charpoly z^2 - ({b}) z + ({c}); max |root| "
                    "split on D = b^2 - 4c: (|b| + sqrt(D))/2 for real roots, sqrt(c) (Vieta) for "
                    "complex or double roots",
                    (regimes, "at a double root (D = 0) the error carries a t * rho^t prefactor"),
                    evaluate_as=engine.scaled_quadratic_radius(b, c))
        disc = mk(sp.factor(b**2 - 4 * c), "discriminant", "b^2 - 4c of the charpoly z^2 - b z + c",
                  ("> 0: two real roots; = 0: a double root; < 0: complex conjugate roots",))
        stability = mk((sp.factor(1 - c), sp.factor(1 - b + c), sp.factor(1 + b + c)), "stability",
                       "Jury for z^2 - b z + c: margins (1 - c, p(1), p(-1)), all > 0 iff both roots "
                       "lie inside the unit disc")
    if radius is not None and all(sp.degree(k, lam) <= 1 for k in partial.coefficients):
        at = [radius.expr.subs(lam, end) for end in (mu, L)]
        stable = radius.evaluated_expr
        worst = mk(sp.Max(*at), "worst_case_rate",
                   "max over lam in [mu, L] of spectral_radius = max(rho(mu), rho(L)): the charpoly "
                   "coefficients are affine in lam (checked with sympy.degree), so {rho <= r} = "
                   "{|c| <= r^2, |b| <= r + c/r} (Schur-Cohn at z = r w) is an interval in lam "
                   "and rho is quasi-convex in lam",
                   constraints=(sp.Ge(L, mu),), extra=(mu, L),
                   evaluate_as=sp.Max(*(stable.subs(lam, end) for end in (mu, L))))
    return dataclasses.replace(partial, spectral_radius=radius, discriminant=disc, stability=stability,
                               worst_case_rate=worst)


def _tidy_in_kappa(expr: sp.Expr) -> sp.Expr:
    """Simplify with ``L = kappa mu`` and ``kappa > 1`` known, so that Abs and sqrt resolve."""
    v = sp.Dummy("v", positive=True)  # kappa = (1 + v)^2 > 1
    m = sp.Dummy("m", positive=True)  # mu = m^2
    out = sp.sympify(expr).subs(L, kappa * mu).subs({kappa: (1 + v) ** 2, mu: m**2})
    out = sp.factor(sp.simplify(out))
    return sp.factor(sp.simplify(out.subs({v: sp.sqrt(kappa) - 1, m: sp.sqrt(mu)})))
