"""The references the catapult family declares (merged into :mod:`analytic.references` on first use).

Authors, year, title, and the arXiv identifier with its version pinned (equation numbers
move between versions), or the venue. Any family may cite a key declared here; a key is
declared once in the whole catalogue. This module imports nothing but ``Reference``.
"""

from analytic.references import Reference

REFERENCES = {
    "lewkowycz2020": Reference("Lewkowycz, Bahri, Dyer, Sohl-Dickstein, Gur-Ari", 2020, "The large "
                               "learning rate phase of deep learning: the catapult mechanism",
                               arxiv="2003.02218v1"),
}
