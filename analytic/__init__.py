"""Closed forms of training dynamics, derived with sympy and evaluated with JAX.

``catalogue()`` (also spelled ``catalog()``) maps dotted names (``"linreg.optimal_lr"``)
to :class:`Formula` objects and ``get(name)`` fetches one; ``composites()`` lists the
families' public functions built on them (``kernels.fc_kernels``,
``momentum.steps_to_eps``, ...) with their signatures and first doc lines, and
``catalogue(composites=True)`` holds both. Each family is a subpackage
(``analytic/<family>/``) that publishes a registry ``FORMULAS``; families are
discovered, not listed, and each Formula is also a name of its family
(``from analytic.momentum import heavy_ball_optimal_rate``). Importing this package does
no sympy work: each Formula is derived on first use and cached. The names of recurring
quantities follow one glossary (:mod:`analytic.glossary`).

Example:
    >>> import analytic
    >>> analytic.get("linreg.critical_lr").expr
    2/lam_max
    >>> "momentum" in analytic.FAMILIES
    True
    >>> print(analytic.composites()["momentum.steps_to_eps"])
    momentum.steps_to_eps(method, kappa, eps, error=None): Iterations for the tuned ``method`` to bring its slowest mode to relative error eps.
"""

from __future__ import annotations

import importlib
import pkgutil

from analytic.formula import Formula
from analytic._composites import Composite, family_functions
from analytic._linear_method import LinearMethod, linear_method

__all__ = ["Composite", "Formula", "FAMILIES", "LinearMethod", "catalog", "catalogue", "composites", "get",
           "linear_method", "names"]

# Every subpackage not starting with "_" is a family (found without importing it).
FAMILIES: tuple[str, ...] = tuple(sorted(
    info.name for info in pkgutil.iter_modules(__path__) if info.ispkg and not info.name.startswith("_")))


def _family_formulas(family: str):
    return importlib.import_module(f"analytic.{family}").FORMULAS


def names() -> list[str]:
    """Every dotted formula name, without deriving any of them."""
    return [f"{fam}.{short}" for fam in FAMILIES for short in _family_formulas(fam)]


def get(name: str) -> Formula:
    """The Formula called ``name`` (``"family.short_name"``), derived on first use."""
    if not isinstance(name, str) or name.count(".") != 1:
        raise ValueError(f"formula name must look like 'family.name', got {name!r}")
    fam, short = name.split(".")
    if fam not in FAMILIES:
        raise ValueError(f"unknown family {fam!r} in {name!r}; families are {FAMILIES}")
    return _family_formulas(fam).get(short)


def catalog(*, composites: bool = False) -> dict[str, Formula | Composite]:
    """All Formulas of all families by dotted name (derives any not yet derived); with
    ``composites=True`` also the families' public functions (see :func:`composites`)."""
    found: dict[str, Formula | Composite] = {n: get(n) for n in names()}
    if composites:
        found.update(_composites())
    return found


def composites() -> dict[str, Composite]:
    """The families' public functions by dotted name (``"kernels.fc_kernels"``): composites
    evaluating Formulas over spectra, trajectories and depths, and sympy helpers. Each prints
    as ``name(signature): first doc line``; calling it calls the function. Derives nothing."""
    return {c.name: c for fam in FAMILIES
            for c in family_functions(fam, importlib.import_module(f"analytic.{fam}"))}


_composites = composites  # catalog's keyword shadows the function's name inside it
catalogue = catalog  # the British spelling used in the docs (catalog stays valid)


def __getattr__(attr: str):
    # ``analytic.kernels`` works without ``import analytic.kernels`` first.
    if attr in FAMILIES:
        return importlib.import_module(f"analytic.{attr}")
    raise AttributeError(f"module 'analytic' has no attribute {attr!r}")
