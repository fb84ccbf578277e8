"""The report's questions, in SQL over the published marts (set-based; Python only renders).

Every query reads the public marts documented in dbt docs. Group figures (departments,
cadence buckets) are suppressed when the group has fewer distinct employees than the dbt var
``min_group_size``: the value comes from dbt_project.yml, the same place the rollups take it
from, and a group a rollup already suppressed stays suppressed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import duckdb

from reports.project import DBT_PROJECT, project_var

PAGE_LABEL = "Company page"
# Departments too small to name, pooled (see the dashboard's cells below).
OTHER_DEPARTMENTS = "Other departments"


def min_group_size(project_file: Path = DBT_PROJECT) -> int:
    """The dbt var ``min_group_size`` (default 5 when the project file is not around)."""
    try:
        return int(project_var("min_group_size", 5, project_file))
    except (TypeError, ValueError):
        return 5


def fetch(con: duckdb.DuckDBPyConnection, sql: str, params: dict | None = None) -> list[dict[str, Any]]:
    cur = con.execute(sql, params or {})
    names = [d[0] for d in cur.description]
    return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]


def columns(rows: list[dict[str, Any]], *names: str) -> list[list[Any]]:
    return [[r[n] for r in rows] for n in names]


PUBLICATION = "select version, build_id, as_of, published_at from _publication"

OVERVIEW = """
select
    count(*) filter (where author_type = 'employee')                    as employee_shares,
    count(*) filter (where author_type = 'page')                        as page_shares,
    count(distinct author_id) filter (where author_type = 'employee')   as sharers,
    sum(members_reached) filter (where author_type = 'employee')        as employee_members_reached,
    median(reach_ratio) filter (where author_type = 'employee')         as employee_median_reach_ratio,
    median(reach_ratio) filter (where author_type = 'page')             as page_median_reach_ratio,
    median(reach_ratio) filter (where author_type = 'employee')
      / nullif(median(reach_ratio) filter (where author_type = 'page'), 0) as amplification_multiplier,
    min(posted_at) as first_post_at,
    max(posted_at) as last_post_at
from mart_reach_vs_network
"""

CTR_BY_AUTHOR_TYPE = """
select
    author_type,
    sum(clicks)::double / nullif(sum(impressions), 0)        as ctr,
    sum(interactions)::double / nullif(sum(impressions), 0)  as engagement_rate
from mart_engagement_rate
group by author_type
"""

BUBBLE_OVERALL = """
select sum(colleague_engagements)::double / nullif(sum(engagements_known_actor), 0) as colleague_share
from mart_engagement_bubble
where author_type = 'employee'
"""

# Box statistics per author type, computed in SQL so the page carries 2 boxes, not every share.
REACH_RATIO_SPREAD = """
select
    author_type,
    count(reach_ratio)                         as shares,
    quantile_cont(reach_ratio, 0.05)           as p05,
    quantile_cont(reach_ratio, 0.25)           as p25,
    quantile_cont(reach_ratio, 0.50)           as p50,
    quantile_cont(reach_ratio, 0.75)           as p75,
    quantile_cont(reach_ratio, 0.95)           as p95,
    avg(reach_ratio)                           as mean
from mart_reach_vs_network
where reach_ratio is not null
group by author_type
order by author_type
"""

REACH_BY_MONTH = """
select
    period_start,
    employee_shares,
    page_shares,
    potential_reach,
    employee_members_reached,
    page_members_reached,
    median_employee_reach_ratio,
    median_page_reach_ratio,
    amplification_multiplier
from mart_reach_by_period
where period_grain = 'month'
order by period_start
"""

ENGAGEMENT_BY_WEEK = """
select
    date_trunc('week', posted_at)::date                       as week_start,
    author_type,
    count(*)                                                  as shares,
    sum(interactions)::double / nullif(sum(impressions), 0)   as engagement_rate,
    sum(clicks)::double / nullif(sum(impressions), 0)         as ctr
