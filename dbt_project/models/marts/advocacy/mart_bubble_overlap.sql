-- Grain: content item shared by at least one employee. How much the audiences of the
-- employees who shared an item overlap: each sharer's audience is taken as of their first
-- share of the item; overlap_ratio = 1 − union ÷ sum (0: disjoint audiences).

with

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
    ) as ranked
    where share_rank = 1

),

sharer_audiences as (

    select
        sharer_shares.content_id,
        sharer_shares.employee_id,
        share_audiences.member_id
    from sharer_shares
    inner join {{ ref('int_share_audiences') }} as share_audiences
        on sharer_shares.share_id = share_audiences.share_id

),

contents as (

    select content_id, count(*) as sharers
    from sharer_shares
    group by content_id

),

audience_sizes as (

    select
        content_id,
        count(*) as audience_sum,
        count(distinct member_id) as audience_union
    from sharer_audiences
    group by content_id

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

)

select * from overlap
