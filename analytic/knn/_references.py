"""The references the knn family declares (merged into :mod:`analytic.references` on first use).

This module imports nothing but ``Reference``.
"""

from analytic.references import Reference

REFERENCES = {
    # v1 (April 2020) is the version cited; its final version is JMLR 23(9) 2022 ("Scaling Laws from
    # the Data Manifold Dimension"), whose section numbers differ
    "sharma2020": Reference("Sharma, Kaplan", 2020, "A Neural Scaling Law from the Dimension of the Data Manifold",
                            arxiv="2004.10802v1"),
}
