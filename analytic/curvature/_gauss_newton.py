r"""Hessian = generalised Gauss-Newton + residual term, and GGN = Fisher for canonical links.

For a loss $L(\theta) = \frac1n\sum_i \ell(f_i(\theta), y_i)$ of network outputs $f_i$, the
chain rule twice gives (Martens 2014, arXiv:1412.1193v11, sec. 9)
$$\nabla^2 L = \underbrace{\tfrac1n\textstyle\sum_i J_i^\top\, \partial_f^2\ell\, J_i}_{G\ \text{(GGN)}}
  + \underbrace{\tfrac1n\textstyle\sum_i \sum_k \partial_{f_k}\ell\, \nabla^2 f_{ik}}_{\text{residual term}},
\qquad J_i = \partial f_i/\partial\theta .$$
The residual term vanishes where every $\partial_f\ell = 0$ (zero residual: the outputs fit the
targets) or every $\nabla^2 f = 0$ (a linear model). What a check needs from the loss is its
output derivatives; sympy derives them here:

* squared loss $\ell = \tfrac12(f - y)^2$: $\partial_f\ell = f - y$ (``mse_output_gradient``),
  $\partial_f^2\ell = 1$, so $G = J^\top J / n$;
* logistic loss in the canonical (natural-parameter) form $\ell = A(f) - y f$, $A(f) =
  \log(1 + e^f)$ (the Bernoulli log-partition; it equals the binary cross-entropy of
  $\sigma(f)$): $\partial_f\ell = \sigma(f) - y$ (``logistic_output_gradient``) and
  $\partial_f^2\ell = A''(f) = \sigma(f)(1 - \sigma(f))$, with no $y$ in it
  (``logistic_output_curvature``);
* the Fisher information of the model's own label distribution in the output,
  $F_f = \mathbb E_{y\sim p(y|f)}[(\partial_f\ell)^2]$, summed over $y \in \{0, 1\}$ with
  $p(1|f) = \sigma(f)$ (``logistic_fisher``): it simplifies to $A''(f)$, the same as the
  output curvature. Hence $F = \frac1n\sum_i J_i^\top F_{f_i} J_i = G$: the true Fisher (labels
  sampled from the model) is the GGN for every exponential family with the canonical link
  (:func:`output_hessian_and_fisher` repeats the identity for the Gaussian, Poisson and
  three-class categorical). The *empirical* Fisher, $\frac1n\sum_i J_i^\top(\partial_f\ell(f_i,
  y_i))^2 J_i$ with the observed labels, is not: per example it is $(\sigma - y_i)^2$ in place of
  $\sigma(1 - \sigma)$ (Kunstner, Balles, Hennig 2019, arXiv:1905.12558v3, sec. 3).
"""

from __future__ import annotations

import sympy as sp

from analytic._registry import Formulas
from analytic.curvature._symbols import label, logit, output, target
from analytic.formula import Formula
from analytic.references import cite

FORMULAS = Formulas("curvature")

_LABEL_RANGE = (("label", sp.Interval(0, 1)),)


def logistic_loss() -> sp.Expr:
    """The Bernoulli negative log-likelihood in its natural parameter: ``log(1 + e^f) - y f``."""
    return sp.log(1 + sp.exp(logit)) - label * logit


def same_function(a, b) -> bool:
    """``a == b`` as functions of real outputs: rewritten in exponentials, each ``e^f`` replaced by a
    positive symbol, then the rational difference cancelled (fast, and exact). True is a proof;
    False may miss an identity between the exponentials (use it to confirm equalities only)."""
    difference = sp.expand_power_exp(sp.sympify(a - b).rewrite(sp.exp))
    powers = {e: sp.Dummy(positive=True) for e in difference.atoms(sp.exp)}
    difference = difference.subs(powers)
    if difference.atoms(sp.exp):  # exponentials of sums or multiples left: fall back to simplify
        return sp.simplify(sp.sympify(a - b).rewrite(sp.exp)) == 0
    return sp.cancel(sp.together(difference)) == 0


def _sigmoid(f) -> sp.Expr:
    return sp.exp(f) / (1 + sp.exp(f))


def _stable_sigmoid_minus(y) -> sp.Expr:
    """``sigma(f) - y = (1 - y) sigma(f) - y sigma(-f)``: exact digits at 0/1 labels (no ``1 - sigma``
    cancellation) and no overflow (``1/(1 + e^800)`` is 0)."""
    return (1 - y) / (1 + sp.exp(-logit)) - y / (1 + sp.exp(logit))


def _stable_curvature() -> sp.Expr:
    """``sigma (1 - sigma) = e^-|f| / (1 + e^-|f|)^2``: no overflow, no cancellation of 1 - sigma."""
    decay = sp.exp(-sp.Abs(logit))
    return decay / (1 + decay) ** 2


@FORMULAS.register("mse_output_gradient")
def _mse_output_gradient() -> Formula:
    gradient = sp.diff((output - target) ** 2 / 2, output)
    return Formula(
        expr=gradient, params=(output, target), source=cite("martens2014", "sec. 9 (the GGN; squared loss)"),
        derived=True, derivation="sympy diff of (output - target)^2 / 2 in output; its second derivative is 1",
        conditions=("per example; the residual term of the Hessian is (1/n) sum_i (f_i - y_i) hess f_i",),
        description="d loss / d output of the squared loss: the residual f - y that weights hess f",
    )


