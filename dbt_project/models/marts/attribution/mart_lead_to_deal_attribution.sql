-- Grain: deal × model × touch (one row per touching click of an attributed deal, for each
-- model of var attribution_models; int_touches_credited defines them). Deals without touches are not here:
-- fct_deals and the rollups keep them, as unattributed.
-- attributed_amount = credit × the deal's latest amount, in cents allocated by largest
-- remainder, so that per deal and model the amounts add up to the deal's amount exactly
-- (rounding each row on its own could be a cent off). attributed_amount_reporting is the same
-- allocation of the deal's amount in the reporting currency (int_deal_amounts_converted: at
-- the close for won and lost deals, at the build for open ones; null without a known rate).
--
-- Incremental on the log position, by deal: a run rewrites every row of the deals whose rows
-- can change — re-credited or re-touched (int_touches_credited, int_deal_clicks_joined), whose
-- amount, currency, status or creation changed (int_deals_folded), whose rate moved (an open
-- deal converts at the build, so a new rate in force moves it; a won or lost deal when the
-- rate at its close was corrected: int_deal_amounts_converted against the stored rows) — and
-- deletes those of the deals no longer credited. A deal left without rows gets a marker row
-- (model null) that replaces them and that the post-hook deletes.

{{
    config(
        materialized='incremental',
        unique_key='deal_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook="delete from {{ this }} where model is null",
    )
}}

with

converted as (

    select deal_id, fx_rate, amount_reporting from {{ ref('int_deal_amounts_converted') }}

),

{% if is_incremental() -%}
-- Deals whose rows can change (see above).
touched_deals as (

    select deal_id from {{ ref('int_touches_credited') }}
    where log_position_through > {{ reachloop.incremental_watermark() }}
    union
    select deal_id from {{ ref('int_deal_clicks_joined') }}
    where log_position_through > {{ reachloop.incremental_watermark() }}
    union
    select deal_id from {{ ref('int_deals_folded') }}
    where log_position_through > {{ reachloop.incremental_watermark() }}
    union
    select stored.deal_id
    from (select distinct deal_id, fx_rate, deal_amount_reporting from {{ this }}) as stored
    left join converted
        on stored.deal_id = converted.deal_id
    where stored.fx_rate is distinct from cast(converted.fx_rate as {{ reachloop.type_double() }})
        or stored.deal_amount_reporting
            is distinct from cast(converted.amount_reporting as {{ reachloop.type_money() }})
    union
    select deal_id from {{ this }}
    where deal_id not in (select deal_id from {{ ref('int_touches_credited') }})

),

{% endif -%}
credits as (

    select * from {{ ref('int_touches_credited') }}
    {%- if is_incremental() %}
    where deal_id in (select deal_id from touched_deals)
    {%- endif %}

),

touches as (

    select * from {{ ref('int_deal_clicks_joined') }}
    where is_touch
    {%- if is_incremental() %}
        and deal_id in (select deal_id from touched_deals)
    {%- endif %}

),

deals as (

    select * from {{ ref('int_deals_folded') }}
    {%- if is_incremental() %}
    where deal_id in (select deal_id from touched_deals)
    {%- endif %}

),

joined as (

    select
        credits.deal_id,
        credits.model,
        credits.touch_number,
        credits.click_id,
        touches.share_id,
        touches.content_id,
        touches.author_type,
        touches.author_id,
        touches.contact_id,
        touches.clicked_at as touch_at,
        credits.credit,
        deals.amount as deal_amount,
        deals.currency,
        deals.status as deal_status,
        deals.created_at as deal_created_at,
        cast(deals.amount * 100 as {{ dbt.type_bigint() }}) as deal_cents,
        -- 1e-9 absorbs float noise (1/3 × 300 = 99.999…) before flooring; whole cents as
        -- integers, so that their sum per deal below is exact in any order
        cast(floor(credits.credit * deals.amount * 100 + 1e-9) as {{ dbt.type_bigint() }}) as floor_cents,
        credits.credit * deals.amount * 100 as exact_cents,
        converted.fx_rate,
        converted.amount_reporting as deal_amount_reporting,
        cast(converted.amount_reporting * 100 as {{ dbt.type_bigint() }}) as deal_cents_reporting,
        cast(floor(credits.credit * converted.amount_reporting * 100 + 1e-9) as {{ dbt.type_bigint() }})
            as floor_cents_reporting,
        credits.credit * converted.amount_reporting * 100 as exact_cents_reporting
    from credits
    inner join touches
        on credits.deal_id = touches.deal_id and credits.click_id = touches.click_id
    inner join deals
        on credits.deal_id = deals.deal_id
    left join converted
        on credits.deal_id = converted.deal_id

),

