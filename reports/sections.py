"""The report's built-in sections, one builder each (reports.registry lists them in page order).

A builder asks the marts its questions (reports.queries), hands the rows to the figure
builders (reports.charts) and returns its KPI tiles with its ``charts.Section``. A section
whose marts this publication lacks comes back with ``missing`` set and no charts: the page
says what is missing instead of drawing empty figures.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import duckdb

from reports import charts as ch
from reports import queries as q
from reports.project import attribution_models

TOP_CONTENT = 12
TOP_OVERLAP = 15
TOP_DEALS = 10
TABLE_ROWS = 100
# Why an attribution chart cannot follow the filters: a publication built before the segmented
# marts (mart_attribution_segments, mart_attribution_funnel_segments, mart_deal_segments).
NO_SEGMENTS = "this publication predates {mart}, the mart that cuts it by segment; rebuild to filter it"

# label, value, hint; optionally the id of the page's script function that recomputes the tile
# for the filters (reports.script ``kpis``); a tile without one says it is not filtered.
Kpi = tuple[str, str, str] | tuple[str, str, str, str]
ALL_FILTERS = ("period", "department", "network", "campaign")


@dataclass
class Marts:
    """What every builder reads from: the publication's connection, the marts it has and the
    suppression threshold, so each section decides alone whether it can be drawn."""

    con: duckdb.DuckDBPyConnection
    tables: set[str]
    min_group: int
    # What a section hands the page's script beside the dashboard data (reports.dashboard),
    # e.g. how many items its chart ranks: merged into the page's JSON.
    page_data: dict[str, Any] = field(default_factory=dict)

    def fetch(self, sql: str, params: dict | None = None) -> list[dict[str, Any]]:
        return q.fetch(self.con, sql, params)

    def missing(self, key: str) -> list[str]:
        return [m for m in q.REQUIRED_MARTS[key] if m not in self.tables]

    @cached_property
    def currencies(self) -> list[dict[str, Any]]:
        """Deals and won revenue per deal currency, most deals first: the detail beside the
        totals, which are in the reporting currency."""
        return self.fetch(q.CURRENCIES) if "fct_deals" in self.tables else []

    @cached_property
    def reporting(self) -> dict[str, Any] | None:
        """Won revenue in the reporting currency, and the won deals no rate converts."""
        if not self.currencies:
            return None
        return self.fetch(q.REPORTING)[0]

    @property
    def currency(self) -> str | None:
        """The reporting currency (dbt var reporting_currency): every amount the report adds up."""
        return self.reporting["currency"] if self.reporting else None


def _pct(x: float | None, digits: int = 1) -> str:
    return "–" if x is None else f"{x:.{digits}%}"


def _num(x: float | int | None) -> str:
    return "–" if x is None else f"{x:,.0f}"


def _money(x: float | None, currency: str) -> str:
    return "–" if x is None else f"{float(x):,.0f} {currency}"


def reach(m: Marts) -> tuple[list[Kpi], ch.Section]:
    section = ch.Section(
        "reach",
        "Reach beyond the network",
        "How many members a post reached against the size of the network it went to "
        "(<code>reach_ratio</code> in <code>mart_reach_vs_network</code>). Company pages reach about "
        "4–6% of their followers; personal posts can reach several times their author's network. "
        "The <b>amplification multiplier</b> is the median employee reach ratio ÷ the median page "
        "reach ratio.",
        missing=m.missing("reach"),
    )
    if section.missing:
        return [], section
    o = m.fetch(q.OVERVIEW)[0]
    kpis = [
        (
            "Amplification multiplier",
            "–" if o["amplification_multiplier"] is None else f"×{o['amplification_multiplier']:.1f}",
            f"employee {_pct(o['employee_median_reach_ratio'])} vs "
            f"page {_pct(o['page_median_reach_ratio'])} "
            "median reach",
            "amplification",
        ),
        (
            "Employee posts",
            _num(o["employee_shares"]),
            f"by {_num(o['sharers'])} employees; {_num(o['page_shares'])} page posts",
            "employee_posts",
        ),
        (
            "Members reached by employees",
            _num(o["employee_members_reached"]),
            "unique impressions where known",
            "members_reached",
        ),
    ]
    months = m.fetch(q.REACH_BY_MONTH)
    section.charts = [
        ch.Chart(
            "chart-reach-month",
            "Amplification multiplier by month",
            "Median reach ratio of employee and page posts each month (bars) and their ratio (line). "
            "Months without page posts have no multiplier.",
            ch.reach_by_month(months),
            wide=True,
            filters=ALL_FILTERS,
        ),
        ch.Chart(
            "chart-reach-spread",
            "Reach ratio: employee posts vs page posts",
            "Spread of reach ratios over all posts; the shaded band is a page's typical reach.",
            ch.reach_spread(m.fetch(q.REACH_RATIO_SPREAD)),
            filters=ALL_FILTERS,
        ),
        ch.Chart(
            "chart-reach-volume",
            "Members reached vs potential reach",
            "Members actually reached each month, against the vendors' “potential reach” "
            "(Σ of the sharers' network sizes): potential reach is an upper bound, not an audience.",
            ch.reach_volume_by_month(months),
            filters=ALL_FILTERS,
        ),
    ]
    return kpis, section


def engagement(m: Marts) -> tuple[list[Kpi], ch.Section]:
    section = ch.Section(
        "engagement",
        "Engagement over time",
        "LinkedIn's page definition: (clicks + reactions + comments + reshares) ÷ impressions, from each "
        "post's latest metrics snapshot (<code>mart_engagement_rate</code>), weighted by impressions "
        "and grouped by the week the post went out.",
        missing=m.missing("engagement"),
    )
    if section.missing:
        return [], section
    rates = {r["author_type"]: r for r in m.fetch(q.CTR_BY_AUTHOR_TYPE)}
    emp, page = rates.get("employee", {}), rates.get("page", {})
    ratio = (emp.get("ctr") / page["ctr"]) if emp.get("ctr") and page.get("ctr") else None
    kpis = [
        (
            "Click-through lift, employee ÷ page",
            f"×{ratio:.1f}" if ratio else "–",
            f"CTR {_pct(emp.get('ctr'))} vs {_pct(page.get('ctr'))}; reference ≈ ×2",
            "ctr_lift",
        )
    ]
    section.charts = [
        ch.Chart(
            "chart-engagement-week",
            "Engagement rate and click-through by week",
            "Solid: engagement rate; dotted: click-through rate. Hover for the number of posts.",
            ch.engagement_by_week(m.fetch(q.ENGAGEMENT_BY_WEEK)),
            height=400,
            filters=ALL_FILTERS,
        ),
    ]
    return kpis, section


def bubble(m: Marts) -> tuple[list[Kpi], ch.Section]:
    section = ch.Section(
        "bubble",
        "The colleague bubble",
        "An engagement is from a colleague when its actor is an employee. A small colleague share means "
        "posts travel beyond the company; a growing one means the program talks to itself. Audience overlap "
        "shows how many people several sharers of the same item reach twice.",
        missing=m.missing("bubble"),
    )
    if section.missing:
        return [], section
    m.page_data["top_overlap"] = TOP_OVERLAP
    # The overall share comes from a mart the charts do not need: the tile shows "–" without it.
    overall = (
        m.fetch(q.BUBBLE_OVERALL)[0]["colleague_share"] if "mart_engagement_bubble" in m.tables else None
    )
    kpis = [
        (
            "Colleague share of engagement",
            _pct(overall, 0),
            "on employee posts; lower is healthier",
            "colleague_share",
        )
    ]
    section.charts = [
        ch.Chart(
            "chart-bubble-week",
            "Colleague share of engagement by week",
            "Bars: engagements per week, from colleagues and from everyone else; line: colleague share "
            "of engagements with a known actor over the last 4 weeks (dots: that week alone).",
            ch.bubble_by_week(m.fetch(q.BUBBLE_BY_WEEK)),
            wide=True,
            filters=ALL_FILTERS,
        ),
        ch.Chart(
            "chart-overlap-content",
            "Audience overlap per content item",
            f"The {TOP_OVERLAP} items with the largest combined audience among those shared by two "
            "or more employees: distinct members reached vs members counted twice; the label is the "
            "overlap ratio.",
            ch.overlap_by_content(m.fetch(q.OVERLAP_BY_CONTENT, {"limit": TOP_OVERLAP})),
            wide=True,
            # Every filter picks the items; a period, department or network cannot re-count an
            # item's figures (reports.script says so on the chart): see OVERLAP_WHOLE.
            filters=ALL_FILTERS,
        ),
    ]
    return kpis, section


def cadence(m: Marts) -> tuple[list[Kpi], ch.Section]:
    section = ch.Section(
        "cadence",
        "Posting cadence vs reach",
        "Does posting more often dilute reach? Median reach ratio of employee posts by the time since the "
        "author's previous post and by how many posts the author made that day "
        "(<code>mart_posting_cadence</code>).",
        missing=m.missing("cadence"),
    )
    if section.missing:
        return [], section
    rows = m.fetch(q.CADENCE, {"min_group": m.min_group})
    suppressed = sum(r["is_suppressed"] for r in rows)
    section.charts = [
        ch.Chart(
            "chart-cadence",
            "Reach ratio by posting cadence",
            "Bars: median reach ratio; whiskers: 25th–75th percentile.",
            ch.cadence(rows),
            filters=ALL_FILTERS,
            note=(
                f"{suppressed} bucket(s) with fewer than {m.min_group} employees are suppressed "
                "(min_group_size)."
                if suppressed
                else ""
            ),
        ),
    ]
    return [], section


def funnel(m: Marts) -> tuple[list[Kpi], ch.Section]:
    section = ch.Section(
        "funnel",
        "From shares to revenue",
        "The closed loop: posts → human clicks on their tracked links (bots flagged and left out) → leads "
        "(contacts who clicked, stitched through form fills) → deals those posts touched → won deals.",
        missing=m.missing("funnel"),
    )
    if section.missing:
        return [], section
    f = m.fetch(q.FUNNEL_BY_SEGMENT if "mart_attribution_funnel_segments" in m.tables else q.FUNNEL)[0]
    currency = m.currency
    won = m.reporting
    unconverted = (
        f"; {won['won_unconverted']} won deal(s) in {won['unconverted_currencies']} without an exchange rate"
        " left out"
        if won and won["won_unconverted"]
        else ""
    )
    kpis = [
        (
            "Won revenue touched by posts",
            _money(won["won_revenue_touched"], currency) if won else "–",
            f"{_num(f['won_deals'])} won deals of {_num(f['touched_deals'])} touched" + unconverted,
            "won_revenue",
        )
    ]
    section.charts = [
        ch.Chart(
            "chart-funnel",
            "Funnel: clicks → leads → deals → won",
            f"Each stage with its share of the stage before, for the posts the filters pick (a department: "
            f"its employees' posts only): {_num(f['shares'])} "
            f"shares brought {_num(f['human_clicks'])} human clicks ({_num(f['bot_clicks'])} bot clicks are "
            f"not counted); {_num(f['deals'] - f['touched_deals'])} of {_num(f['deals'])} deals had no post "
            "touch. Leads are summed over segments (month, department, network, campaign: a lead who "
            "clicked posts of two counts in both); a deal counts once.",
            ch.funnel(
                [
                    ("Human clicks", f["human_clicks"]),
                    ("Leads", f["leads"]),
                    ("Deals touched", f["touched_deals"]),
                    ("Won deals", f["won_deals"]),
                ]
            ),
            filters=ALL_FILTERS,
            unfiltered=NO_SEGMENTS.format(mart="mart_attribution_funnel_segments"),
            note=(
                f"Won revenue of touched deals, whole log: {_money(won['won_revenue_touched'], currency)} of "
                f"{_money(won['won_revenue'], currency)} won in total."
                if won
                else ""
            ),
        ),
    ]
    return kpis, section


def attribution(m: Marts) -> tuple[list[Kpi], ch.Section]:
    section = ch.Section(
        "attribution",
        "Attributed revenue, model by model",
        "Won revenue credited to content and to departments under each attribution model side by side "
        "(<code>mart_attribution_rollups</code>). Where the models agree, the credit is robust; where they "
        "disagree, the item opens conversations (first touch) or closes them (last touch).",
        missing=m.missing("attribution") or ([] if m.currency else ["fct_deals (no deals yet)"]),
    )
    if section.missing:
        return [], section
    # The dbt var's order for the models it names; a model the publication has but the var no
    # longer names (an older build) still shows, after them.
    found = [r["model"] for r in m.fetch(q.MODELS)]
    named = attribution_models()
    order = [x for x in named if x in found] + [x for x in found if x not in named]
    m.page_data.update(models=order, top_content=TOP_CONTENT)
    deals = m.fetch(q.TOP_DEALS, {"currency": m.currency, "limit": TOP_DEALS})
    section.charts = [
        _revenue_by_content(m, order),
        _revenue_by_department(m, order),
        ch.Chart(
            "chart-deal-paths",
            f"Top {TOP_DEALS} deals touched by posts, and their paths",
            "Won deals first, then open, by amount. Dots are touches (clicks on posts by the deal's "
            "contacts), sized by linear credit; ◆ the deal's creation; ★ its close.",
            ch.deal_paths(_deal_rows(deals), [r for r in deals if r["model"] == "linear"]),
            wide=True,
            filters=ALL_FILTERS,
            unfiltered=NO_SEGMENTS.format(mart="mart_deal_segments"),
            note=_currency_note(m),
        ),
    ]
    m.page_data.update(top_deals=TOP_DEALS, page_label=q.PAGE_LABEL)
    section.html = _deals_table(deals, order)
    return [], section


def _revenue_by_content(m: Marts, order: list[str]) -> ch.Chart:
    currency = m.currency
    unattributed = m.fetch(q.UNATTRIBUTED, {"currency": currency})[0]
    segments = "mart_attribution_segments" in m.tables
    rows = m.fetch(
        q.REVENUE_BY_CONTENT_SEGMENTS if segments else q.REVENUE_BY_CONTENT,
        {"currency": currency, "limit": TOP_CONTENT},
    )
    currency_note = _currency_note(m)
    unattributed_note = (
        f"{_money(unattributed['won_revenue'], currency)} of won revenue "
        f"({_num(unattributed['deals'])} deals) had no post touch and is not shown."
    )
    return ch.Chart(
        "chart-revenue-content",
        "Won revenue by content item, per model",
        f"The {TOP_CONTENT} items with the most credit under any model.",
        ch.revenue_by_group(
            rows,
            "content",
            order,
            currency,
            height=max(420, 16 * len(order) * len({r["content"] for r in rows})),
        ),
        note=" ".join(filter(None, [currency_note, unattributed_note, _suppressed_pool_note(m)])),
        filters=ALL_FILTERS,
        unfiltered=NO_SEGMENTS.format(mart="mart_attribution_segments"),
    )


def _suppressed_pool_note(m: Marts) -> str:
    """What the segments leave out: the credit of departments pooled into a group still too
    small to show (mart_attribution_segments nulls it)."""
    if "mart_attribution_segments" not in m.tables:
        return ""
    suppressed = m.fetch("select count(*) as n from mart_attribution_segments where is_suppressed")[0]["n"]
    return (
        f"The credit of {q.OTHER_DEPARTMENTS.lower()} (pooled, still fewer than {m.min_group} credited "
        "employees) is suppressed and not shown."
        if suppressed
        else ""
    )


def _currency_note(m: Marts) -> str:
    """Says which currency the amounts are in, how deals in others got there (with their own
    amounts), and which won deals no rate could convert."""
    if not m.reporting or [c["currency"] for c in m.currencies] in ([], [m.currency]):
        return ""
    detail = ", ".join(
        f"{c['currency']} ({c['deals']} deals, {_money(c['won_revenue'], c['currency'])} won"
        + (f" = {_money(c['won_revenue_reporting'], m.currency)}" if c["currency"] != m.currency else "")
        + ")"
        for c in m.currencies
    )
    missing = (
        f" {m.reporting['won_unconverted']} won deal(s) in {m.reporting['unconverted_currencies']} have no"
        " exchange rate and are left out (mart_currency_conversions lists them)."
        if m.reporting["won_unconverted"]
        else ""
    )
    return (
        f"Amounts in {m.currency}, the reporting currency: each deal converted at the rate of its close "
        f"(open deals: at the build). By deal currency: {detail}.{missing}"
    )


def _revenue_by_department(m: Marts, order: list[str]) -> ch.Chart:
    segments = "mart_attribution_segments" in m.tables
    query = q.REVENUE_BY_DEPARTMENT_SEGMENTS if segments else q.REVENUE_BY_DEPARTMENT
    rows = m.fetch(query, {"currency": m.currency})
    hidden = sorted({r["department"] for r in rows if r["is_suppressed"]})
    shown = len({r["department"] for r in rows if not r["is_suppressed"]})
    return ch.Chart(
        "chart-revenue-department",
        "Won revenue by department, per model",
        "Credited to the department of the employee whose post was clicked; page posts are their "
        f"own group. A department that touched deals through fewer than {m.min_group} employees "
        f"(min_group_size) is counted in {q.OTHER_DEPARTMENTS}.",
        ch.revenue_by_group(
            rows,
            "department",
            order,
            m.currency,
            height=max(360, 16 * len(order) * max(shown, 1) + 120),
        ),
        filters=ALL_FILTERS,
        unfiltered=NO_SEGMENTS.format(mart="mart_attribution_segments"),
        note=" ".join(
            filter(
                None,
                [
                    _currency_note(m),
                    f"Suppressed (fewer than {m.min_group} credited employees, min_group_size): "
                    f"{html.escape(', '.join(hidden))}."
                    if hidden
                    else "",
                ],
            )
        ),
    )


def _deal_rows(rows: list[dict]) -> list[dict]:
    """One row per deal (the query has one per deal, touch and model), in rank order."""
    seen: dict[str, dict] = {}
    for r in rows:
        seen.setdefault(r["deal_id"], r)
    return list(seen.values())


def _deals_table(rows: list[dict], models: list[str]) -> str:
    """Each top deal: its path of touches and, per model, which touch gets the most credit."""
    if not rows:
        return ""
    body = []
    for deal in _deal_rows(rows):
        touches = [r for r in rows if r["deal_id"] == deal["deal_id"]]
        numbers = sorted({t["touch_number"] for t in touches})
        first = {t["touch_number"]: t for t in touches}
        path = " → ".join(
            f"<b>{html.escape(ch._clip(first[n]['content'], 40))}</b> "
            f"({html.escape(first[n]['author_id'] or '')})"
            for n in numbers
        )
        credit_cells = []
        for model in models:
            mine = [t for t in touches if t["model"] == model]
            best = max(mine, key=lambda t: (t["credit"] or 0, -t["touch_number"]), default=None)
            credit_cells.append("–" if best is None else f"#{best['touch_number']} · {best['credit']:.0%}")
        status = html.escape(deal["deal_status"] or "")
        body.append(
            f"<tr><td class='num'>{deal['deal_rank']}</td>"
            f"<td><code>{html.escape(deal['deal_id'])}</code></td>"
            f"<td><span class='pill {status}'>{status}</span></td>"
            f"<td class='num'>{_money(deal['amount'], deal['currency'])}</td>"
            f"<td class='path'>{path}</td>"
            + "".join(f"<td class='num'>{c}</td>" for c in credit_cells)
            + "</tr>"
        )
    head = "".join(f"<th class='num'>{html.escape(ch.model_label(m))}</th>" for m in models)
    return (
        "<div class='card wide' style='margin-top:16px'><h3>Top deals: paths and where each model puts "
        "the most credit</h3><p class='lede'>Touches in time order (content, then the posting employee's "
        "pseudonymous id). Model columns: the touch with the largest credit and its share. "
        "<code>reachloop trace DEAL_ID</code> shows the full journey.</p>"
        "<p class='lede deals-filter'></p><table data-deals-table><thead><tr><th class='num'>#</th>"
        f"<th>deal</th><th>status</th><th class='num'>amount</th><th>path</th>{head}</tr></thead>"
        f"<tbody>{''.join(body)}</tbody></table></div>"
    )


def leaderboards(m: Marts) -> tuple[list[Kpi], ch.Section]:
    """Sortable per-content and per-employee tables; the page's script fills them from the
    dashboard data (reports.dashboard), so a click on a column sorts without a round trip."""
    section = ch.Section(
        "tables",
        "Content and employees",
        "Every content item and every employee who shared, for the filters above: click a column to sort. "
        "Employees appear by pseudonymous id only; their department is shown only where at least "
        f"{m.min_group} employees of it shared (<code>min_group_size</code>, as in "
        "<code>mart_reach_by_employee</code>).",
        missing=m.missing("tables"),
    )
    if section.missing:
        return [], section
    section.html = "".join(
        [
            _table_card(
                "contents",
                "Content items",
                "From <code>mart_reach_by_content</code>; under filters, re-counted from the filtered posts "
                "with the mart's definitions (with a department picked: that department's posts, so no "
                "page posts).",
                [
                    ("title", "content", "text"),
                    ("content_id", "id", "id"),
                    ("campaign", "campaign", "text"),
                    ("topic", "topic", "text"),
                    ("sharers", "sharers", "num"),
                    ("employee_shares", "employee posts", "num"),
                    ("page_shares", "page posts", "num"),
                    ("members_reached", "members reached", "num"),
                    ("potential_reach", "potential reach", "num"),
                    ("impressions", "impressions", "num"),
                    ("engagement_rate", "engagement rate", "pct"),
                ],
                sort="members_reached",
                filter_by=("campaign", "campaign"),
                cells="content_cells",
            ),
            _table_card(
                "employees",
                "Employees",
                "From <code>mart_reach_by_employee</code>; under filters, re-counted from the employee's "
                "filtered posts with the mart's definitions. An employee whose department is not shown "
                f"counts under {html.escape(q.OTHER_DEPARTMENTS)}.",
                [
                    ("employee_id", "employee (pseudonymous)", "id"),
                    ("department", "department", "text"),
                    ("shares", "posts", "num"),
                    ("contents_shared", "items shared", "num"),
                    ("members_reached", "members reached", "num"),
                    ("potential_reach", "potential reach", "num"),
                    ("median_reach_ratio", "median reach ratio", "pct"),
                    ("interactions", "interactions", "num"),
                    ("median_engagement_rate", "median engagement rate", "pct"),
                    ("latest_share", "latest post", "text"),
                ],
                sort="members_reached",
                filter_by=("department", "department"),
                cells="employee_cells",
            ),
        ]
    )
    return [], section


def _table_card(
    key: str,
    title: str,
    lede: str,
    columns: list[tuple[str, str, str]],
    *,
    sort: str,
    filter_by: tuple[str, str],
    cells: str,
) -> str:
    """An empty table the page's script fills and sorts: columns are (column, label, kind). Under
    filters the script re-aggregates the rows from the page data's ``cells``; ``filter_by`` (the
    filter and the mart's column for it) serves a publication without them."""
    return (
        f"<div class='card wide table-card' data-table='{key}' data-sort='{sort}' data-limit='{TABLE_ROWS}' "
        f"data-filter='{filter_by[0]}' data-filter-column='{filter_by[1]}' data-cells='{cells}' "
        f"data-columns='{html.escape(json.dumps(columns), quote=True)}'>"
        f"<h3>{html.escape(title)}</h3><p class='lede'>{lede}</p><p class='count lede'></p>"
        "<div class='scroll'><table></table></div></div>"
    )
