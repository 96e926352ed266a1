"""One self-contained HTML page per verify run (``python -m verify ... --report run.html``).

The page reads the run's JSON record (:func:`verify.report.run_record`, or a saved
``--json`` file via ``--from``) and needs no network to open: styles and the few lines
of filtering script are inline, figures are embedded as SVG ``data:`` URIs and each
figure's CSV as a download link. It shows a summary (rows passed, failed,
not reproduced; time, device, versions, seed), then one section per family with its
rows (failures first and marked; prediction, measurement, error, tolerance, reason),
each check's citation linked to its arXiv page, and the family's figures beside the rows.
"""

from __future__ import annotations

import base64
import html
import math
import re
from pathlib import Path

from verify import figures as figs
from verify.report import counts

__all__ = ["render", "write", "link_citations"]

_ARXIV = re.compile(r"arXiv:(\d{4}\.\d{4,5})(v\d+)?")

_CSS = """
:root { --fail: #b3261e; --fail-bg: #fdecea; --info: #4a5a78; --pass: #1b6e3a; --line: #d8dce3; }
* { box-sizing: border-box; }
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d2330;
       margin: 0 auto; padding: 1rem 1.5rem 3rem; max-width: 1800px; }
h1 { font-size: 1.5rem; margin: .2rem 0 .6rem; }
h2 { font-size: 1.2rem; margin: 2rem 0 .5rem; border-bottom: 2px solid var(--line); padding-bottom: .2rem; }
.summary { display: flex; flex-wrap: wrap; gap: .6rem 2rem; align-items: baseline;
           background: #f4f6f9; border: 1px solid var(--line); border-radius: 6px; padding: .8rem 1rem; }
.big { font-size: 1.35rem; font-weight: 600; }
.big.fail { color: var(--fail); } .big.pass { color: var(--pass); } .big.info { color: var(--info); }
.meta { color: #4b5363; font-size: .9rem; }
.meta code { font-size: .85rem; }
.controls { position: sticky; top: 0; background: #fff; padding: .5rem 0; z-index: 2;
            border-bottom: 1px solid var(--line); display: flex; gap: 1rem; align-items: center; flex-wrap: wrap; }
.controls input[type=search] { width: 22rem; max-width: 100%; padding: .3rem .5rem; font: inherit; }
.family { display: grid; grid-template-columns: minmax(0, 1fr); gap: 1rem; }
@media (min-width: 1100px) { .family.has-figures { grid-template-columns: minmax(0, 1fr) minmax(280px, 25rem); } }
.rows { min-width: 0; overflow-x: auto; }
table { border-collapse: collapse; width: 100%; font-size: .86rem; table-layout: fixed; min-width: 40rem; }
col.status { width: 3.4rem; } col.label { width: 16%; } col.num { width: 6.5rem; }
th, td { text-align: left; vertical-align: top; padding: .25rem .4rem; border-bottom: 1px solid var(--line); }
th { background: #eef1f5; }
td.num { font-variant-numeric: tabular-nums; white-space: nowrap; }
td.reason { color: #3a4252; overflow-wrap: anywhere; }
td.label { overflow-wrap: anywhere; }
tr.check td { background: #f7f8fa; border-top: 2px solid var(--line); }
tr.check .desc { color: #4b5363; }
tr.FAIL td { background: var(--fail-bg); }
.badge { display: inline-block; font-size: .75rem; font-weight: 700; padding: 0 .35rem; border-radius: 3px; color: #fff; }
.badge.PASS { background: var(--pass); } .badge.FAIL { background: var(--fail); } .badge.INFO { background: var(--info); }
.badge.NOT-REPRODUCED { background: #8a5a00; white-space: nowrap; } .notrep { border-left: 4px solid #8a5a00; padding: .2rem .8rem; margin: .6rem 0; }
.figures { display: flex; flex-direction: column; gap: 1rem; }
.wide-figures { display: flex; flex-direction: column; gap: 1rem; margin-top: 1rem; }
figure { margin: 0; border: 1px solid var(--line); border-radius: 6px; padding: .4rem; break-inside: avoid; }
figure img { width: 100%; height: auto; display: block; }
figcaption { font-size: .8rem; color: #4b5363; }
.failures { border-left: 4px solid var(--fail); padding: .2rem .8rem; background: var(--fail-bg); }
a { color: #1f5fae; }
.hidden { display: none; }
@media print {
  .controls { display: none; }
  body { max-width: none; padding: 0; font-size: 11px; }
  .family, .family.has-figures { grid-template-columns: minmax(0, 1fr); }
  .figures { flex-direction: row; flex-wrap: wrap; }
  figure { width: 48%; }
  h2 { break-after: avoid; }
  tr { break-inside: avoid; }
}
"""