@FORMULAS.register("logistic_output_gradient")
def _logistic_output_gradient() -> Formula:
    gradient = sp.diff(logistic_loss(), logit)
    return Formula(
        expr=gradient, params=(logit, label), evaluate_as=_stable_sigmoid_minus(label),
        source=cite("martens2014", "sec. 9 (the GGN; canonical-link losses)"), derived=True,
        derivation="sympy diff of log(1 + e^f) - y f in the logit f", domains=_LABEL_RANGE,
        conditions=("per example: binary cross-entropy of sigma(logit) with label y",),
        description="d loss / d logit of the logistic loss: sigma(f) - y, the residual term's weight",
    )


@FORMULAS.register("logistic_output_curvature")
def _logistic_output_curvature() -> Formula:
    curvature = sp.simplify(sp.diff(logistic_loss(), logit, 2))
    if sp.diff(curvature, label) != 0:  # the canonical link: the output Hessian has no label in it
        raise AssertionError(f"logistic output curvature depends on the label: {curvature}")
    return Formula(
        expr=curvature, params=(logit,), evaluate_as=_stable_curvature(),
        source=cite("martens2014", "sec. 9 (the GGN; canonical-link losses)"), derived=True,
        derivation="sympy diff twice of log(1 + e^f) - y f in the logit f (the label drops out)",
        conditions=("per example; the GGN is (1/n) sum_i J_i^T curvature(f_i) J_i",),
        description="d^2 loss / d logit^2 of the logistic loss: sigma(f)(1 - sigma(f))",
    )


@FORMULAS.register("logistic_fisher")
def _logistic_fisher() -> Formula:
    score = sp.diff(logistic_loss(), logit)
    p_one = _sigmoid(logit)
    fisher = sp.simplify(p_one * score.subs(label, 1) ** 2 + (1 - p_one) * score.subs(label, 0) ** 2)
    if not same_function(fisher, _logistic_output_curvature().expr):
        raise AssertionError("the Bernoulli Fisher should equal the output curvature (canonical link)")
    return Formula(
        expr=fisher, params=(logit,), evaluate_as=_stable_curvature(),
        source=cite("martens2014", "sec. 9 (Fisher = GGN for exponential families, natural parameter)"),
        derived=True,
        derivation="sympy: sum over y in {0, 1} of p(y | f) (d loss/d f)^2 with p(1 | f) = sigma(f), "
                   "simplified; equal to the output curvature (asserted)",
        conditions=("labels sampled from the model (the true Fisher), not the observed labels "
                    "(the empirical Fisher is (sigma(f) - y)^2 per example)",),
        description="Fisher information of a Bernoulli label in its logit (equals the output curvature)",
    )


def output_hessian_and_fisher(distribution: str) -> tuple[sp.Matrix, sp.Matrix, tuple[sp.Symbol, ...]]:
    r"""Output Hessian and output Fisher of a canonical-link negative log-likelihood, by sympy.

    ``distribution``: ``"bernoulli"`` ($A = \log(1 + e^f)$, sum over $y \in \{0, 1\}$),
    ``"gaussian"`` (unit variance, $A = f^2/2$, integral over $y$), ``"poisson"``
    ($A = e^f$, sum over $y \in \mathbb N$) or ``"categorical3"`` (three classes, $A =
    \log\sum_k e^{f_k}$, sum over the classes). Returns (Hessian in $f$, Fisher
    $\mathbb E_{y\sim p(\cdot|f)}[\nabla_f\ell\,\nabla_f\ell^\top]$, the output symbols);
    for every one of them the two are equal (Martens 2014, arXiv:1412.1193v11, sec. 9).

    Example:
        >>> hessian, fisher, _ = output_hessian_and_fisher("poisson")
        >>> hessian, fisher
        (Matrix([[exp(f)]]), Matrix([[exp(f)]]))
    """
    f = sp.Symbol("f", real=True)
    y = sp.Symbol("y", real=True)
    if distribution == "categorical3":
        fs = sp.symbols("f1:4", real=True)
        partition = sp.log(sum(sp.exp(v) for v in fs))
        probabilities = [sp.exp(v) / sum(sp.exp(u) for u in fs) for v in fs]
        gradient_of = [sp.Matrix([sp.diff(partition, v) - (1 if j == k else 0) for j, v in enumerate(fs)])
                       for k in range(3)]  # d/df of A(f) - f_k: the score of class k
        hessian = sp.hessian(partition, fs)
        fisher = sum((probabilities[k] * gradient_of[k] * gradient_of[k].T for k in range(3)), sp.zeros(3, 3))
        return hessian, fisher, fs  # rational in e^f_k: compare with same_function
    if distribution == "bernoulli":
        partition, pmf = sp.log(1 + sp.exp(f)), lambda v: _sigmoid(f) ** v * (1 - _sigmoid(f)) ** (1 - v)
        expectation = lambda g: sum(pmf(v) * g.subs(y, v) for v in (0, 1))  # noqa: E731
    elif distribution == "gaussian":
        partition = f**2 / 2
        density = sp.exp(-(y - f) ** 2 / 2) / sp.sqrt(2 * sp.pi)
        expectation = lambda g: sp.integrate(density * g, (y, -sp.oo, sp.oo))  # noqa: E731
    elif distribution == "poisson":
        from sympy import stats

        partition = sp.exp(f)
        count = stats.Poisson("count", sp.exp(f))
        expectation = lambda g: stats.E(g.subs(y, count))  # noqa: E731
    else:
        raise ValueError(f"distribution must be 'bernoulli', 'gaussian', 'poisson' or 'categorical3', "
                         f"got {distribution!r}")
    loss = partition - y * f
    hessian = sp.simplify(sp.diff(loss, f, 2))
    fisher = sp.simplify(expectation(sp.expand(sp.diff(loss, f) ** 2)))
    return sp.Matrix([[hessian]]), sp.Matrix([[fisher]]), (f,)
