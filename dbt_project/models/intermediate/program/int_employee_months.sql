-- Grain: employee × calendar month (UTC) in which the employee was enrolled: on the roster
-- (first observed, or hired, by the month's end) and not gone (left_at, if any, not before the
-- month's start). Months run from the first roster observation or share to the newest one.
-- The department is the employee's latest known one (dim_employees).

with

employees as (

    select
        employee_id,
        coalesce(department, '(unknown)') as department,
        coalesce(hired_at, first_observed_at) as enrolled_from,
        left_at
    from {{ ref('dim_employees') }}

),

months as (

    -- From the first roster observation or share, whichever came first (not the first hire: a
    -- roster's hire dates go back decades, before anything the log could say about sharing).
    {{ reachloop.month_starts(
        "(select min(moment) from (select min(first_observed_at) as moment from " ~ ref('dim_employees')
            ~ " union all select min(posted_at) from " ~ ref('fct_shares') ~ ") as oldest)",
        "(select max(moment) from (select max(last_observed_at) as moment from " ~ ref('dim_employees')
            ~ " union all select max(posted_at) from " ~ ref('fct_shares') ~ ") as newest)"
    ) }}

),

enrolled as (

    select
        months.month_start,
        employees.employee_id,
        employees.department
    from months
    inner join employees
        on employees.enrolled_from < months.month_start + interval 1 month
        and (employees.left_at is null or employees.left_at >= months.month_start)

)

select * from enrolled
