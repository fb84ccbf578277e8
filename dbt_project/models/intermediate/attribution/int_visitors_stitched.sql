-- Grain: contact × visitor. Identity stitching on first-party ids: a contact (the pseudonym of
-- a trimmed, lower-cased email) owns every visitor id (browser, device) it filled a form from.
-- A visitor shared by two people (a family laptop) belongs to both.

with

form_fills as (

    select * from {{ ref('stg_event_log__form_fills') }}

)

select
    email as contact_id,
    visitor_id,
    min(occurred_at) as first_form_fill_at,
    count(*) as form_fills
from form_fills
where email is not null
group by email, visitor_id
