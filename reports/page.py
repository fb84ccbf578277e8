"""The HTML page: one file, plotly.js, the styles, the script and the filters' data inlined;
figures as JSON drawn on load (reports.script)."""

from __future__ import annotations

import html
import json
from datetime import datetime

import plotly.io as pio
from plotly.offline import get_plotlyjs

from reports.charts import Chart, Section
from reports.script import SCRIPT

CSS = """
:root { --ink:#0f172a; --soft:#475569; --line:#e2e8f0; --bg:#f8fafc; --teal:#0f766e; --amber:#b45309; }
* { box-sizing: border-box; }
body { margin:0; background:var(--bg); color:var(--ink);
       font: 15px/1.5 Inter, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; }
header { background: linear-gradient(120deg, #0f766e, #134e4a); color:white; padding: 28px 40px 24px; }
header h1 { margin:0 0 4px; font-size: 26px; letter-spacing: -0.01em; }
header p { margin:0; opacity: .85; }
nav { position: sticky; top: 0; z-index: 5; background: white; border-bottom: 1px solid var(--line);
      padding: 8px 40px; display:flex; gap: 18px; flex-wrap: wrap; font-size: 14px; }
nav a { color: var(--soft); text-decoration: none; } nav a:hover { color: var(--teal); }
main { max-width: 1280px; margin: 0 auto; padding: 24px 40px 60px; }
.kpis {
  display:grid;
  grid-template-columns: repeat(auto-fit, minmax(180px, 1fr));
  gap: 14px;
  margin: 0 0 26px;
}
.kpi { background:white; border:1px solid var(--line); border-radius: 12px; padding: 14px 16px; }
.kpi .v { font-size: 26px; font-weight: 650; letter-spacing: -0.02em; }
.kpi .l { color: var(--soft); font-size: 13px; }
.kpi .h { color: #64748b; font-size: 12px; margin-top: 2px; }
section { margin: 34px 0 0; }
section > h2 { font-size: 21px; margin: 0 0 4px; }
section > p.intro { color: var(--soft); margin: 0 0 14px; max-width: 900px; }
.grid { display:grid; grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); gap: 16px; }
.card {
  background:white;
  border:1px solid var(--line);
  border-radius: 12px;
  padding: 16px 18px 10px;
  min-width: 0;
}
.card.wide { grid-column: 1 / -1; }
.card h3 { margin: 0; font-size: 16px; }
.card p.lede { margin: 2px 0 4px; color: var(--soft); font-size: 13.5px; }
.card p.note { margin: 4px 0 6px; color: #92400e; font-size: 12.5px; }
.missing {
  background: #fff7ed;
  border: 1px dashed #fdba74;
  border-radius: 12px;
  padding: 14px 18px;
  color:#9a3412;
}
table { border-collapse: collapse; width: 100%; font-size: 13px; }
th, td { text-align: left; padding: 6px 8px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { color: var(--soft); font-weight: 600; }
td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
.path { color: var(--soft); } .path b { color: var(--ink); font-weight: 600; }
.pill {
  display:inline-block;
  padding: 1px 8px;
  border-radius: 999px;
  font-size: 12px;
  font-weight: 600;
}
.pill.won { background:#dcfce7; color:#166534; } .pill.open { background:#dbeafe; color:#1e40af; }
.pill.lost { background:#ffe4e6; color:#9f1239; }
footer {
  color: var(--soft);
  font-size: 12.5px;
  max-width: 1280px;
  margin: 0 auto;
  padding: 0 40px 40px;
}
code { background: #f1f5f9; padding: 0 4px; border-radius: 4px; font-size: 12.5px; }
.kpi .d { font-size: 12px; color: var(--soft); margin-top: 2px; min-height: 0; }
.kpi .d.up { color: #15803d; } .kpi .d.down { color: #b91c1c; }
.kpi .x, p.filters-note { color: #92400e; font-size: 12px; margin: 2px 0 0; }
#share-plan-tables > p.filters-note { margin: 0 0 10px; max-width: 900px; }
p.filters-note:empty, p.note:empty, .kpi .x:empty, .kpi .d:empty { display: none; }
form.filters { display: flex; flex-wrap: wrap; gap: 10px 16px; align-items: end; background: white;
  border: 1px solid var(--line); border-radius: 12px; padding: 12px 16px; margin: 0 0 18px; font-size: 13px; }
form.filters label { display: flex; flex-direction: column; color: var(--soft); gap: 2px; }
form.filters select { font: inherit; padding: 4px 6px; border: 1px solid #cbd5e1; border-radius: 6px;
  background: white; color: var(--ink); min-width: 130px; }
form.filters button { font: inherit; padding: 5px 12px; border: 1px solid #cbd5e1; border-radius: 6px;
  background: #f1f5f9; cursor: pointer; }
form.filters .status { flex-basis: 100%; color: var(--soft); font-size: 12.5px; }
.table-card { margin-top: 16px; } .table-card .scroll { max-height: 560px; overflow: auto; }
.table-card th.sortable { cursor: pointer; user-select: none; position: sticky; top: 0; background: white; }
.table-card th.sortable:hover { color: var(--teal); }
td.id { font-family: ui-monospace, Menlo, Consolas, monospace; font-size: 12px; } td.muted { color: #94a3b8; }
"""

