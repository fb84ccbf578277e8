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