ranked as (

    select
        *,
        deal_cents - sum(floor_cents) over (partition by deal_id, model) as leftover_cents,
        -- remainders equal but for float noise (credits 4/33 and 25/33 of one amount) tie, so
        -- touch_number decides, whatever the last bits of a float sum came out as
        row_number() over (
            partition by deal_id, model
            order by round(exact_cents - floor_cents, 6) desc, touch_number
        ) as remainder_rank,
        deal_cents_reporting - sum(floor_cents_reporting) over (partition by deal_id, model)
            as leftover_cents_reporting,
        row_number() over (
            partition by deal_id, model
            order by round(exact_cents_reporting - floor_cents_reporting, 6) desc, touch_number
        ) as remainder_rank_reporting
    from joined

)

select
    cast(deal_id as {{ dbt.type_string() }}) as deal_id,
    cast(model as {{ dbt.type_string() }}) as model,
    cast(touch_number as {{ dbt.type_bigint() }}) as touch_number,
    cast(click_id as {{ dbt.type_string() }}) as click_id,
    cast(share_id as {{ dbt.type_string() }}) as share_id,
    cast(content_id as {{ dbt.type_string() }}) as content_id,
    cast(author_type as {{ dbt.type_string() }}) as author_type,
    cast(author_id as {{ dbt.type_string() }}) as author_id,
    cast(contact_id as {{ dbt.type_string() }}) as contact_id,
    cast(touch_at as {{ reachloop.type_timestamptz() }}) as touch_at,
    cast(credit as {{ reachloop.type_double() }}) as credit,
    -- whole cents → money without passing through a float: cents × 0.01 is exact in decimal
    cast(
        cast(
            cast(floor_cents + case when remainder_rank <= leftover_cents then 1 else 0 end
                as {{ dbt.type_bigint() }})
            as {{ reachloop.type_money() }}
        ) * 0.01
        as {{ reachloop.type_money() }}
    ) as attributed_amount,
    cast(deal_amount as {{ reachloop.type_money() }}) as deal_amount,
    cast(currency as {{ dbt.type_string() }}) as currency,
    cast(deal_status as {{ dbt.type_string() }}) as deal_status,
    cast(deal_created_at as {{ reachloop.type_timestamptz() }}) as deal_created_at,
    cast({{ reachloop.reporting_currency() }} as {{ dbt.type_string() }}) as reporting_currency,
    cast(fx_rate as {{ reachloop.type_double() }}) as fx_rate,
    cast(deal_amount_reporting as {{ reachloop.type_money() }}) as deal_amount_reporting,
    cast(
        cast(
            cast(floor_cents_reporting
                + case when remainder_rank_reporting <= leftover_cents_reporting then 1 else 0 end
                as {{ dbt.type_bigint() }})
            as {{ reachloop.type_money() }}
        ) * 0.01
        as {{ reachloop.type_money() }}
    ) as attributed_amount_reporting,
    {{ reachloop.log_position() }} as log_position_through
from ranked
{%- if is_incremental() %}

union all

-- A deal without credited touches now: a marker that replaces its rows (post-hook).
select
    touched_deals.deal_id,
    null, null, null, null, null, null, null, null, null, null, null, null, null, null, null,
    null, null, null, null,
    {{ reachloop.log_position() }}
from touched_deals
where touched_deals.deal_id not in (select deal_id from ranked)
{%- endif %}