from mart_engagement_rate
group by all
order by week_start, author_type
"""

# Weekly, and over the 4 weeks ending with each week (ratio of sums, not a mean of ratios).
BUBBLE_BY_WEEK = """
with weekly as (
    select
        date_trunc('week', engagement_date)::date as week_start,
        sum(engagements)                          as engagements,
        sum(colleague_engagements)                as colleague_engagements,
        sum(engagements_known_actor)              as known_actor
    from mart_engagement_daily
    group by all
)
select
    week_start, engagements, colleague_engagements,
    colleague_engagements::double / nullif(known_actor, 0) as colleague_share,
    sum(colleague_engagements) over w4 / nullif(sum(known_actor) over w4, 0) as colleague_share_4w
from weekly
window w4 as (order by week_start range between interval 21 days preceding and current row)
order by week_start
"""

# A content item's label on a chart: its title, and where several items share that title, the
# end of its id too (at most 38 characters), so that they stay separate bars.
CONTENT_LABELS = """
(select
    content_id,
    campaign,
    case
        when title is null then content_id
        when count(*) over (partition by title) = 1 then title
        else (case when length(title) > 29 then left(title, 28) || '…' else title end)
             || ' · ' || right(content_id, 6)
    end as label
 from dim_contents)
"""

OVERLAP_BY_CONTENT = """
select
    coalesce(c.label, o.content_id)        as content,
    o.content_id,
    o.sharers,
    o.audience_sum,
    o.audience_union,
    o.audience_sum - o.audience_union      as duplicated_reach,
    o.overlap_ratio
from mart_bubble_overlap as o
left join dim_contents as c using (content_id)
where o.sharers >= 2 and o.audience_sum > 0
order by o.audience_sum desc, o.content_id
limit $limit
""".replace("dim_contents", CONTENT_LABELS)

# Cadence buckets are groups of employees: small ones are suppressed like any group rollup.
CADENCE = """
with buckets as (
    select
        case
            when hours_since_previous_post is null then 0
            when hours_since_previous_post < 24 then 1
            when hours_since_previous_post < 72 then 2
            when hours_since_previous_post < 168 then 3
            when hours_since_previous_post < 336 then 4
            else 5
        end as gap_order,
        least(posts_that_day, 3) as day_posts,
        employee_id,
        reach_ratio
    from mart_posting_cadence
    where reach_ratio is not null
),
by_gap as (
    select 'gap' as dimension, gap_order as bucket_order,
           count(*) as posts, count(distinct employee_id) as employees,
           median(reach_ratio) as median_reach_ratio,
           quantile_cont(reach_ratio, 0.25) as p25, quantile_cont(reach_ratio, 0.75) as p75
    from buckets group by gap_order
),
by_day as (
    select 'day' as dimension, day_posts as bucket_order,
           count(*), count(distinct employee_id),
           median(reach_ratio), quantile_cont(reach_ratio, 0.25), quantile_cont(reach_ratio, 0.75)
    from buckets group by day_posts
)
select
    dimension, bucket_order, posts, employees,
    employees < $min_group as is_suppressed,
    case when employees >= $min_group then median_reach_ratio end as median_reach_ratio,
    case when employees >= $min_group then p25 end as p25,
    case when employees >= $min_group then p75 end as p75
from (select * from by_gap union all select * from by_day)
order by dimension, bucket_order
"""

# --- the closed loop ------------------------------------------------------------------------

# Shares → human clicks → leads come from the funnel mart (by month of posting: clicks are
# exact sums; a lead who clicked posts of two months counts in both). Deals come from
# fct_deals, once each.
FUNNEL = """
select
    (select coalesce(sum(shares), 0) from mart_attribution_funnel)       as shares,
    (select coalesce(sum(human_clicks), 0) from mart_attribution_funnel) as human_clicks,
    (select coalesce(sum(bot_clicks), 0) from mart_attribution_funnel)   as bot_clicks,
    (select coalesce(sum(leads), 0) from mart_attribution_funnel)        as leads,
    (select count(*) from fct_deals)                                     as deals,
    (select count(*) from fct_deals where is_attributed)                 as touched_deals,
    (select count(*) from fct_deals where is_attributed and status = 'won') as won_deals
