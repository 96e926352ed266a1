r"""The :class:`Formula`: one closed form, its provenance, and a jitted JAX evaluator.

A Formula is a small immutable record (a frozen dataclass, not a pytree):

* ``expr``: the sympy expression (or a tuple of them);
* ``params``: the sympy Symbols it depends on, in call order; its free symbols must
  be exactly these;
* ``source``: the paper and equation it comes from (arXiv version pinned);
* ``derived``: True when sympy derived ``expr`` from a model statement, False when
  the expression is stated from the paper (and checked symbolically in the tests);
* ``derivation`` / ``conditions``: how it was derived and when it is valid;
* ``domains``: narrower valid ranges for some parameters than the Symbols'
  assumptions give (for example ``kappa`` in ``[1, oo)``);
* ``constraints``: relations between parameters that valid inputs satisfy, as
  sympy relationals (for example ``L >= mu``);
* ``evaluate_as``: optionally, an expression equal to ``expr`` that is stable in
  floating point where ``expr`` is not (a removable 0/0 at a stability edge, an
  ``inf/inf`` overflow, a catastrophic cancellation); ``f.jax`` compiles it instead
  of ``expr``. It is tied to the ``expr`` it was written for: a Formula whose
  ``expr`` is replaced (``dataclasses.replace``, as the negative controls do) or
  differentiated evaluates its own ``expr`` again. Tests check the two agree.

Evaluate by keyword, ``f(eta=0.1, lam=2.0)`` (the glossary keyword works too where it
names one parameter, ``f(learning_rate=0.1, lam=2.0)``, and so does a legacy name listed
in ``aliases``, a parameter's name before a rename; see :mod:`analytic.glossary`): inputs are checked against their
valid ranges (a ``ValueError`` names the parameter, the value and the range), then
passed to ``f.jax``, a cached ``jax.jit`` of ``sympy.lambdify(params, expr,
modules="jax")`` that broadcasts over arrays and composes with ``jax.vmap`` and
``jax.grad``. ``f.jax`` takes the parameters positionally, in ``f.params`` order,
and does no checking (it may be traced).

The keyword call is the *checked* path and runs on concrete values only: under
``jax.jit``/``jax.vmap``/``jax.grad`` tracing it refuses (a ``TypeError`` pointing
to ``f.jax``), because a traced value cannot be range-checked without a host
round trip. Its checks, in order: each value is a real number or a rectangular
array of them (``TypeError`` for bool, str, None, complex and ragged lists), finite
and inside ``f.domain(name)`` (``ValueError``), the shapes broadcast, the
``constraints`` hold; and the result is not NaN (a ``ValueError`` naming the
inputs and the Formula's "valid when" conditions, never a silent NaN). ``inf`` is
returned where the exact value diverges (an ``oo`` branch of a ``Piecewise``) or
overflows float64.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import re
from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np
import sympy as sp

from analytic._validation import format_value, real_array

__all__ = ["Formula", "default_domain", "format_value", "real_array"]


def default_domain(symbol: sp.Symbol) -> sp.Set:
    """The valid range a Symbol's assumptions imply (the finite part of it)."""
    if symbol.is_integer:
        if symbol.is_positive:
            return sp.Naturals
        if symbol.is_nonnegative:
            return sp.Naturals0
        return sp.Integers
    if symbol.is_positive:
        return sp.Interval.open(0, sp.oo)
    if symbol.is_nonnegative:
        return sp.Interval(0, sp.oo)
    return sp.Reals


def _as_expr_tuple(expr: Any) -> tuple[sp.Basic, ...]:
    if isinstance(expr, (tuple, list, sp.Tuple)):
        return tuple(sp.sympify(e) for e in expr)
    if isinstance(expr, sp.MatrixBase):
        return tuple(expr)
    return (sp.sympify(expr),)


def _free_symbols(expr: Any) -> set[sp.Symbol]:
    out: set[sp.Symbol] = set()
    for e in _as_expr_tuple(expr):
        out |= e.free_symbols
    return out


