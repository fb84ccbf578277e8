{#- The Spark engine (docs/design.md, "Engines"). What differs from DuckDB lives in macros
    dispatched on the adapter; this file holds what only Spark needs. -#}

{#- Incremental models build as whole tables on Spark. Their DuckDB strategy (delete+insert on
    a key) needs a table format with row-level deletes (Delta, Iceberg, Hudi: merge on
    Databricks), which a plain Parquet warehouse lacks. A full build has no marker rows, so the
    post-hooks that delete them on DuckDB (macros/touched.sql) are not run: Parquet tables take
    no DELETE. -#}
{% materialization incremental, adapter='spark', supported_languages=['sql'] -%}
    {%- set target_relation = this.incorporate(type='table') -%}
    {%- set existing = load_relation(this) -%}
    {{ run_hooks(pre_hooks) }}
    {%- if existing is not none -%}
        {{ adapter.drop_relation(existing) }}
    {%- endif -%}
    {%- call statement('main') -%}
        {{ create_table_as(false, target_relation, sql) }}
    {%- endcall -%}
    {% do persist_docs(target_relation, model) %}
    {{ return({'relations': [target_relation]}) }}
{%- endmaterialization %}

{#- Tables on Spark, as dbt-spark creates them, without its contract check: the marts' contracts
    declare DuckDB's types (varchar, timestamp with time zone), which Spark SQL does not
    parse. The contract is enforced where the marts leave Spark instead
    (builds/spark_engine.py: exactly the declared columns, each cast to its declared type). -#}
{% macro spark__create_table_as(temporary, relation, compiled_code, language='sql') -%}
    {%- if temporary -%}
        {{ create_temporary_view(relation, compiled_code) }}
    {%- else -%}
        create table {{ relation }}
        {{ file_format_clause() }}
        {{ partition_cols(label="partitioned by") }}
        as
        {{ compiled_code }}
    {%- endif -%}
{%- endmacro %}
