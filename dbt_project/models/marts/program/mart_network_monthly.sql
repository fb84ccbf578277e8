-- Grain: calendar month (UTC, of posting) × network. The advocacy marts read per network,
-- beside mart_reach_by_period and mart_program_kpis_monthly (whose grain stays the month):
-- reach (potential reach, members reached, median reach ratio of employee shares),
-- engagement (interactions ÷ impressions), the bubble (colleagues' share of engagements with
-- the month's shares), cadence (median hours between an employee's posts, on any network,
-- for posts on this one) and the KPIs (active sharers, social-sourced site visits through
-- the month's shares of the network). Value per network: mart_attribution_rollups, dimension
-- 'network'.

with

shares as (

    select
        *,
        cast({{ dbt.date_trunc('month', 'posted_at') }} as date) as month_start
    from {{ ref('fct_shares') }}

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
    from {{ ref('mart_posting_cadence') }}
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
        coalesce(visits.social_sourced_site_visits, 0) as social_sourced_site_visits
    from posting
    left join bubble on posting.month_start = bubble.month_start and posting.network = bubble.network
    left join cadence on posting.month_start = cadence.month_start and posting.network = cadence.network
    left join visits on posting.month_start = visits.month_start and posting.network = visits.network

)

select * from final
