-- Grain: one event in a CRM deal's life (deal_event_id); deal state is folded downstream.
-- The latest version of each event from accepted batches, as of the build (event_log_events).

with

source as (

    {{ reachloop.event_log_events('deal') }}

),

renamed as (

    select
        ---------- ids
        cast(deal_event_id as {{ dbt.type_string() }}) as deal_event_id,
        cast(deal_id as {{ dbt.type_string() }}) as deal_id,
        cast(contact_email as {{ dbt.type_string() }}) as contact_email,

        ---------- strings
        cast(event as {{ dbt.type_string() }}) as event,
        cast(currency as {{ dbt.type_string() }}) as currency,
        cast(stage as {{ dbt.type_string() }}) as stage,

        ---------- numerics
        cast(amount as {{ reachloop.type_money() }}) as amount,

        ---------- timestamps
        cast(occurred_at as {{ reachloop.type_timestamptz() }}) as occurred_at,

        ---------- bookkeeping
        cast(batch_id as {{ dbt.type_string() }}) as batch_id,
        cast(ingested_at as {{ reachloop.type_timestamptz() }}) as ingested_at,
        cast(extra as {{ dbt.type_string() }}) as extra

    from source

)

select * from renamed
