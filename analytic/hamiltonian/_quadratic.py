r"""Conformal Hamiltonian dynamics on a quadratic with the classical kinetic energy $k(p) = p^2/2$.

On one eigen-mode of a quadratic (curvature ``lam`` $=\lambda$, $f = \lambda x^2/2$) the flow of
Maddison et al. (arXiv:1809.05042v1, sec. 2, the conformal Hamiltonian system; equation number
unconfirmed) $x' = \nabla k(p) = p$, $p' = -\nabla f(x) - \gamma p$ is the heavy-ball ODE
$x'' + \gamma x' + \lambda x = 0$. What sympy derives here:

* ``flow_position_rate``: the characteristic polynomial of the linear system,
  $s^2 + \gamma s + \lambda$ (sympy charpoly), its roots, and minus the larger real part: the
  exponential rate of $|x(t)|$, $\gamma/2$ for $\gamma < 2\sqrt\lambda$ (complex roots) and
  $(\gamma - \sqrt{\gamma^2 - 4\lambda})/2 = 2\lambda/(\gamma + \sqrt{\gamma^2 - 4\lambda})$
  (Vieta) above. The loss $f$ decays at twice this rate.
* ``flow_optimal_friction`` $= 2\sqrt\mu$: the double root of the smallest curvature $\mu$
  (discriminant $= 0$, sympy solve). Below it every mode decays at $\gamma/2$; above it the
  $\mu$ mode is overdamped and slower; so it maximises the slowest rate over $[\mu, L]$, which
  is then $\sqrt\mu$ (``flow_position_rate`` there).
* ``first_explicit_radius``: the paper's first explicit method (sec. 3, "first explicit
  method"; numbering unconfirmed), with step $\eta$ and $\delta = 1/(1 + \gamma\eta)$:
  $p_{i+1} = \delta(p_i - \eta\nabla f(x_i))$, $x_{i+1} = x_i + \eta\nabla k(p_{i+1})$. The
  linear-iteration engine gives its characteristic polynomial
  $z^2 - (1 + \delta - \eta^2\delta\lambda)z + \delta$ (heavy ball with momentum $\delta$ and
  learning rate $\eta^2\delta$) and its spectral radius: $\sqrt\delta$ while the roots are
  complex, so the per-step rate $-\log\rho = \tfrac12\log(1 + \gamma\eta) \to \gamma\eta/2$.
* ``first_explicit_max_learning_rate``: the stability edge $p(-1) = 0$ solved for $\eta$:
  $\lambda\eta^2 - 2\gamma\eta - 4 = 0$, $\eta_{\max} = (\gamma + \sqrt{\gamma^2 + 4\lambda})/\lambda$
  (a closed form derived here; the paper states its step-size conditions through the
  constants of its assumptions instead).

The second explicit method (kick after drift) has the same characteristic polynomial
(tests/test_hamiltonian.py derives both).
"""

from __future__ import annotations

import sympy as sp

from analytic import _iteration_engine as engine
from analytic._registry import Formulas
from analytic.formula import Formula
from analytic.hamiltonian._symbols import friction
from analytic.references import cite
from analytic.symbols import eta, lam, mu

FORMULAS = Formulas("hamiltonian")

_s = sp.Symbol("s")  # the variable of the flow's characteristic polynomial (x = e^{s t})
_x, _p = sp.symbols("x p", real=True)  # position and momentum of one mode
_MODE = "one eigen-mode of a quadratic f = lam x^2 / 2 with kinetic energy k(p) = p^2 / 2"


def flow_matrix() -> sp.Matrix:
    """The linear flow ``(x, p)' = A (x, p)`` of one mode: ``x' = dk/dp``, ``p' = -df/dx - friction p``."""
    kinetic, potential = _p**2 / 2, lam * _x**2 / 2
    field = [sp.diff(kinetic, _p), -sp.diff(potential, _x) - friction * _p]
    return sp.Matrix([[sp.diff(v, w) for w in (_x, _p)] for v in field])


def flow_characteristic_polynomial() -> sp.Expr:
    """``det(s I - A)`` = ``s^2 + friction s + lam`` (sympy charpoly)."""
    return sp.expand(flow_matrix().charpoly(_s).as_expr())


def first_explicit_updates(curvature=lam):
    """One step of the first explicit method on one mode: ``(x_{i+1}, p_{i+1})`` in terms of ``(x, p)``."""
    delta = 1 / (1 + friction * eta)
    p_next = delta * (_p - eta * engine.mode_gradient(_x, curvature))
    return (_x + eta * p_next, p_next), (_x, _p)


def first_explicit_characteristic_polynomial() -> sp.Expr:
    updates, state = first_explicit_updates()
    return sp.together(engine.characteristic_polynomial(engine.iteration_matrix(updates, state)))


