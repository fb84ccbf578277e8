"""The data behind the report's filters: compact cells the page re-aggregates in the browser.

Filtering happens in the page, offline, so the page carries its data: not every share, but
cells already aggregated in SQL (reports.queries) by day × author type × department × network
× campaign, with the sums the charts need and the reach ratios themselves (sorted) so that
medians stay exact under any filter. The closed loop comes the same way, from the segment marts
(mart_attribution_funnel_segments, mart_deal_segments, mart_attribution_segments: cut by the
clicked share's month, department, network and campaign), with every touched deal and its
touches so the page can rank the top deals for any filters. Columns are stored as arrays and
dimension values as indexes into one list per dimension: at SF1 (10,000 shares, 137,000 engagements) the whole
payload is about 2 MB beside plotly.js's 4.6 MB (0.7 MB of it the per-item cells of the two tables).

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
    "overlap": ("mart_bubble_overlap", "dim_contents"),
    # Attribution by segment (the marts a publication before them lacks: its attribution charts
    # stay as drawn and say the filters do not reach them).
    "funnel": ("mart_attribution_funnel_segments",),
    "deals": ("mart_deal_segments", "fct_deals", "mart_lead_to_deal_attribution", "dim_contents"),
    "revenue": ("mart_attribution_segments", "dim_contents"),
    "employees": ("mart_reach_by_employee",),
    "contents": ("mart_reach_by_content",),
    "adoption": ("mart_program_adoption",),
    "voice": ("mart_share_of_voice",),
    "goals": ("mart_goal_progress",),
    # Earned media value by the share cells' dimensions (the value chart and tile).
    "value": ("mart_share_value", "fct_shares", "dim_employees", "dim_contents", "mart_reach_by_department"),
    # The tables under filters: their rows re-aggregated from cells of the shares.
    "employee_cells": ("mart_reach_by_employee", "fct_shares", "dim_employees", "dim_contents",
                       "mart_reach_by_department"),
    "content_cells": ("mart_reach_by_content", "fct_shares", "dim_employees", "dim_contents",
                      "mart_reach_by_department"),
    # The share plan's newest items per campaign and month, their rows and who the colleagues are.
    "share_plan": ("mart_share_plan", "dim_contents", "dim_employees", "fct_shares",
                   "mart_reach_by_department"),
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
    funnel_rows = fetch(q.FUNNEL_SEGMENT_CELLS) if has["funnel"] else []
    deal_rows = fetch(q.DEAL_SEGMENT_CELLS) if has["deals"] else []
    has["revenue"] = has["revenue"] and bool(currency)
    revenue_rows = fetch(q.REVENUE_SEGMENT_CELLS, {"currency": currency}) if has["revenue"] else []
    value_rows = fetch(q.VALUE_CELLS) if has["value"] else []
    every = share_rows + engagement_rows + cadence_rows + funnel_rows + deal_rows + revenue_rows + value_rows
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
    if has["overlap"]:
        data["overlap"] = _table(fetch(q.OVERLAP_CELLS))
    if has["funnel"]:
        data["funnel"] = _cells(
            funnel_rows, ["shares", "human_clicks", "bot_clicks", "leads"], dims
        )
    if has["deals"]:
        data["deals"] = _deals(fetch, deal_rows, dims)
    if has["revenue"]:
        data["revenue"] = _revenue(revenue_rows, dims)
    if has["employees"]:
        data["employees"] = _table(fetch(q.EMPLOYEE_TABLE))
    if has["contents"]:
        data["contents"] = _table(fetch(q.CONTENT_TABLE))
    if has["adoption"]:
        rows = fetch(q.ADOPTION_CELLS)
        data["adoption"] = _columns(
            rows,
            ["month", "department", "enrolled_employees", "active_sharers", "new_sharers",
             "returning_sharers", "activation_rate", "median_hours_to_first_share"],
        )
    if has["voice"]:
        rows = fetch(q.VOICE_CELLS)
        data["voice"] = _columns(
            rows, ["month", "share_of_voice_engagement", "share_of_voice_posts", "companies_audited"]
        )
        data["voice_companies"] = _table(fetch(q.VOICE_ROWS))
    if has["goals"]:
        data["goals"] = _table(fetch(q.GOAL_ROWS))
    if has["value"]:
        data["value"] = _cells(value_rows, ["shares", "valued", "emv"], dims)
        data["value"]["emv"] = [_plain(v) for v in data["value"]["emv"]]
    if has["employee_cells"]:
        data["employee_cells"] = _item_cells(
            fetch(q.EMPLOYEE_CELLS), "employee_id",
            ["shares", "contents", "potential_reach", "members_reached", "reach_ratios", "interactions",
             "engagement_rates", "latest_share"], dims,
        )
    if has["content_cells"]:
        data["content_cells"] = _item_cells(
            fetch(q.CONTENT_CELLS), "content_id",
            ["shares", "authors", "potential_reach", "members_reached", "impressions", "interactions"], dims,
        )
    if has["share_plan"]:
        data["share_plan"] = _share_plan(fetch(q.SHARE_PLAN_CELLS, {"items": q.SHARE_PLAN_ITEMS}))
    return data


def _share_plan(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """The plan's rows as columns with their item and colleague as indexes into ``items`` and
    ``employees`` (each once), newest item first: the page picks the newest ``limit`` items of
    the campaign and period and the rows of the department and network."""
    items = list(dict.fromkeys(r["content_id"] for r in rows))
    people = sorted({r["employee_id"] for r in rows})
    first = {r["content_id"]: r for r in reversed(rows)}
    person = {r["employee_id"]: r for r in rows}
    item_at = {c: i for i, c in enumerate(items)}
    person_at = {e: i for i, e in enumerate(people)}
    out: dict[str, Any] = {
        "limit": q.SHARE_PLAN_ITEMS,
        "plan_at": rows[0]["plan_at"] if rows else None,
        "recent_days": q.plan_recent_days(),
        "items": _columns(
            [first[c] for c in items],
            ["content_id", "title", "campaign", "published_at", "prior_sharers", "already_reached"],
        ),
        "employees": {
            "ids": people,
            "department": [person[e]["department"] for e in people],
            "networks": [person[e]["networks"] for e in people],
        },
        "rows": _columns(
            rows,
            ["sharer_rank", "suggested_at", "expected_new_members", "cumulative_new_members",
             "audience_basis"],
        ),
    }
    out["rows"]["item"] = [item_at[r["content_id"]] for r in rows]
    out["rows"]["employee"] = [person_at[r["employee_id"]] for r in rows]
    return out


def _item_cells(
    rows: list[dict[str, Any]], key: str, values: list[str], dims: dict[str, list[str]]
) -> dict[str, Any]:
    """Cells of one item each (an employee, a content item): the item as an index into ``ids``,
    content ids in lists as indexes into ``contents``, dates as ISO text."""
    ids = sorted({r[key] for r in rows})
    at = {v: i for i, v in enumerate(ids)}
    out: dict[str, Any] = _cells(rows, [v for v in values if v != "contents"], dims)
    out["item"] = [at[r[key]] for r in rows]
    out["ids"] = ids
    if "contents" in values:
        contents = sorted({c for r in rows for c in r["contents"]})
        index = {c: i for i, c in enumerate(contents)}
        out["contents"] = [[index[c] for c in r["contents"]] for r in rows]
    for v in values:
        if v not in ("contents", "authors", "reach_ratios", "engagement_rates"):
            out[v] = [_plain(x) for x in out[v]]
    return out


def _deals(fetch, cells: list[dict[str, Any]], dims: dict[str, list[str]]) -> dict[str, Any]:
    """Every deal a post touched (ranked), its touches with their credit per model, and the
    segment cells naming the deals they touched (``deal``: an index into the list)."""
    deals = fetch(q.DEAL_LIST)
    index = {d["deal_id"]: i for i, d in enumerate(deals)}
    touches = [t for t in fetch(q.DEAL_TOUCH_LIST) if t["deal_id"] in index]
    out = _columns(
        deals,
        ["deal_id", "status", "currency", "amount", "deal_amount", "deal_currency", "created_at", "closed_at",
         "first_touch_at", "last_touch_at"],
    )
    # Credits as one list per touch, in the order of ``models`` (every touch has every model).
    models = sorted({m for t in touches for m in t["models"]})
    credits = [dict(zip(t["models"], t["credits"], strict=True)) for t in touches]
    out["touches"] = {
        "deal": [index[t["deal_id"]] for t in touches],
        **_columns(touches, ["touch_number", "touch_at", "author_id", "content"]),
        "models": models,
        "credit": [[c.get(m) for m in models] for c in credits],
    }
    out["cells"] = _cells(cells, ["deal_id"], dims)
    out["cells"]["deal"] = [index.get(d, -1) for d in out["cells"].pop("deal_id")]
    return out


def _revenue(rows: list[dict[str, Any]], dims: dict[str, list[str]]) -> dict[str, Any]:
    """Credited won revenue by segment, content item and model; content items (with their chart
    labels) and models as indexes into their own lists."""
    contents = sorted({r["content_id"] for r in rows})
    labels = {r["content_id"]: r["content"] for r in rows}
    models = sorted({r["model"] for r in rows})
    content_index = {c: i for i, c in enumerate(contents)}
    model_index = {m: i for i, m in enumerate(models)}
    cells = _cells(rows, ["won_revenue", "suppressed", "unconverted"], dims)
    cells["won_revenue"] = [_plain(v) for v in cells["won_revenue"]]
    cells["content"] = [content_index[r["content_id"]] for r in rows]
    cells["model"] = [model_index[r["model"]] for r in rows]
    return {"contents": contents, "labels": [labels[c] for c in contents], "models": models, "cells": cells}


def to_json(data: dict[str, Any]) -> str:
    """Compact JSON safe inside a <script> element."""
    return json.dumps(data, separators=(",", ":"), default=_plain).replace("</", "<\\/")
