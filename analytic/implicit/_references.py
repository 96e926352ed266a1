"""The references the implicit family declares (merged into :mod:`analytic.references` on first use).

Authors, year, title, and the arXiv identifier with its version pinned (equation numbers
move between versions), or the venue. Any family may cite a key declared here; a key is
declared once in the whole catalogue. This module imports nothing but ``Reference``.
"""

from analytic.references import Reference

REFERENCES = {
    "barrett2021": Reference("Barrett and Dherin", 2021, "Implicit Gradient Regularization",
                             arxiv="2009.11162v3"),
    "smith2021": Reference("Smith, Dherin, Barrett, De", 2021, "On the Origin of Implicit Regularization "
                           "in Stochastic Gradient Descent", arxiv="2101.12176v1"),
}
