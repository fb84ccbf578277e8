-- Grain: contact × visitor. Identity stitching on first-party ids: a contact (the pseudonym of
-- a trimmed, lower-cased email) owns every visitor id (browser, device) it filled a form from.
-- A visitor shared by two people (a family laptop) belongs to both.
--
-- Incremental on the log position: a run recomputes the contacts that any version of a form
-- fill landed past the watermark names (macros/touched_deals.sql); a contact left without
-- form fills gets a marker row (form_fills = 0) that replaces its rows and that the post-hook
-- deletes.
-- depends_on: {{ source('event_log', 'form_fill') }}

{{
    config(
        materialized='incremental',
        unique_key='contact_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook="delete from {{ this }} where form_fills = 0",
    )
}}

with

{% if is_incremental() -%}
touched_contacts as (

    {{ reachloop.contacts_of_changed_form_fills() }}

),

{% endif -%}
form_fills as (

    select * from {{ ref('stg_event_log__form_fills') }}
    where email is not null
    {%- if is_incremental() %}
        and email in (select contact_id from touched_contacts)
    {%- endif %}

),

stitched as (

    select
        email as contact_id,
        visitor_id,
        min(occurred_at) as first_form_fill_at,
        count(*) as form_fills
    from form_fills
    group by email, visitor_id

)

select *, {{ reachloop.log_position() }} as log_position_through
from stitched
{%- if is_incremental() %}

union all

-- A touched contact without form fills now: a marker that replaces its rows (post-hook).
select touched_contacts.contact_id, null, null, 0, {{ reachloop.log_position() }}
from touched_contacts
where touched_contacts.contact_id not in (select contact_id from stitched)
{%- endif %}
