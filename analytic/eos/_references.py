"""The references the eos family declares (merged into :mod:`analytic.references` on first use).

Authors, year, title, and the arXiv identifier with its version pinned (equation numbers
move between versions), or the venue. Any family may cite a key declared here; a key is
declared once in the whole catalogue. This module imports nothing but ``Reference``.
"""

from analytic.references import Reference

REFERENCES = {
    "cohen2021": Reference("Cohen, Kaur, Li, Kolter, Talwalkar", 2021, "Gradient Descent on Neural "
                           "Networks Typically Occurs at the Edge of Stability", arxiv="2103.00065v3"),
}
