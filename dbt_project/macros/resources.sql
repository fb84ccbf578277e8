{#- Where DuckDB spills large joins and aggregates: $REACHLOOP_TEMP_DIRECTORY, when set.
    Set once per dbt invocation (on-run-start): DuckDB refuses to change temp_directory after
    a query has spilled, even to the same value. Other engines have no such setting. -#}
{% macro set_spill_directory() -%}
    {{ return(adapter.dispatch('set_spill_directory', 'reachloop')()) }}
{%- endmacro %}

{% macro default__set_spill_directory() -%}
    select 1
{%- endmacro %}

{% macro duckdb__set_spill_directory() -%}
    {%- set spill = env_var('REACHLOOP_TEMP_DIRECTORY', '') -%}
    {%- if spill -%}
        set temp_directory = '{{ spill | replace("'", "''") }}'
    {%- else -%}
        select 1
    {%- endif -%}
{%- endmacro %}
