{#- Incremental models over the event log, by log position (docs/design.md, "Incremental
    builds"). A batch's log position is its commit sequence number, assigned in its landing
    transaction, and a build pins the newest position it may see: every batch at or before a
    run's position was visible to that run, so a later run need only read positions after it.
    (The clock could not promise that: ingested_at is a landing transaction's start, and a long
    landing commits behind a build that already ran — hence the old incremental_lookback_hours,
    now accepted and unused.)

    * Staging models store the current version of each event with its batch's log_position;
      their watermark is the newest position they hold (macros/event_log.sql).
    * Models downstream store `log_position_through`: the newest log position of the build
      that computed the row; a run re-reads input rows whose log_position is past
      max(log_position_through) and replaces the keys they touch. -#}

{#- The newest log position this build may see: stored as log_position_through. -#}
{% macro log_position() -%}
    (select coalesce(max(log_position), 0) from {{ ref('stg_event_log__batches') }})
{%- endmacro %}

{#- The newest batch ingested_at this build may see (bookkeeping columns kept for readers). -#}
{% macro log_ingested_through() -%}
    (select max(ingested_at) from {{ ref('stg_event_log__batches') }})
{%- endmacro %}

{#- Input rows with a log_position past this were not seen by the model's last run. -#}
{% macro incremental_watermark() -%}
    (select coalesce(max(log_position_through), 0) from {{ this }})
{%- endmacro %}

{#- The column an incremental model's watermark is read from. -#}
{% macro watermark_column() -%}
    {{ return('log_position' if model.name.startswith('stg_') else 'log_position_through') }}
{%- endmacro %}

{#- dbt's rule (the model's full_refresh config, else --full-refresh) plus the event log's:
    a build as of a past moment, or an operator decision about a batch recorded after the
    table's watermark, rebuilds from the whole log — incremental state cannot unsee a rejected
    batch nor see a restored one. Overrides dbt's global macro, used by every incremental
    materialization and by is_incremental() (about three calls per incremental model).

    When reachloop build has already decided from meta.builds (refresh_decided_by_build), the
    log's checks below would only repeat that decision: --full-refresh is the whole answer.
    A model without a table yet needs no check either. -#}
{% macro should_full_refresh() %}
    {%- set configured = config.get('full_refresh') -%}
    {%- if configured is not none -%}
        {{ return(configured) }}
    {%- endif -%}
    {%- if flags.FULL_REFRESH or reachloop.as_of_is_set() -%}
        {{ return(true) }}
    {%- endif -%}
    {#- Decided by the build; or no table yet (a first build: the materialization creates it,
        whatever this says), which the relation cache dbt filled at start knows without a query. -#}
    {%- if reachloop.refresh_decided_by_build() or (execute and load_cached_relation(this) is none) -%}
        {{ return(false) }}
    {%- endif -%}
    {%- if reachloop.last_run_forces_full_refresh() -%}
        {{ return(true) }}
    {%- endif -%}
    {{ return(reachloop.batch_decided_since_last_run()) }}
{% endmacro %}

{#- Did the invoking reachloop build decide full refresh or not for every incremental table
    (builds/steps.py run_dbt: a successful build before it and no dbt run since, so each table
    holds that build's state and start_build's checks of meta.builds — decisions, erasures,
    an as-of build, a changed project — cover the per-table ones)? An environment variable,
    not a dbt var: it is read while models run, never while the project is parsed, so it
    leaves dbt's partial parsing valid whichever value it has. A dbt run by hand never sets it
    and keeps every check. -#}
{% macro refresh_decided_by_build() -%}
    {{ return(execute and env_var('REACHLOOP_DBT_REFRESH_DECIDED', '') == '1') }}
{%- endmacro %}

{#- An as-of run leaves the incremental tables holding a past prefix of the log, with the
    operator decisions of that moment: the next current run must not extend them. Each dbt
    invocation records its as_of (on-run-end, also after a failure); reachloop build decides
    the same from meta.builds. It records too the vars that shape what incremental tables hold
    (incremental_vars): a run under other values (another lookback window, conversion rule,
    Markov state grain …) rebuilds them whole. A run in which a model failed keeps the values
    recorded before it, so that the next run still sees the change. -#}
{% macro record_run_as_of() -%}
    {{ return(adapter.dispatch('record_run_as_of', 'reachloop')()) }}
{%- endmacro %}

{#- Spark builds every model whole (macros/spark.sql): no incremental state to protect. -#}
{% macro spark__record_run_as_of() -%}
    select 1
{%- endmacro %}

{% macro default__record_run_as_of() -%}
    {%- if flags.WHICH in ('build', 'run') -%}
    {%- set failed = results | selectattr('node.resource_type', 'equalto', 'model')
        | selectattr('status', 'equalto', 'error') | list -%}
    {%- set kept = reachloop.last_run().get('incremental_vars') if failed else reachloop.incremental_vars() -%}
    create or replace table meta.dbt_last_run as
    select
        {% if reachloop.as_of_is_set() %}'{{ var("as_of") }}'{% else %}null{% endif %}::varchar as as_of,
        now() as finished_at,
        {% if kept is not none %}'{{ kept | replace("'", "''") }}'{% else %}null{% endif %}::varchar as incremental_vars
    {%- else -%}
    select 1
    {%- endif -%}
{%- endmacro %}

{#- The vars incremental models' rows depend on, as JSON: a change of any of them makes the
    stored rows stale. -#}
{% macro incremental_vars() -%}
    {%- set values = {} -%}
    {%- for name in [
        'attribution_conversion', 'attribution_models', 'audience_fallback_days', 'half_life_days',
        'lookback_days', 'markov_state_grain', 'min_group_size', 'missing_user_agent_is_bot',
        'reporting_currency',
    ] -%}
        {%- do values.update({name: var(name)}) -%}
    {%- endfor -%}
    {{ return(tojson(values, sort_keys=true)) }}
{%- endmacro %}

{#- What meta.dbt_last_run says, as a dict of its columns (empty before any run). -#}
{% macro last_run() %}
    {%- if adapter.get_relation(target.database, 'meta', 'dbt_last_run') is none -%}
        {{ return({}) }}
    {%- endif -%}
    {%- set table = run_query('select * from meta.dbt_last_run') -%}
    {%- if table.rows | length == 0 -%}
        {{ return({}) }}
    {%- endif -%}
    {{ return(dict(zip(table.column_names, table.rows[0].values()))) }}
{% endmacro %}

{#- Must this incremental table be rebuilt whole because of the last run? When it was as of a
    past moment, or ran under other incremental vars (or recorded none: a home from before
    they were recorded, or whose last run failed before recording them). -#}
{% macro last_run_forces_full_refresh() %}
    {%- if not execute or model.config.materialized != 'incremental' -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set last = reachloop.last_run() -%}
    {%- if not last -%}
        {{ return(false) }}
    {%- endif -%}
    {{ return(last.get('as_of') is not none or last.get('incremental_vars') != reachloop.incremental_vars()) }}
{% endmacro %}

{#- Was an operator decision recorded after the commit of the newest batch this incremental
    table has seen? (A decision recorded between the last landing and the last build counts
    too: a full rebuild per run until the next batch lands; reachloop build decides once, from
    meta.builds, and skips a build with nothing new.) -#}
{% macro batch_decided_since_last_run() %}
    {%- if not execute or model.config.materialized != 'incremental' -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set existing = adapter.get_relation(this.database, this.schema, this.identifier) -%}
    {%- if existing is none -%}
        {{ return(false) }}
    {%- endif -%}
    {%- set watermark = reachloop.watermark_column() -%}
    {%- if watermark not in adapter.get_columns_in_relation(existing) | map(attribute='name') | list -%}
        {# A table from before log positions (or a model that lost its watermark): rebuild. #}
        {{ return(true) }}
    {%- endif -%}
    {%- set query -%}
        select count(*)
        from {{ ref('stg_event_log__batches') }}
        where latest_action_at > coalesce(
            (
                select max(seen.committed_at)
                from {{ ref('stg_event_log__batches') }} as seen
                where seen.log_position <= (select max({{ watermark }}) from {{ this }})
            ),
            cast('1970-01-01' as {{ reachloop.type_timestamptz() }})
        )
    {%- endset -%}
    {{ return(run_query(query).columns[0].values()[0] > 0) }}
{% endmacro %}
