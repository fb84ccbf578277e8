{#- What an incremental run must recompute, found from the staging rows landed past the
    model's watermark (macros/incremental.sql) and, for the values those events had before,
    from every version the log holds of them (a share moved to another author or content item,
    an engagement moved to another share): a superset is recomputed, never a subset. -#}

{#- The events (event_key) of a staging model whose current version landed past the watermark. -#}
{% macro changed_events(staging_model) -%}
    select event_key from {{ ref(staging_model) }}
    where log_position > {{ reachloop.incremental_watermark() }}
{%- endmacro %}

{#- Where an employee's audience (int_share_audiences_resolved: the latest observation at or
    before a share, else the engaged fallback) may have changed past the watermark: rows of
    (employee_id, touched_from, touched_until), a share of the employee posted in
    [touched_from, touched_until] (null: unbounded) may have another audience now.
      * an `audience` observation at o: the shares posted at or after o;
      * an engagement (every version of a changed one; and the engagements of a changed share,
        which move with it) at t on a share of the employee (any author a version of that share
        had): the engaged fallback of the shares posted in (t, t + audience_fallback_days]
        only — adding or removing one engagement grows, shrinks, splits or joins that member's
        spans (int_employee_engager_spans) only within that interval; a day of slack.
    A changed share touches the items it pointed to (contents_of_changed_shares) and, in a
    model that reads an employee's latest share or set of items, its authors whole
    (authors_of_changed_shares). -#}
{% macro audience_windows_touched() -%}
    {%- set watermark = reachloop.incremental_watermark() -%}
    select audiences.employee_id, min(audiences.observed_at) as touched_from,
        cast(null as {{ reachloop.type_timestamptz() }}) as touched_until
    from {{ ref('stg_event_log__audiences') }} as audiences
    where audiences.log_position > {{ watermark }}
    group by audiences.employee_id
    union all
    select share_versions.author_id, engaged.occurred_at,
        {{ dbt.dateadd('day', var('audience_fallback_days') + 1, 'engaged.occurred_at') }}
    from (
        select share_id, occurred_at
        from {{ source('event_log', 'engagement') }}
        where event_key in ({{ reachloop.changed_events('stg_event_log__engagements') }})
        union
        select share_id, occurred_at
        from {{ ref('stg_event_log__engagements') }}
        where share_id in (
            select share_id from {{ ref('stg_event_log__shares') }}
            where log_position > {{ watermark }}
        )
    ) as engaged
    inner join {{ source('event_log', 'share') }} as share_versions
        on engaged.share_id = share_versions.share_id
    where share_versions.author_type = 'employee'
{%- endmacro %}

{#- Is a share (its author and posting time) in one of the windows of audience_windows_touched? -#}
{% macro in_touched_window(windows, author, posted_at) -%}
    exists (
        select 1 from {{ windows }} as window_
        where window_.employee_id = {{ author }}
            and (window_.touched_from is null or {{ posted_at }} >= window_.touched_from)
            and (window_.touched_until is null or {{ posted_at }} <= window_.touched_until)
    )
{%- endmacro %}

{#- Every employee a version of a changed share had as its author. -#}
{% macro authors_of_changed_shares() -%}
    select share_versions.author_id
    from {{ source('event_log', 'share') }} as share_versions
    where share_versions.author_type = 'employee'
        and share_versions.event_key in ({{ reachloop.changed_events('stg_event_log__shares') }})
{%- endmacro %}

{#- Content items whose employee sharers may have changed past the watermark: every content
    id any version of a changed share had. -#}
{% macro contents_of_changed_shares() -%}
    select share_versions.content_id
    from {{ source('event_log', 'share') }} as share_versions
    where share_versions.content_id is not null
        and share_versions.event_key in ({{ reachloop.changed_events('stg_event_log__shares') }})
{%- endmacro %}

{#- The keys whose rows differ, either way, between two sets of rows over the same columns:
    added, changed or gone. For a model that computes every group and writes only the groups
    that moved (EXCEPT compares whole rows, nulls equal; exact sums give the same bits). -#}
{% macro keys_that_differ(keys, columns, new_rows, stored_rows) -%}
    select {{ keys | join(', ') }} from (
        select {{ columns | join(', ') }} from {{ new_rows }}
        except
        select {{ columns | join(', ') }} from {{ stored_rows }}
    ) as added_or_changed
    union
    select {{ keys | join(', ') }} from (
        select {{ columns | join(', ') }} from {{ stored_rows }}
        except
        select {{ columns | join(', ') }} from {{ new_rows }}
    ) as changed_or_gone
{%- endmacro %}
