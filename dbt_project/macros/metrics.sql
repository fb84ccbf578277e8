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
    {{ dbt.datediff(start, end, 'second') }} / 3600.0
{%- endmacro %}
