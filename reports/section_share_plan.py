"""Report section "Who should share next": the share plan (mart_share_plan) of the most recent
content items, a small table each. The plan is made by the build (planner/); this only shows it.
Under the page's filters the script re-draws it from the plan's cells (reports.dashboard
``share_plan``, reports.script ``renderSharePlan``): the campaign and period pick the items, the
department and network the colleagues shown, each keeping the rank and cumulative figures of the
whole sequence."""

from __future__ import annotations

import html

from reports import charts as ch
from reports import queries as q
from reports.sections import Kpi, Marts

ITEMS = q.SHARE_PLAN_ITEMS  # the most recently published planned items

PLAN = """
with items as (
    select content_id, any_value(published_at) as published_at, any_value(prior_sharers) as prior_sharers,
           any_value(already_reached) as already_reached, any_value(plan_at) as plan_at
    from mart_share_plan
    group by content_id
    order by published_at desc, content_id
    limit $items
)
select items.*, c.title, p.sharer_rank, p.employee_id, p.suggested_at, p.expected_new_members,
       p.cumulative_new_members, p.audience_basis
from items
join mart_share_plan as p using (content_id)
left join dim_contents as c using (content_id)
order by items.published_at desc, items.content_id, p.sharer_rank
"""


def build(m: Marts) -> tuple[list[Kpi], ch.Section]:
    section = ch.Section(
        "share-plan",
        "Who should share next",
        "For recent content not yet widely shared: the opted-in colleagues to ask, in order, each adding "
        "the most people outside the company whom no earlier share reached, at their usual posting hour "
        "and no more than the cadence rules allow (<code>mart_share_plan</code>, "
        "<code>reachloop plan CONTENT_ID</code>). Expected new members come from observed audiences: "
        "an estimate, not a promise of reach. The campaign and period filters pick the items, the "
        "department and network filters the colleagues shown; the plan itself stays as of its plan moment.",
        missing=[t for t in ("mart_share_plan", "dim_contents") if t not in m.tables],
    )
    if section.missing:
        return [], section
    rows = m.fetch(PLAN, {"items": ITEMS})
    plan = _tables(rows) if rows else (
        "<div class='card wide'><p class='lede'>No plan: no recent item is short of sharers, or no "
        "opted-in colleague would reach anyone new.</p></div>"
    )
    # Under filters the page's script re-draws the body and writes what they did into the note.
    section.html = (
        f'<div id="share-plan-tables" data-share-plan><p class="filters-note"></p>'
        f'<div class="plan-body">{plan}</div></div>'
    )
    return [], section


def _tables(rows: list[dict]) -> str:
    cards = []
    for content_id in dict.fromkeys(r["content_id"] for r in rows):
        mine = [r for r in rows if r["content_id"] == content_id]
        first = mine[0]
        title = html.escape(first["title"] or content_id)
        body = "".join(
            f"<tr><td class='num'>{r['sharer_rank']}</td>"
            f"<td><code>{html.escape(r['employee_id'])}</code></td>"
            f"<td>{r['suggested_at']:%Y-%m-%d %H:%M}</td>"
            f"<td class='num'>{r['expected_new_members']:,}</td>"
            f"<td class='num'>{r['cumulative_new_members']:,}</td>"
            f"<td>{html.escape(r['audience_basis'])}</td></tr>"
            for r in mine
        )
        cards.append(
            f"<div class='card'><h3>{title}</h3><p class='lede'><code>{html.escape(content_id)}</code>, "
            f"published {first['published_at']:%Y-%m-%d}; {first['prior_sharers']} colleague(s) shared it "
            f"already, reaching {first['already_reached']:,} people the colleagues below could also "
            "reach.</p>"
            "<table><thead><tr><th class='num'>#</th><th>employee</th><th>suggested (UTC)</th>"
            "<th class='num'>new members</th><th class='num'>cumulative</th><th>audience</th></tr></thead>"
            f"<tbody>{body}</tbody></table></div>"
        )
    return f"<div class='grid'>{''.join(cards)}</div>"
