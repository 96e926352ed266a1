r"""Compute-optimal allocation of a parametric loss law under the budget $C = 6ND$.

Model statement (Hoffmann et al. 2022, arXiv:2203.15556v1, eq. (2)):
$L(N, D) = E + A/N^\alpha + B/D^\beta$, with training compute $C = 6ND$ FLOPs.
Minimising $L$ on the budget is a Lagrange problem: stationarity of
$L - \mu(6ND - C)$ in $N$ and $D$ gives $N\,\partial_N L = D\,\partial_D L$, i.e.
$\alpha A N^{-\alpha} = \beta B D^{-\beta}$, which sympy solves with $6ND = C$:

$$N_{opt}(C) = G\,(C/6)^{a},\quad D_{opt}(C) = G^{-1}(C/6)^{b},\quad
G = \Big(\frac{\alpha A}{\beta B}\Big)^{1/(\alpha+\beta)},\quad
a = \frac{\beta}{\alpha+\beta},\ b = \frac{\alpha}{\alpha+\beta}$$

(Hoffmann et al. eq. (4) is the published form; the tests assert it). The exponents
are $d\log N_{opt}/d\log C$ and $d\log D_{opt}/d\log C$ of the solution.

Kaplan et al. 2020 (arXiv:2001.08361v1) eq. (1.5),
$L(N, D) = [(N_c/N)^{\alpha_N/\alpha_D} + D_c/D]^{\alpha_D}$, under the same budget:
$L$ is an increasing function of the bracket, so the optimum minimises the bracket, and
the same Lagrange condition gives $N_{opt} \propto C^{\alpha_D/(\alpha_N+\alpha_D)}$
(0.56 at their $\alpha_N = 0.076$, $\alpha_D = 0.095$), not their headline $0.73$
(their sec. 6), which comes from $L(N, S_{min})$ with the critical batch size
(models trained to convergence-limited step counts, not to a fixed token count).

Equation numbers are as this project reads the pinned versions; they were not
re-checked against the PDFs in the session that wrote this module.
"""

from __future__ import annotations

import functools

import sympy as sp

from analytic._edges import powers_in_logs
from analytic._registry import Formulas
from analytic.formula import Formula
from analytic.references import cite
from analytic.scaling._symbols import A, B, C, D, D_c, E, N, N_c, alpha_D, alpha_N
from analytic.symbols import alpha, beta

FORMULAS = Formulas("scaling")
_HOFFMANN = cite("hoffmann2022", "eq. (2) (the law) and eq. (4) (its compute-optimal frontier)")
_KAPLAN = cite("kaplan2020", "eq. (1.5)")
_POSITIVE = sp.Interval.open(0, sp.oo)
# The shared ``beta`` (momentum coefficient) is nonnegative; an exponent of the law is > 0.
_EXPONENT_DOMAINS = {"beta": _POSITIVE}

# Local positive reals for the algebra (N is an integer Symbol in the catalogue; the
# optimum is not); the results are rewritten in the catalogue's symbols.
_n, _d = sp.symbols("n d", positive=True)
_mu = sp.Symbol("mu", real=True)  # the multiplier (negative here: L falls with N and D)
_b = sp.Symbol("b_exp", positive=True)


def _law(n, d, data_exponent):
    """The model statement L(N, D) = E + A / N^alpha + B / D^beta."""
    return E + A / n**alpha + B / d**data_exponent


def _lagrange_optimum(law, n, d):
    """Stationary point of ``law`` on 6 n d = C.

    Stationarity of ``law - mu (6 n d - C)`` gives dL/dn = 6 mu d and dL/dd = 6 mu n;
    eliminating mu leaves the balance n dL/dn = d dL/dd. For a sum of power laws both
    sides are single powers, so in log coordinates (n = e^x, d = e^y) the balance and
    the budget x + y = log(C/6) are two linear equations (sympy.linsolve).
    """
    lagrangian = law - _mu * (6 * n * d - C)
    (mu_n,) = sp.solve(sp.diff(lagrangian, n), _mu)
    residual = sp.diff(lagrangian, d).subs(_mu, mu_n)
    lhs, rhs = -n * sp.diff(law, n), -d * sp.diff(law, d)  # both > 0: L falls with n and d
    if sp.simplify(residual - (lhs - rhs) / d) != 0:
        raise RuntimeError("eliminating mu did not give the balance n dL/dn = d dL/dd")
    x, y = sp.symbols("x y", real=True)
    logs = {n: sp.exp(x), d: sp.exp(y)}
    balance = sp.expand_log(sp.log(lhs.subs(logs)) - sp.log(rhs.subs(logs)), force=True)
    budget = x + y - sp.log(C / 6)
    ((x_opt, y_opt),) = sp.linsolve([balance, budget], [x, y])
    def power(log_value):
        return sp.exp(sp.logcombine(sp.factor_terms(log_value), force=True))

    return power(x_opt), power(y_opt)


@functools.cache
def _optimum():
    n_opt, d_opt = _lagrange_optimum(_law(_n, _d, _b), _n, _d)
    return n_opt.subs(_b, beta), d_opt.subs(_b, beta)


