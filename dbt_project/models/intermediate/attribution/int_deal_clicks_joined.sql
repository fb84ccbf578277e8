-- Grain: deal × click. Every click by any visitor of any of the deal's contacts — the raw
-- material of both the deal journey (all of them) and attribution (the touches):
--   is_in_window  clicked between lookback_days before the deal's creation and its creation;
--   is_touch      a human click on a known share, in the window (docs/design.md, "Lead-to-deal
--                 attribution"). Later clicks stay here for the journey but earn no credit.
--   touch_number  1…n over the deal's touches in time order (click_id breaks ties), so that
--                 the path is the time-ordered union of all its contacts' touches.
-- A click reaching a deal through two contacts (a shared visitor) is one row.
--
-- Incremental on the log position: a run recomputes every click of the deals that events
-- landed past the watermark touch (macros/touched_deals.sql: the deal's events, its contacts'
-- form fills, their visitors' clicks); a deal left without clicks gets a marker row (click_id
-- null) that replaces them and that the post-hook deletes.
-- depends_on: {{ source('event_log', 'deal') }}, {{ source('event_log', 'form_fill') }}, {{ source('event_log', 'click') }},
-- {{ ref('stg_event_log__deal_events') }}, {{ ref('stg_event_log__form_fills') }}, {{ ref('stg_event_log__clicks') }}

{{
    config(
        materialized='incremental',
        unique_key='deal_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook="delete from {{ this }} where click_id is null",
    )
}}

with

{% if is_incremental() -%}
touched_deals as (

    {{ reachloop.deals_touched() }}

),

{% endif -%}
deals as (

    select * from {{ ref('int_deals_folded') }}
    {%- if is_incremental() %}
    where deal_id in (select deal_id from touched_deals)
    {%- endif %}

),

deal_contacts as (

    select * from {{ ref('int_deal_contacts_collected') }}
    {%- if is_incremental() %}
    where deal_id in (select deal_id from touched_deals)
    {%- endif %}

),

visitors as (

    select * from {{ ref('int_visitors_stitched') }}

),

clicks as (

    select * from {{ ref('int_clicks_classified') }}

),

shares as (

    select * from {{ ref('stg_event_log__shares') }}

),

-- The click's own columns ride along in the group by (click_id decides them): the clicks are
-- read once, so DuckDB does not materialize all of them for a second reference.
deal_clicks as (

    select
        deal_contacts.deal_id,
        clicks.click_id,
        clicks.visitor_id,
        clicks.share_id,
        clicks.clicked_at,
        clicks.is_bot,
        clicks.bot_category,
        min(deal_contacts.contact_id) as contact_id
    from deal_contacts
    inner join visitors
        on deal_contacts.contact_id = visitors.contact_id
    inner join clicks
        on visitors.visitor_id = clicks.visitor_id
    group by
        deal_contacts.deal_id, clicks.click_id, clicks.visitor_id, clicks.share_id,
        clicks.clicked_at, clicks.is_bot, clicks.bot_category

),

flagged as (

    select
        deal_clicks.deal_id,
        deal_clicks.click_id,
        deal_clicks.contact_id,
        deal_clicks.visitor_id,
        deal_clicks.share_id,
        shares.content_id,
        shares.author_type,
        shares.author_id,
        deal_clicks.clicked_at,
        deal_clicks.is_bot,
        deal_clicks.bot_category,
        deals.created_at as deal_created_at,
        deal_clicks.clicked_at <= deals.created_at
            and deal_clicks.clicked_at >= {{ dbt.dateadd('day', -var('lookback_days'), 'deals.created_at') }}
            as is_in_window
    from deal_clicks
    inner join deals on deal_clicks.deal_id = deals.deal_id
    left join shares on deal_clicks.share_id = shares.share_id

),

touches as (

    select
        *,
        is_in_window and not is_bot and share_id is not null as is_touch
    from flagged

),

numbered as (

    select
        *,
        case when is_touch then
            row_number() over (partition by deal_id, is_touch order by clicked_at, click_id)
        end as touch_number
    from touches

)

select *, {{ reachloop.log_position() }} as log_position_through
from numbered
{%- if is_incremental() %}

union all

-- A touched deal without clicks now: a marker that replaces them (post-hook).
select
    touched_deals.deal_id, null, null, null, null, null, null, null, null, null, null, null,
    null, null, null, {{ reachloop.log_position() }}
from touched_deals
where touched_deals.deal_id not in (select deal_id from numbered)
{%- endif %}
