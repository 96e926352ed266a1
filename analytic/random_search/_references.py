"""The references the random_search family declares (merged into :mod:`analytic.references` on first use)."""

from analytic.references import Reference

REFERENCES = {
    "bergstra2012": Reference("Bergstra, Bengio", 2012, "Random Search for Hyper-Parameter Optimization",
                              venue="JMLR 13 (2012) 281-305"),
}
