"""The report's program-health sections: adoption, networks, goals and competitors (the marts
of docs/design.md, "Program health"). Python draws them for the whole publication; the page's
script redraws them for the filters as far as each mart's grain allows (reports.script):
adoption follows every filter (the roster from mart_program_adoption, per month and
department; who shared from the share cells), networks every filter (the share and engagement
cells), goals the period, department and network (a goal's scope; no goal is set for a
campaign), share of voice the period (audits count whole companies' posts)."""

from __future__ import annotations

import plotly.graph_objects as go

from reports import charts as ch
from reports.page import table_card
from reports.sections import ALL_FILTERS, Kpi, Marts, _num, _pct

ALL_DEPARTMENTS = "(all departments)"
NETWORK_COLORS = {
    "linkedin": "#0a66c2",
    "twitter": "#0f172a",
    "facebook": "#1877f2",
    "xing": "#026466",
    "instagram": "#c13584",
    "other": ch.MUTED,
}
# Goals are set for the whole company, a department or a network (mart_goal_progress).
GOAL_FILTERS = ("period", "department", "network")
NO_CAMPAIGN_GOALS = (
    "a goal is set for the whole company, a department or a network, never for a campaign "
    "(mart_goal_progress has no campaign scope)"
)
NO_VOICE_SEGMENTS = (
    "audits count every post of whole companies, the competitors' as well as ours "
    "(mart_share_of_voice is per month and company): departments, networks and campaigns are not "
    "dimensions of competitor data"
)
STATUS_LABELS = {
    "achieved": "achieved",
    "on_track": "on track",
    "behind": "behind",
    "missed": "missed",
    "not_started": "not started",
    None: "suppressed",
}


def adoption(m: Marts) -> tuple[list[Kpi], ch.Section]:
    section = ch.Section(
        "adoption",
        "Adoption: who takes part",
        "Employees on the roster each month, how many of them shared (activation rate), how many shared "
        "for the first time, and how fast content gets picked up after it is published "
        f"(<code>mart_program_adoption</code>; departments under {m.min_group} employees stay suppressed).",
        missing=m.missing("adoption"),
    )
    if section.missing:
        return [], section
    rows = m.fetch(
        "select * from mart_program_adoption where department = $all order by month_start",
        {"all": ALL_DEPARTMENTS},
    )
    latest = rows[-1] if rows else {}
    kpis: list[Kpi] = [
        (
            "Activation rate",
            _pct(latest.get("activation_rate"), 0),
            f"{_num(latest.get('active_sharers'))} of {_num(latest.get('enrolled_employees'))} employees "
            f"shared in {latest.get('month_start', '–')}",
            "activation",
        ),
    ]
    fig = go.Figure()
    if rows:
        months = [r["month_start"] for r in rows]
        fig.add_bar(
            x=months,
            y=[r["returning_sharers"] for r in rows],
            name="returning sharers",
            marker_color=ch.EMPLOYEE,
            meta="returning",
        )
        fig.add_bar(
            x=months,
            y=[r["new_sharers"] for r in rows],
            name="new sharers",
            marker_color="#5eead4",
            meta="new",
        )
        fig.add_scatter(
            x=months,
            y=[r["activation_rate"] for r in rows],
            name="activation rate",
            yaxis="y2",
            mode="lines+markers",
            line={"color": ch.ACCENT},
            meta="rate",
        )
        fig.update_layout(
            barmode="stack",
            yaxis2={
                "overlaying": "y",
                "side": "right",
                "tickformat": ".0%",
                "rangemode": "tozero",
                "showgrid": False,
            },
        )
    else:
        ch._empty(fig)
    by_department = m.fetch(
        "select department, sum(enrolled_employees) as enrolled, sum(active_sharers) as active,"
        " median(median_hours_to_first_share) as hours_first from mart_program_adoption"
        " where department <> $all and not is_suppressed group by department order by department",
        {"all": ALL_DEPARTMENTS},
    )
    section.charts = [
        ch.Chart(
            "chart-adoption-month",
            "Active sharers and activation rate by month",
            "Bars: employees who shared that month, new (their first share ever) and returning; line: "
            "active sharers ÷ employees on the roster.",
            ch._layout(fig),
            wide=True,
            filters=ALL_FILTERS,
        ),
    ]
    section.html = _table(
        "Adoption by department",
        "Employee-months on the roster, employee-months sharing, and the median hours from publication to a "
        "content item's first share by the department (departments shown where not suppressed).",
        ["Department", "Enrolled (employee-months)", "Sharing (employee-months)", "Hours to first share"],
        [
            [
                r["department"],
                _num(r["enrolled"]),
                _num(r["active"]),
                "–" if r["hours_first"] is None else f"{r['hours_first']:.0f} h",
            ]
            for r in by_department
        ],
        view="adoption-departments",
        filters=ALL_FILTERS,
    )
    return kpis, section


