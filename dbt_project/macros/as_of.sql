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
    log position the running build pinned when it started (meta.builds.log_cutoff), so that a
    batch landing mid-build waits for the next build instead of skipping gate 1. Read at query
    time rather than passed as a var: a var that changes every build would force dbt to
    re-parse the whole project every build (seconds). Outside a build there is no cutoff.
    Operator decisions are not bounded by log_cutoff: a rejection counts at once. -#}
{% macro ingested_in_build(column) -%}
    {{ reachloop.at_or_before_as_of(column) }}
    and {{ column }} <= coalesce(
        (
            select max(builds.log_cutoff)
            from {{ source('event_log_meta', 'builds') }} as builds
            where builds.status = 'running'
        ),
        {{ column }}
    )
{%- endmacro %}
