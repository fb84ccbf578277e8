-- Grain: journey × step. Every journey the Markov model learns from, converting or not:
--   a deal's path (its touches, journey_id = 'deal:' || deal_id), which converted; and
--   a lead that never became a deal — a contact with a form fill who is no deal's contact —
--   with its human clicks on known shares (journey_id = 'lead:' || contact_id), which did not.
-- Each step is a state at the grain of var markov_state_grain:
--   content   (default) 'content:' || content_id; an own post without content falls back to
--             its share, 'share:' || share_id, rather than lumping all own posts together;
--   share     'share:' || share_id;
--   employee  author_type || ':' || author_id (the company page is a state of its own).

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

with

deal_touches as (

    select * from {{ ref('int_deal_clicks_joined') }}
    where is_touch

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
        and not clicks.is_bot
        and clicks.share_id is not null

),

lead_touches as (

    select
        unconverted_lead_clicks.contact_id,
        unconverted_lead_clicks.click_id,
        shares.share_id,
        shares.content_id,
        shares.author_type,
        shares.author_id,
        row_number() over (
            partition by unconverted_lead_clicks.contact_id
            order by unconverted_lead_clicks.clicked_at, unconverted_lead_clicks.click_id
        ) as step_number
    from unconverted_lead_clicks
    inner join {{ ref('stg_event_log__shares') }} as shares
        on unconverted_lead_clicks.share_id = shares.share_id

)

select
    'deal:' || deal_id as journey_id,
    true as is_converting,
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
