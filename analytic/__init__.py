"""Closed forms of training dynamics, derived with sympy and evaluated with JAX.

``catalog()`` maps dotted names (``"linreg.optimal_lr"``) to :class:`Formula`
objects and ``get(name)`` fetches one. Each family is a subpackage
(``analytic/<family>/``) that publishes a registry ``FORMULAS``; families are
discovered, not listed. Importing this package does no sympy work: each Formula is
derived on first use and cached.

Example:
    >>> import analytic
    >>> analytic.get("linreg.critical_lr").expr
    2/lam_max
    >>> "momentum" in analytic.FAMILIES
    True
"""

from __future__ import annotations

import importlib
import pkgutil

from analytic.formula import Formula
from analytic._linear_method import LinearMethod, linear_method

__all__ = ["Formula", "FAMILIES", "LinearMethod", "catalog", "get", "linear_method", "names"]

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


def catalog() -> dict[str, Formula]:
    """All Formulas of all families by dotted name (derives any not yet derived)."""
    return {n: get(n) for n in names()}


def __getattr__(attr: str):
    # ``analytic.kernels`` works without ``import analytic.kernels`` first.
    if attr in FAMILIES:
        return importlib.import_module(f"analytic.{attr}")
    raise AttributeError(f"module 'analytic' has no attribute {attr!r}")
