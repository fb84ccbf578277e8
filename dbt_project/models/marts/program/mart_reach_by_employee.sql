-- Grain: employee who shared at least once. Per-employee rows carry pseudonymous ids only, and
-- the department only where the department has at least `min_group_size` sharers: otherwise
-- grouping these rows by department would undo mart_reach_by_department's suppression.
-- potential_reach is the vendors' figure (Σ network sizes of the employee's shares), an upper
-- bound labelled as such, next to members actually reached.

with

employee_shares as (

    select * from {{ ref('fct_shares') }}
    where author_type = 'employee'

),

rollup as (

    select
        author_id as employee_id,
        count(*) as shares,
        count(distinct content_id) as contents_shared,
        min(posted_at) as first_share_at,
        max(posted_at) as latest_share_at,
        cast(sum(network_size) as {{ dbt.type_bigint() }}) as potential_reach,
        cast(sum(members_reached) as {{ dbt.type_bigint() }}) as members_reached,
        {{ reachloop.median('reach_ratio') }} as median_reach_ratio,
        cast(sum(interactions) as {{ dbt.type_bigint() }}) as interactions,
        {{ reachloop.median('engagement_rate') }} as median_engagement_rate
    from employee_shares
    group by author_id

),

departments as (

    select
        rollup.employee_id,
        employees.department,
        count(*) over (partition by employees.department) as department_sharers
    from rollup
    left join {{ ref('dim_employees') }} as employees
        on rollup.employee_id = employees.employee_id

),

with_department as (

    select
        rollup.employee_id,
        case
            when departments.department_sharers >= {{ var('min_group_size') }}
                then departments.department
        end as department,
        rollup.shares,
        rollup.contents_shared,
        rollup.first_share_at,
        rollup.latest_share_at,
        rollup.potential_reach,
        rollup.members_reached,
        rollup.median_reach_ratio,
        rollup.interactions,
        rollup.median_engagement_rate
    from rollup
    inner join departments on rollup.employee_id = departments.employee_id

)

select * from with_department
