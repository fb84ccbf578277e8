-- Grain: calendar month (UTC, of posting) × network. The advocacy marts read per network,
-- beside mart_reach_by_period and mart_program_kpis_monthly (whose grain stays the month):
-- reach (potential reach, members reached, median reach ratio of employee shares),
-- engagement (interactions ÷ impressions), the bubble (colleagues' share of engagements with
-- the month's shares), cadence (median hours between an employee's posts, on any network,
-- for posts on this one) and the KPIs (active sharers, social-sourced site visits through
-- the month's shares of the network). Value per network: mart_attribution_rollups, dimension
-- 'network'.
-- Incremental on the log position: a run recomputes the month × network groups whose figures
-- may have changed since its watermark, a superset of those that did. Every figure of a group
-- reads the group's shares and what hangs on them, so a group changes only when
--   * a share of it changed or left it: the current group of every share fct_shares
--     recomputed since (the share, its network size, metrics or tracked clicks; fct_shares
--     also recomputes every share of a token a changed click had, which is what moves the
--     visits) and every group a version of a changed share had — macros/touched_shares.sql,
--     share_months_touched;
--   * an engagement with one of its shares changed: the groups of the shares of the
--     engagements fct_engagements recomputed since (new, or their actor's colleague status
--     moved), and of every share a version of a changed engagement named;
--   * the cadence of one of its shares changed: the groups of the mart_posting_cadence rows
--     recomputed since — that model recomputes the author's posts of a changed share's day and
--     the post after it, which can fall in a later month or on another network (a share that
--     left an employee's timeline is a changed share, whose versions name its old group).
-- A group left without shares gets a marker row (no shares) that the post-hook deletes.
-- depends_on: {{ ref('stg_event_log__shares') }}, {{ ref('stg_event_log__engagements') }} (read only by incremental runs)

{{
    config(
        materialized='incremental',
        unique_key=['month_start', 'network'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook="delete from {{ this }} where employee_shares + page_shares = 0",
    )
}}

with

{% if is_incremental() -%}
touched_groups as (

    {{ reachloop.share_months_touched() }}
    union
    select cast({{ dbt.date_trunc('month', 'shares.posted_at') }} as date),
        cast(shares.network as {{ dbt.type_string() }})
    from {{ ref('fct_shares') }} as shares
    where shares.share_id in (
        select share_id from {{ ref('fct_engagements') }}
        where log_position_through > {{ reachloop.incremental_watermark() }}
        union
        select engagement_versions.share_id
        from {{ source('event_log', 'engagement') }} as engagement_versions
        where engagement_versions.event_key in ({{ reachloop.changed_events('stg_event_log__engagements') }})
    )
    union
    select cast({{ dbt.date_trunc('month', 'cadence.posted_at') }} as date),
        cast(cadence.network as {{ dbt.type_string() }})
    from {{ ref('mart_posting_cadence') }} as cadence
    where cadence.log_position_through > {{ reachloop.incremental_watermark() }}

),

touched_range as (

    select
        cast(min(month_start) as {{ reachloop.type_timestamptz() }}) as posted_from,
        cast({{ dbt.dateadd('month', 1, 'max(month_start)') }} as {{ reachloop.type_timestamptz() }}) as posted_before
    from touched_groups

),

{% endif -%}
shares as (

    select
        fct_shares.*,
        cast({{ dbt.date_trunc('month', 'fct_shares.posted_at') }} as date) as month_start
    from {{ ref('fct_shares') }} as fct_shares
    {%- if is_incremental() %}
    -- The range first (as mart_engagement_daily): a plain comparison on posted_at drops the
    -- other months' rows before any of them is truncated to its month and probed.
    where fct_shares.posted_at >= (select posted_from from touched_range)
        and fct_shares.posted_at < (select posted_before from touched_range)
        and exists (
            select 1 from touched_groups
            where touched_groups.month_start = cast({{ dbt.date_trunc('month', 'fct_shares.posted_at') }} as date)
                and touched_groups.network = fct_shares.network
        )
    {%- endif %}

),

posting as (

    select
        month_start,
        network,
        cast(sum(case when author_type = 'employee' then 1 else 0 end) as {{ dbt.type_bigint() }}) as employee_shares,
        cast(sum(case when author_type = 'page' then 1 else 0 end) as {{ dbt.type_bigint() }}) as page_shares,
        count(distinct case when author_type = 'employee' then author_id end) as active_sharers,
        cast(sum(case when author_type = 'employee' then network_size end) as {{ dbt.type_bigint() }}) as potential_reach,
        cast(sum(case when author_type = 'employee' then members_reached end) as {{ dbt.type_bigint() }}) as employee_members_reached,
        {{ reachloop.median("case when author_type = 'employee' then reach_ratio end") }}
            as median_employee_reach_ratio,
        cast(sum(impressions) as {{ dbt.type_bigint() }}) as impressions,
        cast(sum(interactions) as {{ dbt.type_bigint() }}) as interactions,
        {{ reachloop.safe_divide('sum(interactions)', 'sum(impressions)') }} as engagement_rate
    from shares
    group by month_start, network

),

bubble as (

    select
        shares.month_start,
        shares.network,
        count(*) as engagements,
        cast(sum(case when engagements.is_known_actor then 1 else 0 end) as {{ dbt.type_bigint() }}) as engagements_known_actor,
        cast(sum(case when engagements.is_colleague_actor then 1 else 0 end) as {{ dbt.type_bigint() }}) as colleague_engagements
    from {{ ref('fct_engagements') }} as engagements
    inner join shares on engagements.share_id = shares.share_id
    group by shares.month_start, shares.network

),

cadence as (

    select
        cast({{ dbt.date_trunc('month', 'posted_at') }} as date) as month_start,
        network,
        {{ reachloop.median('hours_since_previous_post') }} as median_hours_since_previous_post
    from {{ ref('mart_posting_cadence') }} as cadence
    {%- if is_incremental() %}
    where cadence.posted_at >= (select posted_from from touched_range)
        and cadence.posted_at < (select posted_before from touched_range)
        and exists (
            select 1 from touched_groups
            where touched_groups.month_start = cast({{ dbt.date_trunc('month', 'cadence.posted_at') }} as date)
                and touched_groups.network = cadence.network
        )
    {%- endif %}
    group by 1, 2

),

visits as (

    select
        shares.month_start,
        shares.network,
        count(*) as social_sourced_site_visits
    from {{ ref('stg_event_log__clicks') }} as clicks
    inner join shares on clicks.tracking_token = shares.tracking_token
    group by shares.month_start, shares.network

),

final as (

    select
        posting.month_start,
        cast(posting.network as {{ dbt.type_string() }}) as network,
        posting.employee_shares,
        posting.page_shares,
        posting.active_sharers,
        posting.potential_reach,
        posting.employee_members_reached,
        posting.median_employee_reach_ratio,
        posting.impressions,
        posting.interactions,
        posting.engagement_rate,
        coalesce(bubble.engagements, 0) as engagements,
        coalesce(bubble.colleague_engagements, 0) as colleague_engagements,
        {{ reachloop.safe_divide('bubble.colleague_engagements', 'bubble.engagements_known_actor') }}
            as colleague_engagement_share,
        cadence.median_hours_since_previous_post,
        coalesce(visits.social_sourced_site_visits, 0) as social_sourced_site_visits,
        {{ reachloop.log_position() }} as log_position_through
    from posting
    left join bubble on posting.month_start = bubble.month_start and posting.network = bubble.network
    left join cadence on posting.month_start = cadence.month_start and posting.network = cadence.network
    left join visits on posting.month_start = visits.month_start and posting.network = visits.network
    {%- if is_incremental() %}

    union all

    -- A group left without shares: a marker that replaces its row (post-hook).
    select month_start, network, 0, 0, 0, null, null, null, null, null, null, 0, 0, null, null, 0,
        {{ reachloop.log_position() }}
    from touched_groups
    where not exists (
        select 1 from posting
        where posting.month_start = touched_groups.month_start and posting.network = touched_groups.network
    )
    {%- endif %}

)

select * from final
