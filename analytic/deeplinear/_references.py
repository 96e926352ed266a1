"""The references the deeplinear family declares (merged into :mod:`analytic.references` on first use).

Authors, year, title, and the arXiv identifier with its version pinned (equation numbers
move between versions), or the venue. Any family may cite a key declared here; a key is
declared once in the whole catalogue. This module imports nothing but ``Reference``.
"""

from analytic.references import Reference

REFERENCES = {
    "saxe2013": Reference("Saxe, McClelland, Ganguli", 2013, "Exact solutions to the nonlinear "
                          "dynamics of learning in deep linear neural networks", arxiv="1312.6120v3"),
    "du2018": Reference("Du, Hu, Lee", 2018, "Algorithmic Regularization in Learning Deep Homogeneous "
                        "Models: Layers are Automatically Balanced", arxiv="1806.00900v2"),
    "arora2018": Reference("Arora, Cohen, Hazan", 2018, "On the Optimization of Deep Networks: "
                           "Implicit Acceleration by Overparameterization", arxiv="1802.06509v2"),
}
