"""Shared input validation for ``analytic/``: one message format for every bad input.

A bad input is a ``TypeError`` (not a real number: bool, str, None, complex, a ragged
list; two keywords naming one parameter) or a ``ValueError`` (outside its range) whose
message names the function the user called, the parameter, the value and the valid
range. :class:`~analytic.formula.Formula` checks its keyword calls with these, and
composites (loss curves, trajectories) check their array inputs with them.
``numeric/`` has its own copy of the same rules (``numeric/_validation.py``): it never
imports ``analytic``.

Example:
    >>> pick_alias("steady_state", "learning_rate", None, "lr", 0.1)
    0.1
"""

from __future__ import annotations

from typing import Any

import numpy as np

__all__ = ["format_value", "real_array", "pick_alias"]


def format_value(value: Any) -> str:
    """A number as a user reads it in a message: ``4.0``, not ``np.float64(4.0)``."""
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return repr(float(value))
    if isinstance(value, (complex, np.complexfloating)):
        return repr(complex(value))
    if isinstance(value, np.ndarray) and value.ndim == 0:
        return format_value(value.item())
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def real_array(formula: str, name: str, value: Any) -> np.ndarray:
    """``value`` as a real float array, or a TypeError naming ``formula`` (the function the user
    called) and the parameter: for bool, str, None, complex and ragged lists."""
    what = f"{formula}: parameter {name!r}"
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{what} must be a real number, got the boolean {value}")
    if value is None or isinstance(value, (str, bytes)):
        raise TypeError(f"{what} must be a real number, got {type(value).__name__} {format_value(value)}")
    try:
        a = np.asarray(value)
    except (ValueError, TypeError):
        raise TypeError(f"{what} must be a number or a rectangular array of numbers, got a ragged "
                        f"{type(value).__name__}: {format_value(value)}") from None
    if a.dtype == bool:
        raise TypeError(f"{what} must be real numbers, got booleans")
    if np.iscomplexobj(a):
        raise TypeError(f"{what} must be real, got complex {format_value(value)}")
    if not np.issubdtype(a.dtype, np.number):
        raise TypeError(f"{what} must be numeric, got {type(value).__name__} {format_value(value)}")
    return a.astype(float)


def pick_alias(caller: str, name: str, value: Any, legacy: str, legacy_value: Any) -> Any:
    """The value given under the glossary keyword ``name`` or its legacy spelling ``legacy``
    (None means "not given"); a ``TypeError`` when both or neither were given."""
    if value is not None and legacy_value is not None:
        raise TypeError(f"{caller}: give {name}= or its older spelling {legacy}=, not both")
    if value is None and legacy_value is None:
        raise TypeError(f"{caller}: missing the argument {name}= (or its older spelling {legacy}=)")
    return value if value is not None else legacy_value
