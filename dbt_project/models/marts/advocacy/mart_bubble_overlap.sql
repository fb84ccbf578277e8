-- Grain: content item shared by at least one employee. How much the audiences of the
-- employees who shared an item overlap: each sharer's audience is taken as of their first
-- share of the item (int_share_audiences_resolved: the latest observation at or before it,
-- else the engaged fallback); overlap_ratio = 1 − union ÷ sum (0: disjoint audiences).
-- Incremental on the log position: a run recomputes the items shared by an employee at a time
-- their audience may have changed past the watermark (macros/touched.sql,
-- audience_windows_touched), and every item a changed share pointed to; an item no employee
-- shares any more gets a marker row (sharers = 0) that the post-hook deletes.
-- depends_on: {{ ref('stg_event_log__shares') }}, {{ ref('stg_event_log__engagements') }}, {{ ref('stg_event_log__audiences') }} (read only by incremental runs)

{{
    config(
        materialized='incremental',
        unique_key='content_id',
        incremental_strategy='delete+insert',
        on_schema_change='fail',
        post_hook="delete from {{ this }} where sharers = 0",
    )
}}

with

{% if is_incremental() -%}
audience_windows as (

    {{ reachloop.audience_windows_touched() }}

),

touched_contents as (

    -- Items an employee shared while their audience may have changed (the sharer's first
    -- share of an item is one of them), and every item a changed share pointed to.
    select content_id from {{ ref('fct_shares') }}
    where author_type = 'employee'
        and content_id is not null
        and {{ reachloop.in_touched_window('audience_windows', 'author_id', 'posted_at') }}
    union
    {{ reachloop.contents_of_changed_shares() }}

),

{% endif -%}
sharer_shares as (

    -- One share per (content item, employee): the first, in case an employee shared it twice.
    select content_id, employee_id, share_id
    from (
        select
            content_id,
            author_id as employee_id,
            share_id,
            row_number() over (
                partition by content_id, author_id order by posted_at, share_id
            ) as share_rank
        from {{ ref('fct_shares') }}
        where author_type = 'employee' and content_id is not null
        {%- if is_incremental() %}
            and content_id in (select content_id from touched_contents)
        {%- endif %}
    ) as ranked
    where share_rank = 1

),

content_keys as (

    -- A number per content item: the fan-out to members (tens of millions of rows at SF10)
    -- is grouped on two fixed-width numbers instead of text. Ordered, so that both reads of
    -- this CTE number the items alike on engines that compute a CTE once per reference.
    select content_id, row_number() over (order by content_id) as content_key
    from (select distinct content_id from sharer_shares) as shared_contents

),

sharer_audience_refs as (

    -- Each sharer's audience as of that share: an observation, or the engaged fallback.
    select
        content_keys.content_key,
        resolved.employee_id,
        resolved.posted_at,
        resolved.audience_basis,
        resolved.audience_observed_at
    from sharer_shares
    inner join content_keys on sharer_shares.content_id = content_keys.content_id
    inner join {{ ref('int_share_audiences_resolved') }} as resolved
        on sharer_shares.share_id = resolved.share_id

),

sharer_audiences as (

    {{ reachloop.audience_members('sharer_audience_refs', 'content_key') }}

),

contents as (

    select content_id, count(*) as sharers
    from sharer_shares
    group by content_id

),

audience_sizes as (

    select
        content_keys.content_id,
        member_counts.audience_sum,
        member_counts.audience_union
    from (
        select
            content_key,
            count(*) as audience_sum,
            count(distinct member_number) as audience_union
        from sharer_audiences
        group by content_key
    ) as member_counts
    inner join content_keys on member_counts.content_key = content_keys.content_key

),

overlap as (

    select
        contents.content_id,
        contents.sharers,
        coalesce(audience_sizes.audience_sum, 0) as audience_sum,
        coalesce(audience_sizes.audience_union, 0) as audience_union,
        1 - {{ reachloop.safe_divide('audience_sizes.audience_union', 'audience_sizes.audience_sum') }}
            as overlap_ratio
    from contents
    left join audience_sizes on contents.content_id = audience_sizes.content_id

),

final as (

    select *, {{ reachloop.log_position() }} as log_position_through
    from overlap
    {%- if is_incremental() %}

    union all

    -- An item no employee shares any more: a marker that replaces its row (post-hook).
    select content_id, 0, 0, 0, null, {{ reachloop.log_position() }}
    from touched_contents
    where content_id not in (select content_id from overlap)
    {%- endif %}

)

select * from final
