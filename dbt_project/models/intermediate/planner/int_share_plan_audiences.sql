-- Grain: candidate employee × member. Each candidate's audience as of the plan moment
-- (int_share_plan_candidates: an observation, or the engagers of their shares in the
-- `audience_fallback_days` before it), colleagues left out (int_colleague_members): the
-- planner counts people outside the company. member_key numbers the members densely for the
-- planner (a Python model reads it); member_number is the key other planner inputs join on.

with

candidate_refs as (

    select employee_id, plan_at as posted_at, audience_basis, audience_observed_at
    from {{ ref('int_share_plan_candidates') }}

),

members as (

    select distinct employee_id, member_number
    from ({{ reachloop.audience_members('candidate_refs', 'employee_id') }}) as audience_members
    where member_number is not null

),

colleagues as (

    select {{ reachloop.member_number('member_id') }} as member_number
    from {{ ref('int_colleague_members') }}

),

outside as (

    select members.employee_id, members.member_number
    from members
    where not exists (
        select 1 from colleagues where colleagues.member_number = members.member_number
    )

)

select
    employee_id,
    member_number,
    dense_rank() over (order by member_number) as member_key
from outside
