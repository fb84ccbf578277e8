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

{#- A double-precision float for ratios. dbt.type_float() is single precision (REAL) on DuckDB. -#}
{% macro type_double() -%}
    {{ return(adapter.dispatch('type_double', 'reachloop')()) }}
{%- endmacro %}

{% macro default__type_double() -%}
    {{ return('double precision') }}
{%- endmacro %}

{% macro duckdb__type_double() -%}
    {{ return('double') }}
{%- endmacro %}

{#- Exchange rates are exact too: the contract lands them as DECIMAL(18,8). -#}
{% macro type_rate() -%}
    {{ return('decimal(18,8)') }}
{%- endmacro %}

{% macro spark__type_double() -%}
    {{ return('double') }}
{%- endmacro %}
