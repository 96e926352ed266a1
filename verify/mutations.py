"""Planted mistakes: run checks against wrong Formulas and count the ones they catch.

Two tables. :data:`MISTAKES` declares plausible hand-derivation mistakes, one per
entry (a factor 2, a dropped term, a wrong power, a sign, a swapped parameter), each
written as the wrong expression or a substitution in the Formula's own parameter
names; :func:`hunt` runs every selected check that uses that Formula with the wrong one
and reports the first *numeric* row that fails (a check that only raises does not
count as a catch). ``python -m verify --mutate [NAMES] --quick`` prints that table for
the mistakes whose Formula the selected checks use; ``docs/mutations.md`` records it.

The *generated* table (``--mutate --generated``): :func:`kill_table` runs each selected
check once per mechanical mutation of each Formula it declares in ``uses`` (a factor
11/10 or 2, a dropped additive term, an exponent off by one, a flipped sign of one term)
and records whether a row failed (the mutation is *killed*), whether only an exception
caught it, or whether it *survived*.

Example:
    >>> import sympy as sp
    >>> from analytic.formula import Formula
    >>> x = sp.Symbol("x", positive=True)
    >>> f = Formula("toy.f", 1 + x + x**2, (x,), source="toy", derived=True)
    >>> [label for label, _ in mutations(f)]
    ['x 11/10', 'x 2', 'drop 1', 'drop x', 'drop x**2', 'power of x**2 + 1', 'sign of 1']
    >>> planted(Mistake("linreg", "linreg.critical_lr", "a factor 2 lost", "1/lam_max")).expr
    1/lam_max
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Iterable, Iterator
from typing import NamedTuple

import sympy as sp

from verify import core

__all__ = ["Mistake", "MISTAKES", "planted", "Catch", "hunt", "mistakes_for", "format_catches",
           "markdown_table", "Mutation", "mutations", "kill_table", "format_table"]

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


# --- declared plausible mistakes ------------------------------------------------------
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


def _m(formula, what, wrong="", **subs):
    return Mistake(formula.split(".")[0], formula, what, wrong, tuple(subs.items()))


MISTAKES: tuple[Mistake, ...] = (
    # linreg
    _m("linreg.critical_lr", "a factor 2 lost: 1/lam_max", "1/lam_max"),
    _m("linreg.optimal_lr", "a factor 2 lost: 1/(lam_max + lam_min)", "1/(lam_max + lam_min)"),
    _m("linreg.gd_mode_error", "the loss's power for the error: (1 - eta lam)^(2t)", "e0*(1 - eta*lam)**(2*t)"),
    _m("linreg.ridgeless_risk", "underparameterised variance without gamma: sigma2/(1 - gamma)",
       "Piecewise((sigma2/(1 - gamma), gamma < 1), ((gamma**2*r2 - 2*gamma*r2 + gamma*sigma2 + r2)"
       "/(gamma*(gamma - 1)), True))"),
    # kernels
    _m("kernels.relu_nngp", "dropped the sin(theta) term of the arc-cosine kernel",
       "k12*(pi - acos(k12/(sqrt(k11)*sqrt(k22))))/(2*pi)"),
    _m("kernels.erf_nngp", "the factor 2 inside the arcsine lost", "2*asin(k12/(sqrt(2*k11 + 1)*sqrt(2*k22 + 1)))/pi"),
    _m("kernels.relu_derivative", "a factor 2: (pi - theta)/pi", "(pi - acos(k12/(sqrt(k11)*sqrt(k22))))/pi"),
    _m("kernels.erf_derivative", "wrong power: the square root of the determinant forgotten",
       "4/(pi*(-4*k12**2 + (2*k11 + 1)*(2*k22 + 1)))"),
    _m("kernels.relu_variance_fixed_point", "the ReLU 1/2 forgotten: sigma_b^2/(1 - sigma_w^2)",
       "sigma_b**2/(1 - sigma_w**2)"),
    _m("kernels.erf_chi1", "wrong power: 1/(1 + 4q) instead of 1/sqrt(1 + 4q)", "4*sigma_w**2/(pi*(4*q + 1))"),
    _m("kernels.relu_chi1", "the ReLU 1/2 forgotten: sigma_w^2", "sigma_w**2"),
    # momentum
    _m("momentum.heavy_ball_critical_alpha", "sign: 2(1 - beta)/lam", "2*(1 - beta)/lam"),
    _m("momentum.nesterov_critical_alpha", "the heavy-ball limit for Nesterov (dropped 1 + 2 beta)",
       "2*(beta + 1)/lam"),
    _m("momentum.heavy_ball_optimal_beta", "wrong power: the rate for beta (square forgotten)",
       "(sqrt(kappa) - 1)/(sqrt(kappa) + 1)"),
    _m("momentum.nesterov_rate", "wrong power of kappa: 1 - 1/kappa", "(kappa - 1)/kappa"),
    _m("momentum.heavy_ball_optimal_alpha", "the square forgotten: 4/(sqrt(L) + sqrt(mu))",
       "4/(sqrt(L) + sqrt(mu))"),
    # nqm
    _m("nqm.max_stable_lr", "sign of p in the exponent: h^(-p-1)", "2*(beta + 1)*h**(-p - 1)"),
    _m("nqm.sgd_steady_state_loss", "the alpha^2 h^2 term dropped from 1 - (1 - alpha h)^2",
       "Piecewise((alpha*c/(4*B), alpha < 2/h), (oo, True))"),
    _m("nqm.sgd_mean", "off by one step: (1 - alpha h)^(t + 1)", "e0*(1 - alpha*h)**(t + 1)"),
    _m("nqm.sgd_expected_loss", "the mean's power for the second moment: r^t with r = 1 - alpha h", t="t/2"),
    # deeplinear
    _m("deeplinear.saxe_mode_strength", "time scale off by 2: exp(s t / tau)", t="t/2"),
    _m("deeplinear.symmetric_eigenvalue", "time scale off by 2: exp(2 s t)", t="2*t"),
    _m("deeplinear.arora_singular_value_rate", "wrong power: sigma^(2 - 1/N)", "N*sigma**(2 - 1/N)*(s - sigma)"),
    _m("deeplinear.linear_mode_strength", "time scale off by 2: exp(-2t)", t="2*t"),
    # catapult
    _m("catapult.max_lr", "a factor 2: 8/lam0", "8/lam0"),
    _m("catapult.critical_lr", "a factor 2 lost: 1/lam0", "1/lam0"),
    _m("catapult.uv_map", "a factor 2 lost in the kernel update (2 f (y - f)/n instead of 4)",
       ("eta**2*(f**3/n - 2*f**2*y/n + f*y**2/n) + eta*(-f*lam + lam*y) + f",
        "eta**2*(f**2*lam/n - 2*f*lam*y/n + lam*y**2/n) + eta*(-2*f**2/n + 2*f*y/n) + lam")),
    # eos
    _m("eos.heavy_ball_sharpness_threshold", "sign: 2(1 - beta)/eta", "2*(1 - beta)/eta"),
    _m("eos.nesterov_sharpness_threshold", "the heavy-ball threshold for Nesterov (dropped 1 + 2 beta)",
       "2*(beta + 1)/eta"),
    _m("eos.gd_sharpness_threshold", "a factor 2 lost: 1/eta", "1/eta"),
    # optimizers
    _m("optimizers.adam_sharpness_threshold", "dropped (1 + beta1): 2/(eta (1 - beta1))", "2/(eta*(1 - beta1))"),
    _m("optimizers.adam_noise_rms_update", "dropped 1/(1 + beta1): eta sqrt(1 - beta1)", "eta*sqrt(1 - beta1)"),
    _m("optimizers.natural_gradient_rate", "damping dropped from the denominator",
       "Abs(damping - eta*lam + lam)/lam"),
    # normalization
    _m("normalization.norm_growth", "wrong power of eta: w^2 + eta g^2", "w_sq + eta*g_sq"),
    _m("normalization.equilibrium_angular_update", "a factor sqrt 2 lost", "sqrt(eta*wd/(beta + 1))"),
    _m("normalization.dropout_ridge_penalty", "wrong power: p/(1 - p)^2", "p/(1 - p)**2"),
    _m("normalization.equilibrium_relaxation_rate", "the rate of |w|^2, not |w|^4: a factor 2 lost",
       "2*eta*wd/(1 - beta)"),
    _m("normalization.equilibrium_relaxation_rate", "the momentum factor of the angular update, 1/(1 + beta)",
       "4*eta*wd/(1 + beta)"),
    # scaling
    _m("scaling.params_exponent", "swapped parameters: alpha/(alpha + beta)", "alpha/(alpha + beta)"),
    _m("scaling.optimal_params", "swapped exponents: C^alpha for C^beta",
       "(A*C**alpha*alpha/(6**beta*B*beta))**(1/(alpha + beta))"),
    _m("scaling.noise_scale", "inverted: tr(H G)/tr(H Sigma)", "grad_curvature/noise_curvature"),
    _m("scaling.sgd_optimal_gain", "the 1/2 of the quadratic model forgotten",
       "batch*grad_sq**2/(batch*grad_curvature + noise_curvature)"),
    # games
    _m("games.extragradient_radius", "sign of the eta^2 sigma^2 term", "sqrt(eta**4*sigma**4 + eta**2*sigma**2 + 1)"),
    _m("games.simultaneous_gda_radius", "the modulus squared for the modulus: 1 + eta^2 sigma^2",
       "eta**2*sigma**2 + 1"),
    _m("games.optimistic_gda_optimal_step", "a factor 2: 1/sigma", "1/sigma"),
    _m("games.extragradient_max_step", "a factor 2: 2/sigma", "2/sigma"),
    # bilevel
    _m("bilevel.ift_sensitivity", "a power of (lam + ridge) lost", "-b/(lam + ridge)"),
    _m("bilevel.unrolled_sensitivity", "the T r^(T-1) term's sign flipped",
       "T*eta*(-b + w0*(lam + ridge))*(-eta*(lam + ridge) + 1)**(T - 1)/(lam + ridge) + "
       "b*(-eta*(lam + ridge) + 1)**T/(lam + ridge)**2 - b/(lam + ridge)**2"),
    _m("bilevel.greedy_lr_denominator", "the noise counted twice", "lam*(lam**2*second_moment + 2*noise)"),
    # implicit
    _m("implicit.factorisation_modified_loss", "eta/2 |grad L|^2 for eta/4 (the correction doubled)",
       "2*eta*(w1**2 + w2**2)*(-w1*w2 + y)**2 + (w1*w2 - y)**2"),
    _m("implicit.factorisation_balance_drift", "sign of the drift", "4*eta**2*(w1 - w2)*(w1 + w2)*(-w1*w2 + y)**2"),
    # signal
    _m("signal.kaiming_variance", "LeCun's 1/fan_in for ReLU", "1/fan_in"),
    _m("signal.depth_scale", "a factor 2: -2/log(chi)", "-2/log(chi)"),
    _m("signal.gradient_growth", "off by one layer: chi^(layers - 1)", "chi**(layers - 1)"),
    _m("signal.xavier_variance", "a factor 2 lost: 1/(fan_in + fan_out)", "1/(fan_in + fan_out)"),
    # methods
    _m("methods.qhm_spectral_radius", "the other convention of nu (nu <-> 1 - nu)", nu="1 - nu"),
    _m("methods.qhm_worst_case_rate", "the Hessian of x^T A x for 1/2 x^T A x (mu, L doubled)",
       mu="2*mu", L="2*L"),
)


def planted(mistake: Mistake):
    """The catalogue Formula with ``mistake`` made in it (a Formula that fails no validation)."""
    import analytic

    formula = analytic.get(mistake.formula)
    symbols = {p.name: p for p in formula.params}
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
    return [m for m in MISTAKES if m.formula in used]


def hunt(mistake: Mistake, checks: Iterable[core.Check], size: str = "quick",
         time_limit: float | None = 600.0) -> Catch:
    """Run the checks that use the mistaken Formula until a numeric row fails."""
    wrong = planted(mistake)
    start, exception = time.perf_counter(), None
    for chk in checks:
        args = {arg: wrong for arg, name in chk.uses if name == mistake.formula}
        if not args:
            continue
        ctx = core.Context(size="smoke" if chk.smoke and size == "smoke" else size, time_limit=time_limit)
        for result in core.run([chk], ctx, **args):
            if result.passed:
                continue
            if result.row.label in ("error", "time limit"):
                exception = exception or (chk.name, result.row.reason)
                break
            return Catch(mistake, "caught", chk.name, result.row.label, time.perf_counter() - start)
    if exception:
        return Catch(mistake, "exception only", *exception, time.perf_counter() - start)
    return Catch(mistake, "missed", "", "", time.perf_counter() - start)


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
