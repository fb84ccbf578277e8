-- Grain: deal × step. Everything that happened on the way to each deal, in time order — what
-- `reachloop trace DEAL_ID` prints:
--   share       the posts its contacts clicked (when they were posted, by whom);
--   click       every click by any visitor of its contacts, touches or not (detail says why
--               not: bot, outside the lookback window, after creation, unknown token);
--   form_fill   its contacts' form submissions (where identity was stitched);
--   deal_event  its CRM events.
-- step_number orders steps by time; at the same instant shares come before clicks, clicks
-- before form fills, form fills before deal events (cause before effect), then by step_id.
--
-- Incremental on the log position, by deal: a run rewrites the journeys of the deals that
-- events landed past the watermark touch (macros/touched_deals.sql: the deal's events, its
-- contacts' form fills, their visitors' clicks). That covers the share steps too: a changed
-- share (another time, network, author or item) has its token's clicks classified anew, which
-- touches the deals of their visitors. Step numbers are per deal, so a deal's rows are all
-- it needs. A touched deal left without steps gets a marker row (step_number null) that
-- replaces them and that the post-hook deletes.
-- depends_on: {{ source('event_log', 'deal') }}, {{ source('event_log', 'form_fill') }}, {{ source('event_log', 'click') }},
-- {{ ref('stg_event_log__clicks') }}, {{ ref('int_clicks_classified') }}, {{ ref('int_visitors_stitched') }}

{{
    config(
        materialized='incremental',
        unique_key='deal_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook="delete from {{ this }} where step_number is null",
    )
}}

with

{% if is_incremental() -%}
touched_deals as (

    {{ reachloop.deals_touched() }}

),

{% endif -%}
deal_clicks as (

    select * from {{ ref('int_deal_clicks_joined') }}
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

shares as (

    select * from {{ ref('stg_event_log__shares') }}

),

share_steps as (

    select distinct
        deal_clicks.deal_id,
        shares.posted_at as step_at,
        'share' as step_type,
        shares.share_id as step_id,
        shares.share_id,
        shares.content_id,
        case when shares.author_type = 'employee' then shares.author_id end as employee_id,
        cast(null as {{ dbt.type_string() }}) as visitor_id,
        cast(null as {{ dbt.type_string() }}) as contact_id,
        cast(null as {{ dbt.type_bigint() }}) as touch_number,
        shares.author_type || ' ' || shares.author_id || ' posted on ' || shares.network
            || coalesce(' (content ' || shares.content_id || ')', ' (own post)') as detail
    from deal_clicks
    inner join shares
        on deal_clicks.share_id = shares.share_id

),

click_steps as (

    select
        deal_id,
        clicked_at as step_at,
        'click' as step_type,
        click_id as step_id,
        share_id,
        content_id,
        case when author_type = 'employee' then author_id end as employee_id,
        visitor_id,
        contact_id,
        touch_number,
        case
            when is_touch then 'touch ' || cast(touch_number as {{ dbt.type_string() }})
            when share_id is null then 'not a touch: unknown tracking token'
            when is_bot then 'not a touch: bot (' || bot_category || ')'
            when clicked_at > deal_created_at then 'not a touch: after the deal was created'
            else 'not a touch: more than {{ var("lookback_days") }} days before the deal was created'
        end as detail
    from deal_clicks

),

form_fill_steps as (

    select
        deal_contacts.deal_id,
        form_fills.occurred_at as step_at,
        'form_fill' as step_type,
        form_fills.submission_id as step_id,
        cast(null as {{ dbt.type_string() }}) as share_id,
        cast(null as {{ dbt.type_string() }}) as content_id,
        cast(null as {{ dbt.type_string() }}) as employee_id,
        form_fills.visitor_id,
        form_fills.email as contact_id,
        cast(null as {{ dbt.type_bigint() }}) as touch_number,
        'form ' || form_fills.form_id as detail
    from deal_contacts
    inner join {{ ref('stg_event_log__form_fills') }} as form_fills
        on deal_contacts.contact_id = form_fills.email

),

deal_event_steps as (

    select
        deal_id,
        occurred_at as step_at,
        'deal_event' as step_type,
        deal_event_id as step_id,
        cast(null as {{ dbt.type_string() }}) as share_id,
        cast(null as {{ dbt.type_string() }}) as content_id,
        cast(null as {{ dbt.type_string() }}) as employee_id,
        cast(null as {{ dbt.type_string() }}) as visitor_id,
        contact_email as contact_id,
        cast(null as {{ dbt.type_bigint() }}) as touch_number,
        event
            || coalesce(': amount ' || cast(amount as {{ dbt.type_string() }}) || coalesce(' ' || currency, ''), '')
            || coalesce(', stage ' || stage, '')
            || case when contact_email is not null then ', contact ' || contact_email else '' end
            as detail
    from {{ ref('stg_event_log__deal_events') }}
    {%- if is_incremental() %}
    where deal_id in (select deal_id from touched_deals)
    {%- endif %}

),

steps as (

    select * from share_steps
    union all
    select * from click_steps
    union all
    select * from form_fill_steps
    union all
    select * from deal_event_steps

)

select
    cast(deal_id as {{ dbt.type_string() }}) as deal_id,
    cast(row_number() over (
        partition by deal_id
        order by
            step_at,
            case step_type when 'share' then 1 when 'click' then 2 when 'form_fill' then 3 else 4 end,
            step_id
    ) as {{ dbt.type_bigint() }}) as step_number,
    cast(step_at as {{ reachloop.type_timestamptz() }}) as step_at,
    cast(step_type as {{ dbt.type_string() }}) as step_type,
    cast(step_id as {{ dbt.type_string() }}) as step_id,
    cast(share_id as {{ dbt.type_string() }}) as share_id,
    cast(content_id as {{ dbt.type_string() }}) as content_id,
    cast(employee_id as {{ dbt.type_string() }}) as employee_id,
    cast(visitor_id as {{ dbt.type_string() }}) as visitor_id,
    cast(contact_id as {{ dbt.type_string() }}) as contact_id,
    cast(touch_number as {{ dbt.type_bigint() }}) as touch_number,
    cast(detail as {{ dbt.type_string() }}) as detail,
    {{ reachloop.log_position() }} as log_position_through
from steps
{%- if is_incremental() %}

union all

-- A touched deal without steps now: a marker that replaces its rows (post-hook).
select
    cast(touched_deals.deal_id as {{ dbt.type_string() }}), null, null, null, null, null, null,
    null, null, null, null, null, {{ reachloop.log_position() }}
from touched_deals
where touched_deals.deal_id not in (select deal_id from steps)
{%- endif %}
