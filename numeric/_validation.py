"""Shared input validation for ``numeric/`` (which never imports ``analytic``).

The same rules as ``analytic/_validation.py``: a bad input is a ``TypeError`` or a
``ValueError`` naming the function, the parameter, the value and the valid range, and a
glossary keyword (``learning_rate=``) is accepted beside a simulation's older spelling
(``lr=``), never both.

Example:
    >>> pick_alias("steady_state_loss", "learning_rate", 0.1, "lr", None)
    0.1
"""

from __future__ import annotations

from typing import Any

__all__ = ["pick_alias"]


def pick_alias(caller: str, name: str, value: Any, legacy: str, legacy_value: Any) -> Any:
    """The value given under the glossary keyword ``name`` or its legacy spelling ``legacy``
    (None means "not given"); a ``TypeError`` when both or neither were given."""
    if value is not None and legacy_value is not None:
        raise TypeError(f"{caller}: give {name}= or its older spelling {legacy}=, not both")
    if value is None and legacy_value is None:
        raise TypeError(f"{caller}: missing the argument {name}= (or its older spelling {legacy}=)")
    return value if value is not None else legacy_value
