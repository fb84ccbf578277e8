-- Grain: employee share. Cadence against reach: how often the author posts (posts that UTC
-- day, hours since their previous post on any network) next to what the post reached, to see
-- whether posting more often dilutes reach.

with

employee_shares as (

    select share_id, author_id as employee_id, network, posted_at, members_reached, reach_ratio
    from {{ ref('fct_shares') }}
    where author_type = 'employee'

),

cadence as (

    select
        share_id,
        employee_id,
        network,
        posted_at,
        cast({{ dbt.date_trunc('day', 'posted_at') }} as date) as posted_on,
        lag(posted_at) over (partition by employee_id order by posted_at, share_id)
            as previous_posted_at,
        members_reached,
        reach_ratio
    from employee_shares

),

final as (

    select
        share_id,
        employee_id,
        network,
        posted_at,
        posted_on,
        count(*) over (partition by employee_id, posted_on) as posts_that_day,
        {{ reachloop.hours_between('previous_posted_at', 'posted_at') }} as hours_since_previous_post,
        members_reached,
        reach_ratio
    from cadence

)

select * from final
