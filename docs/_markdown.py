"""Writing MyST Markdown from plain text: escaping, code spans, tables."""

from __future__ import annotations

import re

__all__ = ["code", "inline", "table_cell", "slug"]

_CODE_SPAN = re.compile(r"``(.+?)``|`([^`]+?)`")
_SPECIAL = re.compile(r"([\\`*_\[\]<>|#$~{}])")


def _escape(text: str) -> str:
    return _SPECIAL.sub(r"\\\1", text)


def code(text: str) -> str:
    """``text`` as one inline code span (backticks inside are fenced by longer runs)."""
    fence = "`" * (max((len(m) for m in re.findall(r"`+", text)), default=0) + 1)
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def inline(text: str) -> str:
    """Docstring prose as Markdown: RST ``double`` or Markdown `single` backtick spans stay code,
    everything else is escaped, so no character of it is read as markup."""
    out, last = [], 0
    for match in _CODE_SPAN.finditer(text):
        out.append(_escape(text[last:match.start()]))
        out.append(code(match.group(1) or match.group(2)))
        last = match.end()
    out.append(_escape(text[last:]))
    return " ".join("".join(out).split())


def table_cell(text: str) -> str:
    """``inline`` text that also fits one cell of a pipe table (one line)."""
    return inline(text).replace("\n", " ")


def slug(name: str) -> str:
    """An anchor name for a dotted catalogue name (``linreg.critical_lr`` -> ``linreg-critical-lr``)."""
    return re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
