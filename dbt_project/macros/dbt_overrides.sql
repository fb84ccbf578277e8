{#- The schemas of a database, for dbt's check at the start of every run of which schemas it
    must create. dbt passes the database quoted, as it would write it in SQL ("warehouse"), and
    dbt-duckdb compared that text, quotes included, with the catalog's bare name: no schema was
    ever found, so every run sent "create schema if not exists" (and dbt-duckdb's check of the
    database's type before it, in a transaction of its own) for each of its four schemas.
    Unquoted here, the existing schemas are found and only a missing one is created. -#}
{% macro duckdb__list_schemas(database) -%}
    {%- set name = database -%}
    {%- if name is not none and name | length > 1 and name.startswith('"') and name.endswith('"') -%}
        {%- set name = name[1:-1] | replace('""', '"') -%}
    {%- endif -%}
    {%- set sql -%}
        select schema_name
        from system.information_schema.schemata
        {%- if name is not none %}
        where lower(catalog_name) = '{{ name | lower | replace("'", "''") }}'
        {%- endif %}
    {%- endset -%}
    {{ return(run_query(sql)) }}
{%- endmacro %}

{#- An incremental run's check that the new rows have the columns of the table they go into
    (on_schema_change), and the columns it inserts. dbt reads both tables' columns for it: two
    queries per incremental model. When reachloop build decided the refresh
    (refresh_decided_by_build: a successful build of this same project before it, no dbt run
    since — a changed project is a full refresh), every incremental table was written by this
    project's SQL and the check cannot fail: the columns to insert are the contract's when
    there is one, else the new rows'. A plain dbt run keeps dbt's check. -#}
{% macro duckdb__process_schema_changes(on_schema_change, source_relation, target_relation) %}
    {%- if not reachloop.refresh_decided_by_build() -%}
        {{ return(dbt.default__process_schema_changes(on_schema_change, source_relation, target_relation)) }}
    {%- endif -%}
    {%- if model.config.contract.enforced and model.columns -%}
        {%- set columns = [] -%}
        {%- for column in model.columns.values() -%}
            {%- do columns.append(api.Column.create(column.name, column.data_type)) -%}
        {%- endfor -%}
        {{ return(columns) }}
    {%- endif -%}
    {{ return(adapter.get_columns_in_relation(source_relation)) }}
{% endmacro %}

{#- A contract's check that the model's SQL gives the declared columns (dbt's
    assert_columns_equivalent: two DESCRIBEs a node, of the model's select and of the declared
    columns, before a table or an incremental run's new rows are written). In an incremental
    build that reachloop build decided (refresh_decided_by_build, no --full-refresh, no as-of),
    the project is the one whose last build, successful, checked every contract: the columns
    cannot differ, so the check is left out (the table is still created with the declared
    columns). A full refresh, which a changed project is, and a dbt run by hand keep it. -#}
{% macro duckdb__get_assert_columns_equivalent(sql) -%}
    {%- if reachloop.refresh_decided_by_build() and not flags.FULL_REFRESH and not reachloop.as_of_is_set() -%}
        {{ return('') }}
    {%- endif -%}
    {{ return(assert_columns_equivalent(sql)) }}
{%- endmacro %}

{#- delete+insert, as dbt-duckdb writes it, but a key given as a list matches null to null
    (is not distinct from). dbt-duckdb compares each key column with =, which never matches a
    null: a row whose key holds a null (a group of deals without a currency yet) was never
    deleted when its key was written again, so the old row stayed beside the new one, or kept
    its stale figures. Give a key that can hold a null as a list; a key given as one string is
    compared as dbt-duckdb does. -#}
{% macro duckdb__get_delete_insert_merge_sql(target, source, unique_key, dest_columns, incremental_predicates) -%}
    {%- set dest_cols_csv = get_quoted_csv(dest_columns | map(attribute="name")) -%}
    {%- if unique_key and unique_key is sequence and unique_key is not string %}
        delete from {{ target }} as dbt_incremental_target
        using {{ source }}
        where
            {%- for key in unique_key %}
            {{ source }}.{{ key }} is not distinct from dbt_incremental_target.{{ key }}
            {{- " and" if not loop.last }}
            {%- endfor %}
            {%- for predicate in incremental_predicates or [] %}
            and {{ predicate }}
            {%- endfor %};
    {%- elif unique_key %}
        delete from {{ target }}
        where ({{ unique_key }}) in (select ({{ unique_key }}) from {{ source }})
            {%- for predicate in incremental_predicates or [] %}
            and {{ predicate }}
            {%- endfor %};
    {%- endif %}

    insert into {{ target }} ({{ dest_cols_csv }})
    (
        select {{ dest_cols_csv }}
        from {{ source }}
    )
{%- endmacro %}

{#- A table model rebuilt in place: its old table dropped and the new one created under its
    name, in one transaction. dbt-duckdb creates the new table under a temporary name, looks
    up the old one's indexes, renames the old table away and the new one in, commits, then
    drops the old one: three statements more a node, each with its Jinja and its events, for a
    swap that DuckDB's transactional catalog makes atomic anyway. A failure anywhere rolls the
    transaction back, the old table with it. The create is rendered before the drop, so a
    contract check that fails fails the model before anything is touched.

    A Python model writes its table through a cursor of its own, in a transaction of its own:
    it writes under the temporary name, and the old table is then dropped and the new one
    renamed in, in one transaction. Tables with foreign keys or indexes would need dbt-duckdb's
    handling; reachloop declares none. -#}
{% materialization table, adapter="duckdb", supported_languages=['sql', 'python'] %}
    {%- set language = model['language'] -%}
    {%- set existing_relation = load_cached_relation(this) -%}
    {%- set target_relation = this.incorporate(type='table') -%}
    {%- set build_relation = target_relation -%}
    {%- if language == 'python' -%}
        {%- set build_relation = make_intermediate_relation(target_relation) -%}
        {{ drop_relation_if_exists(load_cached_relation(build_relation)) }}
    {%- endif -%}

    {{ run_hooks(pre_hooks, inside_transaction=False) }}
    {{ run_hooks(pre_hooks, inside_transaction=True) }}
    {%- set build_code = create_table_as(False, build_relation, compiled_code, language) -%}
    {%- if language == 'sql' and existing_relation is not none -%}
        {%- do adapter.ensure_transaction() -%}
        {%- do adapter.drop_relation(existing_relation) -%}
    {%- endif -%}
    {% call statement('main', language=language) -%}
        {{- build_code }}
    {%- endcall %}
    {%- if language == 'python' -%}
        {%- do adapter.ensure_transaction() -%}
        {%- if existing_relation is not none -%}
            {%- do adapter.drop_relation(existing_relation) -%}
        {%- endif -%}
        {%- do adapter.rename_relation(build_relation, target_relation) -%}
    {%- endif -%}
    {{ run_hooks(post_hooks, inside_transaction=True) }}
    {{ adapter.commit() }}
    {{ run_hooks(post_hooks, inside_transaction=False) }}

    {{ return({'relations': [target_relation]}) }}
{% endmaterialization %}
