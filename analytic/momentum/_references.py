"""The references the momentum family declares (merged into :mod:`analytic.references` on first use).

Authors, year, title, and the arXiv identifier with its version pinned (equation numbers
move between versions), or the venue. Any family may cite a key declared here; a key is
declared once in the whole catalogue. This module imports nothing but ``Reference``.
"""

from analytic.references import Reference

REFERENCES = {
    "nesterov2004": Reference("Nesterov", 2004, "Introductory Lectures on Convex Optimization",
                              venue="Introductory Lectures on Convex Optimization"),
    "polyak1964": Reference("Polyak", 1964, "Some methods of speeding up the convergence of "
                            "iteration methods", venue="USSR Comp. Math. Math. Phys. 4(5)"),
    "goh2017": Reference("Goh", 2017, "Why Momentum Really Works", venue="Distill"),
    "lessard2016": Reference("Lessard, Recht, Packard", 2016, "Analysis and design of optimization "
                             "algorithms via integral quadratic constraints", arxiv="1408.3595v3"),
}