# Filter rows by text and status; hide a check's header when none of its rows is shown.
_JS = """
(function () {
  var box = document.getElementById('filter');
  var status = document.querySelectorAll('input[data-status]');
  function apply() {
    var q = box.value.toLowerCase(), show = {};
    status.forEach(function (c) { show[c.dataset.status] = c.checked; });
    document.querySelectorAll('tbody.check-rows').forEach(function (body) {
      var any = false;
      body.querySelectorAll('tr.row').forEach(function (tr) {
        var ok = show[tr.dataset.status] && tr.textContent.toLowerCase().indexOf(q) >= 0;
        tr.classList.toggle('hidden', !ok); any = any || ok;
      });
      body.classList.toggle('hidden', !any);
    });
    var n = document.querySelectorAll('tr.row:not(.hidden)').length;
    document.getElementById('shown').textContent = n + ' rows shown';
  }
  box.addEventListener('input', apply);
  status.forEach(function (c) { c.addEventListener('change', apply); });
  apply();
})();
"""


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def link_citations(cites: str) -> str:
    """HTML of a citation string with every ``arXiv:ID`` linked to its (versioned) abstract page."""
    out, last = [], 0
    for m in _ARXIV.finditer(cites):
        out.append(_e(cites[last:m.start()]))
        ident = m.group(1) + (m.group(2) or "")
        out.append(f'<a href="https://arxiv.org/abs/{ident}" rel="noopener">arXiv:{ident}</a>')
        last = m.end()
    out.append(_e(cites[last:]))
    return "".join(out)


def _num(value) -> str:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        value = float(value)
        if math.isinf(value):
            return "∞" if value > 0 else "-∞"
        if math.isnan(value):
            return "nan"
        return f"{value:.4g}"  # one format for every number: 4 significant digits
    if value in ("Infinity", "inf"):
        return "∞"
    return _e(value)


def _family(name: str) -> str:
    return name.split(".", 1)[0]


def _figure_family(record: dict, families: list[str]) -> str:
    if record.get("check"):
        return _family(record["check"])
    prefix = record["name"].split("_", 1)[0]
    return prefix if prefix in families else "other"


def _is_wide(record: dict) -> bool:
    """A row of several heatmap panels: too small beside the table, it gets the page's width."""
    figure = figs.from_record(record)
    return bool(figure.grid_y) and len(figure.ys) > 1


def _figure_html(record: dict) -> str:
    figure = figs.from_record(record)
    csv = base64.b64encode(figs.csv_text(figure).encode()).decode("ascii")
    csv_link = (f'<a download="{_e(figure.name)}.csv" href="data:text/csv;base64,{csv}">CSV</a>')
    uri = figs.svg_data_uri(figure)
    image = (f'<img src="{uri}" alt="{_e(figure.title or figure.name)}" loading="eager">' if uri
             else "<p>(install matplotlib to draw this figure)</p>")
    return (f'<figure id="fig-{_e(figure.name)}">{image}<figcaption>{_e(figure.name)} · '
            f'{csv_link}</figcaption></figure>')


def _rows_html(rows: list[dict], checks: dict[str, dict]) -> str:
    """One <tbody> per check (failed checks first), its failed rows first."""
    by_check: dict[str, list[dict]] = {}
    for row in rows:
        by_check.setdefault(row["check"], []).append(row)
    order = sorted(by_check, key=lambda c: (not any(r["status"] == "FAIL" for r in by_check[c]),
                                            list(by_check).index(c)))
    rank = {"FAIL": 0, "NOT REPRODUCED": 1, "INFO": 2, "PASS": 3}
    parts = []
    for name in order:
        group = sorted(by_check[name], key=lambda r: rank.get(r["status"], 3))
        info = checks.get(name, {})
        cites = group[0].get("cites") or info.get("cites", "")
        desc = group[0].get("description") or info.get("description", "")
        parts.append(f'<tbody class="check-rows" id="check-{_e(name)}"><tr class="check"><td colspan="7">'
                     f'<b>{_e(name)}</b> <span class="desc">{_e(desc)}</span><br>'
                     f'<span class="cites">{link_citations(cites)}</span></td></tr>')
        for r in group:
            status = r["status"]
            css = status.replace(" ", "-")
            parts.append(
                f'<tr class="row {css}" data-status="{status}">'
                f'<td><span class="badge {css}">{status}</span></td>'
                f'<td class="label">{_e(r["label"] or r["name"])}</td>'
                f'<td class="num">{_num(r["prediction"])}</td><td class="num">{_num(r["measurement"])}</td>'
                f'<td class="num">{_num(r["error"])}</td><td class="num">{_num(r["tolerance"])}</td>'
                f'<td class="reason">{_e(r["reason"])}</td></tr>')
        parts.append("</tbody>")
    return "".join(parts)