FILTER_BAR = """
<form class="filters" id="filters" onsubmit="return false">
  <label>from <select id="f-from"></select></label>
  <label>to <select id="f-to"></select></label>
  <label>department <select id="f-department"></select></label>
  <label>network <select id="f-network"></select></label>
  <label>campaign <select id="f-campaign"></select></label>
  <button type="button" id="f-reset">Show everything</button>
  <span class="status"><b id="filter-status"></b> Filters redraw every chart and KPI
  they apply to; the department applies to employee posts (page posts stay as the baseline); a
  chart or tile a filter cannot apply to says so. Changes compare with the period of the same
  length just before.</span>
</form>
"""

def _esc(text: object) -> str:
    return html.escape(str(text))


def _figure_json(chart: Chart) -> str:
    spec = json.loads(pio.to_json(chart.figure, validate=False, remove_uids=True))
    # "</" inside a <script> would end it early.
    return json.dumps(spec, separators=(",", ":")).replace("</", "<\\/")


def _chart(chart: Chart, wide: bool) -> str:
    # A filtered chart's note is rewritten by the page's script for the filters (what it leaves out).
    note = f'<p class="note{" left-out" if chart.filters else ""}">{chart.note}</p>'
    height = chart.figure.layout.height or chart.height
    return (
        f'<div class="card{" wide" if wide else ""}"><h3>{_esc(chart.title)}</h3>'
        f'<p class="lede">{chart.lede}</p>{note}<p class="filters-note"></p>'
        f'<div id="{chart.id}" data-chart data-filters="{_esc(" ".join(chart.filters))}" '
        f'data-unfiltered="{_esc(chart.unfiltered)}" style="height:{height}px"></div>'
        f'<script type="application/json" id="{chart.id}-spec">{_figure_json(chart)}</script></div>'
    )


def table_card(
    title: str,
    lede: str,
    header: list[str],
    rows: list[list[object]],
    *,
    view: str = "",
    filters: tuple[str, ...] = (),
    unfiltered: str = "",
) -> str:
    """A table of a section, as Python fills it for the whole publication. With ``view`` the
    page's script re-fills its body for the ``filters`` (reports.script ``tableViews``), writes
    what it leaves out in the note, and names the filters it ignores (``unfiltered``: why)."""
    head = "".join(f"<th>{_esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{_esc(c)}</td>" for c in r) + "</tr>" for r in rows)
    attrs = (
        f' data-table-view="{_esc(view)}" data-filters="{_esc(" ".join(filters))}"'
        f' data-unfiltered="{_esc(unfiltered)}"'
        if view
        else ""
    )
    return (
        f'<div class="card wide"{attrs}><h3>{_esc(title)}</h3><p class="lede">{_esc(lede)}</p>'
        '<p class="note left-out"></p><p class="filters-note"></p>'
        f'<div class="scroll"><table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div></div>'
    )


def _section(section: Section) -> str:
    head = f'<section id="{section.id}"><h2>{_esc(section.title)}</h2><p class="intro">{section.intro}</p>'
    if section.missing:
        return head + (
            '<div class="missing">Not in this publication: '
            + ", ".join(f"<code>{_esc(m)}</code>" for m in section.missing)
            + ". Run <code>reachloop build</code> with a project that has these marts.</div></section>"
        )
    wide_all = len(section.charts) == 1
    body = "".join(_chart(c, wide_all or c.wide) for c in section.charts)
    return head + f'<div class="grid">{body}</div>{section.html}</section>'


def _kpi(kpi: tuple[str, ...]) -> str:
    label, value, hint = kpi[:3]
    view = f' data-kpi="{_esc(kpi[3])}"' if len(kpi) > 3 else ' data-kpi=""'
    return (
        f'<div class="kpi"{view}><div class="v">{_esc(value)}</div><div class="l">{_esc(label)}</div>'
        f'<div class="h">{_esc(hint)}</div><div class="d"></div><div class="x"></div></div>'
    )


def render_page(
    *,
    title: str,
    subtitle: str,
    kpis: list[tuple[str, ...]],
    sections: list[Section],
    footer: str,
    data: str = "",
) -> str:
    """The page; ``data`` is the filters' JSON (reports.dashboard.to_json), without it the page
    has no filter bar and every figure shows the whole publication."""
    kpi_html = "".join(_kpi(k) for k in kpis)
    bar = FILTER_BAR if data else ""
    data_html = f'<script type="application/json" id="report-data">{data}</script>' if data else ""
    nav = "".join(f'<a href="#{s.id}">{_esc(s.title)}</a>' for s in sections)
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="generator" content="reachloop report {datetime.now().date().isoformat()}">
<title>{_esc(title)}</title>
<style>{CSS}</style>
<script>{get_plotlyjs()}</script>
</head><body>
<header><h1>{_esc(title)}</h1><p>{subtitle}</p></header>
<nav>{nav}</nav>
<main>{bar}<div class="kpis">{kpi_html}</div>
{"".join(_section(s) for s in sections)}
</main>
<footer>{footer}</footer>
{data_html}
<script>{SCRIPT}</script>
</body></html>
"""
