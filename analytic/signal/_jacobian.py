r"""Jacobian spectra of deep linear networks at criticality: Fuss-Catalan moments and dynamical isometry.

Model statement. A deep linear network $h^l = W^l h^{l-1}$, $l = 1..L$, of width $N \to \infty$ at
criticality ($\sigma_w = 1$): Gaussian $W^l_{ij} \sim N(0, 1/N)$, or Haar-orthogonal $W^l$. Its
input-output Jacobian is $J = W^L \cdots W^1$; the moments of the squared singular values are
$m_k = \lim_N \mathrm{tr}\,(J J^\top)^k / N$ (Pennington, Schoenholz, Ganguli 2017,
arXiv:1711.04735v1; section and equation numbers unconfirmed).

Derivation (sympy, in :func:`moment_equation` and :func:`lagrange_moment`):

1. One layer. The moment generating function $\psi(x) = \sum_{k\ge1} m_k x^k$ relates to the
   Stieltjes transform by $G(z) = (1 + \psi(1/z))/z$. Stated: $W W^\top$ of a square Gaussian
   $W$ follows Marchenko-Pastur at ratio 1, $z G^2 - z G + 1 = 0$; an orthogonal $W$ has
   $W W^\top = I$, $G = 1/(z - 1)$. sympy substitutes, solves for $x$ as a function of $\psi$
   (the inverse $\chi = \psi^{-1}$) and forms the S-transform $S(z) = \chi(z)(1+z)/z$:
   $S = 1/(1+z)$ (Gaussian), $S = 1$ (orthogonal).
2. Depth. Stated (free probability, Voiculescu; used by Pennington et al.): S-transforms of
   freely independent factors multiply, $S_J = S^L$.
3. sympy inverts back: $\chi_J(z) = S_J(z)\,z/(1+z)$, so $\psi = x\,\varphi(\psi)$ with
   $\varphi(w) = w/\chi_J(w) = (1+w)^{L+1}$ (Gaussian) or $1 + w$ (orthogonal).
4. Stated: Lagrange inversion, $[x^k]\psi = \frac1k [w^{k-1}]\varphi(w)^k$, and the binomial
   theorem give $m_k = \binom{(L+1)k}{k-1}/k$, which sympy (``combsimp``) brings to the
   Fuss-Catalan form $\binom{(L+1)k}{k}/(Lk + 1)$; for orthogonal weights $m_k = \binom{k}{k-1}/k = 1$.

The Formulas hold the moments $k = 1..4$ as polynomials in $L$ (``sympy.expand_func`` of the
general form), which evaluate in JAX; the general form is :func:`fuss_catalan`.
Tests check step 4 against sympy's own series reversion of step 3, and step 1 against the
moments of the Marchenko-Pastur density.
"""

from __future__ import annotations

import sympy as sp

from analytic._registry import Formulas
from analytic.formula import Formula
from analytic.references import cite
from analytic.signal._symbols import layers, moment

FORMULAS = Formulas("signal")

MOMENTS = 4  # the Formulas hold m_1..m_4
_x = sp.Symbol("x", positive=True)  # generating-function variable
_z = sp.Symbol("z", positive=True)  # S-transform variable
_w = sp.Symbol("w", positive=True)  # Lagrange-inversion variable


def one_layer_s_transform(weights: str) -> sp.Expr:
    """S-transform of $W W^\\top$ for one critical layer, from its Stieltjes-transform equation."""
    g, psi = sp.symbols("G psi")
    if weights == "gaussian":
        stieltjes = _z * g**2 - _z * g + 1  # Marchenko-Pastur, ratio 1, unit variance (stated)
    elif weights == "orthogonal":
        stieltjes = g * (_z - 1) - 1  # W W^T = I (stated)
    else:
        raise ValueError(f"weights = {weights!r}; valid: 'gaussian', 'orthogonal'")
    # G(z) = (1 + psi(1/z)) / z: an equation between x = 1/z and psi
    in_psi = sp.numer(sp.together(stieltjes.subs(g, (1 + psi) * _x).subs(_z, 1 / _x)))
    (chi,) = sp.solve(in_psi, _x)  # x = chi(psi): the inverse of psi
    return sp.simplify(chi.subs(psi, _z) * (1 + _z) / _z)


