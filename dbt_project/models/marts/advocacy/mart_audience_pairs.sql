-- Grain: unordered pair of employees (employee_a < employee_b) who shared at least one content
-- item in common. jaccard = |A ∩ B| ÷ |A ∪ B| of their audiences, each employee's audience
-- taken as of their latest share.

with

employee_contents as (

    select distinct author_id as employee_id, content_id
    from {{ ref('fct_shares') }}
    where author_type = 'employee' and content_id is not null

),

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
        {{ reachloop.safe_divide('audience_intersection', 'audience_union') }} as jaccard
    from jaccard

)

select * from final
