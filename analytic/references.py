"""The one table of references that ``analytic/`` and ``verify/`` cite from.

A source is written once, here: authors, year, title, and the arXiv identifier
with its version pinned (equation numbers move between versions). A Formula's
``source`` and a check's ``cites`` are made by :func:`cite`, which adds the place
(section, equation, theorem) to the table entry.

Example:
    >>> cite("hmrt2019", "Theorem 1")
    'Hastie, Montanari, Rosset, Tibshirani 2019, arXiv:1903.08560v5, Theorem 1'
    >>> arxiv_url("hmrt2019")
    'https://arxiv.org/abs/1903.08560v5'
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["Reference", "REFERENCES", "cite", "arxiv_url", "reference"]


class Reference(NamedTuple):
    """One publication: who, when, what, and where (arXiv id with version, or venue)."""

    authors: str
    year: int
    title: str
    arxiv: str = ""  # "1903.08560v5"; empty for papers not on arXiv
    venue: str = ""  # where a paper without an arXiv id appeared

    def short(self) -> str:
        """``"Authors Year, arXiv:id"`` (or the venue when there is no arXiv id)."""
        where = f"arXiv:{self.arxiv}" if self.arxiv else self.venue
        return f"{self.authors} {self.year}" + (f", {where}" if where else "")


REFERENCES: dict[str, Reference] = {
    # --- optimisation textbooks and classics -------------------------------------------
    "nesterov2004": Reference("Nesterov", 2004, "Introductory Lectures on Convex Optimization",
                              venue="Introductory Lectures on Convex Optimization"),
    "polyak1964": Reference("Polyak", 1964, "Some methods of speeding up the convergence of "
                            "iteration methods", venue="USSR Comp. Math. Math. Phys. 4(5)"),
    "goh2017": Reference("Goh", 2017, "Why Momentum Really Works", venue="Distill"),
    "lessard2016": Reference("Lessard, Recht, Packard", 2016, "Analysis and design of optimization "
                             "algorithms via integral quadratic constraints", arxiv="1408.3595v3"),
    "lecun1998": Reference("LeCun et al.", 1998, "Efficient BackProp",
                           venue="Neural Networks: Tricks of the Trade"),
    # --- linear regression ---------------------------------------------------------------
    "hmrt2019": Reference("Hastie, Montanari, Rosset, Tibshirani", 2019, "Surprises in "
                          "High-Dimensional Ridgeless Least Squares Interpolation", arxiv="1903.08560v5"),
    # --- noisy quadratic model -------------------------------------------------------------
    "zhang2019": Reference("Zhang, Li, Nado, Martens, Sachdeva, Dahl, Shallue, Grosse", 2019,
                           "Which Algorithmic Choices Matter at Which Batch Sizes? Insights From a "
                           "Noisy Quadratic Model", arxiv="1907.04164v2"),
    "mccandlish2018": Reference("McCandlish, Kaplan, Amodei, OpenAI Dota Team", 2018,
                                "An Empirical Model of Large-Batch Training", arxiv="1812.06162v1"),
    # --- deep linear networks ----------------------------------------------------------------
    "saxe2013": Reference("Saxe, McClelland, Ganguli", 2013, "Exact solutions to the nonlinear "
                          "dynamics of learning in deep linear neural networks", arxiv="1312.6120v3"),
    "du2018": Reference("Du, Hu, Lee", 2018, "Algorithmic Regularization in Learning Deep Homogeneous "
                        "Models: Layers are Automatically Balanced", arxiv="1806.00900v2"),
    "arora2018": Reference("Arora, Cohen, Hazan", 2018, "On the Optimization of Deep Networks: "
                           "Implicit Acceleration by Overparameterization", arxiv="1802.06509v2"),
    # --- kernels of wide networks --------------------------------------------------------------
    "cho2009": Reference("Cho and Saul", 2009, "Kernel Methods for Deep Learning", venue="NIPS"),
    "williams1997": Reference("Williams", 1997, "Computing with Infinite Networks", venue="NIPS"),
    "price1958": Reference("Price", 1958, "A useful theorem for nonlinear devices having Gaussian "
                           "inputs", venue="IRE Trans. Inf. Theory 4(2)"),
    "schoenholz2017": Reference("Schoenholz, Gilmer, Ganguli, Sohl-Dickstein", 2017,
                                "Deep Information Propagation", arxiv="1611.01232v2"),
    "lee2018": Reference("Lee et al.", 2018, "Deep Neural Networks as Gaussian Processes",
                         arxiv="1711.00165v3"),
    "jacot2018": Reference("Jacot, Gabriel, Hongler", 2018, "Neural Tangent Kernel: Convergence and "
                           "Generalization in Neural Networks", arxiv="1806.07572v4"),
    "lee2019": Reference("Lee et al.", 2019, "Wide Neural Networks of Any Depth Evolve as Linear "
                         "Models Under Gradient Descent", arxiv="1902.06720v4"),
    "sohl2020": Reference("Sohl-Dickstein et al.", 2020, "On the infinite width limit of neural "
                          "networks with a standard parameterization", arxiv="2001.07301v1"),
    # --- catapult and edge of stability (add below) ---------------------------------------------
    "lewkowycz2020": Reference("Lewkowycz, Bahri, Dyer, Sohl-Dickstein, Gur-Ari", 2020, "The large "
                               "learning rate phase of deep learning: the catapult mechanism",
                               arxiv="2003.02218v1"),
    "cohen2021": Reference("Cohen, Kaur, Li, Kolter, Talwalkar", 2021, "Gradient Descent on Neural "
                           "Networks Typically Occurs at the Edge of Stability", arxiv="2103.00065v3"),

    # --- optimizers and normalization (add below) ---------------------------------------------
    "cohen2022": Reference("Cohen, Ghorbani, Krishnan, Agarwal, Medapati, Badura, Suo, Cardoze, "
                           "Nado, Dahl, Gilmer", 2022, "Adaptive Gradient Methods at the Edge of "
                           "Stability", arxiv="2207.14484v2"),  # version not confirmed
    "kingma2014": Reference("Kingma and Ba", 2014, "Adam: A Method for Stochastic Optimization",
                            arxiv="1412.6980v9"),
    "martens2014": Reference("Martens", 2014, "New insights and perspectives on the natural "
                             "gradient method", arxiv="1412.1193v11"),
    "arora2019": Reference("Arora, Li, Lyu", 2019, "Theoretical Analysis of Auto Rate-Tuning by "
                           "Batch Normalization", arxiv="1812.03981v2"),  # version not confirmed
    "wan2021": Reference("Wan, Zhu, Zhang, Sun", 2021, "Spherical Motion Dynamics: Learning Dynamics "
                         "of Normalized Neural Network using SGD and Weight Decay", arxiv="2006.08419v4"),
    "kosson2024": Reference("Kosson, Messmer, Jaggi", 2024, "Rotational Equilibrium: How Weight Decay "
                            "Balances Learning Across Neural Networks", arxiv="2305.17212v4"),
    "srivastava2014": Reference("Srivastava, Hinton, Krizhevsky, Sutskever, Salakhutdinov", 2014,
                                "Dropout: A Simple Way to Prevent Neural Networks from Overfitting",
                                venue="JMLR 15(56)"),
    "wager2013": Reference("Wager, Wang, Liang", 2013, "Dropout Training as Adaptive Regularization",
                           arxiv="1307.1493v2"),  # version not confirmed
    "ioffe2015": Reference("Ioffe and Szegedy", 2015, "Batch Normalization: Accelerating Deep Network "
                           "Training by Reducing Internal Covariate Shift", arxiv="1502.03167v3"),

    # --- signal propagation (add below) -------------------------------------------------------
    "poole2016": Reference("Poole, Lahiri, Raghu, Sohl-Dickstein, Ganguli", 2016, "Exponential "
                           "expressivity in deep neural networks through transient chaos", arxiv="1606.05340v2"),
    "he2015": Reference("He, Zhang, Ren, Sun", 2015, "Delving Deep into Rectifiers: Surpassing "
                        "Human-Level Performance on ImageNet Classification", arxiv="1502.01852v1"),
    "glorot2010": Reference("Glorot and Bengio", 2010, "Understanding the difficulty of training deep "
                            "feedforward neural networks", venue="AISTATS"),
    "pennington2017": Reference("Pennington, Schoenholz, Ganguli", 2017, "Resurrecting the sigmoid in "
                                "deep learning through dynamical isometry: theory and practice",
                                arxiv="1711.04735v1"),

    # --- scaling laws (add below) ---------------------------------------------------------------
    "kaplan2020": Reference("Kaplan, McCandlish, Henighan, Brown, Chess, Child, Gray, Radford, Wu, "
                            "Amodei", 2020, "Scaling Laws for Neural Language Models",
                            arxiv="2001.08361v1"),
    "hoffmann2022": Reference("Hoffmann et al.", 2022, "Training Compute-Optimal Large Language Models",
                              arxiv="2203.15556v1"),
    "besiroglu2024": Reference("Besiroglu, Erdil, Barnett, You", 2024, "Chinchilla Scaling: A "
                               "replication attempt", arxiv="2404.10102v2"),
    "mccandlish2018": Reference("McCandlish, Kaplan, Amodei, OpenAI Dota Team", 2018, "An Empirical "
                                "Model of Large-Batch Training", arxiv="1812.06162v1"),
    "lin2024": Reference("Lin, Wu, Kakade, Bartlett, Lee", 2024, "Scaling Laws in Linear Regression: "
                         "Compute, Parameters, and Data", arxiv="2406.08466v1"),
    "bordelon2024": Reference("Bordelon, Atanasov, Pehlevan", 2024, "A Dynamical Model of Neural "
                              "Scaling Laws", arxiv="2402.01092v1"),
    "lin2025": Reference("Lin, Wu, Bartlett", 2025, "Improved Scaling Laws in Linear Regression via Data "
                         "Reuse", arxiv="2506.08415v1"),

    # --- games, implicit regularisation, bilevel (add below) ----------------------------------
    "korpelevich1976": Reference("Korpelevich", 1976, "The extragradient method for finding saddle "
                                 "points and other problems", venue="Ekonomika i Matematicheskie Metody 12"),
    "daskalakis2018": Reference("Daskalakis, Ilyas, Syrgkanis, Zeng", 2018, "Training GANs with Optimism",
                                arxiv="1711.00141v2"),
    "gidel2019": Reference("Gidel, Askari Hemmat, Pezeshki, Le Priol, Huang, Lacoste-Julien, Mitliagkas",
                           2019, "Negative Momentum for Improved Game Dynamics", arxiv="1807.04740v5"),
    "zhang2019games": Reference("Zhang and Yu", 2019, "Convergence of Gradient Methods on Bilinear "
                                "Zero-Sum Games", arxiv="1908.05699v5"),
    "barrett2021": Reference("Barrett and Dherin", 2021, "Implicit Gradient Regularization",
                             arxiv="2009.11162v3"),
    "smith2021": Reference("Smith, Dherin, Barrett, De", 2021, "On the Origin of Implicit Regularization "
                           "in Stochastic Gradient Descent", arxiv="2101.12176v1"),
    "wu2018": Reference("Wu, Ren, Liao, Grosse", 2018, "Understanding Short-Horizon Bias in Stochastic "
                        "Meta-Optimization", arxiv="1803.02021v1"),
    "bengio2000": Reference("Bengio", 2000, "Gradient-Based Optimization of Hyperparameters",
                            venue="Neural Computation 12(8)"),
    # arXiv:1810.10667, version unconfirmed: cited by its venue
    "shaban2019": Reference("Shaban, Cheng, Hatch, Boots", 2019, "Truncated Back-propagation for Bilevel "
                            "Optimization", venue="AISTATS 2019"),

    # --- user-defined methods (add below) -----------------------------------------------------
    "ma2019": Reference("Ma and Yarats", 2019, "Quasi-hyperbolic momentum and Adam for deep learning",
                        arxiv="1810.06801v4"),

}


def reference(key: str) -> Reference:
    """The table entry ``key`` (a ``ValueError`` lists the keys when it is unknown)."""
    try:
        return REFERENCES[key]
    except KeyError:
        raise ValueError(f"unknown reference {key!r}; known: {sorted(REFERENCES)}") from None


def cite(key: str, where: str = "") -> str:
    """The citation string of ``key``, with the place in the paper (``"eq. (16)"``) if given."""
    text = reference(key).short()
    return f"{text}, {where}" if where else text


def arxiv_url(key: str) -> str:
    """The versioned arXiv abstract page of ``key`` ("" when it has no arXiv id)."""
    ref = reference(key)
    return f"https://arxiv.org/abs/{ref.arxiv}" if ref.arxiv else ""
