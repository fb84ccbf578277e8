"""The data behind the report's filters: compact cells the page re-aggregates in the browser.

Filtering happens in the page, offline, so the page carries its data: not every share, but
cells already aggregated in SQL (reports.queries) by day × author type × department × network
× campaign, with the sums the charts need and the reach ratios themselves (sorted) so that
medians stay exact under any filter. Columns are stored as arrays and dimension values as
indexes into one list per dimension: at SF1 (10,000 shares, 137,000 engagements) the whole
payload is a few hundred kB beside plotly.js's 4.6 MB.

Privacy follows the marts: departments are named only where ``mart_reach_by_department``
names them (small ones are pooled, and the pool is a filter option only when it is not small
itself); per-employee rows carry pseudonymous ids and the department as
``mart_reach_by_employee`` shows it.
"""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from typing import Any

from reports import charts as ch
from reports import queries as q

DIMENSIONS = ("author_type", "department", "network", "campaign")
# The marts each part needs; a part whose marts are missing is left out (its charts stay static).
NEEDS = {
    "shares": ("fct_shares", "dim_employees", "dim_contents", "mart_reach_by_department"),
    "engagements": (
        "fct_engagements", "fct_shares", "dim_employees", "dim_contents", "mart_reach_by_department"
    ),
    "cadence": (
        "mart_posting_cadence", "fct_shares", "dim_employees", "dim_contents", "mart_reach_by_department"
    ),
    "funnel": ("mart_attribution_funnel",),
    "overlap": ("mart_bubble_overlap", "dim_contents"),
    "revenue_content": ("mart_attribution_rollups", "dim_contents"),
    "deals": ("fct_deals", "mart_lead_to_deal_attribution", "fct_shares"),
    "employees": ("mart_reach_by_employee",),
    "contents": ("mart_reach_by_content",),
}
EPOCH = date(1970, 1, 1)


def _plain(value: Any) -> Any:
    """JSON-ready: dates as ISO text, decimals as numbers (money is shown, not computed exactly)."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def _columns(rows: list[dict[str, Any]], names: list[str]) -> dict[str, list[Any]]:
    return {n: [_plain(r[n]) for r in rows] for n in names}


def _cells(rows: list[dict[str, Any]], values: list[str], dims: dict[str, list[str]]) -> dict[str, list]:
    """Rows as columns: the day as days since 1970-01-01, each dimension as an index into
    ``dims`` (-1 for none: a page post's department), then the value columns."""
    index = {d: {v: i for i, v in enumerate(dims[d])} for d in DIMENSIONS}
    out: dict[str, list] = {"day": [(r["day"] - EPOCH).days for r in rows]}
    for d in DIMENSIONS:
        out[d] = [index[d].get(r[d], -1) for r in rows]
    for v in values:
        out[v] = [r[v] if r[v] is not None else [] for r in rows] if v in ("reach_ratios", "authors") else [
            r[v] for r in rows
        ]
    return out


def _table(rows: list[dict[str, Any]]) -> dict[str, list]:
    names = list(rows[0]) if rows else []
    return {"columns": names, "rows": [[_plain(r[n]) for n in names] for r in rows]}


def dashboard_data(fetch, tables: set[str], min_group: int, currency: str | None = None) -> dict[str, Any]:
    """Everything the page's filters re-aggregate, from the marts this publication has.
    ``fetch(sql, params) -> rows`` runs a query on the publication; money is in ``currency``
    (the report's main currency) only."""
    has = {part: all(t in tables for t in marts) for part, marts in NEEDS.items()}
    data: dict[str, Any] = {
        "min_group": min_group,
        "other_departments": q.OTHER_DEPARTMENTS,
        "currency": currency,
    }
    share_rows = fetch(q.SHARE_CELLS) if has["shares"] else []
    engagement_rows = fetch(q.ENGAGEMENT_CELLS) if has["engagements"] else []
    cadence_rows = fetch(q.CADENCE_CELLS) if has["cadence"] else []
    every = share_rows + engagement_rows + cadence_rows
    dims = {d: sorted({r[d] for r in every if r[d] is not None}) for d in DIMENSIONS}
    data["dims"] = dims
    if has["shares"]:
        # The departments a filter may pick: every named one, the pool only when not small.
        data["department_options"] = [
            r["department"]
            for r in fetch(q.DEPARTMENT_OPTIONS)
            if r["department"] != q.OTHER_DEPARTMENTS or r["sharers"] >= min_group
        ]
        data["shares"] = _cells(
            share_rows,
            ["shares", "impressions", "interactions", "clicks", "members_reached", "potential_reach",
             "reached_shares", "measured_shares", "reach_ratios", "authors"],
            dims,
        )
    if has["engagements"]:
        data["engagements"] = _cells(
            engagement_rows, ["engagements", "known_actor", "colleague_engagements"], dims
        )
    if has["cadence"]:
        data["cadence"] = _cells(cadence_rows, ["gap_order", "day_posts", "authors", "reach_ratios"], dims)
        data["cadence_labels"] = {"gap": ch.GAP_LABELS, "day": ch.DAY_LABELS}
    if has["funnel"]:
        data["funnel"] = _columns(
            fetch(q.FUNNEL_MONTHS), ["month", "shares", "human_clicks", "bot_clicks", "leads"]
        )
    if has["deals"]:
        data["deals"] = _columns(
            fetch(q.DEAL_TOUCHES), ["status", "currency", "amount", "is_attributed", "touch_months"]
        )
    if has["overlap"]:
        data["overlap"] = _table(fetch(q.OVERLAP_CELLS))
    if has["revenue_content"] and currency:
        data["revenue_content"] = _table(fetch(q.REVENUE_CONTENT_CELLS, {"currency": currency}))
    if has["employees"]:
        data["employees"] = _table(fetch(q.EMPLOYEE_TABLE))
    if has["contents"]:
        data["contents"] = _table(fetch(q.CONTENT_TABLE))
    return data


def to_json(data: dict[str, Any]) -> str:
    """Compact JSON safe inside a <script> element."""
    return json.dumps(data, separators=(",", ":"), default=_plain).replace("</", "<\\/")
