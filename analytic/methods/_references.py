"""The references the methods family declares (merged into :mod:`analytic.references` on first use).

Authors, year, title, and the arXiv identifier with its version pinned (equation numbers
move between versions), or the venue. Any family may cite a key declared here; a key is
declared once in the whole catalogue. This module imports nothing but ``Reference``.
"""

from analytic.references import Reference

REFERENCES = {
    "ma2019": Reference("Ma and Yarats", 2019, "Quasi-hyperbolic momentum and Adam for deep learning",
                        arxiv="1810.06801v4"),
}
