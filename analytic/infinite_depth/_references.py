"""The references the infinite_depth family declares (merged into :mod:`analytic.references` on first use)."""

from analytic.references import Reference

REFERENCES = {
    # versions from the arXiv listings as cited by later papers; equation numbers unconfirmed
    "hayou2021": Reference("Hayou, Clerico, He, Deligiannidis, Doucet, Rousseau", 2021, "Stable ResNet",
                           arxiv="2010.12859v2"),
    "li2021": Reference("Li, Nica, Roy", 2021, "The Future is Log-Gaussian: ResNets and Their Infinite-Depth-and-"
                        "Width Limit at Initialization", arxiv="2106.04013v2"),
    "marion2022": Reference("Marion, Fermanian, Biau, Vert", 2022, "Scaling ResNets in the Large-depth Regime",
                            arxiv="2206.06929v2"),
}
