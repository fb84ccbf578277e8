-- Grain: one cumulative metrics snapshot of a share (share_id, observed_at).
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

    {{ reachloop.event_log_events('share_metrics') }}

),

renamed as (

    select
        ---------- ids
        cast(share_id as {{ dbt.type_string() }}) as share_id,

        ---------- numerics
        cast(impressions as {{ dbt.type_bigint() }}) as impressions,
        cast(reactions as {{ dbt.type_bigint() }}) as reactions,
        cast(comments as {{ dbt.type_bigint() }}) as comments,
        cast(reshares as {{ dbt.type_bigint() }}) as reshares,
        cast(clicks as {{ dbt.type_bigint() }}) as clicks,
        cast(unique_impressions as {{ dbt.type_bigint() }}) as unique_impressions,
        cast(saves as {{ dbt.type_bigint() }}) as saves,
        cast(sends as {{ dbt.type_bigint() }}) as sends,
        cast(potential_reach as {{ dbt.type_bigint() }}) as potential_reach,

        ---------- timestamps
        cast(observed_at as {{ reachloop.type_timestamptz() }}) as observed_at,

        ---------- bookkeeping
        cast(event_key as {{ dbt.type_string() }}) as event_key,
        cast(batch_id as {{ dbt.type_string() }}) as batch_id,
        cast(source_line as {{ dbt.type_bigint() }}) as source_line,
        cast(log_position as {{ dbt.type_bigint() }}) as log_position,
        cast(ingested_at as {{ reachloop.type_timestamptz() }}) as ingested_at,
        cast(extra as {{ dbt.type_string() }}) as extra

    from source

)

{{ reachloop.keep_current_versions('renamed') }}
