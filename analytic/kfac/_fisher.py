r"""The Fisher block of a linear layer as a fourth moment, and when K-FAC's factorisation is exact.

A linear layer $s = W a$ ($W$: out x in) with a Gaussian output model (unit variance) has the
per-example log-likelihood gradient $\nabla_W \log p = g\,a^\top$, with $g = \partial\log p/\partial s$
the back-propagated output gradient. Its Fisher block is (Martens & Grosse 2015, sec. 3)

$$F_{(k,i),(l,j)} = E[a_i a_j\, g_k g_l],\qquad F = E[(a a^\top)\otimes(g g^\top)]$$

(column-major $\mathrm{vec}$; numpy's ``W.ravel()`` order is $g\otimes a$), and K-FAC replaces it
by $E[a a^\top]\otimes E[g g^\top] = A\otimes G$.

What sympy derives (``gaussian_fisher_entry``): for jointly Gaussian, zero-mean $(a_i, a_j, g_k, g_l)$
the fourth moment is the fourth mixed derivative at 0 of the moment-generating function
$\exp(\tfrac12 u^\top K u)$ ($K$ the 4 x 4 covariance, with symbolic diagonal), which is Isserlis'
theorem:

$$E[a_i a_j g_k g_l] = E[a_ia_j]E[g_kg_l] + E[a_ig_k]E[a_jg_l] + E[a_ig_l]E[a_jg_k].$$

The diagonal variances drop out (sympy finds no dependence on them). Hence:

* the factorisation is **exact** when the cross moments $E[a\,g^\top]$ vanish: labels sampled from
  the model make $g = -\varepsilon$ independent of $a$; in a deep *linear* network
  $g_l = B_l^\top\varepsilon$ with $B_l$ the product of the later weights, so every block (and
  every cross-layer block $E[(a_l a_m^\top)\otimes(g_l g_m^\top)] = A_{lm}\otimes G_{lm}$) factorises
  exactly;
* with the *empirical* Fisher (training labels $y = W^\star a + \varepsilon$, residual
  $g = D a - \varepsilon$, $D = W - W^\star$) the cross moment is $C = E[a g^\top] = \Sigma D^\top$ and the
  gap is $F - A\otimes G$ with entries $C_{ik}C_{jl} + C_{il}C_{jk}$, where $A = \Sigma$ and
  $G = D\Sigma D^\top + \sigma^2 I$.

:func:`fisher_block` assembles the whole matrix from the Formula.
"""

from __future__ import annotations

import numpy as np
import sympy as sp

from analytic._registry import Formulas
from analytic.formula import Formula
from analytic.kfac._symbols import cross_ik, cross_il, cross_jk, cross_jl, gradient_moment, input_moment
from analytic.references import cite

FORMULAS = Formulas("kfac")


def _isserlis_fourth_moment() -> sp.Expr:
    """E[a_i a_j g_k g_l] from the Gaussian moment-generating function (sympy diff at u = 0)."""
    u = sp.symbols("u1:5", real=True)
    var = sp.symbols("v1:5", positive=True)  # the variances: they must drop out
    cov = sp.Matrix([[var[0], input_moment, cross_ik, cross_il],
                     [input_moment, var[1], cross_jk, cross_jl],
                     [cross_ik, cross_jk, var[2], gradient_moment],
                     [cross_il, cross_jl, gradient_moment, var[3]]])
    vec = sp.Matrix(u)
    mgf = sp.exp((vec.T * cov * vec)[0, 0] / 2)
    moment = sp.diff(mgf, *u).subs({ui: 0 for ui in u})
    moment = sp.expand(moment)
    if moment.free_symbols & set(var):
        raise AssertionError(f"the variances did not drop out: {moment}")
    return moment


@FORMULAS.register("gaussian_fisher_entry")
def _gaussian_fisher_entry() -> Formula:
    return Formula(
        expr=_isserlis_fourth_moment(),
        params=(input_moment, gradient_moment, cross_ik, cross_jl, cross_il, cross_jk),
        source=cite("martens2015", "sec. 3 (F = E[a a^T (x) g g^T] vs A (x) G); Isserlis' theorem"), derived=True,
        derivation="fourth mixed derivative at u = 0 of the Gaussian MGF exp(u^T K u / 2) of (a_i, a_j, g_k, g_l) "
                   "(sympy diff; the variances drop out)",
        conditions=("(a, g) jointly Gaussian with zero mean (inputs Gaussian; output gradient linear in the "
                    "input and the label noise)",
                    "cross moments 0 (labels sampled from the model; any deep linear net): the entry is "
                    "input_moment * gradient_moment, K-FAC's Kronecker factorisation, exactly"),
        description="Fisher entry E[a_i a_j g_k g_l] of a linear layer for jointly Gaussian input and output gradient",
    )


def fisher_block(input_moments, gradient_moments, cross_moments=None, *, formula=None) -> np.ndarray:
    r"""The Fisher block $E[(g g^\top)\otimes(a a^\top)]$ in ``W.ravel()`` order, from second moments.

    ``input_moments``: $E[a a'^\top]$ (in x in'), ``gradient_moments``: $E[g g'^\top]$ (out x out');
    ``cross_moments``: $C = E[a g^\top]$ (in x out; None or zeros for independent $a$, $g$, and only
    for a block of one layer with itself). Entry $((k, i), (l, j))$ is ``gaussian_fisher_entry`` at
    $A_{ij}, G_{kl}, C_{ik}, C_{jl}, C_{il}, C_{jk}$: with $C = 0$ it is ``np.kron(G, A)``, K-FAC's
    approximation. ``formula`` overrides the catalogue's (a check passes the one it verifies).

    Example:
        >>> import numpy as np
        >>> block = fisher_block(np.eye(2), 2 * np.eye(1))     # one output, two inputs: kron(G, A)
        >>> block.tolist()
        [[2.0, 0.0], [0.0, 2.0]]
        >>> float(fisher_block(np.eye(1), np.eye(1), np.array([[1.0]]))[0, 0])   # E[a^2 g^2] = 1 + 2 C^2
        3.0
    """
    from analytic.kfac import gaussian_fisher_entry

    entry = formula if formula is not None else gaussian_fisher_entry
    a = np.asarray(input_moments, dtype=float)
    g = np.asarray(gradient_moments, dtype=float)
    if a.ndim != 2 or g.ndim != 2:
        raise ValueError(f"input_moments and gradient_moments must be matrices, got shapes {a.shape}, {g.shape}")
    if cross_moments is None:  # zeros indexable by every (input, output) pair of a cross-layer block
        cross = np.zeros((max(a.shape), max(g.shape)))
    else:
        cross = np.asarray(cross_moments, dtype=float)
        if a.shape[0] != a.shape[1] or g.shape[0] != g.shape[1] or cross.shape != (a.shape[0], g.shape[0]):
            raise ValueError(f"cross_moments must be (in, out) = {(a.shape[0], g.shape[0])} for square moments, "
                             f"got {cross.shape} with input_moments {a.shape}, gradient_moments {g.shape}")
    k, i, l, j = np.meshgrid(np.arange(g.shape[0]), np.arange(a.shape[0]), np.arange(g.shape[1]),
                             np.arange(a.shape[1]), indexing="ij")
    values = entry.jax(a[i, j], g[k, l], cross[i, k], cross[j, l], cross[i, l], cross[j, k])
    return np.asarray(values).reshape(g.shape[0] * a.shape[0], g.shape[1] * a.shape[1])
