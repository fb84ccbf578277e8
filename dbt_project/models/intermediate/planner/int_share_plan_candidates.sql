-- Grain: employee. Who the share planner may suggest, as of the plan moment (macro
-- share_plan_at): employees whose latest answer to the advocacy opt-in is yes (absent: never
-- asked, never suggested), with no departure date (past or scheduled). With their usual
-- posting hour (UTC; the hour of day they posted at most often, the earlier on a tie; null
-- without posts) and which audience stands for them now: their latest `audience` observation
-- at or before the plan moment, else the engaged fallback (int_share_audiences_resolved's rule).

with

plan as (

    select {{ reachloop.share_plan_at() }} as plan_at

),

opted_in as (

    select employee_id
    from {{ ref('dim_employees') }}
    where advocate_opt_in and left_at is null

),

post_hours as (

    select
        shares.author_id as employee_id,
        cast(extract(hour from shares.posted_at) as {{ dbt.type_bigint() }}) as posting_hour,
        count(*) as posts
    from {{ ref('stg_event_log__shares') }} as shares
    cross join plan
    where shares.author_type = 'employee' and shares.posted_at <= plan.plan_at
    group by 1, 2

),

usual_hours as (

    select employee_id, posting_hour
    from (
        select
            employee_id,
            posting_hour,
            row_number() over (partition by employee_id order by posts desc, posting_hour) as hour_rank
        from post_hours
    ) as ranked
    where hour_rank = 1

),

latest_observations as (

    select audiences.employee_id, max(audiences.observed_at) as observed_at
    from {{ ref('stg_event_log__audiences') }} as audiences
    cross join plan
    where audiences.observed_at <= plan.plan_at
    group by audiences.employee_id

),

candidates as (

    select
        opted_in.employee_id,
        plan.plan_at,
        usual_hours.posting_hour as usual_hour,
        case when latest_observations.employee_id is null then 'engaged' else 'observed' end as audience_basis,
        latest_observations.observed_at as audience_observed_at
    from opted_in
    cross join plan
    left join usual_hours on opted_in.employee_id = usual_hours.employee_id
    left join latest_observations on opted_in.employee_id = latest_observations.employee_id

)

select * from candidates
