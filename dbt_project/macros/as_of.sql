{#- The build's as-of moment (var `as_of`): builds see only batches committed at or before it.
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

{#- Batches a build may see, by log position (meta.batches.log_position, the commit
    sequence): at or before the position the running build pinned when it started
    (meta.builds.log_cutoff_position), so that a batch landing mid-build waits for the next
    build instead of skipping gate 1; and, as of a moment, at or before the last position
    committed by then (committed_at, not ingested_at: the latter is the landing transaction's
    start, and a long landing commits after it). Read at query time rather than passed as a
    var: a var that changes every build would force dbt to re-parse the whole project every
    build (seconds). Outside a build there is no cutoff. Operator decisions are not bounded by
    the position: a rejection counts at once. -#}
{% macro in_build_log(log_position, batches) -%}
    {{ log_position }} <= coalesce(
        (
            select max(builds.log_cutoff_position)
            from {{ source('event_log_meta', 'builds') }} as builds
            where builds.status = 'running'
        ),
        {{ log_position }}
    )
    {%- if reachloop.as_of_is_set() %}
    and {{ log_position }} <= coalesce(
        (
            select max(committed.log_position)
            from {{ batches }} as committed
            where committed.committed_at <= {{ reachloop.as_of_timestamp() }}
        ),
        0
    )
    {%- endif %}
{%- endmacro %}
