"""The references the bootstrap family declares (merged into :mod:`analytic.references` on first use)."""

from analytic.references import Reference

REFERENCES = {
    "nakkiran2021": Reference("Nakkiran, Neyshabur, Sedghi", 2021, "The Deep Bootstrap Framework: Good Online "
                              "Learners are Good Offline Generalizers", arxiv="2010.08127v2"),
}
