-- Grain: one exchange-rate quote (from_currency, to_currency, observed_at): 1 unit of
-- from_currency = rate units of to_currency. The latest version of each event from accepted
-- batches, as of the build (event_log_events).
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

    {{ reachloop.event_log_events('fx_rate') }}

),

renamed as (

    select
        ---------- strings
        cast(from_currency as {{ dbt.type_string() }}) as from_currency,
        cast(to_currency as {{ dbt.type_string() }}) as to_currency,

        ---------- numerics
        cast(rate as {{ reachloop.type_rate() }}) as rate,

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
