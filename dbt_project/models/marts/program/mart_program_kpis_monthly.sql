-- Grain: calendar month (UTC). Is the program working?
--   social_sourced_site_visits: clicks arriving through a share's tracking token (bots
--     included: bot flagging belongs to attribution and is not applied here);
--   new_page_followers: growth of the page followers over the month (latest snapshot in the
--     month − latest snapshot before it, or the month's first snapshot for the first month);
--   mean_interactions_per_content_item: interactions of the month's shares of content items,
--     summed per item, averaged over the items shared that month.

with

shares as (

    select * from {{ ref('fct_shares') }}

),

visits as (

    select
        cast({{ dbt.date_trunc('month', 'clicks.occurred_at') }} as date) as month_start,
        count(*) as social_sourced_site_visits,
        count(distinct clicks.visitor_id) as social_sourced_visitors
    from {{ ref('stg_event_log__clicks') }} as clicks
    inner join shares on clicks.tracking_token = shares.tracking_token
    group by 1

),

follower_snapshots as (

    select
        page_id,
        cast({{ dbt.date_trunc('month', 'observed_at') }} as date) as month_start,
        followers,
        row_number() over (
            partition by page_id, {{ dbt.date_trunc('month', 'observed_at') }}
            order by observed_at desc
        ) as latest_rank,
        row_number() over (
            partition by page_id, {{ dbt.date_trunc('month', 'observed_at') }}
            order by observed_at
        ) as earliest_rank
    from {{ ref('stg_event_log__page_followers') }}

),

page_months as (

    select
        page_id,
        month_start,
        max(case when latest_rank = 1 then followers end) as closing_followers,
        max(case when earliest_rank = 1 then followers end) as opening_followers
    from follower_snapshots
    group by page_id, month_start

),

page_growth as (

    select
        page_id,
        month_start,
        closing_followers - coalesce(
            lag(closing_followers) over (partition by page_id order by month_start),
            opening_followers
        ) as new_followers
    from page_months

),

follower_growth as (

    select month_start, cast(sum(new_followers) as {{ dbt.type_bigint() }}) as new_page_followers
    from page_growth
    group by month_start

),

content_interactions as (

    select
        cast({{ dbt.date_trunc('month', 'posted_at') }} as date) as month_start,
        content_id,
        cast(sum(interactions) as {{ dbt.type_bigint() }}) as interactions
    from shares
    where content_id is not null
    group by 1, 2

),

interactions as (

    select
        month_start,
        count(*) as content_items_shared,
        avg(cast(interactions as {{ reachloop.type_double() }})) as mean_interactions_per_content_item
    from content_interactions
    group by month_start

),

posting as (

    select
        cast({{ dbt.date_trunc('month', 'posted_at') }} as date) as month_start,
        cast(sum(case when author_type = 'employee' then 1 else 0 end) as {{ dbt.type_bigint() }}) as employee_shares,
        cast(sum(case when author_type = 'page' then 1 else 0 end) as {{ dbt.type_bigint() }}) as page_shares,
        count(distinct case when author_type = 'employee' then author_id end) as active_sharers
    from shares
    group by 1

),

months as (

    select month_start from visits
    union
    select month_start from follower_growth
    union
    select month_start from posting

),

kpis as (

    select
        months.month_start,
        coalesce(posting.employee_shares, 0) as employee_shares,
        coalesce(posting.page_shares, 0) as page_shares,
        coalesce(posting.active_sharers, 0) as active_sharers,
        coalesce(visits.social_sourced_site_visits, 0) as social_sourced_site_visits,
        coalesce(visits.social_sourced_visitors, 0) as social_sourced_visitors,
        follower_growth.new_page_followers,
        coalesce(interactions.content_items_shared, 0) as content_items_shared,
        interactions.mean_interactions_per_content_item
    from months
    left join posting on months.month_start = posting.month_start
    left join visits on months.month_start = visits.month_start
    left join follower_growth on months.month_start = follower_growth.month_start
    left join interactions on months.month_start = interactions.month_start

)

select * from kpis
