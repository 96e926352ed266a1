r"""Dropout on linear regression: the expected objective is a data-dependent ridge.

Model statement. Inputs are dropped with probability $p$ and kept units scaled by
$1/(1-p)$ (inverted dropout, as deep-learning libraries do): the prediction is
$\sum_j x_j w_j \xi_j/(1-p)$, $\xi_j\sim\mathrm{Bernoulli}(1-p)$ i.i.d. sympy averages
the squared error over the mask of two features exactly and reads off the extra term:
$\mathbb E_\xi(y - \sum_j x_j w_j\xi_j/(1-p))^2 = (y - x^\top w)^2 + \frac{p}{1-p}\sum_j x_j^2 w_j^2$.
Summed over the data, the penalty is $\frac{p}{1-p}\sum_j (X^\top X)_{jj}w_j^2$ (Srivastava et
al. 2014, JMLR, sec. 9.1, who write $p$ for the *retention* probability and get $(1-p)/p$;
Wager, Wang, Liang 2013, arXiv:1307.1493v2, sec. 2), and the minimiser is
$w^* = (X^\top X + \frac{p}{1-p}\operatorname{diag}X^\top X)^{-1}X^\top y$.
"""

from __future__ import annotations

import itertools

import jax.numpy as jnp
import numpy as np
import sympy as sp

from analytic._registry import Formulas
from analytic.formula import Formula
from analytic.normalization._symbols import p
from analytic.references import cite

FORMULAS = Formulas("normalization")


@FORMULAS.register("dropout_ridge_penalty")
def _dropout_ridge_penalty() -> Formula:
    y, x1, x2, w1, w2 = sp.symbols("y x1 x2 w1 w2", real=True)
    keep = 1 - p

    def squared_error(xi1, xi2):
        return (y - (xi1 * x1 * w1 + xi2 * x2 * w2) / keep) ** 2

    # Exact expectation over the two independent Bernoulli(1 - p) mask entries.
    expected = sum(
        (keep if a else p) * (keep if b else p) * squared_error(a, b)
        for a, b in itertools.product((0, 1), repeat=2)
    )
    extra = sp.Poly(sp.factor(sp.simplify(expected - (y - x1 * w1 - x2 * w2) ** 2)), w1, w2)
    coefficient = sp.factor(extra.coeff_monomial(w1**2) / x1**2)
    if sp.simplify(extra.as_expr() - coefficient * (x1**2 * w1**2 + x2**2 * w2**2)) != 0:
        raise ArithmeticError("dropout's extra term is not a diagonal ridge: " + str(extra))
    numerator, denominator = sp.fraction(sp.factor(coefficient))  # write as p / (1 - p)
    return Formula(
        expr=sp.expand(-numerator) / sp.expand(-denominator),
        params=(p,),
        source=cite("srivastava2014", "sec. 9.1 (with p the retention probability there)"),
        derived=True,
        derivation="E over two Bernoulli(1 - p) masks of (y - sum_j xi_j x_j w_j / (1 - p))^2 "
                   "minus the squared error (sympy), coefficient of x_j^2 w_j^2",
        conditions=("p = drop probability; inverted scaling 1/(1 - p) of the kept units; the "
                    "penalty is this times sum_j (X^T X)_jj w_j^2",),
        domains={"p": sp.Interval.Ropen(0, 1)},
        description="coefficient of the data-dependent ridge that dropout adds to least squares",
    )


def dropout_fixed_point(X, y, p: float, penalty=None):
    """Minimiser of the expected dropout objective: (X^T X + c diag(X^T X))^-1 X^T y.

    ``c`` = ``penalty(p=p)``, the Formula ``dropout_ridge_penalty`` by default (a check may
    pass a different one). ``X`` (n, d), ``y`` (n,).
    """
    if penalty is None:
        penalty = _dropout_ridge_penalty()
    X, y = jnp.asarray(X), jnp.asarray(y)
    if X.ndim != 2 or y.shape != (X.shape[0],):
        raise ValueError(f"X must be (n, d) and y (n,), got {X.shape} and {y.shape}")
    c = penalty(p=np.asarray(p, dtype=float))
    gram = X.T @ X
    return jnp.linalg.solve(gram + c * jnp.diag(jnp.diag(gram)), X.T @ y)
