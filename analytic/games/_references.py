"""The references the games family declares (merged into :mod:`analytic.references` on first use).

Authors, year, title, and the arXiv identifier with its version pinned (equation numbers
move between versions), or the venue. Any family may cite a key declared here; a key is
declared once in the whole catalogue. This module imports nothing but ``Reference``.
"""

from analytic.references import Reference

REFERENCES = {
    "korpelevich1976": Reference("Korpelevich", 1976, "The extragradient method for finding saddle "
                                 "points and other problems", venue="Ekonomika i Matematicheskie Metody 12"),
    "daskalakis2018": Reference("Daskalakis, Ilyas, Syrgkanis, Zeng", 2018, "Training GANs with Optimism",
                                arxiv="1711.00141v2"),
    "gidel2019": Reference("Gidel, Askari Hemmat, Pezeshki, Le Priol, Huang, Lacoste-Julien, Mitliagkas",
                           2019, "Negative Momentum for Improved Game Dynamics", arxiv="1807.04740v5"),
    "zhang2019games": Reference("Zhang and Yu", 2019, "Convergence of Gradient Methods on Bilinear "
                                "Zero-Sum Games", arxiv="1908.05699v5"),
}