"""

# The same from the segments (what the page's filters re-aggregate): leads are summed over
# segments (month × department × network × campaign) instead of months.
FUNNEL_BY_SEGMENT = FUNNEL.replace("from mart_attribution_funnel)", "from mart_attribution_funnel_segments)")

# Money is never added across currencies: the report shows the currency with most deals.
CURRENCIES = """
select
    currency,
    count(*)                                                        as deals,
    coalesce(sum(amount) filter (where status = 'won'), 0)          as won_revenue,
    coalesce(sum(amount) filter (where status = 'won' and is_attributed), 0) as won_revenue_touched,
    coalesce(sum(amount_reporting) filter (where status = 'won'), 0) as won_revenue_reporting
from fct_deals
where currency is not null
group by currency
order by deals desc, currency
"""

MODELS = "select distinct model from mart_lead_to_deal_attribution order by model"

# Won revenue credited to each content item under every model (mart_attribution_rollups),
# the items with the most credit under any model first.
# Money in the report is in the reporting currency (dbt var reporting_currency): the rollups'
# *_reporting columns, summed over the deals' own currencies; $currency names it.
REVENUE_BY_CONTENT = """
with by_content as (
    select
        case r.group_key when '(own post)' then 'Own posts (no company content)'
                         else coalesce(c.label, r.group_key) end as content,
        r.group_key, r.model, sum(r.won_revenue_reporting) as won_revenue
    from mart_attribution_rollups as r
    left join {labels} as c on c.content_id = r.group_key
    where r.dimension = 'content' and r.reporting_currency = $currency and r.group_key <> '(unattributed)'
    group by all
),
ranked as (
    select group_key, max(won_revenue) as best
    from by_content group by group_key
    having max(won_revenue) > 0
    order by best desc, group_key
    limit $limit
)
select by_content.content, by_content.model, by_content.won_revenue
from by_content join ranked using (group_key)
order by ranked.best desc, by_content.group_key, by_content.model
""".replace("{labels}", CONTENT_LABELS)

# Departments as the rollup publishes them: small groups arrive suppressed (figures null). The
# rollup counts a department's employees per deal currency: one currency's group too small
# suppresses the department whole.
REVENUE_BY_DEPARTMENT = """
select
    case group_key when '(company page)' then '{page}' else group_key end as department,
    model,
    bool_or(is_suppressed) as is_suppressed,
    case when bool_or(is_suppressed) then null else max(employees) end as employees,
    case when bool_or(is_suppressed) then null else sum(won_revenue_reporting) end as won_revenue
from mart_attribution_rollups
where dimension = 'department' and reporting_currency = $currency and group_key <> '(unattributed)'
group by all
order by is_suppressed, department, model
""".replace("{page}", PAGE_LABEL)

# The same two charts from mart_attribution_segments, when the publication has it: what the
# page's filters re-aggregate (reports.script), so the unfiltered page and this drawing agree.
# Departments as the segments name them (small ones pooled; a pool too small suppressed).
REVENUE_BY_DEPARTMENT_SEGMENTS = """
select
    case department when '(company page)' then '{page}' when '(other departments)' then '{other}'
                    else department end as department,
    model,
    bool_or(is_suppressed) as is_suppressed,
    case when bool_or(is_suppressed) then null else sum(won_revenue_reporting) end as won_revenue
