"""The references the width family declares (merged into :mod:`analytic.references` on first use)."""

from analytic.references import Reference

REFERENCES = {
    "hanin_nica2019": Reference("Hanin, Nica", 2019, "Finite Depth and Width Corrections to the Neural Tangent "
                                "Kernel", arxiv="1909.05989v1"),
    "roberts2021": Reference("Roberts, Yaida, Hanin", 2021, "The Principles of Deep Learning Theory",
                             arxiv="2106.10165v2"),
    "dyer_gurari2019": Reference("Dyer, Gur-Ari", 2019, "Asymptotics of Wide Networks from Feynman Diagrams",
                                 arxiv="1909.11304v1"),
    "huang_yau2019": Reference("Huang, Yau", 2019, "Dynamics of Deep Neural Networks and Neural Tangent Hierarchy",
                               arxiv="1909.08156v1"),
}
