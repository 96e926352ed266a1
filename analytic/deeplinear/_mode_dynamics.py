r"""The per-mode gradient-flow dynamics of deep linear networks, derived from the mode loss.

Model statement: with whitened inputs and a balanced init aligned with the singular
vectors of $\Sigma^{yx}$, mode $a$ of a depth-$N$ network with layer strengths $a_j$
sees the scalar loss $\tfrac12(s - \prod_j a_j)^2$. Every Formula here is derived by
sympy from that loss (gradient flow: ``diff``, ``dsolve``, ``integrate``, ``solve``).
Sources: Saxe, McClelland, Ganguli 2013 (two layers); Arora, Cohen, Hazan 2018 (depth N).
"""

from __future__ import annotations

import sympy as sp
from sympy.codegen.cfunctions import expm1

from analytic._registry import Formulas
from analytic.deeplinear._hypergeometric import hyp2f1_one
from analytic.deeplinear._symbols import N, s, sigma, sigma0, sigmaf, tau, u, u0, uf
from analytic.formula import Formula
from analytic.references import cite
from analytic.symbols import t

FORMULAS = Formulas("deeplinear")
_SAXE = cite("saxe2013", "exact solutions for two-layer networks (tau du/dt = 2u(s - u), its "
                         "sigmoidal solution and learning time)")
_ARORA = cite("arora2018", "Theorem 1 (end-to-end dynamics, balanced init) and the singular-value "
                           "dynamics d sigma/dt = N sigma^(2-2/N)(-<grad L, u v^T>)")


# --- model statement: the per-mode scalar loss -------------------------------------------
def _mode_loss(target: sp.Expr, strengths) -> sp.Expr:
    """Loss of one aligned mode, 1/2 (s - prod_j a_j)^2 (whitened inputs, summed loss)."""
    return (target - sp.Mul(*strengths)) ** 2 / 2


def _two_layer_mode_rate() -> sp.Expr:
    """tau du/dt for u = a b under gradient flow of the mode loss, at balance a = b."""
    a, b = sp.symbols("a b", positive=True)
    loss = _mode_loss(s, (a, b))
    da, db = -sp.diff(loss, a), -sp.diff(loss, b)  # tau da/dt, tau db/dt
    du = sp.expand(da * b + a * db)  # chain rule for u = a b
    return sp.factor(du.subs({a: sp.sqrt(u), b: sp.sqrt(u)}))


def _depth_n_rate() -> sp.Expr:
    """d sigma/dt for sigma = a^N, all N layers at strength a, gradient flow (tau = 1).

    Layer j sees 1/2 (s - a_j a^(N-1))^2 when the others sit at a; by symmetry every
    layer moves the same way, and d sigma/dt = N a^(N-1) da/dt.
    """
    a, a_j = sp.symbols("a a_j", positive=True)
    layer_rate = -sp.diff(_mode_loss(s, (a_j, a ** (N - 1))), a_j).subs(a_j, a)
    rate = sp.diff(a**N, a) * layer_rate
    rate = rate.subs(a, sigma ** (1 / N))
    return sp.factor(sp.powsimp(sp.expand_power_base(rate, force=True), force=True))


@FORMULAS.register("saxe_mode_strength")
def _saxe_mode_strength() -> Formula:
    mode = sp.Function("u")
    ode = sp.Eq(tau * mode(t).diff(t), _two_layer_mode_rate().subs(u, mode(t)))
    solution = sp.dsolve(ode, mode(t), ics={mode(0): u0}, hint="Bernoulli").rhs  # logistic
    return Formula(
        expr=sp.simplify(solution),
        # Divided through by exp(2 s t / tau): no inf/inf once the exponential overflows, and
        # a denominator of two positive terms (no cancellation when s t / tau is tiny).
        evaluate_as=s * u0 / (s * sp.exp(-2 * s * t / tau) - u0 * expm1(-2 * s * t / tau)),
        params=(s, u0, tau, t),
        source=_SAXE,
        derived=True,
        derivation="tau du/dt = 2u(s - u) from gradient flow of 1/2 (s - a b)^2 at balance a = b, "
                   "u = a b; sympy.dsolve with u(0) = u0",
        conditions=("two-layer network, whitened inputs, balanced init aligned with the singular "
                    "vectors of the input-output correlation (small init approaches this)",
                    "tau = 1/learning rate of the summed loss 1/2 sum ||y - W2 W1 x||^2: then t "
                    "counts GD steps; equivalently tau = 1 and t = lr * steps",
                    "u0 > s is also exact (the strength decays to s)"),
        description="strength u = a b of one input-output mode of a two-layer linear network at time t",
    )


