-- Grain: one snapshot of one employee on one network (employee_id, network, observed_at).
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

    {{ reachloop.event_log_events('employee') }}

),

renamed as (

    select
        ---------- ids
        cast(employee_id as {{ dbt.type_string() }}) as employee_id,
        cast(member_id as {{ dbt.type_string() }}) as member_id,
        cast(email as {{ dbt.type_string() }}) as email,

        ---------- strings
        cast(network as {{ dbt.type_string() }}) as network,
        cast(department as {{ dbt.type_string() }}) as department,
        cast(title as {{ dbt.type_string() }}) as title,
        cast(coalesce(network_size_basis, 'counted') as {{ dbt.type_string() }}) as network_size_basis,

        ---------- booleans
        cast(advocate_opt_in = 'true' as {{ dbt.type_boolean() }}) as advocate_opt_in,

        ---------- numerics
        cast(network_size as {{ dbt.type_bigint() }}) as network_size,

        ---------- timestamps
        cast(observed_at as {{ reachloop.type_timestamptz() }}) as observed_at,
        cast(hired_at as {{ reachloop.type_timestamptz() }}) as hired_at,
        cast(left_at as {{ reachloop.type_timestamptz() }}) as left_at,

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
