r"""Scale-invariant weights (a layer followed by batch or layer norm): norm growth and equilibrium.

Model statement. If $L(cw) = L(w)$ for all $c > 0$ then, differentiating in $c$ at 1,
$w^\top\nabla L(w) = 0$, and $\nabla L(cw) = \nabla L(w)/c$ (Arora, Li, Lyu 2019,
arXiv:1812.03981v2, Lemma 2.4). sympy shows both for a generic $L(w) = F(w/\lVert w\rVert)$
and then expands $\lVert w - \eta g\rVert^2$: without weight decay the squared norm grows
by exactly $\eta^2\lVert g\rVert^2$ per step.

With weight decay $\lambda$ (``wd``) and momentum, write $A = \lVert w_t\rVert^2$,
$B = \langle w_t, v_t\rangle$, $C = \lVert v_t\rVert^2$. For the update
$v' = \beta v + c_g g + c_w w$, $w' = w - \eta v'$ and $g \perp w$,

$$A' = A - 2\eta\langle w, v'\rangle + \eta^2 C',\quad \langle w, v'\rangle = \beta B + c_w A,
  \quad B' = \langle w, v'\rangle - \eta C'.$$

These are linear in $(A, B, C)$, so at a stationary state in expectation sympy solves them
for $\eta^2 E[C]/E[A] = E\lVert w'-w\rVert^2 / E\lVert w\rVert^2$: the squared relative
(angular) update per step, with no assumption on how $g_t$ correlates with $v_{t-1}$.
PyTorch form $(c_g, c_w) = (1, \lambda)$ gives $2\eta\lambda/(1+\beta)$ (Wan et al. 2021,
arXiv:2006.08419v4, Theorem 2); the EMA form $(1-\beta, (1-\beta)\lambda)$ gives
$2\eta\lambda(1-\beta)/(1+\beta)$.
"""

from __future__ import annotations

import sympy as sp
from sympy.codegen.cfunctions import hypot

from analytic._registry import Formulas
from analytic.formula import Formula
from analytic.normalization._symbols import beta1, g_sq, gw_sq, u_radial, u_sq, w_sq, wd
from analytic.references import cite
from analytic.symbols import beta, eta

FORMULAS = Formulas("normalization")
_UNIT = sp.Interval.Ropen(0, 1)


def scale_invariant_gradient(dim: int = 3):
    """(w, J, f): the gradient of L(w) = F(w / |w|) is J^T f, J = d(w/|w|)/dw, f = grad F there."""
    w = sp.Matrix(sp.symbols(f"w1:{dim + 1}", real=True))
    f = sp.Matrix(sp.symbols(f"f1:{dim + 1}", real=True))
    return w, (w / sp.sqrt(w.dot(w))).jacobian(w), f


@FORMULAS.register("norm_growth")
def _norm_growth() -> Formula:
    w, J, f = scale_invariant_gradient()
    # Euler: J w = d/dc (cw/|cw|) at c = 1 = 0, so w . grad L = (J w) . f = 0 for every F.
    if any(sp.simplify(entry) != 0 for entry in J * w):
        raise ArithmeticError("the gradient of F(w/|w|) should be orthogonal to w")
    c = sp.Symbol("c", positive=True)  # and grad L(c w) = grad L(w) / c
    if any(sp.simplify(entry) != 0 for entry in c * J.subs({x: c * x for x in w}, simultaneous=True) - J):
        raise ArithmeticError("the gradient of F(w/|w|) should scale as 1/|w|")
    g = J.T * f
    step = w - eta * g
    cross = sp.expand(step.dot(step) - w.dot(w) - eta**2 * g.dot(g))  # = -2 eta (J w) . f
    if sp.simplify(cross) != 0:
        raise ArithmeticError(f"|w - eta g|^2 - |w|^2 - eta^2 |g|^2 = {cross}, expected 0")
    return Formula(
        expr=w_sq + eta**2 * g_sq,
        params=(w_sq, eta, g_sq),
        source=cite("arora2019", "Lemma 2.4 and eq. (5) (no weight decay)"),
        derived=True,
        derivation="sympy: for L(w) = F(w/|w|), grad L = J^T grad F with J w = 0 (simplified), so "
                    "|w - eta g|^2 expands to |w|^2 + eta^2 |g|^2 (the cross term vanishes)",
        conditions=("GD/SGD without weight decay or momentum on weights the loss is invariant to "
                    "rescaling; exact at every step (Pythagoras)",),
        description="|w_{t+1}|^2 from |w_t|^2 and |g_t|^2 for a scale-invariant weight",
    )