@FORMULAS.register("saxe_learning_time")
def _saxe_learning_time() -> Formula:
    trajectory = _saxe_mode_strength().expr
    roots = sp.solve(sp.Eq(trajectory, uf), t)
    # sympy also returns a branch through log(-sqrt(.)), complex for u0 < uf < s: keep the real one
    at = {s: 3, u0: sp.Rational(1, 10), uf: 2, tau: 1}
    (time,) = [r for r in roots if r.subs(at).evalf().is_extended_real]
    return Formula(
        expr=sp.simplify(sp.logcombine(sp.expand_log(time, force=True), force=True)),
        # The power taken out of the log: (ratio)**(tau / 2s) overflows for tau >> s.
        evaluate_as=tau / (2 * s) * (sp.log(uf / u0) + sp.log((s - u0) / (s - uf))),
        params=(s, u0, uf, tau),
        source=_SAXE,
        derived=True,
        derivation="sympy.solve of saxe_mode_strength(t) = uf for t",
        conditions=("0 < u0 < uf < s", "time in the units of saxe_mode_strength (GD steps when "
                    "tau = 1/lr)"),
        description="time for a two-layer mode strength to grow from u0 to uf",
        constraints=(sp.StrictLessThan(u0, uf), sp.StrictLessThan(uf, s)),
    )


@FORMULAS.register("linear_mode_strength")
def _linear_mode_strength() -> Formula:
    mode = sp.Function("sigma")
    ode = sp.Eq(mode(t).diff(t), -sp.diff(_mode_loss(s, (mode(t),)), mode(t)))
    solution = sp.dsolve(ode, mode(t), ics={mode(0): sigma0}).rhs
    return Formula(
        expr=sp.expand(solution),
        params=(s, sigma0, t),
        source=cite("arora2018", "depth-1 baseline of Theorem 1"),
        derived=True,
        derivation="sympy.dsolve of d sigma/dt = -d/d sigma (1/2 (s - sigma)^2), sigma(0) = sigma0",
        conditions=("depth 1 (W x): exponential approach, no plateau; t = lr * steps",),
        description="a singular value of a depth-1 linear model under gradient flow",
    )


@FORMULAS.register("arora_singular_value_rate")
def _arora_singular_value_rate() -> Formula:
    return Formula(
        expr=_depth_n_rate(),
        params=(N, s, sigma),
        source=_ARORA,
        derived=True,
        derivation="d/dt a^N with da/dt = -d/da_j 1/2 (s - a_j a^(N-1))^2 at a_j = a, sigma = a^N "
                   "(sympy diff, powsimp)",
        conditions=("balanced, aligned init; gradient flow with unit learning rate (t = lr * steps)",),
        description="d sigma/dt for a singular value of the end-to-end map of a depth-N linear network",
    )


