-- Grain: one click on a tracked link (click_id); bots are flagged downstream, never dropped here.
-- The latest version of each event from accepted batches, as of the build (event_log_events).
-- Incremental on the log position: a run reads only batches past the newest position it holds.
{{
    config(
        materialized='incremental',
        unique_key='event_key',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}

with

source as (

    {{ reachloop.event_log_events('click', valid_time='occurred_at') }}

),

renamed as (

    select
        ---------- ids
        cast(click_id as {{ dbt.type_string() }}) as click_id,
        cast(tracking_token as {{ dbt.type_string() }}) as tracking_token,
        cast(visitor_id as {{ dbt.type_string() }}) as visitor_id,

        ---------- strings
        cast(user_agent as {{ dbt.type_string() }}) as user_agent,
        cast(landing_url as {{ dbt.type_string() }}) as landing_url,
        cast(utm_source as {{ dbt.type_string() }}) as utm_source,
        cast(utm_medium as {{ dbt.type_string() }}) as utm_medium,
        cast(utm_campaign as {{ dbt.type_string() }}) as utm_campaign,
        cast(utm_content as {{ dbt.type_string() }}) as utm_content,

        ---------- timestamps
        cast(occurred_at as {{ reachloop.type_timestamptz() }}) as occurred_at,

        ---------- bookkeeping
        cast(event_key as {{ dbt.type_string() }}) as event_key,
        cast(batch_id as {{ dbt.type_string() }}) as batch_id,
        cast(source_line as {{ dbt.type_bigint() }}) as source_line,
        cast(log_position as {{ dbt.type_bigint() }}) as log_position,
        cast(ingested_at as {{ reachloop.type_timestamptz() }}) as ingested_at,
        cast(extra as {{ dbt.type_string() }}) as extra

    from source

)

{{ reachloop.keep_current_versions('renamed', valid_time='occurred_at') }}
