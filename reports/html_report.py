"""``reachloop report``: one self-contained HTML file of charts over the published marts.

The questions are SQL over the marts (reports.queries); this module runs them on a
read-only connection to ``published/reachloop.duckdb``, hands the rows to small figure
builders (reports.charts) and writes one page with plotly.js inlined
(reports.page): it opens anywhere, offline.
"""

from __future__ import annotations

import html
from datetime import datetime
from pathlib import Path

import duckdb

from eventlog.errors import ReachloopError
from eventlog.settings import Settings
from reports import charts as ch
from reports import queries as q
from reports.page import render_page

TOP_CONTENT = 12
TOP_OVERLAP = 15
TOP_DEALS = 10


def default_output(settings: Settings) -> Path:
    return settings.home / "report.html"


def _pct(x: float | None, digits: int = 1) -> str:
    return "–" if x is None else f"{x:.{digits}%}"


def _num(x: float | int | None) -> str:
    return "–" if x is None else f"{x:,.0f}"


def _money(x: float | None, currency: str) -> str:
    return "–" if x is None else f"{float(x):,.0f} {currency}"


def _missing(tables: set[str], key: str) -> list[str]:
    return [m for m in q.REQUIRED_MARTS[key] if m not in tables]


def build_sections(con: duckdb.DuckDBPyConnection) -> tuple[list[tuple[str, str, str]], list[ch.Section]]:
    """KPI tiles and chart sections, from the marts this publication has."""
    tables = q.published_tables(con)
    min_group = q.min_group_size()
    kpis: list[tuple[str, str, str]] = []
    sections: list[ch.Section] = []

    # --- reach -------------------------------------------------------------------------------
    reach = ch.Section(
        "reach",
        "Reach beyond the network",
        "How many members a post reached against the size of the network it went to "
        "(<code>reach_ratio</code> in <code>mart_reach_vs_network</code>). Company pages reach about "
        "4–6% of their followers; personal posts can reach several times their author's network. "
        "The <b>amplification multiplier</b> is the median employee reach ratio ÷ the median page "
        "reach ratio.",
        missing=_missing(tables, "reach"),
    )
    if not reach.missing:
        o = q.fetch(con, q.OVERVIEW)[0]
        kpis += [
            (
                "Amplification multiplier",
                "–" if o["amplification_multiplier"] is None else f"×{o['amplification_multiplier']:.1f}",
                f"employee {_pct(o['employee_median_reach_ratio'])} vs "
                f"page {_pct(o['page_median_reach_ratio'])} "
                "median reach",
            ),
            (
                "Employee posts",
                _num(o["employee_shares"]),
                f"by {_num(o['sharers'])} employees; {_num(o['page_shares'])} page posts",
            ),
            (
                "Members reached by employees",
                _num(o["employee_members_reached"]),
                "unique impressions where known",
            ),
        ]
        months = q.fetch(con, q.REACH_BY_MONTH)
        reach.charts = [
            ch.Chart(
                "chart-reach-month",
                "Amplification multiplier by month",
                "Median reach ratio of employee and page posts each month (bars) and their ratio (line). "
                "Months without page posts have no multiplier.",
                ch.reach_by_month(months),
                wide=True,
            ),
            ch.Chart(
                "chart-reach-spread",
                "Reach ratio: employee posts vs page posts",
                "Spread of reach ratios over all posts; the shaded band is a page's typical reach.",
                ch.reach_spread(q.fetch(con, q.REACH_RATIO_SPREAD)),
            ),
            ch.Chart(
                "chart-reach-volume",
                "Members reached vs potential reach",
                "Members actually reached each month, against the vendors' “potential reach” "
                "(Σ of the sharers' network sizes): potential reach is an upper bound, not an audience.",
                ch.reach_volume_by_month(months),
            ),
        ]
    sections.append(reach)

    # --- engagement ----------------------------------------------------------------------------
    engagement = ch.Section(
        "engagement",
        "Engagement over time",
        "LinkedIn's page definition: (clicks + reactions + comments + reshares) ÷ impressions, from each "
        "post's latest metrics snapshot (<code>mart_engagement_rate</code>), weighted by impressions "
        "and grouped by the week the post went out.",
        missing=_missing(tables, "engagement"),
    )
    if not engagement.missing:
        rates = {r["author_type"]: r for r in q.fetch(con, q.CTR_BY_AUTHOR_TYPE)}
        emp, page = rates.get("employee", {}), rates.get("page", {})
        ratio = (emp.get("ctr") / page["ctr"]) if emp.get("ctr") and page.get("ctr") else None
        kpis.append(
            (
                "Click-through lift, employee ÷ page",
                f"×{ratio:.1f}" if ratio else "–",
                f"CTR {_pct(emp.get('ctr'))} vs {_pct(page.get('ctr'))}; reference ≈ ×2",
            )
        )
        engagement.charts = [
            ch.Chart(
                "chart-engagement-week",
                "Engagement rate and click-through by week",
                "Solid: engagement rate; dotted: click-through rate. Hover for the number of posts.",
                ch.engagement_by_week(q.fetch(con, q.ENGAGEMENT_BY_WEEK)),
                height=400,
            ),
        ]
    sections.append(engagement)

    # --- bubble --------------------------------------------------------------------------------
    bubble = ch.Section(
        "bubble",
        "The colleague bubble",
        "An engagement is from a colleague when its actor is an employee. A small colleague share means "
        "posts travel beyond the company; a growing one means the program talks to itself. Audience overlap "
        "shows how many people several sharers of the same item reach twice.",
        missing=_missing(tables, "bubble"),
    )
    if not bubble.missing:
        overall = (
            q.fetch(con, q.BUBBLE_OVERALL)[0]["colleague_share"]
            if "mart_engagement_bubble" in tables
            else None
        )
        kpis.append(
            ("Colleague share of engagement", _pct(overall, 0), "on employee posts; lower is healthier")
        )
        bubble.charts = [
            ch.Chart(
                "chart-bubble-week",
                "Colleague share of engagement by week",
                "Bars: engagements per week, from colleagues and from everyone else; line: colleague share "
                "of engagements with a known actor over the last 4 weeks (dots: that week alone).",
                ch.bubble_by_week(q.fetch(con, q.BUBBLE_BY_WEEK)),
                wide=True,
            ),
            ch.Chart(
                "chart-overlap-content",
                "Audience overlap per content item",
                f"The {TOP_OVERLAP} items with the largest combined audience among those shared by two "
                "or more employees: distinct members reached vs members counted twice; the label is the "
                "overlap ratio.",
                ch.overlap_by_content(q.fetch(con, q.OVERLAP_BY_CONTENT, {"limit": TOP_OVERLAP})),
                wide=True,
            ),
        ]
    sections.append(bubble)

    # --- cadence -------------------------------------------------------------------------------
    cadence = ch.Section(
        "cadence",
        "Posting cadence vs reach",
        "Does posting more often dilute reach? Median reach ratio of employee posts by the time since the "
        "author's previous post and by how many posts the author made that day "
        "(<code>mart_posting_cadence</code>).",
        missing=_missing(tables, "cadence"),
    )
    if not cadence.missing:
        rows = q.fetch(con, q.CADENCE, {"min_group": min_group})
        suppressed = sum(r["is_suppressed"] for r in rows)
        cadence.charts = [
            ch.Chart(
                "chart-cadence",
                "Reach ratio by posting cadence",
                "Bars: median reach ratio; whiskers: 25th–75th percentile.",
                ch.cadence(rows),
                note=(
                    f"{suppressed} bucket(s) with fewer than {min_group} employees are suppressed "
                    "(min_group_size)."
                    if suppressed
                    else ""
                ),
            ),
        ]
    sections.append(cadence)

    # --- the closed loop -----------------------------------------------------------------------
    currencies = q.fetch(con, q.CURRENCIES) if "fct_deals" in tables else []
    currency = currencies[0]["currency"] if currencies else None
    others = ", ".join(c["currency"] for c in currencies[1:])
    currency_note = (
        f"Amounts in {currency}, the currency of most deals; deals in {others} are left out "
        "(money is never added across currencies)."
        if others
        else ""
    )

    funnel = ch.Section(
        "funnel",
        "From shares to revenue",
        "The closed loop: posts → human clicks on their tracked links (bots flagged and left out) → leads "
        "(contacts who clicked, stitched through form fills) → deals those posts touched → won deals.",
        missing=_missing(tables, "funnel"),
    )
    if not funnel.missing:
        f = q.fetch(con, q.FUNNEL)[0]
        won = next((c for c in currencies if c["currency"] == currency), None)
        kpis.append(
            (
                "Won revenue touched by posts",
                _money(won["won_revenue_touched"], currency) if won else "–",
                f"{_num(f['won_deals'])} won deals of {_num(f['touched_deals'])} touched",
            )
        )
        funnel.charts = [
            ch.Chart(
                "chart-funnel",
                "Funnel: shares → clicks → leads → deals → won",
                f"Each stage with its share of the stage before. {_num(f['bot_clicks'])} bot clicks are not "
                f"counted; {_num(f['deals'] - f['touched_deals'])} of {_num(f['deals'])} deals had no post "
                "touch. Leads are summed over posting months (a lead who clicked posts of two months counts "
                "in both).",
                ch.funnel(
                    [
                        ("Shares", f["shares"]),
                        ("Human clicks", f["human_clicks"]),
                        ("Leads", f["leads"]),
                        ("Deals touched", f["touched_deals"]),
                        ("Won deals", f["won_deals"]),
                    ]
                ),
                note=(
                    f"Won revenue of touched deals: {_money(won['won_revenue_touched'], currency)} of "
                    f"{_money(won['won_revenue'], currency)} won in total."
                    if won
                    else ""
                ),
            ),
        ]
    sections.append(funnel)

    attribution = ch.Section(
        "attribution",
        "Attributed revenue, model by model",
        "Won revenue credited to content and to departments under each attribution model side by side "
        "(<code>mart_attribution_rollups</code>). Where the models agree, the credit is robust; where they "
        "disagree, the item opens conversations (first touch) or closes them (last touch).",
        missing=_missing(tables, "attribution") or ([] if currency else ["fct_deals (no deals yet)"]),
    )
    top_deals_html = ""
    if not attribution.missing:
        models = [r["model"] for r in q.fetch(con, q.MODELS)]
        order = [m for m in ch.MODEL_LABELS if m in models] + [m for m in models if m not in ch.MODEL_LABELS]
        params = {"currency": currency}
        unattributed = q.fetch(con, q.UNATTRIBUTED, params)[0]
        by_content = q.fetch(con, q.REVENUE_BY_CONTENT, {**params, "limit": TOP_CONTENT})
        by_dept = q.fetch(con, q.REVENUE_BY_DEPARTMENT, params)
        hidden = sorted({r["department"] for r in by_dept if r["is_suppressed"]})
        dept_note = (
            f"Suppressed (fewer than {min_group} credited employees, min_group_size): "
            f"{html.escape(', '.join(hidden))}."
            if hidden
            else ""
        )
        shown_depts = len({r["department"] for r in by_dept if not r["is_suppressed"]})
        deals = q.fetch(con, q.TOP_DEALS, {**params, "limit": TOP_DEALS})
        attribution.charts = [
            ch.Chart(
                "chart-revenue-content",
                "Won revenue by content item, per model",
                f"The {TOP_CONTENT} items with the most credit under any model.",
                ch.revenue_by_group(
                    by_content,
                    "content",
                    order,
                    currency,
                    height=max(420, 16 * len(order) * len({r["content"] for r in by_content})),
                ),
                note=" ".join(
                    filter(
                        None,
                        [
                            currency_note,
                            (
                                f"{_money(unattributed['won_revenue'], currency)} of won revenue "
                                f"({_num(unattributed['deals'])} deals) had no post touch and is not shown."
                            ),
                        ],
                    )
                ),
            ),
            ch.Chart(
                "chart-revenue-department",
                "Won revenue by department, per model",
                "Credited to the department of the employee whose post was clicked; page posts are their "
                "own group.",
                ch.revenue_by_group(
                    by_dept,
                    "department",
                    order,
                    currency,
                    height=max(360, 16 * len(order) * max(shown_depts, 1) + 120),
                ),
                note=dept_note,
            ),
            ch.Chart(
                "chart-deal-paths",
                f"Top {TOP_DEALS} deals touched by posts, and their paths",
                "Won deals first, then open, by amount. Dots are touches (clicks on posts by the deal's "
                "contacts), sized by linear credit; ◆ the deal's creation; ★ its close.",
                ch.deal_paths(_deal_rows(deals), [r for r in deals if r["model"] == "linear"]),
                wide=True,
            ),
        ]
        top_deals_html = _deals_table(deals, order)
    attribution.html = top_deals_html
    sections.append(attribution)
    return kpis, sections


def _deal_rows(rows: list[dict]) -> list[dict]:
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
        for m in models:
            mine = [t for t in touches if t["model"] == m]
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
        f"<table><thead><tr><th class='num'>#</th><th>deal</th><th>status</th><th class='num'>amount</th>"
        f"<th>path</th>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></div>"
    )


def build_report(settings: Settings, out: Path | None = None) -> Path:
    """Write the report from the current publication; returns the file written."""
    source = settings.published_duckdb
    if not source.exists():
        raise ReachloopError(f"nothing published yet ({source} is missing): run reachloop build first")
    target = (out or default_output(settings)).resolve()
    with duckdb.connect(str(source), read_only=True) as con:
        con.execute("set timezone = 'UTC'")
        meta = q.fetch(con, q.PUBLICATION)[0] if "_publication" in q.published_tables(con) else {}
        kpis, sections = build_sections(con)
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
    )
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    tmp.write_text(page, encoding="utf-8")
    tmp.replace(target)
    return target
