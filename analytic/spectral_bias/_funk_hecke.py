r"""Eigenvalues of the two-layer ReLU NTK on the sphere, by the Funk-Hecke formula.

The model. A two-layer ReLU network in NTK parameterisation,
$f(x) = \tfrac{1}{\sqrt m}\sum_{j=1}^m a_j\,\mathrm{relu}(w_j\cdot x)$ with $a_j \sim N(0, 1)$,
$w_j \sim N(0, I_d)$, no bias, both layers trained, on inputs $x$ on the unit sphere
$S^{d-1}$. Its NTK is a dot-product kernel of $t = x\cdot x'$ built from the kernels
family's arc-cosine maps (``kernels.relu_nngp`` and ``kernels.relu_derivative`` at
$k_{11} = k_{22} = 1$, $k_{12} = t$):
$$\Theta(t) = \kappa_1(t) + t\,\kappa_0(t),\quad \kappa_1 = \frac{\sqrt{1-t^2} + (\pi - \arccos t)\,t}{2\pi},\quad
\kappa_0 = \frac{\pi - \arccos t}{2\pi}.$$
The operator $T f(x) = \mathbb E_{x'\sim \mathrm{Unif}(S^{d-1})}[\Theta(x\cdot x') f(x')]$ is diagonal
in spherical harmonics: on every harmonic of degree $k$ it multiplies by (Funk-Hecke)
$$\lambda_k = c_d\int_{-1}^{1}\Theta(t)\,P_k(t)\,(1-t^2)^{(d-3)/2}\,dt,\qquad
c_d = \frac{\Gamma(d/2)}{\sqrt\pi\,\Gamma((d-1)/2)},$$
$P_k$ the Gegenbauer polynomial $C_k^{(d-2)/2}$ normalised to $P_k(1) = 1$ (Legendre for $d = 3$).

The derivation (sympy, for every $d \ge 3$ and degree $k$ at once). For a homogeneous
activation $\sigma$ and $w = r\hat w$, $E_w[\sigma(w\cdot x)\sigma(w\cdot x')] = E[r^{2\alpha}]\,
E_{\hat w}[\ldots]$ and, by the addition theorem, the second factor has eigenvalue $\mu_k(\sigma)^2$
where $\mu_k(\sigma) = c_d\int_{-1}^1\sigma(t)P_k(t)(1-t^2)^{(d-3)/2}dt$ is the activation's own
Funk-Hecke coefficient (Bietti & Mairal 2019, sec. 4 and appendix; Bach 2017 for arc-cosine
kernels; numbers of their propositions unconfirmed). Rodrigues' formula
$P_k(t)(1-t^2)^{(d-3)/2} = \frac{(-1)^k\Gamma(\frac{d-1}2)}{2^k\Gamma(k+\frac{d-1}2)}\frac{d^k}{dt^k}(1-t^2)^{k+(d-3)/2}$
and integration by parts on $[0, 1]$ reduce $\mu_k$ to one Taylor coefficient of
$g(t) = (1-t^2)^{k+(d-3)/2}$ at $0$ (its derivatives of order $< k$ vanish at $t = 1$):
$\mu_k(\mathrm{step}) = -c_d R_k\,g^{(k-1)}(0)$ (nonzero for odd $k$ only),
$\mu_k(\mathrm{relu}) = c_d R_k\,g^{(k-2)}(0)$ (nonzero for even $k \ge 2$ only), and
$\mu_0, \mu_1$ from the Beta integral $\int_0^1 t^p(1-t^2)^q dt = B(\tfrac{p+1}2, q+1)/2$.
The first-layer term $x\cdot x'\,\kappa_0$ mixes degrees by the recurrence
$tP_k = [kP_{k-1} + (k+d-2)P_{k+1}]/(2k+d-2)$; with $N_k$ the number of harmonics of degree $k$,
$$\lambda_k = d\,\mu_k(\mathrm{relu})^2 + \frac{1}{N_k}\Big[\mu_{k+1}(\mathrm{step})^2 N_{k+1}\frac{k+1}{2k+d}
+ \mu_{k-1}(\mathrm{step})^2 N_{k-1}\frac{k+d-3}{2k+d-4}\Big].$$
sympy simplifies it to ``ntk_eigenvalue_constant`` $= \frac{(d+1)\Gamma(d/2)^2}{4\pi\Gamma((d+1)/2)^2}$,
``ntk_eigenvalue_linear`` $= \frac1{2d}$, zero for odd $k \ge 3$ (no bias input: every odd
coefficient of degree $\ge 3$ vanishes), and for even $k \ge 2$ (``ntk_eigenvalue_even``)
$$\lambda_k = \frac{\Gamma(d/2)^2\,\Gamma(\frac{k-1}{2})^2\,\big(k^2 + (d-2)k + d + 1\big)}
{16\pi^2\,\Gamma(\frac{d+k+1}{2})^2} \sim \frac{2^{d-2}\Gamma(d/2)^2}{\pi^2}\,k^{-d}.$$
For $d = 3$: $\lambda_0 = 1/4$, $\lambda_1 = 1/6$, $\lambda_2 = 5/128$, $\lambda_4 = 1/384$, $\lambda_6 = 23/32768$.
"""

