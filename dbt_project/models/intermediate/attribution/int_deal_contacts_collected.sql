-- Grain: deal × contact. A deal's contacts are the emails (pseudonyms) on its `created` and
-- `contact_added` events; added_at is when the contact first appeared on the deal. A contact
-- added late still brings its earlier touches: the path is every contact's touches.

with

deal_events as (

    select * from {{ ref('stg_event_log__deal_events') }}

)

select
    deal_id,
    contact_email as contact_id,
    min(occurred_at) as added_at
from deal_events
where event in ('created', 'contact_added')
    and contact_email is not null
group by deal_id, contact_email