def _antiderivative_time(depth: sp.Expr) -> sp.Expr:
    """int d sigma / rate(sigma) by sympy.integrate, real on 0 < sigma < s.

    Constants of integration are dropped where sympy's primitive is complex on that
    interval: log(sigma - s) -> log(s - sigma) (a shift by i pi), and the polar factor
    exp_polar(2 i pi) of the Lerch Phi argument -> 1 (the branch is irrelevant for
    sigma / s < 1). Lerch Phi(z, 1, c) is rewritten as 2F1(1, c; c + 1; z) / c.
    """
    rate = _arora_singular_value_rate().expr.subs(N, depth)
    primitive = sp.integrate(1 / rate, sigma)
    primitive = primitive.replace(sp.exp_polar, lambda *args: sp.Integer(1))
    primitive = sp.expand_log(sp.unpolarify(primitive), force=True)
    primitive = primitive.subs(sp.log(sigma - s), sp.log(s - sigma))
    # Phi(z, 1, a) = sum_k z^k / (k + a) = 2F1(1, a; a + 1; z) / a
    primitive = primitive.replace(
        lambda e: isinstance(e, sp.lerchphi) and e.args[1] == 1,
        lambda e: hyp2f1_one(e.args[2], e.args[0]) / e.args[2])
    return sp.simplify(sp.gammasimp(primitive))


@FORMULAS.register("arora_learning_time")
def _arora_learning_time() -> Formula:
    general = _antiderivative_time(N)
    two = _antiderivative_time(sp.Integer(2))
    time = sp.Piecewise(
        (sp.together(sp.expand_log(two.subs(sigma, sigmaf) - two.subs(sigma, sigma0), force=True)),
         sp.Eq(N, 2)),
        (general.subs(sigma, sigmaf) - general.subs(sigma, sigma0), True))
    return Formula(
        expr=time,
        params=(N, s, sigma0, sigmaf),
        source=_ARORA,
        derived=True,
        derivation="sympy.integrate of 1 / (N sigma^(2-2/N) (s - sigma)) d sigma (a Lerch Phi, "
                   "rewritten as 2F1(1, c; c+1; sigma/s) / c with c = 2/N - 1); N = 2 separately (log)",
        conditions=("0 < sigma0 < sigmaf < s; t = lr * steps", "N = 2 equals saxe_learning_time with tau = 1"),
        description="time for a depth-N end-to-end singular value to grow from sigma0 to sigmaf",
        constraints=(sp.StrictLessThan(sigma0, sigmaf), sp.StrictLessThan(sigmaf, s)),
    )


@FORMULAS.register("symmetric_eigenvalue")
def _symmetric_eigenvalue() -> Formula:
    # dB/dt = -sqrt(B) grad L(B) sqrt(B), L = 1/2 ||B - S||^2, grad L = B - S; with B and S
    # sharing eigenvectors each eigenvalue b sees db/dt = -sqrt(b) (b - s) sqrt(b).
    b = sp.Function("b")
    grad = sp.diff(_mode_loss(s, (b(t),)), b(t))
    ode = sp.Eq(b(t).diff(t), -sp.sqrt(b(t)) * grad * sp.sqrt(b(t)))
    solution = sp.dsolve(ode, b(t), ics={b(0): sigma0}, hint="Bernoulli").rhs  # logistic
    return Formula(
        expr=sp.simplify(solution),
        # Divided through by exp(s t): no inf/inf once the exponential overflows, and a
        # denominator of two positive terms (no cancellation when s t is tiny).
        evaluate_as=s * sigma0 / (s * sp.exp(-s * t) - sigma0 * expm1(-s * t)),
        params=(s, sigma0, t),
        source=cite("arora2018", "symmetric case B = A^2 (N = 2 with equal symmetric factors)"),
        derived=True,
        derivation="sympy.dsolve of db/dt = -sqrt(b) (b - s) sqrt(b), b(0) = sigma0 (an eigenvalue "
                   "of B commuting with the target S)",
        conditions=("B(0) commutes with S (e.g. B(0) = sigma0 I); GD on a symmetric A with step lr "
                    "and L(A^2) = 1/2 ||A^2 - S||^2 follows this flow at t = 4 lr steps",
                    "growth rate b (s - b) proportional to b: the big get bigger"),
        description="an eigenvalue of B = A^2 under dB/dt = -sqrt(B) grad L(B) sqrt(B)",
    )
