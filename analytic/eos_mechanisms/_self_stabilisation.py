r"""Self-stabilisation: Damian, Nichani & Lee's cubic model of GD at the edge of stability.

Example:
    >>> from analytic import eos_mechanisms
    >>> float(eos_mechanisms.self_stabilisation_amplitude(sharpening_rate=0.02, stabilisation_strength=4.0))
    0.1

Model statement (Damian, Nichani, Lee, arXiv:2209.15594v2, sec. 3: the heuristic derivation
of the stages of edge-of-stability training from a cubic Taylor expansion; the section
number is the one this family cites, not re-confirmed against the v2 text here). Expand the
loss to third order about a reference point $\theta^\star$ whose Hessian has top eigenvector
$u$ with eigenvalue $S^\star$, in the coordinates $X = u\cdot\delta$ and $W$ along the unit
vector $v = \nabla S_\perp/|\nabla S_\perp|$, where $\nabla S = \nabla^3L[u, u]$ is the gradient
of the sharpness and $\nabla S_\perp$ its part orthogonal to $u$:

$$L = L^\star + g_X X + g_W W + \tfrac12(S^\star X^2 + 2h_{XW}XW + h_{WW}W^2)
      + \tfrac16(T_{XXX}X^3 + 3T_{XXW}X^2W + 3T_{XWW}XW^2 + T_{WWW}W^3).$$

The model keeps what the paper keeps: $u$ is an eigenvector ($h_{XW} = 0$), the reference is
centred along $u$ ($g_X = u\cdot\nabla L = 0$), and of the cubic terms only the one that
couples the oscillation to the sharpness, $T_{XXW} = |\nabla S_\perp|$; it drops the curvature
along $\nabla S_\perp$ ($h_{WW}$), the asymmetric term $T_{XXX} = u\cdot\nabla S$ and the terms
of higher order in $W$. Then the sharpness of the model at $(0, W)$ is exactly
$\partial_X^2 L = S^\star + T_{XXW}W$ (sympy ``diff``), and with
$x = X$, $y = S^\star - 2/\eta + |\nabla S_\perp| W$ (the sharpness above $2/\eta$),
$\alpha = -\nabla L\cdot\nabla S_\perp = -g_W T_{XXW}$ (progressive sharpening) and
$\beta = |\nabla S_\perp|^2 = T_{XXW}^2$ (self-stabilisation), one GD step
$\theta' = \theta - \eta\nabla L$ is, by sympy (``diff``, ``subs``, ``expand``):

* ``self_stabilisation_displacement_step``: $x' = -(1 + \eta y)\,x$ (the oscillation along
  $u$ grows while $y > 0$: the blow-up; shrinks while $y < 0$: the return to stability);
* ``self_stabilisation_sharpness_step``: $y' = y + \eta(\alpha - \beta x^2/2)$ (the sharpness
  rises at $\eta\alpha$ per step, and the oscillation pulls it down by $\eta\beta x^2/2$: the
  self-stabilisation).

The paper's four stages are read off this map: progressive sharpening ($x \approx 0$,
$y$ rises), blow-up ($y > 0$, $|x|$ grows geometrically), self-stabilisation ($\beta x^2/2 >
\alpha$: $y$ falls) and return to stability ($y < 0$: $|x|$ decays).

* ``self_stabilisation_amplitude``: the map's symmetric period-2 orbit ($x' = -x$, $y' = y$;
  sympy ``solve``, then ``F(F(x, y)) = (x, y)`` checked) is $y = 0$,
  $x = \pm\sqrt{2\alpha/\beta}$: the paper's predicted oscillation size. The same number is
  the displacement at which the sharpness stops rising or falling ($y' = y$ solved for $x$),
  and, since $\sum_t (y_{t+1} - y_t) = \eta\sum_t(\alpha - \beta x_t^2/2)$ telescopes, the
  mean of $x_t^2$ over any closed cycle of the map is $2\alpha/\beta$ (up to the end term
  $2(y_{\rm end} - y_{\rm start})/(\eta\beta T)$ of a cycle that does not close exactly: the
  discrete orbit is weakly unstable, $F\circ F$'s Jacobian there having eigenvalues of modulus
  $1 + 2\eta^2\alpha$, checked in the tests; cycles around it turn in about
  $2\pi/(\eta\sqrt{2\alpha})$ steps). The map's own fixed points ($x' = x$) need
  $y = -2/\eta$, far outside the expansion: the period-2 orbit is the relevant one. Holds for
  $\alpha > 0$, in the limit $\eta^2\alpha \ll 1$ (a nearly neutral orbit),
  while $\alpha$ and $\beta$ change little over a cycle and the oscillation is small enough
  for the cubic expansion (the dropped terms are $O(x^3)$ in the gradient).

What is derived here is the map and its orbit from the cubic expansion under the model's
assumptions; that the stages and the amplitude describe GD on a network is what
``verify`` measures (``eos_mechanisms.self_stabilisation``).
"""

from __future__ import annotations

import functools

import sympy as sp

from analytic._registry import Formulas
from analytic.eos_mechanisms._symbols import displacement, sharpening_rate, sharpness_excess, stabilisation_strength
from analytic.formula import Formula
from analytic.references import cite
from analytic.symbols import eta

FORMULAS = Formulas("eos_mechanisms")

_SOURCE = "sec. 3 (the cubic Taylor model of the edge-of-stability stages; section as cited, v2 text not re-checked)"


