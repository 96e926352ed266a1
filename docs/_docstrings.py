"""Docstrings as MyST Markdown.

The toolkit's docstrings carry their maths as ``$...$`` and ``$$...$$`` (rendered by MathJax),
code as RST-style double-backtick spans (valid Markdown too), Sphinx roles (``:class:`Formula```)
and ``Example:`` sections of doctest lines. This turns them into Markdown: roles become code
spans, doctest runs become fenced ``pycon`` blocks, RST ``::`` literal blocks become fenced
code, and RST section underlines become bold lines (a docstring never opens a section of the page).

Example:
    >>> to_markdown("Rate :math:`x` of :class:`~analytic.Formula`.")
    'Rate `x` of `analytic.Formula`.'
    >>> to_markdown("Title\\n-----\\ntext")
    '**Title**\\n\\ntext'
"""

from __future__ import annotations

import inspect
import re

__all__ = ["to_markdown"]

_ROLE = re.compile(r":(?:[a-z]+:)?[a-z]+:`~?([^`]+)`")
_UNDERLINE = re.compile(r"^\s*([-=~^*#])\1{2,}\s*$")
_SECTION = re.compile(r"^(Example|Examples|Args|Arguments|Parameters|Returns|Raises|Yields|Note|Notes"
                      r"|Attributes|See also|References):\s*$")


def to_markdown(doc: str | None) -> str:
    """The cleaned docstring ``doc`` as MyST Markdown ("" for None)."""
    lines = inspect.cleandoc(doc or "").splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        line = _ROLE.sub(lambda m: f"`{m.group(1)}`", lines[i])
        stripped = line.strip()
        if stripped.startswith(">>>"):
            block, indent = [], len(line) - len(line.lstrip())
            while i < len(lines) and lines[i].strip():
                block.append(lines[i][indent:] if lines[i][:indent].strip() == "" else lines[i].strip())
                i += 1
            out += ["", "```pycon"] + block + ["```", ""]
            continue
        if i + 1 < len(lines) and stripped and _UNDERLINE.match(lines[i + 1]) and not _UNDERLINE.match(line):
            out += [f"**{stripped}**", ""]
            i += 2
            continue
        if _UNDERLINE.match(line):  # a rule or a stray underline: never a Markdown heading
            i += 1
            continue
        if _SECTION.match(stripped):
            out += [f"**{stripped}**", ""]
            i += 1
            continue
        if stripped.endswith("::") and not stripped.startswith(".."):
            out.append(line[:-1] if stripped != "::" else "")
            i += 1
            while i < len(lines) and not lines[i].strip():
                i += 1
            block = []
            while i < len(lines) and (not lines[i].strip() or lines[i].startswith((" ", "\t"))):
                block.append(lines[i])
                i += 1
            while block and not block[-1].strip():
                block.pop()
            out += ["", "```text"] + inspect.cleandoc("\n".join(block)).splitlines() + ["```", ""]
            continue
        out.append(line.lstrip() if _looks_like_code_indent(line) else line)
        i += 1
    return "\n".join(_collapse_blank(out)).strip()


def _looks_like_code_indent(line: str) -> bool:
    """A line indented by 4 or more would be read as a Markdown code block after a blank line;
    docstrings indent continuation prose, so the indentation is dropped (lists keep theirs)."""
    return line.startswith("    ") and not line.lstrip().startswith(("-", "*", "+"))


def _collapse_blank(lines: list[str]) -> list[str]:
    out: list[str] = []
    for line in lines:
        if not line.strip() and out and not out[-1].strip():
            continue
        out.append(line)
    return out