def _in_domain(values: np.ndarray, domain: sp.Set) -> np.ndarray:
    """Elementwise membership of finite float ``values`` in a sympy Set."""
    if domain in (sp.Naturals, sp.Naturals0, sp.Integers):
        ok = values == np.round(values)
        if domain is sp.Naturals:
            ok &= values >= 1
        elif domain is sp.Naturals0:
            ok &= values >= 0
        return ok
    if domain == sp.Reals:
        return np.ones(values.shape, bool)
    if isinstance(domain, sp.Interval):
        ok = np.ones(values.shape, bool)
        if domain.inf is not sp.S.NegativeInfinity:
            lo = float(domain.inf)
            ok &= values > lo if domain.left_open else values >= lo
        if domain.sup is not sp.S.Infinity:
            hi = float(domain.sup)
            ok &= values < hi if domain.right_open else values <= hi
        return ok
    if isinstance(domain, sp.Union):
        ok = np.zeros(values.shape, bool)
        for part in domain.args:
            ok |= _in_domain(values, part)
        return ok
    raise TypeError(f"unsupported domain {domain!r}: use an Interval, Union, Naturals0 or Naturals")


def _describe_domain(domain: sp.Set) -> str:
    if domain is sp.Naturals0:
        return "{0, 1, 2, ...}"
    if domain is sp.Naturals:
        return "{1, 2, 3, ...}"
    if domain == sp.Reals:
        return "the finite reals"
    if isinstance(domain, sp.Interval):
        left = "(" if domain.left_open or domain.inf is sp.S.NegativeInfinity else "["
        right = ")" if domain.right_open or domain.sup is sp.S.Infinity else "]"
        return f"{left}{domain.inf}, {domain.sup}{right}"
    if isinstance(domain, sp.Union):
        return " or ".join(_describe_domain(part) for part in domain.args)
    return str(domain)


def _outside_message(name: str, value: float, domain: sp.Set) -> str:
    """``parameter 'eta' = -1.0 is outside its valid range (0, oo)``; for an integer range
    ``parameter 't' = 1.5 is not valid: it must be a whole number >= 0``."""
    shown = format_value(float(value))
    if domain in (sp.Naturals, sp.Naturals0):
        low = 1 if domain is sp.Naturals else 0
        return f"parameter {name!r} = {shown} is not valid: it must be a whole number >= {low}"
    return f"parameter {name!r} = {shown} is outside its valid range {_describe_domain(domain)}"


def _is_traced(x: Any) -> bool:
    return isinstance(x, jax.core.Tracer)


@dataclasses.dataclass(frozen=True)
class _StableForm:
    """A stable evaluation form and the ``expr`` it equals (it applies to that expr only)."""

    for_expr: Any
    exprs: tuple

    def __repr__(self) -> str:
        return f"{self.exprs[0] if len(self.exprs) == 1 else self.exprs}"


