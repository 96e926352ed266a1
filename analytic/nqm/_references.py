"""The references the nqm family declares (merged into :mod:`analytic.references` on first use).

Authors, year, title, and the arXiv identifier with its version pinned (equation numbers
move between versions), or the venue. Any family may cite a key declared here; a key is
declared once in the whole catalogue. This module imports nothing but ``Reference``.
"""

from analytic.references import Reference

REFERENCES = {
    "zhang2019": Reference("Zhang, Li, Nado, Martens, Sachdeva, Dahl, Shallue, Grosse", 2019,
                           "Which Algorithmic Choices Matter at Which Batch Sizes? Insights From a "
                           "Noisy Quadratic Model", arxiv="1907.04164v2"),
    "mccandlish2018": Reference("McCandlish, Kaplan, Amodei, OpenAI Dota Team", 2018,
                                "An Empirical Model of Large-Batch Training", arxiv="1812.06162v1"),
}
