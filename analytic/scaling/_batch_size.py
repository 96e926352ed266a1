r"""The critical batch size and the steps/examples trade-off (McCandlish et al. 2018).

Model statement (McCandlish, Kaplan, Amodei et al. 2018, arXiv:1812.06162v1, sec. 2.2):
near parameters $\theta$ the loss is quadratic with gradient $G$ and Hessian $H$; a
batch of $B$ examples gives an unbiased gradient with covariance $\Sigma/B$. One SGD
step of size $\eta$ then changes the expected loss by exactly
$$\mathbb E[\Delta L] = -\eta |G|^2 + \tfrac{\eta^2}{2}\big(G^\top H G + \mathrm{tr}(H\Sigma)/B\big).$$
Derived by sympy: the best step $\eta_{opt}(B)$ (stationary point in $\eta$), the best
improvement $\Delta L_{opt}(B) = \Delta L_{max}/(1 + B_{noise}/B)$ with
$B_{noise} = \mathrm{tr}(H\Sigma)/(G^\top H G)$ (the batch at which half of
$\Delta L_{max}$ is reached), and, when every step gains $\Delta L_{opt}(B)$ (the
paper's idealisation, learning rate tuned per batch size), steps and examples to a
target: $S = S_{min}(1 + B_{noise}/B)$, $E = BS = E_{min}(1 + B/B_{noise})$, hence
$E/E_{min} = s/(s-1)$ for $s = S/S_{min}$, i.e. $(S/S_{min} - 1)(E/E_{min} - 1) = 1$
(their sec. 2; the test asserts it). $B_{simple} = \mathrm{tr}(\Sigma)/|G|^2$ is the
$H \propto I$ case.
"""

from __future__ import annotations

import sympy as sp

from analytic._registry import Formulas
from analytic.formula import Formula
from analytic.references import cite
from analytic.scaling._symbols import B_noise, batch, grad_curvature, grad_sq, noise_curvature, steps_ratio
from analytic.symbols import eta

FORMULAS = Formulas("scaling")
_SRC = cite("mccandlish2018", "sec. 2 (noise scale; steps/examples trade-off)")


def _expected_change(step, size):
    """E[L(theta - step g_B)] - L(theta) on the local quadratic (the model statement)."""
    return -step * grad_sq + step**2 / 2 * (grad_curvature + noise_curvature / size)


@FORMULAS.register("sgd_optimal_lr")
def _sgd_optimal_lr() -> Formula:
    (best,) = sp.solve(sp.diff(_expected_change(eta, batch), eta), eta)
    return Formula(
        expr=sp.simplify(best), params=(batch, grad_sq, grad_curvature, noise_curvature), source=_SRC,
        derived=True, derivation="sympy.solve of d/d eta E[Delta L] = 0 on the local quadratic",
        description="learning rate that maximises the expected one-step improvement at batch size B")


@FORMULAS.register("sgd_optimal_gain")
def _sgd_optimal_gain() -> Formula:
    gain = sp.simplify(-_expected_change(_sgd_optimal_lr().expr, batch))
    return Formula(
        expr=gain, params=(batch, grad_sq, grad_curvature, noise_curvature), source=_SRC,
        # B G^2 / (2 (B H + S)) as G * G / (2 (H + S/B)): no G^2 or B G^2 overflow (inf for a true 3e149)
        evaluate_as=grad_sq * sp.UnevaluatedExpr(
            grad_sq / (2 * (grad_curvature + sp.UnevaluatedExpr(noise_curvature / batch)))),
        derived=True, derivation="-E[Delta L] at sgd_optimal_lr (sympy.simplify)",
        description="largest expected one-step loss improvement at batch size B")


@FORMULAS.register("noise_scale")
def _noise_scale() -> Formula:
    gain = _sgd_optimal_gain().expr
    limit = sp.limit(gain, batch, sp.oo)
    (half,) = sp.solve(sp.Eq(gain, limit / 2), batch)
    return Formula(
        expr=sp.simplify(half), params=(grad_curvature, noise_curvature), source=_SRC,
        derived=True, derivation="sympy.solve of gain(B) = gain(oo) / 2 for B",
        description="critical batch size B_noise = tr(H Sigma) / (G^T H G)")


@FORMULAS.register("examples_for_steps")
def _examples_for_steps() -> Formula:
    gain, limit = _sgd_optimal_gain().expr, sp.limit(_sgd_optimal_gain().expr, batch, sp.oo)
    # S / S_min = gain(oo) / gain(B) (steps at a fixed gain per step); B_noise from noise_scale.
    steps = sp.simplify(limit / gain)
    b_noise = _noise_scale().expr
    if sp.simplify(steps - (1 + b_noise / batch)) != 0:
        raise RuntimeError("S / S_min is not 1 + B_noise / B")
    (size,) = sp.solve(sp.Eq(1 + B_noise / batch, steps_ratio), batch)  # B from S / S_min
    examples = sp.simplify((size * steps_ratio) / (B_noise * 1))  # E / E_min, E_min = S_min B_noise
    return Formula(
        expr=examples, params=(steps_ratio,), source=_SRC, derived=True,
        derivation="S/S_min = gain(oo)/gain(B) = 1 + B_noise/B, E = B S, E_min = S_min B_noise; "
                   "B eliminated with sympy.solve",
        domains={"steps_ratio": sp.Interval.open(1, sp.oo)},
        conditions=("learning rate tuned for each batch size; gain per step constant along training",),
        description="examples E / E_min needed when taking S / S_min times the fewest steps")
