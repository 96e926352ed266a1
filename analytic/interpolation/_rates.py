r"""Mini-batch SGD on interpolating least squares: the paper's bound, and the exact rate.

Normalisation (pinned here): data $x_1..x_n \in \mathbb R^d$, labels $y_i = x_i^\top w^*$ (the
model interpolates), loss $L(w) = \tfrac1n\sum_i\tfrac12(x_i^\top w - y_i)^2$, Hessian
$H = \tfrac1n\sum_i x_ix_i^\top$ with largest eigenvalue $L$ ($\lambda_1$) and smallest non-zero $\mu$,
$\beta = \max_i|x_i|^2$ (``max_norm_sq``); SGD draws a batch of $m$ (``batch_size``) indices
uniformly *with replacement* and steps $w \leftarrow w - \tfrac\eta m\sum_{j}x_{i_j}(x_{i_j}^\top w - y_{i_j})$.
(With the loss $\tfrac1n\sum(\cdot)^2$ instead, every step size below halves.)

The paper's bound (Ma, Bassily & Belkin 2018, arXiv:1712.06559v3, sec. 3; theorem number
unconfirmed): with $e = w - w^*$ and $\hat H$ the batch's Hessian,
$\mathbb E|e'|^2 = |e|^2 - 2\eta e^\top He + \eta^2\mathbb E|\hat He|^2$ and
$\mathbb E|\hat He|^2 = \tfrac1m\mathbb E_i(x_i^\top e)^2|x_i|^2 + \tfrac{m-1}m|He|^2 \le
\tfrac{\beta + (m-1)L}{m}e^\top He$; with $e^\top He \ge \mu|e|^2$ sympy gets
$$g(\eta, m) = 1 - \eta\mu\Big(2 - \eta\frac{\beta + (m-1)L}{m}\Big)\quad(\text{``bound\_contraction''}),$$
its minimiser $\eta^*(m) = m/(\beta + (m-1)L)$ (``bound_optimal_lr``), the minimum
$g^*(m) = 1 - m\mu/(\beta + (m-1)L)$ (``bound_optimal_contraction``), and the critical batch
size where linear scaling of the batch-size-1 progress, $m(1 - g^*(1)) = m\mu/\beta$, meets the
saturation $\lim_{m\to\infty}(1 - g^*) = \mu/L$:
$m^* = \beta/L$ (``critical_batch_size``).

The exact rate (the second-moment recursion). In an axis-aligned design (each data point
along one coordinate; direction $k$ holds a fraction $p_k$ of the points, of squared norm
$\beta_k$, curvature $\lambda_k = p_k\beta_k$) the coordinates decouple: the batch holds
$S \sim \mathrm{Binomial}(m, p_k)$ points of direction $k$ and
$e_k' = (1 - \eta\beta_k S/m)e_k$, so sympy takes $\mathbb E$ over $S$:
$$\mathbb E e_k'^2 = g_k e_k^2,\quad g_k = 1 - 2\eta\lambda_k + \eta^2\Big(\frac{m-1}m\lambda_k^2 +
\frac{\lambda_k\beta_k}m\Big)\quad(\text{``mode\_contraction''}),$$
and $\mathbb E|e_t|^2$ decays like $(\max_k g_k)^t$. With all points of norm $\beta$ and
$H = \lambda I$ this *is* the bound ($\beta = d\lambda$); otherwise the bound is loose. For two
directions (curvatures $L > \mu$, squared norms $\beta_L$, $\beta_\mu$) the rate-optimal step
is where the stiff direction's $g_L$, rising, crosses the soft one's $g_\mu$, still falling:
$g_L = g_\mu$ at
$$\eta_{\rm exact}(m) = \frac{2m(L - \mu)}{(m-1)(L - \mu)(L + \mu) + L\beta_L - \mu\beta_\mu}
\quad(\text{``exact\_optimal\_lr''}),$$
valid while $\lambda_L/a_L \le \eta_{\rm exact} \le \lambda_\mu/a_\mu$ (each $g_k = 1 - 2\eta\lambda_k +
\eta^2 a_k$; the check verifies it). For $\mu \ll L$ and $\beta = \beta_L$ it is close to
$2\eta^*(m)$: the bound's step is about half the best one.
"""