def _stationary_update_ratio(coeff_w: sp.Expr, momentum: sp.Expr) -> sp.Expr:
    """eta^2 C / A at the stationary point of the (A, B, C) recursion of v' = b v + c_g g + c_w w."""
    A, C = sp.symbols("A C", positive=True)
    B = sp.Symbol("B", real=True)  # <w, v> is negative at equilibrium
    w_dot_v_next = momentum * B + coeff_w * A  # <w, v'>: the gradient term drops (g _|_ w)
    stationary = [
        sp.Eq(A, A - 2 * eta * w_dot_v_next + eta**2 * C),  # |w'|^2 = |w|^2
        sp.Eq(B, w_dot_v_next - eta * C),  # <w', v'> = <w, v>
    ]
    solution = sp.solve(stationary, [B, C], dict=True)[0]
    return sp.simplify(eta**2 * solution[C] / A)


_FORMS = {"pytorch": lambda: (wd, beta), "ema": lambda: ((1 - beta) * wd, beta)}
_FORM_TEXT = {"pytorch": "v <- beta v + g + wd w, w <- w - eta v (PyTorch SGD momentum; beta = 0 is SGD)",
              "ema": "v <- beta v + (1 - beta)(g + wd w), w <- w - eta v (EMA momentum)"}


def _angular_update(form: str) -> Formula:
    coeff_w, momentum = _FORMS[form]()
    return Formula(
        expr=sp.sqrt(sp.factor(_stationary_update_ratio(coeff_w, momentum))),
        params=(eta, wd, beta),
        source=cite("wan2021", "Theorem 2 (angular update sqrt(2 eta wd / (1 + beta)))"),
        derived=True,
        derivation="sympy.solve of the stationary |w|^2 and <w, v> recursions (g _|_ w) for "
                   "eta^2 |v|^2 / |w|^2, square root",
        conditions=(_FORM_TEXT[form],
                    "scale-invariant w; value = sqrt(E|w_{t+1} - w_t|^2 / E|w_t|^2) at equilibrium, "
                    "the angle per step to O(update^3)"),
        domains={"beta": _UNIT},
        description=f"equilibrium angular update per step of a scale-invariant weight ({form} form)",
    )


FORMULAS.register("equilibrium_angular_update", form="pytorch")(_angular_update)
FORMULAS.register("ema_equilibrium_angular_update", form="ema")(_angular_update)


@FORMULAS.register("adamw_equilibrium_angular_update")
def _adamw_equilibrium_angular_update() -> Formula:
    # AdamW: w' = (1 - eta wd) w - eta u', u' = beta1 u + (1 - beta1) g / s, with Adam's
    # normaliser s treated as a scalar (so g / s _|_ w). State A = |w|^2, B = <w, u>, U = |u|^2.
    A, U = sp.symbols("A U", positive=True)
    B = sp.Symbol("B", real=True)
    shrink = 1 - eta * wd
    w_dot_u_next = beta1 * B
    stationary = [
        sp.Eq(A, shrink**2 * A - 2 * eta * shrink * w_dot_u_next + eta**2 * U),
        sp.Eq(B, shrink * w_dot_u_next - eta * U),
    ]
    solution = sp.solve(stationary, [B, U], dict=True)[0]
    ratio = eta**2 * solution[U] / A  # eta^2 |u|^2 / |w|^2
    x = sp.Symbol("x", positive=True)  # eta wd -> x eta wd: keep the leading order in eta wd
    leading = sp.series(ratio.subs(wd, x * wd), x, 0, 2).removeO().subs(x, 1)
    return Formula(
        expr=sp.sqrt(sp.factor(sp.simplify(leading))),
        params=(eta, wd, beta1),
        source=cite("kosson2024", "sec. 3, Table 1 (AdamW)"),
        derived=True,
        derivation="sympy.solve of the stationary |w|^2 and <w, u> recursions of AdamW with a "
                    "scalar normaliser, eta^2 |u|^2 / |w|^2 to first order in eta wd, square root",
        conditions=("decoupled weight decay w <- w - eta (u + wd w), u = m_hat / sqrt(v_hat); "
                    "Adam's per-coordinate normaliser treated as a scalar; leading order in eta wd",),
        domains={"beta1": _UNIT},
        description="equilibrium angular update per step of a scale-invariant weight under AdamW",
    )


