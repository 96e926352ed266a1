r"""Exact natural gradient and K-FAC on a deep linear network: the loss factor per step near the minimum.

Network $f(x) = W_L\cdots W_1 x$ (square, invertible layers), squared loss
$\tfrac12 E\lVert f(x) - y\rVert^2$ with realisable targets $y = W^\star x$, error $E = W - W^\star$ of the
end-to-end map $W = W_L\cdots W_1$. With a unit-variance Gaussian output model the Fisher is
$F = J^\top J$ ($J$ the Jacobian of the outputs in the parameters) and the gradient $J^\top r$.

* **Exact natural gradient** (the Fisher is singular for $L \ge 2$: pseudo-inverse;
  Bernacchia, Lengyel & Hennequin 2018): $\Delta\theta = -\eta F^{+}J^\top r = -\eta J^{+}r$, so the
  first-order change of the end-to-end map is $-\eta\,E$ whatever the depth.
* **K-FAC** (block-diagonal, Martens & Grosse 2015, arXiv:1503.05671v7, sec. 4 (block-diagonal
  approximation of the inverse; subsection number unconfirmed)):
  $\Delta W_l = -\eta G_l^{-1}\nabla_{W_l} A_l^{-1} = -\eta B_l^{-1} E P_l^{-1}$ with
  $B_l$, $P_l$ the products of the layers after and before $l$; each layer alone would fix the whole
  error, and together they move $W$ by $-\eta L E$ to first order: K-FAC needs $\eta/L$ to match.

Second-order terms are $O(\eta^2\lVert E\rVert^2)$, so near the minimum $E_{t+1} = (1 - c\,\eta)E_t$ with
$c = 1$ (natural gradient) or $c = L$ (K-FAC), and the loss, quadratic in $E$, falls by $(1 - c\eta)^2$
per step: (``rsolve``) $\mathcal L_t = \mathcal L_0 (1 - c\eta)^{2t}$ asymptotically (exactly $e^{-2\eta t}$ in
the gradient-flow limit of the natural gradient). ``natural_gradient_loss_factor`` and
``kfac_loss_factor`` are the per-step factors.

What sympy derives: on a chain of $L = 1\dots6$ scalar layers $w = \prod_l w_l$ (the same algebra as
the matrices, where $B_l$, $P_l$ commute), the first-order change $\frac{d}{d\eta}\prod_l(w_l + \Delta w_l)$
at $\eta = 0$, with $\Delta w$ the pseudo-inverse step on the rank-one Fisher $m m^\top$
($m_l = \partial w/\partial w_l$) and the block-diagonal step $-\eta E/m_l$: it is $-E$ and $-LE$; then
``rsolve`` of $e_{t+1} = (1 - c\eta)e_t$.
"""

from __future__ import annotations

import sympy as sp

from analytic._registry import Formulas
from analytic.formula import Formula
from analytic.kfac._symbols import depth
from analytic.references import cite
from analytic.symbols import eta, t

FORMULAS = Formulas("kfac")

_DEPTHS = range(1, 7)


def _first_order_coefficient(layers: int, method: str) -> sp.Expr:
    """c in d/deta prod(w_l + dw_l) = -c E at eta = 0, on a chain of ``layers`` scalar weights."""
    w = sp.symbols(f"w1:{layers + 1}", positive=True)
    error, step = sp.Symbol("E", real=True), sp.Symbol("step", positive=True)
    product = sp.Mul(*w)
    m = sp.Matrix([sp.diff(product, wl) for wl in w])  # Jacobian of the output in the weights
    residual_gradient = m * error  # J^T r for a unit input: r = E
    if method == "natural":
        # the rank-one Fisher m m^T has pseudo-inverse m m^T / |m|^4 (tests: the Penrose conditions);
        # applied to m E it gives m (m . m E) / |m|^4
        norm2 = m.dot(m)
        projection = m.dot(residual_gradient) / norm2**2  # kept unexpanded: sympy cancels it to E / |m|^2
        update = [-step * mi * projection for mi in m]
    else:  # block diagonal: the Fisher's diagonal blocks m_l^2
        update = [-step * residual_gradient[i] / m[i] ** 2 for i in range(layers)]
    moved = sp.Mul(*[wl + du for wl, du in zip(w, update)])
    return sp.factor(sp.cancel(-sp.diff(moved, step).subs(step, 0) / error))


