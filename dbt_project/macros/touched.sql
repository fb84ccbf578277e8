{#- What an incremental run must recompute, found from the staging rows landed past the
    model's watermark (macros/incremental.sql) and, for the values those events had before,
    from every version the log holds of them (a share moved to another author or content item,
    an engagement moved to another share): a superset is recomputed, never a subset. -#}

{#- The events (event_key) of a staging model whose current version landed past the watermark. -#}
{% macro changed_events(staging_model) -%}
    select event_key from {{ ref(staging_model) }}
    where log_position > {{ reachloop.incremental_watermark() }}
{%- endmacro %}

{#- Employees whose shares, or whose audience (an `audience` observation, or the engaged
    fallback: engagements with their shares), may have changed past the watermark. -#}
{% macro employees_touched() -%}
    select audiences.employee_id
    from {{ ref('stg_event_log__audiences') }} as audiences
    where audiences.log_position > {{ reachloop.incremental_watermark() }}
    union
    select share_versions.author_id
    from {{ source('event_log', 'share') }} as share_versions
    where share_versions.author_type = 'employee'
        and share_versions.event_key in ({{ reachloop.changed_events('stg_event_log__shares') }})
    union
    select shares.author_id
    from {{ source('event_log', 'engagement') }} as engagement_versions
    inner join {{ ref('stg_event_log__shares') }} as shares
        on engagement_versions.share_id = shares.share_id
    where shares.author_type = 'employee'
        and engagement_versions.event_key in ({{ reachloop.changed_events('stg_event_log__engagements') }})
{%- endmacro %}

{#- Content items whose employee sharers may have changed past the watermark: every content
    id any version of a changed share had. -#}
{% macro contents_of_changed_shares() -%}
    select share_versions.content_id
    from {{ source('event_log', 'share') }} as share_versions
    where share_versions.content_id is not null
        and share_versions.event_key in ({{ reachloop.changed_events('stg_event_log__shares') }})
{%- endmacro %}
