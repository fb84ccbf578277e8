-- Grain: one content item (content_id).
-- The latest version of each event from accepted batches, as of the build (event_log_events).

with

source as (

    {{ reachloop.event_log_events('content') }}

),

renamed as (

    select
        ---------- ids
        cast(content_id as {{ dbt.type_string() }}) as content_id,

        ---------- strings
        cast(url as {{ dbt.type_string() }}) as url,
        cast(title as {{ dbt.type_string() }}) as title,
        cast(topic as {{ dbt.type_string() }}) as topic,
        cast(campaign as {{ dbt.type_string() }}) as campaign,

        ---------- timestamps
        cast(published_at as {{ reachloop.type_timestamptz() }}) as published_at,

        ---------- bookkeeping
        cast(batch_id as {{ dbt.type_string() }}) as batch_id,
        cast(ingested_at as {{ reachloop.type_timestamptz() }}) as ingested_at,
        cast(extra as {{ dbt.type_string() }}) as extra

    from source

)

select * from renamed
