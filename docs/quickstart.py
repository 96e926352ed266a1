"""The site's quick-start page: the README's "Quick start" and "A derivation in the REPL" sections.

Copied from the README at build time (one source of truth); links that point into the
repository are rewritten to the site's pages where the site has them (the gallery), and
otherwise shown as the repository path (a link to another README section as its text), so no
link on the page is broken.

Example:
    >>> rewrite_links("see [the gallery](examples/README.md) or [mutations](docs/mutations.md)")
    'see [the gallery](gallery/index.md) or mutations (`docs/mutations.md` in the repository)'
"""

from __future__ import annotations

import re
from pathlib import Path

__all__ = ["SECTIONS", "quickstart_page", "rewrite_links"]

ROOT = Path(__file__).resolve().parents[1]
SECTIONS = ("Quick start", "A derivation in the REPL")
_SITE_PAGES = {"examples/README.md": "gallery/index.md", "examples/": "gallery/index.md"}
_LINK = re.compile(r"\[([^\]]+)\]\(([^)\s]+)\)")


def rewrite_links(text: str) -> str:
    """Repository links made into site links, or into plain text naming the path."""
    def one(match: re.Match) -> str:
        label, target = match.groups()
        if re.match(r"[a-z]+://", target):
            return match.group(0)
        if target.startswith("#"):  # a section of the README that the site does not copy
            return label
        if target in _SITE_PAGES:
            return f"[{label}]({_SITE_PAGES[target]})"
        return f"{label} (`{target}` in the repository)"

    return _LINK.sub(one, text)


def _section(readme: str, title: str) -> str:
    lines = readme.splitlines()
    start = lines.index(f"## {title}")
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("## ")), len(lines))
    return "\n".join(lines[start:end]).strip() + "\n"


def quickstart_page(readme_path: Path = ROOT / "README.md") -> str:
    """The page's Markdown."""
    readme = readme_path.read_text()
    parts = ["# Getting started", "", "From the project's README (the same text, built with the site).", ""]
    for title in SECTIONS:
        parts.append(rewrite_links(_section(readme, title)))
    return "\n".join(parts)
