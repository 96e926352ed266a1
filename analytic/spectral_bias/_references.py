"""The references the spectral_bias family declares (merged into :mod:`analytic.references` on first use).

Versions pinned from the arXiv listings (Bietti & Mairal: v2 of 31 Oct 2019 is the latest;
Basri et al.: v3 of 2 Dec 2019 is the latest; Nakkiran et al.: the arXiv abstract page lists a
single version, v1 of 28 May 2019, submitted to NeurIPS 2019, whose proceedings text differs).
This module imports nothing but ``Reference``.
"""

from analytic.references import Reference

REFERENCES = {
    "bietti2019": Reference("Bietti, Mairal", 2019, "On the Inductive Bias of Neural Tangent Kernels",
                            arxiv="1905.12173v2"),
    "basri2019": Reference("Basri, Jacobs, Kasten, Kritchman", 2019, "The Convergence Rate of Neural Networks "
                           "for Learned Functions of Different Frequencies", arxiv="1906.00425v3"),
    "nakkiran2019": Reference("Nakkiran, Kaplun, Kalimeris, Yang, Edelman, Zhang, Barak", 2019,
                              "SGD on Neural Networks Learns Functions of Increasing Complexity",
                              arxiv="1905.11604v1"),
}
