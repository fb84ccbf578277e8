"""The report's sections, top to bottom: the one list to add a section to.

A section builder is a function ``build(marts: sections.Marts) -> tuple[list[Kpi], charts.Section]``:
it asks the marts its questions (SQL in reports.queries or beside the builder), returns its KPI
tiles and its section (charts, an optional HTML table, or ``missing`` marts when the
publication lacks them, so the page says so instead of drawing empty figures).

To add a section: write its builder in a module of its own (``reports/section_<name>.py``,
following reports.sections), then add one line below at the place it belongs on the page. The
page, its navigation and the KPI strip follow this order; nothing else needs to change.
"""

from __future__ import annotations

from collections.abc import Callable

from reports import charts as ch
from reports import section_program_health as health
from reports import section_share_plan, section_value
from reports import sections as sec

SectionBuilder = Callable[[sec.Marts], tuple[list[sec.Kpi], ch.Section]]

SECTIONS: tuple[SectionBuilder, ...] = (
    health.adoption,
    sec.reach,
    sec.engagement,
    sec.bubble,
    sec.cadence,
    health.networks,
    section_share_plan.build,
    sec.funnel,
    sec.attribution,
    section_value.value,
    health.goals,
    health.competitors,
    sec.leaderboards,
)