@FORMULAS.register("chinchilla_loss")
def _chinchilla_loss() -> Formula:
    return Formula(
        expr=_law(N, D, beta),
        params=(N, D, E, A, B, alpha, beta),
        source=cite("hoffmann2022", "eq. (2)"),
        derived=False,
        derivation="stated: the parametric law fitted in Approach 3 (the model statement here)",
        domains=_EXPONENT_DOMAINS,
        description="parametric loss of a model with N parameters trained on D tokens",
    )


@FORMULAS.register("optimal_params")
def _optimal_params() -> Formula:
    n_opt, _ = _optimum()
    return Formula(
        expr=n_opt,
        params=(C, A, B, alpha, beta),
        source=_HOFFMANN,
        derived=True,
        derivation="Lagrange conditions of E + A/N^alpha + B/D^beta - mu (6 N D - C): "
                   "sympy.solve of alpha A N^-alpha = beta B D^-beta with 6 N D = C",
        conditions=("C = 6 N D FLOPs (forward + backward pass per token)",),
        domains=_EXPONENT_DOMAINS,
        description="compute-optimal number of parameters N_opt(C)",
        evaluate_as=powers_in_logs(n_opt),  # C**beta overflows for beta ~ 1e2, the result need not
    )


@FORMULAS.register("optimal_tokens")
def _optimal_tokens() -> Formula:
    _, d_opt = _optimum()
    return Formula(
        expr=d_opt,
        params=(C, A, B, alpha, beta),
        source=_HOFFMANN,
        derived=True,
        derivation="Lagrange conditions as for optimal_params; D_opt from the same sympy.solve",
        conditions=("C = 6 N D FLOPs",),
        domains=_EXPONENT_DOMAINS,
        description="compute-optimal number of training tokens D_opt(C)",
        evaluate_as=powers_in_logs(d_opt),
    )


def _elasticity(expr) -> sp.Expr:
    """d log(expr) / d log C, simplified (expr must be a power law in C)."""
    return sp.simplify(sp.expand_log(C * sp.diff(expr, C) / expr, force=True))


@FORMULAS.register("params_exponent")
def _params_exponent() -> Formula:
    return Formula(
        expr=_elasticity(_optimal_params().expr),
        params=(alpha, beta),
        source=_HOFFMANN,
        derived=True,
        derivation="d log N_opt / d log C of optimal_params (sympy.diff, simplify)",
        domains=_EXPONENT_DOMAINS,
        description="exponent a in N_opt ~ C^a",
    )


@FORMULAS.register("tokens_exponent")
def _tokens_exponent() -> Formula:
    return Formula(
        expr=_elasticity(_optimal_tokens().expr),
        params=(alpha, beta),
        source=_HOFFMANN,
        derived=True,
        derivation="d log D_opt / d log C of optimal_tokens (sympy.diff, simplify)",
        domains=_EXPONENT_DOMAINS,
        description="exponent b in D_opt ~ C^b",
    )


@FORMULAS.register("optimal_loss")
def _optimal_loss() -> Formula:
    expr = _law(_optimal_params().expr, _optimal_tokens().expr, beta)
    return Formula(
        expr=sp.powsimp(expr),
        params=(C, E, A, B, alpha, beta),
        source=_HOFFMANN,
        derived=True,
        derivation="chinchilla_loss at (optimal_params, optimal_tokens) (sympy.powsimp)",
        domains=_EXPONENT_DOMAINS,
        description="loss on the compute-optimal frontier L(N_opt(C), D_opt(C))",
        # x**(1/(alpha+beta)) under- or overflows for small exponents even where L is O(1)
        evaluate_as=powers_in_logs(sp.powsimp(expr)),
    )


@FORMULAS.register("kaplan_params_exponent")
def _kaplan_params_exponent() -> Formula:
    ratio = alpha_N / alpha_D
    bracket = (N_c / _n) ** ratio + D_c / _d  # L = bracket^alpha_D is increasing in it
    n_opt, _ = _lagrange_optimum(bracket, _n, _d)
    return Formula(
        expr=_elasticity(n_opt),
        params=(alpha_N, alpha_D),
        source=_KAPLAN,
        derived=True,
        derivation="Lagrange conditions of [(N_c/N)^(alpha_N/alpha_D) + D_c/D] on 6 N D = C "
                   "(the monotone power alpha_D does not move the optimum), then d log N_opt / d log C",
        conditions=("models trained on D tokens at a fixed budget, as Chinchilla assumes; Kaplan et al.'s "
                    "headline N ~ C^0.73 comes from L(N, S_min) at the critical batch size instead",),
        description="exponent of N_opt ~ C^a that Kaplan et al.'s L(N, D) gives under C = 6 N D",
    )


@FORMULAS.register("kaplan_loss")
def _kaplan_loss() -> Formula:
    return Formula(
        expr=((N_c / N) ** (alpha_N / alpha_D) + D_c / D) ** alpha_D,
        params=(N, D, N_c, D_c, alpha_N, alpha_D),
        source=_KAPLAN,
        derived=False,
        derivation="stated: Kaplan et al.'s joint fit of the loss in parameters and tokens",
        description="Kaplan et al. 2020 L(N, D), eq. (1.5)",
    )
