-- Grain: day (UTC) on which engagements occurred. Daily engagement trend and the share of it
-- that stays inside the company bubble.
-- Incremental on the log position: a run recomputes the days of the engagements fct_engagements
-- recomputed in this run, and the days every version of a changed engagement had (one moved
-- to another day leaves its old day); a day left without engagements gets a marker row
-- (engagements = 0) that the post-hook deletes.
-- depends_on: {{ ref('stg_event_log__engagements') }} (read only by incremental runs)

{{
    config(
        materialized='incremental',
        unique_key='engagement_date',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook="delete from {{ this }} where engagements = 0",
    )
}}

with

{% if is_incremental() -%}
touched_days as (

    select cast({{ dbt.date_trunc('day', 'occurred_at') }} as date) as engagement_date
    from {{ ref('fct_engagements') }}
    where log_position_through > {{ reachloop.incremental_watermark() }}
    union
    select cast({{ dbt.date_trunc('day', 'occurred_at') }} as date)
    from {{ source('event_log', 'engagement') }}
    where event_key in ({{ reachloop.changed_events('stg_event_log__engagements') }})

),

{% endif -%}
daily as (

    select
        cast({{ dbt.date_trunc('day', 'occurred_at') }} as date) as engagement_date,
        count(*) as engagements,
        cast(sum(case when engagement_type = 'reaction' then 1 else 0 end) as {{ dbt.type_bigint() }}) as reactions,
        cast(sum(case when engagement_type = 'comment' then 1 else 0 end) as {{ dbt.type_bigint() }}) as comments,
        cast(sum(case when engagement_type = 'reshare' then 1 else 0 end) as {{ dbt.type_bigint() }}) as reshares,
        count(distinct share_id) as shares_engaged,
        cast(sum(case when is_known_actor then 1 else 0 end) as {{ dbt.type_bigint() }}) as engagements_known_actor,
        cast(sum(case when is_colleague_actor then 1 else 0 end) as {{ dbt.type_bigint() }}) as colleague_engagements
    from {{ ref('fct_engagements') }}
    {%- if is_incremental() %}
    -- The range first: a plain comparison on occurred_at drops the other days' rows before
    -- any of them is truncated to its day and probed.
    where occurred_at >= (select cast(min(engagement_date) as {{ reachloop.type_timestamptz() }}) from touched_days)
        and occurred_at < (
            select cast({{ dbt.dateadd('day', 1, 'max(engagement_date)') }} as {{ reachloop.type_timestamptz() }})
            from touched_days
        )
        and cast({{ dbt.date_trunc('day', 'occurred_at') }} as date) in (select engagement_date from touched_days)
    {%- endif %}
    group by 1

),

final as (

    select
        *,
        {{ reachloop.safe_divide('colleague_engagements', 'engagements_known_actor') }}
            as colleague_engagement_share,
        {{ reachloop.log_position() }} as log_position_through
    from daily
    {%- if is_incremental() %}

    union all

    -- A day left without engagements: a marker that replaces its row (post-hook).
    select engagement_date, 0, 0, 0, 0, 0, 0, 0, null, {{ reachloop.log_position() }}
    from touched_days
    where engagement_date not in (select engagement_date from daily)
    {%- endif %}

)

select * from final
