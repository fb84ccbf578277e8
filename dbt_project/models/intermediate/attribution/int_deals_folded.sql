-- Grain: deal. The state of each deal folded from its events (event-sourced), as of the build:
--   created_at  its `created` event (a deal whose `created` event is missing starts at its
--               first event, and has_created_event is false);
--   amount, currency, stage: the latest event that carries each (by occurred_at, then
--               deal_event_id, so that same-instant events fold the same way every time);
--   status      from its latest closing event: closed_won → won, closed_lost → lost; open when
--               it has none. closed_at is that event's time.
--
-- Incremental on the log position: a run recomputes the deals that any version of a deal
-- event landed past the watermark names (macros/touched_deals.sql) — their contacts come from
-- the same events; a deal left without events gets a marker row (events = 0) that replaces it
-- and that the post-hook deletes.
-- depends_on: {{ source('event_log', 'deal') }}

{{
    config(
        materialized='incremental',
        unique_key='deal_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook="delete from {{ this }} where events = 0",
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

lifespans as (

    select
        deal_id,
        min(case when event = 'created' then occurred_at end) as created_event_at,
        min(occurred_at) as first_event_at,
        max(occurred_at) as last_event_at,
        count(*) as events
    from deal_events
    group by deal_id

),

{% for attribute in ['amount', 'currency', 'stage'] %}
latest_{{ attribute }} as (

    select deal_id, {{ attribute }}
    from (
        select
            deal_id,
            {{ attribute }},
            row_number() over (
                partition by deal_id order by occurred_at desc, deal_event_id desc
            ) as recency_rank
        from deal_events
        where {{ attribute }} is not null
    ) as ranked
    where recency_rank = 1

),
{% endfor %}

latest_closing as (

    select deal_id, event, occurred_at
    from (
        select
            deal_id,
            event,
            occurred_at,
            row_number() over (
                partition by deal_id order by occurred_at desc, deal_event_id desc
            ) as recency_rank
        from deal_events
        where event in ('closed_won', 'closed_lost')
    ) as ranked
    where recency_rank = 1

),

contacts as (

    select deal_id, count(*) as contacts
    from {{ ref('int_deal_contacts_collected') }}
    {%- if is_incremental() %}
    where deal_id in (select deal_id from touched_deals)
    {%- endif %}
    group by deal_id

),

folded as (

    select
        lifespans.deal_id,
        coalesce(lifespans.created_event_at, lifespans.first_event_at) as created_at,
        lifespans.created_event_at is not null as has_created_event,
        case latest_closing.event
            when 'closed_won' then 'won'
            when 'closed_lost' then 'lost'
            else 'open'
        end as status,
        latest_closing.occurred_at as closed_at,
        latest_stage.stage,
        latest_amount.amount,
        latest_currency.currency,
        coalesce(contacts.contacts, 0) as contacts,
        lifespans.events,
        lifespans.last_event_at
    from lifespans
    left join latest_amount on lifespans.deal_id = latest_amount.deal_id
    left join latest_currency on lifespans.deal_id = latest_currency.deal_id
    left join latest_stage on lifespans.deal_id = latest_stage.deal_id
    left join latest_closing on lifespans.deal_id = latest_closing.deal_id
    left join contacts on lifespans.deal_id = contacts.deal_id

)

select *, {{ reachloop.log_position() }} as log_position_through
from folded
{%- if is_incremental() %}

union all

-- A touched deal without events now: a marker that replaces it (post-hook).
select
    touched_deals.deal_id, null, null, null, null, null, null, null, null, 0, null,
    {{ reachloop.log_position() }}
from touched_deals
where touched_deals.deal_id not in (select deal_id from folded)
{%- endif %}
