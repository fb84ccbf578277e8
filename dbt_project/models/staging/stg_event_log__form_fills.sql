-- Grain: one form submission (submission_id).
-- The latest version of each event from accepted batches, as of the build (event_log_events).

with

source as (

    {{ reachloop.event_log_events('form_fill') }}

),

renamed as (

    select
        ---------- ids
        cast(submission_id as {{ dbt.type_string() }}) as submission_id,
        cast(visitor_id as {{ dbt.type_string() }}) as visitor_id,
        cast(email as {{ dbt.type_string() }}) as email,
        cast(form_id as {{ dbt.type_string() }}) as form_id,

        ---------- timestamps
        cast(occurred_at as {{ reachloop.type_timestamptz() }}) as occurred_at,

        ---------- bookkeeping
        cast(batch_id as {{ dbt.type_string() }}) as batch_id,
        cast(ingested_at as {{ reachloop.type_timestamptz() }}) as ingested_at,
        cast(extra as {{ dbt.type_string() }}) as extra

    from source

)

select * from renamed
