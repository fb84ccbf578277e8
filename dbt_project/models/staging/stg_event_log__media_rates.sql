-- Grain: one media rate quote (network, metric, observed_at): what paid media costs on a
-- network per 1,000 impressions (cpm), per click (cpc) or per engagement (engagement).
-- The latest version of each event from accepted batches, as of the build (event_log_events).
-- Incremental on the log position: a run reads only batches past the newest position it holds.
{{
    config(
        materialized='incremental',
        unique_key='event_key',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}

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
        cast(event_key as {{ dbt.type_string() }}) as event_key,
        cast(batch_id as {{ dbt.type_string() }}) as batch_id,
        cast(source_line as {{ dbt.type_bigint() }}) as source_line,
        cast(log_position as {{ dbt.type_bigint() }}) as log_position,
        cast(ingested_at as {{ reachloop.type_timestamptz() }}) as ingested_at,
        cast(extra as {{ dbt.type_string() }}) as extra

    from source

)

{{ reachloop.keep_current_versions('renamed') }}
