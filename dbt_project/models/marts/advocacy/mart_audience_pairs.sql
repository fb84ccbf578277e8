-- Grain: unordered pair of employees (employee_a < employee_b) who shared at least one content
-- item in common. jaccard = |A ∩ B| ÷ |A ∪ B| of their audiences, each employee's audience
-- taken as of their latest share.
-- Incremental on the log position: a run recomputes the pairs of employees whose shares
-- changed, or whose audience as of their latest share may have changed, past the watermark
-- (macros/touched.sql, audience_windows_touched); a pair that no longer shares an item gets a
-- marker row (shared_contents = 0) that the post-hook deletes.
-- depends_on: {{ ref('stg_event_log__shares') }}, {{ ref('stg_event_log__engagements') }}, {{ ref('stg_event_log__audiences') }} (read only by incremental runs)

{{
    config(
        materialized='incremental',
        unique_key=['employee_a', 'employee_b'],
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook="delete from {{ this }} where shared_contents = 0",
    )
}}

with

{% if is_incremental() -%}
audience_windows as (

    {{ reachloop.audience_windows_touched() }}

),

touched_employees as (

    -- Employees whose latest share may have another audience now, or who shared another set
    -- of items (every author of a changed share).
    select author_id as employee_id
    from {{ ref('fct_shares') }}
    where author_type = 'employee'
    group by author_id
    having {{ reachloop.in_touched_window('audience_windows', 'author_id', 'max(posted_at)') }}
    union
    {{ reachloop.authors_of_changed_shares() }}

),

{% endif -%}
employee_contents as (

    select distinct author_id as employee_id, content_id
    from {{ ref('fct_shares') }}
    where author_type = 'employee' and content_id is not null

),

{% if is_incremental() -%}
touched_contents as (

    -- A touched employee's items, each with every other employee who shared it: the pairs
    -- are found from the touched side only, not by joining every sharer of every item.
    select employee_contents.employee_id, employee_contents.content_id
    from employee_contents
    semi join touched_employees on employee_contents.employee_id = touched_employees.employee_id

),

pairs as (

    {{ reachloop.pairs_from_touched_side(
        'touched_contents', 'employee_contents', 'content_id', 'shared_contents') }}

),
{%- else %}
pairs as (

    select
        a.employee_id as employee_a,
        b.employee_id as employee_b,
        count(*) as shared_contents
    from employee_contents as a
    inner join employee_contents as b
        on a.content_id = b.content_id
        and a.employee_id < b.employee_id
    group by a.employee_id, b.employee_id

),
{%- endif %}

latest_shares as (

    select employee_id, share_id
    from (
        select
            author_id as employee_id,
            share_id,
            row_number() over (
                partition by author_id order by posted_at desc, share_id desc
            ) as share_rank
        from {{ ref('fct_shares') }}
        where author_type = 'employee'
        {%- if is_incremental() %}
            and (
                author_id in (select employee_a from pairs)
                or author_id in (select employee_b from pairs)
            )
        {%- endif %}
    ) as ranked
    where share_rank = 1

),

latest_audience_refs as (

    -- Each employee's audience as of their latest share: an observation, or the engaged fallback.
    select
        resolved.employee_id,
        resolved.posted_at,
        resolved.audience_basis,
        resolved.audience_observed_at
    from latest_shares
    inner join {{ ref('int_share_audiences_resolved') }} as resolved
        on latest_shares.share_id = resolved.share_id

),

audiences as (

    {{ reachloop.audience_members('latest_audience_refs', 'employee_id') }}

),

audience_sizes as (

    select employee_id, count(*) as audience_size
    from audiences
    group by employee_id

),

{% if is_incremental() -%}
touched_audiences as (

    select audiences.employee_id, audiences.member_number
    from audiences
    semi join touched_employees on audiences.employee_id = touched_employees.employee_id

),

intersections as (

    -- Every pair holds a touched employee: the touched employees' members, each joined to the
    -- other holders of the member, instead of every member of everyone joined to every other
    -- holder (a holder who is no pair of theirs is left out by the pairs' left join below).
    {{ reachloop.pairs_from_touched_side(
        'touched_audiences', 'audiences', 'member_number', 'audience_intersection') }}

),
{%- else %}
intersections as (

    select
        a.employee_id as employee_a,
        b.employee_id as employee_b,
        count(*) as audience_intersection
    from audiences as a
    inner join audiences as b
        on a.member_number = b.member_number
        and a.employee_id < b.employee_id
    inner join pairs
        on pairs.employee_a = a.employee_id
        and pairs.employee_b = b.employee_id
    group by a.employee_id, b.employee_id

),
{%- endif %}

jaccard as (

    select
        pairs.employee_a,
        pairs.employee_b,
        pairs.shared_contents,
        coalesce(size_a.audience_size, 0) as audience_a,
        coalesce(size_b.audience_size, 0) as audience_b,
        coalesce(intersections.audience_intersection, 0) as audience_intersection,
        coalesce(size_a.audience_size, 0) + coalesce(size_b.audience_size, 0)
            - coalesce(intersections.audience_intersection, 0) as audience_union
    from pairs
    left join audience_sizes as size_a on pairs.employee_a = size_a.employee_id
    left join audience_sizes as size_b on pairs.employee_b = size_b.employee_id
    left join intersections
        on pairs.employee_a = intersections.employee_a
        and pairs.employee_b = intersections.employee_b

),

final as (

    select
        *,
        {{ reachloop.safe_divide('audience_intersection', 'audience_union') }} as jaccard,
        {{ reachloop.log_position() }} as log_position_through
    from jaccard
    {%- if is_incremental() %}

    union all

    -- A pair of a touched employee that shares no item any more: a marker that replaces its
    -- row (post-hook).
    select employee_a, employee_b, 0, 0, 0, 0, 0, null, {{ reachloop.log_position() }}
    from {{ this }} as stored
    where (
            stored.employee_a in (select employee_id from touched_employees)
            or stored.employee_b in (select employee_id from touched_employees)
        )
        and not exists (
            select 1 from pairs
            where pairs.employee_a = stored.employee_a and pairs.employee_b = stored.employee_b
        )
    {%- endif %}

)

select * from final