@functools.cache
def _model_step() -> tuple[sp.Expr, sp.Expr]:
    """(x', y') of one GD step on the cubic model, in x, y, alpha, beta (sympy-derived)."""
    X, W = sp.symbols("X W", real=True)
    g_x, g_w, h_xw, h_ww, s_ref = sp.symbols("g_X g_W h_XW h_WW S_ref", real=True)
    t_xxx, t_xxw, t_xww, t_www = sp.symbols("T_XXX T_XXW T_XWW T_WWW", real=True)
    t_xxw_pos = sp.Symbol("T_XXW", positive=True)  # |grad S_perp| > 0
    loss = (g_x * X + g_w * W + (s_ref * X**2 + 2 * h_xw * X * W + h_ww * W**2) / 2
            + (t_xxx * X**3 + 3 * t_xxw * X**2 * W + 3 * t_xww * X * W**2 + t_www * W**3) / 6)
    kept = {g_x: 0, h_xw: 0, h_ww: 0, t_xxx: 0, t_xww: 0, t_www: 0, t_xxw: t_xxw_pos}
    model = loss.subs(kept)
    # the sharpness of the model along the line X = 0 is S_ref + T_XXW W: y measures it
    assert sp.expand(sp.diff(model, X, 2).subs(X, 0) - (s_ref + t_xxw_pos * W)) == 0
    x_next = X - eta * sp.diff(model, X)
    w_next = W - eta * sp.diff(model, W)
    # the model's coordinates: x = X, y = S_ref - 2/eta + T_XXW W; alpha = -g_W T_XXW, beta = T_XXW^2
    w_of_y = (sharpness_excess - s_ref + 2 / eta) / t_xxw_pos
    g_of_alpha = -sharpening_rate / t_xxw_pos
    to_model = {X: displacement, W: w_of_y, g_w: g_of_alpha}
    x_new = sp.expand(x_next.subs(to_model))
    y_new = sp.expand((s_ref - 2 / eta + t_xxw_pos * w_next).subs(to_model))
    y_new = sp.expand(y_new.subs(t_xxw_pos**2, stabilisation_strength))
    assert not (x_new.free_symbols | y_new.free_symbols) & {s_ref, t_xxw_pos, g_w}
    return sp.factor(x_new), y_new


def _common(expr, params, derivation, description, **extra) -> Formula:
    return Formula(expr=expr, params=params, source=cite("damian2023", _SOURCE), derived=True,
                   derivation=derivation, description=description,
                   conditions=("cubic Taylor model about a reference point centred along u (u . grad L = 0); drops "
                               "the curvature along grad S_perp, the term u . grad S and terms of higher order",),
                   **extra)


@FORMULAS.register("self_stabilisation_displacement_step")
def _displacement_step() -> Formula:
    x_new, _ = _model_step()
    assert sp.simplify(x_new + (1 + eta * sharpness_excess) * displacement) == 0
    return _common(x_new, (eta, displacement, sharpness_excess),
                   "sympy: GD step X' = X - eta dL/dX on the cubic Taylor model, in x = X and y = S - 2/eta",
                   "x' = -(1 + eta y) x: the oscillation along the top eigenvector, one GD step")


@FORMULAS.register("self_stabilisation_sharpness_step")
def _sharpness_step() -> Formula:
    _, y_new = _model_step()
    target = sharpness_excess + eta * (sharpening_rate - stabilisation_strength * displacement**2 / 2)
    assert sp.expand(y_new - target) == 0
    return _common(y_new, (eta, sharpness_excess, sharpening_rate, stabilisation_strength, displacement),
                   "sympy: GD step of W on the cubic Taylor model, y = S - 2/eta + |grad S_perp| W, "
                   "alpha = -grad L . grad S_perp, beta = |grad S_perp|^2",
                   "y' = y + eta (alpha - beta x^2 / 2): sharpness above 2/eta after one GD step")


@FORMULAS.register("self_stabilisation_amplitude")
def _amplitude() -> Formula:
    x_new, y_new = _model_step()
    positive_rate = sp.Symbol("alpha", positive=True)
    orbit = sp.solve([x_new + displacement, y_new - sharpness_excess], [displacement, sharpness_excess], dict=True)
    orbit = [o for o in orbit if o[displacement] != 0]
    assert all(sp.simplify(o[sharpness_excess]) == 0 for o in orbit)
    roots = [o[displacement] for o in orbit]
    (root,) = [r for r in roots if (r.subs(sharpening_rate, positive_rate)).is_positive]
    # a period-2 orbit of F: F(F(x, 0)) = (x, 0) at x = root
    step = {displacement: x_new, sharpness_excess: y_new}
    twice = [e.subs(step, simultaneous=True).subs({displacement: root, sharpness_excess: 0}) for e in (x_new, y_new)]
    assert sp.simplify(twice[0] - root) == 0 and sp.simplify(twice[1]) == 0
    # the same displacement stops the sharpness: y' = y solved for x
    assert root in sp.solve(y_new - sharpness_excess, displacement)
    return _common(sp.simplify(root), (sharpening_rate, stabilisation_strength),
                   "sympy solve of the symmetric period-2 orbit x' = -x, y' = y of the self-stabilisation map "
                   "(checked: F(F(x, 0)) = (x, 0)); equally y' = y solved for x",
                   "sqrt(2 alpha / beta): the predicted size of the oscillation along u at the edge of stability",
                   domains={"sharpening_rate": sp.Interval.open(0, sp.oo)})
