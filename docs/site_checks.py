"""Checks of the built site: offline assets, internal links, and a real headless browser.

* :func:`offline_problems`: every script, stylesheet, font, image and frame a page or a CSS
  file of ``_static`` loads is a local file (no ``http(s)://`` or ``//`` URL: the site works
  without a network). Links (``<a href>``) to arXiv may leave the site; they load nothing.
* :func:`broken_links`: every local ``href``/``src`` resolves to a file of the build, and every
  ``#fragment`` to an ``id`` (or ``name``) on the target page.
* :func:`browser_check`: Debian's Chromium (driven by Playwright, with Chromium's own binary:
  nothing downloaded) opens pages over ``file://`` and reports console errors, failed loads and
  uncaught exceptions, checks that MathJax typeset the math (SVG elements present, no "Math
  Processing Error"), that gallery pages show their figures, and takes full-page screenshots.

Example:
    >>> import tempfile, pathlib
    >>> site = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (site / "index.html").write_text('<a href="a.html#x">a</a><script src="https://cdn.example/m.js">')
    >>> broken_links(site)
    ['index.html: link to a.html#x: no such file']
    >>> offline_problems(site)
    ['index.html: <script src> loads https://cdn.example/m.js']
"""

from __future__ import annotations

import html.parser
import re
import shutil
from pathlib import Path
from urllib.parse import unquote, urlsplit

__all__ = ["BROWSER_FLAGS", "broken_links", "browser_check", "find_chromium", "offline_problems"]

_REMOTE = re.compile(r"^(?:[a-z][a-z0-9+.-]*:)?//", re.IGNORECASE)
_CSS_URL = re.compile(r"""(?:url\(\s*['"]?|@import\s+['"])([^'")\s]+)""")
BROWSER_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic"]


