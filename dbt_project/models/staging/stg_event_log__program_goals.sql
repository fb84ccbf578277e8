-- Grain: one goal of the program (goal_id), in its latest version: a goal landed again with
-- the same goal_id (a revised target) replaces the earlier one.
-- The latest version of each event from accepted batches, as of the build (event_log_events).

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
        cast(batch_id as {{ dbt.type_string() }}) as batch_id,
        cast(ingested_at as {{ reachloop.type_timestamptz() }}) as ingested_at,
        cast(extra as {{ dbt.type_string() }}) as extra

    from source

)

select * from renamed
