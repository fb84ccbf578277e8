"""The HTML page: one file, plotly.js and the styles inlined, figures as JSON drawn on load."""

from __future__ import annotations

import html
import json
from datetime import datetime

import plotly.io as pio
from plotly.offline import get_plotlyjs

from reports.charts import Chart, Section

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
"""

# Draws every figure, then tells the world (tests, the --check option) that it is done.
SCRIPT = """
(function () {
  const state = window.reachloopReport = { done: false, errors: [], drawn: 0 };
  // No toolbar: it covered the legends. Drag still zooms, a double click resets.
  const config = { displayModeBar: false, responsive: true };
  const jobs = [];
  document.querySelectorAll('[data-chart]').forEach(function (el) {
    try {
      const spec = JSON.parse(document.getElementById(el.id + '-spec').textContent);
      jobs.push(Plotly.newPlot(el, spec.data, spec.layout, config).then(function () { state.drawn++; }));
    } catch (e) { state.errors.push(el.id + ': ' + e); console.error(e); }
  });
  Promise.all(jobs).catch(function (e) { state.errors.push(String(e)); console.error(e); })
    .finally(function () { state.done = true; });
})();
"""


def _esc(text: object) -> str:
    return html.escape(str(text))


def _figure_json(chart: Chart) -> str:
    spec = json.loads(pio.to_json(chart.figure, validate=False, remove_uids=True))
    # "</" inside a <script> would end it early.
    return json.dumps(spec, separators=(",", ":")).replace("</", "<\\/")


def _chart(chart: Chart, wide: bool) -> str:
    note = f'<p class="note">{chart.note}</p>' if chart.note else ""
    height = chart.figure.layout.height or chart.height
    return (
        f'<div class="card{" wide" if wide else ""}"><h3>{_esc(chart.title)}</h3>'
        f'<p class="lede">{chart.lede}</p>{note}'
        f'<div id="{chart.id}" data-chart style="height:{height}px"></div>'
        f'<script type="application/json" id="{chart.id}-spec">{_figure_json(chart)}</script></div>'
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


def render_page(
    *, title: str, subtitle: str, kpis: list[tuple[str, str, str]], sections: list[Section], footer: str
) -> str:
    kpi_html = "".join(
        f'<div class="kpi"><div class="v">{_esc(v)}</div><div class="l">{_esc(label)}</div>'
        f'<div class="h">{_esc(hint)}</div></div>'
        for label, v, hint in kpis
    )
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
<main><div class="kpis">{kpi_html}</div>
{"".join(_section(s) for s in sections)}
</main>
<footer>{footer}</footer>
<script>{SCRIPT}</script>
</body></html>
"""
