-- Grain: employee share posted at or after the employee's first profile snapshot. Each share
-- with the profile as of its posting: the author's latest profile_snapshot at or before it.
-- Incremental on the log position: a run recomputes the shares fct_shares recomputed since
-- (macros/touched_shares.sql) and the employee's shares posted at or after a profile snapshot
-- landed past the watermark (every version of it: one that moved leaves its old place) —
-- a later snapshot never counts for a share. A share left without a row (moved before the
-- author's first snapshot, or to a page) gets a marker row that the post-hook deletes.

{{
    config(
        materialized='incremental',
        unique_key='share_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook="delete from {{ this }} where profile_observed_at is null",
    )
}}

with

{% if is_incremental() -%}
changed_snapshots as (

    select snapshot_versions.employee_id, min(snapshot_versions.observed_at) as observed_from
    from {{ source('event_log', 'profile_snapshot') }} as snapshot_versions
    where snapshot_versions.event_key in ({{ reachloop.changed_events('stg_event_log__profile_snapshots') }})
    group by snapshot_versions.employee_id

),

touched_shares as (

    {{ reachloop.shares_recomputed() }}
    union
    select shares.share_id
    from {{ ref('fct_shares') }} as shares
    inner join changed_snapshots
        on shares.author_id = changed_snapshots.employee_id
        and shares.posted_at >= changed_snapshots.observed_from
    where shares.author_type = 'employee'

),

{% endif -%}
shares as (

    select share_id, author_id as employee_id, network, posted_at, members_reached, reach_ratio,
        interactions, engagement_rate
    from {{ ref('fct_shares') }}
    where author_type = 'employee'
    {%- if is_incremental() %}
        and share_id in (select share_id from touched_shares)
    {%- endif %}

),

snapshots as (

    select employee_id, observed_at
    from {{ ref('stg_event_log__profile_snapshots') }}

),

matched as (

    select
        shares.*,
        snapshots.observed_at as profile_observed_at,
        row_number() over (
            partition by shares.share_id order by snapshots.observed_at desc
        ) as snapshot_rank
    from shares
    inner join snapshots
        on shares.employee_id = snapshots.employee_id
        and snapshots.observed_at <= shares.posted_at

),

profiles as (

    select
        share_id,
        employee_id,
        network,
        posted_at,
        profile_observed_at,
        members_reached,
        reach_ratio,
        interactions,
        engagement_rate,
        {{ reachloop.log_position() }} as log_position_through
    from matched
    where snapshot_rank = 1

)

select * from profiles
{%- if is_incremental() %}

union all

-- A touched share left without a profile: a marker that replaces its row (post-hook).
select share_id, null, null, null, null, null, null, null, null, {{ reachloop.log_position() }}
from touched_shares
where share_id not in (select share_id from profiles)
{%- endif %}
