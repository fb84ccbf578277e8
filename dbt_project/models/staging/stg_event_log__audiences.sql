-- Grain: one member of an employee's network as observed at a moment (employee_id, member_id, observed_at).
-- The latest version of each event from accepted batches, as of the build (event_log_events).
-- A table, unlike the other staging models: the largest event type (5.4M rows at SF10) is read
-- by four nodes, and as a view each read would redo the deduplication (~5 CPU-s at SF10).
{{ config(materialized='table') }}

with

source as (

    {{ reachloop.event_log_events('audience') }}

),

renamed as (

    select
        ---------- ids
        cast(employee_id as {{ dbt.type_string() }}) as employee_id,
        cast(member_id as {{ dbt.type_string() }}) as member_id,

        ---------- timestamps
        cast(observed_at as {{ reachloop.type_timestamptz() }}) as observed_at,

        ---------- bookkeeping
        cast(batch_id as {{ dbt.type_string() }}) as batch_id,
        cast(ingested_at as {{ reachloop.type_timestamptz() }}) as ingested_at,
        cast(extra as {{ dbt.type_string() }}) as extra

    from source

)

select * from renamed
