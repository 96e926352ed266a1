r"""Scaling laws: the compute-optimal frontier, fitted like the papers, and their published fits.

Model statement (Hoffmann et al. 2022, arXiv:2203.15556v1, eq. (2)): a model with
$N$ parameters trained on $D$ tokens reaches
$L(N, D) = E + A/N^\alpha + B/D^\beta$, and training costs $C = 6ND$ FLOPs.
Minimising $L$ at fixed $C$ (Lagrange conditions, solved by sympy) gives
$N_{opt} = G (C/6)^{a}$, $D_{opt} = G^{-1}(C/6)^{b}$ with
$G = (\alpha A/(\beta B))^{1/(\alpha+\beta)}$, $a = \beta/(\alpha+\beta)$,
$b = \alpha/(\alpha+\beta)$ (their eq. (4)). Kaplan et al. 2020 (arXiv:2001.08361v1)
eq. (1.5) under the same budget gives $N_{opt}\propto C^{\alpha_D/(\alpha_N+\alpha_D)}$.

Sources: Hoffmann et al. 2022 (the law, its frontier, Approach 3 fit); Besiroglu,
Erdil, Barnett, You 2024 (arXiv:2404.10102v2: re-fit, and the bias from rounded
constants); Kaplan et al. 2020 (eq. (1.5)).

McCandlish et al. 2018 (arXiv:1812.06162v1): the critical batch size
$B_{noise} = \mathrm{tr}(H\Sigma)/(G^\top H G)$ and $(S/S_{min} - 1)(E/E_{min} - 1) = 1$.

A solvable model (Lin, Wu, Kakade, Bartlett, Lee 2024, arXiv:2406.08466v1): random features on
a power-law spectrum $\lambda_k = k^{-\mathrm{decay}}$, trained by one-pass SGD, has loss
$\Theta(M^{-\alpha_M} + D^{-\beta_D})$ with $\alpha_M = \mathrm{target\_decay} - 1$,
$\beta_D = (\mathrm{target\_decay} - 1)/\mathrm{decay}$ and $M_{opt} \propto C^{1/(1+\mathrm{decay})}$.

Modules: ``_chinchilla`` (the law and its frontier, Kaplan's exponent), ``_random_features``
(the solvable model's exponents),
``_batch_size`` (the noise scale and the steps/examples trade-off), ``_fit``
(Huber/L-BFGS fit with bootstrap intervals), ``_published`` (published fits as
named constants), ``_symbols``.

Example:
    >>> from analytic import scaling
    >>> scaling.params_exponent.expr
    beta/(alpha + beta)
    >>> scaling.params_exponent(alpha=0.34, beta=0.28)   # Hoffmann et al.'s rounded exponents
    Array(0.4516129, dtype=float64)
    >>> C = 6 * 70e9 * 1.4e12                     # Chinchilla's budget: 70B parameters, 1.4T tokens
    >>> scaling.optimal_params(C=C, **scaling.BESIROGLU_2024.allocation())
    Array(7.30163994e+10, dtype=float64)
    >>> scaling.rf_params_exponent(decay=2.0)      # the random-feature model's compute-optimal width
    Array(0.33333333, dtype=float64)
"""

from analytic._registry import Formulas
from analytic.scaling import _batch_size, _chinchilla, _random_features
from analytic.scaling import _symbols as symbols
from analytic.scaling._fit import FitResult, fit
from analytic.scaling._published import (BESIROGLU_2024, CHINCHILLA_FITS, HOFFMANN_2022,
                                         HOFFMANN_2022_UNROUNDED, KAPLAN_2020, ChinchillaFit, KaplanFit)

__all__ = ["FORMULAS", "fit", "FitResult", "symbols", "ChinchillaFit", "KaplanFit", "HOFFMANN_2022",
           "HOFFMANN_2022_UNROUNDED", "BESIROGLU_2024", "KAPLAN_2020", "CHINCHILLA_FITS"]

FORMULAS = Formulas.merge(_chinchilla.FORMULAS, _batch_size.FORMULAS, _random_features.FORMULAS)
__getattr__ = FORMULAS.module_getattr(__name__)
