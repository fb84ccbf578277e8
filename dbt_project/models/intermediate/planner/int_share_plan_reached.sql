-- Grain: planned content item × member. Members outside the company whom earlier employee
-- shares of the item already reached: each earlier sharer's audience as of their first share
-- of it (int_share_audiences_resolved, as mart_bubble_overlap takes it), kept only where a
-- candidate's audience holds the member (int_share_plan_audiences: nobody else can add them).

with

first_shares as (

    select content_id, share_id
    from (
        select
            shares.content_id,
            shares.share_id,
            row_number() over (
                partition by shares.content_id, shares.author_id order by shares.posted_at, shares.share_id
            ) as share_rank
        from {{ ref('stg_event_log__shares') }} as shares
        inner join {{ ref('int_share_plan_contents') }} as planned
            on shares.content_id = planned.content_id
        where shares.author_type = 'employee' and shares.posted_at <= planned.plan_at
    ) as ranked
    where share_rank = 1

),

sharer_refs as (

    select
        first_shares.content_id,
        resolved.employee_id,
        resolved.posted_at,
        resolved.audience_basis,
        resolved.audience_observed_at
    from first_shares
    inner join {{ ref('int_share_audiences_resolved') }} as resolved
        on first_shares.share_id = resolved.share_id

),

reached as (

    {{ reachloop.audience_members('sharer_refs', 'content_id') }}

),

candidate_members as (

    select member_number from {{ ref('int_share_plan_audiences') }}

)

select distinct reached.content_id, reached.member_number
from reached
where reached.member_number in (select member_number from candidate_members)
