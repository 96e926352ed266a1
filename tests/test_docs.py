"""The documentation site (``python -m docs.build``): built, checked offline, and in a browser.

Marked ``docs``: outside the default run (``python -m pytest -m docs``; ``.ci/run`` installs the
``docs`` extra and Chromium, then runs it). One build (the whole site: the gallery executed at
notebook size, the catalogue, the API pages) is shared by the tests of this module. It fails on
any Sphinx warning, a failing notebook, a remote asset or a broken internal link; the browser
test opens the landing page, a catalogue page, a gallery page and an API page in headless
Chromium and fails on a console error, a failed load, untypeset math or a missing figure
(skipped, saying why, only where no Chromium is installed). ``$TDTK_DOCS_JSON`` names a
``python -m verify --json`` file for the catalogue's outcomes (``.ci/run`` passes the main job's).

The unmarked tests are cheap: the Markdown helpers and the HTML checkers on small pages.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from docs import _docstrings, _markdown, site_checks

ROOT = Path(__file__).resolve().parents[1]


def test_inline_markdown_keeps_code_and_escapes_markup():
    assert _markdown.inline("a ``x*y`` and *b* [c]") == "a `x*y` and \\*b\\* \\[c\\]"
    assert _markdown.slug("linreg.critical_lr") == "linreg-critical-lr"


def test_docstrings_become_markdown_without_headings_or_roles():
    text = _docstrings.to_markdown("Title\n=====\n\nSee :func:`f`.\n\nExample:\n    >>> 1 + 1\n    2\n")
    assert "=====" not in text and "**Title**" in text and "`f`" in text
    assert "```pycon\n>>> 1 + 1\n2\n```" in text


def test_checkers_find_remote_assets_and_broken_links(tmp_path):
    (tmp_path / "a.html").write_text('<p id="here">x</p><link rel="stylesheet" href="//cdn.example/x.css">')
    (tmp_path / "b.html").write_text('<a href="a.html#here">ok</a><a href="a.html#gone">bad</a>'
                                     '<a href="https://arxiv.org/abs/1903.08560v5">out</a><img src="c.png">')
    assert site_checks.broken_links(tmp_path) == ["b.html: link to a.html#gone: no anchor #gone there",
                                                  "b.html: link to c.png: no such file"]
    assert site_checks.offline_problems(tmp_path) == ["a.html: <link href> loads //cdn.example/x.css"]


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    pytest.importorskip("sphinx", reason="the docs extra is not installed: pip install -e '.[docs]'")
    pytest.importorskip("myst_nb", reason="the docs extra is not installed: pip install -e '.[docs]'")
    from docs import build

    out = tmp_path_factory.mktemp("site")
    json_path = os.environ.get("TDTK_DOCS_JSON") or None
    summary = build.build(out, json_path=json_path, jobs=2, browser=True)
    keep = os.environ.get("TDTK_DOCS_KEEP")  # a folder to copy the screenshots to, for a person to look at
    if keep and (out / "screenshots").is_dir():
        shutil.copytree(out / "screenshots", keep, dirs_exist_ok=True)
    return out, summary


@pytest.mark.docs
def test_site_builds_with_every_page(site):
    out, summary = site
    html = out / "html"
    gallery = sorted(p.stem for p in (ROOT / "examples").glob("*.py"))
    assert sorted(p.stem for p in (html / "gallery").glob("*.html")) == sorted(gallery + ["index"])
    import analytic

    assert {p.stem for p in (html / "catalogue").glob("*.html")} == set(analytic.FAMILIES) | {"index"}
    assert (html / "quickstart.html").is_file() and (html / "api" / "verify.notebook.html").is_file()
    page = (html / "catalogue" / "linreg.html").read_text()
    assert 'id="linreg-critical-lr"' in page and "https://arxiv.org/abs/1903.08560v5" in page
    expected = "rows:" if os.environ.get("TDTK_DOCS_JSON") else "not run"
    assert expected in page
    # the gallery pages carry their executed outputs: the rows' verdict and the figures
    notebook = (html / "gallery" / "linreg_double_descent.html").read_text()
    assert "rows hold" in notebook and "<img" in notebook


@pytest.mark.docs
def test_site_loads_nothing_remote_and_has_no_broken_link(site):
    html = site[0] / "html"
    assert site_checks.offline_problems(html) == []
    assert site_checks.broken_links(html) == []


@pytest.mark.docs
def test_site_in_a_headless_browser(site):
    out, summary = site
    result = summary["browser"]
    if "skipped" in result:
        pytest.skip(f"browser check skipped: {result['skipped']}")
    assert result["problems"] == []
    pages = result["pages"]
    assert pages["catalogue_linreg"]["typeset"] >= pages["catalogue_linreg"]["sources"] > 10  # math rendered
    assert pages["gallery_linreg_double_descent"]["images"] >= 1  # the figure shows
    for name in pages:
        assert (out / "screenshots" / f"{name}.png").stat().st_size > 10_000


@pytest.mark.parametrize("module_name", ["docs._docstrings", "docs.quickstart", "docs.site_checks",
                                         "docs.catalogue", "docs.gallery", "docs.api"])
def test_docs_modules_examples_run_as_shown(module_name):
    import doctest
    import importlib

    module = importlib.import_module(module_name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
