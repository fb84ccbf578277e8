-- Grain: one reaction, comment or reshare (engagement_id).
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

    {{ reachloop.event_log_events('engagement', valid_time='occurred_at') }}

),

renamed as (

    select
        ---------- ids
        cast(engagement_id as {{ dbt.type_string() }}) as engagement_id,
        cast(share_id as {{ dbt.type_string() }}) as share_id,
        cast(actor_id as {{ dbt.type_string() }}) as actor_id,

        ---------- strings
        cast(engagement_type as {{ dbt.type_string() }}) as engagement_type,

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
