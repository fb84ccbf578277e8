{#- Conversion to the reporting currency (var reporting_currency), the one place it is spelled
    out: join int_fx_rates_to_reporting with fx_join(alias, currency, at), then take
    fx_rate(alias, currency) — 1 for the reporting currency itself, the rate in force at `at`
    otherwise, null when none is (a gap that mart_currency_conversions shows and gate 2 warns
    about). -#}

{% macro reporting_currency() -%}
    '{{ var("reporting_currency") | upper }}'
{%- endmacro %}

{% macro fx_join(alias, currency, at) -%}
    left join {{ ref('int_fx_rates_to_reporting') }} as {{ alias }}
        on {{ alias }}.currency = {{ currency }}
        and {{ alias }}.valid_from <= {{ at }}
        and ({{ alias }}.valid_to is null or {{ at }} < {{ alias }}.valid_to)
{%- endmacro %}

{% macro fx_rate(alias, currency) -%}
    case when {{ currency }} = {{ reachloop.reporting_currency() }} then 1.0 else {{ alias }}.rate end
{%- endmacro %}

{% macro fx_basis(alias, currency) -%}
    case when {{ currency }} = {{ reachloop.reporting_currency() }} then 'same' else {{ alias }}.basis end
{%- endmacro %}

{#- The moment an open deal's amount is converted at, "as of the build": the newest landing the
    build sees (batches are already bounded by the as_of var and the build's log position), not
    the clock and not as_of itself: the same event log must build the same marts, incrementally or
    in one full refresh, today or tomorrow, and an as-of build must reproduce what the build at
    that moment said. -#}
{% macro build_moment() -%}
    (select max(ingested_at) from {{ ref('stg_event_log__batches') }} where not is_rejected)
{%- endmacro %}

{#- An amount times a rate, to the cent (half away from zero), as money. -#}
{% macro converted(amount, rate) -%}
    cast(round(cast({{ amount }} as {{ reachloop.type_double() }}) * {{ rate }}, 2) as {{ reachloop.type_money() }})
{%- endmacro %}

{#- One row per day from `first_day` to `last_day` (dates, both included) of each row of
    `relation`: the relation's columns and `cost_day`. -#}
{% macro days_of(relation, first_day, last_day) -%}
    {{ return(adapter.dispatch('days_of', 'reachloop')(relation, first_day, last_day)) }}
{%- endmacro %}

{% macro default__days_of(relation, first_day, last_day) -%}
    {{ exceptions.raise_compiler_error("days_of has no implementation for this adapter yet: add one (a date spine joined on the day range)") }}
{%- endmacro %}

{% macro duckdb__days_of(relation, first_day, last_day) -%}
    select spanned.*, cast(unnest(generate_series({{ first_day }}, {{ last_day }}, interval 1 day)) as date) as cost_day
    from {{ relation }} as spanned
{%- endmacro %}

{#- Σ amount over the rows where `condition` holds, null as soon as one of them is null (an
    amount without a known rate): a total that silently left a deal out would look right.
    `exact`: the amounts are doubles, added in value order (exact_sum) so that the total's last
    bits cannot move with the order rows arrive in; decimal amounts add exactly either way. -#}
{% macro sum_known(amount, condition, exact=false) -%}
    {%- set term = 'case when ' ~ condition ~ ' then ' ~ amount ~ ' else 0 end' %}
    case
        when count(case when {{ condition }} and {{ amount }} is null then 1 end) > 0 then null
        else {% if exact %}{{ reachloop.exact_sum(term) }}{% else %}sum({{ term }}){% endif %}
    end
{%- endmacro %}

{% macro spark__days_of(relation, first_day, last_day) -%}
    select spanned.*, cost_day
    from {{ relation }} as spanned
    lateral view explode(sequence(cast({{ first_day }} as date), cast({{ last_day }} as date), interval 1 day)) as cost_day
{%- endmacro %}
