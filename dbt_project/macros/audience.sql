{#- A member id as a fixed-width key for the big member joins and distinct counts. A member id
    is a pseudonym of exactly 32 lower-case hex digits (ingestion/pseudonymize.py, 128 bits);
    on DuckDB it becomes the 128-bit number it spells, which hashes and compares several times
    faster than the text. Exact, not a hash: the full match keeps case variants and the
    digit separators that a uhugeint cast would accept from ever meeting as one member, and
    anything else stops the build. Elsewhere the text id itself is the key. -#}
{% macro member_number(member_id) -%}
    {{ return(adapter.dispatch('member_number', 'reachloop')(member_id)) }}
{%- endmacro %}

{% macro default__member_number(member_id) -%}
    {{ member_id }}
{%- endmacro %}

{% macro duckdb__member_number(member_id) -%}
    case
        when regexp_full_match({{ member_id }}, '[0-9a-f]{32}')
            then cast('0x' || {{ member_id }} as uhugeint)
        else error('member id is not a 32-hex-digit pseudonym: ' || {{ member_id }})
    end
{%- endmacro %}

{#- The members of the audiences that the rows of `refs` point at, kept by the column `key` (or
    the columns of a list of them), as member_number (a null member id stays null: counted by
    count(*), not by count(distinct)). `refs` is a relation or CTE with employee_id,
    posted_at, audience_basis and audience_observed_at (from int_share_audiences_resolved): an
    observed audience joins its observation's members, the engaged fallback joins the engager
    spans containing posted_at.
    Set-based on purpose: a share × member table is tens of millions of rows at SF10. Only the
    observations some ref uses are read (about a third of the rows at SF10), each before the
    fan-out to refs (one observation serves many refs); the member numbers are stored by
    stg_event_log__audiences and int_employee_engager_spans, which convert each id once, when
    its row is written, instead of every reader converting the rows it joins at every build. -#}
{% macro audience_members(refs, key) %}
    {%- set keys = [key] if key is string else key %}
    select {% for column in keys %}refs.{{ column }}, {% endfor %}observed.member_number
    from {{ refs }} as refs
    inner join (
        select
            audiences.employee_id,
            audiences.observed_at,
            audiences.member_number
        from {{ ref('stg_event_log__audiences') }} as audiences
        semi join {{ refs }} as used
            on used.audience_basis = 'observed'
            and audiences.employee_id = used.employee_id
            and audiences.observed_at = used.audience_observed_at
    ) as observed
        on refs.audience_basis = 'observed'
        and observed.employee_id = refs.employee_id
        and observed.observed_at = refs.audience_observed_at

    union all

    select {% for column in keys %}refs.{{ column }}, {% endfor %}spans.member_number
    from {{ refs }} as refs
    inner join {{ ref('int_employee_engager_spans') }} as spans
        on refs.audience_basis = 'engaged'
        and spans.employee_id = refs.employee_id
        and spans.first_engaged_at < refs.posted_at
        and refs.posted_at <= spans.audience_until
{% endmacro %}

{#- Pairs of employees (employee_a < employee_b) met from the touched side, with how many
    values of `key` both hold: each row of `touched` (employee_id, key: every row of the
    touched employees) joined to the rows of `others` (employee_id, key) holding the same
    value, instead of every holder of every value joined to every other. A pair of two touched
    employees is met from both sides and counted from the smaller; `others` must therefore
    hold the touched employees' own rows wherever it holds their partners'. Returns
    employee_a, employee_b and the count as `count_as`. -#}
{% macro pairs_from_touched_side(touched, others, key, count_as) %}
    select
        least(touched.employee_id, other.employee_id) as employee_a,
        greatest(touched.employee_id, other.employee_id) as employee_b,
        count(*) as {{ count_as }}
    from {{ touched }} as touched
    inner join {{ others }} as other
        on touched.{{ key }} = other.{{ key }}
        and touched.employee_id <> other.employee_id
    left join (select distinct employee_id from {{ touched }}) as other_touched
        on other_touched.employee_id = other.employee_id
    where other_touched.employee_id is null or touched.employee_id < other.employee_id
    group by 1, 2
{% endmacro %}