from mart_attribution_segments
where reporting_currency = $currency
group by all
order by is_suppressed, department, model
""".replace("{page}", PAGE_LABEL).replace("{other}", OTHER_DEPARTMENTS)

REVENUE_BY_CONTENT_SEGMENTS = """
with by_content as (
    select
        case r.content_id when '(own post)' then 'Own posts (no company content)'
                          else coalesce(c.label, r.content_id) end as content,
        r.content_id as group_key, r.model, sum(r.won_revenue_reporting) as won_revenue
    from mart_attribution_segments as r
    left join {labels} as c on c.content_id = r.content_id
    where r.reporting_currency = $currency and not r.is_suppressed
    group by all
),
ranked as (
    select group_key, max(won_revenue) as best
    from by_content group by group_key
    having max(won_revenue) > 0
    order by best desc, group_key
    limit $limit
)
select by_content.content, by_content.model, by_content.won_revenue
from by_content join ranked using (group_key)
order by ranked.best desc, by_content.group_key, by_content.model
""".replace("{labels}", CONTENT_LABELS)

UNATTRIBUTED = """
select coalesce(sum(won_revenue_reporting), 0) as won_revenue, coalesce(sum(deals_touched), 0) as deals
from (
    select currency, max(won_revenue_reporting) as won_revenue_reporting, max(deals_touched) as deals_touched
    from mart_attribution_rollups
    where dimension = 'content' and group_key = '(unattributed)' and reporting_currency = $currency
    group by currency
)
"""

# Won revenue in the reporting currency, and the won deals no exchange rate could convert (left
# out of every sum in the report, and named beside it).
REPORTING = """
select
    any_value(reporting_currency)                                    as currency,
    coalesce(sum(amount_reporting) filter (where status = 'won'), 0) as won_revenue,
    coalesce(sum(amount_reporting) filter (where status = 'won' and is_attributed), 0)
                                                                     as won_revenue_touched,
    count(*) filter (where status = 'won' and amount is not null and amount_reporting is null)
                                                                     as won_unconverted,
    string_agg(distinct coalesce(currency, '(none)'), ', ')
        filter (where status = 'won' and amount is not null and amount_reporting is null)
                                                                     as unconverted_currencies
from fct_deals
"""

# The biggest deals that posts touched (by their amount in the reporting currency), won first,
# with every touch (credits per model).
TOP_DEALS = """
with top as (
    select
        deal_id, status as deal_status, currency, amount, amount_reporting, reporting_currency, touches,
        created_at, closed_at, first_touch_at, last_touch_at,
        row_number() over (
            order by case status when 'won' then 0 when 'open' then 1 else 2 end,
                     amount_reporting desc nulls last, deal_id
        ) as deal_rank
    from fct_deals
    where is_attributed and reporting_currency = $currency
    qualify deal_rank <= $limit
)
select
    top.deal_rank, top.deal_id, top.deal_status, top.currency, top.amount, top.amount_reporting,
    top.reporting_currency, top.touches, top.created_at, top.closed_at, top.first_touch_at, top.last_touch_at,
    a.touch_number, a.touch_at, a.share_id, a.author_type, a.author_id,
    coalesce(c.title, a.content_id, 'own post') as content,
    a.model, a.credit, a.attributed_amount, a.attributed_amount_reporting
from top
join mart_lead_to_deal_attribution as a using (deal_id)
left join dim_contents as c on c.content_id = a.content_id
order by top.deal_rank, a.touch_number, a.model
"""

REQUIRED_MARTS = {
    "overview": ("mart_reach_vs_network", "mart_engagement_rate", "mart_engagement_bubble"),
    "reach": ("mart_reach_vs_network", "mart_reach_by_period"),
    "engagement": ("mart_engagement_rate", "mart_engagement_daily"),
    "bubble": ("mart_engagement_daily", "mart_bubble_overlap", "dim_contents"),
    "cadence": ("mart_posting_cadence",),
    "funnel": ("mart_attribution_funnel", "fct_deals"),
    "attribution": ("mart_attribution_rollups", "mart_lead_to_deal_attribution", "fct_deals", "dim_contents"),
    "tables": ("mart_reach_by_content", "mart_reach_by_employee"),
    "adoption": ("mart_program_adoption",),
    "networks": ("mart_network_monthly",),
    "goals": ("mart_goal_progress",),
    "share_of_voice": ("mart_share_of_voice",),
}


def published_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {
        r[0]
        for r in con.execute(
            "select table_name from information_schema.tables where table_schema = 'main'"
        ).fetchall()
    }


# --- the dashboard's filterable data ----------------------------------------------------------
# Compact, already aggregated cells the page re-aggregates in the browser when a filter changes
# (reports.dashboard). Dimensions: the day (UTC), author type, department, network, campaign.
# A department is named only where mart_reach_by_department shows it (at least min_group_size
# sharers); smaller ones and employees without a department are pooled under OTHER_DEPARTMENTS,
# so that a filter can never single out a small group. Page posts have no department.

NO_CAMPAIGN = "(no campaign)"

_SHARE_DIMENSIONS = """
    select
        s.share_id,
        s.posted_at::date                                                   as day,
        s.author_type,
        case when s.author_type = 'page' then null
             when d.is_suppressed = false and e.department is not null then e.department
             else '{other}' end                                             as department,
        s.network,
        coalesce(c.campaign, '{none}')                                      as campaign,
        s.author_id,
        dense_rank() over (order by s.author_id)                            as author_key
    from fct_shares as s
    left join dim_employees as e on s.author_type = 'employee' and e.employee_id = s.author_id
    left join mart_reach_by_department as d on d.department is not distinct from e.department
    left join dim_contents as c on c.content_id = s.content_id
