-- Grain: one cost of the program (cost_id) over [period_start, period_end].
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

    {{ reachloop.event_log_events('program_cost') }}

),

renamed as (

    select
        ---------- ids
        cast(cost_id as {{ dbt.type_string() }}) as cost_id,

        ---------- strings
        cast(currency as {{ dbt.type_string() }}) as currency,
        cast(category as {{ dbt.type_string() }}) as category,

        ---------- numerics
        cast(amount as {{ reachloop.type_money() }}) as amount,

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
