-- Grain: one goal of the program (goal_id), in its latest version: a goal landed again with
-- the same goal_id (a revised target) replaces the earlier one.
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

    {{ reachloop.event_log_events('program_goal') }}

),

renamed as (

    select
        ---------- ids
        cast(goal_id as {{ dbt.type_string() }}) as goal_id,

        ---------- strings
        cast(metric as {{ dbt.type_string() }}) as metric,
        cast(department as {{ dbt.type_string() }}) as department,
        cast(network as {{ dbt.type_string() }}) as network,
        cast(currency as {{ dbt.type_string() }}) as currency,
        cast(title as {{ dbt.type_string() }}) as title,

        ---------- numerics
        cast(target as {{ reachloop.type_double() }}) as target,

        ---------- timestamps
        cast(period_start as {{ reachloop.type_timestamptz() }}) as period_start,
        cast(period_end as {{ reachloop.type_timestamptz() }}) as period_end,

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