from __future__ import annotations

import sympy as sp

from analytic._registry import Formulas
from analytic.formula import Formula
from analytic.interpolation._symbols import batch_size, max_norm_sq, norm_sq, norm_sq_soft, norm_sq_stiff
from analytic.references import cite
from analytic.symbols import L, eta, lam, mu

FORMULAS = Formulas("interpolation")

_BATCH = sp.Interval(1, sp.oo)
_SETUP = ("least squares that interpolates (y_i = x_i^T w*), loss (1/n) sum 1/2 (x_i^T w - y_i)^2, batches of "
          "batch_size indices drawn uniformly with replacement")
_AXIS = "axis-aligned design: each data point along one eigen-direction"


def _mode_expectation() -> sp.Expr:
    """E over S ~ Binomial(m, p) of (1 - eta norm_sq S / m)^2, with p = lam / norm_sq."""
    s, p = sp.Symbol("S", nonnegative=True), sp.Symbol("p", positive=True)
    m = batch_size
    square = sp.Poly(sp.expand((1 - eta * norm_sq * s / m) ** 2), s)
    moments = {0: 1, 1: m * p, 2: m * p * (1 - p) + m**2 * p**2}  # Binomial(m, p): E S, E S^2
    expectation = sum(c * moments[k[0]] for k, c in square.terms())
    return sp.expand(sp.simplify(expectation.subs(p, lam / norm_sq)))


@FORMULAS.register("mode_contraction")
def _mode_contraction() -> Formula:
    g = _mode_expectation()
    quadratic = sp.factor(g.coeff(eta, 2))
    return Formula(
        expr=1 - 2 * eta * lam + eta**2 * quadratic, params=(eta, lam, norm_sq, batch_size),
        source=cite("ma2018", "sec. 3 (mini-batch SGD on a quadratic; the exact second moment)"), derived=True,
        derivation="sympy: E over S ~ Binomial(m, lam / norm_sq) of (1 - eta norm_sq S / m)^2 (the per-step "
                   "factor of e_k^2), expanded and collected in eta",
        conditions=(_SETUP, _AXIS, "E e_k^2 is multiplied by this every step"),
        domains={"batch_size": _BATCH}, constraints=(lam <= norm_sq,),
        description="exact per-step contraction of E e_k^2 along one direction of an axis-aligned design",
    )


def _bound() -> sp.Expr:
    # E|e'|^2 = |e|^2 - 2 eta e^T H e + eta^2 E|H_batch e|^2 with E|H_batch e|^2 <= (beta + (m-1) L)/m e^T H e,
    # then e^T H e >= mu |e|^2 where the bracket is positive
    quad = sp.Symbol("quad", positive=True)  # e^T H e, for |e| = 1
    one_step = 1 - 2 * eta * quad + eta**2 * (max_norm_sq + (batch_size - 1) * L) / batch_size * quad
    return sp.collect(sp.expand(one_step.subs(quad, mu)), eta)


@FORMULAS.register("bound_contraction")
def _bound_contraction() -> Formula:
    return Formula(
        expr=_bound(), params=(eta, mu, L, max_norm_sq, batch_size),
        source=cite("ma2018", "sec. 3, the exponential-convergence bound of mini-batch SGD"), derived=True,
        derivation="sympy: 1 - 2 eta q + eta^2 (beta + (m - 1) L)/m q at q = e^T H e / |e|^2 = mu (the bound "
                   "E|H_batch e|^2 <= (beta + (m-1) L)/m e^T H e substituted)",
        conditions=(_SETUP, "an upper bound on E|e_{t+1}|^2 / |e_t|^2 for eta <= 2 m / (beta + (m-1) L)"),
        domains={"batch_size": _BATCH}, constraints=(mu <= L, L <= max_norm_sq),
        description="the paper's per-step contraction bound of E|w - w*|^2",
    )


@FORMULAS.register("bound_optimal_lr")
def _bound_optimal_lr() -> Formula:
    (optimum,) = sp.solve(sp.diff(_bound(), eta), eta)
    return Formula(
        expr=sp.factor(optimum), params=(L, max_norm_sq, batch_size),
        source=cite("ma2018", "sec. 3, optimal step size eta*(m)"), derived=True,
        derivation="sympy.solve of d/deta bound_contraction = 0",
        conditions=(_SETUP, "the step minimising the bound, not the exact rate (see exact_optimal_lr)"),
        domains={"batch_size": _BATCH}, constraints=(L <= max_norm_sq,),
        description="step size minimising the paper's convergence bound: m / (beta + (m - 1) L)",
    )