from __future__ import annotations

import jax
import numpy as np
import sympy as sp
from sympy.utilities.lambdify import implemented_function

from analytic._registry import Formulas
from analytic.formula import Formula
from analytic.references import cite
from analytic.spectral_bias._symbols import d, degree

FORMULAS = Formulas("spectral_bias")

_t = sp.Symbol("t", real=True)  # the dot product x.x' = cos(angle) of two inputs on the sphere
_m = sp.Symbol("m", integer=True, nonnegative=True)  # k = 2m + 1 (odd) or k = 2m + 2 (even)

# log Gamma evaluated by JAX (lambdify would map sympy's gamma to the math module, which cannot take
# arrays); sympy keeps the unevaluated function, so the exact ``expr`` keeps sympy's gamma
_log_gamma = implemented_function("spectral_bias_log_gamma", lambda x: jax.scipy.special.gammaln(x))

_DIM_DOMAIN = sp.Interval(3, 30)  # d >= 3 (N_k below needs Gamma(d - 2)); d <= 30 keeps log-Gamma sums small
_SOURCE = cite("bietti2019", "sec. 4 and appendix (Mercer decomposition of the two-layer ReLU NTK; "
               "proposition numbers unconfirmed)")
_CONDITIONS = ("two-layer ReLU network, NTK parameterisation, no bias, both layers trained, w ~ N(0, I_d), "
               "a ~ N(0, 1); inputs uniform on the unit sphere S^(d-1)",
               "eigenvalue of T f(x) = E_{x' ~ Unif(S^(d-1))}[Theta(x.x') f(x')] on spherical harmonics of this degree")


def funk_hecke_constant(dim) -> sp.Expr:
    """$c_d = \\Gamma(d/2)/(\\sqrt\\pi\\,\\Gamma((d-1)/2))$: the density of $t = x\\cdot x'$ is $c_d (1-t^2)^{(d-3)/2}$."""
    return sp.gamma(sp.S(dim) / 2) / (sp.sqrt(sp.pi) * sp.gamma((sp.S(dim) - 1) / 2))


def gegenbauer(k: int, dim: int, t=_t) -> sp.Expr:
    """The degree-``k`` Gegenbauer polynomial in dimension ``dim``, normalised to 1 at t = 1 (exact, sympy).

    Example:
        >>> from analytic.spectral_bias import gegenbauer
        >>> gegenbauer(2, 3)   # Legendre P_2 on S^2
        3*t**2/2 - 1/2
    """
    nu = sp.Rational(int(dim) - 2, 2)
    if nu == 0:
        return sp.expand(sp.chebyshevt(int(k), t))
    poly = sp.gegenbauer(int(k), nu, t)
    return sp.expand(poly / poly.subs(t, 1))


def harmonic_count(k, dim) -> sp.Expr:
    """$N_k = (2k + d - 2)\\,\\Gamma(k + d - 2) / (\\Gamma(k + 1)\\Gamma(d - 1))$: harmonics of degree k on $S^{d-1}$."""
    k, dim = sp.S(k), sp.S(dim)
    return (2 * k + dim - 2) * sp.gamma(k + dim - 2) / (sp.gamma(k + 1) * sp.gamma(dim - 1))


def _rodrigues_factor(k) -> sp.Expr:
    """$R_k$ in $P_k(t)(1-t^2)^{(d-3)/2} = R_k\\,\\frac{d^k}{dt^k}(1-t^2)^{k+(d-3)/2}$."""
    return (-1) ** k * sp.gamma((d - 1) / 2) / (2**k * sp.gamma(k + (d - 1) / 2))


def _taylor_at_zero(k, order) -> sp.Expr:
    """The ``order``-th derivative at t = 0 of $g(t) = (1 - t^2)^{k + (d-3)/2}$, ``order`` = 2j even:
    $(2j)!\\binom{k + (d-3)/2}{j}(-1)^j$ (the binomial series of g in $t^2$)."""
    j = order / 2
    return sp.factorial(order) * sp.binomial(k + (d - 3) / 2, j) * (-1) ** j


