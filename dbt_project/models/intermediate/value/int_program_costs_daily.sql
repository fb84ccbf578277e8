-- Grain: program cost × day. Each cost spread evenly over the UTC days from its period_start's
-- date to its period_end's date, both included (a period ending before it starts is
-- quarantined at landing), and converted to the reporting currency at the rate in force at
-- the end of that day. A day's share is amount ÷ days, unrounded: mart_program_value rounds
-- its monthly sums once.

with

costs as (

    select
        cost_id,
        category,
        amount,
        currency,
        cast(period_start as date) as first_day,
        cast(period_end as date) as last_day
    from {{ ref('stg_event_log__program_costs') }}

),

days as (

    {{ reachloop.days_of('costs', 'first_day', 'last_day') }}

),

dated as (

    select
        cost_id,
        category,
        currency,
        cast(amount as {{ reachloop.type_double() }})
            / ({{ dbt.datediff('first_day', 'last_day', 'day') }} + 1) as amount,
        cost_day,
        cast({{ dbt.dateadd('second', 86399, 'cast(cost_day as timestamp)') }} as {{ reachloop.type_timestamptz() }})
            as fx_at
    from days

)

select
    dated.cost_id,
    dated.category,
    dated.cost_day,
    dated.currency,
    dated.amount,
    dated.fx_at,
    {{ reachloop.fx_rate('rates', 'dated.currency') }} as fx_rate,
    {{ reachloop.fx_basis('rates', 'dated.currency') }} as fx_basis,
    dated.amount * {{ reachloop.fx_rate('rates', 'dated.currency') }} as amount_reporting
from dated
{{ reachloop.fx_join('rates', 'dated.currency', 'dated.fx_at') }}
