"""The terminal table, the JSON record, the HTML report, and every figure of a small real run.

One small run (two cheap checks at smoke size, in this process) feeds the figure, JSON,
``--from`` and browser tests; the rest use synthetic rows.
"""

import contextlib
import io
import json
import math
import re
import shutil
import subprocess

import numpy as np
import pytest

from verify import cli, core, figures, html_report, report


def _result(check, label, p, m, tol, reason="why", seconds=0.1):
    row = core.compare(label, p, m, tol, reason, relative=False) if math.isfinite(tol) \
        else core.inform(label, p, m, reason)
    return core.Result(check, row, row.passed, seconds)


# --- the terminal table -------------------------------------------------------------------

def test_long_names_are_never_cut_and_lines_fit_the_width():
    prefix = "momentum.spectral_radius_grid[heavy_ball per-mode, "
    a = _result(prefix[:-2] + "]", "", 0.5, 0.5, 0.01)
    rows = [_result("momentum.spectral_radius_grid", f"heavy_ball per-mode, {k} roots (18 modes)", 0.5,
                    0.6, 0.01, "a long reason " * 20) for k in ("real", "complex")]
    texts = [report.format_row(r, width=80) for r in rows]
    for r, text in zip(rows, texts):
        assert r.name in text.splitlines()[0]  # the whole name, on a line of its own
        assert all(len(line) <= 80 for line in text.splitlines()[1:])
        assert "reason: a long reason" in text  # failed: its reason is wrapped under it
    assert texts[0].splitlines()[0] != texts[1].splitlines()[0]
    passed = report.format_row(a, width=120)
    assert "reason" not in passed and "reason: why" in report.format_row(a, width=120, verbose=True)


def test_a_long_outcome_is_repeated_in_full():
    row = core.compare_outcome("order", "sgd < momentum < preconditioned", "sgd < momentum < preconditioned",
                               "categorical")
    text = report.format_row(core.Result("nqm.x", row, True, 0.0), width=120)
    assert "predicted: sgd < momentum < preconditioned" in text


def test_summary_counts_checks_and_informational_rows_apart():
    results = [_result("a.x", "1", 1.0, 1.0, 0.1), _result("a.x", "2", 0.0, 0.3, math.inf),
               _result("a.y", "3", 1.0, 2.0, 0.1)]
    text = report.summary(results, 2.0)
    assert text.startswith("1 of 2 rows FAILED (in 1 of 2 checks), 1 passed, 1 informational in 2.0 s")
    assert "a.y[3]" in text
    assert report.summary(results[:2], 1.0) == ("1 row of 1 check passed, 1 informational in 1.0 s\n"
                                                "rows by status: PASS 1, FAIL 0, NOT REPRODUCED 0, INFO 1")


def _not_reproduced(check="fam.claim", claim=12.0, measured=4.0, se=0.5):
    row = core.not_reproduced("paper's edge", claim, measured, se, "a different setting")
    return core.Result(check, row, row.passed, 0.1)


def test_claims_not_reproduced_have_their_status_counts_and_section():
    results = [_result("a.x", "1", 1.0, 1.0, 0.1), _not_reproduced(), _not_reproduced(measured=11.5)]
    assert [r.status for r in results] == ["PASS", "NOT REPRODUCED", "FAIL"]  # 1 SE: it agrees, so fails
    assert report.counts(results) == {"passed": 1, "failed": 1, "not_reproduced": 1, "info": 0, "rows": 3}
    text = report.summary(results, 1.0)
    assert text.startswith("1 of 2 rows FAILED (in 1 of 2 checks), 1 passed, 1 claim not reproduced in 1.0 s")
    assert "rows by status: PASS 1, FAIL 1, NOT REPRODUCED 1" in text
    section = report.not_reproduced_section(results, width=100)
    assert section.startswith("Claims not reproduced (1):") and "16 standard errors" in section
    assert "a different setting" in section and report.not_reproduced_section(results[:1]) == ""
    assert "reason: claim 12" in report.format_row(results[1], width=100)  # the reason is shown
    record = report.run_record(results, True, 1.0, checks=[])
    assert record["rows"][1]["kind"] == "NOT REPRODUCED" and record["rows"][1]["category"] == "statistical"
    page = html_report.render(record)
    assert "Claims not reproduced" in page and 'class="badge NOT-REPRODUCED"' in page
    assert "1 claims not reproduced" in page


def test_list_shows_whole_descriptions():
    def fn(ctx):
        """First sentence of a description that goes on
        over a second line of the docstring.

        Details."""
        yield from ()

    chk = core.Check("t.long", fn, "Someone 2020, arXiv:2001.00001v1", "First sentence of a description "
                     "that goes on")
    text = report.list_checks([chk], width=60)
    assert "over a second line of the docstring." in " ".join(text.split())
    assert all(len(line) <= 60 for line in text.splitlines())


# --- the JSON record and the HTML page on synthetic rows -------------------------------------

