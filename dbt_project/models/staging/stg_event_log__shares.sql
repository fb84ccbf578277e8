-- Grain: one post by an employee or the company page (share_id).
-- The latest version of each event from accepted batches, as of the build (event_log_events).

with

source as (

    {{ reachloop.event_log_events('share') }}

),

renamed as (

    select
        ---------- ids
        cast(share_id as {{ dbt.type_string() }}) as share_id,
        cast(author_id as {{ dbt.type_string() }}) as author_id,
        cast(tracking_token as {{ dbt.type_string() }}) as tracking_token,
        cast(content_id as {{ dbt.type_string() }}) as content_id,

        ---------- strings
        cast(author_type as {{ dbt.type_string() }}) as author_type,
        cast(network as {{ dbt.type_string() }}) as network,

        ---------- timestamps
        cast(posted_at as {{ reachloop.type_timestamptz() }}) as posted_at,

        ---------- bookkeeping
        cast(batch_id as {{ dbt.type_string() }}) as batch_id,
        cast(ingested_at as {{ reachloop.type_timestamptz() }}) as ingested_at,
        cast(extra as {{ dbt.type_string() }}) as extra

    from source

)

select * from renamed
