r"""Named one-layer kernel maps per activation: ``kernels.relu_ntk``, ``kernels.erf_nngp_layer``, ...

One fully-connected layer (NTK parameterisation, scalar output) maps the pair state of
layer $l$, the pre-activation covariance $K^l = [[k_{11}, k_{12}], [k_{12}, k_{22}]]$
and the NTK entry $\Theta^l_{12}$ = ``ntk``, to layer $l + 1$ (Lee et al. 2018,
arXiv:1711.00165v3, eq. (4); Jacot et al. 2018, arXiv:1806.07572v4, Theorem 1; Lee et
al. 2019, arXiv:1902.06720v4, eq. (10)):

$$K^{l+1}_{12} = \sigma_w^2\,E[\phi(u)\phi(v)] + \sigma_b^2, \qquad
  \Theta^{l+1}_{12} = K^{l+1}_{12} + \sigma_w^2\,E[\phi'(u)\phi'(v)]\,\Theta^l_{12}.$$

Both are built by sympy from the catalogue's dual maps (``kernels.{activation}_nngp``
and its Price's-theorem derivative ``kernels.{activation}_derivative``), so a closed
form exists exactly where the dual has one (ReLU: the arc-cosine kernel; erf: Williams'
arcsine). For ReLU with $\sigma_w^2 = 2$, $\sigma_b = 0$ and unit variances the NTK map
is Arora et al. 2019 (arXiv:1904.11955v2, eqs. (4)-(5) with $c_\sigma = 2$):
$\Theta' = \tfrac1\pi(\sin\theta + (\pi - \theta)\cos\theta) + \tfrac{\pi - \theta}{\pi}\Theta$,
asserted in ``tests/test_registry.py``.
"""

from __future__ import annotations

import sympy as sp

from analytic._registry import Formulas
from analytic.formula import Formula
from analytic.kernels import _duals
from analytic.kernels._duals import ACTIVATIONS
from analytic.kernels._symbols import k11, k12, k22, sigma_b, sigma_w
from analytic.references import cite

FORMULAS = Formulas("kernels")

ntk = sp.Symbol("ntk", real=True)  # the NTK entry Theta^l_12 of the layer below (any sign)

_SOURCE = f"{cite('lee2019', 'eq. (10)')}; {cite('jacot2018', 'Theorem 1')}"
_PAIR = sp.Le(k12**2, k11 * k22)
_PAIR_CONDITION = "k12**2 <= k11 * k22 (a covariance matrix)"


def _nngp_layer_expr(activation: str) -> sp.Expr:
    return sigma_w**2 * _duals.FORMULAS[f"{activation}_nngp"]().expr + sigma_b**2


@FORMULAS.register_variants("{activation}_nngp_layer", activation=ACTIVATIONS)
def _nngp_layer(activation: str) -> Formula:
    return Formula(
        expr=_nngp_layer_expr(activation),
        params=(k11, k22, k12, sigma_w, sigma_b),
        source=f"{cite('lee2018', 'eq. (4)')}; {_duals.FORMULAS[f'{activation}_nngp']().source}",
        derived=True,
        derivation=f"sigma_w^2 kernels.{activation}_nngp + sigma_b^2",
        conditions=(_PAIR_CONDITION,),
        constraints=(_PAIR,),
        description=f"NNGP entry K^(l+1)_12 after one {activation} layer, from the covariance K^l",
    )


@FORMULAS.register_variants("{activation}_ntk", activation=ACTIVATIONS)
def _ntk_layer(activation: str) -> Formula:
    derivative = _duals.FORMULAS[f"{activation}_derivative"]().expr
    return Formula(
        expr=_nngp_layer_expr(activation) + sigma_w**2 * derivative * ntk,
        params=(k11, k22, k12, ntk, sigma_w, sigma_b),
        source=_SOURCE,
        derived=True,
        derivation=(f"Theta' = sigma_w^2 kernels.{activation}_nngp + sigma_b^2 "
                    f"+ sigma_w^2 kernels.{activation}_derivative * Theta"),
        conditions=(_PAIR_CONDITION, "NTK parameterisation, scalar output"),
        constraints=(_PAIR,),
        description=f"NTK entry Theta^(l+1)_12 after one {activation} layer, from K^l and Theta^l_12 = ntk",
    )
