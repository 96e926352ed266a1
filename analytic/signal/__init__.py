r"""Signal propagation and initialisation: Kaiming and Xavier derived, order/chaos, depth scales.

Model statement. A deep fully-connected network at initialisation, $h^{l+1} =
\frac{\sigma_w}{\sqrt{n}} W^{l+1}\phi(h^l) + \sigma_b b^{l+1}$ with i.i.d. $N(0, 1)$ entries (the
conventions of :func:`analytic.kernels.fc_kernels`; per-weight variance $\sigma_w^2/\mathrm{fan\_in}$).
At infinite width the pre-activation variance follows $q^{l+1} = \sigma_w^2 E[\phi(\sqrt{q^l}z)^2]
+ \sigma_b^2$ to a fixed point $q^*$, correlations follow the correlation map to $c^*$, and squared
gradient norms gain $\chi_1 = \sigma_w^2 E[\phi'(\sqrt{q^*}z)^2]$ per layer backwards:
$\chi_1 < 1$ is the ordered phase (vanishing gradients, inputs merge), $\chi_1 > 1$ the chaotic
phase (exploding gradients), $\chi_1 = 1$ the edge of chaos where the depth scale
$\xi_c = -1/\log\chi_c$ diverges and arbitrarily deep networks train.

Sources: Poole et al. 2016, arXiv:1606.05340v2; Schoenholz et al. 2017, arXiv:1611.01232v2
(eqs. (3)-(9), numbers unconfirmed; trainable depth ~ 6 xi_c); He et al. 2015, arXiv:1502.01852v1 (Kaiming);
Glorot and Bengio 2010 (AISTATS; Xavier); Pennington, Schoenholz, Ganguli 2017, arXiv:1711.04735v1
(Jacobian spectra, dynamical isometry; equation numbers unconfirmed).

Derived by sympy from the kernels family's maps: ``kaiming_variance`` (2/fan_in),
``xavier_variance`` (2/(fan_in + fan_out)), ``relu_xavier_variance``, ``relu_critical_sigma_w``
(sqrt 2), ``zero_bias_critical_sigma_w`` (1/phi'(0): Xavier's sigma_w = 1 for tanh and linear),
``erf_order_chaos_boundary`` (sigma_b(sigma_w) in closed form), ``depth_scale``,
``gradient_growth`` (chi_1^(L-l), by rsolve), ``gaussian_jacobian_moments`` (Fuss-Catalan m_1..m_4 of the
squared Jacobian singular values of a critical deep linear network, by S-transforms and Lagrange
inversion: :func:`fuss_catalan`, :func:`lagrange_moment`) and ``orthogonal_jacobian_moments`` (all 1).
Numerical for any activation (Gauss-Hermite):
:func:`variance_fixed_point`, :func:`chi1`, :func:`depth_scales`, :func:`critical_init`,
:func:`order_chaos_boundary`, :func:`init_variance`.

Modules: ``_initialisation`` (the Formulas), ``_propagation`` (the numerical maps), ``_jacobian``
(Jacobian spectra), ``_symbols``.

Example:
    >>> from analytic import signal
    >>> signal.kaiming_variance.expr, signal.xavier_variance.expr
    (2/fan_in, 2/(fan_in + fan_out))
    >>> signal.kaiming_variance(fan_in=512)
    Array(0.00390625, dtype=float64)
    >>> signal.critical_init("relu", sigma_b=0.1)   # sqrt(2) at every sigma_b
    1.4142135623730951
    >>> round(signal.critical_init("tanh", sigma_b=0.0), 6)   # Xavier: sigma_w = 1
    1.0
    >>> signal.gaussian_jacobian_moments.expr[1]   # m_2: the spread m_2 - m_1^2 = L grows with depth
    layers + 1
"""

from analytic._registry import Formulas
from analytic.signal import _initialisation, _jacobian
from analytic.signal import _symbols as symbols
from analytic.signal._jacobian import fuss_catalan, lagrange_moment, moment_equation, one_layer_s_transform
from analytic.signal._propagation import (DepthScales, chi1, critical_init, depth_scales, init_variance,
                                          order_chaos_boundary, variance_fixed_point, variance_map)

__all__ = ["FORMULAS", "DepthScales", "fuss_catalan", "lagrange_moment", "moment_equation",
           "one_layer_s_transform", "chi1", "critical_init", "depth_scales", "init_variance",
           "order_chaos_boundary", "variance_fixed_point", "variance_map", "symbols"]

FORMULAS = Formulas.merge(_initialisation.FORMULAS, _jacobian.FORMULAS)
__getattr__ = FORMULAS.module_getattr(__name__)
