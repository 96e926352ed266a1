"""The references the eos_mechanisms family declares (merged into :mod:`analytic.references` on first use)."""

from analytic.references import Reference

REFERENCES = {
    # ICLR 2023. arXiv:2210.03294v2 exists (a listing page of that version, found with the
    # search tool); whether a later version exists, and the section / theorem numbers cited
    # ("sec. 3", "sec. 4", "Theorem 1"), are not checked against the v2 text.
    "zhu2023": Reference("Zhu, Wang, Wang, Zhou, Ge", 2023, "Understanding Edge-of-Stability Training Dynamics "
                         "with a Minimalist Example", arxiv="2210.03294v2"),
    "damian2023": Reference("Damian, Nichani, Lee", 2023, "Self-Stabilization: The Implicit Bias of Gradient "
                            "Descent at the Edge of Stability", arxiv="2209.15594v2"),
}