""".replace("{other}", OTHER_DEPARTMENTS).replace("{none}", NO_CAMPAIGN)

# One cell per (day, author type, department, network, campaign): sums, and the reach ratios
# themselves (sorted) so that medians and quantiles stay exact under any filter.
SHARE_CELLS = f"""
with dims as ({_SHARE_DIMENSIONS})
select
    dims.day, dims.author_type, dims.department, dims.network, dims.campaign,
    count(*)                                        as shares,
    list(distinct dims.author_key) filter (where dims.author_type = 'employee') as authors,
    coalesce(sum(s.impressions), 0)                 as impressions,
    coalesce(sum(s.interactions), 0)                as interactions,
    coalesce(sum(s.clicks), 0)                      as clicks,
    coalesce(sum(s.members_reached), 0)             as members_reached,
    coalesce(sum(s.network_size), 0)                as potential_reach,
    count(s.members_reached)                        as reached_shares,
    count(s.impressions)                            as measured_shares,
    coalesce(list(s.reach_ratio order by s.reach_ratio)
             filter (where s.reach_ratio is not null), [])  as reach_ratios
from dims join fct_shares as s using (share_id)
group by all
order by all
"""

# Engagements by the day they happened, with the dimensions of the post they were on.
ENGAGEMENT_CELLS = f"""
with dims as ({_SHARE_DIMENSIONS})
select
    g.occurred_at::date                                         as day,
    dims.author_type, dims.department, dims.network, dims.campaign,
    count(*)                                                    as engagements,
    count(*) filter (where g.is_known_actor)                    as known_actor,
    count(*) filter (where g.is_colleague_actor)                as colleague_engagements
from fct_engagements as g join dims using (share_id)
group by all
order by all
"""

# Employee posts with a reach ratio by the cadence buckets of CADENCE, with the posting
# employees (dense keys, not ids) so that the page suppresses a bucket with fewer than
# min_group_size employees under any filter, as CADENCE does over the whole log.
CADENCE_CELLS = f"""
with dims as ({_SHARE_DIMENSIONS})
select
    dims.day, dims.author_type, dims.department, dims.network, dims.campaign,
    case
        when c.hours_since_previous_post is null then 0
        when c.hours_since_previous_post < 24 then 1
        when c.hours_since_previous_post < 72 then 2
        when c.hours_since_previous_post < 168 then 3
        when c.hours_since_previous_post < 336 then 4
        else 5
    end                                                     as gap_order,
    least(c.posts_that_day, 3)                              as day_posts,
    list(distinct dims.author_key)                          as authors,
    list(c.reach_ratio order by c.reach_ratio)              as reach_ratios
from mart_posting_cadence as c join dims using (share_id)
where c.reach_ratio is not null
group by all
order by all
"""

# Every item shared by two or more employees, with its campaign: the page ranks the top ones
# within a campaign as OVERLAP_BY_CONTENT does over all of them.
OVERLAP_CELLS = """
select
    coalesce(c.label, o.content_id)        as content,
    o.content_id,
    coalesce(c.campaign, '{none}')         as campaign,
    o.sharers,
    o.audience_sum,
    o.audience_union,
    o.audience_sum - o.audience_union      as duplicated_reach,
    o.overlap_ratio
