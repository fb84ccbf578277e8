-- Grain: share, lifetime as of the build. LinkedIn's engagement rate and click-through rate
-- from the latest metrics snapshot (definitions in fct_shares and _marts__docs.md); clicks
-- are the share's tracked clicks where the snapshot counts none (clicks_basis).
-- Incremental on the log position: a run recomputes the shares fct_shares recomputed since
-- (macros/touched_shares.sql); a row is its share's fct_shares row, nothing else.

{{
    config(
        materialized='incremental',
        unique_key='share_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}

select
    share_id,
    author_type,
    author_id,
    network,
    posted_at,
    metrics_observed_at,
    impressions,
    clicks,
    reactions,
    comments,
    reshares,
    interactions,
    engagement_rate,
    ctr,
    clicks_basis,
    saves,
    sends,
    {{ reachloop.log_position() }} as log_position_through
from {{ ref('fct_shares') }}
{%- if is_incremental() %}
where share_id in ({{ reachloop.shares_recomputed() }})
{%- endif %}
