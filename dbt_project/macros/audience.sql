{#- The members of the audiences that the rows of `refs` point at, kept by the column `key`.
    `refs` is a relation or CTE with employee_id, posted_at, audience_basis and
    audience_observed_at (from int_share_audiences_resolved): an observed audience joins its
    observation's members, the engaged fallback joins the engager spans containing posted_at.
    Set-based on purpose: a share × member table is tens of millions of rows at SF10. -#}
{% macro audience_members(refs, key) %}
    select refs.{{ key }}, audiences.member_id
    from {{ refs }} as refs
    inner join {{ ref('stg_event_log__audiences') }} as audiences
        on refs.audience_basis = 'observed'
        and audiences.employee_id = refs.employee_id
        and audiences.observed_at = refs.audience_observed_at

    union all

    select refs.{{ key }}, spans.member_id
    from {{ refs }} as refs
    inner join {{ ref('int_employee_engager_spans') }} as spans
        on refs.audience_basis = 'engaged'
        and spans.employee_id = refs.employee_id
        and spans.first_engaged_at < refs.posted_at
        and refs.posted_at <= spans.audience_until
{% endmacro %}