from mart_bubble_overlap as o
left join dim_contents as c using (content_id)
where o.sharers >= 2 and o.audience_sum > 0
order by o.audience_sum desc, o.content_id
""".replace("{none}", NO_CAMPAIGN).replace("dim_contents", CONTENT_LABELS)

# Won revenue credited to every content item under every model, in the reporting currency (as
# REVENUE_BY_CONTENT), with the item's campaign: the page ranks the top items within a campaign.
REVENUE_CONTENT_CELLS = """
select
    r.group_key,
    case r.group_key when '(own post)' then 'Own posts (no company content)'
                     else coalesce(c.label, r.group_key) end as content,
    coalesce(c.campaign, '{none}') as campaign,
    r.model, sum(r.won_revenue_reporting) as won_revenue
from mart_attribution_rollups as r
left join {labels} as c on c.content_id = r.group_key
where r.dimension = 'content' and r.reporting_currency = $currency and r.group_key <> '(unattributed)'
group by all
order by r.group_key, r.model
""".replace("{none}", NO_CAMPAIGN).replace("{labels}", CONTENT_LABELS)

# Sharers per department option: the pooled group is offered as a filter only when it is no
# smaller than min_group_size itself.
DEPARTMENT_OPTIONS = f"""
with dims as ({_SHARE_DIMENSIONS})
select department, count(distinct author_id) as sharers
from dims
where author_type = 'employee'
group by department
order by department = '{OTHER_DEPARTMENTS}', department
"""

# The attribution figures by segment (mart_attribution_segments, mart_attribution_funnel_segments,
# mart_deal_segments: the month the touched share was posted, its author's department, its network,
# its content's campaign), as cells of the same shape as SHARE_CELLS: the marts name departments
# and pool small ones exactly as _SHARE_DIMENSIONS does ('(other departments)' is the page's
# OTHER_DEPARTMENTS, '(company page)' the page's posts).
_SEGMENT_DIMENSIONS = """
    month                                                                   as day,
    case department when '(company page)' then 'page' else 'employee' end   as author_type,
    case department when '(company page)' then null
                    when '(other departments)' then '{other}' else department end as department,
    network,
    campaign
""".replace("{other}", OTHER_DEPARTMENTS)

# Shares, clicks and leads by segment: clicks add up across cells; a lead who clicked posts of
# two segments counts in both (as mart_attribution_funnel does across months).
FUNNEL_SEGMENT_CELLS = f"""
select {_SEGMENT_DIMENSIONS}, shares, human_clicks, bot_clicks, leads
from mart_attribution_funnel_segments
order by all
"""

# The segments that touched each deal: the page counts a deal once for any filters.
DEAL_SEGMENT_CELLS = f"""
select {_SEGMENT_DIMENSIONS}, deal_id
from mart_deal_segments
order by all
"""

# Won revenue credited per segment, content item and model, in the reporting currency (summed
# over the deals' currencies; null where a deal has no rate); suppressed departments keep their
# rows with no figure.
REVENUE_SEGMENT_CELLS = f"""
with labelled as (
    select
        r.*,
        case r.content_id when '(own post)' then 'Own posts (no company content)'
                          else coalesce(c.label, r.content_id) end as content
    from mart_attribution_segments as r
    left join {{labels}} as c on c.content_id = r.content_id
    where r.reporting_currency = $currency
)
select {_SEGMENT_DIMENSIONS}, content_id, content, model,
    bool_or(is_suppressed) as suppressed,
    case when bool_or(is_suppressed) then null else sum(won_revenue_reporting) end as won_revenue,
    count(*) filter (where won_revenue is not null and won_revenue_reporting is null) as unconverted
from labelled
group by all
order by all
""".replace("{labels}", CONTENT_LABELS)

# Every deal a post touched, ranked as TOP_DEALS ranks them (won, then open, then lost; by the
# amount in the reporting currency), with its touches and their credit under each model: the
# page picks the top ones among the deals the filters' posts touched.
DEAL_LIST = """
select
    deal_id, status,
    -- in the reporting currency; a deal no rate converts keeps its own, so the page names it
    -- beside the total instead of adding it in or dropping it
    case when amount is not null and amount_reporting is null
         then coalesce(currency, '(no currency)') || ' (no rate)' else reporting_currency end as currency,
    coalesce(amount_reporting, amount) as amount,
    amount as deal_amount, currency as deal_currency,
    created_at, closed_at, first_touch_at, last_touch_at
