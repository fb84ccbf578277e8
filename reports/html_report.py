"""``reachloop report``: one self-contained HTML file of charts over the published marts.

The questions are SQL over the marts (reports.queries); one builder per section
(reports.sections, listed in page order in reports.registry) asks them on a read-only
connection to ``published/reachloop.duckdb`` and hands the rows to small figure builders
(reports.charts); this module puts the sections in order and writes one page with plotly.js
inlined (reports.page): it opens anywhere, offline.
"""

from __future__ import annotations

import html
from datetime import datetime
from pathlib import Path

import duckdb

from eventlog.errors import ReachloopError
from eventlog.faults import read_only_database
from eventlog.settings import Settings
from reports import charts as ch
from reports import dashboard
from reports import queries as q
from reports import sections as sec
from reports.page import render_page
from reports.registry import SECTIONS


def default_output(settings: Settings) -> Path:
    return settings.home / "report.html"


def build_sections(con: duckdb.DuckDBPyConnection) -> tuple[list[sec.Kpi], list[ch.Section], str]:
    """KPI tiles, chart sections and the filters' data (JSON), from the marts this publication has."""
    marts = sec.Marts(con, q.published_tables(con), q.min_group_size())
    data = dashboard.dashboard_data(marts.fetch, marts.tables, marts.min_group, marts.currency)
    kpis: list[sec.Kpi] = []
    sections: list[ch.Section] = []
    # The page top to bottom (reports.registry); the KPI tiles follow the same order.
    for build in SECTIONS:
        tiles, section = build(marts)
        kpis += tiles
        sections.append(section)
    return kpis, sections, dashboard.to_json({**data, **marts.page_data})


def build_report(settings: Settings, out: Path | None = None) -> Path:
    """Write the report from the current publication; returns the file written."""
    source = settings.published_duckdb
    if not source.exists():
        raise ReachloopError(f"nothing published yet ({source} is missing): run reachloop build first")
    target = (out or default_output(settings)).resolve()
    with read_only_database(source) as con:
        con.execute("set timezone = 'UTC'")
        meta = q.fetch(con, q.PUBLICATION)[0] if "_publication" in q.published_tables(con) else {}
        kpis, sections, data = build_sections(con)
    published = meta.get("published_at")
    subtitle = (
        f"Employee advocacy, closed loop · publication {html.escape(str(meta.get('version', '?')))}"
        + (f" · published {published:%Y-%m-%d %H:%M} UTC" if isinstance(published, datetime) else "")
        + (f" · as of {html.escape(str(meta['as_of']))}" if meta.get("as_of") else "")
    )
    footer = (
        f"Generated {datetime.now().astimezone():%Y-%m-%d %H:%M %Z} by <code>reachloop report</code> from "
        f"<code>{html.escape(str(source))}</code> (read-only). Every figure is SQL over the published marts "
        "(see <code>docs/analysts.md</code> and dbt docs for definitions). Per-employee figures carry "
        "pseudonymous ids only; group figures with fewer employees than the <code>min_group_size</code> var "
        f"({q.min_group_size()}) are suppressed."
    )
    page = render_page(
        title="reachloop: is the advocacy program working?",
        subtitle=subtitle,
        kpis=kpis,
        sections=sections,
        footer=footer,
        data=data,
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(target)
    return target
