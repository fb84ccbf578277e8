-- Grain: department (employees without one are grouped under null). Privacy: a department with
-- fewer sharing employees than the `min_group_size` var keeps its row, but every figure is
-- nulled out and is_suppressed is true, so that no small group can be singled out.
-- amplification_multiplier = the department's median employee reach_ratio ÷ the company
-- page's median reach_ratio over the same period (the whole log as of the build).

with

shares as (

    select * from {{ ref('fct_shares') }}

),

page as (

    select {{ reachloop.median('reach_ratio') }} as median_page_reach_ratio
    from shares
    where author_type = 'page'

),

departments as (

    select
        employees.department,
        count(distinct shares.author_id) as sharers,
        count(*) as shares,
        cast(sum(shares.network_size) as {{ dbt.type_bigint() }}) as potential_reach,
        cast(sum(shares.members_reached) as {{ dbt.type_bigint() }}) as members_reached,
        cast(sum(shares.interactions) as {{ dbt.type_bigint() }}) as interactions,
        {{ reachloop.median('shares.reach_ratio') }} as median_reach_ratio
    from shares
    left join {{ ref('dim_employees') }} as employees
        on shares.author_id = employees.employee_id
    where shares.author_type = 'employee'
    group by employees.department

),

suppressed as (

    select
        departments.department,
        departments.sharers < {{ var('min_group_size') }} as is_suppressed,
        {% for column in ['sharers', 'shares', 'potential_reach', 'members_reached', 'interactions', 'median_reach_ratio'] -%}
        case when departments.sharers >= {{ var('min_group_size') }} then departments.{{ column }} end
            as {{ column }},
        {% endfor -%}
        case when departments.sharers >= {{ var('min_group_size') }} then
            {{ reachloop.safe_divide('departments.median_reach_ratio', 'page.median_page_reach_ratio') }}
        end as amplification_multiplier
    from departments
    cross join page

)

select * from suppressed
