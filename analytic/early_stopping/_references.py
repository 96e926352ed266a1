"""The references the early_stopping family declares (merged into :mod:`analytic.references` on first use)."""

from analytic.references import Reference

REFERENCES = {
    # v4 is the AISTATS 2019 version (finite-sample 1.69 bound); v1/v2 state asymptotic versions (2.25, 1.69)
    "ali2019": Reference("Ali, Kolter, Tibshirani", 2019, "A Continuous-Time View of Early Stopping for Least "
                         "Squares", arxiv="1810.10082v4"),
}
