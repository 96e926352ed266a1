"""The references the optimizers family declares (merged into :mod:`analytic.references` on first use).

Authors, year, title, and the arXiv identifier with its version pinned (equation numbers
move between versions), or the venue. Any family may cite a key declared here; a key is
declared once in the whole catalogue. This module imports nothing but ``Reference``.
"""

from analytic.references import Reference

REFERENCES = {
    "cohen2022": Reference("Cohen, Ghorbani, Krishnan, Agarwal, Medapati, Badura, Suo, Cardoze, "
                           "Nado, Dahl, Gilmer", 2022, "Adaptive Gradient Methods at the Edge of "
                           "Stability", arxiv="2207.14484v2"),  # v2 (and v1) cited by other work (search tool)
    "kingma2014": Reference("Kingma and Ba", 2014, "Adam: A Method for Stochastic Optimization",
                            arxiv="1412.6980v9"),
    "martens2014": Reference("Martens", 2014, "New insights and perspectives on the natural "
                             "gradient method", arxiv="1412.1193v11"),
}