@FORMULAS.register("flow_position_rate")
def _flow_position_rate() -> Formula:
    poly = flow_characteristic_polynomial()
    slow, fast = sorted(sp.solve(poly, _s), key=lambda r: -float(r.subs({friction: 3, lam: 1})))
    # slow = (-friction + sqrt(friction^2 - 4 lam)) / 2 (the larger root); Vieta: slow * fast = lam
    overdamped = sp.expand(-slow)
    vieta = lam / sp.expand(-fast)
    assert sp.expand(overdamped * sp.expand(-fast)) == lam  # Vieta: the product of the roots
    underdamped = sp.expand(-sp.re(slow.subs(lam, friction**2)))  # complex roots: real part -friction/2
    assert underdamped == friction / 2
    critical = 2 * sp.sqrt(lam)
    stable_vieta = 2 * lam / (friction + sp.sqrt((friction - critical) * (friction + critical)))
    return Formula(
        expr=sp.Piecewise((underdamped, friction < critical), (overdamped, True)), params=(friction, lam),
        evaluate_as=sp.Piecewise((underdamped, friction < critical), (stable_vieta, True)),
        source=cite("maddison2018", "sec. 2 (conformal Hamiltonian system, k = p^2/2: heavy-ball ODE)"),
        derived=True,
        derivation="sympy charpoly of the linear flow x' = p, p' = -lam x - friction p: s^2 + friction s + lam; "
                   "minus the larger real part of its roots (overdamped branch by Vieta, no cancellation)",
        conditions=(_MODE, "the loss decays at twice this rate"),
        description="exponential decay rate of |x(t)| under the conformal Hamiltonian flow (heavy-ball ODE)",
    )


@FORMULAS.register("flow_optimal_friction")
def _flow_optimal_friction() -> Formula:
    discriminant = sp.discriminant(flow_characteristic_polynomial().subs(lam, mu), _s)
    (double_root,) = [v for v in engine.double_root_values(discriminant, friction) if v.is_positive]
    return Formula(
        expr=double_root, params=(mu,),
        source=cite("maddison2018", "sec. 2 (conformal Hamiltonian system with k = p^2/2)"), derived=True,
        derivation="sympy solve of discriminant(s^2 + friction s + mu) = 0 for friction > 0 (critical damping "
                   "of the smallest curvature mu)",
        conditions=(_MODE, "curvatures in [mu, L]: below it every mode decays at friction/2, above it the mu "
                    "mode is overdamped and slower"),
        description="friction maximising the slowest decay rate of the heavy-ball ODE over curvatures [mu, L]",
    )


def _stable_trace() -> sp.Expr:
    """The trace ``1 + delta - eta^2 delta lam`` without forming ``eta^2`` (which overflows first):
    ``eta^2 delta = eta / (1/eta + friction)``."""
    return 1 + 1 / (1 + friction * eta) - eta * lam / (1 / eta + friction)


@FORMULAS.register("first_explicit_radius")
def _first_explicit_radius() -> Formula:
    poly = sp.expand(sp.numer(first_explicit_characteristic_polynomial()) / (1 + friction * eta))
    b, c = engine.monic_coefficients(sp.collect(sp.expand(poly), engine.z))
    return Formula(
        expr=engine.quadratic_radius(b, c), params=(eta, friction, lam),
        evaluate_as=engine.scaled_quadratic_radius(_stable_trace(), c),
        source=cite("maddison2018", "sec. 3 (first explicit method; numbering unconfirmed)"), derived=True,
        derivation="linear-iteration engine: jacobian of p' = delta (p - eta lam x), x' = x + eta p' with "
                   "delta = 1/(1 + friction eta), charpoly z^2 - (1 + delta - eta^2 delta lam) z + delta, "
                   "largest root modulus",
        conditions=(_MODE, "per step; -log(radius)/eta -> flow_position_rate as eta -> 0"),
        description="spectral radius of the first explicit Hamiltonian descent step on one quadratic mode",
    )


def _stable_edge() -> sp.Expr:
    """``(friction + sqrt(friction^2 + 4 lam)) / lam`` without squaring a large friction or dividing by a
    small one: the square root factored by the larger of ``friction`` and ``2 sqrt(lam)``."""
    root = 2 * sp.sqrt(lam)
    return sp.Piecewise((friction * (1 + sp.sqrt(1 + (root / friction) ** 2)) / lam, friction > root),
                        ((friction + root * sp.sqrt(1 + (friction / root) ** 2)) / lam, True))


@FORMULAS.register("first_explicit_max_learning_rate")
def _first_explicit_max_learning_rate() -> Formula:
    poly = sp.numer(sp.together(first_explicit_characteristic_polynomial().subs(engine.z, -1)))
    (edge,) = [v for v in sp.solve(poly, eta) if v.subs({friction: 1, lam: 1}) > 0]
    return Formula(
        expr=sp.factor(edge), params=(friction, lam), evaluate_as=_stable_edge(),
        source=cite("maddison2018", "sec. 3 (first explicit method; the closed form is derived here)"),
        derived=True,
        derivation="stability edge p(-1) = 0 of the engine's characteristic polynomial: "
                   "lam eta^2 - 2 friction eta - 4 = 0, positive root (sympy solve)",
        conditions=(_MODE, "converges for learning rates below it, diverges above (Jury)"),
        description="largest stable learning rate of the first explicit method on curvature lam",
    )
