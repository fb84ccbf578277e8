-- Grain: deal with an amount. Its latest amount in the reporting currency: a won or lost deal
-- at the rate in force when it closed, an open deal at the rate in force at the build (its
-- as_of, else the newest landing it sees: never the clock). amount_reporting is null when no
-- rate is known (fx_rate null): never dropped, shown by mart_currency_conversions and warned
-- about by gate 2.

with

deals as (

    select
        deal_id,
        amount,
        currency,
        status,
        case when status = 'open' then {{ reachloop.build_moment() }} else closed_at end as fx_at
    from {{ ref('int_deals_folded') }}
    where amount is not null

),

converted as (

    select
        deals.deal_id,
        deals.amount,
        deals.currency,
        deals.status,
        deals.fx_at,
        {{ reachloop.fx_rate('fx', 'deals.currency') }} as fx_rate,
        {{ reachloop.fx_basis('fx', 'deals.currency') }} as fx_basis
    from deals
    {{ reachloop.fx_join('fx', 'deals.currency', 'deals.fx_at') }}

)

select
    deal_id,
    amount,
    currency,
    status,
    fx_at,
    fx_rate,
    fx_basis,
    {{ reachloop.converted('amount', 'fx_rate') }} as amount_reporting
from converted
