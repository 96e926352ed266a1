"""The references the scaling family declares (merged into :mod:`analytic.references` on first use).

Authors, year, title, and the arXiv identifier with its version pinned (equation numbers
move between versions), or the venue. Any family may cite a key declared here; a key is
declared once in the whole catalogue. This module imports nothing but ``Reference``.
"""

from analytic.references import Reference

REFERENCES = {
    "kaplan2020": Reference("Kaplan, McCandlish, Henighan, Brown, Chess, Child, Gray, Radford, Wu, "
                            "Amodei", 2020, "Scaling Laws for Neural Language Models",
                            arxiv="2001.08361v1"),
    "hoffmann2022": Reference("Hoffmann et al.", 2022, "Training Compute-Optimal Large Language Models",
                              arxiv="2203.15556v1"),
    "besiroglu2024": Reference("Besiroglu, Erdil, Barnett, You", 2024, "Chinchilla Scaling: A "
                               "replication attempt", arxiv="2404.10102v2"),
    "lin2024": Reference("Lin, Wu, Kakade, Bartlett, Lee", 2024, "Scaling Laws in Linear Regression: "
                         "Compute, Parameters, and Data", arxiv="2406.08466v1"),
    "bordelon2024": Reference("Bordelon, Atanasov, Pehlevan", 2024, "A Dynamical Model of Neural "
                              "Scaling Laws", arxiv="2402.01092v1"),
    "lin2025": Reference("Lin, Wu, Bartlett", 2025, "Improved Scaling Laws in Linear Regression via Data "
                         "Reuse", arxiv="2506.08415v1"),
}
