-- Grain: journey × step. Every journey the data-driven models (markov, shapley) learn from:
--   a deal's path (its touches, journey_id = 'deal:' || deal_id); and
--   a lead that never became a deal — a contact with a form fill who is no deal's contact —
--   with its human clicks on known shares (journey_id = 'lead:' || contact_id).
-- One window for every journey, var lookback_days before its end: a deal's touches are
-- already those of the lookback_days before its creation (int_deal_clicks_joined); a lead
-- keeps the clicks of the lookback_days up to its own last click (it has no creation to
-- anchor on), so that converting and non-converting journeys are compared like with like.
-- is_converting, by var attribution_conversion:
--   created   (default) every deal's journey converted, no lead's did;
--   won       only won deals' journeys converted; open and lost deals' did not, as leads'.
-- Each step is a state at the grain of var markov_state_grain:
--   content   (default) 'content:' || content_id; an own post without content falls back to
--             its share, 'share:' || share_id, rather than lumping all own posts together;
--   share     'share:' || share_id;
--   employee  author_type || ':' || author_id (the company page is a state of its own).
--
-- Incremental on the log position: a run recomputes the journeys that events landed past the
-- watermark touch (macros/touched_deals.sql): the touched deals' journeys and the touched
-- contacts' lead journeys; a journey that no longer exists gets a marker row (step_number 0)
-- that replaces its steps and that the post-hook deletes.
-- depends_on: {{ source('event_log', 'deal') }}, {{ source('event_log', 'form_fill') }}, {{ source('event_log', 'click') }},
-- {{ ref('stg_event_log__deal_events') }}, {{ ref('stg_event_log__form_fills') }}, {{ ref('stg_event_log__clicks') }}
{%- set grain = var('markov_state_grain') %}
{%- if grain == 'content' %}
    {%- set state_sql = "coalesce('content:' || content_id, 'share:' || share_id)" %}
{%- elif grain == 'share' %}
    {%- set state_sql = "'share:' || share_id" %}
{%- elif grain == 'employee' %}
    {%- set state_sql = "author_type || ':' || author_id" %}
{%- else %}
    {{ exceptions.raise_compiler_error("var markov_state_grain must be content, share or employee, got '" ~ grain ~ "'") }}
{%- endif %}

{{
    config(
        materialized='incremental',
        unique_key='journey_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook="delete from {{ this }} where step_number = 0",
    )
}}

{%- set conversion = var('attribution_conversion') %}
{%- if conversion == 'created' %}
    {%- set converting_sql = "true" %}
{%- elif conversion == 'won' %}
    {%- set converting_sql = "deals.status = 'won'" %}
{%- else %}
    {{ exceptions.raise_compiler_error("var attribution_conversion must be created or won, got '" ~ conversion ~ "'") }}
{%- endif %}

with

{% if is_incremental() -%}
touched_contacts as (

    {{ reachloop.contacts_touched() }}

),

touched_deals as (

    {{ reachloop.deals_touched('touched_contacts') }}

),

touched_journeys as (

    select 'deal:' || deal_id as journey_id from touched_deals
    union
    select 'lead:' || contact_id from touched_contacts

),

{% endif -%}
deal_touches as (

    select
        touches.*,
        {{ converting_sql }} as is_converting
    from {{ ref('int_deal_clicks_joined') }} as touches
    inner join {{ ref('int_deals_folded') }} as deals
        on touches.deal_id = deals.deal_id
    where touches.is_touch
    {%- if is_incremental() %}
        and touches.deal_id in (select deal_id from touched_deals)
    {%- endif %}

),

deal_contacts as (

    select distinct contact_id from {{ ref('int_deal_contacts_collected') }}

),

unconverted_lead_clicks as (

    select distinct
        visitors.contact_id,
        clicks.click_id,
        clicks.clicked_at,
        clicks.share_id
    from {{ ref('int_visitors_stitched') }} as visitors
    inner join {{ ref('int_clicks_classified') }} as clicks
        on visitors.visitor_id = clicks.visitor_id
    left join deal_contacts
        on visitors.contact_id = deal_contacts.contact_id
    where deal_contacts.contact_id is null
        {%- if is_incremental() %}
        and visitors.contact_id in (select contact_id from touched_contacts)
        {%- endif %}
        and not clicks.is_bot
        and clicks.share_id is not null

),

lead_windows as (

    select
        *,
        max(clicked_at) over (partition by contact_id) as last_clicked_at
    from unconverted_lead_clicks

),

lead_touches as (

    select
        lead_windows.contact_id,
        lead_windows.click_id,
        shares.share_id,
        shares.content_id,
        shares.author_type,
        shares.author_id,
        row_number() over (
            partition by lead_windows.contact_id
            order by lead_windows.clicked_at, lead_windows.click_id
        ) as step_number
    from lead_windows
    inner join {{ ref('stg_event_log__shares') }} as shares
        on lead_windows.share_id = shares.share_id
    where lead_windows.clicked_at
        >= {{ dbt.dateadd('day', -var('lookback_days'), 'lead_windows.last_clicked_at') }}

),

journeys as (

    select
        'deal:' || deal_id as journey_id,
        is_converting,
        touch_number as step_number,
        {{ state_sql }} as state,
        deal_id,
        click_id
    from deal_touches

    union all

    select
        'lead:' || contact_id as journey_id,
        false as is_converting,
        step_number,
        {{ state_sql }} as state,
        cast(null as {{ dbt.type_string() }}) as deal_id,
        click_id
    from lead_touches

)

select *, {{ reachloop.log_position() }} as log_position_through
from journeys
{%- if is_incremental() %}

union all

-- A touched journey without steps now: a marker that replaces its steps (post-hook).
select touched_journeys.journey_id, null, 0, null, null, null, {{ reachloop.log_position() }}
from touched_journeys
where touched_journeys.journey_id not in (select journey_id from journeys)
{%- endif %}
