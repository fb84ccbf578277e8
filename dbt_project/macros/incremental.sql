{#- Incremental models over the event log.

    Each incremental model stores `ingested_through`: the newest batch ingested_at of the log
    when its rows were computed. A run re-reads only events ingested after that watermark
    minus `incremental_lookback_hours` (a batch's ingested_at is its landing transaction's
    start, so a long landing can commit a little behind a build that already ran). -#}

{#- The newest batch of the log this build may see: stored as ingested_through. -#}
{% macro log_position() -%}
    (select max(ingested_at) from {{ ref('stg_event_log__batches') }})
{%- endmacro %}

{#- Events ingested after this timestamp expression are (re)processed by an incremental run. -#}
{% macro incremental_watermark() -%}
    {%- set newest -%}
        coalesce(
            (select max(ingested_through) from {{ this }}),
            cast('1970-01-01' as {{ reachloop.type_timestamptz() }})
        )
    {%- endset -%}
    {{ dbt.dateadd('hour', -1 * var('incremental_lookback_hours'), newest) }}
{%- endmacro %}

{#- dbt's rule (the model's full_refresh config, else --full-refresh) plus the event log's:
    a build as of a past moment, or an operator decision about a batch recorded after the
    table's watermark, rebuilds from the whole log — incremental state cannot unsee a rejected
    batch nor see a restored one. Overrides dbt's global macro, used by every incremental
    materialization and by is_incremental(). -#}
{% macro should_full_refresh() %}
    {%- set configured = config.get('full_refresh') -%}
    {%- if configured is not none -%}
        {{ return(configured) }}
    {%- endif -%}
    {%- if flags.FULL_REFRESH or reachloop.as_of_is_set() -%}
        {{ return(true) }}
    {%- endif -%}
    {{ return(reachloop.batch_decided_since_last_run()) }}
{% endmacro %}

{#- Was an operator decision recorded after this incremental table's watermark? (A decision
    recorded between the last landing and the last build counts too: one extra full rebuild.) -#}
{% macro batch_decided_since_last_run() %}
    {%- if not execute or model.config.materialized != 'incremental' -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set existing = adapter.get_relation(this.database, this.schema, this.identifier) -%}
    {%- if existing is none -%}
        {{ return(false) }}
    {%- endif -%}
    {%- if 'ingested_through' not in adapter.get_columns_in_relation(existing) | map(attribute='name') | list -%}
        {{ exceptions.raise_compiler_error(
            "incremental model " ~ this ~ " must store ingested_through (see macros/incremental.sql)"
        ) }}
    {%- endif -%}
    {%- set query -%}
        select count(*)
        from {{ ref('stg_event_log__batches') }}
        where latest_action_at > (select max(ingested_through) from {{ this }})
    {%- endset -%}
    {{ return(run_query(query).columns[0].values()[0] > 0) }}
{% endmacro %}
