-- Grain: currency × validity interval [valid_from, valid_to). The rate that converts one unit
-- of each currency into the reporting currency (var reporting_currency), from the fx_rate
-- quotes (1 unit of from_currency = rate units of to_currency); valid_to is null for the rate
-- in force now. The reporting currency itself is not here (its rate is 1, see fx_rate()).
-- Which quote counts at a moment t (docs/design.md, "Currencies"):
--   * direct or inverse: the newest quote at or before t of the pair, either way round
--     (C → R as quoted, or R → C inverted, 1 ÷ rate); at one instant a direct quote wins;
--   * cross: before a currency's first quote against the reporting currency (or without one),
--     through one other currency P with quotes against both: C → P × P → R, each leg the newest
--     at or before t (P alphabetically first when several could serve);
--   * else no rate: the amount stays unconverted and gate 2 warns (mart_currency_conversions).

{%- set reporting = reachloop.reporting_currency() %}

with

quotes as (

    select from_currency, to_currency, cast(rate as {{ reachloop.type_double() }}) as rate, observed_at
    from {{ ref('stg_event_log__fx_rates') }}
    where from_currency <> to_currency

),

edges as (

    select from_currency, to_currency, rate, observed_at, 0 as basis_rank, 'direct' as basis
    from quotes
    union all
    select to_currency, from_currency, 1.0 / rate, observed_at, 1 as basis_rank, 'inverse' as basis
    from quotes

),

pair_quotes as (

    select from_currency, to_currency, rate, observed_at, basis
    from (
        select
            *,
            row_number() over (
                partition by from_currency, to_currency, observed_at order by basis_rank
            ) as basis_order
        from edges
    ) as ranked
    where basis_order = 1

),

pair_series as (

    select
        from_currency,
        to_currency,
        rate,
        basis,
        observed_at as valid_from,
        lead(observed_at) over (partition by from_currency, to_currency order by observed_at) as valid_to
    from pair_quotes

),

direct as (

    select from_currency as currency, valid_from, valid_to, rate, basis
    from pair_series
    where to_currency = {{ reporting }}

),

first_direct as (

    select currency, min(valid_from) as first_at
    from direct
    group by currency

),

pivots as (

    select legs.from_currency as currency, min(legs.to_currency) as pivot
    from pair_series as legs
    where legs.from_currency <> {{ reporting }}
        and legs.to_currency <> {{ reporting }}
        and legs.to_currency in (select currency from direct)
    group by legs.from_currency

),

cross_points as (

    -- the moments a cross rate can change: a quote of either leg
    select pivots.currency, pivots.pivot, legs.valid_from as at
    from pivots
    inner join pair_series as legs
        on legs.from_currency = pivots.currency and legs.to_currency = pivots.pivot
    union
    select pivots.currency, pivots.pivot, direct.valid_from as at
    from pivots
    inner join direct
        on direct.currency = pivots.pivot

),

cross_quotes as (

    select
        points.currency,
        points.at as valid_from,
        first_leg.rate * second_leg.rate as rate,
        'cross via ' || points.pivot as basis
    from cross_points as points
    inner join pair_series as first_leg
        on first_leg.from_currency = points.currency
        and first_leg.to_currency = points.pivot
        and first_leg.valid_from <= points.at
        and (first_leg.valid_to is null or points.at < first_leg.valid_to)
    inner join direct as second_leg
        on second_leg.currency = points.pivot
        and second_leg.valid_from <= points.at
        and (second_leg.valid_to is null or points.at < second_leg.valid_to)

),

cross_series as (

    select
        cross_quotes.currency,
        cross_quotes.valid_from,
        lead(cross_quotes.valid_from) over (
            partition by cross_quotes.currency order by cross_quotes.valid_from
        ) as valid_to,
        cross_quotes.rate,
        cross_quotes.basis
    from cross_quotes

),

cross_before_direct as (

    select
        cross_series.currency,
        cross_series.valid_from,
        case
            when first_direct.first_at is not null
                and (cross_series.valid_to is null or cross_series.valid_to > first_direct.first_at)
                then first_direct.first_at
            else cross_series.valid_to
        end as valid_to,
        cross_series.rate,
        cross_series.basis
    from cross_series
    left join first_direct
        on cross_series.currency = first_direct.currency
    where first_direct.first_at is null or cross_series.valid_from < first_direct.first_at

)

select
    cast(currency as {{ dbt.type_string() }}) as currency,
    cast(valid_from as {{ reachloop.type_timestamptz() }}) as valid_from,
    cast(valid_to as {{ reachloop.type_timestamptz() }}) as valid_to,
    cast(rate as {{ reachloop.type_double() }}) as rate,
    cast(basis as {{ dbt.type_string() }}) as basis
from direct
union all
select
    cast(currency as {{ dbt.type_string() }}),
    cast(valid_from as {{ reachloop.type_timestamptz() }}),
    cast(valid_to as {{ reachloop.type_timestamptz() }}),
    cast(rate as {{ reachloop.type_double() }}),
    cast(basis as {{ dbt.type_string() }})
from cross_before_direct
