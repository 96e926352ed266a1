r"""Deep linear networks: exact gradient-flow dynamics of the end-to-end singular values.

Model statement. A depth-$N$ linear network $y = W_N\cdots W_1 x$ trained on the summed
loss $L = \tfrac12\sum_\mu \lVert y^\mu - W_N\cdots W_1 x^\mu\rVert^2$ with whitened
inputs, $\sum_\mu x^\mu x^{\mu\top} = I$. Then
$L = \tfrac12\lVert\Sigma^{yx} - W_N\cdots W_1\rVert_F^2 + \text{const}$ with
$\Sigma^{yx} = \sum_\mu y^\mu x^{\mu\top} = U\,\mathrm{diag}(s_a)\,V^\top$. Started small,
*balanced* ($W_{j+1}^\top W_{j+1} = W_j W_j^\top$) and aligned with the singular vectors
(layer $j$ has strength $a_{j}$ in mode $a$), the modes decouple: mode $a$ sees the scalar
loss $\tfrac12(s_a - \prod_j a_j)^2$. Gradient flow with learning rate $1/\tau$
(GD with step $\eta$ at time $t = \eta\cdot\text{steps}$, $\tau = 1$; or, with $\tau =
1/\eta$, $t$ counts GD steps) is derived from that scalar loss.

* Two layers (Saxe, McClelland, Ganguli 2013, arXiv:1312.6120v3, section on exact
  solutions of two-layer learning dynamics): the mode strength $u = a_1 a_2$ obeys
  $\tau\,\dot u = 2u(s-u)$, a sigmoid; ``saxe_mode_strength``, ``saxe_learning_time``.
  The same equations hold for the mean loss $\tfrac1{2P}\sum_\mu$ with
  $\mathbb E[xx^\top] = I$ if $s$ are the singular values of $\mathbb E[yx^\top]$.
* Depth $N$ (Arora, Cohen, Hazan 2018, arXiv:1802.06509v2, Theorem 1 and the
  singular-value dynamics it implies): $\dot\sigma = N\sigma^{2-2/N}(s-\sigma)$ with
  $\tau = 1$; ``arora_singular_value_rate``, ``arora_learning_time`` (a Gauss
  hypergeometric function, ``hyp2f1_one``) and the JAX inversion ``arora_singular_value``.
* Depth 1: $\dot\sigma = s - \sigma$, an exponential, not a sigmoid: ``linear_mode_strength``.
* Symmetric square $B = A^2$ with $\dot B = -\sqrt B\,\nabla L(B)\sqrt B$: each eigenvalue
  obeys $\dot b = b(s-b)$, growth proportional to its size ("the big get bigger");
  ``symmetric_eigenvalue``.

Stage-like learning: the learning time $\propto 1/s$ (times a logarithm), so modes are
learned one after another, the largest singular value first.

Modules: ``_mode_dynamics`` (the Formulas, derived from the per-mode loss),
``_singular_value`` (the depth-$N$ inversion ``arora_singular_value``),
``_hypergeometric`` (``hyp2f1_one`` with its JAX series), ``_symbols``.

Example:
    >>> from analytic import deeplinear
    >>> deeplinear.saxe_learning_time(s=2.0, u0=0.5, uf=1.5, tau=1.0)   # log(9) / 4
    Array(0.54930614, dtype=float64)
    >>> deeplinear.arora_learning_time(N=2, s=2.0, sigma0=0.5, sigmaf=1.5)   # the same at depth 2
    Array(0.54930614, dtype=float64)
    >>> deeplinear.saxe_mode_strength.expr
    s*u0*exp(2*s*t/tau)/(s + u0*exp(2*s*t/tau) - u0)
    >>> deeplinear.arora_singular_value(3, s=1.0, sigma0=0.01, t=[0.0, 1.0, 3.768])
    Array([0.01      , 0.02046349, 0.49997811], dtype=float64)
"""

from analytic._registry import Formulas
from analytic.deeplinear import _mode_dynamics
from analytic.deeplinear import _symbols as symbols
from analytic.deeplinear._hypergeometric import hyp2f1_one
from analytic.deeplinear._singular_value import arora_singular_value

__all__ = ["FORMULAS", "arora_singular_value", "hyp2f1_one", "symbols"]

FORMULAS = Formulas.merge(_mode_dynamics.FORMULAS)
__getattr__ = FORMULAS.module_getattr(__name__)
