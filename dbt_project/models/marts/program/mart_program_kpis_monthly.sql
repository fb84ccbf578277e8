-- Grain: calendar month (UTC). Is the program working?
--   social_sourced_site_visits: clicks arriving through a share's tracking token (bots
--     included: bot flagging belongs to attribution and is not applied here);
--   new_page_followers: growth of the page followers over the month (latest snapshot in the
--     month − latest snapshot before it, or the month's first snapshot for the first month);
--   mean_interactions_per_content_item: interactions of the month's shares of content items,
--     summed per item, averaged over the items shared that month.
-- Incremental on the log position: a run recomputes the months whose figures may have changed
-- since its watermark, a superset of those that did:
--   * posting, content items and their interactions read the month's fct_shares rows: the
--     posting months of the shares fct_shares recomputed since (the share, its metrics or its
--     tracked clicks changed) and every month a version of a changed share had (one moved to
--     another month leaves its old month) — macros/touched_shares.sql, share_months_touched;
--   * visits count a month's clicks on any share's token: the months of every version of a
--     changed click (its time or token moved), and the months of the clicks on every token a
--     version of a changed share had (a new share makes older clicks on its token count, a
--     share that left a token takes them away);
--   * follower growth reads a page's latest snapshot of the month and of its previous month
--     with snapshots: the month of each changed snapshot (a snapshot's key holds its page and
--     time, so every version names the same month) and that page's next month with snapshots.
-- Nothing else is read. A month left without shares, visits or snapshots gets a marker row
-- (no shares, no visits, no follower figure) that the post-hook deletes.
-- depends_on: {{ ref('stg_event_log__shares') }} (read only by incremental runs)

{{
    config(
        materialized='incremental',
        unique_key='month_start',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook="delete from {{ this }} where employee_shares + page_shares = 0 and social_sourced_site_visits = 0 and new_page_followers is null",
    )
}}

with

follower_snapshots as (

    select
        page_id,
        cast({{ dbt.date_trunc('month', 'observed_at') }} as date) as month_start,
        followers,
        log_position,
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
        max(case when earliest_rank = 1 then followers end) as opening_followers,
        max(log_position) as log_position
    from follower_snapshots
    group by page_id, month_start

),

page_growth as (

    -- Every page's months, whole: the follower log is a few snapshots a page and month, and a
    -- month's growth reads the page's previous month with snapshots.
    select
        page_id,
        month_start,
        closing_followers - coalesce(
            lag(closing_followers) over (partition by page_id order by month_start),
            opening_followers
        ) as new_followers,
        log_position,
        lead(month_start) over (partition by page_id order by month_start) as next_month_start
    from page_months

),

{% if is_incremental() -%}
touched_months as (

    select month_start from ({{ reachloop.share_months_touched() }}) as share_groups
    union
    select cast({{ dbt.date_trunc('month', 'click_versions.occurred_at') }} as date)
    from {{ source('event_log', 'click') }} as click_versions
    where click_versions.event_key in ({{ reachloop.changed_events('stg_event_log__clicks') }})
    union
    select cast({{ dbt.date_trunc('month', 'clicks.occurred_at') }} as date)
    from {{ ref('stg_event_log__clicks') }} as clicks
    where clicks.tracking_token in ({{ reachloop.tokens_of_changed_shares() }})
    union
    select month_start from page_growth
    where log_position > {{ reachloop.incremental_watermark() }}
    union
    select next_month_start from page_growth
    where log_position > {{ reachloop.incremental_watermark() }} and next_month_start is not null

),

{% endif -%}
shares as (

    select * from {{ ref('fct_shares') }}
    {%- if is_incremental() %}
    -- The range first (as mart_engagement_daily): a plain comparison on the timestamp drops
    -- the other months' rows before any of them is truncated to its month and probed.
    where posted_at >= (select cast(min(month_start) as {{ reachloop.type_timestamptz() }}) from touched_months)
        and posted_at < (
            select cast({{ dbt.dateadd('month', 1, 'max(month_start)') }} as {{ reachloop.type_timestamptz() }})
            from touched_months
        )
        and cast({{ dbt.date_trunc('month', 'posted_at') }} as date) in (select month_start from touched_months)
    {%- endif %}

),

visits as (

    select
        cast({{ dbt.date_trunc('month', 'clicks.occurred_at') }} as date) as month_start,
        count(*) as social_sourced_site_visits,
        count(distinct clicks.visitor_id) as social_sourced_visitors
    from {{ ref('stg_event_log__clicks') }} as clicks
    -- Every share's token (a month's clicks land on shares of any month).
    inner join {{ ref('fct_shares') }} as shares on clicks.tracking_token = shares.tracking_token
    {%- if is_incremental() %}
    where clicks.occurred_at >= (select cast(min(month_start) as {{ reachloop.type_timestamptz() }}) from touched_months)
        and clicks.occurred_at < (
            select cast({{ dbt.dateadd('month', 1, 'max(month_start)') }} as {{ reachloop.type_timestamptz() }})
            from touched_months
        )
        and cast({{ dbt.date_trunc('month', 'clicks.occurred_at') }} as date) in (select month_start from touched_months)
    {%- endif %}
    group by 1

),

follower_growth as (

    select month_start, cast(sum(new_followers) as {{ dbt.type_bigint() }}) as new_page_followers
    from page_growth
    {%- if is_incremental() %}
    where month_start in (select month_start from touched_months)
    {%- endif %}
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
        -- a mean of integers (a double, summed exactly whatever the order)
        avg(interactions) as mean_interactions_per_content_item
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
        interactions.mean_interactions_per_content_item,
        {{ reachloop.log_position() }} as log_position_through
    from months
    left join posting on months.month_start = posting.month_start
    left join visits on months.month_start = visits.month_start
    left join follower_growth on months.month_start = follower_growth.month_start
    left join interactions on months.month_start = interactions.month_start
    {%- if is_incremental() %}

    union all

    -- A month left without shares, visits and snapshots: a marker that replaces its row
    -- (post-hook).
    select month_start, 0, 0, 0, 0, 0, null, 0, null, {{ reachloop.log_position() }}
    from touched_months
    where month_start not in (select month_start from months)
    {%- endif %}

)

select * from kpis
