"""How a family module publishes its Formulas without doing sympy work at import.

A family module (``analytic/linreg.py``, ...) keeps a dict ``FORMULAS`` from short
names to builder functions, fills it with :func:`formula_builder`, and ends with
``__getattr__ = lazy_attributes(__name__, FORMULAS)`` so that ``linreg.optimal_lr``
builds (derives) the Formula on first access and returns the cached one after.
"""

from __future__ import annotations

import functools
from collections.abc import Callable

from analytic.formula import Formula

Builder = Callable[[], Formula]


def formula_builder(registry: dict[str, Builder], name: str) -> Callable[[Builder], Builder]:
    """Register a cached builder under ``name`` in a family's ``FORMULAS`` dict."""

    def register(build: Builder) -> Builder:
        if name in registry:
            raise ValueError(f"formula {name!r} registered twice")
        cached = functools.cache(build)
        registry[name] = cached
        return cached

    return register


def lazy_attributes(module_name: str, registry: dict[str, Builder]):
    """A module ``__getattr__`` (PEP 562) that builds registered Formulas on access."""

    def __getattr__(attr: str) -> Formula:
        if attr in registry:
            return registry[attr]()
        raise AttributeError(f"module {module_name!r} has no attribute {attr!r}")

    return __getattr__
