"""The references the interpolation family declares (merged into :mod:`analytic.references` on first use).

Ma, Bassily & Belkin: arXiv:1712.06559v3 (the version other papers cite; ICML 2018). The
theorem and equation numbers could not be confirmed against that text: the family cites
"sec. 3" (the quadratic / least-squares analysis of mini-batch SGD) and states the
normalisation it uses itself (``analytic/interpolation/_rates.py``).
"""

from analytic.references import Reference

REFERENCES = {
    "ma2018": Reference("Ma, Bassily, Belkin", 2018, "The Power of Interpolation: Understanding the "
                        "Effectiveness of SGD in Modern Over-parametrized Learning", arxiv="1712.06559v3"),
}
