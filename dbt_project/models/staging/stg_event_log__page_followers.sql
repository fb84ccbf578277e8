-- Grain: one follower-count snapshot of a company page (page_id, observed_at).
-- The latest version of each event from accepted batches, as of the build (event_log_events).

with

source as (

    {{ reachloop.event_log_events('page_followers') }}

),

renamed as (

    select
        ---------- ids
        cast(page_id as {{ dbt.type_string() }}) as page_id,

        ---------- numerics
        cast(followers as {{ dbt.type_bigint() }}) as followers,

        ---------- timestamps
        cast(observed_at as {{ reachloop.type_timestamptz() }}) as observed_at,

        ---------- bookkeeping
        cast(batch_id as {{ dbt.type_string() }}) as batch_id,
        cast(ingested_at as {{ reachloop.type_timestamptz() }}) as ingested_at,
        cast(extra as {{ dbt.type_string() }}) as extra

    from source

)

select * from renamed
