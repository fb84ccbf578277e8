-- Grain: share. How many members a post reached against the size of the network it was posted
-- to (definitions in fct_shares and _marts__docs.md).
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
    content_id,
    posted_at,
    members_reached,
    reach_basis,
    network_size,
    network_size_observed_at,
    reach_ratio,
    network_size_basis,
    {{ reachloop.log_position() }} as log_position_through
from {{ ref('fct_shares') }}
{%- if is_incremental() %}
where share_id in ({{ reachloop.shares_recomputed() }})
{%- endif %}
