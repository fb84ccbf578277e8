-- Grain: share. How much of a post's engagement comes from colleagues (the company bubble)
-- rather than from outside the company.
-- Incremental on the log position: a run recomputes the shares landed past the watermark,
-- the shares of the engagements fct_engagements recomputed (new, or their actor's colleague
-- status changed) and every share a version of a changed engagement named (one moved to
-- another share leaves its old share). A row reads its share (not its metrics: a metrics
-- snapshot leaves the row as it is) and that share's engagements only.
-- depends_on: {{ ref('stg_event_log__engagements') }}, {{ ref('stg_event_log__shares') }} (read only by incremental runs)

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

    select share_id from {{ ref('stg_event_log__shares') }}
    where log_position > {{ reachloop.incremental_watermark() }}
    union
    select share_id from {{ ref('fct_engagements') }}
    where log_position_through > {{ reachloop.incremental_watermark() }}
    union
    select share_id from {{ source('event_log', 'engagement') }}
    where event_key in ({{ reachloop.changed_events('stg_event_log__engagements') }})

),

{% endif -%}
shares as (

    select share_id, author_type, author_id, posted_at, network
    from {{ ref('fct_shares') }}
    {%- if is_incremental() %}
    where share_id in (select share_id from touched_shares)
    {%- endif %}

),

engagement_counts as (

    select
        share_id,
        count(*) as engagements,
        cast(sum(case when is_known_actor then 1 else 0 end) as {{ dbt.type_bigint() }}) as engagements_known_actor,
        cast(sum(case when is_colleague_actor then 1 else 0 end) as {{ dbt.type_bigint() }}) as colleague_engagements
    from {{ ref('fct_engagements') }}
    {%- if is_incremental() %}
    where share_id in (select share_id from touched_shares)
    {%- endif %}
    group by share_id

),

bubble as (

    select
        shares.share_id,
        shares.author_type,
        shares.author_id,
        shares.posted_at,
        coalesce(engagement_counts.engagements, 0) as engagements,
        coalesce(engagement_counts.engagements_known_actor, 0) as engagements_known_actor,
        coalesce(engagement_counts.colleague_engagements, 0) as colleague_engagements,
        {{ reachloop.safe_divide(
            'engagement_counts.colleague_engagements', 'engagement_counts.engagements_known_actor'
        ) }} as colleague_engagement_share,
        shares.network,
        {{ reachloop.log_position() }} as log_position_through
    from shares
    left join engagement_counts on shares.share_id = engagement_counts.share_id

)

select * from bubble
