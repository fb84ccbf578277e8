-- Grain: deal × contact. A deal's contacts are the emails (pseudonyms) on its `created` and
-- `contact_added` events; added_at is when the contact first appeared on the deal. A contact
-- added late still brings its earlier touches: the path is every contact's touches.
--
-- Incremental on the log position: a run recomputes the deals that any version of a deal
-- event landed past the watermark names (macros/touched_deals.sql); a deal left without
-- contacts gets a marker row (contact_id null) that replaces them and that the post-hook deletes.
-- depends_on: {{ source('event_log', 'deal') }}

{{
    config(
        materialized='incremental',
        unique_key='deal_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook="delete from {{ this }} where contact_id is null",
    )
}}

with

{% if is_incremental() -%}
touched_deals as (

    {{ reachloop.deals_of_changed_deal_events() }}

),

{% endif -%}
deal_events as (

    select * from {{ ref('stg_event_log__deal_events') }}
    {%- if is_incremental() %}
    where deal_id in (select deal_id from touched_deals)
    {%- endif %}

),

contacts as (

    select
        deal_id,
        contact_email as contact_id,
        min(occurred_at) as added_at
    from deal_events
    where event in ('created', 'contact_added')
        and contact_email is not null
    group by deal_id, contact_email

)

select *, {{ reachloop.log_position() }} as log_position_through
from contacts
{%- if is_incremental() %}

union all

-- A touched deal without contacts now: a marker that replaces its rows (post-hook).
select touched_deals.deal_id, null, null, {{ reachloop.log_position() }}
from touched_deals
where touched_deals.deal_id not in (select deal_id from contacts)
{%- endif %}
