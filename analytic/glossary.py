"""One vocabulary: the names of the quantities that recur across the catalogue.

The same quantity has the same name in ``analytic/``, ``numeric/``, ``verify/`` and the
docs (the README's "Glossary" section is this table). Each :class:`Term` gives the
glossary keyword (``learning_rate``), what it means, the sympy Symbol name a new
derivation uses for it, and the *legacy spellings* under which existing Formulas and
functions take it (``eta`` in linreg, ``alpha`` in momentum and nqm, ``lr`` in
``numeric/``). A spelling is a parameter name, optionally limited to one family
(``"nqm.B"``: the batch size there; the scaling laws' ``B`` is a coefficient).

Where one legacy spelling of a term is a Formula's parameter, the Formula also accepts
the glossary keyword: ``analytic.get("nqm.sgd_steady_state_loss")(learning_rate=0.1,
...)`` is its ``alpha=0.1``. A call that gives both spellings, or a keyword that would
name two parameters, is a ``TypeError``. ``tests/test_glossary.py`` keeps new public
names to this vocabulary (existing names are allowlisted and keep working).

This module is data: it imports nothing and does no sympy work.

Example:
    >>> glossary_keyword_target("learning_rate", "nqm.sgd_mean", ("alpha", "h", "e0", "t"))
    'alpha'
    >>> term("largest_stable_step").spellings[:3]
    ('critical_lr', 'max_lr', 'critical_alpha')
"""

from __future__ import annotations

from typing import NamedTuple

__all__ = ["Term", "GLOSSARY", "term", "glossary_keyword_target"]


class Term(NamedTuple):
    """One recurring quantity: its glossary name, meaning, symbol and legacy spellings."""

    name: str  # the keyword / identifier to use in new code: "learning_rate"
    meaning: str
    symbol: str  # the sympy Symbol name for it in new derivations (a keyword-safe identifier)
    spellings: tuple[str, ...] = ()  # legacy parameter (or function) names; "family.name" limits one


GLOSSARY: tuple[Term, ...] = (
    Term("learning_rate", "the step size multiplying the gradient in one update", "eta",
         ("eta", "alpha", "lr")),
    Term("momentum", "the heavy-ball / Nesterov coefficient multiplying the previous step", "beta",
         ("beta", "games.momentum")),
    Term("curvature", "an eigenvalue of the Hessian (the curvature of one eigen-direction)", "lam",
         ("lam", "h", "catapult.lam0")),
    Term("batch_size", "examples per stochastic-gradient step", "batch_size",
         ("nqm.B", "optimizers.B", "scaling.batch", "batch")),
    Term("width", "units per hidden layer (the large parameter of infinite-width limits)", "width",
         ("catapult.n",)),
    Term("depth", "number of layers (weight matrices) of a network", "depth",
         ("deeplinear.N", "signal.layers")),
    Term("condition_number", "largest over smallest curvature, L / mu", "kappa", ("kappa",)),
    Term("smallest_curvature", "the smallest Hessian eigenvalue (strong convexity)", "mu", ("mu", "lam_min")),
    Term("largest_curvature", "the largest Hessian eigenvalue (smoothness, sharpness)", "L", ("L", "lam_max")),
    Term("steps", "number of update steps (or gradient-flow time)", "t", ("t", "T")),
    Term("weight_decay", "the coefficient of the decoupled decay -wd * w in one update", "wd", ("wd",)),
    Term("largest_stable_step", "the largest learning rate at which a method still converges "
         "(as a name: max_learning_rate)", "eta_max",
         ("critical_lr", "max_lr", "critical_alpha", "max_stable_lr", "max_step", "max_learning_rate",
          "critical_step")),
    Term("spectral_radius", "the largest modulus of an iteration matrix's eigenvalues (the rate)",
         "rho", ("spectral_radius", "radius")),
    Term("parameterisation", "how weights are scaled with width: 'ntk' or 'standard' (British spelling "
         "in prose; the keyword parameterization= stays valid)", "parameterisation",
         ("parameterization",)),
    Term("catalogue", "the registered Formulas (British spelling in prose; analytic.catalog() stays "
         "valid)", "catalogue", ("catalog",)),
)


def term(name: str) -> Term:
    """The glossary entry ``name`` (a ``ValueError`` lists the entries when it is unknown)."""
    for t in GLOSSARY:
        if t.name == name:
            return t
    raise ValueError(f"unknown glossary term {name!r}; terms are {[t.name for t in GLOSSARY]}")


def _spells(spelling: str, family: str) -> str | None:
    """The parameter name ``spelling`` stands for in ``family`` (None if limited to another)."""
    if "." in spelling:
        where, param = spelling.split(".", 1)
        return param if where == family else None
    return spelling


def glossary_keyword_target(keyword: str, formula_name: str, param_names) -> str | None:
    """The one parameter of the Formula ``formula_name`` that glossary ``keyword`` names, or
    None when the keyword is no glossary term or names none of them. A ``TypeError`` when it
    would name two (ambiguous: call with the parameter's own name)."""
    family = formula_name.split(".")[0] if "." in formula_name else ""
    for t in GLOSSARY:
        if t.name != keyword:
            continue
        hits = [p for p in (_spells(s, family) for s in t.spellings) if p in param_names]
        hits = list(dict.fromkeys(hits))
        if len(hits) > 1:
            raise TypeError(f"{formula_name}: the glossary keyword {keyword!r} is ambiguous here "
                            f"(parameters {hits}); use the parameter's own name")
        return hits[0] if hits else None
    return None
