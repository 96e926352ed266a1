"""The families' public functions beside their Formulas: composites and helpers.

A composite evaluates one or more Formulas over something a single closed form
cannot take (a spectrum, a trajectory, a depth recursion): ``kernels.fc_kernels``,
``momentum.steps_to_eps``, ``linreg.gd_loss_curve``, ``catapult.uv_trajectory``...
Each family names them in its ``__all__``; :func:`analytic.composites` lists every
public function found there (the sympy helpers too, e.g. ``eos.iteration_matrix``),
with its signature and the first line of its docstring, without deriving anything.
"""

from __future__ import annotations

import dataclasses
import inspect
from collections.abc import Callable
from typing import Any

__all__ = ["Composite", "family_functions"]


@dataclasses.dataclass(frozen=True)
class Composite:
    """A family's public function: ``name`` (``"family.function"``), the function, its signature."""

    name: str
    function: Callable

    @property
    def signature(self) -> str:
        """``(name, name=default, ...)``: the parameters without their type annotations."""
        sig = inspect.signature(self.function)
        empty = inspect.Parameter.empty
        return str(sig.replace(parameters=[p.replace(annotation=empty) for p in sig.parameters.values()],
                               return_annotation=empty))

    @property
    def summary(self) -> str:
        """The first line of the docstring."""
        doc = inspect.getdoc(self.function) or ""
        return doc.strip().splitlines()[0] if doc.strip() else ""

    def __call__(self, *args, **kwargs) -> Any:
        return self.function(*args, **kwargs)

    def __str__(self) -> str:
        return f"{self.name}{self.signature}: {self.summary}"

    def __repr__(self) -> str:
        return f"Composite({self.name!r}{self.signature})"


def family_functions(family: str, module) -> list[Composite]:
    """The plain functions a family module exports in ``__all__`` (not classes, constants or Formulas)."""
    found = []
    for attr in getattr(module, "__all__", ()):
        value = module.__dict__.get(attr)  # never the module __getattr__: it would derive a Formula
        if inspect.isfunction(value):
            found.append(Composite(f"{family}.{attr}", value))
    return found
