"""How a family publishes its Formulas: declared once, derived on first use.

A family's private module makes one registry, ``FORMULAS = Formulas("linreg")``,
and declares each builder with it. The registry writes the Formula's name
(``"linreg.critical_lr"``) from the short name it was registered under, so a
builder returns ``Formula(expr=..., params=..., ...)`` without one:

    @FORMULAS.register("critical_lr")
    def _critical_lr():
        ...
        return Formula(expr=..., params=(lam_max,), source=..., derived=True)

A family of variants (one per method or activation) is one call:

    FORMULAS.register_variants("{method}_spectral_radius", method=("heavy_ball", "nesterov"))(
        _spectral_radius)              # _spectral_radius(method) -> Formula

The family package's ``__init__`` merges its modules' registries and publishes the
Formulas as attributes of the package (PEP 562 ``__getattr__`` and ``__dir__``), each
derived on first access:

    FORMULAS = Formulas.merge(_gd.FORMULAS, _double_descent.FORMULAS)
    FORMULAS.publish(globals())

and ends with a generated block that makes every Formula a *statically* visible name
(``critical_lr: Formula``, an annotation that binds nothing at run time, and the names
in ``__all__``), so that editors, type checkers and Jupyter's completion see them and
go-to-definition lands on the declaration. ``python -m analytic._static_names``
writes the block; ``tests/test_registry.py`` fails when one is out of date.
``from analytic.linreg import critical_lr`` is then the very object
``analytic.get("linreg.critical_lr")`` returns (each builder is cached), not a proxy.

Nothing here does sympy work at import time (a star import derives the names in
``__all__``, as it must).
"""

from __future__ import annotations

import dataclasses
import functools
import importlib
import itertools
import os
from collections.abc import Callable, Iterator

from analytic import _derivation_cache
from analytic.formula import Formula

__all__ = ["Formulas"]

Builder = Callable[[], Formula]


def _renamed_parameters(family: str) -> dict[str, str]:
    """``RENAMED`` of ``analytic/<family>/_symbols.py``: {old parameter name: new name}.

    A family that renames a parameter Symbol (so that one Symbol means one thing across
    the catalogue) lists the old name there; every Formula of the family then accepts it
    as a keyword (``Formula.aliases``), so existing calls keep working."""
    try:
        symbols = importlib.import_module(f"analytic.{family}._symbols")
    except ModuleNotFoundError:
        return {}
    return dict(getattr(symbols, "RENAMED", {}))


