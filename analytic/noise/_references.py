"""The references the noise family declares (merged into :mod:`analytic.references` on first use).

Mandt, Hoffman & Blei: arXiv:1704.04289v2 (19 Jan 2018, the JMLR 18 (2017) version) is
confirmed; its section and theorem numbers are cited as read from that version (sec. 3,
Theorem 1: the KL-optimal constant learning rate; sec. 5 / 6: Langevin dynamics and
iterate averaging); equation numbers are not cited because they could not be confirmed.
Polyak & Juditsky 1992 has no arXiv id: cited by its venue.
"""

from analytic.references import Reference

REFERENCES = {
    "mandt2017": Reference("Mandt, Hoffman, Blei", 2017, "Stochastic Gradient Descent as Approximate "
                           "Bayesian Inference", arxiv="1704.04289v2"),
    "polyak1992": Reference("Polyak, Juditsky", 1992, "Acceleration of Stochastic Approximation by "
                            "Averaging", venue="SIAM J. Control Optim. 30(4)"),
}
