{#- The build's as-of moment (var `as_of`): builds see only events ingested at or before it.
    Unset means no cutoff. -#}

{% macro as_of_is_set() -%}
    {{ return(var('as_of', none) not in (none, '')) }}
{%- endmacro %}

{#- The as_of var as a timestamp literal; callers check as_of_is_set() first. -#}
{% macro as_of_timestamp() -%}
    cast('{{ var("as_of") }}' as {{ reachloop.type_timestamptz() }})
{%- endmacro %}

{#- `column <= as_of`, or an always-true predicate when no as_of is set. -#}
{% macro at_or_before_as_of(column) -%}
    {%- if reachloop.as_of_is_set() -%}
        {{ column }} <= {{ reachloop.as_of_timestamp() }}
    {%- else -%}
        1 = 1
    {%- endif -%}
{%- endmacro %}
