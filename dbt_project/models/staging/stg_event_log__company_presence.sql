-- Grain: one audit of one company's LinkedIn presence (company, observed_at).
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

    {{ reachloop.event_log_events('company_presence') }}

),

renamed as (

    select
        ---------- ids
        cast(company as {{ dbt.type_string() }}) as company,

        ---------- strings
        cast(keyword as {{ dbt.type_string() }}) as keyword,

        ---------- numerics
        cast(followers as {{ dbt.type_bigint() }}) as followers,
        cast(employees_on_linkedin as {{ dbt.type_bigint() }}) as employees_on_linkedin,
        cast(posts_30d as {{ dbt.type_bigint() }}) as posts_30d,
        cast(engagements_30d as {{ dbt.type_bigint() }}) as engagements_30d,
        cast(keyword_posts_30d as {{ dbt.type_bigint() }}) as keyword_posts_30d,
        cast(employees as {{ dbt.type_bigint() }}) as employees,

        ---------- booleans
        -- null: the audit row does not say (the company's other rows may)
        cast(is_own_company = 'true' as boolean) as is_own_company,

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
