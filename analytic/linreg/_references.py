"""The references the linreg family declares (merged into :mod:`analytic.references` on first use).

Authors, year, title, and the arXiv identifier with its version pinned (equation numbers
move between versions), or the venue. Any family may cite a key declared here; a key is
declared once in the whole catalogue. This module imports nothing but ``Reference``.
"""

from analytic.references import Reference

REFERENCES = {
    "lecun1998": Reference("LeCun et al.", 1998, "Efficient BackProp",
                           venue="Neural Networks: Tricks of the Trade"),
    "hmrt2019": Reference("Hastie, Montanari, Rosset, Tibshirani", 2019, "Surprises in "
                          "High-Dimensional Ridgeless Least Squares Interpolation", arxiv="1903.08560v5"),
}
