"""The references the hamiltonian family declares (merged into :mod:`analytic.references` on first use).

Maddison et al. exists in one arXiv version (v1, 13 Sep 2018; checked with the search tool on
the arXiv listing and two mirrors of the PDF). Section and equation numbers cited in this
family are from memory of that version and are marked unconfirmed where cited.
"""

from analytic.references import Reference

REFERENCES = {
    "maddison2018": Reference("Maddison, Paulin, Teh, O'Donoghue, Doucet", 2018, "Hamiltonian Descent Methods",
                              arxiv="1809.05042v1"),
}