def networks(m: Marts) -> tuple[list[Kpi], ch.Section]:
    section = ch.Section(
        "networks",
        "Networks",
        "Which networks carry the program: employee posts, members reached and engagement rate per "
        "network and month (<code>mart_network_monthly</code>; revenue per network: "
        "<code>mart_attribution_rollups</code>, dimension <code>network</code>).",
        missing=m.missing("networks"),
    )
    if section.missing:
        return [], section
    rows = m.fetch(
        "select network, sum(employee_shares) as employee_shares, sum(employee_members_reached) as reached,"
        " sum(interactions) / nullif(sum(impressions), 0) as engagement_rate,"
        " sum(colleague_engagements) / nullif(sum(engagements), 0) as colleague_share"
        " from mart_network_monthly group by network order by employee_shares desc"
    )
    monthly = m.fetch(
        "select month_start, network, employee_shares from mart_network_monthly order by month_start"
    )
    fig = go.Figure()
    for network in [r["network"] for r in rows]:
        points = [r for r in monthly if r["network"] == network]
        fig.add_bar(
            x=[p["month_start"] for p in points],
            y=[p["employee_shares"] for p in points],
            name=network,
            marker_color=NETWORK_COLORS.get(network, ch.MUTED),
            meta=network,
        )
    if not rows:
        ch._empty(fig)
    fig.update_layout(barmode="stack")
    top = rows[0] if rows else {}
    kpis: list[Kpi] = [
        (
            "Main network",
            top.get("network") or "–",
            f"{_num(top.get('employee_shares'))} employee posts, "
            f"engagement {_pct(top.get('engagement_rate'))}",
            "main_network",
        ),
    ]
    section.charts = [
        ch.Chart(
            "chart-network-month",
            "Employee posts by network and month",
            "Stacked by network.",
            ch._layout(fig),
            wide=True,
            filters=ALL_FILTERS,
        ),
    ]
    section.html = _table(
        "Networks",
        "Over the whole log, or the filters' posts (page posts stay in the engagement rate and colleague "
        "share as the baseline). Members reached are unique impressions where the network reports them.",
        ["Network", "Employee posts", "Members reached", "Engagement rate", "Colleague share"],
        [
            [
                r["network"],
                _num(r["employee_shares"]),
                _num(r["reached"]),
                _pct(r["engagement_rate"]),
                _pct(r["colleague_share"]),
            ]
            for r in rows
        ],
        view="networks",
        filters=ALL_FILTERS,
    )
    return kpis, section