@FORMULAS.register("adamw_equilibrium_norm")
def _adamw_equilibrium_norm() -> Formula:
    # AdamW step w' = (1 - eta wd) w - eta u with any direction u (Adam's per-coordinate
    # normaliser makes <w, u> != 0). Expand |w'|^2 and ask for E|w'|^2 = E|w|^2 = r^2.
    r = sp.Symbol("r", positive=True)
    w_i, u_i = sp.symbols("w_i u_i", real=True)  # one coordinate; summed over coordinates below
    square = sp.Poly(((1 - eta * wd) * w_i - eta * u_i) ** 2, w_i, u_i)
    sums = {(2, 0): r**2, (1, 1): r * u_radial, (0, 2): u_sq}  # sum_i w_i^2, w_i u_i, u_i^2
    balance = sp.Eq(sum(c * sums[m] for m, c in zip(square.monoms(), square.coeffs())), r**2)
    roots = sp.solve(balance, r)
    sample = {eta: sp.Rational(1, 100), wd: sp.Rational(1, 10), u_sq: 1}
    (norm,) = [q for q in roots if all(q.subs({**sample, u_radial: v}) > 0 for v in (-1, 0, 1))]
    # sympy's root is (sqrt(D) - q u_radial) / (wd (2 - eta wd)), q = 1 - eta wd,
    # D = q^2 u_radial^2 + u_sq eta wd (2 - eta wd): for u_radial > 0 it cancels (2.6% off at
    # eta = 1e-15, -0 at 1e-150); rationalised it is eta u_sq / (sqrt(D) + q u_radial). sqrt(D) as a
    # hypot (no overflow of the squares).
    q = 1 - eta * wd
    root_d = hypot(q * u_radial, sp.sqrt(u_sq * eta * wd * (2 - eta * wd)))
    stable = sp.Piecewise((eta * u_sq / (root_d + q * u_radial), u_radial > 0),
                          ((root_d - q * u_radial) / (wd * (2 - eta * wd)), True))
    return Formula(
        expr=norm,
        evaluate_as=stable,
        params=(eta, wd, u_sq, u_radial),
        source=cite("kosson2024", "the norm balance behind their AdamW equilibrium (section and "
                                  "equation unconfirmed; derived here without <w, u> = 0)"),
        derived=True,
        derivation="sympy.solve of (1 - eta wd)^2 r^2 - 2 eta (1 - eta wd) r u_radial + eta^2 u_sq "
                    "= r^2 (E|w_(t+1)|^2 = E|w_t|^2) for r = |w| > 0 (the root positive for all "
                    "signs of u_radial)",
        conditions=("AdamW w <- (1 - eta wd) w - eta u, u = m_hat / (sqrt(v_hat) + eps); u_sq = "
                    "E|u|^2, u_radial = E<w, u>/|w| measured at equilibrium; exact in expectation "
                    "up to the fluctuation of |w| (E|w|^2 vs (E|w|)^2)",),
        constraints=(sp.Lt(eta * wd, 1),),
        description="equilibrium norm of a scale-invariant weight under AdamW from the statistics "
                    "of its update direction (the exact norm balance)",
    )


@FORMULAS.register("sgd_equilibrium_norm")
def _sgd_equilibrium_norm() -> Formula:
    A = sp.Symbol("A", positive=True)
    # One SGD step with weight decay: |w'|^2 = (1 - eta wd)^2 |w|^2 + eta^2 |g|^2, |g|^2 = gw_sq / |w|^2.
    roots = sp.solve(sp.Eq(A, (1 - eta * wd) ** 2 * A + eta**2 * gw_sq / A), A)
    sample = {eta: sp.Rational(1, 10), wd: sp.Rational(1, 100), gw_sq: 1}  # eta wd < 1
    (norm_sq,) = [r for r in roots if r.subs(sample) > 0]
    numerator, denominator = sp.fraction(sp.factor(norm_sq))  # write as eta gw / (wd (2 - eta wd))
    return Formula(
        expr=sp.root(sp.factor(-numerator) / sp.factor(-denominator), 2),
        params=(eta, wd, gw_sq),
        source=cite("wan2021", "sec. 3 (equilibrium of the weight norm)"),
        derived=True,
        derivation="sympy.solve of A = (1 - eta wd)^2 A + eta^2 gw_sq / A for A = |w|^2 > 0",
        conditions=("plain SGD with weight decay on a scale-invariant weight; gw_sq = |g|^2 |w|^2 "
                    "(scale-free) taken constant at equilibrium",),
        constraints=(sp.Lt(eta * wd, 1),),
        description="equilibrium weight norm of a scale-invariant weight under SGD with weight decay",
    )
