-- Grain: calendar month (UTC) × department, plus one '(all departments)' row per month.
-- Who takes part and how it grows: enrolled employees (int_employee_months), active sharers
-- (employees with at least one share that month), activation rate, new vs returning sharers,
-- shares per active sharer, and how fast employees pick up content published that month
-- (median hours from publication to a content item's first employee share and to its median
-- employee share; shares of the item by the group's employees, whenever they came).
-- Privacy: a group with fewer enrolled employees than `min_group_size` keeps its row with
-- every figure null (is_suppressed); with fewer active sharers than that, the figures that
-- describe the sharers' behaviour (shares per active sharer, hours to share) are null
-- (sharer_figures_suppressed).

{%- set all_departments = "'(all departments)'" %}

with

employees as (

    select employee_id, coalesce(department, '(unknown)') as department
    from {{ ref('dim_employees') }}

),

enrolled_rows as (

    select month_start, department, employee_id from {{ ref('int_employee_months') }}
    union all
    select month_start, {{ all_departments }}, employee_id from {{ ref('int_employee_months') }}

),

enrolled as (

    select month_start, department, count(*) as enrolled_employees
    from enrolled_rows
    group by month_start, department

),

employee_shares as (

    select
        shares.share_id,
        shares.author_id as employee_id,
        shares.content_id,
        shares.posted_at,
        cast({{ dbt.date_trunc('month', 'shares.posted_at') }} as date) as month_start,
        coalesce(employees.department, '(unknown)') as department
    from {{ ref('fct_shares') }} as shares
    left join employees on shares.author_id = employees.employee_id
    where shares.author_type = 'employee'

),

first_share_months as (

    select employee_id, min(month_start) as first_share_month
    from employee_shares
    group by employee_id

),

share_rows as (

    select month_start, department, employee_id from employee_shares
    union all
    select month_start, {{ all_departments }}, employee_id from employee_shares

),

sharing as (

    select
        share_rows.month_start,
        share_rows.department,
        count(*) as employee_shares,
        count(distinct share_rows.employee_id) as active_sharers,
        count(distinct case when first_share_months.first_share_month = share_rows.month_start
            then share_rows.employee_id end) as new_sharers
    from share_rows
    inner join first_share_months on share_rows.employee_id = first_share_months.employee_id
    group by share_rows.month_start, share_rows.department

),

share_latencies as (

    select
        cast({{ dbt.date_trunc('month', 'contents.published_at') }} as date) as month_start,
        employee_shares.department,
        employee_shares.content_id,
        {{ reachloop.hours_between('contents.published_at', 'employee_shares.posted_at') }} as hours_to_share
    from employee_shares
    inner join {{ ref('dim_contents') }} as contents
        on employee_shares.content_id = contents.content_id
    where contents.published_at is not null

),

latency_rows as (

    select month_start, department, content_id, hours_to_share from share_latencies
    union all
    select month_start, {{ all_departments }}, content_id, hours_to_share from share_latencies

),

content_latencies as (

    select
        month_start,
        department,
        content_id,
        min(hours_to_share) as hours_to_first_share,
        {{ reachloop.median('hours_to_share') }} as hours_to_median_share
    from latency_rows
    group by month_start, department, content_id

),

latencies as (

    select
        month_start,
        department,
        count(*) as contents_shared,
        {{ reachloop.median('hours_to_first_share') }} as median_hours_to_first_share,
        {{ reachloop.median('hours_to_median_share') }} as median_hours_to_median_share
    from content_latencies
    group by month_start, department

),

groups as (

    select month_start, department from enrolled
    union
    select month_start, department from sharing
    union
    select month_start, department from latencies

),

joined as (

    select
        groups.month_start,
        groups.department,
        coalesce(enrolled.enrolled_employees, 0) as enrolled_employees,
        coalesce(sharing.active_sharers, 0) as active_sharers,
        coalesce(sharing.new_sharers, 0) as new_sharers,
        coalesce(sharing.employee_shares, 0) as employee_shares,
        coalesce(latencies.contents_shared, 0) as contents_shared,
        latencies.median_hours_to_first_share,
        latencies.median_hours_to_median_share
    from groups
    left join enrolled
        on groups.month_start = enrolled.month_start and groups.department = enrolled.department
    left join sharing
        on groups.month_start = sharing.month_start and groups.department = sharing.department
    left join latencies
        on groups.month_start = latencies.month_start and groups.department = latencies.department

),

{%- set shown = "joined.enrolled_employees >= " ~ var('min_group_size') %}
{%- set sharers_shown = shown ~ " and joined.active_sharers >= " ~ var('min_group_size') %}

final as (

    select
        joined.month_start,
        cast(joined.department as {{ dbt.type_string() }}) as department,
        not ({{ shown }}) as is_suppressed,
        not ({{ sharers_shown }}) as sharer_figures_suppressed,
        case when {{ shown }} then joined.enrolled_employees end as enrolled_employees,
        case when {{ shown }} then joined.active_sharers end as active_sharers,
        case when {{ shown }} then
            {{ reachloop.safe_divide('joined.active_sharers', 'joined.enrolled_employees') }}
        end as activation_rate,
        case when {{ shown }} then joined.new_sharers end as new_sharers,
        case when {{ shown }} then joined.active_sharers - joined.new_sharers end as returning_sharers,
        case when {{ shown }} then joined.employee_shares end as employee_shares,
        case when {{ sharers_shown }} then
            {{ reachloop.safe_divide('joined.employee_shares', 'joined.active_sharers') }}
        end as shares_per_active_sharer,
        case when {{ sharers_shown }} then joined.contents_shared end as contents_shared,
        case when {{ sharers_shown }} then joined.median_hours_to_first_share end
            as median_hours_to_first_share,
        case when {{ sharers_shown }} then joined.median_hours_to_median_share end
            as median_hours_to_median_share
    from joined

)

select * from final
