"""The references the kfac family declares (merged into :mod:`analytic.references` on first use).

Versions: arXiv:1503.05671v7 (8 Jun 2020; its PDF header as quoted by other work found with
the search tool, which cites v7 as the current version). The arXiv text is the long version of the
ICML 2015 paper (PMLR 37:2408-2417); its sec. 3 is "A block-wise Kronecker-factored Fisher
approximation", sec. 4 the further approximations of the inverse (block-diagonal, block-
tridiagonal) and sec. 6 the damping (section titles as quoted from the arXiv text by other
work; not checked line by line against v7).
Bernacchia, Lengyel & Hennequin 2018 is cited by its venue (NeurIPS 2018; no arXiv version pinned).
"""

from analytic.references import Reference

REFERENCES = {
    "martens2015": Reference("Martens, Grosse", 2015, "Optimizing Neural Networks with Kronecker-factored "
                             "Approximate Curvature", arxiv="1503.05671v7"),
    "bernacchia2018": Reference("Bernacchia, Lengyel, Hennequin", 2018, "Exact natural gradient in deep linear "
                                "networks and its application to the nonlinear case", venue="NeurIPS 2018"),
}
