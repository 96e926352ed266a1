# TEMPORARY during the package-per-family refactor: the old flat symbol table, used only by
# families not yet converted. Deleted when the last family has its own _symbols.py.
"""Every sympy Symbol the toolkit uses, created once, with its assumptions.

``Symbol('x') != Symbol('x', positive=True)``: two modules that each create "the
same" symbol with different assumptions produce expressions that silently do not
combine. So all symbols live here, grouped by family, and formulas import them.

The assumptions double as the default valid range of a parameter when a
:class:`~analytic.formula.Formula` is evaluated (``positive`` -> (0, oo),
``nonnegative`` -> [0, oo), ``nonnegative integer`` -> {0, 1, 2, ...}); a formula can
narrow a range further (for example ``kappa >= 1``).

The eigenvalue is ``lam``: ``lambda`` cannot be a keyword argument.
"""

from __future__ import annotations

from sympy import Symbol

# --- linear regression / gradient descent (analytic.linreg) ---------------------
eta = Symbol("eta", positive=True)  # learning rate
lam = Symbol("lam", nonnegative=True)  # an eigenvalue of the Hessian H = X^T X / n
lam_min = Symbol("lam_min", positive=True)
lam_max = Symbol("lam_max", positive=True)
t = Symbol("t", nonnegative=True)  # time: GD step count or gradient-flow time
e0 = Symbol("e0", real=True)  # initial error along one eigen-direction
kappa = Symbol("kappa", positive=True)  # condition number lam_max / lam_min (>= 1)
eps = Symbol("eps", positive=True)  # target relative error
gamma = Symbol("gamma", positive=True)  # aspect ratio d / n
r2 = Symbol("r2", nonnegative=True)  # signal strength ||beta||^2
sigma2 = Symbol("sigma2", nonnegative=True)  # label-noise variance
ridge = Symbol("ridge", positive=True)  # ridge penalty (lambda of ridge regression)
rho = Symbol("rho", real=True)  # correlation between two features
scale = Symbol("scale", positive=True)  # ratio of two feature scales

# --- kernels of wide networks (analytic.kernels) ---------------------------------
k11 = Symbol("k11", positive=True)
k22 = Symbol("k22", positive=True)
k12 = Symbol("k12", real=True)
q = Symbol("q", positive=True)  # pre-activation variance (diagonal of the kernel)
sigma_w = Symbol("sigma_w", nonnegative=True)  # weight standard deviation
sigma_b = Symbol("sigma_b", nonnegative=True)  # bias standard deviation

# --- momentum (analytic.momentum) -------------------------------------------------
alpha = Symbol("alpha", positive=True)  # step size
beta = Symbol("beta", nonnegative=True)  # momentum coefficient
mu = Symbol("mu", positive=True)  # smallest Hessian eigenvalue
L = Symbol("L", positive=True)  # largest Hessian eigenvalue

# --- noisy quadratic model (analytic.nqm) ----------------------------------------
h = Symbol("h", positive=True)  # curvature of one dimension
c = Symbol("c", nonnegative=True)  # gradient-noise scale of one dimension
B = Symbol("B", positive=True)  # batch size (>= 1)
p = Symbol("p", real=True)  # preconditioning power

# --- deep linear networks (analytic.deeplinear) ----------------------------------
s = Symbol("s", positive=True)  # a singular value of the input-output correlation
u0 = Symbol("u0", positive=True)
uf = Symbol("uf", positive=True)
tau = Symbol("tau", positive=True)  # time constant (1 / learning rate)
N = Symbol("N", positive=True, integer=True)  # number of weight matrices
sigma0 = Symbol("sigma0", positive=True)

# Families may append symbols below, in a section of their own.

# --- nqm (added) -----------------------------------------------------------------
theta_sq = Symbol("theta_sq", nonnegative=True)  # E[theta_t^2] in one NQM dimension
theta_cross = Symbol("theta_cross", real=True)  # E[theta_t theta_{t-1}]
theta_prev_sq = Symbol("theta_prev_sq", nonnegative=True)  # E[theta_{t-1}^2]

# --- kernels (added) ---------------------------------------------------------------
angle = Symbol("angle", nonnegative=True)  # angle between two pre-activations, in [0, pi]

# --- deeplinear (added) -------------------------------------------------------------
u = Symbol("u", positive=True)  # mode strength of a two-layer network (product of layer strengths)
sigma = Symbol("sigma", positive=True)  # a singular value of the end-to-end map W_N ... W_1
sigmaf = Symbol("sigmaf", positive=True)  # target value of sigma for a learning time