@dataclasses.dataclass(frozen=True, eq=True)
class Formula:
    """A closed form with provenance; see the module docstring.

    Example:
        >>> from analytic import linreg
        >>> linreg.optimal_lr(lam_min=1.0, lam_max=3.0)   # 2 / (1 + 3)
        Array(0.5, dtype=float64)
    """

    name: str = ""  # "family.short"; a family's registry fills it in (see analytic._registry)
    expr: Any = None
    params: tuple[sp.Symbol, ...] = ()
    source: str = ""
    derived: bool | None = None  # must be given: True (sympy derived it) or False (stated)
    derivation: str = ""
    conditions: tuple[str, ...] = ()
    domains: tuple[tuple[str, sp.Set], ...] = ()
    description: str = ""
    constraints: tuple[sp.Basic, ...] = ()
    evaluate_as: Any = None  # a stable form of expr for evaluation (see the module docstring)
    aliases: tuple[tuple[str, str], ...] = ()  # (legacy keyword, parameter name): old names that still work

    def __post_init__(self) -> None:
        if not isinstance(self.name, str):
            raise TypeError(f"Formula name must be a string, got {self.name!r}")
        if self.expr is None:
            raise ValueError(f"Formula {self.name or '(unnamed)'}: expr is required")
        if not isinstance(self.derived, bool):
            raise TypeError(f"Formula {self.name or '(unnamed)'}: derived must be True (sympy derived "
                            f"it) or False (stated from the source), got {self.derived!r}")
        exprs = _as_expr_tuple(self.expr)
        object.__setattr__(self, "expr", exprs[0] if len(exprs) == 1 and not isinstance(
            self.expr, (tuple, list, sp.Tuple, sp.MatrixBase)) else exprs)
        params = tuple(self.params)
        object.__setattr__(self, "params", params)
        if isinstance(self.domains, Mapping):
            object.__setattr__(self, "domains", tuple(self.domains.items()))
        object.__setattr__(self, "conditions", tuple(self.conditions))
        for p in params:
            if not isinstance(p, sp.Symbol):
                raise TypeError(f"{self.name}: params must be sympy Symbols, got {p!r}")
        names = [p.name for p in params]
        if len(set(names)) != len(names):
            raise ValueError(f"{self.name}: duplicate parameter names {names}")
        free = _free_symbols(self.expr)
        if free != set(params):
            extra = sorted(map(str, free - set(params)))
            unused = sorted(map(str, set(params) - free))
            raise ValueError(
                f"{self.name}: free symbols must be exactly the declared params; "
                f"undeclared {extra}, unused {unused}"
            )
        for pname, _ in self.domains:
            if pname not in names:
                raise ValueError(f"{self.name}: domain given for unknown parameter {pname!r}")
        if isinstance(self.aliases, Mapping):
            object.__setattr__(self, "aliases", tuple(self.aliases.items()))
        object.__setattr__(self, "aliases", tuple((a, p) for a, p in self.aliases if p in names))
        for alias, _ in self.aliases:
            if alias in names:
                raise ValueError(f"{self.name}: alias {alias!r} is also a parameter name")
        if self.evaluate_as is not None and not isinstance(self.evaluate_as, _StableForm):
            stable = _as_expr_tuple(self.evaluate_as)
            if len(stable) != len(exprs) or not _free_symbols(stable) <= set(params):
                raise ValueError(f"{self.name}: evaluate_as must have expr's shape and only its params")
            object.__setattr__(self, "evaluate_as", _StableForm(self.expr, stable))
        object.__setattr__(self, "constraints", tuple(self.constraints))
        for rel in self.constraints:
            if not isinstance(rel, sp.core.relational.Relational) or not rel.free_symbols <= set(params):
                raise ValueError(f"{self.name}: constraint {rel!r} must be a relation between params")

    # -- introspection ------------------------------------------------------------
    @property
    def param_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.params)

    def domain(self, name: str) -> sp.Set:
        """The valid range of parameter ``name``."""
        name = self._keyword_target(name) or name
        for pname, dom in self.domains:
            if pname == name:
                return dom
        for p in self.params:
            if p.name == name:
                return default_domain(p)
        raise ValueError(f"{self.name}: no parameter {name!r}; parameters are {self.param_names}")

    def symbol(self, name: str | sp.Symbol) -> sp.Symbol:
        """The parameter Symbol called ``name``.

        A Symbol is matched by its name: ``sympy.Symbol('eta')`` finds the parameter
        ``eta`` even though the parameter carries assumptions (positive, ...) and so is
        a different sympy object; the parameter's own Symbol is returned.
        """
        key = name.name if isinstance(name, sp.Symbol) else name
        key = self._keyword_target(key) or key
        for p in self.params:
            if p.name == key:
                return p
        raise ValueError(f"{self.name}: no parameter {key!r}; parameters are {self.param_names}")

    def _keyword_target(self, keyword: str) -> str | None:
        """The parameter a keyword that is not a parameter name stands for: a legacy alias
        of this Formula, or a glossary keyword naming exactly one parameter
        (:mod:`analytic.glossary`); None if neither."""
        if keyword in self.param_names:
            return keyword
        for alias, target in self.aliases:
            if alias == keyword:
                return target
        from analytic.glossary import glossary_keyword_target

        return glossary_keyword_target(keyword, self.name, self.param_names)

    def _canonical(self, kwargs: dict) -> dict:
        """``kwargs`` with legacy aliases and glossary keywords renamed to parameter names."""
        if all(k in self.param_names for k in kwargs):
            return kwargs
        out: dict = {}
        for key, value in kwargs.items():
            target = self._keyword_target(key) or key
            if target in out:
                given = [k for k in kwargs if (self._keyword_target(k) or k) == target]
                raise TypeError(f"{self.name}: {given} all name the parameter {target!r}; give one")
            out[target] = value
        return out

    # -- evaluation -----------------------------------------------------------------
    @property
    def evaluated_expr(self):
        """What ``f.jax`` compiles: ``evaluate_as`` where it was written for this ``expr``, else ``expr``."""
        stable = self.evaluate_as
        if stable is None or stable.for_expr != self.expr:
            return self.expr
        return stable.exprs if isinstance(self.expr, tuple) else stable.exprs[0]

    @functools.cached_property
    def jax(self):
        """``jax.jit`` of the lambdified expression; positional args in ``params`` order.

        Broadcasts its arguments against each other (a parameter the expression does
        not depend on still shapes the output), does no range checking, and may be
        used under ``jax.vmap``/``jax.grad``/``jax.jit``.
        """
        raw = sp.lambdify(self.params, self.evaluated_expr, modules="jax")
        is_tuple = isinstance(self.expr, tuple)

        def evaluate(*args):
            args = [jnp.asarray(a) for a in args]
            shape = jnp.broadcast_shapes(*(a.shape for a in args)) if args else ()
            dtype = jnp.result_type(*args) if args else jnp.result_type(float)
            if not jnp.issubdtype(dtype, jnp.inexact):
                dtype = jnp.result_type(float)
            # One shape for all: lambdify prints And/Or of conditions as jnp.asarray([...]) of them,
            # which needs equal shapes (a scalar c next to an array alpha would not stack).
            out = raw(*jnp.broadcast_arrays(*args)) if args else raw()

            def shaped(x):
                return jnp.broadcast_to(jnp.asarray(x, dtype=dtype), shape)

            return tuple(shaped(x) for x in out) if is_tuple else shaped(out)

        evaluate.__name__ = self.name.replace(".", "_")
        evaluate.__doc__ = f"{self.name}({', '.join(self.param_names)}) = {self.expr}"
        return jax.jit(evaluate)

    def __call__(self, *args, **kwargs):
        """Evaluate by keyword, after checking names and valid ranges."""
        if args:
            raise TypeError(
                f"{self.name} takes keyword arguments {self.param_names}; "
                f"use {self.name}.jax(...) for positional, unchecked evaluation"
            )
        names = self.param_names
        kwargs = self._canonical(kwargs)
        missing = [n for n in names if n not in kwargs]
        unknown = [k for k in kwargs if k not in names]
        if missing or unknown:
            raise TypeError(
                f"{self.name}: missing arguments {missing}, unknown arguments {unknown}; "
                f"expected exactly {names}"
            )
        values = [kwargs[n] for n in names]
        traced = [n for n in names if _is_traced(kwargs[n])]
        if traced:
            raise TypeError(
                f"{self.name}: the keyword call checks values and cannot be traced (jax.jit, vmap, "
                f"grad; traced: {traced}); inside traced code use {self.name}.jax("
                f"{', '.join(names)}), positional and unchecked, and check concrete inputs "
                f"beforehand with {self.name}.check_arguments(...)"
            )
        self.check_arguments(**kwargs)
        out = self.jax(*values)
        self._refuse_nan(out, kwargs)
        return out

    def _refuse_nan(self, out, kwargs) -> None:
        """A NaN at checked inputs is an error that names them, never a silent result."""
        for component in out if isinstance(out, tuple) else (out,):
            nan = np.isnan(np.asarray(component))
            if not nan.any():
                continue
            i = np.unravel_index(int(np.argmax(nan)), nan.shape) if nan.ndim else ()
            shown = ", ".join(
                f"{n} = {format_value(np.broadcast_to(np.asarray(v, dtype=float), nan.shape)[i])}"
                for n, v in kwargs.items())
            conditions = "; ".join(self.conditions)
            magnitudes = [abs(float(np.broadcast_to(np.asarray(v, dtype=float), nan.shape)[i]))
                          for v in kwargs.values()]
            extreme = any(m > 1e100 or 0 < m < 1e-100 for m in magnitudes)
            why = ("an intermediate result over- or underflows float64 at these magnitudes (inf - inf, "
                   "inf/inf, 0 * inf); rescale the inputs" if extreme else
                   "the closed form is undefined there (0/0, inf - inf or a stated condition violated)")
            raise ValueError(
                f"{self.name} is NaN at {shown}: {why}"
                + (f"; it is valid when: {conditions}" if conditions else "")
            )

    def check_arguments(self, caller: str | None = None, /, **kwargs) -> None:
        """Raise ``TypeError`` for a non-real value (bool, str, None, complex, a ragged
        list) and ``ValueError`` for a value outside its range, a NaN/inf, a shape clash
        or a violated constraint. Traced values are skipped (their shapes still count).

        ``caller`` (positional) is the name the messages start with: a composite that
        checks its inputs with a Formula it is built from passes its own name, so the
        user reads the function they called (``arora_singular_value: parameter 's' ...``).
        """
        who = caller or self.name
        kwargs = self._canonical(kwargs)
        shapes = {}
        for n, v in kwargs.items():
            if _is_traced(v):
                shapes[n] = jnp.shape(v)
                continue
            a = real_array(who, n, v)
            shapes[n] = a.shape
            bad = ~np.isfinite(a)
            if bad.any():
                raise ValueError(
                    f"{who}: parameter {n!r} = {format_value(float(a[bad].flat[0]))} is not finite; "
                    f"valid range is {_describe_domain(self.domain(n))}"
                )
            dom = self.domain(n)
            outside = ~_in_domain(a, dom)
            if outside.any():
                raise ValueError(f"{who}: {_outside_message(n, a[outside].flat[0], dom)}")
        try:
            np.broadcast_shapes(*shapes.values())
        except ValueError:
            raise ValueError(
                f"{who}: argument shapes do not broadcast: "
                + ", ".join(f"{n}{s}" for n, s in shapes.items())
            ) from None
        for rel, holds in zip(self.constraints, self._constraint_tests):
            names = sorted(s.name for s in rel.free_symbols)
            if any(_is_traced(kwargs[n]) for n in names):
                continue
            values = [np.asarray(kwargs[n], dtype=float) for n in names]
            ok = np.broadcast_to(holds(*values), np.broadcast_shapes(*(v.shape for v in values)))
            if not ok.all():
                i = np.unravel_index(int(np.argmin(ok)), ok.shape) if ok.ndim else ()
                shown = ", ".join(f"{n} = {float(np.broadcast_to(v, ok.shape)[i])}"
                                  for n, v in zip(names, values))
                raise ValueError(f"{who}: parameters must satisfy {rel}, got {shown}")

    @functools.cached_property
    def _constraint_tests(self):
        return tuple(sp.lambdify(sorted(rel.free_symbols, key=lambda s: s.name), rel, "numpy")
                     for rel in self.constraints)

    # -- symbolic operations --------------------------------------------------------
    def _with_expr(self, expr, name: str, derivation: str) -> Formula:
        free = _free_symbols(expr)
        params = [p for p in self.params if p in free]
        params += sorted((s for s in free if s not in set(params)), key=lambda s: s.name)
        kept = {p.name for p in params}
        return Formula(
            name=name,
            expr=expr,
            params=tuple(params),
            source=self.source,
            derived=True,
            derivation=derivation,
            conditions=self.conditions,
            domains=tuple((n, d) for n, d in self.domains if n in kept),
            description="",
            constraints=tuple(r for r in self.constraints if r.free_symbols <= set(params)),
            aliases=self.aliases,
        )

    def diff(self, symbol: str | sp.Symbol, n: int = 1) -> Formula:
        """The ``n``-th derivative with respect to a parameter, as a new Formula.

        Example: sensitivity of the optimal GD rate to the condition number,
        ``get("linreg.optimal_rate").diff("kappa")`` = 2 / (kappa + 1)**2.
        """
        sym = self.symbol(symbol)
        exprs = _as_expr_tuple(self.expr)
        d = tuple(sp.simplify(sp.diff(e, sym, n)) for e in exprs)
        expr = d if isinstance(self.expr, tuple) else d[0]
        order = "" if n == 1 else f"^{n}"
        return self._with_expr(
            expr, f"d{order}[{self.name}]/d{sym.name}{order}",
            f"sympy.diff of {self.name} with respect to {sym.name}" + (f" ({n} times)" if n > 1 else ""),
        )

    def subs(self, values: Mapping | None = None, /, **kwargs) -> Formula:
        """Substitute numbers or expressions for parameters, as a new Formula.

        ``f.subs(lam_min=1)`` or ``f.subs({lam_max: kappa * lam_min})``; parameters
        not substituted remain, new symbols in the substituted expressions join them.
        """
        mapping = dict(values or {})
        mapping.update(kwargs)
        if not mapping:
            raise ValueError(f"{self.name}.subs: nothing to substitute")
        resolved = {}
        for k, v in mapping.items():
            sym = self.symbol(k)
            if isinstance(v, (bool, np.bool_)) or v is None or isinstance(v, (str, bytes)):
                raise TypeError(f"{self.name}.subs: {sym.name} must be a number or a sympy expression, "
                                f"got {format_value(v)}")
            val = sp.sympify(v.item() if isinstance(v, np.generic) else v)
            if val.free_symbols or not isinstance(val, sp.Expr):
                resolved[sym] = val  # an expression: checked below where sympy can decide
                continue
            if not (val.is_real and val.is_finite):
                raise ValueError(f"{self.name}.subs: {sym.name} = {format_value(v)} is not a finite real")
            dom = self.domain(sym.name)
            if not _in_domain(np.asarray(float(val)), dom):
                raise ValueError(f"{self.name}.subs: {sym.name} = {format_value(v)} is outside its valid "
                                 f"range {_describe_domain(dom)}")
            resolved[sym] = val
        for rel in self.constraints:  # relations the substituted values already decide
            if rel.subs(resolved) is sp.false:
                raise ValueError(f"{self.name}.subs: the values violate {rel} ("
                                 + ", ".join(f"{s.name} = {resolved[s]}" for s in rel.free_symbols
                                             if s in resolved) + ")")
        exprs = tuple(e.subs(resolved) for e in _as_expr_tuple(self.expr))
        expr = exprs if isinstance(self.expr, tuple) else exprs[0]
        shown = ", ".join(f"{k.name}={v}" for k, v in resolved.items())
        out = self._with_expr(expr, f"{self.name}[{shown}]", f"{self.name} with {shown} substituted")
        if self.evaluated_expr is not self.expr:
            stable = tuple(e.subs(resolved) for e in _as_expr_tuple(self.evaluated_expr))
            out = dataclasses.replace(out, evaluate_as=stable if isinstance(expr, tuple) else stable[0])
        return out

    # -- display ----------------------------------------------------------------------
    def latex(self) -> str:
        """LaTeX of the expression (a tuple is shown as a list)."""
        return sp.latex(self.expr)

    def pretty(self) -> str:
        """Unicode pretty-printed expression."""
        return sp.pretty(self.expr, use_unicode=True)

    def describe(self) -> str:
        """A multi-line summary: expression, parameters and ranges, provenance."""
        lines = [f"{self.name}({', '.join(self.param_names)})"]
        if self.description:
            lines.append(f"  {self.description}")
        lines.append("  = " + self.pretty().replace("\n", "\n    "))
        for p in self.params:
            lines.append(f"  {p.name} in {_describe_domain(self.domain(p.name))}")
        how = self.derivation or "-"
        kind = "derived" if self.derived else "stated"
        # Say "derived"/"stated" once, even when the derivation text starts with the word.
        how = re.sub(rf"^{kind}\b[:,]?\s*", "", how, flags=re.IGNORECASE) or "-"
        lines.append(f"  {kind}: {how}")
        for rel in self.constraints:
            lines.append(f"  requires {rel}")
        for cond in self.conditions:
            lines.append(f"  valid when: {cond}")
        lines.append(f"  source: {self.source}")
        return "\n".join(lines)

    def _repr_latex_(self) -> str:
        return f"$\\displaystyle {self.latex()}$"

    def _repr_pretty_(self, printer, cycle) -> None:  # IPython
        printer.text(self.describe())

    def __str__(self) -> str:
        return self.describe()

    def __repr__(self) -> str:
        return f"Formula({self.name!r}, {self.expr}, params={self.param_names})"