def _loss_factor(coefficient: sp.Expr) -> sp.Expr:
    """Per-step factor of a loss quadratic in e, e_{t+1} = (1 - coefficient eta) e_t (sympy rsolve)."""
    n, e = sp.Symbol("n", integer=True, nonnegative=True), sp.Function("e")
    e0 = sp.Symbol("e0", real=True)
    path = sp.rsolve(e(n + 1) - (1 - coefficient * eta) * e(n), e(n), {e(0): e0})
    return sp.factor(sp.simplify((path.subs(n, n + 1) / path) ** 2))


@FORMULAS.register("natural_gradient_loss_factor")
def _natural_gradient_loss_factor() -> Formula:
    coefficients = {_first_order_coefficient(layers, "natural") for layers in _DEPTHS}
    if coefficients != {1}:
        raise AssertionError(f"natural gradient's first-order coefficient is not 1 at every depth: {coefficients}")
    return Formula(
        expr=_loss_factor(sp.Integer(1)), params=(eta,),
        source=cite("bernacchia2018", "(exact natural gradient in deep linear networks; equation unconfirmed)"),
        derived=True,
        derivation="scalar chains of depth 1..6: d/deta prod(w_l + dw_l) = -E for the pseudo-inverse step on the "
                   "rank-one Fisher (sympy diff, cancel); rsolve of e_{t+1} = (1 - eta) e_t; loss ~ e^2",
        conditions=("deep linear network, square invertible layers, squared loss, unit-variance Gaussian output "
                    "model, Fisher pseudo-inverse", "asymptotic: near the minimum (O(eta^2 |E|^2) terms dropped)",
                    "the same at every depth"),
        description="per-step loss factor of exact natural gradient on a deep linear network near the minimum",
    )


@FORMULAS.register("kfac_loss_factor")
def _kfac_loss_factor() -> Formula:
    for layers in _DEPTHS:
        c = _first_order_coefficient(layers, "kfac")
        if sp.simplify(c - layers) != 0:
            raise AssertionError(f"K-FAC's first-order coefficient at depth {layers} is {c}, not {layers}")
    return Formula(
        expr=_loss_factor(depth), params=(eta, depth),
        source=cite("martens2015", "sec. 4 (block-diagonal approximate Fisher inverse; subsection unconfirmed)"),
        derived=True,
        derivation="scalar chains of depth 1..6: d/deta prod(w_l + dw_l) = -depth E for the block-diagonal step "
                   "-eta E/m_l (sympy diff); rsolve of e_{t+1} = (1 - depth eta) e_t; loss ~ e^2",
        conditions=("deep linear network, square invertible layers, squared loss; K-FAC factors exact (they are "
                    "for deep linear networks), no damping", "asymptotic: near the minimum",
                    "learning_rate eta / depth gives natural gradient's factor (1 - eta)^2"),
        description="per-step loss factor of block-diagonal K-FAC on a deep linear network near the minimum",
    )


@FORMULAS.register("natural_gradient_flow_loss_ratio")
def _natural_gradient_flow_loss_ratio() -> Formula:
    coefficients = {_first_order_coefficient(layers, "natural") for layers in _DEPTHS}
    if coefficients != {1}:
        raise AssertionError(f"natural gradient's first-order coefficient is not 1 at every depth: {coefficients}")
    # gradient flow keeps only the first-order term: de/dt = -c e exactly (dsolve), loss ~ e^2
    e, e0 = sp.Function("e"), sp.Symbol("e0", positive=True)
    path = sp.dsolve(sp.Eq(e(t).diff(t), -coefficients.pop() * e(t)), e(t), ics={e(0): e0}).rhs
    return Formula(
        expr=sp.simplify((path / e0) ** 2), params=(t,),
        source=cite("bernacchia2018", "(exact natural gradient in deep linear networks; equation unconfirmed)"),
        derived=True,
        derivation="scalar chains of depth 1..6: the pseudo-inverse step moves the end-to-end error by exactly "
                   "-eta E to first order, which is all of gradient flow: dsolve of de/dt = -e; loss ~ e^2",
        conditions=("deep linear network, square invertible layers, squared loss, unit-variance Gaussian output "
                    "model, Fisher pseudo-inverse", "gradient flow (eta -> 0 at fixed t = eta x steps): exact at "
                    "every t, not only near the minimum", "the same at every depth"),
        description="loss_t / loss_0 of exact natural-gradient flow on a deep linear network at time t",
    )