@FORMULAS.register("bound_optimal_contraction")
def _bound_optimal_contraction() -> Formula:
    best = sp.factor(sp.simplify(_bound().subs(eta, _bound_optimal_lr().expr)))
    return Formula(
        expr=1 - sp.factor(1 - best), params=(mu, L, max_norm_sq, batch_size),
        evaluate_as=1 - mu / (L + (max_norm_sq - L) / batch_size),
        source=cite("ma2018", "sec. 3, optimal convergence bound g*(m)"), derived=True,
        derivation="sympy: bound_contraction at bound_optimal_lr, simplified",
        conditions=(_SETUP,), domains={"batch_size": _BATCH}, constraints=(mu <= L, L <= max_norm_sq),
        description="the bound at its optimal step: 1 - m mu / (beta + (m - 1) L)",
    )


@FORMULAS.register("critical_batch_size")
def _critical_batch_size() -> Formula:
    m = batch_size
    speed = 1 - _bound_optimal_contraction().expr  # per-step progress of the bound, m mu / (beta + (m-1) L)
    linear = m * speed.subs(m, 1)  # linear scaling: m steps of batch size 1, m mu / beta
    saturated = sp.limit(speed, m, sp.oo)  # the saturation (a full-gradient step), mu / L
    (critical,) = sp.solve(sp.Eq(linear, saturated), m)
    return Formula(
        expr=sp.factor(critical), params=(L, max_norm_sq),
        source=cite("ma2018", "sec. 3, critical mini-batch size m*"), derived=True,
        derivation="sympy.solve of m (1 - g*(1)) = lim_{m -> oo} (1 - g*(m)), i.e. m mu / beta = mu / L, with "
                   "g* = bound_optimal_contraction",
        conditions=(_SETUP, "where linear scaling of the bound's per-step progress meets its saturation"),
        constraints=(L <= max_norm_sq,),
        description="critical batch size beta / L of the paper's bound",
    )


@FORMULAS.register("exact_optimal_lr")
def _exact_optimal_lr() -> Formula:
    m = batch_size
    stiff = _mode_contraction().expr.subs({lam: L, norm_sq: norm_sq_stiff})
    soft = _mode_contraction().expr.subs({lam: mu, norm_sq: norm_sq_soft})
    roots = [r for r in sp.solve(sp.expand(stiff - soft), eta) if r != 0]
    (crossing,) = roots
    stated = 2 * m * (L - mu) / ((m - 1) * (L - mu) * (L + mu) + L * norm_sq_stiff - mu * norm_sq_soft)
    assert sp.simplify(crossing - stated) == 0
    keep = sp.UnevaluatedExpr
    # numerator and denominator over m (L - mu): no overflow of (m - 1)(L - mu)(L + mu) or of L norm_sq_stiff
    stable = 2 / (keep(1 - 1 / m) * keep(L + mu)
                  + keep(keep(L * keep(norm_sq_stiff / m)) - keep(mu * keep(norm_sq_soft / m))) / keep(L - mu))
    return Formula(
        expr=stated, params=(mu, L, norm_sq_soft, norm_sq_stiff, batch_size), evaluate_as=stable,
        source=cite("ma2018", "sec. 3 (the setting); the exact optimum is derived here, not in the paper"),
        derived=True,
        derivation="sympy.solve of mode_contraction(stiff) = mode_contraction(soft) for eta != 0",
        conditions=(_SETUP, "two-direction axis-aligned design, curvatures L > mu",
                    "the exact rate-optimal step while the stiff direction's vertex lies below it and the "
                    "soft one's above it"),
        domains={"batch_size": _BATCH},
        constraints=(mu < L, L <= norm_sq_stiff, mu <= norm_sq_soft, mu * norm_sq_soft < L * norm_sq_stiff),
        description="exact rate-optimal step of mini-batch SGD on a two-direction interpolating design",
    )
