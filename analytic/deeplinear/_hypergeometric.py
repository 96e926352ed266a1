r"""${}_2F_1(1, b; b+1; x)$ as a sympy Function with its own JAX evaluator.

The time integral of the depth-N singular-value dynamics (``arora_learning_time`` in
``_mode_dynamics``) is a Lerch Phi, i.e. this one-parameter Gauss hypergeometric family. ``sympy.hyper`` has no
JAX printer, and ``jax.scipy.special.hyp2f1`` compiles slowly when its parameters are
traced, so this module supplies both the symbol and a short series evaluator.
"""

from __future__ import annotations

import jax
import jax.numpy as jnp
import jax.scipy.special
import sympy as sp
from sympy.core.function import ArgumentIndexError

__all__ = ["hyp2f1_one"]


class hyp2f1_one(sp.Function):  # noqa: N801 - the name is what lambdify prints
    r"""${}_2F_1(1, b; b+1; x) = \sum_{k\ge0} \frac{b}{b+k}x^k$ (i.e. $b\,\Phi(x, 1, b)$), $x < 1$.

    ``sympy.hyper`` has no JAX printer (and ``jax.scipy.special.hyp2f1`` compiles slowly
    when its parameters are traced), so this one-parameter family is a sympy Function
    that carries its own JAX evaluator ``_imp_`` (picked up by ``lambdify``), its
    $x$-derivative $F' = \frac{b}{x}\left(\frac1{1-x} - F\right)$, and a rewrite to
    ``sympy.hyper`` for symbolic work and mpmath evaluation.
    """

    nargs = 2
    _imp_ = staticmethod(lambda b, x: _hyp2f1_one_jax(b, x))

    def fdiff(self, argindex=2):
        if argindex != 2:
            raise ArgumentIndexError(self, argindex)
        b, x = self.args
        return b / x * (1 / (1 - x) - self)

    def _eval_rewrite_as_hyper(self, b, x, **kwargs):
        return sp.hyper([1, b], [b + 1], x)

    def _eval_evalf(self, prec):
        b, x = self.args
        return sp.hyper([1, b], [b + 1], x)._eval_evalf(prec)


_TERMS = 64  # both series below converge at least like 2^-k: 64 terms reach float64 round-off


def _hyp2f1_one_jax(b, x):
    r"""JAX ${}_2F_1(1, b; b+1; x)$ for $x < 1$ and $b > -1$, $b \ne 0$ (float dtype of x).

    $x \le 1/2$: the power series $\sum_k b x^k/(b+k)$. $x > 1/2$: the logarithmic
    $1-x$ expansion (Abramowitz and Stegun 15.3.10 with $a = 1$, $c = a + b$):
    $b\sum_n \frac{(b)_n}{n!}\left[\psi(n+1) - \psi(b+n) - \log(1-x)\right](1-x)^n$,
    with $(b)_n/n! = \pm\exp(\log\Gamma(b+n) - \log\Gamma(b) - \log n!)$, negative for
    $n \ge 1$ when $-1 < b < 0$. Both series shrink at least like $2^{-k}$.
    """
    b, x = jnp.broadcast_arrays(jnp.asarray(b), jnp.asarray(x))
    dtype = jnp.result_type(b, x, float)
    b, x = b.astype(dtype)[..., None], x.astype(dtype)[..., None]
    k = jnp.arange(_TERMS, dtype=dtype)
    near0 = x <= 0.5
    x_low = jnp.where(near0, x, 0.25)  # each branch sees a safe argument (no NaN gradients)
    x_high = jnp.where(near0, 0.75, x)
    low = jnp.sum(b / (b + k) * x_low**k, axis=-1)
    gammaln = jax.scipy.special.gammaln
    sign = jnp.where((k == 0) | (b > 0), 1.0, -1.0)
    pochhammer_ratio = sign * jnp.exp(gammaln(b + k) - gammaln(b) - gammaln(k + 1))  # (b)_n / n!
    digamma = jax.scipy.special.digamma
    bracket = digamma(k + 1) - digamma(b + k) - jnp.log1p(-x_high)
    high = b[..., 0] * jnp.sum(pochhammer_ratio * bracket * (1 - x_high) ** k, axis=-1)
    return jnp.where(near0[..., 0], low, high)
