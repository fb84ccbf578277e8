-- Grain: share (employee and page posts). Every per-share metric of the marts is defined
-- here, once: reach, network size, reach ratio, engagement rate and click-through rate, all
-- from the share's latest metrics snapshot as of the build. Clicks are the snapshot's where it
-- counts them ('platform'); a member's own post analytics count none, and there the share's
-- human clicks on its tracking token up to the snapshot stand in ('tracked', clicks_basis),
-- so that the rates do not go null for want of a figure we observe ourselves.
-- Incremental on the log position: a run recomputes the shares whose row in an input was
-- recomputed past the watermark — network size (int_share_network_sizes: the share itself
-- changed, or a snapshot before it landed), latest metrics (int_share_metrics_latest) — and
-- those whose tracked clicks may have changed: the share of a recomputed click
-- (int_clicks_classified), and the shares of every token a changed click or share had.
-- depends_on: {{ ref('stg_event_log__clicks') }} (read only by incremental runs)

{{
    config(
        materialized='incremental',
        unique_key='share_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}

with

{% if is_incremental() -%}
touched_shares as (

    select share_id from {{ ref('int_share_network_sizes') }}
    where log_position_through > {{ reachloop.incremental_watermark() }}
    union
    select share_id from {{ ref('int_share_metrics_latest') }}
    where log_position_through > {{ reachloop.incremental_watermark() }}
    union
    select share_id from {{ ref('int_clicks_classified') }}
    where log_position_through > {{ reachloop.incremental_watermark() }}
        and share_id is not null
    union
    select shares.share_id
    from {{ ref('stg_event_log__shares') }} as shares
    inner join {{ source('event_log', 'click') }} as click_versions
        on click_versions.tracking_token = shares.tracking_token
    where click_versions.event_key in ({{ reachloop.changed_events('stg_event_log__clicks') }})
    union
    -- A changed share can take a token over from the share that owned it (the first posted).
    select shares.share_id
    from {{ ref('stg_event_log__shares') }} as shares
    inner join {{ source('event_log', 'share') }} as share_versions
        on share_versions.tracking_token = shares.tracking_token
    where share_versions.event_key in ({{ reachloop.changed_events('stg_event_log__shares') }})

),

{% endif -%}
shares as (

    select * from {{ ref('stg_event_log__shares') }}
    {%- if is_incremental() %}
    where share_id in (select share_id from touched_shares)
    {%- endif %}

),

metrics as (

    select * from {{ ref('int_share_metrics_latest') }}
    {%- if is_incremental() %}
    where share_id in (select share_id from touched_shares)
    {%- endif %}

),

network_sizes as (

    select * from {{ ref('int_share_network_sizes') }}
    {%- if is_incremental() %}
    where share_id in (select share_id from touched_shares)
    {%- endif %}

),

-- Human clicks on the token of each share whose latest snapshot counts no clicks, up to that
-- snapshot: the numerator then covers the same time as its impressions. Bots never count.
tracked_clicks as (

    select
        metrics.share_id,
        count(*) as tracked_clicks
    from metrics
    inner join {{ ref('int_clicks_classified') }} as clicks
        on metrics.share_id = clicks.share_id
        and clicks.clicked_at <= metrics.metrics_observed_at
    where metrics.clicks is null
        and not clicks.is_bot
    group by metrics.share_id

),

joined as (

    select
        shares.share_id,
        shares.author_type,
        shares.author_id,
        shares.network,
        shares.content_id,
        shares.tracking_token,
        shares.posted_at,
        network_sizes.network_size,
        network_sizes.network_size_observed_at,
        network_sizes.network_size_basis,
        metrics.metrics_observed_at,
        metrics.impressions,
        metrics.unique_impressions,
        metrics.reactions,
        metrics.comments,
        metrics.reshares,
        case
            when metrics.clicks is not null then metrics.clicks
            when metrics.share_id is not null then coalesce(tracked_clicks.tracked_clicks, 0)
        end as clicks,
        case
            when metrics.clicks is not null then 'platform'
            when metrics.share_id is not null then 'tracked'
        end as clicks_basis,
        metrics.saves,
        metrics.sends,
        {{ reachloop.log_ingested_through() }} as ingested_through,
        {{ reachloop.log_position() }} as log_position_through
    from shares
    left join metrics on shares.share_id = metrics.share_id
    left join network_sizes on shares.share_id = network_sizes.share_id
    left join tracked_clicks on shares.share_id = tracked_clicks.share_id

),

reach as (

    select
        *,
        -- Members reached: unique impressions where the network reports them, else impressions
        -- (an upper bound: one member can see a post twice), flagged by reach_basis.
        coalesce(unique_impressions, impressions) as members_reached,
        case
            when unique_impressions is not null then 'unique_impressions'
            when impressions is not null then 'impressions'
        end as reach_basis,
        clicks + reactions + comments + reshares as interactions
    from joined

),

rates as (

    select
        *,
        {{ reachloop.safe_divide('members_reached', 'network_size') }} as reach_ratio,
        {{ reachloop.safe_divide('interactions', 'impressions') }} as engagement_rate,
        {{ reachloop.safe_divide('clicks', 'impressions') }} as ctr
    from reach

)

select * from rates
