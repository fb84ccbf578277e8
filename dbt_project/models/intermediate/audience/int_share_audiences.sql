-- Grain: employee share × member. The audience of an employee as of one of their shares:
-- every member of their latest `audience` observation at or before posted_at; with no such
-- observation, the members who engaged with the employee's shares in the
-- `audience_fallback_days` before posted_at.

with

employee_shares as (

    select share_id, author_id as employee_id, posted_at
    from {{ ref('stg_event_log__shares') }}
    where author_type = 'employee'

),

audiences as (

    select * from {{ ref('stg_event_log__audiences') }}

),

observations as (

    select distinct employee_id, observed_at from audiences

),

latest_observation as (

    select share_id, employee_id, observed_at
    from (
        select
            employee_shares.share_id,
            employee_shares.employee_id,
            observations.observed_at,
            row_number() over (
                partition by employee_shares.share_id order by observations.observed_at desc
            ) as observation_rank
        from employee_shares
        inner join observations
            on observations.employee_id = employee_shares.employee_id
            and observations.observed_at <= employee_shares.posted_at
    ) as ranked
    where observation_rank = 1

),

observed as (

    select
        latest_observation.share_id,
        latest_observation.employee_id,
        audiences.member_id,
        'observed' as audience_basis
    from latest_observation
    inner join audiences
        on audiences.employee_id = latest_observation.employee_id
        and audiences.observed_at = latest_observation.observed_at

),

unobserved_shares as (

    select * from employee_shares
    where share_id not in (select share_id from latest_observation)

),

engagements_on_employee_shares as (

    select
        employee_shares.employee_id,
        engagements.actor_id,
        engagements.occurred_at
    from {{ ref('stg_event_log__engagements') }} as engagements
    inner join employee_shares
        on engagements.share_id = employee_shares.share_id

),

engaged as (

    select distinct
        unobserved_shares.share_id,
        unobserved_shares.employee_id,
        engagements_on_employee_shares.actor_id as member_id,
        'engaged' as audience_basis
    from unobserved_shares
    inner join engagements_on_employee_shares
        on engagements_on_employee_shares.employee_id = unobserved_shares.employee_id
        and engagements_on_employee_shares.occurred_at < unobserved_shares.posted_at
        and engagements_on_employee_shares.occurred_at >= {{ dbt.dateadd(
            'day', -1 * var('audience_fallback_days'), 'unobserved_shares.posted_at'
        ) }}

),

share_audiences as (

    select * from observed
    union all
    select * from engaged

)

select * from share_audiences
