-- Grain: period (week or month, by posted_at, UTC). Reach of employee and page posts side by
-- side, with the amplification multiplier: median employee reach_ratio ÷ median page
-- reach_ratio over the same period (null without page posts that period).

with

shares as (

    select * from {{ ref('fct_shares') }}

),

periods as (

    {% for grain in ['week', 'month'] -%}
    select
        '{{ grain }}' as period_grain,
        cast({{ dbt.date_trunc(grain, 'posted_at') }} as date) as period_start,
        shares.*
    from shares
    {% if not loop.last %}union all{% endif %}
    {% endfor %}

),

rollup as (

    select
        period_grain,
        period_start,
        cast(sum(case when author_type = 'employee' then 1 else 0 end) as {{ dbt.type_bigint() }}) as employee_shares,
        cast(sum(case when author_type = 'page' then 1 else 0 end) as {{ dbt.type_bigint() }}) as page_shares,
        count(distinct case when author_type = 'employee' then author_id end) as active_sharers,
        cast(sum(case when author_type = 'employee' then network_size end) as {{ dbt.type_bigint() }}) as potential_reach,
        cast(sum(case when author_type = 'employee' then members_reached end) as {{ dbt.type_bigint() }}) as employee_members_reached,
        cast(sum(case when author_type = 'page' then members_reached end) as {{ dbt.type_bigint() }}) as page_members_reached,
        {{ reachloop.median("case when author_type = 'employee' then reach_ratio end") }}
            as median_employee_reach_ratio,
        {{ reachloop.median("case when author_type = 'page' then reach_ratio end") }}
            as median_page_reach_ratio
    from periods
    group by period_grain, period_start

),

final as (

    select
        *,
        {{ reachloop.safe_divide('median_employee_reach_ratio', 'median_page_reach_ratio') }}
            as amplification_multiplier
    from rollup

)

select * from final
