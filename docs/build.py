"""Build the documentation site: ``python -m docs.build [--json RUN.json] [--browser]``.

Steps, each timed on stdout:

1. write the Sphinx sources into ``<out>/src``: the quick start (from the README), the catalogue
   (one page per family, from the registry; outcomes from ``--json``, else "not run"), the API
   reference pages, the gallery's landing page, the configuration and the static files (MathJax
   2 copied from Debian's ``libjs-mathjax``, or ``$TDTK_MATHJAX_DIR``);
2. execute the gallery (``examples/*.py``) into ``<out>/src/gallery/*.ipynb``, ``--jobs`` at a
   time (in parallel with step 1); a notebook that raises fails the build;
3. ``sphinx-build -W`` into ``<out>/html`` (a warning fails the build);
4. check the HTML: no remote script, style, font or image; no broken internal link or anchor;
5. with ``--browser``: headless Chromium over ``file://`` (screenshots in ``<out>/screenshots``;
   skipped with a message where no Chromium is installed, a failure where one is).

Exit status 0 only when every step passed. Open ``<out>/html/index.html``.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

from docs import api, catalogue, gallery, quickstart, site_checks

ROOT = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
MATHJAX_DIRS = ("/usr/share/javascript/mathjax", "/usr/share/mathjax")
# The parts of MathJax 2 the SVG configuration loads (the rest of Debian's 54 MB is other
# output processors, fonts for them, and uncompressed sources).
MATHJAX_PARTS = ("MathJax.js", "config/TeX-AMS_SVG-full.js", "config/local", "extensions",
                 "jax/element", "jax/input/TeX", "jax/output/SVG/jax.js", "jax/output/SVG/autoload",
                 "jax/output/SVG/config.js", "jax/output/SVG/fonts/TeX", "localization/en")
# Pages the browser opens: the landing page, a catalogue page, a gallery page, two API pages
# (one whose docstring carries display maths).
BROWSER_PAGES = {"index": "index.html", "catalogue_linreg": "catalogue/linreg.html",
                 "gallery_linreg_double_descent": "gallery/linreg_double_descent.html",
                 "api_verify_notebook": "api/verify.notebook.html",
                 "api_analytic_catapult": "api/analytic.catapult.html"}

__all__ = ["BROWSER_PAGES", "MATHJAX_PARTS", "build", "copy_mathjax", "main"]


def _mathjax_source() -> Path:
    candidates = [os.environ["TDTK_MATHJAX_DIR"]] if os.environ.get("TDTK_MATHJAX_DIR") else list(MATHJAX_DIRS)
    for candidate in candidates:
        if (Path(candidate) / "MathJax.js").is_file():
            return Path(candidate)
    raise RuntimeError(f"MathJax 2 not found in {candidates}: the site renders math offline from a local "
                       "copy; on Debian: apt-get install -y libjs-mathjax (or set TDTK_MATHJAX_DIR to a "
                       "MathJax 2 folder)")


def copy_mathjax(static: Path) -> int:
    """Copy the parts of MathJax 2 the site loads into ``static/mathjax``; returns bytes copied."""
    source, target = _mathjax_source(), static / "mathjax"
    total = 0
    for part in MATHJAX_PARTS:
        src = source / part
        if src.is_dir():
            shutil.copytree(src, target / part, dirs_exist_ok=True, symlinks=False)
            total += sum(f.stat().st_size for f in (target / part).rglob("*") if f.is_file())
        elif src.is_file():
            (target / part).parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(src, target / part)
            total += (target / part).stat().st_size
    return total


def _index_page() -> str:
    return "\n".join([
        "# tdtk: training-dynamics theory, derived and checked", "",
        "Closed forms of neural-net training dynamics derived with sympy (`analytic/`), direct "
        "simulations in JAX that never import them (`numeric/`), and checks that compare the two "
        "with a stated tolerance and its reason (`verify/`).", "",
        "- {doc}`Getting started <quickstart>`: install, run the checks, derive in the REPL.",
        "- {doc}`Gallery <gallery/index>`: one executed notebook per paper of the course's list and per "
        "lecture topic: claim, derivation, check, figure.",
        "- {doc}`Catalogue <catalogue/index>`: every Formula, one page per family, with its LaTeX, "
        "parameters, derivation, source and the checks that verify it.",
        "- {doc}`API reference <api/index>`: the public modules' docstrings.", "",
        "```{toctree}", ":hidden:", ":maxdepth: 1", "", "quickstart", "gallery/index", "catalogue/index",
        "api/index", "```", ""])


def write_sources(src: Path, json_path: str | None, log=print) -> None:
    """Step 1: every generated page and static file under ``src`` (the gallery's notebooks aside)."""
    shutil.copyfile(HERE / "site_conf.py", src / "conf.py")
    static = src / "_static"
    static.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(HERE / "static" / "tdtk.css", static / "tdtk.css")
    log(f"mathjax: {copy_mathjax(static) / 1e6:.1f} MB copied from {_mathjax_source()}")
    (src / "index.md").write_text(_index_page())
    (src / "quickstart.md").write_text(quickstart.quickstart_page())
    start = time.perf_counter()
    counts = catalogue.write_catalogue(src / "catalogue", json_path)
    log(f"catalogue: {counts} in {time.perf_counter() - start:.0f} s")
    log(f"api: {api.write_api(src / 'api')} module pages")
    names = [p.stem for p in gallery.notebooks()]
    (src / "gallery").mkdir(parents=True, exist_ok=True)
    (src / "gallery" / "index.md").write_text(gallery.index_page(names))


def build(out: Path, json_path: str | None = None, jobs: int = 2, reuse_gallery: bool = False,
          browser: bool = False, log=print) -> dict:
    """Run the steps; returns a summary (seconds per step, check results). Raises on a failure."""
    if not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"--jobs must be a whole number >= 1, got {jobs!r}")
    missing = [name for name in ("sphinx", "myst_nb", "furo", "jupytext", "nbclient", "ipykernel")
               if importlib.util.find_spec(name) is None]
    if missing:
        raise RuntimeError(f"missing {', '.join(missing)}: install the docs extra (pip install -e '.[docs]')")
    if json_path is not None and not Path(json_path).is_file():
        raise FileNotFoundError(f"--json {json_path}: no such file (write one with python -m verify --json PATH)")
    out = Path(out)
    src, html = out / "src", out / "html"
    keep = {}
    if reuse_gallery and (src / "gallery").is_dir():
        keep = {p.name: p.read_bytes() for p in (src / "gallery").glob("*.ipynb")}
    for folder in (src, html):
        shutil.rmtree(folder, ignore_errors=True)
    src.mkdir(parents=True)
    (src / "gallery").mkdir()
    for name, data in keep.items():
        (src / "gallery" / name).write_bytes(data)
    summary: dict = {"seconds": {}}
    start = time.perf_counter()

    gallery_result: dict = {}

    def run_gallery():
        try:
            gallery_result["seconds"] = gallery.execute_all(src / "gallery", jobs=jobs, reuse=reuse_gallery, log=log)
        except BaseException as exc:  # noqa: BLE001 -- re-raised in the main thread
            gallery_result["error"] = exc

    worker = threading.Thread(target=run_gallery, name="gallery")
    worker.start()
    write_sources(src, json_path, log)
    summary["seconds"]["sources"] = time.perf_counter() - start
    worker.join()
    if "error" in gallery_result:
        raise gallery_result["error"]
    summary["seconds"]["sources+gallery"] = time.perf_counter() - start
    summary["gallery"] = gallery_result["seconds"]

    step = time.perf_counter()
    command = [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html", str(src), str(html)]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep))
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    summary["seconds"]["sphinx"] = time.perf_counter() - step
    if done.returncode != 0:
        raise RuntimeError(f"sphinx-build failed (exit {done.returncode}):\n{done.stdout[-6000:]}{done.stderr[-6000:]}")
    log(f"sphinx: {summary['seconds']['sphinx']:.0f} s, {len(list(html.rglob('*.html')))} pages")

    problems = site_checks.offline_problems(html) + site_checks.broken_links(html)
    if problems:
        raise RuntimeError("the built HTML has problems:\n" + "\n".join(problems[:60]))
    log("html checks: no remote asset, no broken internal link or anchor")
    if browser:
        step = time.perf_counter()
        result = site_checks.browser_check(html, BROWSER_PAGES, out / "screenshots")
        summary["seconds"]["browser"] = time.perf_counter() - step
        summary["browser"] = result
        if "skipped" in result:
            log(f"browser check SKIPPED: {result['skipped']}")
        elif result["problems"]:
            raise RuntimeError("browser check failed:\n" + "\n".join(result["problems"][:60]))
        else:
            log(f"browser check: {json.dumps({k: {n: v for n, v in s.items() if n != 'errors_logged'} for k, s in result['pages'].items()})}")
            log(f"screenshots: {out / 'screenshots'}")
    summary["seconds"]["total"] = time.perf_counter() - start
    log(f"site built in {summary['seconds']['total']:.0f} s: {html / 'index.html'}")
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m docs.build", description=__doc__.split("\n\n")[0])
    parser.add_argument("--json", metavar="PATH", help="a python -m verify --json file: the catalogue shows "
                        "its checks' outcomes (without it: 'not run')")
    parser.add_argument("--out", default=str(HERE / "_build"), help="output folder (default docs/_build; "
                        "the site is <out>/html)")
    parser.add_argument("--jobs", type=int, default=2, help="notebooks executed at a time (default 2)")
    parser.add_argument("--reuse-gallery", action="store_true", help="keep executed notebooks whose source "
                        "is unchanged (quicker rebuilds while editing; CI never reuses)")
    parser.add_argument("--browser", action="store_true", help="also check the site in headless Chromium "
                        "and take screenshots")
    args = parser.parse_args(argv)
    try:
        build(Path(args.out), args.json, args.jobs, args.reuse_gallery, args.browser)
    except (RuntimeError, FileNotFoundError, ValueError) as exc:
        print(f"docs.build: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
