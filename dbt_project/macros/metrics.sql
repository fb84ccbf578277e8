{#- numerator ÷ denominator as a double, null when the denominator is 0 or null: every ratio
    of the marts (reach_ratio, engagement_rate, ctr, …) is undefined rather than infinite. -#}
{% macro safe_divide(numerator, denominator) -%}
    case
        when {{ denominator }} is null or {{ denominator }} = 0 then null
        else cast({{ numerator }} as {{ reachloop.type_double() }}) / {{ denominator }}
    end
{%- endmacro %}

{#- The median of a column within a group (continuous: the mean of the two middle values). -#}
{% macro median(column) -%}
    {{ return(adapter.dispatch('median', 'reachloop')(column)) }}
{%- endmacro %}

{% macro default__median(column) -%}
    percentile_cont(0.5) within group (order by {{ column }})
{%- endmacro %}

{% macro duckdb__median(column) -%}
    median({{ column }})
{%- endmacro %}

{#- Hours from `start` to `end`, fractional (datediff alone counts whole hour boundaries). -#}
{% macro hours_between(start, end) -%}
    {{ return(adapter.dispatch('hours_between', 'reachloop')(start, end)) }}
{%- endmacro %}

{% macro default__hours_between(start, end) -%}
    {{ dbt.datediff(start, end, 'second') }} / 3600.0
{%- endmacro %}

{#- Spark divides an integer by a decimal literal in decimals, rounded to 6 places: divide as
    doubles, as DuckDB does. -#}
{% macro spark__hours_between(start, end) -%}
    cast({{ dbt.datediff(start, end, 'second') }} as double) / 3600
{%- endmacro %}

{#- Days from `start` to `end`, fractional. -#}
{% macro days_between(start, end) -%}
    {{ return(adapter.dispatch('days_between', 'reachloop')(start, end)) }}
{%- endmacro %}

{% macro default__days_between(start, end) -%}
    {{ dbt.datediff(start, end, 'second') }} / 86400.0
{%- endmacro %}

{% macro spark__days_between(start, end) -%}
    cast({{ dbt.datediff(start, end, 'second') }} as double) / 86400
{%- endmacro %}

{% macro exact_sum(expression) -%}
    {#- A sum of doubles that does not depend on the order rows arrive in: DuckDB adds doubles
        in whatever order its threads finish, so the last bits of a float sum could change from
        one build of the same log to the next. Adding the terms in value order gives the same
        bits every time, at full double precision (1/3 + 1/3 + 1/3 is still 1). -#}
    {{ return(adapter.dispatch('exact_sum', 'reachloop')(expression)) }}
{%- endmacro %}

{% macro default__exact_sum(expression) -%}
    sum({{ expression }} order by {{ expression }})
{%- endmacro %}

{#- Spark has no ordered aggregates: the terms, sorted, are added one by one in that order. -#}
{% macro spark__exact_sum(expression) -%}
    case when count({{ expression }}) > 0 then
        aggregate(array_sort(collect_list(cast({{ expression }} as double))), cast(0 as double), (total, term) -> total + term)
    end
{%- endmacro %}

{% macro exact_avg(expression) -%}
    {#- avg() with the order-independence of exact_sum. -#}
    {{ return(adapter.dispatch('exact_avg', 'reachloop')(expression)) }}
{%- endmacro %}

{% macro default__exact_avg(expression) -%}
    avg({{ expression }} order by {{ expression }})
{%- endmacro %}

{% macro spark__exact_avg(expression) -%}
    {{ reachloop.spark__exact_sum(expression) }} / count({{ expression }})
{%- endmacro %}
