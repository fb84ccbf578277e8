-- Grain: deal. Every deal with its folded state and how attribution sees it; unattributed
-- deals (no touch: no tracked click, bots only, all clicks outside the window) are here with
-- is_attributed false, so that summaries can count them. amount_reporting: the amount in the
-- reporting currency (int_deal_amounts_converted), null when no rate is known.

with

deals as (

    select * from {{ ref('int_deals_folded') }}

),

deal_clicks as (

    select
        deal_id,
        count(*) as clicks,
        sum(case when is_bot then 1 else 0 end) as bot_clicks,
        sum(case when is_touch then 1 else 0 end) as touches,
        min(case when is_touch then clicked_at end) as first_touch_at,
        max(case when is_touch then clicked_at end) as last_touch_at
    from {{ ref('int_deal_clicks_joined') }}
    group by deal_id

),

converted as (

    select deal_id, fx_rate, amount_reporting from {{ ref('int_deal_amounts_converted') }}

)

select
    cast(deals.deal_id as {{ dbt.type_string() }}) as deal_id,
    cast(deals.created_at as {{ reachloop.type_timestamptz() }}) as created_at,
    cast(deals.has_created_event as boolean) as has_created_event,
    cast(deals.status as {{ dbt.type_string() }}) as status,
    cast(deals.closed_at as {{ reachloop.type_timestamptz() }}) as closed_at,
    cast(deals.stage as {{ dbt.type_string() }}) as stage,
    cast(deals.amount as {{ reachloop.type_money() }}) as amount,
    cast(deals.currency as {{ dbt.type_string() }}) as currency,
    cast(converted.amount_reporting as {{ reachloop.type_money() }}) as amount_reporting,
    cast({{ reachloop.reporting_currency() }} as {{ dbt.type_string() }}) as reporting_currency,
    cast(converted.fx_rate as {{ reachloop.type_double() }}) as fx_rate,
    cast(deals.contacts as {{ dbt.type_bigint() }}) as contacts,
    cast(coalesce(deal_clicks.clicks, 0) as {{ dbt.type_bigint() }}) as clicks,
    cast(coalesce(deal_clicks.bot_clicks, 0) as {{ dbt.type_bigint() }}) as bot_clicks,
    cast(coalesce(deal_clicks.touches, 0) as {{ dbt.type_bigint() }}) as touches,
    cast(coalesce(deal_clicks.touches, 0) > 0 as boolean) as is_attributed,
    cast(deal_clicks.first_touch_at as {{ reachloop.type_timestamptz() }}) as first_touch_at,
    cast(deal_clicks.last_touch_at as {{ reachloop.type_timestamptz() }}) as last_touch_at
from deals
left join deal_clicks
    on deals.deal_id = deal_clicks.deal_id
left join converted
    on deals.deal_id = converted.deal_id
