-- Grain: content item. What the share planner plans for: items published in the
-- `plan_recent_days` up to the plan moment that are not yet widely shared, i.e. that fewer
-- than `plan_widely_shared` distinct employees shared by then.

with

plan as (

    select {{ reachloop.share_plan_at() }} as plan_at

),

employee_sharers as (

    select
        shares.content_id,
        count(distinct shares.author_id) as prior_sharers,
        count(*) as prior_shares
    from {{ ref('stg_event_log__shares') }} as shares
    cross join plan
    where shares.author_type = 'employee'
        and shares.content_id is not null
        and shares.posted_at <= plan.plan_at
    group by shares.content_id

),

contents as (

    select
        contents.content_id,
        contents.published_at,
        plan.plan_at,
        coalesce(employee_sharers.prior_sharers, 0) as prior_sharers,
        coalesce(employee_sharers.prior_shares, 0) as prior_shares
    from {{ ref('stg_event_log__contents') }} as contents
    cross join plan
    left join employee_sharers on contents.content_id = employee_sharers.content_id
    where contents.published_at <= plan.plan_at
        and contents.published_at > {{ dbt.dateadd('day', -1 * var('plan_recent_days'), 'plan.plan_at') }}
        and coalesce(employee_sharers.prior_sharers, 0) < {{ var('plan_widely_shared') }}

)

select * from contents
