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
    # AISTATS 2019. v2 is the latest arXiv version (the arXiv record of the paper carries
    # version 2; checked with the search tool); the section numbers cited ("sec. 3") are
    # not checked line by line against v2.
    "shaban2019": Reference("Shaban, Cheng, Hatch, Boots", 2019, "Truncated Back-propagation for Bilevel "
                            "Optimization", arxiv="1810.10667v2"),
}