def moment_equation(weights: str, depth=layers) -> sp.Expr:
    """$\\varphi(w)$ with $\\psi = x\\,\\varphi(\\psi)$ for the depth-L Jacobian (S-transforms multiply)."""
    s_product = one_layer_s_transform(weights) ** depth
    chi = s_product * _z / (1 + _z)
    return sp.powsimp(sp.simplify((_z / chi).subs(_z, _w)), force=True)


def lagrange_moment(weights: str, depth=layers, k=moment) -> sp.Expr:
    """$m_k = \\frac1k[w^{k-1}]\\varphi(w)^k$ (Lagrange inversion; the coefficient by the binomial theorem)."""
    phi = moment_equation(weights, depth)
    base, exponent = sp.powdenest(phi).as_base_exp()
    if sp.simplify(base - (1 + _w)) != 0:
        raise ValueError(f"expected phi(w) = (1 + w)^a, got {phi}")
    return sp.binomial(exponent * k, k - 1) / k


def fuss_catalan(depth=layers, k=moment) -> sp.Expr:
    """The Fuss-Catalan number $\\binom{(L+1)k}{k}/(Lk+1)$ (the published form, for any L, k)."""
    return sp.binomial((depth + 1) * k, k) / (depth * k + 1)


def _polynomial_moments(weights: str) -> tuple[sp.Expr, ...]:
    general = lagrange_moment(weights)
    return tuple(sp.factor(sp.expand_func(general.subs(moment, k))) for k in range(1, MOMENTS + 1))


def _check_fuss_catalan(general: sp.Expr) -> None:
    if sp.simplify(sp.combsimp(general - fuss_catalan())) != 0:  # (runs once per build)
        raise AssertionError(f"Lagrange inversion gave {general}, not the Fuss-Catalan form")


@FORMULAS.register("gaussian_jacobian_moments")
def _gaussian_jacobian_moments() -> Formula:
    _check_fuss_catalan(lagrange_moment("gaussian"))
    return Formula(
        expr=_polynomial_moments("gaussian"), params=(layers,),
        source=cite("pennington2017", "Fuss-Catalan moments of products of Gaussian matrices "
                                      "(section and equation numbers unconfirmed)"),
        derived=True,
        derivation="sympy: S-transform of Marchenko-Pastur (1/(1+z), from z G^2 - z G + 1 = 0) to the power "
                   "L, inverted to psi = x (1 + psi)^(L+1); Lagrange inversion (stated) gives "
                   "binomial((L+1)k, k-1)/k = binomial((L+1)k, k)/(Lk+1); expand_func at k = 1..4",
        conditions=("deep linear network at criticality (sigma_w = 1), Gaussian weights N(0, 1/N), "
                    "width N -> oo",),
        description="moments m_1..m_4 of the squared singular values of the input-output Jacobian of a "
                    "critical deep linear network with Gaussian weights (Fuss-Catalan; m_2 - m_1^2 = L)")


@FORMULAS.register("orthogonal_jacobian_moments")
def _orthogonal_jacobian_moments() -> Formula:
    return Formula(
        expr=_polynomial_moments("orthogonal"), params=(),
        source=cite("pennington2017", "dynamical isometry of orthogonal linear networks "
                                      "(section and equation numbers unconfirmed)"),
        derived=True,
        derivation="sympy: S-transform of W W^T = I is 1, so S_J = 1 at every depth; psi = x (1 + psi); "
                   "Lagrange inversion (stated) gives binomial(k, k-1)/k = 1",
        conditions=("deep linear network at criticality (sigma_w = 1), Haar-orthogonal weights, any depth",),
        description="moments m_1..m_4 of the squared singular values of the Jacobian of a critical deep "
                    "linear network with orthogonal weights: all 1 (dynamical isometry)")
