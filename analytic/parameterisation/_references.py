"""The references the parameterisation family declares (merged into :mod:`analytic.references` on first use)."""

from analytic.references import Reference

REFERENCES = {
    "yang_hu_2020_abc": Reference("Yang, Hu", 2020, "Feature Learning in Infinite-Width Neural Networks",
                                  arxiv="2011.14522v3"),
    # v2 (28 Mar 2022) is the latest listed version we could find; table number unconfirmed
    "yang_2022_mutransfer": Reference("Yang, Hu, Babuschkin, Sidor, Liu, Farhi, Ryder, Pachocki, Chen, Gao", 2022,
                                      "Tensor Programs V: Tuning Large Neural Networks via Zero-Shot Hyperparameter "
                                      "Transfer", arxiv="2203.03466v2"),
    # v2 (the PNAS revision, 104 pages with the supplement): cited as 1804.06561v2 by several
    # independent works found with the search tool
    "mei_montanari_nguyen_2018": Reference("Mei, Montanari, Nguyen", 2018, "A Mean Field View of the Landscape of "
                                           "Two-Layers Neural Networks", arxiv="1804.06561v2"),
}
