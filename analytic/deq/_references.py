"""The references the deq family declares (merged into :mod:`analytic.references` on first use)."""

from analytic.references import Reference

REFERENCES = {
    # v2 (2019-10-28); the implicit backward pass is Theorem 1 (sec. 3.1.3 in v2: section
    # number from memory, unconfirmed)
    "bai2019": Reference("Bai, Kolter, Koltun", 2019, "Deep Equilibrium Models", arxiv="1909.01377v2"),
}
