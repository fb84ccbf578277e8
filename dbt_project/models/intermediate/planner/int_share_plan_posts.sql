-- Grain: share. The candidates' posts that the plan's cadence rules and exclusions need: every
-- post within a week (or `min_hours_between_posts`, if longer) and a day before the plan
-- moment (no slot of the plan is earlier, so no older post shares a week or a gap with one),
-- and every earlier share of a planned item (whoever shared an item is not asked again).
{%- set lookback_days = [7, (var('min_hours_between_posts') / 24) | round(0, 'ceil') | int] | max + 1 %}

with

plan as (

    select {{ reachloop.share_plan_at() }} as plan_at

)

select
    shares.author_id as employee_id,
    shares.posted_at,
    shares.content_id
from {{ ref('stg_event_log__shares') }} as shares
cross join plan
inner join {{ ref('int_share_plan_candidates') }} as candidates
    on shares.author_id = candidates.employee_id
where shares.author_type = 'employee'
    and shares.posted_at <= plan.plan_at
    and (
        shares.posted_at > {{ dbt.dateadd('day', -1 * lookback_days, 'plan.plan_at') }}
        or shares.content_id in (select content_id from {{ ref('int_share_plan_contents') }})
    )