def render(record: dict, title: str = "verify report") -> str:
    """The HTML page of a run record (see :func:`verify.report.run_record`)."""
    rows = record["rows"]
    c = counts(rows)
    checks = {c_["name"]: c_ for c_ in record.get("checks", [])}
    families = list(dict.fromkeys(_family(r["check"]) for r in rows))
    figures_by_family: dict[str, list[dict]] = {}
    for fig in record.get("figures", []):
        figures_by_family.setdefault(_figure_family(fig, families), []).append(fig)
    env, versions = record.get("environment", {}), record.get("versions", {})
    n_rows = c["passed"] + c["failed"]
    n_checks = len({r["check"] for r in rows})
    status_class = "fail" if c["failed"] else "pass"
    headline = (f'<span class="big {status_class}">{c["passed"]} of {n_rows} rows passed '
                f'({n_checks} checks)</span>'
                + (f'<span class="big fail">{c["failed"]} failed</span>' if c["failed"] else "")
                + (f'<span class="big info">{c["not_reproduced"]} claims not reproduced</span>'
                   if c.get("not_reproduced") else "")
                + (f'<span class="big info">{c["info"]} informational</span>' if c["info"] else ""))
    device = f'{env.get("backend", "?")}: {env.get("device", "?")}'
    if record.get("num_devices", 1) not in (1, None):
        device += f' × {record["num_devices"]}'
    version_text = ", ".join(f"{k} {v}" for k, v in versions.items()) or \
        f'jax {env.get("jax", "?")}, python {env.get("python", "?")}'
    meta = (f'<span>{record.get("seconds", 0):.1f} s</span><span>device {_e(device)}</span>'
            f'<span>size {_e(record.get("size") or ("quick" if record.get("quick") else "full"))}</span>'
            f'<span>seed {_e(record.get("seed", "?"))}</span>'
            f'<span>float64 {"on" if env.get("x64") else "off"}</span>'
            f'<span>{_e(record.get("date", ""))}</span>'
            f'<span>{_e(version_text)}</span>')
    if record.get("argv"):
        meta += f'<span><code>python -m verify {_e(" ".join(record["argv"]))}</code></span>'
    failures = ""
    failed = [r for r in rows if r["status"] == "FAIL"]
    if failed:
        items = "".join(f'<li><a href="#check-{_e(r["check"])}">{_e(r["name"])}</a>: {_e(r["reason"])}</li>'
                        for r in failed)
        failures = f'<div class="failures"><b>Failed rows</b><ul>{items}</ul></div>'
    contradicted = [r for r in rows if r["status"] == "NOT REPRODUCED"]
    if contradicted:
        items = "".join(f'<li><a href="#check-{_e(r["check"])}">{_e(r["name"])}</a>: {_e(r["reason"])}</li>'
                        for r in contradicted)
        failures += (f'<div class="notrep" id="not-reproduced"><b>Claims not reproduced</b> (papers\' '
                     f'claims this setting measurably contradicts; each fails if the measurement comes '
                     f'to agree)<ul>{items}</ul></div>')
    sections = []
    ordered = sorted(families, key=lambda f: (not any(r["status"] == "FAIL" for r in rows
                                                      if _family(r["check"]) == f), families.index(f)))
    for family in ordered + [f for f in figures_by_family if f not in families]:
        fam_rows = [r for r in rows if _family(r["check"]) == family]
        fc = counts(fam_rows)
        family_figures = figures_by_family.get(family, [])
        figs_html = "".join(_figure_html(f) for f in family_figures if not _is_wide(f))
        wide_html = "".join(_figure_html(f) for f in family_figures if _is_wide(f))
        table = ('<table><colgroup><col class="status"><col class="label"><col class="num"><col class="num">'
                 '<col class="num"><col class="num"><col></colgroup>'
                 "<thead><tr><th></th><th>row</th><th>predicted</th><th>measured</th>"
                 "<th>error</th><th>tolerance</th><th>reason for the tolerance</th></tr></thead>"
                 + _rows_html(fam_rows, checks) + "</table>") if fam_rows else ""
        tally = f'{fc["passed"]} passed' + (f', {fc["failed"]} FAILED' if fc["failed"] else "") + \
            (f', {fc["not_reproduced"]} not reproduced' if fc.get("not_reproduced") else "") + \
            (f', {fc["info"]} informational' if fc["info"] else "")
        sections.append(
            f'<section id="family-{_e(family)}"><h2>{_e(family)} <span class="meta">{tally}</span></h2>'
            f'<div class="family{" has-figures" if figs_html else ""}"><div class="rows">{table}</div>'
            + (f'<div class="figures">{figs_html}</div>' if figs_html else "") + "</div>"
            + (f'<div class="wide-figures">{wide_html}</div>' if wide_html else "") + "</section>")
    nav = " · ".join(f'<a href="#family-{_e(f)}">{_e(f)}</a>' for f in ordered)
    controls = ('<div class="controls"><input type="search" id="filter" placeholder="filter rows '
                '(name, label, reason)" aria-label="filter rows">'
                + "".join(f'<label><input type="checkbox" data-status="{s}" checked> {s}</label>'
                          for s in ("FAIL", "NOT REPRODUCED", "INFO", "PASS"))
                + f'<span id="shown" class="meta"></span><span class="meta">{nav}</span></div>')
    return (f'<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<title>{_e(title)}</title><style>{_CSS}</style></head><body>'
            f'<h1>{_e(title)}</h1><div class="summary" id="summary">{headline}'
            f'<div class="meta" style="display:flex;flex-wrap:wrap;gap:.2rem 1.2rem">{meta}</div></div>'
            f'{failures}{controls}{"".join(sections)}<script>{_JS}</script></body></html>\n')


def write(record: dict, path: str | Path, title: str = "verify report") -> Path:
    """Write the page of ``record`` to ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(render(record, title), encoding="utf-8")
    return path