from fct_deals
where is_attributed
order by case status when 'won' then 0 when 'open' then 1 else 2 end,
         amount_reporting desc nulls last, deal_id
"""

DEAL_TOUCH_LIST = """
select
    a.deal_id, a.touch_number, any_value(a.touch_at) as touch_at, any_value(a.author_id) as author_id,
    coalesce(any_value(c.title), any_value(a.content_id), 'own post') as content,
    list(a.model order by a.model) as models, list(a.credit order by a.model) as credits
from mart_lead_to_deal_attribution as a
left join dim_contents as c on c.content_id = a.content_id
group by a.deal_id, a.touch_number
order by a.deal_id, a.touch_number
"""

# The per-employee and per-content tables under any filters: their marts are per item over the
# whole log, so the page re-aggregates these cells (month × author type × department × network ×
# campaign × item) into the same columns, with the same definitions (sums stay null where every
# share lacks the figure; medians from the ratios themselves; items shared as distinct keys).
# Employees appear by pseudonymous id with the department mart_reach_by_employee shows.
EMPLOYEE_CELLS = f"""
with dims as ({_SHARE_DIMENSIONS})
select
    date_trunc('month', dims.day)::date                                     as day,
    dims.author_type, dims.department, dims.network, dims.campaign,
    s.author_id                                                             as employee_id,
    count(*)                                                                as shares,
    coalesce(list(distinct s.content_id) filter (where s.content_id is not null), []) as contents,
    sum(s.network_size)                                                     as potential_reach,
    sum(s.members_reached)                                                  as members_reached,
    coalesce(list(s.reach_ratio order by s.reach_ratio)
             filter (where s.reach_ratio is not null), [])                  as reach_ratios,
    sum(s.interactions)                                                     as interactions,
    coalesce(list(s.engagement_rate order by s.engagement_rate)
             filter (where s.engagement_rate is not null), [])              as engagement_rates,
    max(s.posted_at)::date                                                  as latest_share
from dims join fct_shares as s using (share_id)
where dims.author_type = 'employee'
group by all
order by all
"""

CONTENT_CELLS = f"""
with dims as ({_SHARE_DIMENSIONS})
select
    date_trunc('month', dims.day)::date                                     as day,
    dims.author_type, dims.department, dims.network, dims.campaign,
    s.content_id,
    count(*)                                                                as shares,
    list(distinct dims.author_key) filter (where dims.author_type = 'employee') as authors,
    sum(s.network_size) filter (where dims.author_type = 'employee')        as potential_reach,
    sum(s.members_reached)                                                  as members_reached,
    sum(s.impressions)                                                      as impressions,
    sum(s.interactions)                                                     as interactions
from dims join fct_shares as s using (share_id)
where s.content_id is not null
group by all
order by all
"""

# The roster and its sharers per month and department (mart_program_adoption; '' for the row of
# all departments): the activation tile and the adoption chart and table under filters. A
# suppressed group keeps its row with no figures, as in the mart.
ADOPTION_CELLS = """
select
    strftime(month_start, '%Y-%m')                                          as month,
    case department when '(all departments)' then '' else department end    as department,
    enrolled_employees, active_sharers, new_sharers, returning_sharers, activation_rate,
    median_hours_to_first_share
from mart_program_adoption
order by all
"""

# The own company's monthly share of voice (mart_share_of_voice): the tile under a period.
VOICE_CELLS = """
select
    strftime(month_start, '%Y-%m') as month,
    share_of_voice_engagement, share_of_voice_posts, companies_audited
from mart_share_of_voice
where is_own_company
order by month_start, company
"""

# Every company's monthly share of voice: the chart under a period.
VOICE_ROWS = """
select strftime(month_start, '%Y-%m') as month, company, share_of_voice_engagement
from mart_share_of_voice
order by month_start, company
"""

# Every goal with its scope and period (mart_goal_progress): the goals chart, tile and table
# under filters pick the goals whose period meets the chosen one and whose scope is the chosen
# department or network.
GOAL_ROWS = """
select
    goal_id, coalesce(title, goal_id) as title, metric, department, network,
    strftime(period_start, '%Y-%m-%d') as period_start, strftime(period_end, '%Y-%m-%d') as period_end,
    target, actual, forecast, pct_of_target, forecast_pct_of_target, status, is_suppressed
