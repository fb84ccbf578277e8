-- Grain: one media rate quote (network, metric, observed_at): what paid media costs on a
-- network per 1,000 impressions (cpm), per click (cpc) or per engagement (engagement).
-- The latest version of each event from accepted batches, as of the build (event_log_events).

with

source as (

    {{ reachloop.event_log_events('media_rate') }}

),

renamed as (

    select
        ---------- strings
        cast(network as {{ dbt.type_string() }}) as network,
        cast(metric as {{ dbt.type_string() }}) as metric,
        cast(currency as {{ dbt.type_string() }}) as currency,

        ---------- numerics
        cast(amount as {{ reachloop.type_money() }}) as amount,

        ---------- timestamps
        cast(observed_at as {{ reachloop.type_timestamptz() }}) as observed_at,

        ---------- bookkeeping
        cast(batch_id as {{ dbt.type_string() }}) as batch_id,
        cast(ingested_at as {{ reachloop.type_timestamptz() }}) as ingested_at,
        cast(extra as {{ dbt.type_string() }}) as extra

    from source

)

select * from renamed
