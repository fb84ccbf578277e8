-- Grain: share. The latest cumulative metrics snapshot of each share in the log as of the
-- build. Counts can go down between snapshots (LinkedIn removes sponsored likes): the latest
-- snapshot wins, whatever its counts. Every figure comes from that one snapshot, null where it
-- has none (a member's own post analytics count no clicks; only some sources count saves).
-- Incremental: a run recomputes only shares with a snapshot landed past the watermark (a log position).

{{
    config(
        materialized='incremental',
        unique_key='share_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}

with

snapshots as (

    select * from {{ ref('stg_event_log__share_metrics') }}
    {% if is_incremental() %}
    -- Candidates: a share with a snapshot version landed past the watermark (a log position).
    where share_id in (
        select share_id from {{ ref('stg_event_log__share_metrics') }}
        where log_position > {{ reachloop.incremental_watermark() }}
    )
    {% endif %}

),

ranked as (

    select
        *,
        row_number() over (
            partition by share_id order by observed_at desc, log_position desc
        ) as snapshot_rank,
        count(*) over (partition by share_id) as snapshots,
        max(ingested_at) over (partition by share_id) as last_ingested_at
    from snapshots

),

latest as (

    select
        share_id,
        observed_at as metrics_observed_at,
        impressions,
        unique_impressions,
        reactions,
        comments,
        reshares,
        clicks,
        saves,
        sends,
        potential_reach,
        snapshots,
        last_ingested_at,
        {{ reachloop.log_ingested_through() }} as ingested_through,
        {{ reachloop.log_position() }} as log_position_through
    from ranked
    where snapshot_rank = 1

)

select * from latest
