"""The API reference pages: one per public module of analytic/, numeric/ and verify/.

A module is public when no part of its dotted name starts with ``_``. Each page holds the
module's docstring and its public functions and classes (``__all__``, else the public names
it defines) with their signatures and docstrings, written as MyST Markdown by
:mod:`docs._docstrings`: the docstrings carry their maths as ``$...$`` (Markdown with
MathJax, not reStructuredText, so Sphinx's autodoc would misread them). A family package of
``analytic/`` documents its docstring and its composites (the functions of its ``__all__``),
not its Formulas: those are catalogue entries, and asking the package for one would derive it.

Example:
    >>> "verify.notebook" in public_modules()
    True
    >>> any(name.split(".")[-1].startswith("_") for name in public_modules())
    False
"""

from __future__ import annotations

import functools
import importlib
import inspect
import pkgutil
from pathlib import Path

from docs._docstrings import to_markdown

__all__ = ["PACKAGES", "public_modules", "write_api"]

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("analytic", "numeric", "verify")
# Modules that run something when imported (a command-line entry point): documented by the
# README's command lines, not imported by autodoc.
_ENTRY_POINTS = {"verify.__main__"}


def public_modules() -> list[str]:
    """Dotted names of the public modules and packages, found on disk (nothing imported)."""
    found = []
    for package in PACKAGES:
        found.append(package)
        for info in pkgutil.walk_packages([str(ROOT / package)], prefix=package + "."):
            if any(part.startswith("_") for part in info.name.split(".")[1:]):
                continue
            if info.name not in _ENTRY_POINTS:
                found.append(info.name)
    return sorted(found)


def _signature(obj) -> str:
    try:
        sig = inspect.signature(obj)
    except (TypeError, ValueError):
        return "(...)"
    empty = inspect.Parameter.empty
    return str(sig.replace(parameters=[p.replace(annotation=empty) for p in sig.parameters.values()],
                           return_annotation=empty))


def _members(module, family: bool) -> list[tuple[str, object]]:
    """The documented members: ``__all__`` in order (else the public names the module defines),
    read from the module's ``__dict__`` (a family's lazy ``__getattr__`` would derive a Formula)."""
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n, v in vars(module).items() if not n.startswith("_")
                 and getattr(v, "__module__", None) == module.__name__]
    found = []
    for name in names:
        value = module.__dict__.get(name)
        if family and not inspect.isfunction(value):
            continue  # Formulas and registries: the catalogue page has them
        if inspect.isfunction(value) or inspect.isclass(value):
            found.append((name, value))
    return found


def _class_members(cls) -> list[tuple[str, object]]:
    found = []
    for name, value in vars(cls).items():
        if name.startswith("_") or not (inspect.getdoc(value) or ""):
            continue
        if isinstance(value, (staticmethod, classmethod)):
            value = value.__func__
        if inspect.isfunction(value) or isinstance(value, (property, functools.cached_property)):
            found.append((name, value))
    return found


def _page(name: str, families: set[str]) -> str:
    module = importlib.import_module(name)
    family = name.startswith("analytic.") and name.count(".") == 1 and name.split(".")[1] in families
    lines = [f"# `{name}`", "", to_markdown(module.__doc__), ""]
    if family:
        lines += [f"The Formulas of this family: {{doc}}`its catalogue page <../catalogue/{name.split('.')[1]}>`. "
                  "Its composites and helpers:", ""]
    for member, value in _members(module, family):
        if inspect.isclass(value):
            lines += [f"## class `{member}{_signature(value)}`", "", to_markdown(inspect.getdoc(value)), ""]
            for attr, inner in _class_members(value):
                if isinstance(inner, (property, functools.cached_property)):
                    lines += [f"### `{member}.{attr}` (property)", ""]
                else:
                    lines += [f"### `{member}.{attr}{_signature(inner)}`", ""]
                lines += [to_markdown(inspect.getdoc(inner)), ""]
        else:
            lines += [f"## `{member}{_signature(value)}`", "", to_markdown(inspect.getdoc(value)), ""]
    return "\n".join(lines)


def write_api(out_dir: Path) -> int:
    """Write ``index.md`` and one page per public module into ``out_dir``; returns the count."""
    import analytic

    out_dir.mkdir(parents=True, exist_ok=True)
    modules = public_modules()
    families = set(analytic.FAMILIES)
    for name in modules:
        (out_dir / f"{name}.md").write_text(_page(name, families))
    lines = ["# API reference", "",
             "From the docstrings of the public modules. The Formulas "
             "themselves are in the {doc}`catalogue <../catalogue/index>`.", ""]
    for package in PACKAGES:
        lines += [f"## `{package}`", ""]
        lines += [f"- {{doc}}`{name} <{name}>`" for name in modules
                  if name == package or name.startswith(package + ".")]
        lines.append("")
    lines += ["```{toctree}", ":hidden:", ""] + modules + ["```", ""]
    (out_dir / "index.md").write_text("\n".join(lines))
    return len(modules)