def goals(m: Marts) -> tuple[list[Kpi], ch.Section]:
    section = ch.Section(
        "goals",
        "Goals",
        "The targets the program set itself, measured to the log's newest event, with a straight-line "
        "forecast for the period's end (<code>mart_goal_progress</code>).",
        missing=m.missing("goals"),
    )
    if section.missing:
        return [], section
    rows = m.fetch("select * from mart_goal_progress order by period_end desc, goal_id")
    running = [r for r in rows if r["status"] in ("on_track", "behind")]
    kpis: list[Kpi] = [
        (
            "Goals on track",
            f"{sum(r['status'] == 'on_track' for r in running)} of {len(running)}",
            "running goals whose forecast reaches the target",
            "goals",
        ),
    ]
    shown = [r for r in rows if not r["is_suppressed"]]
    fig = go.Figure()
    if shown:
        labels = [f"{r['title'] or r['goal_id']}" for r in shown][:20]
        fig.add_bar(
            y=labels,
            x=[r["pct_of_target"] for r in shown][:20],
            orientation="h",
            name="actual",
            marker_color=ch.EMPLOYEE,
            meta="actual",
        )
        fig.add_scatter(
            y=labels,
            x=[r["forecast_pct_of_target"] for r in shown][:20],
            mode="markers",
            name="forecast",
            marker={"color": ch.ACCENT, "symbol": "diamond", "size": 10},
            meta="forecast",
        )
        fig.add_vline(x=1, line={"color": ch.PAGE, "dash": "dot"})
        fig.update_layout(xaxis={"tickformat": ".0%"}, yaxis={"autorange": "reversed"})
    else:
        ch._empty(fig, "No goals in this publication")
    section.charts = [
        ch.Chart(
            "chart-goals",
            "Progress against target",
            "Bars: actual ÷ target so far; diamonds: the forecast "
            "for the period's end ÷ target; the dotted line is the target (latest 20 goals).",
            ch._layout(fig, height=max(320, 28 * min(len(shown), 20) + 120), hovermode="y unified"),
            wide=True,
            filters=GOAL_FILTERS,
            unfiltered=NO_CAMPAIGN_GOALS,
        ),
    ]
    section.html = _table(
        "Every goal",
        "A goal scoped to a department smaller than the suppression threshold shows no figures.",
        ["Goal", "Metric", "Scope", "Period", "Target", "Actual", "Forecast", "Status"],
        [
            [
                r["title"] or r["goal_id"],
                r["metric"],
                r["department"] or r["network"] or "company",
                f"{str(r['period_start'])[:10]} – {str(r['period_end'])[:10]}",
                _fmt(r["metric"], r["target"]),
                _fmt(r["metric"], r["actual"]),
                _fmt(r["metric"], r["forecast"]),
                STATUS_LABELS.get(r["status"], ""),
            ]
            for r in rows
        ],
        view="goals",
        filters=GOAL_FILTERS,
        unfiltered=NO_CAMPAIGN_GOALS,
    )
    return kpis, section


def competitors(m: Marts) -> tuple[list[Kpi], ch.Section]:
    section = ch.Section(
        "competitors",
        "Share of voice",
        "The company's presence against its competitors', from monthly audits: its share of the posts and of "
        "the engagement of every company audited that month (<code>mart_share_of_voice</code>).",
        missing=m.missing("share_of_voice"),
    )
    if section.missing:
        return [], section
    rows = m.fetch("select * from mart_share_of_voice order by month_start, company")
    own = [r for r in rows if r["is_own_company"]]
    latest = own[-1] if own else {}
    kpis: list[Kpi] = [
        (
            "Share of voice",
            _pct(latest.get("share_of_voice_engagement"), 0),
            f"of engagement, {_pct(latest.get('share_of_voice_posts'), 0)} of posts, among "
            f"{_num(latest.get('companies_audited'))} companies audited",
            "share_of_voice",
        ),
    ]
    fig = go.Figure()
    for company in dict.fromkeys(r["company"] for r in rows):
        points = [r for r in rows if r["company"] == company]
        is_own = points[-1]["is_own_company"]
        fig.add_scatter(
            x=[p["month_start"] for p in points],
            y=[p["share_of_voice_engagement"] for p in points],
            name=company,
            mode="lines+markers",
            line={"color": ch.EMPLOYEE if is_own else ch.MUTED, "width": 3 if is_own else 1.5},
            meta=company,
        )
    if not rows:
        ch._empty(fig, "No audits in this publication")
    fig.update_layout(yaxis={"tickformat": ".0%", "rangemode": "tozero"})
    section.charts = [
        ch.Chart(
            "chart-share-of-voice",
            "Share of voice by engagement",
            "Each company's engagements ÷ those of "
            "every company audited that month; the company itself in bold.",
            ch._layout(fig),
            wide=True,
            filters=("period",),
            unfiltered=NO_VOICE_SEGMENTS,
        ),
    ]
    return kpis, section


def _fmt(metric: str, value: float | None) -> str:
    if value is None:
        return "–"
    return _pct(value, 2) if metric == "engagement_rate" else _num(value)


def _table(
    title: str,
    lede: str,
    header: list[str],
    rows: list[list[str]],
    *,
    view: str = "",
    filters: tuple[str, ...] = (),
    unfiltered: str = "",
) -> str:
    """A table card; with ``view``, the page's script re-fills its rows for the ``filters``
    (reports.script ``tableViews``) and says which filters it ignores, giving ``unfiltered``."""
    return table_card(title, lede, header, rows, view=view, filters=filters, unfiltered=unfiltered)
