-- Grain: one snapshot of one employee's LinkedIn profile and SSI (employee_id, observed_at).
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

    {{ reachloop.event_log_events('profile_snapshot') }}

),

renamed as (

    select
        ---------- ids
        cast(employee_id as {{ dbt.type_string() }}) as employee_id,

        ---------- numerics
        -- The SSI is the sum of its four pillars: an export with the pillars only still has it.
        cast(coalesce(
            ssi_score,
            ssi_professional_brand + ssi_find_people + ssi_engage_insights + ssi_build_relationships
        ) as {{ reachloop.type_double() }}) as ssi_score,
        cast(ssi_professional_brand as {{ reachloop.type_double() }}) as ssi_professional_brand,
        cast(ssi_find_people as {{ reachloop.type_double() }}) as ssi_find_people,
        cast(ssi_engage_insights as {{ reachloop.type_double() }}) as ssi_engage_insights,
        cast(ssi_build_relationships as {{ reachloop.type_double() }}) as ssi_build_relationships,
        cast(experience_count as {{ dbt.type_bigint() }}) as experience_count,
        cast(skills_count as {{ dbt.type_bigint() }}) as skills_count,
        cast(recommendations_count as {{ dbt.type_bigint() }}) as recommendations_count,

        ---------- booleans
        cast(has_photo = 'true' as boolean) as has_photo,
        cast(has_headline = 'true' as boolean) as has_headline,
        cast(has_about = 'true' as boolean) as has_about,

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
