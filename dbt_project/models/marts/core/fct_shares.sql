-- Grain: share (employee and page posts). Every per-share metric of the marts is defined
-- here, once: reach, network size, reach ratio, engagement rate and click-through rate, all
-- from the share's latest metrics snapshot as of the build.

with

shares as (

    select * from {{ ref('stg_event_log__shares') }}

),

metrics as (

    select * from {{ ref('int_share_metrics_latest') }}

),

network_sizes as (

    select * from {{ ref('int_share_network_sizes') }}

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
        metrics.metrics_observed_at,
        metrics.impressions,
        metrics.unique_impressions,
        metrics.reactions,
        metrics.comments,
        metrics.reshares,
        metrics.clicks
    from shares
    left join metrics on shares.share_id = metrics.share_id
    left join network_sizes on shares.share_id = network_sizes.share_id

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
