-- Grain: share. The audience a share was posted to: for an employee, their latest `employee`
-- snapshot on the share's network at or before posted_at; for the company page, its latest
-- `page_followers` snapshot at or before posted_at. A snapshot taken after posting is never
-- used: it would credit the post with connections made later. A counted size wins over a
-- reconstructed one (a lower bound worked out from a later export), however recent the latter:
-- reconstructed sizes only fill the history before a member's first counted snapshot.
-- Incremental on the log position: a run recomputes the shares landed past the watermark and
-- the shares posted at or after a snapshot landed past it (of their author on their network,
-- or of their page): only snapshots at or before posting count, so no other share can change.

{{
    config(
        materialized='incremental',
        unique_key='share_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}

with

shares as (

    select share_id, author_type, author_id, network, posted_at
    from {{ ref('stg_event_log__shares') }} as shares
    {%- if is_incremental() %}
    where shares.log_position > {{ reachloop.incremental_watermark() }}
        or exists (
            select 1 from {{ ref('stg_event_log__employees') }} as snapshots
            where snapshots.log_position > {{ reachloop.incremental_watermark() }}
                and shares.author_type = 'employee'
                and snapshots.employee_id = shares.author_id
                and snapshots.network = shares.network
                and snapshots.observed_at <= shares.posted_at
        )
        or exists (
            select 1 from {{ ref('stg_event_log__page_followers') }} as snapshots
            where snapshots.log_position > {{ reachloop.incremental_watermark() }}
                and shares.author_type = 'page'
                and snapshots.page_id = shares.author_id
                and snapshots.observed_at <= shares.posted_at
        )
    {%- endif %}

),

employee_snapshots as (

    select
        shares.share_id,
        snapshots.network_size,
        snapshots.network_size_basis,
        snapshots.observed_at
    from shares
    inner join {{ ref('stg_event_log__employees') }} as snapshots
        on shares.author_type = 'employee'
        and snapshots.employee_id = shares.author_id
        and snapshots.network = shares.network
        and snapshots.observed_at <= shares.posted_at
        -- a roster snapshot carries no network size: it neither sets nor hides one
        and snapshots.network_size is not null

),

page_snapshots as (

    select
        shares.share_id,
        snapshots.followers as network_size,
        'counted' as network_size_basis,
        snapshots.observed_at
    from shares
    inner join {{ ref('stg_event_log__page_followers') }} as snapshots
        on shares.author_type = 'page'
        and snapshots.page_id = shares.author_id
        and snapshots.observed_at <= shares.posted_at

),

ranked as (

    select
        *,
        row_number() over (
            partition by share_id
            order by case when network_size_basis = 'reconstructed' then 1 else 0 end, observed_at desc
        ) as snapshot_rank
    from (
        select * from employee_snapshots
        union all
        select * from page_snapshots
    ) as snapshots

),

sized as (

    select
        shares.share_id,
        ranked.network_size,
        ranked.observed_at as network_size_observed_at,
        ranked.network_size_basis,
        {{ reachloop.log_ingested_through() }} as ingested_through,
        {{ reachloop.log_position() }} as log_position_through
    from shares
    left join ranked
        on shares.share_id = ranked.share_id
        and ranked.snapshot_rank = 1

)

select * from sized
