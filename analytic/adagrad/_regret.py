r"""AdaGrad's regret on online linear losses over a box: the bound and its $\sqrt T$ growth.

Online linear optimisation on the box $K = [-R, R]^d$: at round $t$ the learner plays $x_t$, then
sees the loss $g_t^\top x$. Diagonal AdaGrad (Duchi, Hazan & Singer 2011, sec. 3, composite
mirror descent with $\phi = 0$, $\delta = 0$):
$s_{t,i} = \lVert g_{1:t,i}\rVert_2$, $x_{t+1} = \Pi_K^{\mathrm{diag}(s_t)}(x_t - \eta\,g_t/s_t)$ (for a box and a
diagonal metric the projection is a coordinatewise clip). Regret
$R(T) = \sum_t g_t^\top x_t - \min_{x\in K}\sum_t g_t^\top x$.

* ``adagrad_regret_bound`` (stated: Duchi et al. 2011, sec. 3; we recall it as their Theorem 5 with
  Corollary 6 and could not confirm the numbering from here):
  $R(T) \le \big(\tfrac{D_\infty^2}{2\eta} + \eta\big)\sum_i\lVert g_{1:T,i}\rVert_2$, $D_\infty$ the box's
  $\ell_\infty$ diameter $2R$. The usual proof: the telescoped distance terms give
  $\tfrac{1}{2\eta}D_\infty^2\sum_i s_{T,i}$ and $\sum_t g_{t,i}^2/s_{t,i} \le 2 s_{T,i}$ gives $\eta\sum_i s_{T,i}$.
  sympy minimises it over $\eta$ (tests): $\eta^\star = D_\infty/\sqrt2$, bound $\sqrt2 D_\infty\sum_i s_{T,i}$;
  for bounded gradients $s_{T,i} = O(\sqrt T)$.
* ``expected_online_regret`` (derived): for zero-mean Gaussian losses $g_{t,i}\sim N(0,\sigma_i^2)$,
  independent over rounds, $E[g_t^\top x_t] = 0$ ($x_t$ depends on earlier rounds only) and the best
  fixed point in hindsight is the corner $-R\,\mathrm{sign}(S_T)$, $S_T = \sum_t g_t$, so per coordinate
  $E[R(T)] = R\,E|S_{T,i}| = R\sigma_i\sqrt{2T/\pi}$ (sympy ``integrate`` of $|s|$ against the
  $N(0, T\sigma^2)$ density): exactly $\propto\sqrt T$, growth exponent 1/2, for every $T$.
"""

from __future__ import annotations

import sympy as sp

from analytic._registry import Formulas
from analytic.adagrad._symbols import diameter, gradient_norm_sum, gradient_scale, radius
from analytic.formula import Formula
from analytic.references import cite
from analytic.symbols import eta, t

FORMULAS = Formulas("adagrad")


@FORMULAS.register("adagrad_regret_bound")
def _adagrad_regret_bound() -> Formula:
    return Formula(
        expr=(diameter**2 / (2 * eta) + eta) * gradient_norm_sum, params=(eta, diameter, gradient_norm_sum),
        source=cite("duchi2011", "sec. 3 (diagonal AdaGrad regret; Theorem 5 / Corollary 6, numbering unconfirmed)"),
        derived=False,
        derivation="stated; tests/test_adagrad.py: sympy minimum over eta at eta = diameter/sqrt(2), sqrt(2) "
                   "diameter * gradient_norm_sum",
        conditions=("online convex losses with (sub)gradients g_t; diagonal AdaGrad with its accumulator including "
                    "g_t, iterates projected onto the domain in the diag(s_t) metric",
                    "diameter >= max_t |x_t - x*|_inf; gradient_norm_sum = sum_i |g_{1:T,i}|_2"),
        description="AdaGrad's regret bound (diameter^2/(2 eta) + eta) sum_i |g_{1:T,i}|_2",
    )


@FORMULAS.register("expected_online_regret")
def _expected_online_regret() -> Formula:
    s = sp.Symbol("s", real=True)
    variance = t * gradient_scale**2
    density = sp.exp(-s**2 / (2 * variance)) / sp.sqrt(2 * sp.pi * variance)
    mean_abs = 2 * sp.integrate(s * density, (s, 0, sp.oo), conds="none")  # E|S_T|, S_T ~ N(0, t sigma^2), t > 0
    return Formula(
        expr=sp.simplify(radius * mean_abs), params=(t, radius, gradient_scale),
        source=cite("duchi2011", "sec. 1 (online learning, regret); expectation derived here"), derived=True,
        derivation="E[g_t . x_t] = 0 (x_t uses earlier rounds); comparator -radius sign(S_T): "
                   "radius E|S_T|, S_T ~ N(0, t gradient_scale^2) (sympy integrate)",
        conditions=("one coordinate of an online linear loss on [-radius, radius]; g_t ~ N(0, gradient_scale^2) "
                    "independent over rounds; any learner whose x_t depends on earlier rounds only (AdaGrad)",),
        description="expected regret of one coordinate after t rounds of zero-mean Gaussian linear losses",
    )
