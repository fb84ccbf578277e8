{#- An instant in time. The event log stores TIMESTAMPTZ on DuckDB; dbt's type_timestamp()
    would drop the zone there, so the zone-aware type is dispatched. -#}
{% macro type_timestamptz() -%}
    {{ return(adapter.dispatch('type_timestamptz', 'reachloop')()) }}
{%- endmacro %}

{% macro default__type_timestamptz() -%}
    {{ return(dbt.type_timestamp()) }}
{%- endmacro %}

{% macro duckdb__type_timestamptz() -%}
    {{ return('timestamptz') }}
{%- endmacro %}

{#- Money is exact: the contract lands amounts as DECIMAL(18,2). -#}
{% macro type_money() -%}
    {{ return('decimal(18,2)') }}
{%- endmacro %}
