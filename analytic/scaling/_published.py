"""Published fits of the scaling laws, as named, cited constants.

Each constant says which paper, which version and which place its numbers come
from. Where this project could not confirm a number against the paper's own text
(only against secondary sources quoting it), the ``note`` says so.

Kaplan et al. 2020 (``KAPLAN_2020``: alpha_N, alpha_D, N_c, D_c and the headline 0.73) are
UNCONFIRMED: searches of stored copies of public pages (two sessions) found no text of
arXiv:2001.08361v1 stating them; treat them as placeholders to check against the paper.
"""

from __future__ import annotations

from typing import NamedTuple

from analytic.references import cite

__all__ = ["ChinchillaFit", "KaplanFit", "HOFFMANN_2022", "HOFFMANN_2022_UNROUNDED", "BESIROGLU_2024",
           "KAPLAN_2020", "CHINCHILLA_FITS"]


class ChinchillaFit(NamedTuple):
    """The five constants of L(N, D) = E + A / N^alpha + B / D^beta, and where they are from."""

    E: float
    A: float
    B: float
    alpha: float
    beta: float
    source: str
    note: str = ""

    def law(self) -> dict[str, float]:
        """The keyword arguments of ``scaling.chinchilla_loss`` other than N and D."""
        return {"E": self.E, "A": self.A, "B": self.B, "alpha": self.alpha, "beta": self.beta}

    def allocation(self) -> dict[str, float]:
        """The keyword arguments of ``scaling.optimal_params`` other than C."""
        return {"A": self.A, "B": self.B, "alpha": self.alpha, "beta": self.beta}


class KaplanFit(NamedTuple):
    """Kaplan et al.'s L(N, D) = [(N_c/N)^(alpha_N/alpha_D) + D_c/D]^alpha_D and headline exponent."""

    alpha_N: float
    alpha_D: float
    N_c: float
    D_c: float
    headline_params_exponent: float  # N_opt ~ C_min^0.73 from L(N, S_min), their sec. 6
    source: str
    note: str = ""


HOFFMANN_2022 = ChinchillaFit(
    E=1.69, A=406.4, B=410.7, alpha=0.34, beta=0.28,
    source=cite("hoffmann2022", "Approach 3, the constants as rounded in the body of the paper"),
    note="the rounded values; Besiroglu et al. 2024 (v2) show that the rounding biases the law's "
         "predictions. Numbers confirmed against secondary sources quoting the paper, not its PDF.")

HOFFMANN_2022_UNROUNDED = ChinchillaFit(
    E=1.6934, A=406.4, B=410.7, alpha=0.3392, beta=0.2849,
    source=cite("besiroglu2024", "the Hoffmann et al. Approach 3 estimates from the paper's TeX source"),
    note="E, alpha, beta as Besiroglu et al. v2 quote them from Hoffmann et al.'s TeX source; A and B as "
         "quoted there (406.4, 410.7). Confirmed against secondary sources quoting v2, not its PDF.")

BESIROGLU_2024 = ChinchillaFit(
    E=1.8172, A=482.01, B=2085.43, alpha=0.3478, beta=0.3658,
    source=cite("besiroglu2024", "their re-fit of Approach 3 (point estimates)"),
    note="standard errors reported there: E 0.03, A 124.58, B 1293.23, alpha 0.02, beta 0.02. "
         "Confirmed against secondary sources quoting v2, not its PDF.")

KAPLAN_2020 = KaplanFit(
    alpha_N=0.076, alpha_D=0.095, N_c=6.4e13, D_c=1.8e13, headline_params_exponent=0.73,
    source=cite("kaplan2020", "eq. (1.5) and its fitted constants; N ~ C_min^0.73 from sec. 6"),
    note="NOT confirmed in this session against the paper's text (the search found no copy): "
         "check alpha_N, alpha_D, N_c, D_c and 0.73 against arXiv:2001.08361v1 before relying on them.")

CHINCHILLA_FITS: dict[str, ChinchillaFit] = {
    "hoffmann2022": HOFFMANN_2022,
    "hoffmann2022_unrounded": HOFFMANN_2022_UNROUNDED,
    "besiroglu2024": BESIROGLU_2024,
}