class Formulas:
    """The Formula builders of one family, by short name, each derived once on first use."""

    def __init__(self, family: str) -> None:
        if not family.isidentifier():
            raise ValueError(f"family name must be an identifier, got {family!r}")
        self.family = family
        self._builders: dict[str, Builder] = {}
        self._origins: dict[str, str] = {}  # short name -> the module that declares its builder
        self._digest = ""  # the sources' digest, found on the first derivation with a disk cache

    # -- declaring ------------------------------------------------------------------
    def register(self, short: str, /, **arguments) -> Callable[[Callable[..., Formula]], Callable]:
        """Register ``build(**arguments)`` under ``short``; the registry names the result.

        Returns the cached, named builder, so that one builder can call another
        (``_optimal_lr().expr``) without deriving it twice.
        """

        def decorate(build: Callable[..., Formula]) -> Builder:
            return self._add(short, functools.partial(build, **arguments), build.__module__)

        return decorate

    def register_variants(self, template: str, /, **axes) -> Callable[[Callable[..., Formula]], Callable]:
        """Register ``build(**choice)`` for every combination of the ``axes`` values.

        ``template`` is formatted with each choice: ``"{activation}_nngp"`` with
        ``activation=("relu", "erf")`` registers ``relu_nngp`` and ``erf_nngp``.
        """
        if not axes:
            raise ValueError("register_variants needs at least one axis, e.g. method=('a', 'b')")

        def decorate(build: Callable[..., Formula]) -> Callable[..., Formula]:
            keys = list(axes)
            for values in itertools.product(*(axes[k] for k in keys)):
                choice = dict(zip(keys, values))
                self._add(template.format(**choice), functools.partial(build, **choice), build.__module__)
            return build

        return decorate

    def _add(self, short: str, build: Builder, origin: str = "") -> Builder:
        if not short.isidentifier():
            raise ValueError(f"{self.family}: formula name must be an identifier, got {short!r}")
        if short in self._builders:
            raise ValueError(f"formula {self.family}.{short} registered twice")
        full = f"{self.family}.{short}"

        @functools.cache
        def named() -> Formula:
            # (only builders of this package: the digest covers its sources, not a user's module)
            digest = self._cache_digest() if origin.startswith("analytic.") else ""
            cached = _derivation_cache.load(full, digest) if digest else None
            if isinstance(cached, Formula) and cached.name == full:
                return cached
            formula = self._derive(full, build)
            if digest:
                _derivation_cache.store(full, digest, formula)
            return formula

        named.__name__ = f"_{short}"
        named.__doc__ = f"Derive (once) and return the Formula {full}."
        self._builders[short] = named
        self._origins[short] = origin
        return named

    def _cache_digest(self) -> str:
        """The sources' digest where the opt-in disk cache is on (analytic._derivation_cache), else ''."""
        if not os.environ.get(_derivation_cache.ENV):
            return ""
        if not self._digest:
            self._digest = _derivation_cache.source_digest()
        return self._digest

    def _derive(self, full: str, build: Builder) -> Formula:
        """Run the builder; check what it returns; name it and give it the family's aliases."""
        formula = build()
        if not isinstance(formula, Formula):
            raise TypeError(f"builder of {full} returned {type(formula).__name__}, not a Formula")
        if formula.name not in ("", full):
            raise ValueError(f"builder of {full} named its Formula {formula.name!r}")
        renamed = _renamed_parameters(self.family)
        aliases = formula.aliases + tuple((old, new) for old, new in renamed.items()
                                          if new in formula.param_names)
        return dataclasses.replace(formula, name=full, aliases=aliases)

    @classmethod
    def merge(cls, *registries: Formulas) -> Formulas:
        """One registry holding the builders of several modules of the same family."""
        families = {r.family for r in registries}
        if len(families) != 1:
            raise ValueError(f"can only merge registries of one family, got {sorted(families)}")
        merged = cls(families.pop())
        for registry in registries:
            for short, build in registry._builders.items():
                if short in merged._builders:
                    raise ValueError(f"formula {merged.family}.{short} registered twice")
                merged._builders[short] = build
                merged._origins[short] = registry._origins.get(short, "")
        return merged

    # -- using ----------------------------------------------------------------------
    def __contains__(self, short: object) -> bool:
        return short in self._builders

    def __iter__(self) -> Iterator[str]:
        return iter(self._builders)

    def __len__(self) -> int:
        return len(self._builders)

    def __getitem__(self, short: str) -> Builder:
        """The cached builder of ``short`` (call it to get the Formula)."""
        return self._builders[short]

    def get(self, short: str) -> Formula:
        """The Formula ``short``, derived on first use."""
        if short not in self._builders:
            raise ValueError(f"unknown formula {self.family}.{short}; {self.family} has {sorted(self)}")
        return self._builders[short]()

    def origin(self, short: str) -> str:
        """The dotted name of the module that declares the builder of ``short``."""
        return self._origins.get(short, "")

    def publish(self, namespace: dict) -> None:
        """Make the Formulas lazy attributes of the module whose ``globals()`` is ``namespace``.

        Installs the module's ``__getattr__`` (derives a Formula on first access) and
        ``__dir__`` (its own names plus every Formula's, for ``dir()`` and completion).
        """
        module_name = namespace["__name__"]
        namespace["__getattr__"] = self.module_getattr(module_name)

        def __dir__() -> list[str]:
            return sorted(set(namespace) | set(self._builders))

        namespace["__dir__"] = __dir__

    def module_getattr(self, module_name: str) -> Callable[[str], Formula]:
        """A module ``__getattr__`` (PEP 562) that derives registered Formulas on access."""

        def __getattr__(attr: str) -> Formula:
            if attr in self._builders:
                return self._builders[attr]()
            raise AttributeError(f"module {module_name!r} has no attribute {attr!r}")

        return __getattr__

    def __repr__(self) -> str:
        return f"Formulas({self.family!r}, {len(self)} formulas)"
