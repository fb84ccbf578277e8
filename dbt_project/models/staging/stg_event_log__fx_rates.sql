-- Grain: one exchange-rate quote (from_currency, to_currency, observed_at): 1 unit of
-- from_currency = rate units of to_currency. The latest version of each event from accepted
-- batches, as of the build (event_log_events).

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
        cast(batch_id as {{ dbt.type_string() }}) as batch_id,
        cast(ingested_at as {{ reachloop.type_timestamptz() }}) as ingested_at,
        cast(extra as {{ dbt.type_string() }}) as extra

    from source

)

select * from renamed
