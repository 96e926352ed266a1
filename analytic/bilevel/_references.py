"""The references the bilevel family declares (merged into :mod:`analytic.references` on first use).

Authors, year, title, and the arXiv identifier with its version pinned (equation numbers
move between versions), or the venue. Any family may cite a key declared here; a key is
declared once in the whole catalogue. This module imports nothing but ``Reference``.
"""

from analytic.references import Reference

REFERENCES = {
    "wu2018": Reference("Wu, Ren, Liao, Grosse", 2018, "Understanding Short-Horizon Bias in Stochastic "
                        "Meta-Optimization", arxiv="1803.02021v1"),
    "bengio2000": Reference("Bengio", 2000, "Gradient-Based Optimization of Hyperparameters",
                            venue="Neural Computation 12(8)"),
    # arXiv:1810.10667, version unconfirmed: cited by its venue
    "shaban2019": Reference("Shaban, Cheng, Hatch, Boots", 2019, "Truncated Back-propagation for Bilevel "
                            "Optimization", venue="AISTATS 2019"),
}
