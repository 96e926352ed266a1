r"""Simplicity bias as spectral bias: the two-layer ReLU NTK on the sphere and its per-degree learning rates.

The NTK of a bias-free two-layer ReLU network (NTK parameterisation, both layers trained) is a
dot-product kernel $\Theta(x\cdot x')$ on $S^{d-1}$ (:func:`ntk_kernel`, from the kernels family's
arc-cosine maps). By Funk-Hecke its integral operator multiplies every spherical harmonic of
degree $k$ by $\lambda_k$ (``_funk_hecke``; Bietti & Mairal 2019, arXiv:1905.12173v2, sec. 4;
Basri et al. 2019, arXiv:1906.00425v3): sympy derives $\lambda_0$, $\lambda_1 = 1/(2d)$, $\lambda_k = 0$
for odd $k \ge 3$ and a closed form for even $k \ge 2$ that decays like $k^{-d}$
(:func:`ntk_eigenvalue` dispatches on the degree). With the loss $\tfrac1{2n}\sum(f - y)^2$ and
$n$ large, GD shrinks the degree-$k$ part of the residual by $1 - \eta\lambda_k$ per step
(``_dynamics``), so low degrees are learned first (Nakkiran et al. 2019).

Example:
    >>> from analytic import spectral_bias
    >>> spectral_bias.ntk_eigenvalue_even(degree=2, d=3)   # 5/128
    Array(0.0390625, dtype=float64)
    >>> spectral_bias.ntk_eigenvalue_linear.expr
    1/(2*d)
    >>> spectral_bias.degree_residual.expr
    (-eta*lam + 1)**t
"""

from analytic._registry import Formulas
from analytic.spectral_bias import _dynamics, _funk_hecke
from analytic.spectral_bias import _symbols as symbols
from analytic.spectral_bias._funk_hecke import (funk_hecke_constant, gegenbauer, harmonic_count, ntk_eigenvalue,
                                                ntk_kernel, relu_coefficient, step_coefficient)

__all__ = ["FORMULAS", "funk_hecke_constant", "gegenbauer", "harmonic_count", "ntk_eigenvalue", "ntk_kernel",
           "relu_coefficient", "step_coefficient", "symbols"]

FORMULAS = Formulas.merge(_funk_hecke.FORMULAS, _dynamics.FORMULAS)
FORMULAS.publish(globals())
