"""The references the kfac family declares (merged into :mod:`analytic.references` on first use).

Versions: arXiv:1503.05671 has several versions (the ICML 2015 paper and a longer revision);
the version could not be confirmed from this workplace, so the key cites the ICML 2015
proceedings and the section of the arXiv text (sec. 3, "A block-wise Kronecker-factored Fisher
approximation"), whose numbering we could not confirm against a pinned version either.
Bernacchia, Lengyel & Hennequin 2018 is cited by its venue (NeurIPS 2018; no arXiv version pinned).
"""

from analytic.references import Reference

REFERENCES = {
    "martens2015": Reference("Martens, Grosse", 2015, "Optimizing Neural Networks with Kronecker-factored "
                             "Approximate Curvature", venue="ICML 2015, PMLR 37:2408-2417 (arXiv:1503.05671, "
                             "version unconfirmed)"),
    "bernacchia2018": Reference("Bernacchia, Lengyel, Hennequin", 2018, "Exact natural gradient in deep linear "
                                "networks and its application to the nonlinear case", venue="NeurIPS 2018"),
}
