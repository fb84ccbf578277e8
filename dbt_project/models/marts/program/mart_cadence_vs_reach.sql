-- Grain: cadence bucket (time since the author's previous post). Does posting more often
-- dilute reach? Median reach ratio of employee shares by how soon they followed the author's
-- previous post.

with

cadence as (

    select
        case
            when hours_since_previous_post is null then '0 first post'
            when hours_since_previous_post < 24 then '1 under a day'
            when hours_since_previous_post < 72 then '2 one to three days'
            when hours_since_previous_post < 168 then '3 three to seven days'
            else '4 a week or more'
        end as cadence_bucket,
        posts_that_day,
        members_reached,
        reach_ratio
    from {{ ref('mart_posting_cadence') }}

),

rollup as (

    select
        cadence_bucket,
        count(*) as shares,
        -- means of integers (a double, summed exactly whatever the order)
        avg(posts_that_day) as mean_posts_that_day,
        avg(members_reached) as mean_members_reached,
        {{ reachloop.median('reach_ratio') }} as median_reach_ratio
    from cadence
    group by cadence_bucket

)

select * from rollup