from mart_goal_progress
order by period_end desc, goal_id
"""

# Earned media value of employees' shares (mart_share_value) in the cells of SHARE_CELLS: the
# value chart and the EMV tile under any filter. ``valued``: shares with an EMV (a share
# without a media rate for its network has none, and adds nothing).
VALUE_CELLS = f"""
with dims as ({_SHARE_DIMENSIONS})
select
    dims.day, dims.author_type, dims.department, dims.network, dims.campaign,
    count(*)                    as shares,
    count(v.emv)                as valued,
    coalesce(sum(v.emv), 0)     as emv
from mart_share_value as v join dims using (share_id)
where v.author_type = 'employee'
group by all
order by all
"""

EMPLOYEE_TABLE = """
select
    employee_id, department, shares, contents_shared, potential_reach, members_reached,
    median_reach_ratio, interactions, median_engagement_rate, latest_share_at::date as latest_share
from mart_reach_by_employee
order by members_reached desc nulls last, employee_id
"""

CONTENT_TABLE = """
select
    content_id, title, topic, coalesce(campaign, '{none}') as campaign, employee_shares, page_shares,
    sharers, potential_reach, members_reached, impressions, interactions,
    interactions::double / nullif(impressions, 0) as engagement_rate
from mart_reach_by_content
order by members_reached desc nulls last, content_id
""".replace("{none}", NO_CAMPAIGN)

SHARE_PLAN_ITEMS = 5  # the report shows the plans of the most recently published planned items


def plan_recent_days(project_file: Path = DBT_PROJECT) -> int:
    """The dbt var ``plan_recent_days``: how far back from its plan moment the plan looks."""
    try:
        return int(project_var("plan_recent_days", 90, project_file))
    except (TypeError, ValueError):
        return 90


# The share plan under the filters (reports.section_share_plan): the rows of the newest
# ``$items`` planned items of every campaign and month of publication, so that the page can pick
# the newest items of any campaign and period exactly; each suggested colleague's department as
# the share cells name it (small ones pooled) and the networks they posted on by the plan moment.
SHARE_PLAN_CELLS = f"""
with items as (
    select content_id, any_value(published_at) as published_at, any_value(plan_at) as plan_at
    from mart_share_plan
    group by content_id
),
picked as (
    select items.content_id
    from items left join dim_contents as c using (content_id)
    qualify row_number() over (
        partition by coalesce(c.campaign, '{NO_CAMPAIGN}'), strftime(items.published_at, '%Y-%m')
        order by items.published_at desc, items.content_id
    ) <= $items
),
networks as (
    select s.author_id as employee_id, list(distinct s.network order by s.network) as networks
    from fct_shares as s
    where s.author_type = 'employee'
        and s.author_id in (select employee_id from mart_share_plan)
        and s.posted_at <= (select max(plan_at) from items)
    group by all
)
select
    p.content_id, coalesce(c.title, p.content_id) as title, coalesce(c.campaign, '{NO_CAMPAIGN}') as campaign,
    strftime(p.published_at, '%Y-%m-%d %H:%M:%S') as published_at, p.prior_sharers, p.already_reached,
    strftime(p.plan_at, '%Y-%m-%d %H:%M') as plan_at,
    p.sharer_rank, p.employee_id, strftime(p.suggested_at, '%Y-%m-%d %H:%M') as suggested_at,
    p.expected_new_members, p.cumulative_new_members, p.audience_basis,
    case when d.is_suppressed = false and e.department is not null then e.department
         else '{OTHER_DEPARTMENTS}' end as department,
    coalesce(n.networks, []) as networks
from mart_share_plan as p
join picked using (content_id)
left join dim_contents as c using (content_id)
left join dim_employees as e using (employee_id)
left join mart_reach_by_department as d on d.department is not distinct from e.department
left join networks as n using (employee_id)
order by p.published_at desc, p.content_id, p.sharer_rank
"""
