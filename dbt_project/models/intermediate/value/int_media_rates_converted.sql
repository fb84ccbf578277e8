-- Grain: media rate quote (network, metric, observed_at), in force from observed_at until the
-- next quote of its network and metric (valid_to; null: still in force). A quote is converted
-- to the reporting currency at the rate in force when it was quoted: a rate card's price is
-- what it was that day (docs/design.md, "Earned media value").

with

quotes as (

    select
        network,
        metric,
        amount,
        currency,
        observed_at,
        lead(observed_at) over (partition by network, metric order by observed_at) as valid_to
    from {{ ref('stg_event_log__media_rates') }}

),

converted as (

    select
        quotes.*,
        {{ reachloop.fx_rate('fx', 'quotes.currency') }} as fx_rate,
        {{ reachloop.fx_basis('fx', 'quotes.currency') }} as fx_basis
    from quotes
    {{ reachloop.fx_join('fx', 'quotes.currency', 'quotes.observed_at') }}

)

select
    network,
    metric,
    amount,
    currency,
    observed_at,
    valid_to,
    fx_rate,
    fx_basis,
    cast(amount as {{ reachloop.type_double() }}) * fx_rate as amount_reporting
from converted
