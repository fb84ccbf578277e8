{#- What the per-share models downstream of fct_shares recompute in an incremental run (docs/
    design.md, "Incremental builds: the share side downstream"). fct_shares stamps every row it
    recomputes with the build's log position, so the rows past the calling model's own watermark
    are the shares whose figures may have changed since that model last ran: fct_shares found
    them from every input it reads (the share, its network size, metrics and tracked clicks). -#}

{#- Shares whose fct_shares row was recomputed since the calling model's last run. -#}
{% macro shares_recomputed() -%}
    select share_id from {{ ref('fct_shares') }}
    where log_position_through > {{ reachloop.incremental_watermark() }}
{%- endmacro %}

{#- Every share a version of a changed share event named (all of them: a share that moved to
    another author or network leaves rows behind under its old values). -#}
{% macro changed_share_ids() -%}
    select share_versions.share_id, share_versions.author_id, share_versions.author_type,
        share_versions.posted_at
    from {{ source('event_log', 'share') }} as share_versions
    where share_versions.event_key in ({{ reachloop.changed_events('stg_event_log__shares') }})
{%- endmacro %}

{#- The (posting month, network) groups of the rollups by month whose shares may have changed
    past the watermark (mart_program_kpis_monthly, mart_network_monthly): the current place of
    every share fct_shares recomputed since (its figures moved, or the share itself), and the
    place every version of a changed share had (one moved to another month or network leaves
    its old group behind). Months are UTC calendar months, truncated as the rollups do. -#}
{% macro share_months_touched() -%}
    select cast({{ dbt.date_trunc('month', 'shares.posted_at') }} as date) as month_start,
        cast(shares.network as {{ dbt.type_string() }}) as network
    from {{ ref('fct_shares') }} as shares
    where shares.log_position_through > {{ reachloop.incremental_watermark() }}
    union
    select cast({{ dbt.date_trunc('month', 'share_versions.posted_at') }} as date),
        cast(share_versions.network as {{ dbt.type_string() }})
    from {{ source('event_log', 'share') }} as share_versions
    where share_versions.event_key in ({{ reachloop.changed_events('stg_event_log__shares') }})
{%- endmacro %}

{#- Every tracking token a version of a changed share had: the clicks on it may have gained a
    share (a new share, or one that took the token) or lost one (a share that left it). -#}
{% macro tokens_of_changed_shares() -%}
    select share_versions.tracking_token
    from {{ source('event_log', 'share') }} as share_versions
    where share_versions.event_key in ({{ reachloop.changed_events('stg_event_log__shares') }})
{%- endmacro %}