class _Page(html.parser.HTMLParser):
    """The loads (tag, attribute, url), links and anchors of one HTML page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.loads: list[tuple[str, str, str]] = []
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("id", "name"):
            if a.get(key) and (key == "id" or tag == "a"):
                self.ids.add(a[key])
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag in ("script", "img", "iframe", "source", "video", "audio", "embed") and a.get("src"):
            self.loads.append((tag, "src", a["src"]))
        elif tag == "link" and a.get("href"):
            self.loads.append((tag, "href", a["href"]))
        elif tag == "object" and a.get("data"):
            self.loads.append((tag, "data", a["data"]))


def _parse(path: Path) -> _Page:
    page = _Page()
    page.feed(path.read_text(encoding="utf-8", errors="replace"))
    return page


def _pages(site: Path) -> list[Path]:
    return sorted(site.rglob("*.html"))


def offline_problems(site: Path) -> list[str]:
    """Remote loads in the built HTML and in its CSS files (each as ``page: what``)."""
    site = Path(site)
    problems = []
    for path in _pages(site):
        for tag, attr, url in _parse(path).loads:
            if _REMOTE.match(url) or url.startswith(("http:", "https:")):
                problems.append(f"{path.relative_to(site)}: <{tag} {attr}> loads {url}")
    for css in sorted(site.rglob("*.css")):
        for url in _CSS_URL.findall(css.read_text(encoding="utf-8", errors="replace")):
            if _REMOTE.match(url) or url.startswith(("http:", "https:")):
                problems.append(f"{css.relative_to(site)}: url() loads {url}")
    return problems


def broken_links(site: Path) -> list[str]:
    """Local links and loads that resolve to no file, and fragments that name no anchor."""
    site = Path(site).resolve()
    parsed = {p.resolve(): _parse(p) for p in _pages(site)}
    problems = []
    for path, page in parsed.items():
        targets = page.links + [url for _, _, url in page.loads]
        for url in targets:
            if _REMOTE.match(url) or re.match(r"^[a-z][a-z0-9+.-]*:", url, re.IGNORECASE):
                continue  # https:, mailto:, data:, javascript: are not files of the site
            parts = urlsplit(url)
            target = (path.parent / unquote(parts.path)).resolve() if parts.path else path
            if target.is_dir():
                target = target / "index.html"
            where = f"{path.relative_to(site)}: link to {url}"
            if not target.is_file():
                problems.append(f"{where}: no such file")
                continue
            if parts.fragment and target.suffix == ".html":
                anchors = parsed[target].ids if target in parsed else _parse(target).ids
                if unquote(parts.fragment) not in anchors:
                    problems.append(f"{where}: no anchor #{parts.fragment} there")
    return problems


def find_chromium() -> str | None:
    """The path of a Chromium (Debian's ``chromium`` first), or None."""
    for name in ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable"):
        found = shutil.which(name)
        if found:
            return found
    return None


# Done when the page has no math, or MathJax 2 has started, turned every formula into a
# math/tex script and emptied its queue (the script is loaded async: absent at "load").
_MATH_DONE = """() => {
    if (!document.querySelector('span.math, div.math')) return true;
    const mj = window.MathJax;
    return !!(mj && mj.Hub && mj.isReady && mj.Hub.queue.pending === 0 && mj.Hub.queue.running === 0
              && document.querySelectorAll('script[type^="math/tex"]').length > 0
              && !document.querySelector('.MathJax_Processing'));
}"""
_MATH_STATE = """() => ({
    typeset: document.querySelectorAll('span.MathJax_SVG svg').length,
    sources: document.querySelectorAll('script[type^="math/tex"]').length
        || document.querySelectorAll('span.math, div.math').length,
    errors: document.querySelectorAll('.MathJax_Error, merror, [data-mjx-error]').length
        + (document.body.innerText.includes('Math Processing Error') ? 1 : 0),
    images: Array.from(document.images).filter(i => i.complete && i.naturalWidth > 0).length,
    brokenImages: Array.from(document.images).filter(i => !(i.complete && i.naturalWidth > 0)).length,
    title: document.title,
})"""


def browser_check(site: Path, pages: dict[str, str], shots: Path, timeout_s: float = 60.0) -> dict:
    """Open each page of ``pages`` (name -> path under ``site``) in headless Chromium.

    Returns ``{"skipped": reason}`` when no Chromium or no Playwright is installed; otherwise
    ``{"pages": {name: state}, "problems": [...]}`` where a state counts the typeset formulas,
    the math sources, math errors, loaded and broken images, and lists console errors, failed
    requests and uncaught exceptions; a screenshot of each page is written to ``shots/<name>.png``.
    """
    chromium = find_chromium()
    if chromium is None:
        return {"skipped": "no Chromium found (Debian: apt-get install -y chromium)"}
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return {"skipped": "Playwright is not installed (pip install -e '.[docs]')"}
    site = Path(site).resolve()
    shots.mkdir(parents=True, exist_ok=True)
    out: dict = {"pages": {}, "problems": [], "chromium": chromium}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium, args=BROWSER_FLAGS[1:], headless=True)
        try:
            context = browser.new_context(viewport={"width": 1280, "height": 900})
            for name, rel in pages.items():
                page = context.new_page()
                errors: list[str] = []
                page.on("console", lambda m, e=errors: e.append(f"console {m.type}: {m.text}")
                        if m.type in ("error", "warning") else None)
                page.on("pageerror", lambda exc, e=errors: e.append(f"uncaught: {exc}"))
                page.on("requestfailed", lambda r, e=errors: e.append(f"failed load: {r.url}"))
                try:
                    page.goto((site / rel).as_uri(), wait_until="load", timeout=timeout_s * 1000)
                except Exception as exc:  # noqa: BLE001 -- a page that does not open is a finding
                    out["problems"].append(f"{rel}: did not open: {str(exc).splitlines()[0]}")
                    page.close()
                    continue
                try:
                    page.wait_for_function(_MATH_DONE, timeout=timeout_s * 1000)
                except Exception:  # noqa: BLE001 -- the counts below say what did not happen
                    errors.append(f"MathJax did not finish typesetting within {timeout_s:.0f} s")
                page.wait_for_timeout(300)
                state = page.evaluate(_MATH_STATE)
                state["errors_logged"] = errors
                page.screenshot(path=str(shots / f"{name}.png"), full_page=False)
                if state["images"]:  # and the first figure, scrolled into view, with what surrounds it
                    page.locator("img").first.scroll_into_view_if_needed()
                    page.screenshot(path=str(shots / f"{name}_figure.png"), full_page=False)
                out["pages"][name] = state
                out["problems"] += [f"{rel}: {e}" for e in errors]
                if state["sources"] and state["typeset"] < state["sources"]:
                    out["problems"].append(f"{rel}: {state['typeset']} of {state['sources']} formulas typeset")
                if state["errors"]:
                    out["problems"].append(f"{rel}: {state['errors']} math errors")
                if state["brokenImages"]:
                    out["problems"].append(f"{rel}: {state['brokenImages']} images did not load")
                page.close()
        finally:
            browser.close()
    return out
