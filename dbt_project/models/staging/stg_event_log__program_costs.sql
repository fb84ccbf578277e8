-- Grain: one cost of the program (cost_id) over [period_start, period_end].
-- The latest version of each event from accepted batches, as of the build (event_log_events).

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
        cast(batch_id as {{ dbt.type_string() }}) as batch_id,
        cast(ingested_at as {{ reachloop.type_timestamptz() }}) as ingested_at,
        cast(extra as {{ dbt.type_string() }}) as extra

    from source

)

select * from renamed
