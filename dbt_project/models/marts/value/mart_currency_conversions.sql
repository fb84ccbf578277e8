-- Grain: source × source_id × fx_at. Every conversion to the reporting currency the value
-- and attribution marts make: deal amounts (at close, or at the build while open), media rate
-- quotes (when quoted), program costs (per day). A row with fx_rate null is an amount no rate
-- could convert: its currency and date are here, and gate 2 warns about each one.

with

deals as (

    select
        'deal' as source,
        deal_id as source_id,
        currency,
        fx_at,
        cast(amount as {{ reachloop.type_double() }}) as amount,
        fx_rate,
        fx_basis,
        cast(amount_reporting as {{ reachloop.type_double() }}) as amount_reporting
    from {{ ref('int_deal_amounts_converted') }}

),

media_rates as (

    select
        'media_rate' as source,
        network || ' ' || metric as source_id,
        currency,
        observed_at as fx_at,
        cast(amount as {{ reachloop.type_double() }}) as amount,
        fx_rate,
        fx_basis,
        amount_reporting
    from {{ ref('int_media_rates_converted') }}

),

costs as (

    select
        'program_cost' as source,
        cost_id as source_id,
        currency,
        fx_at,
        amount,
        fx_rate,
        fx_basis,
        amount_reporting
    from {{ ref('int_program_costs_daily') }}

)

select
    cast(source as {{ dbt.type_string() }}) as source,
    cast(source_id as {{ dbt.type_string() }}) as source_id,
    cast(currency as {{ dbt.type_string() }}) as currency,
    cast(fx_at as {{ reachloop.type_timestamptz() }}) as fx_at,
    cast(amount as {{ reachloop.type_double() }}) as amount,
    cast(fx_rate as {{ reachloop.type_double() }}) as fx_rate,
    cast(fx_basis as {{ dbt.type_string() }}) as fx_basis,
    cast(amount_reporting as {{ reachloop.type_double() }}) as amount_reporting,
    cast({{ reachloop.reporting_currency() }} as {{ dbt.type_string() }}) as reporting_currency
from (
    select * from deals
    union all
    select * from media_rates
    union all
    select * from costs
) as conversions
