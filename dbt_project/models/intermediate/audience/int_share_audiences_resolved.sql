-- Grain: employee share. Which audience each employee share is measured against, without
-- copying its members (an audience snapshot would be copied once per share that uses it):
--   * 'observed': the employee's latest `audience` observation at or before posted_at; its
--     members are the stg_event_log__audiences rows with that employee_id and observed_at
--     (audience_observed_at);
--   * 'engaged' (no such observation): the members who engaged with the employee's shares in
--     the `audience_fallback_days` before posted_at; its members are the
--     int_employee_engager_spans rows of the employee with
--     first_engaged_at < posted_at <= audience_until.
-- A later observation is never used. Page shares have no audience here.

with

employee_shares as (

    select share_id, author_id as employee_id, posted_at
    from {{ ref('stg_event_log__shares') }}
    where author_type = 'employee'

),

observations as (

    select distinct employee_id, observed_at
    from {{ ref('stg_event_log__audiences') }}

),

latest_observations as (

    select share_id, observed_at
    from (
        select
            employee_shares.share_id,
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

resolved as (

    select
        employee_shares.share_id,
        employee_shares.employee_id,
        employee_shares.posted_at,
        case
            when latest_observations.share_id is null then 'engaged'
            else 'observed'
        end as audience_basis,
        latest_observations.observed_at as audience_observed_at
    from employee_shares
    left join latest_observations
        on employee_shares.share_id = latest_observations.share_id

)

select * from resolved