def _record():
    checks = [core.Check("fam.ok", None, "Lessard, Recht, Packard 2016, arXiv:1408.3595v3, sec. 2", "ok"),
              core.Check("fam.bad", None, "Nesterov 2004", "bad")]
    results = [_result("fam.ok", "good", 1.0, 1.0, 0.1), _result("fam.bad", "fine", 1.0, 1.0, 0.1),
               _result("fam.bad", "<wrong>", 1.0, 3.0, 0.1, "deliberately"),
               _result("fam.ok", "info", 0.0, 0.5, math.inf)]
    fig = core.Figure("fam_curve", {"x": np.arange(3.0), "predicted": np.arange(3.0),
                                    "measured": np.array([0.0, np.nan, 2.1])}, "x", ("predicted", "measured"))
    return report.run_record(results, True, 3.5, size="smoke", seed=7, checks=checks,
                             figures=[figures.to_record(fig, "fam.ok")], argv=["fam", "--quick"])


def test_run_record_takes_the_workers_citations_without_deriving_formulas():
    """A parallel run passes the citations its workers found: the parent process (which derived
    no Formula) must not derive the catalogue again to read them (``Check.cites`` would)."""
    check = core.Check("fam.uses", None, "", "uses a Formula", uses=(("f", "no.such_formula"),))
    record = report.run_record([_result("fam.uses", "row", 1.0, 1.0, 0.1)], True, 1.0, checks=[check],
                               cites={"fam.uses": "Author 2020, arXiv:2001.00001v1"})
    assert record["rows"][0]["cites"] == record["checks"][0]["cites"] == "Author 2020, arXiv:2001.00001v1"
    with pytest.raises(ValueError, match="no.such_formula"):  # without them its Formulas are looked up
        report.run_record([_result("fam.uses", "row", 1.0, 1.0, 0.1)], True, 1.0, checks=[check])


def test_json_record_keeps_every_field_and_loads_back(tmp_path):
    record = _record()
    row = record["rows"][0]
    assert {"check", "label", "name", "prediction", "measurement", "error", "tolerance", "reason", "passed",
            "status", "seconds", "cites", "informational", "description", "category", "kind"} <= set(row)
    assert row["cites"].startswith("Lessard") and record["seed"] == 7 and record["versions"]["numpy"]
    assert record["counts"] == {"passed": 2, "failed": 1, "not_reproduced": 0, "info": 1, "rows": 4}
    path = tmp_path / "run.json"
    path.write_text(json.dumps(record, default=str))
    loaded = report.load(path)
    assert loaded["rows"][3]["tolerance"] == math.inf and loaded["figures"][0]["check"] == "fam.ok"
    old = tmp_path / "old.json"  # a file from before cites and figures were recorded
    old.write_text(json.dumps({"quick": True, "seconds": 1.0, "rows": [
        {k: v for k, v in row.items() if k not in ("cites", "description", "informational")}]}))
    assert report.load(old)["figures"] == [] and report.load(old)["rows"][0]["cites"] == ""


def test_html_is_self_contained_failures_first_and_cites_linked():
    page = html_report.render(_record())
    assert "2 of 3 rows passed" in page and "1 failed" in page and "1 informational" in page
    assert "seed 7" in page and "size smoke" in page
    assert re.findall(r'(?:src|href)="(?!data:|#)([^"]*)"', page) == ["https://arxiv.org/abs/1408.3595v3"]
    assert "<link" not in page and "<script src" not in page
    assert page.index("fam.bad") < page.index("fam.ok")  # the failed check first
    bad = page[page.index('id="check-fam.bad"'):]
    assert bad.index('data-status="FAIL"') < bad.index('data-status="PASS"')
    assert "&lt;wrong&gt;" in page and "<wrong>" not in page  # escaped
    assert page.count("data:image/svg+xml;base64,") == 1 and "data:text/csv;base64," in page


def test_figures_pdf_from_a_saved_run(tmp_path, capsys):
    saved = tmp_path / "run.json"
    saved.write_text(json.dumps(_record(), default=str))
    assert cli.main(["--from", str(saved), "--figures", str(tmp_path / "f"), "--format", "pdf", "-v"]) == 1
    assert sorted(p.name for p in (tmp_path / "f").iterdir()) == ["fam_curve.csv", "fam_curve.pdf"]
    printed = capsys.readouterr().out
    assert "reason: why" in printed and "1 of 3 rows FAILED" in printed  # -v: every reason


def test_link_citations():
    html = html_report.link_citations("A 2019, arXiv:1903.08560v5, Thm 1; B <2020>, arXiv:2001.12345")
    assert '<a href="https://arxiv.org/abs/1903.08560v5"' in html
    assert 'href="https://arxiv.org/abs/2001.12345"' in html and "B &lt;2020&gt;" in html


# --- a small real run: its figures, --from, and the page in a browser --------------------------

