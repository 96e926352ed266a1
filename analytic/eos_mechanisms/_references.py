"""The references the eos_mechanisms family declares (merged into :mod:`analytic.references` on first use)."""

from analytic.references import Reference

REFERENCES = {
    # arXiv:2210.03294 (version not confirmed here): cited by its venue
    "zhu2023": Reference("Zhu, Wang, Wang, Zhou, Ge", 2023, "Understanding Edge-of-Stability Training Dynamics "
                         "with a Minimalist Example", venue="ICLR 2023 (arXiv:2210.03294, version unconfirmed)"),
    "damian2023": Reference("Damian, Nichani, Lee", 2023, "Self-Stabilization: The Implicit Bias of Gradient "
                            "Descent at the Edge of Stability", arxiv="2209.15594v2"),
}
