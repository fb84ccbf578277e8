-- Grain: one reaction, comment or reshare (engagement_id).
-- The latest version of each event from accepted batches, as of the build (event_log_events).

with

source as (

    {{ reachloop.event_log_events('engagement') }}

),

renamed as (

    select
        ---------- ids
        cast(engagement_id as {{ dbt.type_string() }}) as engagement_id,
        cast(share_id as {{ dbt.type_string() }}) as share_id,
        cast(actor_id as {{ dbt.type_string() }}) as actor_id,

        ---------- strings
        cast(engagement_type as {{ dbt.type_string() }}) as engagement_type,

        ---------- timestamps
        cast(occurred_at as {{ reachloop.type_timestamptz() }}) as occurred_at,

        ---------- bookkeeping
        cast(batch_id as {{ dbt.type_string() }}) as batch_id,
        cast(ingested_at as {{ reachloop.type_timestamptz() }}) as ingested_at,
        cast(extra as {{ dbt.type_string() }}) as extra

    from source

)

select * from renamed
