r"""Per-degree residual decay of gradient descent in the kernel (large-width, large-n) regime.

Loss $L = \tfrac1{2n}\sum_i (f(x_i) - y_i)^2$, full-batch GD with learning rate $\eta$. Linearised
around initialisation, $f_{t+1}(x) = f_t(x) - \tfrac{\eta}{n}\sum_i\Theta(x, x_i)(f_t(x_i) - y_i)$: the
$1/n$ of the loss makes $\tfrac1n\sum_i\Theta(\cdot, x_i)\,r(x_i)$ the empirical version of
$T r = \mathbb E_{x'}[\Theta(\cdot, x')\,r(x')]$. When $n$ is large against the number of harmonics
of degree $\le k$ (the large-n normalisation: $T$ replaces its empirical version), the degree-$k$
part of the residual $r_t = f_t - y$ is multiplied by $1 - \eta\lambda_k$ at every step, with
$\lambda_k$ the kernel eigenvalue (``lam`` here, the curvature of the degree-$k$ mode of the
population loss $\tfrac12\mathbb E r^2$). sympy derives

* ``degree_residual``: $c_t / c_0 = (1 - \eta\lambda_k)^t$ (``rsolve`` of
  $c_{t+1} = c_t - \eta\lambda_k\,\partial_c(c^2/2)$). Since $\lambda_k$ decreases with $k$
  (``_funk_hecke``), lower degrees are learned first (Basri et al. 2019, sec. 4-5; Nakkiran
  et al. 2019 for the "increasing complexity" picture).
"""

from __future__ import annotations

import sympy as sp
from sympy.codegen.cfunctions import log1p

from analytic._registry import Formulas
from analytic.formula import Formula
from analytic.references import cite
from analytic.symbols import eta, lam, t

FORMULAS = Formulas("spectral_bias")

_MODE = ("large width (kernel regime) and n large against the number of harmonics of degree <= k; "
         "loss (1/2n) sum (f - y)^2; lam = lambda_k, the NTK eigenvalue of the degree",)


def _per_step_map() -> sp.Expr:
    """c -> c - eta lam d/dc (c^2 / 2): one GD step on the degree's coefficient of the residual."""
    c = sp.Symbol("c", real=True)
    return sp.Lambda(c, c - eta * lam * sp.diff(c**2 / 2, c))


@FORMULAS.register("degree_residual")
def _degree_residual() -> Formula:
    n, f = sp.Symbol("n", integer=True, nonnegative=True), sp.Function("f")
    step = _per_step_map()
    solution = sp.rsolve(f(n + 1) - step(f(n)), f(n), {f(0): 1}).subs(n, t)
    expr = sp.powsimp(sp.factor_terms(solution))
    return Formula(
        expr=expr, params=(eta, lam, t),
        evaluate_as=sp.exp(t * log1p(-eta * lam)),  # 1 - eta lam would round eta lam < 1e-16 away
        source=cite("basri2019", "sec. 3-4 (residual of frequency k decays like (1 - eta lambda_k)^t)"),
        derived=True,
        derivation="sympy rsolve of c_{t+1} = c_t - eta lam d/dc (c^2/2), c_0 = 1",
        conditions=_MODE, constraints=(sp.Lt(eta * lam, 1),),
        description="degree-k residual after t GD steps, relative to its start (1 - eta lambda_k)^t",
    )
