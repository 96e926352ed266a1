r"""Kernels of infinitely wide fully-connected networks: NNGP and NTK, ReLU and erf.

Model statement. For a pair of pre-activations
$(u, v) \sim \mathcal N\!\left(0, \begin{pmatrix}k_{11} & k_{12}\\ k_{12} & k_{22}\end{pmatrix}\right)$
a nonlinearity $\phi$ has the *dual* (NNGP map) $E[\phi(u)\phi(v)]$ and the
*derivative kernel* $E[\phi'(u)\phi'(v)]$. Price's theorem (Price 1958) says that
for Gaussian pairs $\partial_{k_{12}} E[\phi(u)\phi(v)] = E[\phi'(u)\phi'(v)]$, so the
derivative kernels here are *derived* by ``sympy.diff`` of the stated NNGP maps; the
published closed forms are assertions in ``tests/test_kernels.py``.

* ReLU: the arc-cosine kernel of degree 1, Cho and Saul 2009 ("Kernel Methods for Deep
  Learning", NIPS, eq. (6) with n = 1), written with $\cos\theta = k_{12}/\sqrt{k_{11}k_{22}}$:
  $E = \frac{\sqrt{k_{11}k_{22}}}{2\pi}\,(\sin\theta + (\pi-\theta)\cos\theta)$.
* erf: Williams 1997 ("Computing with Infinite Networks", NIPS, eq. (11)):
  $E = \frac{2}{\pi}\arcsin\frac{2k_{12}}{\sqrt{(1+2k_{11})(1+2k_{22})}}$.

The depth recursion (Lee et al. 2018, arXiv:1711.00165v3, eq. (4); Jacot et al. 2018,
arXiv:1806.07572v4, Theorem 1; Lee et al. 2019, arXiv:1902.06720v4, eq. (10)) is
$K^{l+1} = \sigma_w^2 E_{K^l}[\phi\phi] + \sigma_b^2$ and
$\Theta^{l+1} = K^{l+1} + \sigma_w^2 E_{K^l}[\phi'\phi']\,\Theta^l$; the variance map and
$\chi_1 = \sigma_w^2 E[\phi'(z)^2]$ are those of Schoenholz et al. 2017
(arXiv:1611.01232v2, eqs. (3) and (5)); the standard parameterisation follows
Sohl-Dickstein et al. 2020 (arXiv:2001.07301v1).

Modules: ``_duals`` (dual maps, Price's-theorem derivatives, variance map, chi_1, angle
forms, symbolic depth-1/2 kernels), ``_named`` (the one-layer maps named per activation:
``relu_ntk``, ``erf_ntk``, ``relu_nngp_layer``, ``erf_nngp_layer``), ``_quadrature`` (Gauss-Hermite dual maps of any
elementwise activation, used by :func:`fc_kernels` for names other than relu/erf and for
callables), ``_fc`` (kernel matrices :func:`fc_kernels`,
:func:`variance_fixed_point`), ``_training`` (infinite-width prediction
:func:`infinite_width_mean`, :func:`max_learning_rate`), ``_blocked`` (the same kernels
over a device mesh, :func:`sharded_fc_kernels`, or streamed in row slabs,
:func:`stream_fc_kernels`), ``_matrix_free`` (the infinite-width mean prediction from
blockwise kernel mat-vecs, conjugate gradients and Lanczos: :func:`matrix_free_mean`,
:func:`kernel_matvec`, :func:`kernel_cg`), ``_preconditioner`` (a rank-k pivoted Cholesky
factor from k kernel columns and the preconditioner it gives CG: :func:`pivoted_cholesky`,
:func:`low_rank_preconditioner`), ``_disk`` (the kernel written to a file once and read
back for each product: :func:`cache_kernel`, :class:`DiskKernel`), ``_layers`` and ``_architecture`` (the
infinite-width kernels of CNNs, pooling, residual blocks and LayerNorm from plain-data layer
records: :func:`serial`), ``_safe_math`` (elementwise maths
with finite values and gradients at the edges), ``_symbols``.

Its direct simulation is ``numeric/kernels.py`` (the empirical NNGP and NTK of finite
MLPs in both parameterisations, from ``numeric/mlp.py``, which also trains them;
``numeric/signal.py`` covers other activations).

Example:
    >>> import jax.numpy as jnp
    >>> from analytic import kernels
    >>> kernels.relu_derivative_angular.expr
    (pi - angle)/(2*pi)
    >>> kernels.relu_nngp(k11=1.0, k22=1.0, k12=1.0)   # E[relu(z)^2] = 1/2
    Array(0.5, dtype=float64)
    >>> x = jnp.array([[1.0, 0.0], [0.0, 1.0]])
    >>> k = kernels.fc_kernels(x, None, depth=1, activation="relu", sigma_w=1.0, sigma_b=0.0)
    >>> k.nngp.dtype, round(float(k.nngp[0, 1]), 12)   # sqrt(k11 k22)/(2 pi), k11 = x.x/d = 1/2
    (dtype('float64'), 0.079577471546)
"""

