r"""Quasi-hyperbolic momentum (QHM) derived by :func:`analytic.linear_method`.

Model statement (Ma and Yarats 2019, arXiv:1810.06801v4, the QHM update rule), on the
one-mode loss $\tfrac12\lambda\theta^2$ with momentum buffer $g$:

$$g_{t+1} = \beta g_t + (1-\beta)\nabla L(\theta_t),\qquad
\theta_{t+1} = \theta_t - \alpha\big[(1-\nu)\nabla L(\theta_t) + \nu\, g_{t+1}\big].$$

The state is $(\theta, g)$; every Formula below is what ``linear_method`` derives from
these two lines. $\nu = 0$ is gradient descent, $\nu = 1$ momentum with an exponential
moving average buffer (heavy ball with step $\alpha(1-\beta)$), $\nu = \beta$ Nesterov's
method in the same normalisation (the paper's sec. 3 connections, asserted in the tests).
"""

from __future__ import annotations

import dataclasses
import functools

import sympy as sp

from analytic._linear_method import LinearMethod, linear_method
from analytic._registry import Formulas
from analytic.formula import Formula
from analytic.methods._symbols import nu
from analytic.references import cite
from analytic.symbols import alpha, beta, lam

FORMULAS = Formulas("methods")
SOURCE = cite("ma2019", "QHM update rule (sec. 3)")
theta, g = sp.symbols("theta g", real=True)


def qhm_update(theta_, g_, grad, alpha_, beta_, nu_):
    """One QHM step, written once with plain arithmetic (works on Symbols and on JAX arrays)."""
    g_next = beta_ * g_ + (1 - beta_) * grad(theta_)
    return theta_ - alpha_ * ((1 - nu_) * grad(theta_) + nu_ * g_next), g_next


@functools.cache
def qhm() -> LinearMethod:
    """The derived :class:`LinearMethod` of QHM (state (theta, g), params (alpha, beta, nu, lam))."""
    theta_next, g_next = qhm_update(theta, g, lambda x: lam * x, alpha, beta, nu)
    return linear_method({theta: theta_next, g: g_next}, params=(alpha, beta, nu, lam), name="qhm",
                         source=SOURCE, domains={"nu": sp.Interval(0, 1), "beta": sp.Interval(0, 1)})


def _named(formula: Formula) -> Formula:
    return dataclasses.replace(formula, name="")  # the registry names it methods.qhm_<what>


@FORMULAS.register("qhm_spectral_radius")
def _qhm_spectral_radius() -> Formula:
    return _named(qhm().spectral_radius)


@FORMULAS.register("qhm_discriminant")
def _qhm_discriminant() -> Formula:
    return _named(qhm().discriminant)


@FORMULAS.register("qhm_stability")
def _qhm_stability() -> Formula:
    return _named(qhm().stability)


@FORMULAS.register("qhm_critical_alpha")
def _qhm_critical_alpha() -> Formula:
    return _named(qhm().critical(alpha))


@FORMULAS.register("qhm_worst_case_rate")
def _qhm_worst_case_rate() -> Formula:
    return _named(qhm().worst_case_rate)
