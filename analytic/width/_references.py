"""The references the width family declares (merged into :mod:`analytic.references` on first use)."""

from analytic.references import Reference

REFERENCES = {
    "hanin_nica2019": Reference("Hanin, Nica", 2019, "Finite Depth and Width Corrections to the Neural Tangent "
                                "Kernel", arxiv="1909.05989v1"),
    "roberts2021": Reference("Roberts, Yaida, Hanin", 2021, "The Principles of Deep Learning Theory",
                             arxiv="2106.10165v2"),
}
