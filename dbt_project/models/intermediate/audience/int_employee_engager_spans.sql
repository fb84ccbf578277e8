-- Grain: employee × engaging member × span. The fallback audience of an employee without an
-- `audience` observation, in a form that is not copied per share: a member is in it at a
-- moment when they engaged with one of the employee's shares in the
-- `audience_fallback_days` (N) before that moment (at most N days before, strictly before).
--
-- One engagement at t puts the member in the audience at every moment in (t, t + N days].
-- Those intervals are merged per employee and member: engagements at most N days apart
-- form one span (gaps-and-islands), the member is in the audience exactly at the moments in
-- (first_engaged_at, audience_until] of a span, audience_until = last_engaged_at + N days.
-- Spans of one employee and member are disjoint, so a moment falls into at most one span:
-- joining shares on first_engaged_at < posted_at <= audience_until gives each member once.
-- (t >= posted_at − N days  ⇔  posted_at <= t + N days: day arithmetic in UTC, the
-- warehouse's time zone, is a plain shift.)

with

employee_shares as (

    select share_id, author_id as employee_id
    from {{ ref('stg_event_log__shares') }}
    where author_type = 'employee'

),

engagements as (

    select
        employee_shares.employee_id,
        engagements.actor_id as member_id,
        engagements.occurred_at
    from {{ ref('stg_event_log__engagements') }} as engagements
    inner join employee_shares
        on engagements.share_id = employee_shares.share_id
    where engagements.occurred_at is not null

),

previous_engagements as (

    select
        employee_id,
        member_id,
        occurred_at,
        lag(occurred_at) over (
            partition by employee_id, member_id order by occurred_at
        ) as previous_engaged_at
    from engagements

),

span_starts as (

    select
        employee_id,
        member_id,
        occurred_at,
        case
            when {{ dbt.dateadd('day', var('audience_fallback_days'), 'previous_engaged_at') }}
                >= occurred_at then 0
            else 1
        end as starts_span
    from previous_engagements

),

numbered as (

    -- range framing: engagements at the same moment always land in the same span
    select
        employee_id,
        member_id,
        occurred_at,
        sum(starts_span) over (
            partition by employee_id, member_id
            order by occurred_at
            range between unbounded preceding and current row
        ) as span_number
    from span_starts

),

spans as (

    select
        employee_id,
        member_id,
        min(occurred_at) as first_engaged_at,
        max(occurred_at) as last_engaged_at,
        count(*) as engagements
    from numbered
    group by employee_id, member_id, span_number

),

final as (

    select
        employee_id,
        member_id,
        first_engaged_at,
        last_engaged_at,
        {{ dbt.dateadd('day', var('audience_fallback_days'), 'last_engaged_at') }} as audience_until,
        engagements
    from spans

)

select * from final