def _half_moment(p, q) -> sp.Expr:
    """$\\int_0^1 t^p (1 - t^2)^q\\,dt = B((p+1)/2, q + 1)/2$ (substitute $u = t^2$)."""
    return sp.gamma(sp.S(p + 1) / 2) * sp.gamma(q + 1) / (2 * sp.gamma(sp.S(p + 1) / 2 + q + 1))


def step_coefficient(k) -> sp.Expr:
    r"""$\mu_k(\mathrm{step})$, the Funk-Hecke coefficient of $\mathbf 1[t > 0]$ (symbolic in ``d``).

    $k = 0$: $c_d\int_0^1 (1-t^2)^{(d-3)/2}dt = 1/2$. Odd $k = 2m + 1$:
    $\int_0^1 \frac{d^k g}{dt^k} = -g^{(k-1)}(0)$. Even $k \ge 2$: 0 ($g^{(k-1)}(0)$ is an odd derivative of an even function).
    """
    k = sp.S(k)
    if k == 0:
        return sp.gammasimp(funk_hecke_constant(d) * _half_moment(0, (d - 3) / 2))
    if k.is_integer and k.is_even:
        return sp.S.Zero
    return sp.gammasimp(-funk_hecke_constant(d) * _rodrigues_factor(k) * _taylor_at_zero(k, k - 1))


def relu_coefficient(k) -> sp.Expr:
    r"""$\mu_k(\mathrm{relu})$, the Funk-Hecke coefficient of $\max(t, 0)$ (symbolic in ``d``).

    $k = 0, 1$: Beta integrals ($\mu_1 = 1/(2d)$). $k \ge 2$: by parts twice,
    $\int_0^1 t\,\frac{d^k g}{dt^k} = -\int_0^1\frac{d^{k-1}g}{dt^{k-1}} = g^{(k-2)}(0)$, zero for odd $k$.
    """
    k = sp.S(k)
    if k in (0, 1):
        return sp.gammasimp(funk_hecke_constant(d) * _half_moment(int(k) + 1, (d - 3) / 2))
    if k.is_integer and k.is_odd:
        return sp.S.Zero
    return sp.gammasimp(funk_hecke_constant(d) * _rodrigues_factor(k) * _taylor_at_zero(k, k - 2))


def _ntk_eigenvalue_general(k) -> sp.Expr:
    """d mu_k(relu)^2 + the first-layer term x.x' kappa_0 moved between degrees by t P_k's recurrence."""
    k = sp.S(k)
    second_layer = d * relu_coefficient(k) ** 2
    up = step_coefficient(k + 1) ** 2 * harmonic_count(k + 1, d) * (k + 1) / (2 * k + d)
    down = 0 if k == 0 else step_coefficient(k - 1) ** 2 * harmonic_count(k - 1, d) * (k + d - 3) / (2 * k + d - 4)
    return second_layer + (up + down) / harmonic_count(k, d)


def _gamma_prefactor(k) -> sp.Expr:
    """$\\Gamma(d/2)^2\\Gamma((k-1)/2)^2 / (\\pi^2\\Gamma((d+k+1)/2)^2)$, the common factor of even degrees."""
    return sp.gamma(d / 2) ** 2 * sp.gamma((k - 1) / 2) ** 2 / (sp.pi**2 * sp.gamma((d + k + 1) / 2) ** 2)


def ntk_kernel(t=_t) -> sp.Expr:
    """Theta(t) of the two-layer ReLU NTK on the sphere, from the kernels family's arc-cosine Formulas.

    Example:
        >>> from analytic.spectral_bias import ntk_kernel
        >>> ntk_kernel(1)   # Theta(x, x) = E[relu(u)^2] + E[relu'(u)^2] = 1/2 + 1/2
        1
    """
    from analytic import get
    from analytic.kernels import symbols

    k11, k12, k22 = symbols.k11, symbols.k12, symbols.k22

    unit = {k11: 1, k22: 1, k12: t}
    nngp = get("kernels.relu_nngp").expr.subs(unit)
    derivative = get("kernels.relu_derivative").expr.subs(unit)
    return sp.simplify(nngp + t * derivative)


@FORMULAS.register("ntk_eigenvalue_constant")
def _ntk_eigenvalue_constant() -> Formula:
    expr = sp.simplify(sp.gammasimp(_ntk_eigenvalue_general(0)))
    return Formula(
        expr=expr, params=(d,), domains={"d": _DIM_DOMAIN},
        evaluate_as=(d + 1) * sp.exp(2 * (_log_gamma(d / 2) - _log_gamma((d + 1) / 2))) / (4 * sp.pi),
        source=_SOURCE, derived=True,
        derivation="sympy: d mu_0(relu)^2 + mu_1(step)^2 N_1 / d, the Funk-Hecke coefficients from Beta "
                   "integrals and Rodrigues' formula (gammasimp)",
        conditions=_CONDITIONS, description="NTK eigenvalue lambda_0 of the constant function on S^(d-1)",
    )


