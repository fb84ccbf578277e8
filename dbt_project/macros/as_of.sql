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

{#- Events and batches a build may see: ingested at or before as_of, and at or before the
    log position the build pinned when it started (var `log_cutoff`, set by the pipeline so
    that a batch landing mid-build waits for the next build instead of skipping gate 1).
    Operator decisions are not bounded by log_cutoff: a rejection counts at once. -#}
{% macro ingested_in_build(column) -%}
    {{ reachloop.at_or_before_as_of(column) }}
    {%- if var('log_cutoff', none) not in (none, '') %}
        and {{ column }} <= cast('{{ var("log_cutoff") }}' as {{ reachloop.type_timestamptz() }})
    {%- endif -%}
{%- endmacro %}
