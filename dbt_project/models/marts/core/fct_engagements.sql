-- Grain: engagement (reaction, comment or reshare). Flags engagements by colleagues: an actor
-- whose member id belongs to an employee.
-- Incremental: a run recomputes engagements whose version landed past the watermark (a log
-- position), engagements by members who became known colleagues since, and engagements of
-- members who may no longer be colleagues (a corrected employee snapshot).
-- depends_on: {{ ref('stg_event_log__employees') }}, {{ source('event_log', 'employee') }} (read only by incremental runs)

{{
    config(
        materialized='incremental',
        unique_key='engagement_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
    )
}}

with

engagements as (

    {% if is_incremental() -%}
    -- Three selects, not one filter ORing them: a plain range on log_position lets DuckDB skip
    -- the row groups below the watermark, which an OR with two subqueries does not (SF100: the
    -- select of the new rows 2.7-4.3 → 1.5-1.8 CPU s). A row is in staging once, so the UNION
    -- drops only what two branches both found.
    select * from {{ ref('stg_event_log__engagements') }}
    where log_position > {{ reachloop.incremental_watermark() }}
    union
    select * from {{ ref('stg_event_log__engagements') }}
    where actor_id in (
        select member_id from {{ ref('stg_event_log__employees') }}
        where log_position > {{ reachloop.incremental_watermark() }}
    )
    union
    -- A member stops being a colleague only when the last employee snapshot naming them is
    -- replaced by a version naming another member: the member ids every version of a changed
    -- snapshot named, that no snapshot names now. (Looking for them among the stored colleague
    -- engagements instead read every one of those: SF100, 4.1 million rows, 1.4-2.2 CPU s a
    -- build, 0.02 s this way when no snapshot changed.)
    select * from {{ ref('stg_event_log__engagements') }}
    where actor_id in (
        select cast(employee_versions.member_id as {{ dbt.type_string() }})
        from {{ source('event_log', 'employee') }} as employee_versions
        where employee_versions.member_id is not null
            and employee_versions.event_key in ({{ reachloop.changed_events('stg_event_log__employees') }})
            and cast(employee_versions.member_id as {{ dbt.type_string() }})
                not in (select member_id from {{ ref('int_colleague_members') }})
    )
    {%- else -%}
    select * from {{ ref('stg_event_log__engagements') }}
    {%- endif %}

),

colleagues as (

    select member_id from {{ ref('int_colleague_members') }}

),

classified as (

    select
        engagements.engagement_id,
        engagements.share_id,
        engagements.actor_id,
        engagements.engagement_type,
        engagements.occurred_at,
        engagements.actor_id is not null as is_known_actor,
        colleagues.member_id is not null as is_colleague_actor,
        engagements.ingested_at,
        {{ reachloop.log_ingested_through() }} as ingested_through,
        {{ reachloop.log_position() }} as log_position_through
    from engagements
    left join colleagues on engagements.actor_id = colleagues.member_id

)

select * from classified