@FORMULAS.register("ntk_eigenvalue_linear")
def _ntk_eigenvalue_linear() -> Formula:
    return Formula(
        expr=sp.simplify(sp.gammasimp(_ntk_eigenvalue_general(1))), params=(d,), domains={"d": _DIM_DOMAIN},
        source=_SOURCE, derived=True,
        derivation="sympy: d mu_1(relu)^2 + mu_0(step)^2 N_0 / N_1 (mu_2(step) = 0)",
        conditions=_CONDITIONS, description="NTK eigenvalue lambda_1 of the linear harmonics x.e on S^(d-1)",
    )


@FORMULAS.register("ntk_eigenvalue_even")
def _ntk_eigenvalue_even() -> Formula:
    general = _ntk_eigenvalue_general(2 * _m + 2)  # every even degree >= 2 at once: k = 2m + 2
    ratio = sp.factor(sp.expand_func(sum(sp.gammasimp(term / _gamma_prefactor(2 * _m + 2))
                                         for term in sp.Add.make_args(sp.expand(general)))))
    polynomial = sp.expand(ratio.subs(_m, (degree - 2) / 2))
    if polynomial.free_symbols - {d, degree}:
        raise AssertionError(f"spectral_bias.ntk_eigenvalue_even: the Gamma factors did not cancel: {polynomial}")
    expr = _gamma_prefactor(degree) * polynomial
    log_prefactor = 2 * (_log_gamma(d / 2) + _log_gamma((degree - 1) / 2) - _log_gamma((d + degree + 1) / 2))
    return Formula(
        expr=expr, params=(degree, d), domains={"degree": sp.Interval(2, 200), "d": _DIM_DOMAIN},
        evaluate_as=sp.exp(log_prefactor) * polynomial / sp.pi**2,
        source=_SOURCE, derived=True,
        derivation="sympy: d mu_k(relu)^2 + [mu_(k+1)(step)^2 N_(k+1) (k+1)/(2k+d) + mu_(k-1)(step)^2 "
                   "N_(k-1) (k+d-3)/(2k+d-4)] / N_k at k = 2m + 2, each mu_k by Rodrigues' formula and one "
                   "Taylor coefficient; divided by Gamma(d/2)^2 Gamma(m+1/2)^2 / (pi^2 Gamma(d/2+m+3/2)^2), "
                   "gammasimp + expand_func leave a polynomial",
        conditions=(*_CONDITIONS, "even degree >= 2 only: odd degrees >= 3 have lambda_k = 0 (no bias input), "
                    "which this form does not give (use ntk_eigenvalue, which dispatches on the parity)"),
        description="NTK eigenvalue lambda_k of the degree-k spherical harmonics, k even >= 2 (decays like k^-d)",
    )


def _call(formula: Formula, **values):
    return formula.jax(*(values[name] for name in formula.param_names))


def ntk_eigenvalue(degrees, dim, *, formulas: dict[str, Formula] | None = None) -> np.ndarray:
    r"""$\lambda_k$ of the two-layer ReLU NTK on $S^{d-1}$ for integer ``degrees`` (any parity), float64.

    Degree 0 and 1: ``ntk_eigenvalue_constant`` and ``ntk_eigenvalue_linear``; odd degrees
    $\ge 3$: 0; even degrees $\ge 2$: ``ntk_eigenvalue_even``. ``formulas`` overrides them by
    short name (the checks' negative controls).

    Example:
        >>> from analytic import spectral_bias
        >>> spectral_bias.ntk_eigenvalue([0, 1, 2, 3, 4], 3) * 384   # 1/4, 1/6, 5/128, 0, 1/384
        array([96., 64., 15.,  0.,  1.])
    """
    chosen = {short: FORMULAS[short]() for short in FORMULAS}
    chosen.update(formulas or {})
    k = np.asarray(degrees, dtype=float)
    if k.size and (np.any(k != np.round(k)) or np.any(k < 0) or np.any(k > 200)):
        raise ValueError(f"degrees must be whole numbers in [0, 200], got {degrees!r}")
    dim_value = float(dim)
    if dim_value != round(dim_value) or not 3 <= dim_value <= 30:
        raise ValueError(f"dim must be a whole number in [3, 30], got {dim!r}")
    even = np.asarray(_call(chosen["ntk_eigenvalue_even"], degree=np.maximum(k, 2.0), d=dim_value))
    out = np.where(k % 2 == 0, even, 0.0)
    out = np.where(k == 0, float(_call(chosen["ntk_eigenvalue_constant"], d=dim_value)), out)
    return np.where(k == 1, float(_call(chosen["ntk_eigenvalue_linear"], d=dim_value)), out)