from analytic._registry import Formulas
from analytic.kernels import _duals, _named
from analytic.kernels import _symbols as symbols
from analytic.kernels._duals import ACTIVATIONS
from analytic.kernels._quadrature import (NAMED_ACTIVATIONS, activation_derivative, activation_function,
                                          gaussian_expectation, pair_expectation)
from analytic.kernels._fc import (PARAMETERIZATIONS, Duals, Kernels, catalogue_duals, fc_kernels, quadrature_duals,
                                  variance_fixed_point)
from analytic.kernels._training import TrainingPrediction, infinite_width_mean, max_learning_rate
from analytic.kernels._blocked import sharded_fc_kernels, stream_fc_kernels
from analytic.kernels._matrix_free import MatrixFreePrediction, kernel_cg, kernel_matvec, matrix_free_mean
from analytic.kernels._preconditioner import LowRankFactor, low_rank_preconditioner, pivoted_cholesky
from analytic.kernels._disk import DiskKernel, cache_kernel
from analytic.kernels._layers import Activation, AvgPool, Conv, Dense, Flatten, GlobalAvgPool, LayerNorm, Residual
from analytic.kernels._architecture import Architecture, serial

PARAMETERISATIONS = PARAMETERIZATIONS  # the British spelling used in prose (both names stay valid)

__all__ = ["FORMULAS", "ACTIVATIONS", "PARAMETERIZATIONS", "PARAMETERISATIONS", "Duals", "Kernels", "catalogue_duals",
           "fc_kernels", "variance_fixed_point", "TrainingPrediction", "infinite_width_mean",
           "max_learning_rate", "symbols", "NAMED_ACTIVATIONS", "activation_function",
           "gaussian_expectation", "pair_expectation", "activation_derivative", "quadrature_duals",
           "sharded_fc_kernels", "stream_fc_kernels",
           "kernel_matvec", "kernel_cg", "MatrixFreePrediction", "matrix_free_mean", "LowRankFactor",
           "pivoted_cholesky", "low_rank_preconditioner", "DiskKernel", "cache_kernel",
           "serial", "Architecture", "Dense", "Conv", "Activation", "AvgPool", "GlobalAvgPool", "Flatten",
           "Residual", "LayerNorm"]

FORMULAS = Formulas.merge(_duals.FORMULAS, _named.FORMULAS)
FORMULAS.publish(globals())

# --- Formulas (generated by `python -m analytic._static_names`; do not edit) ---
from analytic.formula import Formula  # noqa: E402  (the annotations below)
__all__ += [
    "relu_nngp",
    "erf_nngp",
    "relu_derivative",
    "erf_derivative",
    "relu_variance_map",
    "erf_variance_map",
    "relu_chi1",
    "erf_chi1",
    "relu_variance_fixed_point",
    "relu_nngp_angular",
    "relu_derivative_angular",
    "relu_nngp_deficit",
    "erf_nngp_angular",
    "erf_derivative_angular",
    "relu_fc_depth1",
    "relu_fc_depth2",
    "erf_fc_depth1",
    "erf_fc_depth2",
    "relu_nngp_layer",
    "erf_nngp_layer",
    "relu_ntk",
    "erf_ntk",
]
relu_nngp: Formula  # declared in analytic.kernels._duals
erf_nngp: Formula  # declared in analytic.kernels._duals
relu_derivative: Formula  # declared in analytic.kernels._duals
erf_derivative: Formula  # declared in analytic.kernels._duals
relu_variance_map: Formula  # declared in analytic.kernels._duals
erf_variance_map: Formula  # declared in analytic.kernels._duals
relu_chi1: Formula  # declared in analytic.kernels._duals
erf_chi1: Formula  # declared in analytic.kernels._duals
relu_variance_fixed_point: Formula  # declared in analytic.kernels._duals
relu_nngp_angular: Formula  # declared in analytic.kernels._duals
relu_derivative_angular: Formula  # declared in analytic.kernels._duals
relu_nngp_deficit: Formula  # declared in analytic.kernels._duals
erf_nngp_angular: Formula  # declared in analytic.kernels._duals
erf_derivative_angular: Formula  # declared in analytic.kernels._duals
relu_fc_depth1: Formula  # declared in analytic.kernels._duals
relu_fc_depth2: Formula  # declared in analytic.kernels._duals
erf_fc_depth1: Formula  # declared in analytic.kernels._duals
erf_fc_depth2: Formula  # declared in analytic.kernels._duals
relu_nngp_layer: Formula  # declared in analytic.kernels._named
erf_nngp_layer: Formula  # declared in analytic.kernels._named
relu_ntk: Formula  # declared in analytic.kernels._named
erf_ntk: Formula  # declared in analytic.kernels._named
# --- end of generated Formulas ---
