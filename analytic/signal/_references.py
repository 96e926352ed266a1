"""The references the signal family declares (merged into :mod:`analytic.references` on first use).

Authors, year, title, and the arXiv identifier with its version pinned (equation numbers
move between versions), or the venue. Any family may cite a key declared here; a key is
declared once in the whole catalogue. This module imports nothing but ``Reference``.
"""

from analytic.references import Reference

REFERENCES = {
    "poole2016": Reference("Poole, Lahiri, Raghu, Sohl-Dickstein, Ganguli", 2016, "Exponential "
                           "expressivity in deep neural networks through transient chaos", arxiv="1606.05340v2"),
    "he2015": Reference("He, Zhang, Ren, Sun", 2015, "Delving Deep into Rectifiers: Surpassing "
                        "Human-Level Performance on ImageNet Classification", arxiv="1502.01852v1"),
    "glorot2010": Reference("Glorot and Bengio", 2010, "Understanding the difficulty of training deep "
                            "feedforward neural networks", venue="AISTATS"),
    "pennington2017": Reference("Pennington, Schoenholz, Ganguli", 2017, "Resurrecting the sigmoid in "
                                "deep learning through dynamical isometry: theory and practice",
                                arxiv="1711.04735v1"),
}