@pytest.fixture(scope="module")
def small_run(tmp_path_factory):
    """linreg.gd_loss_curve and momentum.spectral_radius_grid at smoke size, saved as --json would."""
    import verify.checks.linreg  # noqa: F401 - registers the two checks; core.select() would import
    import verify.checks.momentum  # noqa: F401 - the catalogue and derive every Formula (for cites)

    checks = [core._REGISTRY[name]
              for name in ("linreg.gd_loss_curve", "momentum.spectral_radius_grid")]
    ctx = core.Context(size="smoke")
    results, owners = [], []
    for chk in checks:
        results += list(core.run([chk], ctx))
        owners += [chk.name] * (len(ctx.figures) - len(owners))
    record = report.run_record(results, True, 1.0, size="smoke", seed=0, checks=checks,
                               figures=[figures.to_record(f, c) for f, c in zip(ctx.figures, owners)])
    path = tmp_path_factory.mktemp("run") / "run.json"
    path.write_text(json.dumps(record, default=str))
    return ctx.figures, path


def test_every_figure_of_a_small_run_follows_the_convention(small_run):
    pytest.importorskip("matplotlib")
    import matplotlib.pyplot as plt

    figs, _ = small_run
    assert {f.name for f in figs} == {"linreg_gd_loss_curve", "momentum_heavy_ball_rate_heatmap",
                                      "momentum_nesterov_rate_heatmap"}
    for figure in figs:
        fig = figures.render(figure)
        try:
            if figure.grid_y:
                panels = [ax for ax in fig.axes if ax.get_label() != "<colorbar>"]
                assert len(panels) == len(figure.ys) and len(fig.axes) == len(figure.ys) + 1
                assert fig.axes[-1].get_ylabel().startswith("worst-case rate")
                assert all(p.get_xlabel() for p in panels) and panels[0].get_ylabel()
            else:
                ax = fig.axes[0]
                assert ax.get_xlabel() == "step $t$" and ax.get_ylabel() == "training loss $L(t)$"
                drawn = [line for line in ax.get_lines() if not line.get_label().startswith("_child")]
                assert len(ax.containers) + len(drawn) == len(figure.ys)  # one line, one marker set
        finally:
            plt.close(fig)


@pytest.fixture(scope="module")
def rendered(small_run, tmp_path_factory):
    """``python -m verify --from run.json --report run.html`` (in-process)."""
    _, path = small_run
    out = tmp_path_factory.mktemp("report")
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = cli.main(["--from", str(path), "--report", str(out / "run.html")])
    return code, printed.getvalue(), out


def test_report_from_json(rendered, small_run):
    code, printed, out = rendered
    assert code == 0 and re.search(r"\d+ rows? of \d+ checks? passed in 1\.0 s", printed) and "report:" in printed
    page = (out / "run.html").read_text()
    assert page.count("data:image/svg+xml;base64,") == 3
    assert 'href="https://arxiv.org/abs/1408.3595v3"' in page  # Lessard et al., the momentum check
    assert cli.main(["linreg", "--from", str(small_run[1])]) == 2


def _browser():
    return next((shutil.which(b) for b in ("chromium", "chromium-browser", "google-chrome") if shutil.which(b)),
                None)


_PROBE = """<script>
window.__errors = [];
window.addEventListener('error', function (e) { window.__errors.push(String(e.message)); });
var _error = console.error; console.error = function (m) { window.__errors.push(String(m)); _error.apply(console, arguments); };
window.addEventListener('load', function () {
  var s = document.getElementById('summary').getBoundingClientRect();
  var img = document.querySelector('figure img'), f = img.getBoundingClientRect();
  var p = document.createElement('pre'); p.id = 'probe';
  p.textContent = JSON.stringify({errors: window.__errors, shown: document.getElementById('shown').textContent,
    summary: [s.top, s.bottom, s.width], figure: [f.top, f.bottom, f.width, img.naturalWidth, img.complete],
    height: window.innerHeight});
  document.body.appendChild(p);
});
</script>"""


@pytest.mark.skipif(_browser() is None, reason="no headless browser (install the distribution's chromium "
                                                "package: apt-get install chromium) to render the report")
def test_report_in_a_headless_browser(rendered, tmp_path):
    page = (rendered[2] / "run.html").read_text()
    probed = tmp_path / "probed.html"
    probed.write_text(page.replace("<head>", "<head>" + _PROBE, 1))
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--window-size=1280,900",
             "--virtual-time-budget=5000", "--enable-logging=stderr"]
    shot = tmp_path / "report.png"  # one browser start for the DOM and the screenshot (the probe's
    # <pre> goes at the end of the page, below the part of it the 1280 x 900 screenshot shows)
    dom = subprocess.run([_browser(), *flags, "--dump-dom", f"--screenshot={shot}", probed.as_uri()],
                         capture_output=True, text=True, timeout=120)
    probe = json.loads(re.search(r'<pre id="probe">(.*?)</pre>', dom.stdout, re.S).group(1)
                       .replace("&quot;", '"').replace("&amp;", "&"))
    assert probe["errors"] == [] and "Uncaught" not in dom.stderr, (probe, dom.stderr[-2000:])
    assert probe["shown"].endswith("rows shown")  # the filtering script ran
    top, bottom, width = probe["summary"]
    assert 0 <= top < bottom < probe["height"] and width > 500  # summary visible without scrolling
    f_top, f_bottom, f_width, natural, complete = probe["figure"]
    assert complete and natural > 0 and f_width > 200 and f_top < probe["height"]  # a figure, drawn
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
