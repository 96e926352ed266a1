r"""A solvable scaling law: random features on a power-law spectrum, trained by one-pass SGD.

Model statement (Lin, Wu, Kakade, Bartlett, Lee 2024, arXiv:2406.08466v1, sec. 2, as this
project reads its abstract and setup): Gaussian inputs $x$ with covariance
$\mathrm{diag}(\lambda_k)$, $\lambda_k = k^{-\mathrm{decay}}$; a target $y = \langle w, x\rangle$ whose
signal per eigen-direction is $\lambda_k \mathbb E[w_k^2] = k^{-\mathrm{target\_decay}}$; a model
$\langle v, Sx\rangle$ with $M$ random features ($S$ Gaussian, $M \times \infty$), trained from
$v = 0$ by one-pass SGD with a constant step $\eta \lesssim 1/\mathrm{tr}(SHS^\top)$ on $D$ samples.
Their result (abstract of v1; the theorem number was not confirmed in this session) for
the Gaussian prior $w \sim N(0, I)$, i.e. target_decay = decay $= a > 1$: the expected risk
is $\sigma^2 + \Theta(M^{-(a-1)} + (\eta D)^{-(a-1)/a})$. Lin, Wu, Bartlett 2025
(arXiv:2506.08415v1, abstract) quote the one-pass rate $\Theta(M^{1-b} + D^{(1-b)/a})$ for a
prior with $\lambda_k \mathbb E w_k^2 \sim k^{-b}$, $1 < b < a$ (a = decay, b = target_decay).

Derived here by sympy at leading order (continuum sums, the top $M$ directions standing for
the sketch): the approximation error $\int_M^\infty k^{-\mathrm{target\_decay}}dk$ and the
gradient-flow bias $\int_0^\infty k^{-\mathrm{target\_decay}} e^{-2\eta D k^{-\mathrm{decay}}} dk$
(a Gamma function), whose elasticities give
$\alpha_M = \mathrm{target\_decay} - 1$ and $\beta_D = (\mathrm{target\_decay} - 1)/\mathrm{decay}$;
with compute $C \propto MD$ the Chinchilla frontier (``params_exponent``) gives
$M_{opt} \propto C^{\beta_D/(\alpha_M+\beta_D)} = C^{1/(1+\mathrm{decay})}$: the split depends on
the spectrum alone, not on the target.

The loss is $E + c_1 M^{-\alpha_M} + c_2 D^{-\beta_D}$ only up to constant factors (the
theorem is a $\Theta$): near the crossover $M \sim (\eta D)^{1/\mathrm{decay}}$ the two terms do
not add. The exponents are the claim.
"""

from __future__ import annotations

import functools

import sympy as sp

from analytic._registry import Formulas
from analytic.formula import Formula
from analytic.references import cite
from analytic.scaling._chinchilla import _params_exponent
from analytic.scaling._symbols import decay, target_decay
from analytic.symbols import alpha, beta, eta

FORMULAS = Formulas("scaling")
_LIN = cite("lin2024", "abstract and sec. 2 (sketched linear regression, one-pass SGD; theorem number "
                       "unconfirmed); source-condition rate as quoted by Lin, Wu, Bartlett 2025, "
                       "arXiv:2506.08415v1, abstract")
_ABOVE_ONE = sp.Interval.open(1, sp.oo)
_CONDITIONS = ("Gaussian inputs, spectrum k^-decay with decay > 1; target signal k^-target_decay with "
               "1 < target_decay <= decay (Lin et al. 2024: = decay; Lin, Wu, Bartlett 2025: < decay)",
               "one-pass SGD from zero with a constant step below ~1 / tr(feature covariance), noiseless labels",
               "leading order in M and eta D: the law is Theta(M^-alpha_M + D^-beta_D), not an exact sum")

_k, _m, _d = sp.symbols("k m d", positive=True)
_excess = sp.Symbol("excess", positive=True)  # target_decay - 1 (> 0) while integrating


def _elasticity(expr, var):
    """-d log(expr) / d log(var), simplified (expr a power law in var times a constant)."""
    return sp.simplify(sp.expand_log(-var * sp.diff(expr, var) / expr, force=True))


@functools.cache
def _approximation_error():
    """Signal beyond the first M directions: integral of k^-(1 + excess) from M to oo."""
    return sp.integrate(_k ** (-(1 + _excess)), (_k, _m, sp.oo), conds="none")


@functools.cache
def _gradient_flow_bias():
    """Signal not yet learned after time eta D: direction k decays as exp(-2 eta D lam_k)."""
    return sp.integrate(_k ** (-(1 + _excess)) * sp.exp(-2 * eta * _d * _k ** (-decay)), (_k, 0, sp.oo),
                        conds="none")


@FORMULAS.register("rf_model_exponent")
def _rf_model_exponent() -> Formula:
    exponent = _elasticity(_approximation_error(), _m).subs(_excess, target_decay - 1)
    return Formula(
        expr=sp.simplify(exponent), params=(target_decay,), source=_LIN, derived=True,
        derivation="-d log / d log M of integral_M^oo k^-target_decay dk (sympy.integrate, diff)",
        domains={"target_decay": _ABOVE_ONE}, conditions=_CONDITIONS,
        description="exponent alpha_M of the model-size term M^-alpha_M of the random-feature model")


@FORMULAS.register("rf_data_exponent")
def _rf_data_exponent() -> Formula:
    exponent = _elasticity(_gradient_flow_bias(), _d).subs(_excess, target_decay - 1)
    return Formula(
        expr=sp.simplify(exponent), params=(decay, target_decay), source=_LIN, derived=True,
        derivation="-d log / d log D of integral_0^oo k^-target_decay exp(-2 eta D k^-decay) dk "
                   "(sympy.integrate: a Gamma function; then diff)",
        domains={"decay": _ABOVE_ONE, "target_decay": _ABOVE_ONE}, conditions=_CONDITIONS,
        description="exponent beta_D of the data term D^-beta_D of the random-feature model")


@FORMULAS.register("rf_params_exponent")
def _rf_params_exponent() -> Formula:
    frontier = _params_exponent().expr.subs({alpha: _rf_model_exponent().expr,
                                              beta: _rf_data_exponent().expr}, simultaneous=True)
    return Formula(
        expr=sp.simplify(frontier), params=(decay,), source=_LIN, derived=True,
        derivation="params_exponent beta/(alpha + beta) at alpha = rf_model_exponent, "
                   "beta = rf_data_exponent (sympy.simplify; target_decay cancels)",
        domains={"decay": _ABOVE_ONE}, conditions=_CONDITIONS + ("compute C proportional to M D",),
        description="exponent of the compute-optimal width M_opt ~ C^a of the random-feature model")
